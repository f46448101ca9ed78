/**
 * Probe sessions and reflectors. Each runs on its own native thread; progress
 * arrives as 'progress' events (or by async iteration), the result as a
 * Promise, and an AbortSignal or stop() ends it early with everything
 * recorded so far. Several sessions may run at once.
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
  normalizeProbeOptions,
  normalizeReflectorOptions,
  parseTarget,
  type NormalizedReflectorOptions,
  type ProbeOptions,
  type ReflectorOptions,
  type Target,
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
  /** Once, when the socket is open and timestamping set up (the NIC configured, where asked). */
  started: [ProbeStart];
}

async function resolveTarget(target: Target, bind: string | undefined): Promise<NativeEndpoint> {
  const wanted = bind === undefined ? 0 : net.isIPv6(bind.split('%')[0]!) ? 6 : 4;
  const literal = net.isIP(target.host.split('%')[0]!);
  if (literal !== 0) {
    if (wanted !== 0 && literal !== wanted) {
      throw new OptionRangeError(`bind address ${bind} and target ${target.host} are of different IP families`);
    }
    return { address: target.host, port: target.port, family: literal === 6 ? 'IPv6' : 'IPv4' };
  }
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

/** A running probe session against one reflector. */
export class ProbeSession extends EventEmitter<ProbeSessionEvents> implements AsyncIterable<ProbeProgress> {
  /** Resolves with everything recorded, also after stop(); rejects on a setup or runtime failure. */
  readonly result: Promise<ProbeResult>;
  #native: NativeSession<RawSenderResult> | undefined;
  #stopRequested = false;

  constructor(target: string | Partial<Target>, options: ProbeOptions = {}) {
    super();
    watchProgressListeners(this, (wanted) => this.#native?.setProgressWanted(wanted));
    const normalized = normalizeProbeOptions(options);
    const parsed = parseTarget(target, options.port);
    const signal = options.signal;
    this.result = (async () => {
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
    })();
  }

  /** Ends the session; `result` then resolves with what was recorded so far. */
  stop(): void {
    this.#stopRequested = true;
    this.#native?.stop();
  }

  /** Progress snapshots until the session ends; throws if the session fails. */
  [Symbol.asyncIterator](): AsyncIterator<ProbeProgress> {
    return iterate<ProbeProgress>(this, 'progress', this.result);
  }
}

/** Starts probing a STAMP reflector at `target` ("host", "host:port", "[v6]:port"). */
export function probe(target: string | Partial<Target>, options: ProbeOptions = {}): ProbeSession {
  return new ProbeSession(target, options);
}

export interface ReflectorEvents {
  progress: [ReflectorProgress];
}

/** A running STAMP reflector. */
export class Reflector extends EventEmitter<ReflectorEvents> implements AsyncIterable<ReflectorProgress> {
  /** The address and port it listens on (the real port when 0 was asked for). */
  readonly address: NativeEndpoint;
  /** What timestamping the kernel (and the NIC, where hardware stamps were asked for) granted. */
  readonly timestamping: TimestampingGrant;
  /** Resolves with the counters once the reflector has stopped. */
  readonly result: Promise<ReflectorResult>;
  readonly #native: NativeSession<RawReflectorResult>;

  /** @internal use startReflector() */
  constructor(options: NormalizedReflectorOptions, signal: AbortSignal | undefined) {
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
    this.result = this.#native.result.then(
      (raw) => {
        signal?.removeEventListener('abort', onAbort);
        return reflectorResult(raw, options);
      },
      (error: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        throw fromNative(error);
      },
    );
  }

  /** Stops answering and resolves with the counters. */
  stop(): Promise<ReflectorResult> {
    this.#native.stop();
    return this.result;
  }

  [Symbol.asyncIterator](): AsyncIterator<ReflectorProgress> {
    return iterate<ReflectorProgress>(this, 'progress', this.result);
  }
}

/** Binds a STAMP reflector and starts answering; rejects with an errno `code` when binding fails. */
export async function startReflector(options: ReflectorOptions = {}): Promise<Reflector> {
  const normalized = normalizeReflectorOptions(options);
  return new Reflector(normalized, options.signal);
}
