/**
 * The report's plots as data: every figure is computed here, in Node, from
 * the sources' histograms, and the page only draws it. Values are in µs;
 * the x values of one plot are shared by its series (uPlot's aligned data),
 * a series holding null where it has no value.
 */
import { Histogram, highestEquivalent, indexOf, type HistogramJSON } from '../histogram';
import { DEFAULT_BUDGET_PERCENTILES, type BudgetReport } from '../lab/budget';
import { summarize } from '../lab/summary';
import { METRIC_NAMES, type MetricName } from '../metrics';
import type { ReportSource } from './inputs';

export type SeriesStyle = 'line' | 'step' | 'bars' | 'points' | 'bound';

export interface PlotSeries {
  label: string;
  values: Array<number | null>;
  style: SeriesStyle;
  /** Series drawn in one colour share a group (a value and its confidence bounds). */
  group: number;
}

export interface Plot {
  title: string;
  x: {
    label: string;
    log: boolean;
    values: number[];
    /** Category names, x being their index. */
    names?: string[];
    /** Ticks read as percentiles: x is 1/(1-p). */
    percentiles?: boolean;
  };
  y: { label: string; log: boolean };
  series: PlotSeries[];
  /** Shaded bands between two series, as [upper, lower] indices into `series`. */
  bands: Array<[number, number]>;
}

export interface PlotSection {
  title: string;
  plots: Plot[];
  /** What the section could not show, and why. */
  notes: string[];
}

const US = 1000;
const SPECTRUM_STEPS_PER_DECADE = 20;
const HISTOGRAM_BINS = 60;

/** One distribution to overlay: a probe result's metric, or a lab topology's rounds pooled. */
interface Distribution {
  label: string;
  metric: MetricName;
  histogram: Histogram;
  /** The same input keeps its colour in every plot, whichever metrics the others lack. */
  group: number;
}

/** Several histograms of one metric as one: bucket counts added, min and max widened, mean weighted. */
function pooled(histograms: readonly Histogram[]): Histogram {
  if (histograms.length === 1) return histograms[0]!;
  const counts = new Map<number, number>();
  for (const h of histograms) for (const [low, n] of h.buckets()) counts.set(low, (counts.get(low) ?? 0) + n);
  const count = histograms.reduce((n, h) => n + h.count, 0);
  const mean = histograms.reduce((s, h) => s + h.mean * h.count, 0) / count;
  const json: HistogramJSON = {
    count,
    min: Math.min(...histograms.map((h) => h.min)),
    max: Math.max(...histograms.map((h) => h.max)),
    mean,
    stddev: Math.sqrt(histograms.reduce((s, h) => s + h.count * (h.stddev ** 2 + (h.mean - mean) ** 2), 0) / count),
    percentiles: {},
    buckets: [...counts.entries()].sort((a, b) => a[0] - b[0]),
  };
  return Histogram.fromJSON(json);
}

function distributions(sources: readonly ReportSource[]): Distribution[] {
  const out: Distribution[] = [];
  const labels: string[] = [];
  const add = (label: string, metric: MetricName, histogram: Histogram) => {
    if (!labels.includes(label)) labels.push(label);
    out.push({ label, metric, histogram, group: labels.indexOf(label) });
  };
  const several = sources.length > 1;
  for (const source of sources) {
    if (source.kind === 'probe') {
      for (const metric of METRIC_NAMES) {
        const h = source.result.metrics[metric];
        if (h && h.count > 0) add(source.label, metric, Histogram.fromJSON(h));
      }
    } else if (source.kind === 'lab') {
      const sizes = source.report.settings.sizes;
      for (const t of source.report.topologies) {
        for (const size of sizes) {
          const label = [several ? source.label : null, t.name, sizes.length > 1 ? `${size} B` : null].filter(Boolean).join(' ');
          for (const metric of METRIC_NAMES) {
            const rounds = t.runs.filter((r) => r.size === size).map((r) => r.sender.metrics[metric]);
            const present = rounds.filter((h): h is HistogramJSON => h !== undefined && h.count > 0).map((h) => Histogram.fromJSON(h));
            if (present.length > 0) add(label, metric, pooled(present));
          }
        }
      }
    }
  }
  return out;
}

/** The value at 1/(1-p) = x, µs: p0 is the minimum itself, not its bucket's top. */
function spectrumValue(h: Histogram, x: number): number {
  return (x === 1 ? h.min : h.percentile(100 * (1 - 1 / x))) / US;
}

/** x = 1/(1-p) on a log scale, as HdrHistogram's plotter draws it: the tail gets the room. */
function spectrum(metric: MetricName, ds: readonly Distribution[]): Plot {
  const largest = Math.max(...ds.map((d) => d.histogram.count));
  const steps = Math.max(1, Math.ceil(Math.log10(largest) * SPECTRUM_STEPS_PER_DECADE));
  const xs = Array.from({ length: steps + 1 }, (_, k) => Math.min(largest, 10 ** (k / SPECTRUM_STEPS_PER_DECADE)));
  return {
    title: `${metric}: percentile spectrum`,
    x: { label: 'percentile (x = 1/(1−p))', log: true, values: xs, percentiles: true },
    y: { label: `${metric} (µs, log scale)`, log: true },
    series: ds.map((d) => ({
      label: d.label,
      style: 'line',
      group: d.group,
      values: xs.map((x) => (x <= d.histogram.count ? positive(spectrumValue(d.histogram, x)) : null)),
    })),
    bands: [],
  };
}

/** Every bucket's top as [value, cumulative fraction], clamped to the recorded extremes. */
function cumulative(h: Histogram): Array<[number, number]> {
  let seen = 0;
  return h.buckets().map(([low, n]) => {
    seen += n;
    return [Math.min(Math.max(highestEquivalent(indexOf(low)), h.min), h.max), seen / h.count];
  });
}

function cdf(metric: MetricName, ds: readonly Distribution[]): Plot {
  const steps = ds.map((d) => cumulative(d.histogram));
  const xs = [...new Set(steps.flatMap((s) => s.map(([v]) => v)))].filter((v) => v > 0).sort((a, b) => a - b);
  return {
    title: `${metric}: cumulative distribution`,
    x: { label: `${metric} (µs)`, log: true, values: xs.map((v) => v / US) },
    y: { label: 'fraction of probes at or below', log: false },
    series: steps.map((s, i) => {
      let j = -1;
      return {
        label: ds[i]!.label,
        style: 'step',
        group: ds[i]!.group,
        values: xs.map((x) => {
          while (j + 1 < s.length && s[j + 1]![0] <= x) j++;
          return j < 0 ? 0 : s[j]![1];
        }),
      };
    }),
    bands: [],
  };
}

/** Shares of probes in log-spaced bins common to every series, so that runs of any length overlay. */
function histogram(metric: MetricName, ds: readonly Distribution[]): Plot {
  const lo = Math.max(1, Math.min(...ds.map((d) => d.histogram.min)));
  const hi = Math.max(lo + 1, ...ds.map((d) => d.histogram.max));
  const ratio = (hi / lo) ** (1 / HISTOGRAM_BINS);
  const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, k) => lo * ratio ** k);
  const bin = (v: number) => Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(Math.log(Math.max(v, lo) / lo) / Math.log(ratio))));
  return {
    title: `${metric}: histogram`,
    x: { label: `${metric} (µs, log-spaced bins)`, log: true, values: edges.slice(0, -1).map((e) => e / US) },
    y: { label: 'share of probes', log: false },
    series: ds.map((d) => {
      const shares = new Array<number>(HISTOGRAM_BINS).fill(0);
      for (const [low, n] of d.histogram.buckets()) {
        const mid = (Math.max(low, d.histogram.min) + Math.min(highestEquivalent(indexOf(low)), d.histogram.max)) / 2;
        shares[bin(mid)] += n / d.histogram.count;
      }
      return { label: d.label, style: 'step', group: d.group, values: shares };
    }),
    bands: [],
  };
}

function distributionSection(sources: readonly ReportSource[]): PlotSection[] {
  const ds = distributions(sources);
  const metrics = METRIC_NAMES.filter((m) => ds.some((d) => d.metric === m));
  const of = (m: MetricName) => ds.filter((d) => d.metric === m);
  return [
    { title: 'Percentile spectrum', plots: metrics.map((m) => spectrum(m, of(m))), notes: [] },
    { title: 'Cumulative distribution', plots: metrics.map((m) => cdf(m, of(m))), notes: [] },
    { title: 'Histograms', plots: metrics.map((m) => histogram(m, of(m))), notes: [] },
  ].filter((s) => s.plots.length > 0);
}

/** A value per x, null where a series has none; xs from every series, in order. */
function aligned(points: ReadonlyArray<ReadonlyArray<[number, number]>>): { xs: number[]; values: Array<Array<number | null>> } {
  const xs = [...new Set(points.flatMap((p) => p.map(([x]) => x)))].sort((a, b) => a - b);
  return { xs, values: points.map((p) => xs.map((x) => p.find(([px]) => px === x)?.[1] ?? null)) };
}

/** The running percentiles a progress snapshot carries, and the same read from a whole-run histogram. */
const TIMELINE_PERCENTILES = [
  ['p50', (h: Histogram) => h.percentile(50)],
  ['p99', (h: Histogram) => h.percentile(99)],
  ['max', (h: Histogram) => h.max],
] as const;

const EMPTY: HistogramJSON = { count: 0, min: 0, max: 0, mean: 0, stddev: 0, percentiles: {}, buckets: [] };

function overTime(sources: readonly ReportSource[]): PlotSection {
  const plots: Plot[] = [];
  const notes: string[] = [];
  for (const source of sources) {
    if (source.kind === 'probe') {
      const snapshots = (source.timeline ?? []).filter((p) => p.metrics['rtt.user'] !== undefined);
      if (snapshots.length === 0) {
        notes.push(
          `${source.label}: no time data. A saved probe result holds whole-run histograms only; ` +
            '`rtt-probe probe --html` records the run\'s progress snapshots and draws them.',
        );
        continue;
      }
      // The run's end, from its whole-run histogram: the last snapshot can be most of an interval before it.
      const whole = Histogram.fromJSON(source.result.metrics['rtt.user'] ?? EMPTY);
      const endS = (Date.parse(source.result.endedAt) - Date.parse(source.result.startedAt)) / 1000;
      const last = whole.count > 0 && endS > snapshots.at(-1)!.elapsedNs / 1e9;
      const xs = [...snapshots.map((p) => p.elapsedNs / 1e9), ...(last ? [endS] : [])];
      plots.push({
        title: `${source.label}: rtt.user over time (running percentiles since the start)`,
        x: { label: 'seconds since the start', log: false, values: xs },
        // Log scale: on a linear one, a single stall flattens p50 and p99 into one line along the bottom.
        y: { label: 'rtt.user (µs, log scale)', log: true },
        series: TIMELINE_PERCENTILES.map(([key, percentile], i) => ({
          label: key,
          style: 'line',
          group: i,
          values: [...snapshots.map((p) => p.metrics['rtt.user']![key]), ...(last ? [percentile(whole)] : [])].map((ns) => (ns > 0 ? ns / US : null)),
        })),
        bands: [],
      });
    } else if (source.kind === 'lab') {
      const start = Date.parse(source.report.startedAt);
      const size = source.report.settings.sizes[0]!;
      const measured = source.report.topologies.filter((t) => t.runs.some((r) => r.size === size && r.sender.metrics['rtt.user']));
      if (measured.length === 0) {
        notes.push(`${source.label}: no measured runs at ${size} B, so nothing over time.`);
        continue;
      }
      const { xs, values } = aligned(
        measured.map((t) =>
          t.runs
            .filter((r) => r.size === size && r.sender.metrics['rtt.user'])
            .map((r): [number, number] => [(Date.parse(r.sender.startedAt) - start) / 1000, Histogram.fromJSON(r.sender.metrics['rtt.user']!).percentile(50) / US]),
        ),
      );
      plots.push({
        title: `${source.label}: rtt.user p50 of each run at ${size} B, by when it started`,
        x: { label: 'seconds since the lab started', log: false, values: xs },
        y: { label: 'rtt.user p50 (µs)', log: false },
        series: measured.map((t, i) => ({ label: t.name, style: 'points', group: i, values: values[i]! })),
        bands: [],
      });
    }
  }
  return { title: 'Latency over time', plots, notes };
}

const LAB_STATISTICS = ['p50', 'p99'] as const;

function topologies(sources: readonly ReportSource[]): PlotSection {
  const plots: Plot[] = [];
  for (const source of sources) {
    if (source.kind !== 'lab') continue;
    const summaries = summarize(source.report, ['rtt.user']);
    for (const size of source.report.settings.sizes) {
      const rows = summaries.filter((s) => s.size === size);
      if (rows.length === 0) continue;
      const names = rows.map((r) => r.topology);
      const rounds = Math.max(...rows.map((r) => r.rounds));
      for (const statistic of LAB_STATISTICS) {
        const spreads = rows.map((r) => r.statistics[statistic]);
        plots.push({
          title: `${source.label}: rtt.user ${statistic} per topology at ${size} B, median of ${rounds} round${rounds === 1 ? '' : 's'} with their range`,
          x: { label: 'topology', log: false, values: names.map((_, i) => i), names },
          y: { label: `rtt.user ${statistic} (µs)`, log: false },
          series: [
            { label: `${statistic} median`, style: 'bars', group: 0, values: spreads.map((s) => s.median / US) },
            { label: 'rounds\' highest', style: 'points', group: 1, values: spreads.map((s) => s.max / US) },
            { label: 'rounds\' lowest', style: 'points', group: 2, values: spreads.map((s) => s.min / US) },
          ],
          bands: [],
        });
      }
    }
  }
  return { title: 'Lab topologies', plots, notes: [] };
}

function budgetPlots(title: string, report: BudgetReport): Plot[] {
  const lengths = [...new Set(report.settings.chain)].sort((a, b) => a - b);
  const wanted = DEFAULT_BUDGET_PERCENTILES.filter((p) => p === 50 || p === 99).map(String);
  return wanted
    .filter((p) => report.entries.some((e) => e.chain.some((c) => c.percentiles[p])))
    .map((p) => {
      const series: PlotSeries[] = [];
      const bands: Array<[number, number]> = [];
      const level = `${Math.round(report.method.confidence * 100)}%`;
      report.entries.forEach((entry, group) => {
        const at = (calls: number) => entry.chain.find((c) => c.calls === calls)?.percentiles[p];
        const base = series.length;
        series.push(
          { label: entry.label, style: 'line', group, values: lengths.map((n) => (at(n)?.value ?? NaN) / US).map(orNull) },
          { label: `${entry.label} ${level} high`, style: 'bound', group, values: lengths.map((n) => (at(n)?.high ?? NaN) / US).map(orNull) },
          { label: `${entry.label} ${level} low`, style: 'bound', group, values: lengths.map((n) => (at(n)?.low ?? NaN) / US).map(orNull) },
        );
        bands.push([base + 1, base + 2]);
      });
      return {
        title: `${title}: chain of N calls, p${p} with its confidence band`,
        x: { label: 'chain length N (sequential calls)', log: true, values: lengths },
        y: { label: `p${p} of the chain (µs, log scale)`, log: true },
        series,
        bands,
      };
    });
}

function orNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** A value a log scale can place: zero (a one-way delay between two clocks can be) has no place on it. */
function positive(v: number): number | null {
  return v > 0 ? v : null;
}

function budgets(sources: readonly ReportSource[]): PlotSection {
  const plots: Plot[] = [];
  const notes: string[] = [];
  for (const source of sources) {
    if (source.kind === 'budget') plots.push(...budgetPlots(`${source.label} (${source.metric})`, source.budget));
    else if (source.kind === 'lab') {
      if (source.budget) plots.push(...budgetPlots(`${source.label} (rtt.user at ${source.report.settings.sizes[0]} B)`, source.budget));
      else notes.push(`${source.label}: the lab report has no budget (no topology was measured, or it was saved without one).`);
    }
  }
  return { title: 'Budget curves', plots, notes };
}

/** Every section the sources can fill, in the order the page shows them. */
export function reportPlots(sources: readonly ReportSource[]): PlotSection[] {
  return [...distributionSection(sources), overTime(sources), topologies(sources), budgets(sources)].filter(
    (s) => s.plots.length > 0 || s.notes.length > 0,
  );
}
