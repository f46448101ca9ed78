/**
 * A mesh: one native thread probing many STAMP reflectors continuously, in
 * rate mode at a low jittered rate, whose targets can be added and removed
 * while it runs (the others keep running). Made for a fleet monitor: it
 * blocks between probes by default, keeps cumulative counters, histograms and
 * per-bucket counts per target, and hands them over on request (snapshot()),
 * not on a timer, so an unwatched mesh costs nothing between scrapes.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import { binding, type NativeMesh, type NativeMeshTargetOptions, type RawMeshSnapshot, type SenderCounters } from './binding';
import { OptionRangeError, OptionTypeError, RttProbeError, fromNative } from './errors';
import { SENDER_COUNTERS } from './counters';
import { METRIC_NAMES, type MetricName } from './metrics';
import { normalizeProbeOptions, type NormalizedProbeOptions, type ProbeOptions } from './options';
import { Session, type SessionEvents } from './session';

/** One reflector a mesh probes; name, address and port together identify it. */
export interface MeshTarget {
  name: string;
  /** An IP address, or a host name resolved once as the target is added. */
  address: string;
  port: number;
}

export interface MeshOptions
  extends Pick<
    ProbeOptions,
    'bind' | 'size' | 'timeout' | 'timestamps' | 'timestampFormat' | 'clock' | 'key' | 'ssid' | 'cpu' | 'rtPriority' | 'mlock' | 'signal'
  > {
  /** Probes per second to each target (default 10). */
  rate?: number | undefined;
  /**
   * Each interval is drawn uniformly from 1/rate x [1 - jitter, 1 + jitter]
   * (default 0.1; 0 to 0.5), and each target's first probe from [0, 1/rate):
   * the mean rate stays exact, targets added together do not probe in step,
   * and the gap between probes stays bounded (an exponential draw would not).
   */
  jitter?: number | undefined;
  /** Spin on the sockets (default false: block in epoll between probes, as a fleet agent must). */
  busyPoll?: boolean | undefined;
  /** Upper bounds, in ns and ascending, of the buckets each metric's samples are counted in (default MESH_BUCKET_BOUNDS_NS). */
  bucketBoundsNs?: readonly number[] | undefined;
}

/**
 * 5 µs to 100 ms in 1-2.5-5 steps (16 buckets and +Inf): µs resolution where
 * a host's stack and a rack's network sit, ms where a region's do.
 */
export const MESH_BUCKET_BOUNDS_NS: readonly number[] = [
  5e3, 10e3, 25e3, 50e3, 100e3, 250e3, 500e3, 1e6, 2.5e6, 5e6, 10e6, 25e6, 50e6, 100e6,
];

/** A metric's totals since its target was added. */
export interface MeshMetricTotals {
  count: number;
  sumNs: number;
  /** Cumulative counts: samples <= each bound of bucketBoundsNs, then all of them (+Inf). */
  buckets: Float64Array;
}

export interface MeshTargetSnapshot {
  target: MeshTarget;
  /** Cumulative since the target was added. */
  counters: SenderCounters;
  metrics: Partial<Record<MetricName, MeshMetricTotals>>;
  /** When the last answered probe's reply came (Unix ns), null before the first. */
  lastReplyNs: number | null;
  /** A reply came within the last timeout + 10 probe intervals (see MeshSession.upWindowNs). */
  up: boolean;
}

export interface MeshSnapshot {
  /** When it was taken (Unix ns, the mesh's clock). */
  atNs: number;
  bucketBoundsNs: readonly number[];
  /** Every target the loop runs; one added a moment ago appears from the next snapshot. */
  targets: MeshTargetSnapshot[];
}

export interface MeshResult {
  startedAtNs: bigint;
  endedAtNs: bigint;
  /** The mesh thread's CPU time. */
  cpuNs: number;
}

/** A mesh operation that cannot be done: code ERR_MESH_CLOSED or ERR_MESH_DUPLICATE_TARGET. */
export class MeshError extends RttProbeError {
  declare readonly code: 'ERR_MESH_CLOSED' | 'ERR_MESH_DUPLICATE_TARGET';

  constructor(message: string, code: MeshError['code']) {
    super(message, code);
    this.name = 'MeshError';
  }
}

/** The identity of a target: name, address and port. */
export function meshTargetKey(t: MeshTarget): string {
  return `${t.name}\u0000${t.address}\u0000${t.port}`;
}

function checkTarget(t: MeshTarget): void {
  if (typeof t !== 'object' || t === null) throw new OptionTypeError('a mesh target must be an object { name, address, port }');
  if (typeof t.name !== 'string' || t.name === '') throw new OptionTypeError('a mesh target needs a name (a non-empty string)');
  if (typeof t.address !== 'string' || t.address === '') {
    throw new OptionTypeError(`mesh target "${t.name}" needs an address (an IP address or host name)`);
  }
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) {
    throw new OptionRangeError(`mesh target "${t.name}": port must be an integer from 1 to 65535, got ${String(t.port)}`);
  }
}


export type MeshEvents = SessionEvents;

/** A running mesh; see the module comment. */
export class MeshSession extends Session<MeshEvents, MeshResult> {
  /** How long after its last reply a target still counts as up: timeout + 10 intervals. */
  readonly upWindowNs: number;
  readonly bucketBoundsNs: readonly number[];
  readonly #native: NativeMesh;
  readonly #target: NormalizedProbeOptions & { jitter: number };
  readonly #ids = new Map<string, number>();
  readonly #targets = new Map<number, MeshTarget>();
  #pending: { promise: Promise<MeshSnapshot>; resolve: (s: MeshSnapshot) => void; reject: (e: Error) => void } | undefined;
  #closed = false;

  /** Validates the options and starts the mesh's thread, with no targets; throws what failed (pinning EINVAL, ...). */
  constructor(options: MeshOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw new OptionTypeError('options must be an object');
    const jitter = options.jitter ?? 0.1;
    if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 0.5)) {
      throw new OptionRangeError(`jitter must be a number from 0 to 0.5 (a fraction of the interval), got ${String(jitter)}`);
    }
    const bounds = options.bucketBoundsNs ?? MESH_BUCKET_BOUNDS_NS;
    if (!Array.isArray(bounds) || bounds.some((b, i) => typeof b !== 'number' || !(b > 0) || (i > 0 && b <= bounds[i - 1]!))) {
      throw new OptionRangeError('bucketBoundsNs must be positive numbers of ns in ascending order');
    }
    const { signal, jitter: _jitter, bucketBoundsNs: _bounds, rate, busyPoll, ...probeOptions } = options;
    const normalized = normalizeProbeOptions({ ...probeOptions, mode: 'rate', rate: rate ?? 10, busyPoll: busyPoll ?? false, warmup: 0 });
    this.upWindowNs = normalized.timeoutNs + (10 * 1e9) / normalized.rate;
    this.bucketBoundsNs = [...bounds];
    this.#target = { ...normalized, durationNs: 0, count: 0, jitter };
    try {
      const { Mesh } = binding();
      this.#native = new Mesh(
        { busyPoll: normalized.busyPoll, clock: normalized.clock, cpu: normalized.cpu, rtPriority: normalized.rtPriority, mlock: normalized.mlock, bucketBoundsNs: this.bucketBoundsNs },
        (s: RawMeshSnapshot) => {
          const pending = this.#pending;
          this.#pending = undefined;
          pending?.resolve(this.#fromRaw(s));
        },
      );
    } catch (error) {
      throw fromNative(error);
    }
    const onAbort = () => this.end();
    if (signal?.aborted) this.end();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.run(
      this.#native.result
        .then(
          (raw) => raw,
          (error: unknown) => {
            throw fromNative(error);
          },
        )
        .finally(() => {
          signal?.removeEventListener('abort', onAbort);
          this.#closed = true;
          this.#pending?.reject(new MeshError('the mesh was closed before its snapshot was taken', 'ERR_MESH_CLOSED'));
          this.#pending = undefined;
        }),
    );
  }

  /**
   * Starts probing a target, resolving its address first when it is a name;
   * the other targets are not disturbed. Rejects with MeshError for a target
   * already probed (same name, address and port) or a closed mesh, and with
   * the errno `code` when its socket cannot be opened.
   */
  async add(target: MeshTarget): Promise<void> {
    checkTarget(target);
    this.#checkOpen();
    const key = meshTargetKey(target);
    if (this.#ids.has(key)) {
      throw new MeshError(`target "${target.name}" (${target.address} port ${target.port}) is already probed`, 'ERR_MESH_DUPLICATE_TARGET');
    }
    this.#ids.set(key, -1);  // reserved while its name resolves
    try {
      const host = await this.#resolve(target);
      this.#checkOpen();
      const bindHost = this.#target.bind ?? (net.isIPv6(host) ? '::' : '0.0.0.0');
      let id: number;
      try {
        const options: NativeMeshTargetOptions = { ...this.#target, host, port: target.port, bindHost, bindPort: 0 };
        id = this.#native.add(options);
      } catch (error) {
        throw fromNative(error);
      }
      this.#ids.set(key, id);
      this.#targets.set(id, { name: target.name, address: target.address, port: target.port });
    } catch (error) {
      if (this.#ids.get(key) === -1) this.#ids.delete(key);
      throw error;
    }
  }

  /** Stops probing a target, leaving the others running; false when it was not probed. */
  remove(target: MeshTarget): boolean {
    const key = meshTargetKey(target);
    const id = this.#ids.get(key);
    if (id === undefined || id === -1) return false;
    this.#ids.delete(key);
    this.#targets.delete(id);
    if (!this.#closed) this.#native.remove(id);
    return true;
  }

  /** The targets being probed (added, not removed). */
  targets(): MeshTarget[] {
    return [...this.#targets.values()];
  }

  /**
   * Every running target's cumulative figures, taken by the mesh's thread
   * between two probes; concurrent calls share one. Rejects with MeshError
   * ERR_MESH_CLOSED once the mesh has ended.
   */
  async snapshot(): Promise<MeshSnapshot> {
    this.#checkOpen();
    if (!this.#pending) {
      let resolve!: (s: MeshSnapshot) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<MeshSnapshot>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#pending = { promise, resolve, reject };
      this.#native.snapshot();
    }
    return this.#pending.promise;
  }

  #fromRaw(raw: RawMeshSnapshot): MeshSnapshot {
    const targets: MeshTargetSnapshot[] = [];
    const nCounters = SENDER_COUNTERS.length;
    const nMetrics = METRIC_NAMES.length;
    const slots = raw.slots;
    raw.ids.forEach((id, i) => {
      const target = this.#targets.get(id);
      if (!target) return;  // removed since the snapshot was asked for
      const counters = {} as SenderCounters;
      SENDER_COUNTERS.forEach((name, c) => (counters[name] = raw.counters[i * nCounters + c]!));
      const metrics: Partial<Record<MetricName, MeshMetricTotals>> = {};
      METRIC_NAMES.forEach((name, m) => {
        const at = i * nMetrics + m;
        const count = raw.counts[at]!;
        if (count === 0) return;
        const buckets = raw.buckets.subarray(at * slots, (at + 1) * slots);
        for (let b = 1; b < slots; ++b) buckets[b]! += buckets[b - 1]!;  // cumulative, as Prometheus counts them
        metrics[name] = { count, sumNs: raw.sumsNs[at]!, buckets };
      });
      const lastReplyNs = raw.lastReplyNs[i]! < 0 ? null : raw.lastReplyNs[i]!;
      targets.push({ target, counters, metrics, lastReplyNs, up: lastReplyNs !== null && raw.nowNs - lastReplyNs <= this.upWindowNs });
    });
    return { atNs: raw.nowNs, bucketBoundsNs: this.bucketBoundsNs, targets };
  }

  /** Stops every target and the thread; resolves once every socket is closed. */
  async close(): Promise<MeshResult> {
    this.end();
    return this.result;
  }

  protected end(): void {
    this.#closed = true;
    this.#native.stop();
  }

  #checkOpen(): void {
    if (this.#closed) throw new MeshError('the mesh is closed: start a new one', 'ERR_MESH_CLOSED');
  }

  async #resolve(target: MeshTarget): Promise<string> {
    const family = net.isIP(target.address);
    if (family !== 0) return target.address;
    try {
      return (await dns.lookup(target.address)).address;
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'ENOTFOUND';
      throw new RttProbeError(`cannot resolve mesh target "${target.name}" address ${target.address} (${code}): check the name or give an IP address`, code);
    }
  }
}

/** Starts a mesh with no targets; add them with add(). Throws OptionTypeError / OptionRangeError for bad options. */
export function startMesh(options: MeshOptions = {}): MeshSession {
  return new MeshSession(options);
}
