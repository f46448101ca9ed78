/**
 * `rtt-probe compare BASE NEW` on real results: a loopback run is the
 * template, its rtt.user replaced by histograms the addon recorded from
 * known distributions, so the true difference is known. The table, the
 * intervals (they hold the true difference), --fail-if's exit statuses,
 * --significant, seeded determinism, --json, lab reports and bad input.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { binding } from '../src/binding';
import { Histogram, type HistogramJSON } from '../src/histogram';
import { SeededRandom } from '../src/lab/budget';
import type { LabReportJSON } from '../src/lab/report';
import type { Comparison, RuleOutcome } from '../src/report/compare';
import type { ProbeResultJSON } from '../src/result';
import { runCli } from './support/cli';

const NO_STACK = /^\s+at /m;
const dir = mkdtempSync(path.join(os.tmpdir(), 'rttp-compare-'));
const SHIFT = 2000;

function write(name: string, content: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** n round trips of 10 µs plus an exponential tail of mean 1 µs, moved by `shift` ns: every percentile moves by exactly `shift`. */
function latencies(n: number, shift: number, seed: number): HistogramJSON {
  const random = new SeededRandom(seed);
  const values = Float64Array.from({ length: n }, () => Math.round(10_000 + 1000 * -Math.log(random.next()) + shift));
  return Histogram.fromRaw(binding().recordHistogram(values)).toJSON();
}

interface CompareJSON {
  kind: string;
  base: { file: string; kind: string };
  new: { file: string; kind: string };
  metric: string;
  resamples: number;
  seed: number;
  confidence: number;
  significantOnly: boolean;
  comparisons: Comparison[];
  rules: RuleOutcome[];
  tripped: boolean;
}

let template: ProbeResultJSON;
/** The template run with these histograms as its measurements. */
const measured = (metrics: ProbeResultJSON['metrics']): ProbeResultJSON => ({ ...template, metrics, missing: {} });
const withUser = (h: HistogramJSON): ProbeResultJSON => measured({ 'rtt.user': h });
let base: string;
let slower: string;
let same: string;

beforeAll(async () => {
  template = JSON.parse((await runCli(['--duration', '200ms', '--json'])).stdout) as ProbeResultJSON;
  // rtt.kernel moves by half the shift.
  base = write('base.json', measured({ 'rtt.user': latencies(20_000, 0, 1), 'rtt.kernel': latencies(20_000, 0, 11) }));
  slower = write('slower.json', measured({ 'rtt.user': latencies(20_000, SHIFT, 2), 'rtt.kernel': latencies(20_000, SHIFT / 2, 12) }));
  same = write('same.json', withUser(latencies(20_000, 0, 3)));
});

describe('two probe results', () => {
  it('a table of every statistic: BASE, NEW, the change in µs and %, its 95% interval, and whether it is beyond the spread', async () => {
    const run = await runCli(['compare', base, slower]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^compare BASE .*base\.json -> NEW .*slower\.json: change is NEW - BASE; 95% intervals from 2000 resamples of the histograms \(seed 1\);$/m);
    expect(run.stdout).toMatch(/^rtt\.user: 20000 samples in BASE, 20000 in NEW$/m);
    expect(run.stdout).toMatch(/^statistic\s+BASE µs\s+NEW µs\s+change µs\s+%\s+95% interval µs\s+beyond spread$/m);
    for (const stat of ['min', 'p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max']) {
      expect(run.stdout).toMatch(new RegExp(`^${stat.replace('.', '\\.')}\\s+\\d+\\.\\d+\\s+\\d+\\.\\d+\\s+[+-]\\d+\\.\\d+\\s+[+-]\\d+\\.\\d%\\s+[+-]\\d+\\.\\d+ \\.\\. [+-]\\d+\\.\\d+\\s+(yes|no)$`, 'm'));
    }
    expect(run.stdout).toMatch(/^p50\s+10\.\d+\s+12\.\d+\s+\+(1\.9|2\.0)\d\d\s+\+1\d\.\d%\s+\+\d\.\d+ \.\. \+\d\.\d+\s+yes$/m);
  });

  it('the intervals hold the true difference (within the histogram resolution), and exclude zero where the shift is clear', async () => {
    const run = await runCli(['compare', base, slower, '--json']);
    const out = JSON.parse(run.stdout) as CompareJSON;
    const stats = out.comparisons[0]!.statistics;
    for (const s of stats.filter((x) => ['p50', 'p90', 'p99'].includes(x.statistic))) {
      const resolution = (s.base + s.new) / 1024;
      expect(s.ci[0] - resolution, s.statistic).toBeLessThanOrEqual(SHIFT);
      expect(s.ci[1] + resolution, s.statistic).toBeGreaterThanOrEqual(SHIFT);
      expect(s.ci[0]).toBeLessThanOrEqual(s.difference);
      expect(s.ci[1]).toBeGreaterThanOrEqual(s.difference);
      expect(s.significant).toBe(true);
    }
  });

  it('--fail-if "p99>+10%" exits 3 on a p99 about 14% higher; "p99>+50%" exits 0', async () => {
    const tripped = await runCli(['compare', base, slower, '--fail-if', 'p99>+10%']);
    expect(tripped.code).toBe(3);
    expect(tripped.stdout).toMatch(/^--fail-if p99>\+10% {2}rtt\.user: p99 \+\d\.\d+ µs \(\+1\d\.\d%\): TRIPPED$/m);
    expect(tripped.stderr).toBe('rtt-probe: compare: 1 of 1 rule checks tripped: p99>+10%\n');
    const passed = await runCli(['compare', base, slower, '--fail-if', 'p99>+50%', '--fail-if', 'p50 > +3us']);
    expect(passed.code).toBe(0);
    expect(passed.stdout).toMatch(/^--fail-if p99>\+50% .*: not tripped$/m);
    expect(passed.stdout).toMatch(/^--fail-if p50 > \+3us .*: not tripped$/m);
    const absolute = await runCli(['compare', base, slower, '--fail-if', 'p50>+1.5us']);
    expect(absolute.code).toBe(3);
  });

  it('--significant: between two runs of one distribution a rule that holds by chance does not trip', async () => {
    // NEW's p50 differs from BASE's by sampling alone, so "changed at all" holds.
    const plain = await runCli(['compare', base, same, '--fail-if', 'p50 != +0ns', '--json']);
    expect(plain.code).toBe(3);
    const outcome = (JSON.parse(plain.stdout) as CompareJSON).rules[0]!;
    expect(outcome).toMatchObject({ holds: true, significant: false, tripped: true });
    const significant = await runCli(['compare', base, same, '--fail-if', 'p50 != +0ns', '--significant']);
    expect(significant.code).toBe(0);
    expect(significant.stdout).toMatch(/holds, but the interval includes zero \(--significant\): not tripped$/m);
    // A real shift still trips with --significant.
    expect((await runCli(['compare', base, slower, '--fail-if', 'p50>+10%', '--significant'])).code).toBe(3);
  });

  it('is seeded: the same seed prints the same intervals, another seed others', async () => {
    const [a, b, c] = await Promise.all([
      runCli(['compare', base, slower, '--seed', '7', '--resamples', '500']),
      runCli(['compare', base, slower, '--seed', '7', '--resamples', '500']),
      runCli(['compare', base, slower, '--seed', '8', '--resamples', '500']),
    ]);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).not.toBe(c.stdout);
  });

  it('--json: the inputs, the settings, every comparison and every rule outcome', async () => {
    const run = await runCli(['compare', base, slower, '--json', '--fail-if', 'p99>+10%', '--metric', 'rtt.user']);
    const out = JSON.parse(run.stdout) as CompareJSON;
    expect(out).toMatchObject({
      kind: 'rtt-probe-compare',
      base: { file: base, kind: 'probe' },
      new: { file: slower, kind: 'probe' },
      metric: 'rtt.user',
      resamples: 2000,
      seed: 1,
      confidence: 0.95,
      significantOnly: false,
      tripped: true,
    });
    expect(out.comparisons).toHaveLength(1);
    expect(out.comparisons[0]).toMatchObject({ topology: null, size: null, metric: 'rtt.user', counts: { base: 20_000, new: 20_000 } });
    expect(out.comparisons[0]!.statistics.map((s) => s.statistic)).toEqual(['min', 'p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max']);
    const p99 = out.comparisons[0]!.statistics[3]!;
    expect(p99.difference).toBe(p99.new - p99.base);
    expect(p99.percent).toBeCloseTo((100 * p99.difference) / p99.base, 9);
    expect(out.rules).toEqual([expect.objectContaining({ rule: 'p99>+10%', metric: 'rtt.user', statistic: 'p99', holds: true, tripped: true })]);
  });

  it('a rule naming another metric compares that metric too', async () => {
    const run = await runCli(['compare', base, slower, '--json', '--fail-if', 'rtt.kernel p50>+1000%']);
    const out = JSON.parse(run.stdout) as CompareJSON;
    expect(out.comparisons.map((c) => c.metric)).toEqual(['rtt.user', 'rtt.kernel']);
    expect(out.rules[0]).toMatchObject({ metric: 'rtt.kernel', tripped: false });
  });
});

describe('two lab reports: per topology, size and metric, with the rounds\' spread', () => {
  const round = (h: HistogramJSON, size: number, repeat: number) => ({ size, repeat, sender: withUser(h), reflector: null });
  const report = (shift: number, seed: number) =>
    ({
      schemaVersion: 1,
      kind: 'rtt-probe-lab',
      settings: { topologies: ['veth', 'bridge'], baseline: 'veth', sizes: [64], repeat: 3 },
      host: template.host,
      startedAt: template.startedAt,
      endedAt: template.endedAt,
      topologies: [
        { name: 'veth', status: 'measured', reason: null, runs: [1, 2, 3].map((r) => round(latencies(5000, 0, seed + r), 64, r)) },
        { name: 'bridge', status: 'measured', reason: null, runs: [1, 2, 3].map((r) => round(latencies(5000, shift, seed + 10 + r), 64, r)) },
      ],
    }) as unknown as LabReportJSON;

  it('a table per topology; a changed topology is beyond the spread and its rounds apart, and rules trip on it', async () => {
    const before = write('lab-before.json', report(0, 100));
    const after = write('lab-after.json', report(SHIFT, 200));
    const run = await runCli(['compare', before, after, '--fail-if', 'p50>+10%']);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/^veth, 64 B, rtt\.user: 15000 samples in BASE, 15000 in NEW$/m);
    expect(run.stdout).toMatch(/^bridge, 64 B, rtt\.user: 15000 samples in BASE, 15000 in NEW$/m);
    expect(run.stdout).toMatch(/beyond spread\s+rounds apart$/m);
    expect(run.stdout).toMatch(/^--fail-if p50>\+10% {2}bridge, 64 B, rtt\.user: p50 \+2\.\d+ µs .*: TRIPPED$/m);
    expect(run.stdout).toMatch(/^--fail-if p50>\+10% {2}veth, 64 B, rtt\.user: .*: not tripped$/m);
    const out = JSON.parse((await runCli(['compare', before, after, '--json'])).stdout) as CompareJSON;
    const p50 = (topology: string) => out.comparisons.find((c) => c.topology === topology)!.statistics[1]!;
    expect(p50('bridge')).toMatchObject({ significant: true, rounds: { distinct: true } });
    expect(p50('veth').rounds!.distinct).toBe(false);
    expect(p50('bridge').rounds!.base.min).toBeLessThanOrEqual(p50('bridge').rounds!.base.max);
  });

  it('compares UDP runs with UDP and TCP runs with TCP: a lab report of both gives veth and veth/tcp, never mixed', async () => {
    const both = (tcpShift: number, seed: number) => {
      // The same UDP runs in both reports: only TCP changes.
      const r = report(0, 100) as unknown as { settings: Record<string, unknown>; topologies: { runs: Record<string, unknown>[] }[] };
      r.settings.protocols = ['udp', 'tcp'];
      for (const t of r.topologies) {
        const udp = t.runs.map((run) => ({ ...run, protocol: 'udp' }));
        const tcp = [1, 2, 3].map((k) => ({ ...round(latencies(5000, tcpShift, seed + 20 + k), 64, k), protocol: 'tcp' }));
        t.runs = [...udp, ...tcp];
      }
      return r;
    };
    const before = write('lab-both-before.json', both(0, 300));
    const after = write('lab-both-after.json', both(SHIFT, 400));
    const out = JSON.parse((await runCli(['compare', before, after, '--json'])).stdout) as CompareJSON;
    expect(out.comparisons.map((c) => c.topology)).toEqual(['veth', 'bridge', 'veth/tcp', 'bridge/tcp']);
    const p50 = (topology: string) => out.comparisons.find((c) => c.topology === topology)!.statistics[1]!;
    // Only the TCP runs moved: pooled with them, the UDP comparison would have moved too.
    expect(p50('veth')).toMatchObject({ significant: false, rounds: { distinct: false } });
    expect(p50('veth/tcp')).toMatchObject({ significant: true, rounds: { distinct: true } });
  });
});

describe('bad input: exit 2, naming the file and what was expected', () => {
  it.each([
    ['a file that is not JSON', () => ['compare', write('text.json', 'rtt 12us'), base], /BASE .*text\.json is not JSON: give a file written by `rtt-probe probe --json`/],
    ['JSON that is no result', () => ['compare', base, write('other.json', { hello: 1 })], /NEW .*other\.json is not an rtt-probe result \(no "metrics"\): expected a probe result .* or a lab report/],
    ['a lab report without its runs', () => ['compare', write('empty-lab.json', { schemaVersion: 1, kind: 'rtt-probe-lab' }), base], /BASE .*empty-lab\.json is not a valid lab result \(no "settings"\)/],
    ['a missing file', () => ['compare', '/nonexistent/base.json', base], /BASE \/nonexistent\/base\.json: cannot read it \(ENOENT\)/],
    ['a probe result against a lab report', () => ['compare', base, write('lab.json', { schemaVersion: 1, kind: 'rtt-probe-lab', settings: { topologies: [], baseline: 'veth', sizes: [64], repeat: 1 }, host: template.host, startedAt: template.startedAt, endedAt: template.endedAt, topologies: [] })], /BASE .*base\.json is a probe result and NEW .*lab\.json a lab report: compare two of a kind/],
    ['a metric one side lacks', () => ['compare', base, write('no-user.json', { ...template, metrics: {} }), '--metric', 'rtt.user'], /NEW .*no-user\.json has no rtt\.user samples \(it has: none\): choose one both have with --metric/],
    ['a rule that does not parse', () => ['compare', base, slower, '--fail-if', 'p95>+10%'], /--fail-if.*rule "p95>\+10%": at column 1, unknown statistic "p95": expected one of min, p50/],
    ['an absolute rule', () => ['compare', base, slower, '--fail-if', 'loss == 0'], /rule "loss == 0" is an absolute rule; compare takes changes from BASE to NEW, e\.g\. p99>\+10%/],
  ])('%s', async (_what, args, message) => {
    const run = await runCli(args());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(NO_STACK);
  });
});
