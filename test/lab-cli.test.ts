/**
 * `rtt-probe lab` and `rtt-probe budget` from the outside, without root:
 * bad input exits 2 with a message naming the problem and the fix, the lab
 * refuses to run without the privileges to build namespaces (exit 1), and
 * budget works from saved probe results and lab reports.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BudgetReport } from '../src/lab/budget';
import type { LabReportJSON } from '../src/lab/report';
import type { ProbeResultJSON } from '../src/result';
import { probe, startReflector } from '../src/session';
import { runCli } from './support/cli';

const NO_STACK = /^\s+at /m;
const dir = mkdtempSync(path.join(os.tmpdir(), 'rttp-budget-'));

function write(name: string, content: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('bad usage exits 2 with a message that names the problem and the fix', () => {
  it.each([
    [['lab', '--topologies', 'veth,weave'], /unknown topology "weave": choose from loopback, veth, bridge/],
    [['lab', '--baseline', 'bridge'], /--baseline bridge is not a baseline: choose loopback or veth/],
    [['lab', '--sizes', '64,20'], /--sizes.*"20" is not a whole number from 44 to 65507/],
    [['lab', '--count', '0'], /--count.*whole number from 1/],
    [['lab', '--cpu', '1,1'], /--cpu.*two different CPUs as REFLECTOR,SENDER/],
    [['lab', '--cpu', '0,4096'], /--cpu.*two different CPUs|this machine has CPUs/],
    [['lab', '--rate', '5000'], /--rate needs --mode rate/],
    [['lab', '--proto', 'udp,sctp'], /--proto.*give udp, tcp or udp,tcp/],
    [['lab', '--proto', 'udp,tcp', '--mode', 'rate'], /--mode rate is for UDP: with --proto tcp choose --mode pingpong .* or connect/],
    [['lab', '--mode', 'connect'], /--mode connect opens a TCP connection per probe: use it with --proto tcp alone/],
    [['lab', '--remote', '198.18.0.1', '--proto', 'udp,tcp'], /--remote 198\.18\.0\.1 names no port, and TCP has none by default \(862\/TCP is TWAMP-Control's\): give HOST:PORT/],
    [['lab', '--metrics', 'rtt.fast'], /unknown metric "rtt.fast"/],
    [['lab', '--remote', '198.18.0.1', '--topologies', 'vxlan'], /cannot run against a remote reflector .* with --remote choose from host, bridge-nat/],
    [['lab', '--topologies', 'host'], /only with --remote/],
    [['lab', '--remote', '198.18.0.1:99999'], /--remote.*port in target .* must be 1-65535/],
    [['lab', '--chain', '1,,10'], /--chain.*separated by commas/],
    [['budget'], /missing required argument 'files'/],
    [['budget', '/nonexistent/run.json'], /cannot read \/nonexistent\/run\.json \(ENOENT\): give a file written by `rtt-probe probe --json` or `rtt-probe lab --json`/],
    [['budget', '--metric', 'latency', 'x.json'], /unknown metric "latency": choose from rtt\.user/],
    [['budget', '--replicates', '10000000', '--chain', '1500', 'x.json'], /over 200000000 draws: lower one of them/],
  ])('%j', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(NO_STACK);
  });
});

describe('the lab needs root', () => {
  it('without CAP_NET_ADMIN it says so and exits 1, before building anything', async () => {
    const asRoot = process.getuid?.() === 0;
    // As root, drop to nobody (and every capability) to see what a user sees.
    const run = await runCli(['lab', '--count', '10'], asRoot ? { wrapper: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'] } : {});
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/rtt-probe: lab needs root \(CAP_NET_ADMIN and CAP_SYS_ADMIN\) to create network namespaces.*run it with sudo/);
    expect(run.stderr).not.toMatch(NO_STACK);
  });
});

describe('rtt-probe budget', () => {
  let fast: ProbeResultJSON;
  let slow: ProbeResultJSON;
  beforeAll(async () => {
    // Two real loopback results; which one is slower does not matter to the checks below. Bound by
    // count and blocking rather than spinning, so a busy host still gives samples (and quickly).
    const loopback = async (host: string): Promise<ProbeResultJSON> => {
      const reflector = await startReflector({ bind: host, port: 0, busyPoll: false });
      try {
        const result = await probe({ host, port: reflector.address.port }, { count: 500, busyPoll: false }).result;
        return JSON.parse(JSON.stringify(result)) as ProbeResultJSON;
      } finally {
        await reflector.stop();
      }
    };
    [fast, slow] = [await loopback('127.0.0.1'), await loopback('::1')];
  });

  it('from saved probe results: chain and fan-out tables, the cost of each pair, how accurate it is', async () => {
    const run = await runCli(['budget', `v4=${write('v4.json', fast)}`, `v6=${write('v6.json', slow)}`, '--chain', '1,10', '--fanout', '1,250']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^budget of rtt\.user per hop$/m);
    expect(run.stdout).toMatch(/^chain of N sequential calls: the sum of N per-hop samples, resampled \(10000 replicates, seed 1, /m);
    expect(run.stdout).toMatch(/^fan-out of K parallel calls: the max of K per-hop samples, exact from the histogram/m);
    expect(run.stdout).toMatch(/^input\s+N\s+p50\s+p90\s+p99\s+p99\.9\s+mean\s+N × p50 \(naive\)$/m);
    expect(run.stdout).toMatch(/^v4\s+1(\s+\d+\.\d+ (µs|ms)~?\*?){6}$/m);
    expect(run.stdout).toMatch(/^\s+10(\s+\d+\.\d+ (µs|ms)~?\*?){6}$/m);
    expect(run.stdout).toMatch(/^input\s+K\s+p50\s+p90\s+p99\s+p99\.9$/m);
    expect(run.stdout).toMatch(/^choose\s+over\s+N\s+Δp50\s+Δp99\s+naive N × Δp50$/m);
    expect(run.stdout).toMatch(/^choosing (v6 over v4|v4 over v6) costs .* for a chain of 10 calls/m);
    expect(run.stdout).toMatch(/^95% confidence intervals of every chain figure are in --json\.$/m);
  });

  it('--json: every input, every N and K, and the pairwise costs', async () => {
    const run = await runCli(['budget', write('a.json', fast), write('b.json', slow), '--chain', '1,10,250', '--fanout', '5', '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as BudgetReport & { metric: string; baseline: string };
    expect(report.metric).toBe('rtt.user');
    expect(report.baseline).toBe('a');
    expect(report.entries.map((e) => e.label)).toEqual(['a', 'b']);
    expect(report.entries[0]!.chain.map((c) => c.calls)).toEqual([1, 10, 250]);
    expect(report.entries[0]!.fanout.map((f) => f.calls)).toEqual([5]);
    expect(report.costs.map((c) => c.calls)).toEqual([1, 10, 250]);
    expect(report.method).toMatchObject({ replicates: 10_000, seed: 1, confidence: 0.95 });
    for (const c of report.entries[0]!.chain) {
      const p50 = c.percentiles['50']!;
      expect(p50.low).toBeLessThanOrEqual(p50.value);
      expect(p50.high).toBeGreaterThanOrEqual(p50.value);
    }
  });

  it('from a lab report: one input per measured topology, its baseline by default, --size when it measured several', async () => {
    const runOf = (r: ProbeResultJSON, size: number) => ({ size, repeat: 1, sender: r, reflector: null });
    const report = {
      schemaVersion: 1,
      kind: 'rtt-probe-lab',
      settings: { topologies: ['veth', 'bridge', 'ipip'], baseline: 'veth', sizes: [64, 300], repeat: 1 },
      host: fast.host,
      startedAt: fast.startedAt,
      endedAt: slow.endedAt,
      topologies: [
        { name: 'veth', status: 'measured', reason: null, runs: [runOf(fast, 64), runOf(fast, 300)] },
        { name: 'bridge', status: 'measured', reason: null, runs: [runOf(slow, 64), runOf(slow, 300)] },
        { name: 'ipip', status: 'skipped', reason: 'kernel lacks ipip', runs: [] },
      ],
    } as unknown as LabReportJSON;
    const file = write('lab.json', report);
    const both = await runCli(['budget', file]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/lab\.json holds payload sizes 64, 300: choose one with --size/);
    const run = await runCli(['budget', file, '--size', '300', '--json']);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as BudgetReport & { baseline: string };
    expect(out.baseline).toBe('veth');
    expect(out.entries.map((e) => e.label)).toEqual(['veth', 'bridge']);
  });

  it.each([
    ['not JSON', () => ['budget', write('text.json', 'rtt 12us')], /text\.json is not JSON: give a file written by/],
    ['some other JSON', () => ['budget', write('other.json', { hello: 1 })], /other\.json is not an rtt-probe result \(no "metrics"\): expected a probe result .* or a lab report/],
    ['another kind of result', () => ['budget', write('caps.json', { schemaVersion: 1, kind: 'rtt-probe-caps' })], /caps\.json is a capabilities report .*: expected a probe result/],
    ['a newer schema', () => ['budget', write('new.json', { ...fast, schemaVersion: 99 })], /new\.json was written by a newer rtt-probe \(result schema version 99; this one reads up to 1\)/],
    ['a metric the file lacks', () => ['budget', '--metric', 'rtt.hw', write('c.json', fast)], /c\.json has no rtt\.hw samples \(it has: rtt\.user, .*\): choose one of those with --metric/],
    ['two inputs of one name', () => ['budget', `x=${write('d.json', fast)}`, `x=${write('e.json', slow)}`], /two inputs are named "x": name them apart with LABEL=FILE/],
    ['a baseline that is no input', () => ['budget', '--baseline', 'bridge', write('f.json', fast)], /--baseline bridge is none of the inputs: choose from f/],
  ])('%s: exit 2 and what to do', async (_what, args, message) => {
    const run = await runCli(args());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(NO_STACK);
  });
});
