/**
 * A latency histogram in nanoseconds with the HdrHistogram bucket layout the
 * native engine records into (3 significant digits, 1 ns to ~68.7 s).
 * Percentiles use the nearest-rank rule: the highest value equivalent to the
 * sample of rank ceil(p/100 * count), clamped to the exact min and max.
 */
import type { RawHistogram } from './binding';

/** Sub-bucket magnitude of the native layout: 2048 sub-buckets, 3 significant digits. */
const SUB_BUCKET_HALF_COUNT_MAGNITUDE = 10;
const SUB_BUCKET_HALF_COUNT = 2 ** SUB_BUCKET_HALF_COUNT_MAGNITUDE;
const SUB_BUCKET_COUNT = 2 * SUB_BUCKET_HALF_COUNT;

export const STANDARD_PERCENTILES = [50, 90, 99, 99.9, 99.99] as const;

function bitLength(value: number): number {
  return value < 2 ** 32 ? 32 - Math.clz32(value) : 32 + bitLength(Math.floor(value / 2 ** 32));
}

export function indexOf(value: number): number {
  const bucket = bitLength(Math.max(value, SUB_BUCKET_COUNT - 1)) - (SUB_BUCKET_HALF_COUNT_MAGNITUDE + 1);
  const sub = Math.floor(value / 2 ** bucket);
  return (bucket + 1) * SUB_BUCKET_HALF_COUNT + (sub - SUB_BUCKET_HALF_COUNT);
}

export function lowestEquivalent(index: number): number {
  let bucket = Math.floor(index / SUB_BUCKET_HALF_COUNT) - 1;
  let sub = (index % SUB_BUCKET_HALF_COUNT) + SUB_BUCKET_HALF_COUNT;
  if (bucket < 0) {
    sub -= SUB_BUCKET_HALF_COUNT;
    bucket = 0;
  }
  return sub * 2 ** bucket;
}

export function highestEquivalent(index: number): number {
  const bucket = Math.max(0, Math.floor(index / SUB_BUCKET_HALF_COUNT) - 1);
  return lowestEquivalent(index) + 2 ** bucket - 1;
}

/** Percentile key as it appears in JSON: 50 -> "50", 99.9 -> "99.9". */
export function percentileKey(p: number): string {
  return String(p);
}

export interface HistogramJSON {
  count: number;
  min: number;
  max: number;
  mean: number;
  stddev: number;
  percentiles: Record<string, number>;
  /** Non-empty buckets as [lowest equivalent value in ns, count], ascending. */
  buckets: Array<[number, number]>;
}

export class Histogram {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly stddev: number;
  readonly #indices: number[];
  readonly #counts: number[];

  private constructor(
    summary: { count: number; min: number; max: number; mean: number; stddev: number },
    indices: number[],
    counts: number[],
  ) {
    this.count = summary.count;
    this.min = summary.min;
    this.max = summary.max;
    this.mean = summary.mean;
    this.stddev = summary.stddev;
    this.#indices = indices;
    this.#counts = counts;
  }

  /** @internal a histogram as the addon hands it over. */
  static fromRaw(raw: RawHistogram): Histogram {
    return new Histogram(raw, Array.from(raw.indices), Array.from(raw.counts));
  }

  static fromJSON(json: HistogramJSON): Histogram {
    const buckets = [...json.buckets].sort((a, b) => a[0] - b[0]);
    return new Histogram(
      json,
      buckets.map(([value]) => indexOf(value)),
      buckets.map(([, count]) => count),
    );
  }

  /** Value at percentile p (0 < p <= 100), in nanoseconds. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(Math.max(p, 0), 100) / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.#indices.length; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(Math.max(highestEquivalent(this.#indices[i]!), this.min), this.max);
    }
    return this.max;
  }

  percentiles(ps: readonly number[] = STANDARD_PERCENTILES): Record<string, number> {
    return Object.fromEntries(ps.map((p) => [percentileKey(p), this.percentile(p)]));
  }

  /** Non-empty buckets as [lowest equivalent value, count]. */
  buckets(): Array<[number, number]> {
    return this.#indices.map((index, i) => [lowestEquivalent(index), this.#counts[i]!]);
  }

  /** Integer nanoseconds throughout, as the JSON output promises. */
  toJSON(): HistogramJSON {
    return {
      count: this.count,
      min: this.min,
      max: this.max,
      mean: Math.round(this.mean),
      stddev: Math.round(this.stddev),
      percentiles: this.percentiles(),
      buckets: this.buckets(),
    };
  }
}
