// Small statistics for benchmark rounds.

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Median with the min-max range of a list of per-round values. */
export function spread(values) {
  const v = values.filter((x) => Number.isFinite(x));
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), rounds: v.length };
}

/** Nearest-rank percentile of an unsorted list. */
export function percentile(values, p) {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.max(1, Math.ceil((p / 100) * v.length)) - 1];
}

export const us = (ns) => (Number.isFinite(ns) ? (ns / 1000).toFixed(2) : 'n/a');
export const ratio = (x) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
