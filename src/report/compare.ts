/**
 * Compare two runs of a kind (two probe results, or two lab reports per
 * topology, size and metric): every statistic in BASE and NEW, the
 * difference, and its confidence interval by a seeded bootstrap of the
 * stored histograms, and for lab reports the repeat rounds' spread.
 *
 * The bootstrap draws each resampled percentile directly: the k-th smallest
 * of n draws from a distribution is its inverse CDF at U(k), and U(k) is
 * Beta(k, n-k+1) distributed. That is exact for resampling n values from
 * the histogram, and costs one Beta draw per statistic and resample instead
 * of n draws.
 */
import { readFileSync } from 'node:fs';
import { highestEquivalent, indexOf, type Histogram } from '../histogram';
import type { MetricName } from '../metrics';
import { ProbeResult, type KeptProbeResultJSON } from '../result';
import { checkResult } from '../schema';
import { SeededRandom, normalQuantile } from '../lab/budget';
import { InputError } from '../lab/budget-input';
import { hopLabel, onProtocol, reportProtocols, type LabReportJSON } from '../lab/report';
import { roundHistograms, spread, type Spread } from '../lab/summary';
import { STATISTICS, change, relativeOutcome, statisticOf, type RelativeRule, type StatisticName } from './rules';

export const COMPARE_KIND = 'rtt-probe-compare';

export const DEFAULT_COMPARE_SETTINGS = { resamples: 2000, seed: 1, confidence: 0.95 } as const;

export interface CompareSettings {
  resamples: number;
  seed: number;
}

/** One run to compare, as read from its file. */
export type CompareInput = { kind: 'probe'; file: string; result: ProbeResult } | { kind: 'lab'; file: string; report: LabReportJSON };

/** A statistic's values across a lab report's repeat rounds, and whether BASE's and NEW's ranges are apart. */
export interface RoundsSpread {
  base: Spread;
  new: Spread;
  /** True when the ranges do not overlap, false when they do, null when either side has one round. */
  distinct: boolean | null;
}

export interface StatisticComparison {
  statistic: StatisticName;
  /** BASE's and NEW's values, and NEW minus BASE, in ns. */
  base: number;
  new: number;
  difference: number;
  /** The difference as a percentage of BASE. */
  percent: number;
  /** The difference's confidence interval, ns. */
  ci: [number, number];
  /** The interval excludes zero: the difference is larger than the runs' own sampling spread. */
  significant: boolean;
  /** Lab reports only. */
  rounds?: RoundsSpread;
}

export interface Comparison {
  /** The lab topology and payload size; null for probe results. */
  topology: string | null;
  size: number | null;
  metric: MetricName;
  /** Samples on each side (every round pooled in a lab report). */
  counts: { base: number; new: number };
  statistics: StatisticComparison[];
}

export interface RuleOutcome {
  rule: string;
  metric: MetricName;
  statistic: StatisticName;
  topology: string | null;
  size: number | null;
  difference: number;
  percent: number;
  /** The rule's condition holds on the measured change. */
  holds: boolean;
  significant: boolean;
  /** It holds, and (with --significant) the interval excludes zero. */
  tripped: boolean;
}

/** Probes of several histograms pooled into one, for inverse-CDF reads by rank. */
class Pooled {
  readonly count: number;
  readonly #min: number;
  readonly #max: number;
  readonly #values: number[];
  readonly #cumulative: number[];

  constructor(histograms: readonly Histogram[]) {
    this.#min = Math.min(...histograms.map((h) => h.min));
    this.#max = Math.max(...histograms.map((h) => h.max));
    const byIndex = new Map<number, number>();
    for (const h of histograms) {
      for (const [value, count] of h.buckets()) byIndex.set(indexOf(value), (byIndex.get(indexOf(value)) ?? 0) + count);
    }
    const indices = [...byIndex.keys()].sort((a, b) => a - b);
    // The value a bucket stands for, as Histogram.percentile reports it.
    this.#values = indices.map((i) => Math.min(Math.max(highestEquivalent(i), this.#min), this.#max));
    let total = 0;
    this.#cumulative = indices.map((i) => (total += byIndex.get(i)!));
    this.count = total;
  }

  /** The value of the sample of this rank (1..count), nearest-rank as Histogram.percentile. */
  atRank(rank: number): number {
    if (rank <= 1) return this.#min;
    if (rank >= this.count) return this.#max;
    let lo = 0;
    let hi = this.#cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#cumulative[mid]! >= rank) hi = mid;
      else lo = mid + 1;
    }
    return this.#values[lo]!;
  }

  rankOf(stat: StatisticName): number {
    if (stat === 'min') return 1;
    if (stat === 'max') return this.count;
    return Math.max(1, Math.ceil((Number(stat.slice(1)) / 100) * this.count));
  }

  statistic(stat: StatisticName): number {
    return this.atRank(this.rankOf(stat));
  }
}

/** Gamma(shape >= 1) by Marsaglia and Tsang's method. */
function gamma(random: SeededRandom, shape: number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normalQuantile(random.next());
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    if (Math.log(random.next()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** The statistic of one bootstrap resample of `pooled`: the rank-k sample of n draws. */
function resampled(random: SeededRandom, pooled: Pooled, rank: number): number {
  const n = pooled.count;
  const x = gamma(random, rank);
  const u = x / (x + gamma(random, n - rank + 1));
  return pooled.atRank(Math.max(1, Math.ceil(u * n)));
}

function quantile(sorted: Float64Array, q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  return sorted[lo]! + (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!) * (at - lo);
}

function interval(random: SeededRandom, base: Pooled, next: Pooled, stat: StatisticName, resamples: number): [number, number] {
  const differences = new Float64Array(resamples);
  const [rb, rn] = [base.rankOf(stat), next.rankOf(stat)];
  for (let i = 0; i < resamples; i++) differences[i] = resampled(random, next, rn) - resampled(random, base, rb);
  differences.sort();
  const tail = (1 - DEFAULT_COMPARE_SETTINGS.confidence) / 2;
  return [quantile(differences, tail), quantile(differences, 1 - tail)];
}

function roundsSpread(base: readonly Histogram[], next: readonly Histogram[], stat: StatisticName): RoundsSpread {
  const b = spread(base.map((h) => statisticOf(h, stat)));
  const n = spread(next.map((h) => statisticOf(h, stat)));
  return { base: b, new: n, distinct: base.length < 2 || next.length < 2 ? null : n.min > b.max || n.max < b.min };
}

function compareHistograms(
  base: readonly Histogram[],
  next: readonly Histogram[],
  where: Pick<Comparison, 'topology' | 'size' | 'metric'>,
  random: SeededRandom,
  settings: CompareSettings,
  rounds: boolean,
): Comparison {
  const [b, n] = [new Pooled(base), new Pooled(next)];
  const statistics = STATISTICS.map((stat): StatisticComparison => {
    const [bv, nv] = [b.statistic(stat), n.statistic(stat)];
    const ci = interval(random, b, n, stat, settings.resamples);
    return {
      statistic: stat,
      base: bv,
      new: nv,
      ...change(bv, nv),
      ci,
      significant: ci[0] > 0 || ci[1] < 0,
      ...(rounds ? { rounds: roundsSpread(base, next, stat) } : {}),
    };
  });
  return { ...where, counts: { base: b.count, new: n.count }, statistics };
}

const WHAT = 'give a file written by `rtt-probe probe --json` or `rtt-probe lab --json` (or --out)';

/** Reads one side of a comparison; `role` (BASE or NEW) names it in errors. */
export function loadCompareInput(file: string, role: string): CompareInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(`${role} ${file}: cannot read it (${(error as { code?: string }).code ?? 'error'}): ${WHAT}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InputError(`${role} ${file} is not JSON: ${WHAT}`);
  }
  if (checkResult(json, ['probe', 'lab'], `${role} ${file}`) === 'lab') return { kind: 'lab', file, report: json as LabReportJSON };
  return { kind: 'probe', file, result: ProbeResult.fromJSON(json as KeptProbeResultJSON, `${role} ${file}`) };
}

const KIND_NAMES = { probe: 'a probe result', lab: 'a lab report' } as const;

function probeHistogram(input: Extract<CompareInput, { kind: 'probe' }>, role: string, metric: MetricName): Histogram {
  const h = input.result.metrics[metric];
  if (h && h.count > 0) return h;
  const has = Object.keys(input.result.metrics).join(', ') || 'none';
  throw new InputError(`${role} ${input.file} has no ${metric} samples (it has: ${has}): choose one both have with --metric`);
}

function labComparisons(
  base: LabReportJSON,
  next: LabReportJSON,
  files: [string, string],
  metric: MetricName,
  random: SeededRandom,
  settings: CompareSettings,
): Comparison[] {
  const out: Comparison[] = [];
  for (const protocol of reportProtocols(base).filter((p) => reportProtocols(next).includes(p))) {
    const [baseRuns, nextRuns] = [onProtocol(base, protocol), onProtocol(next, protocol)];
    for (const size of base.settings.sizes.filter((s) => next.settings.sizes.includes(s))) {
      for (const t of baseRuns.topologies) {
        const other = nextRuns.topologies.find((o) => o.name === t.name);
        if (!other) continue;
        const [b, n] = [roundHistograms(t, size, metric), roundHistograms(other, size, metric)];
        const topology = hopLabel(t.name, protocol);
        if (b.length > 0 && n.length > 0) out.push(compareHistograms(b, n, { topology, size, metric }, random, settings, true));
      }
    }
  }
  if (out.length === 0) {
    throw new InputError(
      `BASE ${files[0]} and NEW ${files[1]} have no topology and size measured in both with ${metric} samples: ` +
        'compare reports of the same topologies and sizes, or choose another --metric',
    );
  }
  return out;
}

/** Every comparison of BASE and NEW for each metric: one for probe results, one per topology and size for lab reports. */
export function compareRuns(base: CompareInput, next: CompareInput, metrics: readonly MetricName[], settings: CompareSettings): Comparison[] {
  if (base.kind !== next.kind) {
    throw new InputError(`BASE ${base.file} is ${KIND_NAMES[base.kind]} and NEW ${next.file} ${KIND_NAMES[next.kind]}: compare two of a kind`);
  }
  const random = new SeededRandom(settings.seed);
  return metrics.flatMap((metric) => {
    if (base.kind === 'lab' && next.kind === 'lab') return labComparisons(base.report, next.report, [base.file, next.file], metric, random, settings);
    if (base.kind !== 'probe' || next.kind !== 'probe') return [];
    const [b, n] = [probeHistogram(base, 'BASE', metric), probeHistogram(next, 'NEW', metric)];
    return [compareHistograms([b], [n], { topology: null, size: null, metric }, random, settings, false)];
  });
}

/**
 * Each relative rule on every comparison of its metric (`metric` for rules
 * that name none). `significantOnly`: a rule trips only where the interval
 * excludes zero too.
 */
export function checkRules(rules: readonly RelativeRule[], comparisons: readonly Comparison[], metric: MetricName, significantOnly: boolean): RuleOutcome[] {
  return rules.flatMap((rule) =>
    comparisons
      .filter((c) => c.metric === (rule.metric ?? metric))
      .map((c) => {
        const s = c.statistics.find((x) => x.statistic === rule.statistic)!;
        const outcome = relativeOutcome(rule, s.base, s.new);
        return {
          rule: rule.text,
          metric: c.metric,
          statistic: rule.statistic,
          topology: c.topology,
          size: c.size,
          difference: outcome.difference,
          percent: outcome.percent,
          holds: outcome.holds,
          significant: s.significant,
          tripped: outcome.holds && (!significantOnly || s.significant),
        };
      }),
  );
}
