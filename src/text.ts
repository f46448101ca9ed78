/** Plain-text building blocks of every human-readable output (the CLI's tables, the lab's reports). */

/** Nanoseconds as microseconds, to ~10 ns below 100 µs and coarser above. */
export function micros(ns: number): string {
  const us = ns / 1000;
  if (us < 100) return us.toFixed(3);
  if (us < 10_000) return us.toFixed(1);
  return us.toFixed(0);
}

/** Aligns a table: the first `leftColumns` columns to the left (names), the rest to the right (numbers). */
export function pad(rows: string[][], leftColumns = 1): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => r.map((cell, c) => (c < leftColumns ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}
