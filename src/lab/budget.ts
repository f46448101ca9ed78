/**
 * What a per-hop latency adds up to over many calls.
 *
 * A hop's distribution is its histogram read as piecewise uniform: each
 * bucket's probability spread evenly from its lowest to its highest
 * equivalent value, clamped to the recorded min and max (so a constant
 * delay, or any value in a 1 ns bucket, stays exact).
 *
 * - A chain of N sequential calls costs the sum of N independent per-hop
 *   samples. Its distribution is estimated by seeded resampling: R
 *   replicates of the sum, each hop drawn by inverse-CDF sampling from one
 *   fixed pseudo-random stream. Every input uses the same stream, so two
 *   inputs are compared on the same draws (common random numbers) and their
 *   difference is far steadier than either figure alone. Each percentile
 *   comes with a distribution-free confidence interval from the order
 *   statistics of the R sums; the mean is exact (N × the recorded mean).
 * - A fan-out of K parallel calls waits for the slowest: the max of K
 *   samples has CDF F(x)^K, so its p-quantile is the per-hop quantile at
 *   p^(1/K), computed exactly from the histogram, no sampling.
 *
 * Both resample the measured distribution: nothing slower than the slowest
 * measured hop can appear. A figure is flagged `undersampled` when it
 * depends on per-hop events rarer than one in the number of samples
 * measured (for a chain's p-quantile, roughly (1 - p) / N per hop).
 */
import { highestEquivalent, indexOf, type Histogram } from '../histogram';

/** One hop's latency distribution, pooled from one or more histograms of the same metric. */
export class HopDistribution {
  /** Samples it was built from. */
  readonly count: number;
  readonly min: number;
  readonly max: number;
  /** The recorded mean (exact), ns. */
  readonly mean: number;
  readonly #lo: Float64Array;
  readonly #hi: Float64Array;
  /** Cumulative probability at the end of each bucket; the last is exactly 1. */
  readonly #cum: Float64Array;
  /** For u in [j/G, (j+1)/G): the first bucket whose cumulative probability reaches j/G. */
  readonly #guide: Int32Array;

  constructor(histograms: readonly Histogram[]) {
    const counts = new Map<number, number>();
    let count = 0;
    let sum = 0;
    for (const h of histograms) {
      if (h.count === 0) continue;
      for (const [low, n] of h.buckets()) counts.set(low, (counts.get(low) ?? 0) + n);
      count += h.count;
      sum += h.mean * h.count;
    }
    if (count === 0) throw new RangeError('a hop distribution needs at least one sample');
    const present = histograms.filter((h) => h.count > 0);
    this.count = count;
    this.min = Math.min(...present.map((h) => h.min));
    this.max = Math.max(...present.map((h) => h.max));
    this.mean = sum / count;
    const buckets = [...counts.entries()].sort((a, b) => a[0] - b[0]);
    const n = buckets.length;
    this.#lo = new Float64Array(n);
    this.#hi = new Float64Array(n);
    this.#cum = new Float64Array(n);
    let seen = 0;
    buckets.forEach(([low, c], i) => {
      this.#lo[i] = Math.min(Math.max(low, this.min), this.max);
      this.#hi[i] = Math.max(Math.min(highestEquivalent(indexOf(low)), this.max), this.#lo[i]!);
      seen += c;
      this.#cum[i] = seen / count;
    });
    this.#cum[n - 1] = 1;
    const g = 4 * n;
    this.#guide = new Int32Array(g);
    for (let j = 0, i = 0; j < g; j++) {
      while (this.#cum[i]! < j / g) i++;
      this.#guide[j] = i;
    }
  }

  /** The value below which a fraction q (0..1) of hops fall, interpolated within its bucket. */
  quantile(q: number): number {
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    let i = this.#guide[Math.floor(q * this.#guide.length)]!;
    while (this.#cum[i]! < q) i++;
    const before = i === 0 ? 0 : this.#cum[i - 1]!;
    const share = (q - before) / (this.#cum[i]! - before);
    return this.#lo[i]! + (this.#hi[i]! - this.#lo[i]!) * share;
  }
}

/** xoshiro128** seeded through splitmix32: a small, fast, reproducible uniform generator. */
export class SeededRandom {
  readonly #s = new Uint32Array(4);

  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** A uniform draw in (0, 1), never exactly 0 or 1. */
  next(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return (result + 0.5) / 2 ** 32;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * The standard normal quantile (Acklam's rational approximation, relative
 * error below 1.2e-9), for the confidence intervals' width.
 */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

export interface Estimate {
  /** ns */
  value: number;
  /** Confidence interval of a sampled figure (equal to value when exact), ns. */
  low: number;
  high: number;
  undersampled: boolean;
}

export interface ChainFigure {
  /** Sequential calls in the chain (N). */
  calls: number;
  /** Exact: N × the recorded per-hop mean, ns. */
  mean: number;
  percentiles: Record<string, Estimate>;
  /** The naive guess N × per-hop p50, ns. */
  naive: number;
}

export interface FanoutFigure {
  /** Parallel calls waited for (K). */
  calls: number;
  percentiles: Record<string, Estimate>;
}

export interface BudgetSettings {
  chain: readonly number[];
  fanout: readonly number[];
  percentiles: readonly number[];
  /** Resampled sums per chain length. */
  replicates: number;
  seed: number;
  /** Confidence level of the intervals, e.g. 0.95. */
  confidence: number;
}

export const DEFAULT_CALLS = [1, 10, 250, 1500] as const;
export const DEFAULT_BUDGET_PERCENTILES = [50, 90, 99, 99.9] as const;

export const DEFAULT_BUDGET_SETTINGS: BudgetSettings = {
  chain: DEFAULT_CALLS,
  fanout: DEFAULT_CALLS,
  percentiles: DEFAULT_BUDGET_PERCENTILES,
  replicates: 10_000,
  seed: 1,
  confidence: 0.95,
};

/** Chains longer than this are refused: R × N draws must stay bounded in time. */
export const MAX_CHAIN = 100_000;
export const MAX_DRAWS = 200_000_000;

function undersampledAt(d: HopDistribution, perHopTail: number): boolean {
  return perHopTail * d.count < 1;
}

/** The sum of N per-hop samples for each N, by seeded resampling. */
export function chain(d: HopDistribution, s: BudgetSettings): ChainFigure[] {
  const lengths = [...new Set(s.chain)].sort((a, b) => a - b);
  const longest = lengths.at(-1) ?? 0;
  const R = s.replicates;
  const sums = lengths.map(() => new Float64Array(R));
  const random = new SeededRandom(s.seed);
  for (let r = 0; r < R; r++) {
    let total = 0;
    let next = 0;
    for (let n = 1; n <= longest; n++) {
      total += d.quantile(random.next());
      while (lengths[next] === n) sums[next++]![r] = total;
    }
  }
  for (const a of sums) a.sort();
  const z = normalQuantile(1 - (1 - s.confidence) / 2);
  const p50 = d.quantile(0.5);
  return s.chain.map((calls) => {
    const sorted = sums[lengths.indexOf(calls)]!;
    const percentiles: Record<string, Estimate> = {};
    for (const p of s.percentiles) {
      const q = p / 100;
      const half = z * Math.sqrt(R * q * (1 - q));
      const at = (rank: number) => sorted[Math.min(R, Math.max(1, rank)) - 1]!;
      percentiles[String(p)] = {
        value: at(Math.ceil(q * R)),
        low: at(Math.floor(q * R - half)),
        high: at(Math.ceil(q * R + half)),
        undersampled: undersampledAt(d, (1 - q) / calls),
      };
    }
    return { calls, mean: calls * d.mean, percentiles, naive: calls * p50 };
  });
}

/** The max of K per-hop samples for each K, exact from the histogram: quantile p is the per-hop quantile at p^(1/K). */
export function fanout(d: HopDistribution, s: Pick<BudgetSettings, 'fanout' | 'percentiles'>): FanoutFigure[] {
  return s.fanout.map((calls) => {
    const percentiles: Record<string, Estimate> = {};
    for (const p of s.percentiles) {
      const perHop = (p / 100) ** (1 / calls);
      const value = d.quantile(perHop);
      percentiles[String(p)] = { value, low: value, high: value, undersampled: undersampledAt(d, 1 - perHop) };
    }
    return { calls, percentiles };
  });
}

export interface BudgetInput {
  label: string;
  distribution: HopDistribution;
}

export interface BudgetEntry {
  label: string;
  samples: number;
  perHop: { p50: number; p99: number; mean: number };
  chain: ChainFigure[];
  fanout: FanoutFigure[];
}

/** What choosing one input over another costs a chain of N calls. */
export interface PairCost {
  /** The input chosen (slower per hop at p50). */
  choose: string;
  /** The input it replaces. */
  over: string;
  calls: number;
  /** Differences of the chain's percentiles, ns (same draws for both: common random numbers). */
  p50: number;
  p99: number;
  /** The naive N × (per-hop p50 difference), ns. */
  naive: number;
}

export interface BudgetReport {
  method: {
    chain: string;
    fanout: string;
    replicates: number;
    seed: number;
    confidence: number;
  };
  settings: BudgetSettings;
  entries: BudgetEntry[];
  costs: PairCost[];
}

export const CHAIN_METHOD =
  'sum of N per-hop samples by seeded resampling (inverse-CDF draws from the piecewise-uniform histogram, the same draws for every input); ' +
  'percentiles carry distribution-free confidence intervals from the order statistics; the mean is exact';
export const FANOUT_METHOD = 'max of K per-hop samples, exact: the p-quantile is the per-hop quantile at p^(1/K)';

/** Chain and fan-out figures for every input, and the pairwise costs for every chain length. */
export function budget(inputs: readonly BudgetInput[], settings: BudgetSettings = DEFAULT_BUDGET_SETTINGS): BudgetReport {
  const percentiles = [...new Set([...settings.percentiles, 50, 99])].sort((a, b) => a - b);
  const s = { ...settings, percentiles };
  const entries = inputs.map(({ label, distribution: d }) => ({
    label,
    samples: d.count,
    perHop: { p50: d.quantile(0.5), p99: d.quantile(0.99), mean: d.mean },
    chain: chain(d, s),
    fanout: fanout(d, s),
  }));
  const costs: PairCost[] = [];
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const [slow, fast] = entries[i]!.perHop.p50 >= entries[j]!.perHop.p50 ? [entries[i]!, entries[j]!] : [entries[j]!, entries[i]!];
      slow.chain.forEach((c, k) => {
        const f = fast.chain[k]!;
        costs.push({
          choose: slow.label,
          over: fast.label,
          calls: c.calls,
          p50: c.percentiles['50']!.value - f.percentiles['50']!.value,
          p99: c.percentiles['99']!.value - f.percentiles['99']!.value,
          naive: c.calls * (slow.perHop.p50 - fast.perHop.p50),
        });
      });
    }
  }
  return {
    method: { chain: CHAIN_METHOD, fanout: FANOUT_METHOD, replicates: s.replicates, seed: s.seed, confidence: s.confidence },
    settings: s,
    entries,
    costs,
  };
}
