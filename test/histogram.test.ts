/**
 * The native histogram keeps HdrHistogram's precision: every percentile is
 * within 1/1024 (3 significant digits) above the exact nearest-rank
 * percentile of the sorted samples, and count, min, max and mean are exact.
 */
import { describe, expect, it } from 'vitest';
import { binding } from '../src/binding';
import { Histogram, highestEquivalent, indexOf, lowestEquivalent } from '../src/histogram';

/** Deterministic samples: mulberry32, log-uniform between lo and hi ns. */
function samples(n: number, lo: number, hi: number, seed = 42): Float64Array {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(lo * Math.exp(rand() * Math.log(hi / lo)));
  return out;
}

function exactPercentile(sorted: Float64Array, p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

describe('Histogram', () => {
  const values = samples(200_000, 50, 60e9);
  const h = Histogram.fromRaw(binding().recordHistogram(values));
  const sorted = Float64Array.from(values).sort();

  it('counts every sample and keeps the exact min, max and mean', () => {
    expect(h.count).toBe(values.length);
    expect(h.min).toBe(sorted[0]);
    expect(h.max).toBe(sorted[sorted.length - 1]);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(h.mean / mean).toBeCloseTo(1, 9);
  });

  it.each([0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 99.999, 100])(
    'p%s is within 3 significant digits of the exact percentile',
    (p) => {
      const exact = exactPercentile(sorted, p);
      const got = h.percentile(p);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got - exact).toBeLessThanOrEqual(exact / 1024);
    },
  );

  it('is exact below 2048 ns, where every nanosecond has its own bucket', () => {
    const small = Float64Array.from([1, 2, 3, 3, 7, 2047]);
    const s = Histogram.fromRaw(binding().recordHistogram(small));
    expect([s.percentile(1), s.percentile(50), s.percentile(67), s.percentile(100)]).toEqual([1, 3, 7, 2047]);
  });

  it('records 60 s, the longest latency the design promises', () => {
    const s = Histogram.fromRaw(binding().recordHistogram(Float64Array.from([60e9])));
    expect(s.percentile(50)).toBe(60e9);
  });

  it('computes bucket boundaries exactly as the native layout does', () => {
    for (const v of [0, 1, 2047, 2048, 2049, 4095, 4096, 1e6, 123456789, 60e9, 2 ** 36 - 1]) {
      const i = indexOf(v);
      expect(lowestEquivalent(i)).toBeLessThanOrEqual(v);
      expect(highestEquivalent(i)).toBeGreaterThanOrEqual(v);
    }
    const native = binding().recordHistogram(Float64Array.from([5000, 123456789]));
    expect(Array.from(native.indices)).toEqual([indexOf(5000), indexOf(123456789)]);
  });

  it('survives JSON and back with the same percentiles', () => {
    const back = Histogram.fromJSON(JSON.parse(JSON.stringify(h)));
    for (const p of [50, 90, 99, 99.9, 99.99]) expect(back.percentile(p)).toBe(h.percentile(p));
    expect(back.count).toBe(h.count);
  });

  it('reports 0 for every percentile when empty', () => {
    const empty = Histogram.fromRaw(binding().recordHistogram(new Float64Array(0)));
    expect(empty.count).toBe(0);
    expect(empty.percentile(99)).toBe(0);
  });
});
