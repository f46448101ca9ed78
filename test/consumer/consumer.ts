// A strict consumer of the published package: it names every public type
// without a cast. test/consumer.test.ts compiles it with node16 and bundler
// resolution (strict, exactOptionalPropertyTypes, noUncheckedIndexedAccess).
import {
  probe,
  startReflector,
  startMesh,
  MeshError,
  MESH_BUCKET_BOUNDS_NS,
  type MeshOptions,
  type MeshSession,
  type MeshSnapshot,
  type MeshTarget,
  type MeshTargetSnapshot,
  type MeshMetricTotals,
  type MeshResult,
  ProbeResult,
  RttProbeError,
  OptionRangeError,
  OptionTypeError,
  ResultFormatError,
  wire,
  caps,
  checkResult,
  SCHEMA_VERSION,
  type ResultKind,
  type ProbeSession,
  type Session,
  type Reflector,
  type ProbeProgress,
  type ReflectorProgress,
  type ProbeStart,
  type ProbeSessionEvents,
  type ReflectorEvents,
  type ProbeResultJSON,
  type KeptProbeResultJSON,
  type ReflectorResult,
  type ReflectorOptionsUsed,
  type ProbeOptionsUsed,
  type Granted,
  type Endpoint,
  type CpuUse,
  type TimestampCounts,
  type SenderCounters,
  type ReflectorCounters,
  type TimestampingGrant,
  type HwtstampSetup,
  type HwtstampConfig,
  type MetricProgress,
  type RawInterfaceCaps,
  type WireCodec,
  type WireLayout,
  type SenderPacketFields,
  type ReflectorPacketFields,
  type ErrorEstimateFields,
  type Histogram,
  type HistogramJSON,
  type MetricName,
  type ProbeOptions,
  type ReflectorOptions,
  type CommonOptions,
  type PinningOptions,
  type ProbeMode,
  type Protocol,
  type TimestampSource,
  type TimestampFormat,
  type ClockSource,
  type Transport,
  type Duration,
  type Target,
  type TargetInput,
  type HostInfo,
  type CapsReport,
  type CapsOptions,
  type HostCaps,
  type InterfaceCaps,
} from 'rtt-probe';
import { HistogramLogWriter, percentileDistribution, writeHistogramLog } from 'rtt-probe/report';

// Optional options accept undefined under exactOptionalPropertyTypes.
const fromFlags: { rate?: number | undefined; cpu?: number | undefined } = {};
const pinning: PinningOptions = { cpu: fromFlags.cpu };
const common: CommonOptions = { ...pinning, progressInterval: undefined satisfies Duration | undefined };
const options: ProbeOptions = {
  ...common,
  count: 10,
  rate: fromFlags.rate,
  mode: 'pingpong' satisfies ProbeMode,
  stopOnUnreachable: true,
  transport: 'raw' satisfies Transport,
  interface: undefined,
  dstMac: undefined,
};
const reflectorOptions: ReflectorOptions = { bind: '127.0.0.1', port: 0, duration: undefined, allow: undefined, protocols: ['udp', 'tcp'] satisfies Protocol[] };
const tcpOptions: ProbeOptions = { protocol: 'tcp', mode: 'connect', count: 10 };
const target: TargetInput = { host: '127.0.0.1', port: undefined };
const parsed: Target = { host: '127.0.0.1', port: 862 };
const capsOptions: CapsOptions = { interfaces: ['lo'] };

// The options a result ran with are their unions, not string.
function describeOptions(o: ProbeOptionsUsed): [TimestampSource, TimestampFormat, ClockSource, Transport | undefined] {
  return [o.timestamps, o.timestampFormat, o.clock, o.transport];
}

function onProgress(p: ProbeProgress): number | undefined {
  const m: MetricProgress | undefined = p.metrics['rtt.user'];
  const counters: SenderCounters = p;
  return m === undefined ? counters.sent : m.p90;
}

function onReflectorProgress(p: ReflectorProgress): number {
  const counters: ReflectorCounters = p;
  return counters.reflected;
}

function describeResult(result: ProbeResult): string {
  const json: ProbeResultJSON = result.toJSON();
  const host: HostInfo = json.host;
  const granted: Granted & { stamps: TimestampCounts } = json.granted;
  const grant: TimestampingGrant = granted.timestamping;
  const setup: HwtstampSetup | null = grant.hwtstamp;
  const config: HwtstampConfig | null = setup?.granted ?? null;
  const cpu: CpuUse = json.cpu;
  const local: Endpoint = json.local;
  const name: MetricName = 'rtt.user';
  const histogram: Histogram | undefined = result.metrics[name];
  const histogramJson: HistogramJSON | undefined = histogram?.toJSON();
  const kept: KeptProbeResultJSON = json;
  return `${host.hostname} ${config?.rxFilter ?? ''} ${cpu.threadNs} ${local.port} ${histogramJson?.count ?? 0} ${ProbeResult.fromJSON(kept).sent}`;
}

function describeReflector(result: ReflectorResult): ReflectorOptionsUsed {
  return result.options;
}

function describeCaps(report: CapsReport): string[] {
  const host: HostCaps = report.host;
  const first: InterfaceCaps | undefined = report.interfaces[0];
  const raw: RawInterfaceCaps | undefined = first;
  return [String(host), raw?.interface ?? ''];
}

function describeWire(codec: WireCodec): ErrorEstimateFields {
  const layout: WireLayout = 'unauthenticated';
  const sender: SenderPacketFields = { seq: 1, timestamp: 0n, errorEstimate: 0, ssid: 0 };
  const packet = codec.encodeSender(sender, 44, layout);
  const reply: ReflectorPacketFields | null = codec.decodeReflector(packet);
  return codec.decodeErrorEstimate(reply?.errorEstimate ?? 0);
}

type Listener<Events, K extends keyof Events> = Events[K] extends unknown[] ? (...args: Events[K]) => void : never;
const onStarted: Listener<ProbeSessionEvents, 'started'> = (start: ProbeStart) => start.local.port;
const onError: Listener<ReflectorEvents, 'error'> = (error: RttProbeError) => error.code;

export async function main(): Promise<void> {
  try {
    await using reflector: Reflector = await startReflector(reflectorOptions);
    reflector.on('progress', onReflectorProgress).on('error', onError).unref().ref();
    const session: ProbeSession = probe(target, { ...options, port: reflector.address.port });
    session.on('progress', onProgress).on('started', onStarted);
    const any: Session<ProbeSessionEvents, ProbeResult> = session;
    any.unref().ref();
    const logged: Promise<ProbeResult> = writeHistogramLog(session, 'run.hlog');
    const result = await session.result;
    await logged;
    const user = result.metrics['rtt.user'];
    if (user) console.log(percentileDistribution(user));
    const kind: ResultKind = checkResult(JSON.parse(JSON.stringify(result)), ['probe'], 'result.json');
    console.log(kind, SCHEMA_VERSION, HistogramLogWriter.name);
    describeOptions(result.options);
    describeResult(result);
    describeReflector(await reflector.stop());
  } catch (error) {
    // One instanceof catches every error the library throws, each with a code.
    if (error instanceof RttProbeError) console.error(error.code);
    if (error instanceof OptionRangeError || error instanceof OptionTypeError || error instanceof ResultFormatError) {
      console.error(error.code);
    }
  }
  describeCaps(caps(capsOptions));
  describeWire(wire);
  void parsed;
}

// A fleet monitor's view: one mesh, targets in and out, the figures of each.
export async function watchFleet(targets: MeshTarget[], options: MeshOptions = { rate: 10, jitter: 0.1 }): Promise<MeshResult> {
  const mesh: MeshSession = startMesh(options);
  for (const t of targets) await mesh.add(t);
  const snapshot: MeshSnapshot = await mesh.snapshot();
  for (const t of snapshot.targets) {
    const named: MeshTargetSnapshot = t;
    const user: MeshMetricTotals | undefined = t.metrics['rtt.user'];
    console.log(named.target.name, t.up, t.lastReplyNs, t.counters.lost, user?.buckets[MESH_BUCKET_BOUNDS_NS.length]);
  }
  try {
    await mesh.add(targets[0]!);
  } catch (error) {
    if (error instanceof MeshError) console.error(error.code === 'ERR_MESH_DUPLICATE_TARGET');
  }
  mesh.remove(targets[0]!);
  return mesh.close();
}
