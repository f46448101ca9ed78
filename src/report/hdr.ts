/**
 * Our histograms as hdr-histogram-js histograms, the HdrHistogram ecosystem's
 * encoder: same layout (1 ns to 2^36 - 1 ns, 3 significant digits), so every
 * bucket maps onto exactly one of theirs and nothing is rebinned.
 */
import * as hdr from 'hdr-histogram-js';
import { lowestEquivalent, type Histogram } from '../histogram';

/** The highest value the native engine records (2^36 - 1 ns, ~68.7 s). */
export const HIGHEST_TRACKABLE_NS = 2 ** 36 - 1;

export function emptyHdrHistogram(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 64,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_NS,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/** A histogram of bucket counts given as [bucket index, count] pairs. */
export function hdrFromIndexCounts(pairs: Iterable<[number, number]>): hdr.Histogram {
  const h = emptyHdrHistogram();
  for (const [index, count] of pairs) if (count > 0) h.recordValueWithCount(lowestEquivalent(index), count);
  return h;
}

export function hdrFromHistogram(histogram: Histogram): hdr.Histogram {
  const h = emptyHdrHistogram();
  for (const [value, count] of histogram.buckets()) h.recordValueWithCount(value, count);
  return h;
}
