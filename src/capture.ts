/**
 * The per-probe capture (docs/results.md#per-probe-capture): one row per
 * measured probe, written by the native engine as CSV or JSON Lines. Its
 * columns and statuses are written once here and in native/core/capture.hpp;
 * test/native-lists.test.ts checks that the two agree.
 */
import path from 'node:path';
import { OptionRangeError } from './errors';
import { METRIC_NAMES } from './metrics';

/** File formats of a capture, chosen by the file's extension (.csv, .jsonl). */
export const CAPTURE_FORMATS = ['csv', 'jsonl'] as const;
export type CaptureFormat = (typeof CAPTURE_FORMATS)[number];

/** What became of a probe; `late` is a lost probe whose reply came after the timeout. */
export const CAPTURE_STATUSES = ['answered', 'lost', 'late', 'in-flight'] as const;
export type CaptureStatus = (typeof CAPTURE_STATUSES)[number];

/** T1..T4 by source, in ns since the epoch. */
export const TIMESTAMP_COLUMNS = ['t1.user', 't1.kernel', 't1.hw', 't2', 't3', 't4.user', 't4.kernel', 't4.hw'] as const;

/** Every column of a row, in file order: seq, status, the timestamps, then each metric in ns. */
export const CAPTURE_COLUMNS = ['seq', 'status', ...TIMESTAMP_COLUMNS, ...METRIC_NAMES] as const;
export type CaptureColumn = (typeof CAPTURE_COLUMNS)[number];

/** Rows the ring between the measuring thread and the writer holds by default. */
export const DEFAULT_CAPTURE_BUFFER_ROWS = 65_536;
export const MAX_CAPTURE_BUFFER_ROWS = 2 ** 24;

export interface CaptureOptions {
  /** The file to write (created or truncated): `.csv`, or `.jsonl` for JSON Lines. */
  file: string;
  /**
   * Rows buffered between the measuring thread and the writer (default
   * 65536, rounded up to a power of two). When the writer falls this far
   * behind, rows are dropped and counted in the result's `captureDropped`.
   */
  bufferRows?: number | undefined;
}

/** The format a capture file's extension names; an OptionRangeError for any other. */
export function captureFormatOf(file: string): CaptureFormat {
  const extension = path.extname(file).toLowerCase().slice(1);
  const format = CAPTURE_FORMATS.find((f) => f === extension);
  if (format === undefined) {
    throw new OptionRangeError(`capture file ${file} must end in .csv or .jsonl (JSON Lines), which chooses its format`);
  }
  return format;
}
