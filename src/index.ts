/**
 * rtt-probe: network round-trip time with kernel timestamps, busy polling and
 * HDR histograms, speaking STAMP (RFC 8762).
 *
 *   const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
 *   const session = probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 1000 });
 *   const result = await session.result;
 *   result.metrics['rtt.user']?.percentile(99);
 */
import { binding } from './binding';

// Load the addon at import so an unsupported platform fails here, clearly.
binding();

export { probe, startReflector, ProbeSession, Reflector } from './session';
export type { ProbeProgress, ReflectorProgress, ProbeStart } from './session';
export { ProbeResult } from './result';
export type { ProbeResultJSON, ReflectorResult, ReflectorOptionsUsed, ProbeOptionsUsed, Granted, Endpoint, CpuUse } from './result';
export type { TimestampingGrant, HwtstampSetup, HwtstampConfig } from './binding';
export { Histogram, STANDARD_PERCENTILES } from './histogram';
export type { HistogramJSON } from './histogram';
export { METRIC_NAMES, METRIC_DESCRIPTIONS, METRIC_CAVEATS } from './metrics';
export { SENDER_COUNTERS, REFLECTOR_COUNTERS } from './counters';
export type { SenderCounters, ReflectorCounters } from './counters';
export type { MetricName } from './metrics';
export { parseDuration, parseTarget, DEFAULT_PORT } from './options';
export type { ProbeOptions, ReflectorOptions, ProbeMode, TimestampSource, TimestampFormat, ClockSource, Duration, Target } from './options';
export { RttProbeError, OptionTypeError, OptionRangeError, BindingLoadError } from './errors';
export { VERSION } from './host';
export { caps } from './caps';
export type { CapsReport, CapsOptions, HostCaps, InterfaceCaps } from './caps';

/** The engine's own STAMP codec, for tools that build or read packets. */
export const wire = binding().wire;
