/**
 * The percentile distribution of a histogram as HdrHistogram's
 * outputPercentileDistribution prints it (a `.hgrm` file), the input of
 * HdrHistogram's plotter: `Value Percentile TotalCount 1/(1-Percentile)`
 * rows and the Mean/StdDeviation, Max/Total count, Buckets/SubBuckets footer.
 */
import { writeFileSync } from 'node:fs';
import type { Histogram } from '../histogram';
import type { MetricName } from '../metrics';
import { hdrFromHistogram } from './hdr';

/** Values are written in microseconds: ns divided by this ratio, as HdrHistogram's own examples do. */
export const HGRM_VALUE_UNIT_SCALING_RATIO = 1000;
/** Rows per halving of the distance to 100%, HdrHistogram's default. */
export const HGRM_PERCENTILE_TICKS_PER_HALF_DISTANCE = 5;

export function percentileDistribution(histogram: Histogram): string {
  const table = hdrFromHistogram(histogram).outputPercentileDistribution(
    HGRM_PERCENTILE_TICKS_PER_HALF_DISTANCE,
    HGRM_VALUE_UNIT_SCALING_RATIO,
  );
  return table.endsWith('\n') ? table : `${table}\n`;
}

/**
 * The file each metric's distribution goes to, since the plotter reads one
 * distribution per file: rtt.user (what an application sees, measured by
 * every probe) to `file` itself, every other metric beside it with its name
 * before the extension (`run.hgrm` -> `run.rtt.kernel.hgrm`).
 */
export function hgrmPaths(file: string, metrics: readonly MetricName[]): Map<MetricName, string> {
  const dot = file.lastIndexOf('.');
  const [stem, ext] = dot > file.lastIndexOf('/') + 1 ? [file.slice(0, dot), file.slice(dot)] : [file, ''];
  return new Map(metrics.map((m) => [m, m === 'rtt.user' ? file : `${stem}.${m}${ext}`]));
}

/** Writes each of the result's histograms to its file (hgrmPaths), returning the paths written. */
export function writePercentileDistributions(file: string, metrics: Partial<Record<MetricName, Histogram>>): string[] {
  const names = Object.keys(metrics) as MetricName[];
  const written: string[] = [];
  for (const [name, path] of hgrmPaths(file, names)) {
    writeFileSync(path, percentileDistribution(metrics[name]!));
    written.push(path);
  }
  return written;
}
