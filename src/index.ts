/**
 * rtt-probe: network round-trip time with kernel timestamps, busy polling and
 * HDR histograms, speaking STAMP (RFC 8762).
 *
 *   const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
 *   const session = probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 1000 });
 *   const result = await session.result;
 *   result.metrics['rtt.user']?.percentile(99);
 */
import { binding, type WireCodec } from './binding';

// Load the addon at import so an unsupported platform fails here, clearly.
binding();

// Every type named in a public signature is exported (test/consumer.test.ts checks it).
export { probe, startReflector, ProbeSession, Reflector, Session } from './session';
export type { ProbeProgress, ReflectorProgress, ProbeStart, ProbeSessionEvents, ReflectorEvents, SessionEvents } from './session';
export { startMesh, MeshSession, MeshError, MESH_BUCKET_BOUNDS_NS, meshTargetKey } from './mesh';
export type { MeshOptions, MeshTarget, MeshSnapshot, MeshTargetSnapshot, MeshMetricTotals, MeshResult, MeshEvents } from './mesh';
export { ProbeResult } from './result';
export type {
  ProbeResultJSON,
  KeptProbeResultJSON,
  ReflectorResult,
  ReflectorOptionsUsed,
  ProbeOptionsUsed,
  Granted,
  Endpoint,
  CpuUse,
  TimestampCounts,
} from './result';
export type {
  TimestampingGrant,
  HwtstampSetup,
  HwtstampConfig,
  MetricProgress,
  RawInterfaceCaps,
  WireCodec,
  WireLayout,
  SenderPacketFields,
  ReflectorPacketFields,
  ErrorEstimateFields,
} from './binding';
export { Histogram, STANDARD_PERCENTILES } from './histogram';
export type { HistogramJSON } from './histogram';
export { METRIC_NAMES, METRIC_DESCRIPTIONS, METRIC_CAVEATS } from './metrics';
export { SENDER_COUNTERS, REFLECTOR_COUNTERS } from './counters';
export { CAPTURE_COLUMNS, CAPTURE_FORMATS, CAPTURE_STATUSES, TIMESTAMP_COLUMNS } from './capture';
export type { CaptureColumn, CaptureFormat, CaptureOptions, CaptureStatus } from './capture';
export type { SenderCounters, ReflectorCounters, SenderCounterName, ReflectorCounterName } from './counters';
export type { MetricName } from './metrics';
export { parseDuration, parseTarget, DEFAULT_PORT, PROTOCOLS } from './options';
export type {
  ProbeOptions,
  ReflectorOptions,
  CommonOptions,
  PinningOptions,
  ProbeMode,
  Protocol,
  TimestampSource,
  TimestampFormat,
  ClockSource,
  Transport,
  Duration,
  Target,
  TargetInput,
  NormalizedCommon,
  NormalizedReflectorOptions,
  NormalizedReflectorPolicy,
} from './options';
export { RttProbeError, OptionTypeError, OptionRangeError, BindingLoadError, ResultFormatError, OutputPathError } from './errors';
export { SCHEMA_VERSION, SCHEMA_PATH, RESULT_KINDS, RESULT_WRITERS, checkResult } from './schema';
export type { ResultKind, ResultHeader } from './schema';
export { VERSION } from './host';
export type { HostInfo } from './host';
export { caps } from './caps';
export type { CapsReport, CapsOptions, CapsReadings, CapsRoot, CpuCaps, HostCaps, IdleState, InterfaceCaps, IrqCaps, QueueSteering } from './caps';
export { CAPS_RULES, CAPS_VERDICTS, worstVerdict } from './caps-verdicts';
export type { AnyCapsRule, CapsFacts, CapsFinding, CapsRuleSpec, CapsSummary, CapsVerdict, FindingVerdict, Judgement, CapsSubjects } from './caps-verdicts';

/** The engine's own STAMP codec, for tools that build or read packets. */
export const wire: WireCodec = binding().wire;
