/**
 * Standard formats. `--hlog` writes an HdrHistogram interval log that
 * HdrHistogram's own readers (hdr-histogram-js, and the Java
 * HistogramLogProcessor where Debian's libhdrhistogram-java is installed)
 * decode to the JSON result's total count and percentiles; `--hgrm` writes the
 * percentile distribution HdrHistogram's plotter reads; an output path that
 * cannot be written fails before the run.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Histogram } from '../src/histogram';
import { HistogramLogWriter, writeHistogramLog } from '../src/report/hlog';
import { hgrmPaths } from '../src/report/hgrm';
import type { ProbeResultJSON } from '../src/result';
import { probe, type ProbeProgress } from '../src/session';
import type { MetricName } from '../src/metrics';
import type { LabReportJSON } from '../src/lab/report';
import { runCli, startCliReflector } from './support/cli';
import { netnsUnavailable } from './support/netns';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rttp-formats-'));
const JAR = ['/usr/share/java/hdrhistogram.jar', '/usr/share/java/HdrHistogram.jar'].find((f) => existsSync(f));
const HAS_JAVA = JAR !== undefined && (() => {
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Two values agree when they fall within one bucket of 3 significant digits of each other. */
function expectSameBucket(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.max(1, expected / 1000));
}

interface Interval {
  tag: string;
  start: number;
  end: number;
  histogram: hdr.Histogram;
}

function readLog(file: string): Interval[] {
  const reader = new hdr.HistogramLogReader(readFileSync(file, 'utf8'), 64);
  const out: Interval[] = [];
  for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
    out.push({ tag: h.tag, start: h.startTimeStampMsec, end: h.endTimeStampMsec, histogram: h });
  }
  return out;
}

/** The rows and footer of an .hgrm file, as HdrHistogram's outputPercentileDistribution prints them. */
function parseHgrm(text: string) {
  const rows = [...text.matchAll(/^\s*([\d.]+)\s+([\d.]+)\s+(\d+)(?:\s+([\d.]+|Infinity))?\s*$/gm)].map((m) => ({
    value: Number(m[1]),
    percentile: Number(m[2]),
    totalCount: Number(m[3]),
  }));
  const footer = /#\[Mean\s+=\s+([\d.]+), StdDeviation\s+=\s+([\d.]+)\]\s*#\[Max\s+=\s+([\d.]+), Total count\s+=\s+(\d+)\]\s*#\[Buckets\s+=\s+(\d+), SubBuckets\s+=\s+(\d+)\]/.exec(text);
  return { header: text.split('\n')[0]!.trim().split(/\s+/), rows, footer: footer?.slice(1).map(Number) };
}

let reflector: Awaited<ReturnType<typeof startCliReflector>>;
let result: ProbeResultJSON;
const hlog = path.join(dir, 'run.hlog');
const hgrm = path.join(dir, 'run.hgrm');

beforeAll(async () => {
  reflector = await startCliReflector('127.0.0.1:0', { extra: ['--no-busy-poll'] });
  const target = `127.0.0.1:${reflector.listening.port}`;
  const run = await runCli(['probe', target, '--duration', '1500ms', '--interval', '250ms', '--hlog', hlog, '--hgrm', hgrm, '--no-busy-poll', '--json']);
  expect(run.code, run.stderr).toBe(0);
  result = JSON.parse(run.stdout) as ProbeResultJSON;
});

afterAll(() => {
  reflector?.child.kill('SIGINT');
});

describe('--hlog: an HdrHistogram interval log', () => {
  it('starts with the header HistogramLogWriter writes: comment, format version, StartTime, BaseTime, legend', () => {
    const lines = readFileSync(hlog, 'utf8').split('\n');
    expect(lines[0]).toMatch(/^#\[Logged with rtt-probe \S+: values in ns, Interval_Max in ms, Tag = metric\]$/);
    expect(lines[1]).toBe('#[Histogram log format version 1.3]');
    const start = /^#\[StartTime: (\d+\.\d{3}) \(seconds since epoch\), .+\]$/.exec(lines[2]!);
    expect(Math.abs(Number(start![1]) * 1000 - Date.parse(result.startedAt))).toBeLessThan(1000);
    expect(lines[3]).toBe(`#[BaseTime: ${start![1]} (seconds since epoch)]`);
    expect(lines[4]).toBe('"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"');
    expect(lines[5]).toMatch(/^Tag=rtt\.user,0\.000,0\.\d{3},\d+\.\d{3},HISTF/);
  });

  it('hdr-histogram-js reads one tagged interval per --interval per metric, adding up to the JSON result', () => {
    const intervals = readLog(hlog);
    const tags = [...new Set(intervals.map((i) => i.tag))].sort();
    expect(tags).toEqual(Object.keys(result.metrics).sort());
    for (const tag of tags as MetricName[]) {
      const own = intervals.filter((i) => i.tag === tag);
      // 1.5 s in 250 ms intervals, the last one ending with the run.
      expect(own.length).toBeGreaterThanOrEqual(4);
      // Back to back: each starts where the one before ended (the log keeps milliseconds).
      for (let k = 1; k < own.length; k++) expect(Math.abs(own[k]!.start - own[k - 1]!.end)).toBeLessThanOrEqual(1.001);
      const total = hdr.build({ bitBucketSize: 64, highestTrackableValue: 2 ** 36 - 1, numberOfSignificantValueDigits: 3 });
      for (const i of own) total.add(i.histogram);
      const json = result.metrics[tag]!;
      expect(total.totalCount).toBe(json.count);
      for (const [p, value] of Object.entries(json.percentiles)) expectSameBucket(total.getValueAtPercentile(Number(p)), value);
      expectSameBucket(total.maxValue, json.max);
    }
  });

  it.skipIf(!HAS_JAVA)("HdrHistogram's Java HistogramLogProcessor reads it to the same count and percentiles (needs libhdrhistogram-java and a JRE)", () => {
    const out = path.join(dir, 'java-rtt.user');
    execFileSync('java', ['-cp', JAR!, 'org.HdrHistogram.HistogramLogProcessor', '-i', hlog, '-tag', 'rtt.user', '-o', out, '-outputValueUnitRatio', '1'], { stdio: 'pipe' });
    const last = readFileSync(out, 'utf8').trim().split('\n').at(-1)!;
    // "<t>: I:<n> ( p50 p90 max ) T:<n> ( p50 p90 p99 p99.9 p99.99 max )"
    const total = /T:(\d+) \( ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) \)/.exec(last);
    expect(total, last).not.toBeNull();
    const json = result.metrics['rtt.user']!;
    expect(Number(total![1])).toBe(json.count);
    const [p50, p90, p99, p999, p9999, max] = total!.slice(2).map(Number) as number[];
    expectSameBucket(p50!, json.percentiles['50']!);
    expectSameBucket(p90!, json.percentiles['90']!);
    expectSameBucket(p99!, json.percentiles['99']!);
    expectSameBucket(p999!, json.percentiles['99.9']!);
    expectSameBucket(p9999!, json.percentiles['99.99']!);
    expectSameBucket(max!, json.max);
    // Java's own distribution of the whole log, in the unit of ours (µs), row for row.
    execFileSync('java', ['-cp', JAR!, 'org.HdrHistogram.HistogramLogProcessor', '-i', hlog, '-tag', 'rtt.user', '-o', out, '-outputValueUnitRatio', '1000'], { stdio: 'pipe' });
    const theirs = parseHgrm(readFileSync(`${out}.hgrm`, 'utf8'));
    const ours = parseHgrm(readFileSync(hgrm, 'utf8'));
    expect(ours.rows.map((r) => [r.percentile, r.totalCount])).toEqual(theirs.rows.map((r) => [r.percentile, r.totalCount]));
    ours.rows.forEach((r, k) => expectSameBucket(r.value * 1000, theirs.rows[k]!.value * 1000));
  });

  it('the library writes the same log from a running session (writeHistogramLog)', async () => {
    const file = path.join(dir, 'library.hlog');
    const session = probe(`127.0.0.1:${reflector.listening.port}`, { count: 3000, progressInterval: '50ms', busyPoll: false });
    const done = await writeHistogramLog(session, file);
    const intervals = readLog(file).filter((i) => i.tag === 'rtt.user');
    expect(intervals.reduce((n, i) => n + i.histogram.totalCount, 0)).toBe(done.metrics['rtt.user']!.count);
    expect(done.metrics['rtt.user']!.count).toBe(3000);
  });

  it('refuses a snapshot without bucket counts, saying to ask the session for them', async () => {
    const file = path.join(dir, 'refused.hlog');
    const writer = new HistogramLogWriter(file);
    const session = probe(`127.0.0.1:${reflector.listening.port}`, { count: 2000, progressInterval: '20ms', busyPoll: false });
    const [snapshot] = (await once(session, 'progress')) as [ProbeProgress];
    session.stop();
    await session.result;
    expect(() => writer.progress(snapshot)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/has no bucket counts: call session\.wantProgressCounts\(\)/) }),
    );
    writer.close();
    expect(readFileSync(file, 'utf8')).toBe('');
  });
});

const labSkip = netnsUnavailable();

describe.skipIf(labSkip !== null)(`lab --hlog (needs root and network namespaces${labSkip ? `: ${labSkip}` : ''})`, () => {
  it('one interval per run per metric, tagged <topology>/<size>/<metric> (TCP runs <topology>/tcp/<size>/<metric>), each adding up to its run', async () => {
    const file = path.join(dir, 'lab.hlog');
    const args = ['lab', '--proto', 'udp,tcp', '--topologies', 'veth,bridge', '--count', '200', '--repeat', '2', '--hlog', file, '--json'];
    const run = await runCli(args, { timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as LabReportJSON;
    const intervals = readLog(file);
    for (const topology of report.topologies.filter((t) => t.status === 'measured')) {
      for (const [protocol, tag] of [['udp', `${topology.name}/64/rtt.user`], ['tcp', `${topology.name}/tcp/64/rtt.user`]] as const) {
        const own = intervals.filter((i) => i.tag === tag);
        const runs = topology.runs.filter((r) => r.protocol === protocol);
        expect(runs).toHaveLength(2);
        expect(own.map((i) => i.histogram.totalCount)).toEqual(runs.map((r) => r.sender.metrics['rtt.user']!.count));
      }
    }
    expect(new Set(intervals.map((i) => i.tag.split('/')[0]))).toEqual(new Set(report.topologies.filter((t) => t.runs.length > 0).map((t) => t.name)));
  }, 120_000);
});

describe('--hgrm: the percentile distribution', () => {
  it('prints rows of Value Percentile TotalCount 1/(1-Percentile) in µs, ending at 100% with the total count', () => {
    const { header, rows, footer } = parseHgrm(readFileSync(hgrm, 'utf8'));
    const json = result.metrics['rtt.user']!;
    expect(header).toEqual(['Value', 'Percentile', 'TotalCount', '1/(1-Percentile)']);
    expect(rows.length).toBeGreaterThan(10);
    for (let k = 1; k < rows.length; k++) {
      expect(rows[k]!.percentile).toBeGreaterThanOrEqual(rows[k - 1]!.percentile);
      expect(rows[k]!.value).toBeGreaterThanOrEqual(rows[k - 1]!.value);
    }
    expect(rows.at(-1)).toMatchObject({ percentile: 1, totalCount: json.count });
    // Each row's value is the result's own percentile at that row's level (rows report a bucket's highest value, µs).
    const histogram = Histogram.fromJSON(json);
    for (const row of rows.slice(1, -1)) expectSameBucket(row.value * 1000, histogram.percentile(row.percentile * 100));
    const [mean, , max, count, buckets, subBuckets] = footer!;
    expect(Math.abs(mean! * 1000 - json.mean)).toBeLessThanOrEqual(json.mean / 100);
    expectSameBucket(max! * 1000, json.max);
    expect([count, buckets, subBuckets]).toEqual([json.count, 26, 2048]);
  });

  it('writes rtt.user to FILE and every other metric beside it, named after the metric', () => {
    const names = Object.keys(result.metrics) as MetricName[];
    const paths = hgrmPaths(hgrm, names);
    expect(paths.get('rtt.user')).toBe(hgrm);
    expect(paths.get('rtt.kernel')).toBe(path.join(dir, 'run.rtt.kernel.hgrm'));
    for (const [name, file] of paths) expect(parseHgrm(readFileSync(file, 'utf8')).rows.at(-1)!.totalCount).toBe(result.metrics[name]!.count);
  });
});

describe('an output path that cannot be written fails before the run', () => {
  it.each([
    ['--hlog into a missing directory', ['--hlog', '/nonexistent-rttp/run.hlog'], /cannot write the HdrHistogram log "\/nonexistent-rttp\/run\.hlog": its directory does not exist \(ENOENT\)/],
    ['--hgrm onto a directory', ['--hgrm', os.tmpdir()], /cannot write the percentile distribution ".*": it is a directory \(EISDIR\)/],
  ])('%s: exit 2 at once, naming the path and why', async (_what, args, message) => {
    const started = Date.now();
    // A 30 s run that would otherwise probe a port nothing answers on.
    const run = await runCli(['probe', '127.0.0.1:9', '--duration', '30s', ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('--hlog where the user may not write: exit 2 at once, permission denied', async () => {
    // As root, drop to nobody, for whom the root directory is read-only.
    const asRoot = process.getuid?.() === 0;
    const wrapper = asRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'] : [];
    const run = await runCli(['probe', '127.0.0.1:9', '--duration', '30s', '--hlog', '/rttp-denied.hlog'], { wrapper });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot write the HdrHistogram log "\/rttp-denied\.hlog": permission denied \(EACCES\); give a path in a writable directory/);
    expect(existsSync('/rttp-denied.hlog')).toBe(false);
  });

  it('--interval without --hlog is bad usage (exit 2)', async () => {
    const run = await runCli(['probe', '127.0.0.1:9', '--interval', '2s']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--interval is the --hlog interval: give --hlog FILE too/);
  });
});
