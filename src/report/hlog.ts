/**
 * HdrHistogram interval logs, as HdrHistogram's HistogramLogWriter writes
 * them: header comments, StartTime and BaseTime, the column legend, then one
 * line per interval per metric tagged `Tag=<metric>`, each a V2 compressed
 * histogram in base64 (hdr-histogram-js encodes). Values are in ns, the
 * Interval_Max column in ms (HistogramLogWriter's default ratio, 10^6).
 *
 * Intervals come from the session's progress snapshots, which carry each
 * metric's cumulative bucket counts: an interval is the difference of two
 * snapshots, so the measuring thread only copies counts once per interval,
 * and a snapshot dropped under load merges two intervals instead of losing
 * one. The last interval is the result minus the last snapshot, so the log's
 * total count is the result's.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import * as hdr from 'hdr-histogram-js';
import { OptionRangeError } from '../errors';
import { Histogram, indexOf } from '../histogram';
import { VERSION } from '../host';
import { METRIC_NAMES, type MetricName } from '../metrics';
import { hopLabel, type LabReportJSON } from '../lab/report';
import type { ProbeResult } from '../result';
import type { ProbeProgress, ProbeSession } from '../session';
import { hdrFromHistogram, hdrFromIndexCounts } from './hdr';
import { checkWritable } from './output';

/** Interval_Max is written in ms: ns divided by this, as HistogramLogWriter does by default. */
export const HLOG_MAX_VALUE_UNIT_RATIO = 1e6;

/** Cumulative counts by bucket index. */
type Counts = Map<number, number>;

function snapshotCounts(from: number, counts: Float64Array): Counts {
  const out: Counts = new Map();
  counts.forEach((c, i) => {
    if (c > 0) out.set(from + i, c);
  });
  return out;
}

function resultCounts(result: ProbeResult, name: MetricName): Counts {
  return new Map((result.metrics[name]?.buckets() ?? []).map(([value, count]) => [indexOf(value), count]));
}

function difference(now: Counts, before: Counts | undefined): Array<[number, number]> {
  return [...now].map(([index, count]) => [index, count - (before?.get(index) ?? 0)]);
}

/**
 * Writes an interval log to a file: a probe session's, line by line as its
 * intervals end, or a lab report's, one interval per run.
 */
export class HistogramLogWriter {
  readonly path: string;
  #fd: number | null;
  #log: hdr.HistogramLogWriter;
  #previous = new Map<MetricName, Counts>();
  #previousNs = 0;
  #started = false;

  /** Creates (or truncates) `path` at once: an unwritable path throws here, before any run. */
  constructor(path: string) {
    checkWritable('the HdrHistogram log', path);
    this.path = path;
    this.#fd = openSync(path, 'w');
    this.#log = new hdr.HistogramLogWriter((text) => {
      if (this.#fd !== null) writeSync(this.#fd, text);
    });
  }

  #header(startMs: number): void {
    if (this.#started) return;
    this.#started = true;
    const start = (startMs / 1000).toFixed(3);
    this.#log.outputComment(`[Logged with rtt-probe ${VERSION}: values in ns, Interval_Max in ms, Tag = metric]`);
    this.#log.outputLogFormatVersion();
    this.#log.outputComment(`[StartTime: ${start} (seconds since epoch), ${new Date(startMs).toString()}]`);
    this.#log.outputComment(`[BaseTime: ${start} (seconds since epoch)]`);
    this.#log.outputLegend();
  }

  #line(tag: string, histogram: hdr.Histogram, startNs: number, endNs: number): void {
    histogram.tag = tag;
    this.#log.outputIntervalHistogram(histogram, startNs / 1e9, endNs / 1e9, HLOG_MAX_VALUE_UNIT_RATIO);
  }

  #interval(endNs: number, metrics: Iterable<[MetricName, Counts]>): void {
    for (const [name, counts] of metrics) {
      this.#line(name, hdrFromIndexCounts(difference(counts, this.#previous.get(name))), this.#previousNs, endNs);
      this.#previous.set(name, counts);
    }
    this.#previousNs = endNs;
  }

  /** Writes an interval per progress snapshot of `session`, which is asked for the bucket counts the intervals are diffed from. */
  follow(session: ProbeSession): void {
    session.wantProgressCounts();
    session.on('progress', (p) => this.progress(p));
  }

  /** One interval per metric measured so far: the counts since the previous snapshot. */
  progress(p: ProbeProgress): void {
    const metrics: Array<[MetricName, Counts]> = [];
    for (const name of METRIC_NAMES) {
      const m = p.metrics[name];
      if (!m) continue;
      if (m.counts === undefined || m.countsFrom === undefined) {
        throw new OptionRangeError(
          `the progress snapshot's ${name} has no bucket counts: call session.wantProgressCounts() before its first snapshot (writeHistogramLog does)`,
          'ERR_INVALID_ARG_VALUE',
        );
      }
      metrics.push([name, snapshotCounts(m.countsFrom, m.counts)]);
    }
    this.#header(Date.now() - p.elapsedNs / 1e6);
    this.#interval(p.elapsedNs, metrics);
  }

  /** The last interval, from the last snapshot to the end of the run; closes the file. */
  finish(result: ProbeResult): void {
    const startMs = Date.parse(result.startedAt);
    this.#header(startMs);
    const endNs = Math.max(this.#previousNs, (Date.parse(result.endedAt) - startMs) * 1e6);
    const names = METRIC_NAMES.filter((name) => result.metrics[name]);
    this.#interval(endNs, names.map((name) => [name, resultCounts(result, name)]));
    this.close();
  }

  /**
   * A lab report's runs on the lab's timeline: one interval per run per
   * metric, from the run's start to its end, tagged
   * `<topology>/<size>/<metric>` for UDP and `<topology>/tcp/<size>/<metric>`
   * for TCP (repeat rounds are later intervals of the same tag); closes the file.
   */
  labRuns(report: LabReportJSON): void {
    const startMs = Date.parse(report.startedAt);
    this.#header(startMs);
    const runs = report.topologies.flatMap((t) => t.runs.map((run) => ({ topology: t.name, run })));
    runs.sort((a, b) => Date.parse(a.run.sender.startedAt) - Date.parse(b.run.sender.startedAt));
    for (const { topology, run } of runs) {
      const [from, to] = [run.sender.startedAt, run.sender.endedAt].map((t) => (Date.parse(t) - startMs) * 1e6) as [number, number];
      for (const name of METRIC_NAMES) {
        const h = run.sender.metrics[name];
        if (h) this.#line(`${hopLabel(topology, run.protocol ?? 'udp')}/${run.size}/${name}`, hdrFromHistogram(Histogram.fromJSON(h)), from, to);
      }
    }
    this.close();
  }

  close(): void {
    if (this.#fd === null) return;
    closeSync(this.#fd);
    this.#fd = null;
  }
}

/**
 * Writes `session`'s interval log to `path`: one interval per progress
 * snapshot, so give the session the log's interval as its progressInterval.
 * Throws at once when `path` cannot be written; resolves with the result once
 * the log is complete.
 */
export function writeHistogramLog(session: ProbeSession, path: string): Promise<ProbeResult> {
  const writer = new HistogramLogWriter(path);
  writer.follow(session);
  return session.result.then(
    (result) => {
      writer.finish(result);
      return result;
    },
    (error: unknown) => {
      writer.close();
      throw error;
    },
  );
}
