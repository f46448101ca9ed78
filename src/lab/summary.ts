/**
 * Figures derived from a lab report: per protocol, topology, size and metric, each
 * percentile as the median over the repeat rounds with the rounds' range,
 * and the difference from the baseline topology (in the same protocol) in ns and percent. A
 * difference is `distinct` only when the two topologies' ranges over the
 * rounds do not overlap: with one round there is no range, and nothing is
 * claimed either way (distinct is null).
 */
import { Histogram } from '../histogram';
import { METRIC_NAMES, type MetricName } from '../metrics';
import type { Protocol } from '../options';
import { onProtocol, reportProtocols, type LabReportJSON, type LabRunJSON, type LabTopologyJSON } from './report';

export const SUMMARY_PERCENTILES = [50, 90, 99, 99.9] as const;
/** A summary's statistics: the percentiles above and the mean. */
export const SUMMARY_STATISTICS = [...SUMMARY_PERCENTILES.map((p) => `p${p}`), 'mean'] as const;
export type Statistic = (typeof SUMMARY_STATISTICS)[number];

/** One statistic over the repeat rounds, in ns. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface Difference {
  /** Median here minus median at the baseline, ns. */
  ns: number;
  /** The same as a percentage of the baseline's median. */
  percent: number;
  /** True when the rounds' ranges do not overlap, false when they do, null with a single round. */
  distinct: boolean | null;
}

export interface MetricSummary {
  topology: string;
  protocol: Protocol;
  size: number;
  metric: MetricName;
  rounds: number;
  statistics: Record<Statistic, Spread>;
  /** Null for the baseline itself and when the baseline has no result for this size and metric. */
  vsBaseline: Record<Statistic, Difference> | null;
}

export interface CpuSummary {
  topology: string;
  protocol: Protocol;
  size: number;
  /** Share of one core each end's session thread used (1 = one core spinning), over the rounds. */
  sender: Spread;
  reflector: Spread | null;
  sent: number;
  lost: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

function statistic(h: Histogram, s: Statistic): number {
  return s === 'mean' ? h.mean : h.percentile(Number(s.slice(1)));
}

function runsOf(t: LabTopologyJSON, size: number): LabRunJSON[] {
  return t.runs.filter((r) => r.size === size);
}

/** The histogram of one metric in each round of one topology and size. */
export function roundHistograms(t: LabTopologyJSON, size: number, metric: MetricName): Histogram[] {
  return runsOf(t, size)
    .map((r) => r.sender.metrics[metric])
    .filter((h): h is NonNullable<typeof h> => h !== undefined && h.count > 0)
    .map((h) => Histogram.fromJSON(h));
}

function statistics(histograms: Histogram[]): Record<Statistic, Spread> {
  return Object.fromEntries(SUMMARY_STATISTICS.map((s) => [s, spread(histograms.map((h) => statistic(h, s)))])) as Record<Statistic, Spread>;
}

function difference(here: Spread, base: Spread, rounds: number): Difference {
  const ns = here.median - base.median;
  return {
    ns,
    percent: base.median === 0 ? 0 : (100 * ns) / base.median,
    distinct: rounds < 2 ? null : here.min > base.max || here.max < base.min,
  };
}

/** Every measured protocol × topology × size × metric, with differences from the report's baseline in the same protocol. */
export function summarize(report: LabReportJSON, metrics: readonly MetricName[] = METRIC_NAMES): MetricSummary[] {
  return reportProtocols(report).flatMap((protocol) => summarizeProtocol(onProtocol(report, protocol), protocol, metrics));
}

/** CPU use of each end and the loss, per protocol, measured topology and size. */
export function summarizeCpu(report: LabReportJSON): CpuSummary[] {
  return reportProtocols(report).flatMap((protocol) => cpuOfProtocol(onProtocol(report, protocol), protocol));
}

/** summarize() for a report holding the runs of one protocol. */
function summarizeProtocol(report: LabReportJSON, protocol: Protocol, metrics: readonly MetricName[]): MetricSummary[] {
  const baseline = report.topologies.find((t) => t.name === report.settings.baseline);
  const out: MetricSummary[] = [];
  for (const size of report.settings.sizes) {
    for (const metric of metrics) {
      const baseHistograms = baseline ? roundHistograms(baseline, size, metric) : [];
      const base = baseHistograms.length > 0 ? statistics(baseHistograms) : null;
      for (const t of report.topologies) {
        const histograms = roundHistograms(t, size, metric);
        if (histograms.length === 0) continue;
        const stats = statistics(histograms);
        const rounds = Math.min(histograms.length, baseHistograms.length);
        out.push({
          topology: t.name,
          protocol,
          size,
          metric,
          rounds: histograms.length,
          statistics: stats,
          vsBaseline:
            base === null || t === baseline
              ? null
              : (Object.fromEntries(SUMMARY_STATISTICS.map((s) => [s, difference(stats[s], base[s], rounds)])) as Record<Statistic, Difference>),
        });
      }
    }
  }
  return out;
}

/** summarizeCpu() for a report holding the runs of one protocol. */
function cpuOfProtocol(report: LabReportJSON, protocol: Protocol): CpuSummary[] {
  const out: CpuSummary[] = [];
  for (const size of report.settings.sizes) {
    for (const t of report.topologies) {
      const runs = runsOf(t, size);
      if (runs.length === 0) continue;
      const reflectors = runs.map((r) => r.reflector).filter((r) => r !== null);
      out.push({
        topology: t.name,
        protocol,
        size,
        sender: spread(runs.map((r) => r.sender.cpu.utilization)),
        reflector: reflectors.length > 0 ? spread(reflectors.map((r) => r.cpu.utilization)) : null,
        sent: runs.reduce((n, r) => n + r.sender.sent, 0),
        lost: runs.reduce((n, r) => n + r.sender.lost, 0),
      });
    }
  }
  return out;
}
