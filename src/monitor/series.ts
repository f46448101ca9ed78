/**
 * Every series the monitor exports, written once: the exporter serves these,
 * docs/monitor.md's table and the Grafana dashboard's test derive from them.
 * Prometheus names cannot carry dots, so the engine's rtt.user becomes
 * metric="user" on one histogram.
 */
import { REFLECTOR_COUNTERS, type ReflectorCounterName, type SenderCounterName } from '../counters';
import type { MetricName } from '../metrics';

export type SeriesType = 'counter' | 'gauge' | 'histogram';

export interface Series {
  name: string;
  type: SeriesType;
  help: string;
  labels: readonly string[];
}

/** The labels of every per-target series: the probing node, the target's name and its address. */
export const TARGET_LABELS = ['source', 'target', 'address'] as const;
export type TargetLabel = (typeof TARGET_LABELS)[number];

/** The histogram's metric label values and the engine metric each is read from. */
export const RTT_METRIC_LABELS = { user: 'rtt.user', kernel: 'rtt.kernel', net: 'rtt.net' } as const satisfies Record<string, MetricName>;
export type RttMetricLabel = keyof typeof RTT_METRIC_LABELS;

export const RTT_SERIES = {
  name: 'rtt_probe_rtt_seconds',
  type: 'histogram',
  help: 'Round-trip time of answered probes, by metric: user (what an application sees), kernel (kernel stamps at both ends of the sender), net (best RTT less the reflector residence)',
  labels: [...TARGET_LABELS, 'metric'],
} as const satisfies Series;

/** The per-target counters and the engine counter each is read from. */
const PROBE_COUNTERS: ReadonlyArray<{ counter: SenderCounterName; name: string; help: string }> = [
  { counter: 'sent', name: 'rtt_probe_probes_sent_total', help: 'Probes sent' },
  { counter: 'received', name: 'rtt_probe_probes_received_total', help: 'Probes answered within the timeout' },
  { counter: 'lost', name: 'rtt_probe_probes_lost_total', help: 'Probes not answered within the timeout' },
  { counter: 'late', name: 'rtt_probe_probes_late_total', help: 'Replies that came after their probe timed out (counted lost too)' },
  { counter: 'duplicates', name: 'rtt_probe_probes_duplicates_total', help: 'Extra replies to answered probes' },
  { counter: 'reordered', name: 'rtt_probe_probes_reordered_total', help: 'Replies older than one already received' },
];
export const PROBE_COUNTER_SERIES: ReadonlyArray<Series & { counter: SenderCounterName }> = PROBE_COUNTERS.map((s) => ({
  ...s,
  type: 'counter',
  labels: TARGET_LABELS,
}));

export const TARGET_UP_SERIES = {
  name: 'rtt_probe_target_up',
  type: 'gauge',
  help: '1 when a reply came within the last timeout + 10 probe intervals, else 0',
  labels: TARGET_LABELS,
} as const satisfies Series;

export const LAST_REPLY_SERIES = {
  name: 'rtt_probe_last_reply_timestamp_seconds',
  type: 'gauge',
  help: 'When the last reply came (Unix seconds); absent before the first',
  labels: TARGET_LABELS,
} as const satisfies Series;

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** What each reflector counter counts (native/core/counters.hpp); typed, so a new counter needs its line here. */
const REFLECTOR_HELP: Record<ReflectorCounterName, string> = {
  received: 'Datagrams read',
  reflected: 'Replies sent',
  malformed: 'Datagrams too short, or not test packets, for the mode',
  loops: "Another reflector's replies, never answered",
  authFailures: 'Authenticated packets whose HMAC did not verify',
  denied: 'Datagrams from sources not on the allow-list',
  rateLimited: 'Datagrams over the per-source reply rate',
  globalRateLimited: 'Datagrams over the global reply rate',
  replayed: 'Stateful mode: requests whose sender sequence number was already answered',
  outOfWindow: 'Stateful mode: requests too far behind to tell, or an unconfirmed jump',
  sessionsRefused: 'Stateful mode: sessions refused while the most were live',
  sessionsEvicted: 'Stateful mode: unproven sessions dropped to make room',
  sendErrors: 'Replies the kernel refused to send',
  rxStampsMissing: 'Requests without a kernel receive stamp (T2 from the user-space clock)',
  activeSessions: 'Stateful mode: live sessions',
  connections: 'TCP connections accepted',
  connectionsRefused: 'TCP connections reset at once because the most were open',
  requestTimeouts: 'TCP connections closed holding a partial request past its deadline',
};

/** The reflector's counters; activeSessions is a level, so a gauge without _total. */
export const REFLECTOR_SERIES: ReadonlyArray<Series & { counter: ReflectorCounterName }> = REFLECTOR_COUNTERS.map((counter) => {
  const level = counter === 'activeSessions';
  return {
    counter,
    name: `rtt_probe_reflector_${snakeCase(counter)}${level ? '' : '_total'}`,
    type: level ? ('gauge' as const) : ('counter' as const),
    help: `The monitor's reflector: ${REFLECTOR_HELP[counter]}`,
    labels: ['source'],
  };
});

/** Every series the monitor defines (prom-client adds the process_ and nodejs_ ones). */
export const SERIES: readonly Series[] = [RTT_SERIES, ...PROBE_COUNTER_SERIES, TARGET_UP_SERIES, LAST_REPLY_SERIES, ...REFLECTOR_SERIES];

/** Series each target adds for `bounds` histogram bounds: per metric label a bucket per bound, +Inf, _sum and _count. */
export function seriesPerTarget(bounds: number): number {
  const rtt = Object.keys(RTT_METRIC_LABELS).length * (bounds + 3);
  return rtt + PROBE_COUNTER_SERIES.length + 2;
}
