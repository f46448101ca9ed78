/**
 * The one place that loads the native addon. It checks the exports it needs
 * and, when loading fails, says which platform it was and how to rebuild.
 */
import path from 'node:path';
import type { CaptureColumn, CaptureFormat, CaptureStatus } from './capture';
import type { ReflectorCounterName, ReflectorCounters, SenderCounterName, SenderCounters } from './counters';
import { BindingLoadError } from './errors';
import type { MetricName } from './metrics';
import type { ClockSource, NormalizedReflectorPolicy, ProbeMode, Protocol, TimestampFormat, TimestampSource, Transport } from './options';
import { detectLibc, sourceBuildAdvice, type Libc } from './platform';

export type { ReflectorCounters, SenderCounters };

export type NativeTimestampSource = TimestampSource;
export type NativeTimestampFormat = TimestampFormat;
export type NativeClockSource = ClockSource;

interface NativeCommonOptions {
  bindHost: string;
  bindPort: number;
  busyPoll: boolean;
  socketBusyPollUs: number;
  timestamps: NativeTimestampSource;
  timestampFormat: NativeTimestampFormat;
  clock: NativeClockSource;
  cpu: number;
  rtPriority: number;
  mlock: boolean;
  durationNs: number;
  progressIntervalNs: number;
  transport: Transport;
  /** null: the route's or bind address's interface. */
  interface: string | null;
  /** null: untagged. */
  vlan: number | null;
  dscp: number;
  /** null: the system default. */
  ttl: number | null;
}

export interface NativeSenderOptions extends NativeCommonOptions {
  host: string;
  port: number;
  mode: ProbeMode;
  protocol: Protocol;
  count: number;
  warmup: number;
  rate: number;
  size: number;
  timeoutNs: number;
  ssid: number;
  /** Authenticated mode's shared key, or null for unauthenticated packets. */
  key: Buffer | null;
  stopOnUnreachable: boolean;
  /** null: the neighbour table's. */
  dstMac: string | null;
  /** Per-probe capture file, '' for none; opened by the constructor, which throws with its errno `code`. */
  captureFile: string;
  captureFormat: CaptureFormat;
  captureBufferRows: number;
}

export type NativeReflectorOptions = NativeCommonOptions & NormalizedReflectorPolicy;

/** A mesh's own options; each target takes a Sender's options and a jitter. */
export interface NativeMeshOptions {
  busyPoll: boolean;
  clock: NativeClockSource;
  cpu: number;
  rtPriority: number;
  mlock: boolean;
  bucketBoundsNs: readonly number[];
}

export interface NativeMeshTargetOptions extends NativeSenderOptions {
  jitter: number;
}

/**
 * A mesh snapshot as flat arrays, target i at index i (counters: SENDER_COUNTERS
 * per target; counts and sums: metricNames per target; buckets: slots per
 * metric per target, samples per bucket, not cumulative, the last above every
 * bound). Cumulative since each target was added.
 */
export interface RawMeshSnapshot {
  nowNs: number;
  ids: Float64Array;
  /** -1: no reply yet. */
  lastReplyNs: Float64Array;
  counters: Float64Array;
  counts: Float64Array;
  sumsNs: Float64Array;
  slots: number;
  buckets: Float64Array;
}

export interface NativeMesh {
  /** Opens the target's socket (throwing with an errno `code`) and hands it to the mesh's thread; returns its id. */
  add(options: NativeMeshTargetOptions): number;
  /** False when no such target runs. */
  remove(id: number): boolean;
  /** Asks the thread for a snapshot, delivered to the constructor's callback. */
  snapshot(): void;
  stop(): void;
  readonly result: Promise<{ startedAtNs: bigint; endedAtNs: bigint; cpuNs: number }>;
}

export interface NativeEndpoint {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

export interface RawHistogram {
  count: number;
  min: number;
  max: number;
  mean: number;
  stddev: number;
  underflow: number;
  overflow: number;
  indices: Uint32Array;
  counts: Float64Array;
}

/** A NIC's hardware-timestamping config (struct hwtstamp_config) by name, e.g. { txType: 'on', rxFilter: 'all' }. */
export interface HwtstampConfig {
  /** HWTSTAMP_TX_*: off, on, onestep-sync, onestep-p2p. */
  txType: string;
  /** HWTSTAMP_FILTER_*: none, all, some, ptpv2-event, ..., ntp-all. */
  rxFilter: string;
}

/**
 * What enabling hardware timestamping on the socket's interface did, once at
 * session setup: its config before (SIOCGHWTSTAMP), and the config set
 * (SIOCSHWTSTAMP: tx on, rx filter all, else ntp-all) or why that was refused.
 * A NIC that was changed stays so configured, as ptp4l and chrony leave it.
 */
export interface HwtstampSetup {
  /** The config before this session; null when the driver would not report it (see previousError). */
  previous: HwtstampConfig | null;
  /** SIOCGHWTSTAMP's errno name (EOPNOTSUPP: no hardware timestamping, or a driver that cannot report it). */
  previousError: string | null;
  /** This session changed the NIC's config, and left it so. */
  changed: boolean;
  /** SIOCSHWTSTAMP's errno name: EPERM (needs CAP_NET_ADMIN), EOPNOTSUPP (no hardware timestamping), ERANGE (no filter of every packet). */
  refused: string | null;
  /** The config in force after setup, as read back (drivers may grant more than asked); null when unknown. */
  granted: HwtstampConfig | null;
  /** Hardware TX stamps can be expected. */
  tx: boolean;
  /** Hardware RX stamps of every packet can be expected (rx filter all). */
  rx: boolean;
}

export interface TimestampingGrant {
  /** The interface carrying the socket's traffic ("*" for a wildcard bind). */
  interface: string;
  /** Its driver reports hardware timestamping; 'auto' asks for hardware stamps only then. */
  hardwareCapable: boolean;
  softwareRequested: boolean;
  hardwareRequested: boolean;
  software: boolean;
  /** The socket accepted the hardware flags (stamps come only from a NIC configured for them: see hwtstamp). */
  hardware: boolean;
  refused: string | null;
  flags: number;
  /** The NIC's setup when hardware stamps were requested on a known interface; null otherwise (not requested, or a wildcard bind). */
  hwtstamp: HwtstampSetup | null;
}

/** An interface's timestamping capabilities (ETHTOOL_GET_TS_INFO) and current config (SIOCGHWTSTAMP). */
export interface RawInterfaceCaps {
  interface: string;
  /** SOF_TIMESTAMPING_* the driver supports: tx-software, rx-software, software, tx-hardware, rx-hardware, raw-hardware, ... */
  soTimestamping: string[];
  /** Hardware stamps both ways with the raw NIC clock; 'auto' asks for hardware stamps only here. */
  hardwareCapable: boolean;
  /** Its PTP hardware clock is /dev/ptp<phcIndex>; null: none. */
  phcIndex: number | null;
  txTypes: string[];
  rxFilters: string[];
  /** ETHTOOL_GET_TS_INFO's errno name; the lists above are then empty. */
  tsInfoError: string | null;
  hwtstamp: HwtstampConfig | null;
  /** SIOCGHWTSTAMP's errno name when the driver does not report its config (EOPNOTSUPP). */
  hwtstampError: string | null;
  /** ETHTOOL_GDRVINFO (`ethtool -i`); empty strings where the driver leaves a field out. */
  driver: { driver: string; firmware: string; bus: string } | null;
  driverError: string | null;
  /** ETHTOOL_GSET (`ethtool IF`): speed in Mb/s (null: unknown, as without link). */
  link: { speedMbps: number | null; duplex: 'full' | 'half' | 'unknown' } | null;
  linkError: string | null;
  /** ETHTOOL_GCOALESCE (`ethtool -c`): how long the NIC holds an interrupt back, in µs. */
  coalesce: { rxUsecs: number; txUsecs: number; adaptiveRx: boolean; adaptiveTx: boolean } | null;
  coalesceError: string | null;
  /** ETHTOOL_GRINGPARAM (`ethtool -g`): descriptors per ring, current and maximum. */
  rings: { rx: number; rxMax: number; tx: number; txMax: number } | null;
  ringsError: string | null;
  /** ETHTOOL_GGRO and ETHTOOL_GFLAGS' LRO bit (`ethtool -k`): on or off. */
  gro: boolean | null;
  groError: string | null;
  lro: boolean | null;
  lroError: string | null;
}

export interface Granted {
  timestamping: TimestampingGrant;
  pinning: { cpu: number | null; rtPriority: number; mlock: boolean };
  /**
   * The session thread ran with a file table of its own, which spares each
   * socket system call two atomic operations (false on kernels before 5.9).
   */
  privateFileTable: boolean;
  socketBusyPoll: { socketBusyPollUs: number; granted: boolean; refused: string | null };
  /** The clock user stamps (T1, T4, the reflector's T3) and timers were read from: the TSC, or CLOCK_REALTIME through the vDSO. */
  clock: 'tsc' | 'realtime';
}

/** A metric's running figures in a progress snapshot, in ns: the percentiles of STANDARD_PERCENTILES up to p99.9. */
export interface MetricProgress {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** Bucket index (histogram.ts layout) of counts[0]; with `counts`. */
  countsFrom?: number;
  /**
   * Cumulative bucket counts from the bucket of min to that of max: only in
   * the snapshots of a session that asked (ProbeSession.wantProgressCounts),
   * since they run to hundreds of KiB a snapshot.
   */
  counts?: Float64Array;
}

export interface RawSenderProgress {
  elapsedNs: number;
  counters: SenderCounters;
  metrics: Partial<Record<MetricName, MetricProgress>>;
}

export interface RawReflectorProgress {
  elapsedNs: number;
  counters: ReflectorCounters;
}

export interface RawSenderResult {
  counters: SenderCounters;
  stamps: { txSoftware: number; txHardware: number; rxSoftware: number; rxHardware: number };
  metrics: Partial<Record<MetricName, RawHistogram>>;
  missing: Partial<Record<MetricName, string>>;
  granted: Granted;
  local: NativeEndpoint;
  startedAtNs: bigint;
  endedAtNs: bigint;
  cpuNs: number;
  /** From the first measured probe's send to the last one's. */
  sendSpanNs: number;
  stopped: boolean;
  lastSendError: string | null;
}

export interface RawReflectorResult {
  counters: ReflectorCounters;
  granted: Granted;
  local: NativeEndpoint;
  startedAtNs: bigint;
  endedAtNs: bigint;
  cpuNs: number;
}

export interface NativeSession<Result> {
  stop(): void;
  /** onProgress is called only while this is true (false at start): an unwatched loop takes no snapshots. */
  setProgressWanted(wanted: boolean): void;
  /** Snapshots carry bucket counts (MetricProgress.counts) only while this is true (false at start). */
  setProgressCounts(wanted: boolean): void;
  readonly result: Promise<Result>;
  readonly local: NativeEndpoint;
  /** Settled when the session is built, before its first packet. */
  readonly timestamping: TimestampingGrant;
}

export interface SenderPacketFields {
  seq: number;
  timestamp: bigint;
  errorEstimate: number;
  ssid: number;
}

export interface ReflectorPacketFields extends SenderPacketFields {
  receiveTimestamp: bigint;
  senderSeq: number;
  senderTimestamp: bigint;
  senderErrorEstimate: number;
  senderTtl: number;
}

export interface ErrorEstimateFields {
  synchronized: boolean;
  format: TimestampFormat;
  scale: number;
  multiplier: number;
}

/** STAMP packet layouts: 44-byte unauthenticated, 112-byte authenticated (HMAC in the last 16 bytes, left zero here). */
export const WIRE_LAYOUTS = ['unauthenticated', 'authenticated'] as const;
export type WireLayout = (typeof WIRE_LAYOUTS)[number];

/**
 * The engine's STAMP codec. Arguments are checked as Node checks its own: a
 * wrong type throws a TypeError with code ERR_INVALID_ARG_TYPE, an unknown
 * format or layout name a RangeError with ERR_INVALID_ARG_VALUE, a number or
 * bigint that does not fit its field (seq 32 bits, ssid and error estimates
 * 16, senderTtl 8, timestamps 64) a RangeError with ERR_OUT_OF_RANGE.
 */
export interface WireCodec {
  readonly packetSize: number;
  readonly authPacketSize: number;
  readonly replyMinSize: number;
  /** The largest UDP payload over IPv4 (65507 bytes): the largest packet a sender may ask for. */
  readonly maxPacketSize: number;
  encodeSender(fields: SenderPacketFields, size?: number, layout?: WireLayout): Buffer;
  decodeSender(packet: Buffer, layout?: WireLayout): SenderPacketFields | null;
  encodeReflector(fields: ReflectorPacketFields, size?: number, layout?: WireLayout): Buffer;
  decodeReflector(packet: Buffer, layout?: WireLayout): ReflectorPacketFields | null;
  encodeTimestamp(unixNs: bigint, format?: TimestampFormat): bigint;
  decodeTimestamp(wire: bigint, format?: TimestampFormat): bigint;
  encodeErrorEstimate(fields: ErrorEstimateFields): number;
  decodeErrorEstimate(wire: number): ErrorEstimateFields;
}

export interface NativeBinding {
  Sender: new (
    options: NativeSenderOptions,
    onProgress: (p: RawSenderProgress) => void,
  ) => NativeSession<RawSenderResult>;
  Reflector: new (
    options: NativeReflectorOptions,
    onProgress: (p: RawReflectorProgress) => void,
  ) => NativeSession<RawReflectorResult>;
  Mesh: new (options: NativeMeshOptions, onSnapshot: (s: RawMeshSnapshot) => void) => NativeMesh;
  wire: WireCodec;
  recordHistogram(values: Float64Array): RawHistogram;
  /** Throws an Error with code ENODEV when there is no such interface. */
  interfaceCaps(name: string): RawInterfaceCaps;
  /** Every interface of this network namespace, lo first. */
  interfaceNames(): string[];
  /** Why `clock: 'auto'` cannot read the TSC on this host, or null when it does. */
  tscClockUnavailable(): string | null;
  /**
   * Creates the TUN device `name` (IP packets, no packet-info header) in this
   * network namespace and returns its descriptor; the device goes when it is
   * closed. Throws an Error with the errno name as `code` (ENOENT: no
   * /dev/net/tun, EPERM: needs CAP_NET_ADMIN).
   */
  openTun(name: string): number;
  metricNames: readonly MetricName[];
  /** The per-probe capture's columns and statuses, in file order. */
  captureColumns: readonly CaptureColumn[];
  captureStatuses: readonly CaptureStatus[];
  /** Each counter list in the engine's order, which is the JSON's. */
  counterNames: { sender: readonly SenderCounterName[]; reflector: readonly ReflectorCounterName[] };
  /** The names each choice option accepts, as the native parsers know them. */
  choices: {
    mode: readonly ProbeMode[];
    protocol: readonly Protocol[];
    timestamps: readonly TimestampSource[];
    timestampFormat: readonly TimestampFormat[];
    clock: readonly ClockSource[];
    layout: readonly WireLayout[];
    captureFormat: readonly CaptureFormat[];
    transport: readonly Transport[];
  };
  histogramLayout: { subBucketHalfCountMagnitude: number; bucketCount: number; highestTrackable: number };
}

const REQUIRED = [
  'Sender',
  'Reflector',
  'Mesh',
  'wire',
  'recordHistogram',
  'interfaceCaps',
  'interfaceNames',
  'tscClockUnavailable',
  'openTun',
  'metricNames',
  'captureColumns',
  'captureStatuses',
  'counterNames',
  'choices',
  'histogramLayout',
] as const satisfies ReadonlyArray<keyof NativeBinding>;

export interface LoadTarget {
  root: string;
  platform: NodeJS.Platform;
  arch: string;
  /** The C library; defaults to detectLibc() (which honours $LIBC, as node-gyp-build does). */
  libc: Libc;
  load: (root: string) => unknown;
  /** A specific addon file, e.g. the sanitizer build; defaults to $RTT_PROBE_ADDON. */
  addonPath: string | undefined;
}

/** The variable that points the loader at one addon file instead of the release build. */
export const ADDON_PATH_VARIABLE = 'RTT_PROBE_ADDON';

function loadFile(file: string): unknown {
  if (!path.isAbsolute(file) || path.extname(file) !== '.node') {
    throw new BindingLoadError(`${ADDON_PATH_VARIABLE}="${file}" must be the absolute path of a .node file (or unset it)`);
  }
  try {
    return require(file) as unknown;
  } catch (error) {
    throw new BindingLoadError(
      `${ADDON_PATH_VARIABLE} names ${file}, which cannot be loaded: ${(error as Error).message.split('\n')[0]}. ` +
        'Build it (for the sanitizer build: npm run build:sanitize, run with its runtime in LD_PRELOAD) or unset the variable.',
    );
  }
}

/** Loads and checks the addon; `target` is injectable so the failure paths can be tested. */
export function loadBinding(target: Partial<LoadTarget> = {}): NativeBinding {
  const root = target.root ?? path.join(__dirname, '..');
  const platform = target.platform ?? process.platform;
  const arch = target.arch ?? process.arch;
  if (platform !== 'linux') {
    throw new BindingLoadError(
      'rtt-probe runs on Linux only (it needs SO_TIMESTAMPING, busy polling and Linux socket options); ' +
        `this is ${platform}-${arch}, Node ${process.version}.`,
    );
  }
  const libc = target.libc ?? detectLibc();
  const where = `linux-${arch}, ${libc}, Node ${process.version}`;
  // An injected loader (tests of the failure paths) wins over the variable.
  const addonPath =
    'addonPath' in target ? target.addonPath : target.load ? undefined : process.env[ADDON_PATH_VARIABLE] || undefined;
  let binding: unknown;
  try {
    binding = addonPath !== undefined ? loadFile(addonPath) : (target.load ?? (require('node-gyp-build') as (dir: string) => unknown))(root);
  } catch (error) {
    if (error instanceof BindingLoadError) throw error;
    throw new BindingLoadError(
      `cannot load the rtt-probe native addon for ${where}: ${(error as Error).message.trim()}\n` +
        sourceBuildAdvice({ arch, libc }),
    );
  }
  const missing = REQUIRED.filter((key) => (binding as Record<string, unknown> | null)?.[key] === undefined);
  if (missing.length > 0) {
    throw new BindingLoadError(
      `the rtt-probe native addon for ${where} lacks ${missing.join(', ')}: it is stale or from another version. ` +
        'Rebuild it with `npm rebuild rtt-probe` (or `npm run compile` in a checkout).',
    );
  }
  return binding as NativeBinding;
}

let cached: NativeBinding | undefined;

export function binding(): NativeBinding {
  cached ??= loadBinding();
  return cached;
}
