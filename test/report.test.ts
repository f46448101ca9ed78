/**
 * The HTML report (`rtt-probe report`, `probe --html`, `lab --html`): a file
 * that is not a result is refused naming the file, an output path that
 * cannot be written fails before a run starts, and the pages of real runs
 * open in a real browser without a network, without a console error, with
 * every plot drawing every series, several results overlaid with a legend.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SENDER_COUNTERS, type SenderCounters } from '../src/counters';
import { Histogram } from '../src/histogram';
import { summarize } from '../src/lab/summary';
import { htmlReport } from '../src/report/html';
import { labSource, loadReportSources, probeSource, type LabSource, type ProbeSource } from '../src/report/inputs';
import { reportPlots, type Plot } from '../src/report/plots';
import type { KeptProbeResultJSON } from '../src/result';
import type { ProbeProgress } from '../src/session';
import { browserUnavailable, openReport, undrawnSeries, type OpenedReport } from './support/browser';
import { runCli, startCliReflector } from './support/cli';
import { netnsUnavailable } from './support/netns';

const NO_STACK = /^\s+at /m;
const dir = mkdtempSync(path.join(os.tmpdir(), 'rttp-report-'));
const browserSkip = browserUnavailable();

function write(name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** Every plot drew: one column per series plus x, all as long as x and not empty, and each series' colour on its canvas (or an equal series drawn over it). */
function expectEveryPlotDrawn(page: OpenedReport): void {
  expect(page.errors).toEqual([]);
  expect(page.plots.length).toBeGreaterThan(0);
  for (const plot of page.plots) {
    expect(plot.lengths.length, plot.title).toBe(plot.series.length + 1);
    expect(new Set(plot.lengths).size, plot.title).toBe(1);
    expect(plot.lengths[0], plot.title).toBeGreaterThan(0);
    expect(undrawnSeries(plot), plot.title).toEqual([]);
  }
}

function plotTitled(plots: Plot[], pattern: RegExp): Plot {
  const found = plots.find((p) => pattern.test(p.title));
  expect(found, String(pattern)).toBeDefined();
  return found!;
}

describe('input that cannot make a report exits 2, naming the file and what is expected', () => {
  const notJson = write('notes.json', 'p50 was 12 us\n');
  const other = write('package.json', '{"name":"left-pad","version":"1.0.0"}');
  const cut = write('cut.json', '{"metrics":{"rtt.user":{}},"sent":3}');
  it.each([
    [['report', '/nonexistent/run.json'], /cannot read \/nonexistent\/run\.json \(ENOENT\): give a file written by `rtt-probe probe --json`/],
    [['report', notJson], new RegExp(`${notJson} is not JSON: give a file written by`)],
    [['report', other], new RegExp(`${other} is not an rtt-probe result \\(no "metrics"\\): expected a probe result .* or a lab report .* or a budget`)],
    [['report', cut], new RegExp(`${cut} is not an rtt-probe result \\(no "missing"\\)`)],
    [['report', dir], new RegExp(`cannot read ${dir} \\(EISDIR\\)`)],
  ])('%j', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(NO_STACK);
  });

  it.each([
    [['probe', '127.0.0.1:9', '--duration', '20s', '--html', '/nonexistent/run.html']],
    [['probe', '127.0.0.1:9', '--duration', '20s', '--html', `${notJson}/run.html`]],
    [['lab', '--html', '/nonexistent/lab.html']],
  ])('an unwritable --html fails before the run starts: %j', async (args) => {
    const started = Date.now();
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot write the HTML report ".*": .* \((ENOENT|ENOTDIR)\); give a path in a writable directory/);
    expect(run.stdout).toBe('');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('reports of real probe runs', () => {
  let reflector: Awaited<ReturnType<typeof startCliReflector>>;
  const runs: Array<{ json: string; html: string; stderr: string }> = [];

  beforeAll(async () => {
    reflector = await startCliReflector('127.0.0.1:0');
    for (const name of ['before', 'after']) {
      const html = path.join(dir, `${name}.html`);
      const run = await runCli(['probe', `127.0.0.1:${reflector.listening.port}`, '--duration', '2500ms', '--json', '--html', html]);
      expect(run.code, run.stderr).toBe(0);
      runs.push({ json: write(`${name}.json`, run.stdout), html, stderr: run.stderr });
    }
  });

  afterAll(() => {
    reflector?.child.kill('SIGINT');
  });

  it.each([
    ['/nonexistent/r.html', /cannot write the HTML report "\/nonexistent\/r\.html": its directory does not exist \(ENOENT\); give a path in a writable directory/],
    [dir, /cannot write the HTML report ".*": it is a directory \(EISDIR\)/],
  ])('report -o %s that cannot be written exits 2 and writes nothing', async (out, message) => {
    const run = await runCli(['report', '-o', out, runs[0]!.json]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it.skipIf(browserSkip !== null)('probe --html writes a page drawing every plot, latency over time from the run\'s own snapshots', async () => {
    expect(runs[0]!.stderr).toContain(`HTML report: ${runs[0]!.html}`);
    const page = await openReport(runs[0]!.html, path.join(dir, 'probe.png'));
    expectEveryPlotDrawn(page);
    const titles = page.plots.map((p) => p.title);
    for (const pattern of [/rtt\.user: percentile spectrum/, /rtt\.user: cumulative distribution/, /rtt\.user: histogram/, /rtt\.user over time/]) {
      expect(titles.some((t) => pattern.test(t)), String(pattern)).toBe(true);
    }
    expect(page.text).toMatch(/caps granted/);
    expect(page.text).toMatch(/rttProbe/);
  });

  it.skipIf(browserSkip !== null)('report overlays saved results in one plot with a legend, beside the first input by default, and says which have no time data', async () => {
    const run = await runCli(['report', `before=${runs[0]!.json}`, `after=${runs[1]!.json}`]);
    const out = path.join(dir, 'before.html');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`report: ${out}\n`);
    const page = await openReport(out, path.join(dir, 'overlay.png'));
    expectEveryPlotDrawn(page);
    const spectrum = page.plots.find((p) => p.title === 'rtt.user: percentile spectrum')!;
    expect(spectrum.series).toEqual(['before', 'after']);
    expect(page.legends).toEqual(expect.arrayContaining(['before', 'after']));
    expect(page.text).toMatch(/before: no time data/);
    expect(page.text).toMatch(/after: no time data/);
  });

  it.skipIf(browserSkip !== null)('latency over time keeps p50, p99 and max apart when one stall is thousands of times the median', async () => {
    const json = JSON.parse(readFileSync(runs[0]!.json, 'utf8')) as KeptProbeResultJSON;
    const counters = Object.fromEntries(SENDER_COUNTERS.map((c) => [c, 0])) as SenderCounters;
    const snapshot = (seconds: number, max: number): ProbeProgress => ({
      ...counters,
      elapsedNs: seconds * 1e9,
      metrics: {
        'rtt.user': { count: 1000 * seconds, min: 8_000, p50: 10_000, p90: 11_000, p99: 14_000, p999: 20_000, max, countsFrom: 0, counts: new Float64Array() },
      },
    });
    const file = path.join(dir, 'stall.html');
    writeFileSync(file, htmlReport([probeSource('stall', json, [snapshot(1, 30_000), snapshot(2, 40_000_000)])]));
    const page = await openReport(file, path.join(dir, 'stall.png'));
    expectEveryPlotDrawn(page);
    const overTime = page.plots.find((p) => /over time/.test(p.title))!;
    const [p50, p99, max] = overTime.rows;
    p50!.forEach((row, k) => {
      expect(row! - p99![k]!, `p50 below p99 at point ${k}`).toBeGreaterThan(3);
      expect(p99![k]! - max![k]!, `p99 below max at point ${k}`).toBeGreaterThan(3);
    });
  });

  it('plots the figures the histograms hold: the spectrum at 1/(1-p), a CDF reaching 1, histogram shares adding to 1', () => {
    const [source] = loadReportSources([runs[0]!.json]) as [ProbeSource];
    const h = Histogram.fromJSON(source.result.metrics['rtt.user']!);
    const plots = reportPlots([source]).flatMap((s) => s.plots);
    const spectrum = plotTitled(plots, /rtt\.user: percentile spectrum/);
    const at100 = spectrum.x.values.indexOf(100);
    expect(spectrum.series[0]!.values[at100]).toBe(h.percentile(99) / 1000);
    expect(spectrum.series[0]!.values[0]).toBe(h.min / 1000);
    const cdf = plotTitled(plots, /rtt\.user: cumulative/);
    expect(cdf.series[0]!.values.at(-1)).toBe(1);
    expect(cdf.x.values.at(-1)).toBe(h.max / 1000);
    const shares = plotTitled(plots, /rtt\.user: histogram/).series[0]!.values as number[];
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });
});

const labSkip = netnsUnavailable() ?? browserSkip;

// Skipped, saying why, where namespaces or the browser are missing.
describe.skipIf(labSkip !== null)(`lab reports in a real browser${labSkip ? ` (skipped: ${labSkip})` : ''}`, () => {
  const json = path.join(dir, 'lab.json');
  const html = path.join(dir, 'lab.html');

  beforeAll(async () => {
    const run = await runCli(['lab', '--topologies', 'loopback,veth', '--count', '2000', '--repeat', '2', '--out', json, '--html', html], {
      timeoutMs: 120_000,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`HTML report: ${html}`);
  }, 150_000);

  it('lab --html draws topologies with their rounds\' spread, runs over time and the budget curves', async () => {
    const page = await openReport(html, path.join(dir, 'lab.png'));
    expectEveryPlotDrawn(page);
    const titles = page.plots.map((p) => p.title).join('\n');
    expect(titles).toMatch(/rtt\.user p50 per topology at 64 B, median of 2 rounds with their range/);
    expect(titles).toMatch(/rtt\.user p50 of each run at 64 B, by when it started/);
    expect(titles).toMatch(/chain of N calls, p99 with its confidence band/);
  });

  it('the bars are the lab summary\'s medians, the whiskers its rounds\' range', () => {
    const source = labSource('lab', JSON.parse(readFileSync(json, 'utf8'))) as LabSource;
    const bars = plotTitled(reportPlots([source]).flatMap((s) => s.plots), /p50 per topology/);
    const rows = summarize(source.report, ['rtt.user']);
    expect(bars.x.names).toEqual(rows.map((r) => r.topology));
    expect(bars.series.map((s) => s.values)).toEqual([
      rows.map((r) => r.statistics.p50.median / 1000),
      rows.map((r) => r.statistics.p50.max / 1000),
      rows.map((r) => r.statistics.p50.min / 1000),
    ]);
  });

  it('report draws a budget file\'s curves with their bands next to the lab it came from', async () => {
    const budget = await runCli(['budget', json, '--json']);
    expect(budget.code, budget.stderr).toBe(0);
    const budgetFile = write('budget.json', budget.stdout);
    const out = path.join(dir, 'both.html');
    const run = await runCli(['report', json, budgetFile, '-o', out]);
    expect(run.code, run.stderr).toBe(0);
    const page = await openReport(out, path.join(dir, 'both.png'));
    expectEveryPlotDrawn(page);
    const curves = page.plots.filter((p) => /^budget \(rtt\.user\): chain of N calls/.test(p.title));
    expect(curves.length).toBe(2);
    expect(curves[0]!.series).toEqual(expect.arrayContaining(['veth', 'veth 95% high', 'veth 95% low', 'loopback']));
  });
});
