/**
 * Probe sessions and reflectors. Each runs on its own native thread; progress
 * arrives as 'progress' events (or by async iteration), the result as a
 * Promise, and an AbortSignal or stop() ends it early with everything
 * recorded so far. Several sessions may run at once. A running session holds
 * the process alive through a ref'd timer (unref() lets it go, as with Node's
 * sockets); its socket closes as its native loop ends.
 */
import dns from 'node:dns/promises';
import { EventEmitter, on } from 'node:events';
import net from 'node:net';
import {
  binding,
  type MetricProgress,
  type NativeEndpoint,
  type NativeSession,
  type RawReflectorProgress,
  type RawSenderProgress,
  type RawSenderResult,
  type RawReflectorResult,
  type ReflectorCounters,
  type SenderCounters,
  type TimestampingGrant,
} from './binding';
import { OptionRangeError, RttProbeError, fromNative } from './errors';
import type { MetricName } from './metrics';
import {
  DEFAULT_PORT,
  normalizeProbeOptions,
  normalizeReflectorOptions,
  parseTarget,
  type NormalizedReflectorOptions,
  type ProbeOptions,
  type ReflectorOptions,
  type Target,
  type TargetInput,
} from './options';
import { ProbeResult, probeOptionsUsed, reflectorResult, type ReflectorResult } from './result';

export interface ProbeProgress extends SenderCounters {
  elapsedNs: number;
  /** Running figures of each metric measured so far, in ns. */
  metrics: Partial<Record<MetricName, MetricProgress>>;
}

export interface ReflectorProgress extends ReflectorCounters {
  elapsedNs: number;
}

/** A probe session's socket once it is set up, before its first probe. */
export interface ProbeStart {
  local: NativeEndpoint;
  timestamping: TimestampingGrant;
}

export interface ProbeSessionEvents {
  progress: [ProbeProgress];
  /** Once, when the socket is open, the thread pinned and timestamping set up (the NIC configured, where asked). */
  started: [ProbeStart];
  /** The session failed (also at setup); emitted when listened for, or when `result` was never read. */
  error: [RttProbeError];
}

function ipFamily(address: string | undefined): 0 | 4 | 6 {
  return address === undefined ? 0 : (net.isIP(address.split('%')[0]!) as 0 | 4 | 6);
}

/** The target's address family where no DNS is needed to know it; throws when it differs from the bind address's. */
function checkFamilies(target: Target, bind: string | undefined): void {
  const literal = ipFamily(target.host);
  const wanted = ipFamily(bind);
  if (literal !== 0 && wanted !== 0 && literal !== wanted) {
    throw new OptionRangeError(
      `bind address ${bind} and target ${target.host} are of different IP families: bind an IPv${literal} address or probe an IPv${wanted} target`,
    );
  }
}

async function resolveTarget(target: Target, bind: string | undefined): Promise<NativeEndpoint> {
  const wanted = ipFamily(bind);
  const literal = ipFamily(target.host);
  if (literal !== 0) return { address: target.host, port: target.port, family: literal === 6 ? 'IPv6' : 'IPv4' };
  try {
    const found = await dns.lookup(target.host, { family: wanted });
    return { address: found.address, port: target.port, family: found.family === 6 ? 'IPv6' : 'IPv4' };
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'ENOTFOUND';
    throw new RttProbeError(`cannot resolve host "${target.host}" (${code}): check the name or give an IP address`, code);
  }
}

/** Queue of events for async iteration that ends when `done` settles. */
async function* iterate<T>(emitter: EventEmitter, event: string, done: Promise<unknown>): AsyncGenerator<T> {
  const controller = new AbortController();
  done.then(
    () => controller.abort(),
    () => controller.abort(),
  );
  try {
    for await (const [value] of on(emitter, event, { signal: controller.signal })) yield value as T;
  } catch (error) {
    if ((error as { name?: string }).name !== 'AbortError') throw error;
  }
  await done;
}

/**
 * Calls `onChange` when the first 'progress' listener is added and when the
 * last is removed: the native loop hands over snapshots only while someone
 * listens, so an unwatched session never wakes the event loop, whose thread
 * may share a core with the measuring one.
 */
function watchProgressListeners(emitter: EventEmitter, onChange: (wanted: boolean) => void): void {
  emitter.on('newListener', (event: string | symbol) => {
    if (event === 'progress' && emitter.listenerCount('progress') === 0) onChange(true);
  });
  emitter.on('removeListener', (event: string | symbol) => {
    if (event === 'progress' && emitter.listenerCount('progress') === 0) onChange(false);
  });
}

/** setInterval's longest period: the keep-alive timer never fires in practice. */
const KEEP_ALIVE_MS = 2 ** 31 - 1;

/** The events every session emits; a session's own events extend them. */
export interface SessionEvents {
  error: [RttProbeError];
}

/**
 * What every session shares from start to end: the ref'd timer that keeps the
 * process alive while it runs (listed by process.getActiveResourcesInfo() as
 * a Timeout) and the rule by which a failure reaches the caller. As with
 * Node's servers, a failure is emitted as 'error' where someone listens; the
 * `result` Promise rejects too, but only counts as unhandled for those who
 * read it. A session nobody watches in either way throws its failure as an
 * uncaught exception rather than losing it.
 */
export abstract class Session<Events extends Record<keyof Events, unknown[]> & SessionEvents, Result>
  extends EventEmitter<Events>
  implements AsyncDisposable
{
  // Both set by run(), once the subclass's constructor has validated its options.
  #timer!: NodeJS.Timeout;
  #result!: Promise<Result>;
  #observed = false;

  /** Hands the session's run to the lifecycle; called once, last, by the subclass's constructor. */
  protected run(run: Promise<Result>): void {
    const timer = setInterval(() => {}, KEEP_ALIVE_MS);
    this.#timer = timer;
    this.#result = run.finally(() => clearInterval(timer));
    this.#result.catch((error: RttProbeError) => {
      const emitter = this as EventEmitter<SessionEvents>;
      if (emitter.listenerCount('error') > 0) emitter.emit('error', error);
      // Unwatched: thrown from its own tick, as an EventEmitter without an 'error' listener does.
      else if (!this.#observed) process.nextTick(() => emitter.emit('error', error));
    });
  }

  /** Resolves with the session's result once it has ended; rejects on a failure (also emitted as 'error'). */
  get result(): Promise<Result> {
    this.#observed = true;
    return this.#result;
  }

  /** Keeps the process alive until the session ends (the default). */
  ref(): this {
    this.#timer.ref();
    return this;
  }

  /** Lets the process exit while the session runs; the session then stops with the process. */
  unref(): this {
    this.#timer.unref();
    return this;
  }

  /** Whether the session keeps the process alive. */
  hasRef(): boolean {
    return this.#timer.hasRef();
  }

  /** Asks the native loop to end. */
  protected abstract end(): void;

  /**
   * Stops the session and waits until its socket is closed (`await using`);
   * a failure reaches 'error' and `result`, not here.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.end();
    await this.#result.then(
      () => undefined,
      () => undefined,
    );
  }
}

/** A running probe session against one reflector. */
export class ProbeSession extends Session<ProbeSessionEvents, ProbeResult> implements AsyncIterable<ProbeProgress> {
  #native: NativeSession<RawSenderResult> | undefined;
  #stopRequested = false;
  #countsWanted = false;

  /**
   * Validates the options and the target synchronously (everything that
   * needs no DNS), then resolves the target and starts the session.
   */
  constructor(target: string | TargetInput, options: ProbeOptions = {}) {
    super();
    watchProgressListeners(this, (wanted) => this.#native?.setProgressWanted(wanted));
    const normalized = normalizeProbeOptions(options);
    const parsed = parseTarget(target, options.port ?? (normalized.protocol === 'tcp' ? null : DEFAULT_PORT));
    checkFamilies(parsed, normalized.bind);
    const signal = options.signal;
    this.run((async () => {
      const endpoint = await resolveTarget(parsed, normalized.bind);
      const bind = normalized.bind ?? (endpoint.family === 'IPv6' ? '::' : '0.0.0.0');
      let native: NativeSession<RawSenderResult>;
      try {
        const { Sender } = binding();
        native = new Sender(
          { ...normalized, host: endpoint.address, port: endpoint.port, bindHost: bind, bindPort: 0 },
          (p: RawSenderProgress) => this.emit('progress', { elapsedNs: p.elapsedNs, ...p.counters, metrics: p.metrics }),
        );
      } catch (error) {
        throw fromNative(error);
      }
      this.#native = native;
      native.setProgressWanted(this.listenerCount('progress') > 0);
      native.setProgressCounts(this.#countsWanted);
      this.emit('started', { local: native.local, timestamping: native.timestamping });
      const onAbort = () => native.stop();
      if (this.#stopRequested || signal?.aborted) native.stop();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const raw = await native.result.catch((error: unknown) => {
          throw fromNative(error);
        });
        return ProbeResult.fromNative(
          raw,
          { address: endpoint.address, port: endpoint.port, family: endpoint.family },
          probeOptionsUsed(parsed.host, endpoint.port, bind, normalized),
        );
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    })());
  }

  /**
   * Whether progress snapshots carry each metric's bucket counts (`counts`,
   * `countsFrom`), which an interval histogram log diffs; off by default,
   * since they run to hundreds of KiB a snapshot that the session thread
   * copies and the event loop turns into garbage. Takes effect from the
   * next snapshot; writeHistogramLog turns it on.
   */
  wantProgressCounts(wanted = true): void {
    this.#countsWanted = wanted;
    this.#native?.setProgressCounts(wanted);
  }

  /** Ends the session; `result` then resolves with what was recorded so far. */
  stop(): void {
    this.#stopRequested = true;
    this.#native?.stop();
  }

  protected end(): void {
    this.stop();
  }

  /** Progress snapshots until the session ends; throws if the session fails. */
  [Symbol.asyncIterator](): AsyncIterator<ProbeProgress> {
    return iterate<ProbeProgress>(this, 'progress', this.result);
  }
}

/**
 * Starts probing a STAMP reflector at `target` ("host", "host:port", "[v6]:port").
 * Throws OptionTypeError / OptionRangeError synchronously for bad options.
 */
export function probe(target: string | TargetInput, options: ProbeOptions = {}): ProbeSession {
  return new ProbeSession(target, options);
}

export interface ReflectorEvents {
  progress: [ReflectorProgress];
  /** The reflector failed after it started; emitted when listened for, or when `result` was never read. */
  error: [RttProbeError];
}

/** A running STAMP reflector. */
export class Reflector extends Session<ReflectorEvents, ReflectorResult> implements AsyncIterable<ReflectorProgress> {
  /** The address and port it listens on (the real port when 0 was asked for). */
  readonly address: NativeEndpoint;
  /** What timestamping the kernel (and the NIC, where hardware stamps were asked for) granted. */
  readonly timestamping: TimestampingGrant;
  readonly #native: NativeSession<RawReflectorResult>;

  private constructor(options: NormalizedReflectorOptions, signal: AbortSignal | undefined) {
    super();
    try {
      const { Reflector: NativeReflector } = binding();
      this.#native = new NativeReflector(
        { ...options, bindHost: options.bind, bindPort: options.port },
        (p: RawReflectorProgress) => this.emit('progress', { elapsedNs: p.elapsedNs, ...p.counters }),
      );
    } catch (error) {
      throw fromNative(error);
    }
    watchProgressListeners(this, (wanted) => this.#native.setProgressWanted(wanted));
    this.address = this.#native.local;
    this.timestamping = this.#native.timestamping;
    const onAbort = () => this.#native.stop();
    if (signal?.aborted) this.#native.stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.run(
      this.#native.result
        .then(
          (raw) => reflectorResult(raw, options),
          (error: unknown) => {
            throw fromNative(error);
          },
        )
        .finally(() => signal?.removeEventListener('abort', onAbort)),
    );
  }

  /** @internal startReflector()'s constructor call: binds and sets up, throwing what failed. */
  static start(options: NormalizedReflectorOptions, signal: AbortSignal | undefined): Reflector {
    return new Reflector(options, signal);
  }

  /** Stops answering, closes the socket and resolves with the counters. */
  stop(): Promise<ReflectorResult> {
    this.#native.stop();
    return this.result;
  }

  protected end(): void {
    this.#native.stop();
  }

  [Symbol.asyncIterator](): AsyncIterator<ReflectorProgress> {
    return iterate<ReflectorProgress>(this, 'progress', this.result);
  }
}

/**
 * Binds a STAMP reflector, sets up its thread and starts answering. Rejects
 * with an OptionTypeError / OptionRangeError for bad options and with an
 * errno `code` when anything at setup fails (bind EADDRINUSE, pinning EINVAL,
 * rtPriority or mlock EPERM, ...): once it resolves, the reflector serves.
 */
export async function startReflector(options: ReflectorOptions = {}): Promise<Reflector> {
  const normalized = normalizeReflectorOptions(options);
  return Reflector.start(normalized, options.signal);
}
