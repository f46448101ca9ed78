/**
 * Results of probe sessions and reflectors. A ProbeResult holds a Histogram
 * per measured metric, the reason for every metric it could not measure, the
 * loss counters, the options used and what the kernel granted; toJSON() gives
 * the `--json` object (integer nanoseconds) and fromJSON() reads it back.
 */
import type { Granted, NativeEndpoint, RawReflectorResult, RawSenderResult } from './binding';
import { SENDER_COUNTERS, SENDER_COUNTERS_ADDED_LATER, type ReflectorCounters, type SenderCounters } from './counters';
import { sessionCaps, type CapsReport } from './caps';
import { Histogram, type HistogramJSON } from './histogram';
import { hostInfo, type HostInfo } from './host';
import { METRIC_CAVEATS, METRIC_NAMES, type MetricName } from './metrics';
import { checkResult, resultHeader, type ResultHeader } from './schema';
import type { ClockSource, NormalizedProbeOptions, NormalizedReflectorOptions, ProbeMode, Protocol, TimestampFormat, TimestampSource, Transport } from './options';

export type { Granted, SenderCounters, ReflectorCounters, NativeEndpoint as Endpoint };

/** The options a probe ran with, durations in nanoseconds. */
export interface ProbeOptionsUsed {
  target: string;
  port: number;
  bind: string;
  mode: ProbeMode;
  /** 'udp' in results written before TCP. */
  protocol: Protocol;
  count: number | null;
  durationNs: number | null;
  warmup: number;
  rate: number | null;
  size: number;
  timeoutNs: number;
  busyPoll: boolean;
  socketBusyPollUs: number;
  timestamps: TimestampSource;
  timestampFormat: TimestampFormat;
  clock: ClockSource;
  ssid: number;
  /** Authenticated STAMP (the key itself is never part of a result). */
  authenticated: boolean;
  cpu: number | null;
  rtPriority: number;
  mlock: boolean;
  progressIntervalNs: number;
  /** The session was to end at the first ICMP error (false in results written before the option existed). */
  stopOnUnreachable: boolean;
  /** How probes reached the wire ('udp' in results written before the raw transport existed). */
  transport?: Transport | undefined;
  /** The interface asked for (raw transport); null: the route's. The one used is granted.timestamping.interface. */
  interface?: string | null | undefined;
  vlan?: number | null | undefined;
  dstMac?: string | null | undefined;
  dscp?: number | undefined;
  /** null: the system's default. */
  ttl?: number | null | undefined;
}

/** CPU time of the session thread, and its share of the wall-clock run (1 = one core spinning). */
export interface CpuUse {
  threadNs: number;
  utilization: number;
}

function cpuUse(cpuNs: number, startedAtNs: bigint, endedAtNs: bigint): CpuUse {
  const wall = Number(endedAtNs - startedAtNs);
  return { threadNs: cpuNs, utilization: wall > 0 ? Math.round((cpuNs / wall) * 1000) / 1000 : 0 };
}

export interface TimestampCounts {
  txSoftware: number;
  txHardware: number;
  rxSoftware: number;
  rxHardware: number;
}

export interface ProbeResultJSON extends ResultHeader<'probe'>, SenderCounters {
  metrics: Partial<Record<MetricName, HistogramJSON>>;
  missing: Partial<Record<MetricName, string>>;
  caveats: Partial<Record<MetricName, string>>;
  target: NativeEndpoint;
  local: NativeEndpoint;
  options: ProbeOptionsUsed;
  granted: Granted & { stamps: TimestampCounts };
  host: HostInfo;
  startedAt: string;
  endedAt: string;
  cpu: CpuUse;
  /** Probes per second actually sent, warm-up excluded as from every figure (round trips per second in ping-pong). */
  achievedRate: number;
  /** True when the session was stopped (signal, stop()) before it finished. */
  stopped: boolean;
  lastSendError: string | null;
  /** The caps snapshot (with verdicts) of the interface and CPUs the session used; absent in results written before it existed. */
  caps?: CapsReport | undefined;
}

/**
 * A `--json` result as kept on disk: those written before the result schema
 * have no `schemaVersion` or `kind`, those before the TSC clock no `clock`,
 * those before stopOnUnreachable or TCP lack that option.
 */
export type KeptProbeResultJSON = Omit<ProbeResultJSON, 'options' | 'granted' | keyof ResultHeader<'probe'> | keyof typeof SENDER_COUNTERS_ADDED_LATER> &
  Partial<ResultHeader<'probe'>> &
  Partial<Pick<ProbeResultJSON, keyof typeof SENDER_COUNTERS_ADDED_LATER>> & {
  options: Omit<ProbeOptionsUsed, 'clock' | 'stopOnUnreachable' | 'protocol'> & {
    clock?: ClockSource | undefined;
    stopOnUnreachable?: boolean | undefined;
    protocol?: Protocol | undefined;
  };
  granted: Omit<ProbeResultJSON['granted'], 'clock'> & { clock?: Granted['clock'] | undefined };
};

function isoFromNs(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

export class ProbeResult {
  readonly metrics: Partial<Record<MetricName, Histogram>>;
  readonly missing: Partial<Record<MetricName, string>>;
  readonly counters: SenderCounters;
  readonly target: NativeEndpoint;
  readonly local: NativeEndpoint;
  readonly options: ProbeOptionsUsed;
  readonly granted: Granted & { stamps: TimestampCounts };
  readonly host: HostInfo;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly cpu: CpuUse;
  readonly achievedRate: number;
  readonly stopped: boolean;
  readonly lastSendError: string | null;
  readonly caps: CapsReport | undefined;

  private constructor(json: Omit<ProbeResultJSON, 'metrics' | keyof SenderCounters | 'caveats' | keyof ResultHeader<'probe'>> & {
    metrics: Partial<Record<MetricName, Histogram>>;
    counters: SenderCounters;
  }) {
    this.metrics = json.metrics;
    this.missing = json.missing;
    this.counters = json.counters;
    this.target = json.target;
    this.local = json.local;
    this.options = json.options;
    this.granted = json.granted;
    this.host = json.host;
    this.startedAt = json.startedAt;
    this.endedAt = json.endedAt;
    this.cpu = json.cpu;
    this.achievedRate = json.achievedRate;
    this.stopped = json.stopped;
    this.lastSendError = json.lastSendError;
    this.caps = json.caps;
  }

  /** @internal a session's result as the addon hands it over. */
  static fromNative(raw: RawSenderResult, target: NativeEndpoint, options: ProbeOptionsUsed): ProbeResult {
    const metrics: Partial<Record<MetricName, Histogram>> = {};
    for (const name of METRIC_NAMES) {
      const h = raw.metrics[name];
      if (h) metrics[name] = Histogram.fromRaw(h);
    }
    return new ProbeResult({
      metrics,
      missing: raw.missing,
      counters: raw.counters,
      target,
      local: raw.local,
      options,
      granted: { ...raw.granted, stamps: raw.stamps },
      host: hostInfo(),
      startedAt: isoFromNs(raw.startedAtNs),
      endedAt: isoFromNs(raw.endedAtNs),
      cpu: cpuUse(raw.cpuNs, raw.startedAtNs, raw.endedAtNs),
      achievedRate: raw.counters.sent > 1 && raw.sendSpanNs > 0 ? Math.round(((raw.counters.sent - 1) / raw.sendSpanNs) * 1e10) / 10 : 0,
      stopped: raw.stopped,
      lastSendError: raw.lastSendError,
      caps: sessionCaps({ interface: raw.granted.timestamping.interface, localAddress: raw.local.address, cpu: options.cpu }),
    });
  }

  /**
   * Reads a `--json` result back, kept reports included: one written before
   * the TSC clock existed read every user stamp through the vDSO, and says so
   * once read (`clock: 'realtime'`). Validates against the result schema
   * (src/schema.ts): throws a ResultFormatError naming `source` and what is
   * wrong when `json` is not a probe result, or is of a newer schema version.
   */
  static fromJSON(json: KeptProbeResultJSON, source = 'the given object'): ProbeResult {
    checkResult(json, ['probe'], source);
    const metrics: Partial<Record<MetricName, Histogram>> = {};
    for (const name of METRIC_NAMES) {
      const h = json.metrics[name];
      if (h) metrics[name] = Histogram.fromJSON(h);
    }
    const counters = {} as SenderCounters;
    const kept: Partial<SenderCounters> = { ...SENDER_COUNTERS_ADDED_LATER, ...json };
    for (const key of SENDER_COUNTERS) counters[key] = kept[key]!;
    const options = {
      ...json.options,
      clock: json.options.clock ?? 'realtime',
      stopOnUnreachable: json.options.stopOnUnreachable ?? false,
      protocol: json.options.protocol ?? 'udp',
    };
    const granted = { ...json.granted, clock: json.granted.clock ?? 'realtime' };
    return new ProbeResult({ ...json, options, granted, metrics, counters });
  }

  get sent(): number {
    return this.counters.sent;
  }
  get received(): number {
    return this.counters.received;
  }
  get lost(): number {
    return this.counters.lost;
  }
  /** Lost probes as a fraction of those sent and judged (0..1). */
  get lossRatio(): number {
    const judged = this.counters.received + this.counters.lost;
    return judged === 0 ? 0 : this.counters.lost / judged;
  }

  toJSON(): ProbeResultJSON {
    const metrics: Partial<Record<MetricName, HistogramJSON>> = {};
    const caveats: Partial<Record<MetricName, string>> = {};
    for (const name of METRIC_NAMES) {
      const h = this.metrics[name];
      if (!h) continue;
      metrics[name] = h.toJSON();
      const caveat = METRIC_CAVEATS[name];
      if (caveat) caveats[name] = caveat;
    }
    return {
      ...resultHeader('probe'),
      metrics,
      missing: this.missing,
      caveats,
      ...this.counters,
      target: this.target,
      local: this.local,
      options: this.options,
      granted: this.granted,
      host: this.host,
      startedAt: this.startedAt,
      endedAt: this.endedAt,
      cpu: this.cpu,
      achievedRate: this.achievedRate,
      stopped: this.stopped,
      lastSendError: this.lastSendError,
      ...(this.caps === undefined ? {} : { caps: this.caps }),
    };
  }
}

/** The options a reflector ran with; `authenticated` stands in for the key, which is never reported. */
export type ReflectorOptionsUsed = Omit<NormalizedReflectorOptions, 'cpu' | 'key'> & { cpu: number | null; authenticated: boolean };

export interface ReflectorResult extends ResultHeader<'reflect'>, ReflectorCounters {
  local: NativeEndpoint;
  options: ReflectorOptionsUsed;
  granted: Granted;
  host: HostInfo;
  startedAt: string;
  endedAt: string;
  cpu: CpuUse;
}

export function reflectorResult(raw: RawReflectorResult, options: NormalizedReflectorOptions): ReflectorResult {
  return {
    ...resultHeader('reflect'),
    ...raw.counters,
    local: raw.local,
    options: reflectorOptionsUsed(options),
    granted: raw.granted,
    host: hostInfo(),
    startedAt: isoFromNs(raw.startedAtNs),
    endedAt: isoFromNs(raw.endedAtNs),
    cpu: cpuUse(raw.cpuNs, raw.startedAtNs, raw.endedAtNs),
  };
}

export function reflectorOptionsUsed({ key, cpu, ...rest }: NormalizedReflectorOptions): ReflectorOptionsUsed {
  return { ...rest, cpu: cpu >= 0 ? cpu : null, authenticated: key !== null };
}

export function probeOptionsUsed(target: string, port: number, bind: string, o: NormalizedProbeOptions): ProbeOptionsUsed {
  return {
    target,
    port,
    bind,
    mode: o.mode,
    protocol: o.protocol,
    count: o.count || null,
    durationNs: o.durationNs || null,
    warmup: o.warmup,
    rate: o.mode === 'rate' ? o.rate : null,
    size: o.size,
    timeoutNs: o.timeoutNs,
    busyPoll: o.busyPoll,
    socketBusyPollUs: o.socketBusyPollUs,
    timestamps: o.timestamps,
    timestampFormat: o.timestampFormat,
    clock: o.clock,
    ssid: o.ssid,
    authenticated: o.key !== null,
    cpu: o.cpu >= 0 ? o.cpu : null,
    rtPriority: o.rtPriority,
    mlock: o.mlock,
    progressIntervalNs: o.progressIntervalNs,
    stopOnUnreachable: o.stopOnUnreachable,
    transport: o.transport,
    interface: o.interface,
    vlan: o.vlan,
    dstMac: o.dstMac,
    dscp: o.dscp,
    ttl: o.ttl,
  };
}
