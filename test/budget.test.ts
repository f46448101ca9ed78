/**
 * Budget math against closed forms: a constant per-hop delay sums exactly;
 * sums of uniforms follow Irwin–Hall and sums of exponentials Erlang; the
 * max of K iid samples has CDF F(x)^K. Histograms are built with each
 * bucket's exact probability (no sampling noise), so what is left is the
 * method's own error: the stated confidence interval for resampled chains,
 * bucket resolution for the exact fan-out.
 */
import { describe, expect, it } from 'vitest';
import { Histogram, indexOf, lowestEquivalent, highestEquivalent } from '../src/histogram';
import {
  DEFAULT_BUDGET_SETTINGS,
  HopDistribution,
  SeededRandom,
  budget,
  chain,
  fanout,
  normalQuantile,
  type BudgetSettings,
} from '../src/lab/budget';

/** A histogram whose bucket counts are TOTAL × the exact probability of each bucket under `cdf` on [lo, hi]. */
function exactHistogram(cdf: (x: number) => number, lo: number, hi: number, mean: number, total = 1e9): Histogram {
  const buckets: Array<[number, number]> = [];
  for (let i = indexOf(lo); i <= indexOf(hi); i++) {
    const from = Math.max(lowestEquivalent(i), lo);
    const to = Math.min(highestEquivalent(i) + 1, hi);
    const n = Math.round(total * (cdf(to) - cdf(from)));
    if (n > 0) buckets.push([lowestEquivalent(i), n]);
  }
  const count = buckets.reduce((s, [, n]) => s + n, 0);
  return Histogram.fromJSON({ count, min: lo, max: hi, mean, stddev: 0, percentiles: {}, buckets });
}

function constant(ns: number, count = 1000): HopDistribution {
  return new HopDistribution([
    Histogram.fromJSON({ count, min: ns, max: ns, mean: ns, stddev: 0, percentiles: {}, buckets: [[lowestEquivalent(indexOf(ns)), count]] }),
  ]);
}

const A = 1_000_000;
const W = 1_000_000;
/** Uniform on [A, A + W] ns. */
const uniform = () => new HopDistribution([exactHistogram((x) => Math.min(1, Math.max(0, (x - A) / W)), A, A + W, A + W / 2)]);

const THETA = 10_000;
/** Exponential with mean THETA ns, cut at 40 means (the mass beyond, e^-40, is below any count here). */
const exponential = () => new HopDistribution([exactHistogram((x) => 1 - Math.exp(-x / THETA), 0, 40 * THETA, THETA)]);

/** Solves cdf(x) = p for increasing cdf on [lo, hi] by bisection. */
function invert(cdf: (x: number) => number, p: number, lo: number, hi: number): number {
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

/** Irwin–Hall CDF: the sum of n U(0,1). */
function irwinHall(n: number, x: number): number {
  let s = 0;
  for (let k = 0; k <= Math.floor(x); k++) s += (-1) ** k * (factorial(n) / (factorial(k) * factorial(n - k))) * (x - k) ** n;
  return s / factorial(n);
}

/** Erlang CDF: the sum of n exponentials of mean theta. */
function erlang(n: number, theta: number, x: number): number {
  let term = 1;
  let s = 0;
  for (let k = 0; k < n; k++) {
    s += term;
    term *= x / theta / (k + 1);
  }
  return 1 - Math.exp(-x / theta) * s;
}

/** Settings with a 99.9% interval: a fixed seed makes each check deterministic, and a miss would be a one-in-a-thousand draw. */
const settings = (over: Partial<BudgetSettings> = {}): BudgetSettings => ({
  ...DEFAULT_BUDGET_SETTINGS,
  replicates: 20_000,
  confidence: 0.999,
  ...over,
});

describe('a chain of N calls: the sum of N per-hop samples', () => {
  it('a constant per-hop delay sums exactly, at every percentile, with no interval', () => {
    const figures = chain(constant(12_345), settings({ chain: [1, 10, 250, 1500] }));
    expect(figures.map((f) => f.calls)).toEqual([1, 10, 250, 1500]);
    for (const f of figures) {
      expect(Object.keys(f.percentiles)).toEqual(DEFAULT_BUDGET_SETTINGS.percentiles.map(String));
      expect(f.mean).toBe(f.calls * 12_345);
      for (const e of Object.values(f.percentiles)) expect(e).toMatchObject({ value: f.calls * 12_345, low: f.calls * 12_345, high: f.calls * 12_345 });
    }
  });

  it.each([2, 10])('the sum of %i uniforms has the Irwin–Hall quantiles, inside the stated interval', (n) => {
    const [f] = chain(uniform(), settings({ chain: [n] }));
    for (const p of [50, 90, 99]) {
      const exact = n * A + W * invert((x) => irwinHall(n, x), p / 100, 0, n);
      const e = f!.percentiles[String(p)]!;
      expect(e.low).toBeLessThanOrEqual(exact);
      expect(e.high).toBeGreaterThanOrEqual(exact);
      expect(Math.abs(e.value - exact) / exact).toBeLessThan(0.002);
    }
    expect(f!.mean).toBeCloseTo(n * (A + W / 2), 6);
  });

  it.each([10, 250])('the sum of %i exponentials has the Erlang quantiles, inside the stated interval', (n) => {
    const [f] = chain(exponential(), settings({ chain: [n] }));
    for (const p of [50, 90, 99]) {
      const exact = invert((x) => erlang(n, THETA, x), p / 100, 0, 100 * n * THETA);
      const e = f!.percentiles[String(p)]!;
      expect(e.low).toBeLessThanOrEqual(exact);
      expect(e.high).toBeGreaterThanOrEqual(exact);
      expect(Math.abs(e.value - exact) / exact).toBeLessThan(0.01);
    }
  });

  it('the mean is exact: N × the recorded mean', () => {
    const [f] = chain(exponential(), settings({ chain: [1500] }));
    expect(f!.mean).toBe(1500 * THETA);
  });

  it('intervals narrow as replicates grow', () => {
    const width = (replicates: number) => {
      const e = chain(uniform(), settings({ chain: [10], replicates }))[0]!.percentiles['99']!;
      return e.high - e.low;
    };
    expect(width(40_000)).toBeLessThan(width(2_500));
  });

  it('a fixed seed repeats its figures exactly', () => {
    const s = settings({ chain: [250], replicates: 2000 });
    expect(chain(exponential(), s)).toEqual(chain(exponential(), s));
  });
});

describe('a fan-out of K calls: the max of K per-hop samples', () => {
  it.each([1, 10, 250, 1500])('max of %i uniforms has CDF x^K: quantile p at A + W·p^(1/K)', (k) => {
    const [f] = fanout(uniform(), { fanout: [k], percentiles: [50, 90, 99, 99.9] });
    for (const p of [50, 90, 99, 99.9]) {
      const exact = A + W * (p / 100) ** (1 / k);
      expect(Math.abs(f!.percentiles[String(p)]!.value - exact)).toBeLessThan(exact * 1e-4);
    }
  });

  it('max of K exponentials: quantile p at -θ·ln(1 - p^(1/K))', () => {
    const [f] = fanout(exponential(), { fanout: [250], percentiles: [50, 99] });
    for (const p of [50, 99]) {
      const exact = -THETA * Math.log(1 - (p / 100) ** (1 / 250));
      expect(Math.abs(f!.percentiles[String(p)]!.value - exact) / exact).toBeLessThan(2e-3);
    }
  });

  it('a constant stays constant however wide the fan-out', () => {
    const figures = fanout(constant(7_000), { fanout: [1, 1500], percentiles: [50, 99.9] });
    expect(figures.map((f) => f.calls)).toEqual([1, 1500]);
    for (const f of figures) {
      expect(Object.values(f.percentiles).map((e) => e.value)).toEqual([7_000, 7_000]);
    }
  });
});

describe('flags and costs', () => {
  it('flags figures that depend on per-hop events rarer than one in the samples measured', () => {
    const few = constant(5_000, 1000);
    const [one, long] = chain(few, settings({ chain: [1, 1500], replicates: 500 }));
    expect(one!.percentiles['50']!.undersampled).toBe(false);
    expect(long!.percentiles['99']!.undersampled).toBe(true);
    const [wide] = fanout(few, { fanout: [1500], percentiles: [99] });
    expect(wide!.percentiles['99']!.undersampled).toBe(true);
  });

  it('an input compared with itself costs nothing: both are drawn from the same random stream', () => {
    const d = exponential();
    const report = budget([{ label: 'a', distribution: d }, { label: 'b', distribution: d }], settings({ replicates: 1000 }));
    expect(report.costs.map((c) => c.calls)).toEqual(DEFAULT_BUDGET_SETTINGS.chain);
    for (const c of report.costs) expect([c.p50, c.p99, c.naive]).toEqual([0, 0, 0]);
  });

  it('states the cost of choosing the slower input over the faster one, with the naive N × Δp50 beside it', () => {
    const fast = constant(10_000);
    const slow = constant(35_000);
    const report = budget([{ label: 'fast', distribution: fast }, { label: 'slow', distribution: slow }], settings({ replicates: 500 }));
    expect(report.costs.map((c) => [c.choose, c.over, c.calls, c.p50, c.p99, c.naive])).toEqual(
      [1, 10, 250, 1500].map((n) => ['slow', 'fast', n, n * 25_000, n * 25_000, n * 25_000]),
    );
    expect(report.method.chain).toMatch(/seeded resampling/);
    expect(report.method.fanout).toMatch(/exact/);
  });
});

describe('building blocks', () => {
  it('pools several histograms: counts add up, quantiles come from the union', () => {
    const low = Histogram.fromJSON({ count: 100, min: 1000, max: 1000, mean: 1000, stddev: 0, percentiles: {}, buckets: [[1000, 100]] });
    const high = Histogram.fromJSON({ count: 100, min: 3000, max: 3000, mean: 3000, stddev: 0, percentiles: {}, buckets: [[3000, 100]] });
    const d = new HopDistribution([low, high]);
    expect([d.count, d.min, d.max, d.mean]).toEqual([200, 1000, 3000, 2000]);
    expect(d.quantile(0.25)).toBe(1000);
    expect(d.quantile(0.75)).toBe(3000);
  });

  it('the uniform generator stays inside (0, 1) and averages one half', () => {
    const r = new SeededRandom(7);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = r.next();
      expect(u > 0 && u < 1).toBe(true);
      sum += u;
    }
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });

  it('the normal quantile matches known values', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.9995)).toBeCloseTo(3.290527, 5);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
  });
});
