/**
 * `rtt-probe qualify` without traffic: profiles (JSON and YAML, every key
 * checked, rules through the one rule grammar), the matrix a profile makes,
 * which cells a host skips and which metrics a cell can have, the estimate,
 * the verdicts on cells that did not measure, the usage errors that stop
 * the command before it sends anything, and a target on loopback that does
 * not answer. The runs themselves are in
 * qualify.test.ts (root, network namespaces).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/exit-codes';
import { buildMatrix, cellCanMeasure, estimateNs, skipReason, type PathFacts } from '../src/qualify/matrix';
import { DEFAULT_PROFILE, PROFILE_KEYS, ProfileError, checkProfile, loadProfile, profileRules } from '../src/qualify/profile';
import { holdsNetRaw } from '../src/qualify/run';
import { judge, type CellRun } from '../src/qualify/verdicts';
import { runCli } from './support/cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rttp-qualify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('profiles', () => {
  it('every key is optional: what a profile leaves out comes from the default profile', () => {
    expect(checkProfile({ rules: ['loss == 0'], sizes: [128] }, 'p')).toEqual({ ...DEFAULT_PROFILE, rules: ['loss == 0'], sizes: [128] });
  });

  it('--require rules are added to the profile’s', () => {
    expect(checkProfile({ rules: ['loss == 0'] }, 'p', ['rtt.user p99 <= 1ms']).rules).toEqual(['loss == 0', 'rtt.user p99 <= 1ms']);
  });

  it('the rules parse into the rule grammar’s absolute rules', () => {
    expect(profileRules(checkProfile({ rules: ['rtt.kernel p99.9 <= 30us', 'loss <= 0.1%', 'caps <= warn'] }, 'p'))).toEqual([
      { kind: 'percentile', text: 'rtt.kernel p99.9 <= 30us', metric: 'rtt.kernel', statistic: 'p99.9', op: '<=', valueNs: 30_000 },
      { kind: 'counter', text: 'loss <= 0.1%', counter: 'loss', op: '<=', value: 0.1, unit: '%' },
      { kind: 'caps', text: 'caps <= warn', op: '<=', verdict: 'warn' },
    ]);
  });

  it.each([
    ['an unknown key (a typo must not pass silently)', { rules: ['loss == 0'], size: [64] }, /^p: unknown key "size": a profile takes rules, sizes, timestamps, modes, rates, count, transports, timeout$/],
    ['an unknown metric', { rules: ['rtt.wire p99 <= 8us'] }, /^p: rule "rtt.wire p99 <= 8us": at column 1, unknown metric "rtt.wire": expected one of rtt.user, /],
    ['an unknown percentile', { rules: ['rtt.user p42 <= 8us'] }, /^p: rule "rtt.user p42 <= 8us": at column 10, unknown statistic "p42": expected one of min, p50, /],
    ['an unknown operator', { rules: ['rtt.user p99 =< 8us'] }, /^p: rule "rtt.user p99 =< 8us": at column 14, expected an operator \(<= >= == != < >\)/],
    ['a relative rule', { rules: ['rtt.user p99 > +10%'] }, /^p: rule "rtt.user p99 > \+10%" is a change against a baseline \(compare --fail-if\); a profile takes absolute rules/],
    ['a latency rule without a metric', { rules: ['p99 <= 8us'] }, /^p: rule "p99 <= 8us" names no metric; write it as "rtt.user p99 <= 8us"/],
    ['a rule that is not a string', { rules: [99] }, /^p: "rules" has 99: each rule is a string such as "loss == 0"/],
    ['no rules at all', { sizes: [64] }, /^p: no rules to check: give "rules" in the profile, or --require RULE$/],
    ['a size below a STAMP packet', { rules: ['loss == 0'], sizes: [64, 20] }, /^p: "sizes" has 20: expected sizes in bytes from 44 to 65507$/],
    ['a size twice', { rules: ['loss == 0'], sizes: [64, 64] }, /^p: "sizes" lists 64 twice$/],
    ['an unknown timestamp source', { rules: ['loss == 0'], timestamps: ['nic'] }, /^p: "timestamps" has "nic": expected auto, software, hardware, none$/],
    ['an unknown mode', { rules: ['loss == 0'], modes: ['burst'] }, /^p: "modes" has "burst": expected pingpong, rate$/],
    ['an unknown transport', { rules: ['loss == 0'], transports: ['sctp'] }, /^p: "transports" has "sctp": expected udp/],
    ['an empty list', { rules: ['loss == 0'], rates: [] }, /^p: "rates" must be a non-empty list of probes per second, got \[\]$/],
    ['a count that is not a whole number', { rules: ['loss == 0'], count: 1.5 }, /^p: "count" has 1.5: expected a number of probes from 1 to 4000000000$/],
    ['a timeout that is not a duration', { rules: ['loss == 0'], timeout: '5 parsecs' }, /^p: "timeout" must be a duration from 1us to 60s, such as "1s" or "20ms", got "5 parsecs"$/],
    ['a list instead of an object', ['loss == 0'], /^p: a profile is an object with the keys rules, sizes, /],
  ])('%s is a ProfileError that says what to give', (_what, json, message) => {
    expect(() => checkProfile(json, 'p')).toThrow(ProfileError);
    expect(() => checkProfile(json, 'p')).toThrow(message);
  });

  it('loads JSON by its extension and YAML otherwise, naming the file in every error', () => {
    expect(loadProfile(file('p.json', '{"rules": ["loss == 0"], "count": 300}')).count).toBe(300);
    expect(loadProfile(file('p.yaml', 'rules:\n  - loss == 0\ncount: 400\n')).count).toBe(400);
    const bad = file('bad.yaml', 'rules: [loss == 0\n');
    expect(() => loadProfile(bad)).toThrow(new RegExp(`^the profile "${bad}" is not valid YAML: `));
    const typo = file('typo.json', '{"rule": ["loss == 0"]}');
    expect(() => loadProfile(typo)).toThrow(`profile "${typo}": unknown key "rule": a profile takes ${PROFILE_KEYS.join(', ')}`);
    expect(() => loadProfile(path.join(dir, 'none.yaml'))).toThrow(/^cannot read the profile ".*none.yaml" \(ENOENT\); give a JSON or YAML file/);
  });

  it('the example profile for a 10/25 GbE low-latency rig loads', () => {
    const profile = loadProfile(path.join(__dirname, '..', 'docs', 'profiles', 'low-latency-25g.yaml'));
    expect(profileRules(profile).map((r) => r.kind)).toContain('caps');
    expect(profile.timestamps).toEqual(['software', 'hardware']);
  });
});

describe('the matrix', () => {
  const profile = { transports: ['udp'] as const, timestamps: ['software', 'hardware'] as const, sizes: [64, 1472], modes: ['pingpong', 'rate'] as const, rates: [1000, 10_000] };
  const cells = buildMatrix({ ...profile, transports: [...profile.transports], timestamps: [...profile.timestamps], modes: [...profile.modes] });

  it('is transports × timestamp sources × sizes × (ping-pong + one cell per rate), in that order', () => {
    expect(cells.map((c) => c.id)).toEqual([
      'udp-software-64-pingpong', 'udp-software-64-rate1000', 'udp-software-64-rate10000',
      'udp-software-1472-pingpong', 'udp-software-1472-rate1000', 'udp-software-1472-rate10000',
      'udp-hardware-64-pingpong', 'udp-hardware-64-rate1000', 'udp-hardware-64-rate10000',
      'udp-hardware-1472-pingpong', 'udp-hardware-1472-rate1000', 'udp-hardware-1472-rate10000',
    ]);
    expect(cells[2]).toEqual({ id: 'udp-software-64-rate10000', transport: 'udp', timestamps: 'software', size: 64, mode: 'rate', rate: 10_000 });
  });

  it('has no rate cells without rate mode, whatever the rates', () => {
    expect(buildMatrix({ ...DEFAULT_PROFILE, modes: ['pingpong'] }).every((c) => c.mode === 'pingpong' && c.rate === null)).toBe(true);
  });

  const software: PathFacts = { interface: 'veth0', hardwareTimestamping: false, netRaw: true };
  const nic: PathFacts = { interface: 'eth0', hardwareTimestamping: true, netRaw: true };

  it('skips hardware cells, saying why, where the interface has no hardware timestamping', () => {
    expect(skipReason(cells[6]!, software)).toBe('veth0 has no hardware timestamping (ethtool -T veth0)');
    expect(skipReason(cells[6]!, nic)).toBeNull();
    expect(skipReason(cells[0]!, software)).toBeNull();
  });

  it('skips raw cells, saying why, where the process lacks CAP_NET_RAW', () => {
    const [raw] = buildMatrix({ ...DEFAULT_PROFILE, transports: ['raw'], timestamps: ['software'] });
    expect(skipReason(raw!, { ...software, netRaw: false })).toBe(
      'the raw transport needs CAP_NET_RAW: run as root, or `sudo setcap cap_net_raw+ep $(readlink -f $(which node))`',
    );
    expect(skipReason(raw!, software)).toBeNull();
  });

  it('reads CAP_NET_RAW (bit 13) from the effective capabilities of /proc/self/status', () => {
    expect(holdsNetRaw('Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n')).toBe(true);
    expect(holdsNetRaw('CapEff:\t0000000000002000\n')).toBe(true);
    expect(holdsNetRaw('CapPrm:\t000001ffffffffff\nCapEff:\t0000000000001000\n')).toBe(false);
    expect(holdsNetRaw('Name:\tnode\n')).toBe(false);
  });

  it('gives rtt.hw only to cells that ask the NIC, kernel metrics unless timestamps are none, send.error only to rate cells', () => {
    const cell = (timestamps: 'auto' | 'software' | 'hardware' | 'none', mode: 'pingpong' | 'rate' = 'pingpong') => ({ ...cells[0]!, timestamps, mode });
    expect(cellCanMeasure(cell('software'), 'rtt.hw', nic)).toBe(false);
    expect(cellCanMeasure(cell('hardware'), 'rtt.hw', nic)).toBe(true);
    expect(cellCanMeasure(cell('auto'), 'rtt.hw', nic)).toBe(true);
    expect(cellCanMeasure(cell('auto'), 'rtt.hw', software)).toBe(false);
    expect(cellCanMeasure(cell('none'), 'rtt.kernel', software)).toBe(false);
    expect(cellCanMeasure(cell('software'), 'rtt.kernel', software)).toBe(true);
    expect(cellCanMeasure(cell('none'), 'rtt.user', software)).toBe(true);
    expect(cellCanMeasure(cell('software'), 'send.error', software)).toBe(false);
    expect(cellCanMeasure(cell('software', 'rate'), 'send.error', software)).toBe(true);
  });

  it('estimates rate cells as count / rate and ping-pong cells as count round trips, warm-up included, and each cell its session cost', () => {
    expect(estimateNs([cells[0]!], 990, 20_000, 0)).toBe(1000 * 20_000);
    expect(estimateNs([cells[1]!, cells[2]!], 990, 20_000, 0)).toBe(1e9 + 1e8);
    expect(estimateNs([cells[0]!, cells[1]!], 990, 20_000, 3e8)).toBe(1000 * 20_000 + 1e9 + 2 * 3e8);
  });
});

describe('verdicts on cells that did not measure', () => {
  const [cell] = buildMatrix({ ...DEFAULT_PROFILE, timestamps: ['hardware'], sizes: [64], modes: ['pingpong'] });
  const rules = profileRules(checkProfile({ rules: ['rtt.hw p99 <= 8us', 'loss == 0', 'caps <= warn'] }, 'p'));
  const path_: PathFacts = { interface: 'veth0', hardwareTimestamping: false, netRaw: true };

  it('a rule no cell could check is unchecked, and fails the qualification: nothing measured must not pass', () => {
    const skipped: CellRun = { cell: cell!, status: 'skipped', reason: skipReason(cell!, path_), result: null };
    const v = judge(rules.slice(0, 2), [skipped], undefined, path_, false);
    expect(v.verdict).toBe('fail');
    expect(v.rules).toEqual([
      { rule: 'rtt.hw p99 <= 8us', verdict: 'unchecked', checked: 0, failed: 0, reason: 'no cell ran' },
      { rule: 'loss == 0', verdict: 'unchecked', checked: 0, failed: 0, reason: 'no cell ran' },
    ]);
  });

  it('a cell whose session failed fails every rule that applies to it, with the reason', () => {
    const failed: CellRun = { cell: cell!, status: 'failed', reason: 'SIOCSHWTSTAMP: EPERM', result: null };
    const v = judge(rules.slice(1, 2), [failed], undefined, { ...path_, hardwareTimestamping: true }, false);
    expect(v.checks).toEqual([{ rule: 'loss == 0', cell: cell!.id, verdict: 'fail', measured: null, unit: 'count', reason: 'the run failed: SIOCSHWTSTAMP: EPERM' }]);
  });

  it('a caps rule without a caps snapshot fails, saying so; an interrupted run is interrupted whatever held', () => {
    const v = judge(rules.slice(2), [], undefined, path_, true);
    expect(v).toEqual({
      verdict: 'interrupted',
      rules: [{ rule: 'caps <= warn', verdict: 'fail', checked: 1, failed: 1, reason: null }],
      checks: [{ rule: 'caps <= warn', cell: null, verdict: 'fail', measured: null, unit: 'verdict', reason: 'no caps snapshot could be taken' }],
    });
  });
});

describe('rtt-probe qualify: usage errors stop it before it sends anything (exit 2)', () => {
  // 198.18.0.1 is reached by no route here: a probe would fail (exit 1), not exit 2 at once.
  const target = '198.18.0.1:862';

  it.each([
    ['an unknown metric in the profile', () => ['--profile', file('m.yaml', 'rules: [rtt.wire p99 <= 8us]\n')], /rule "rtt.wire p99 <= 8us": at column 1, unknown metric "rtt.wire"/],
    ['an unknown key in the profile', () => ['--profile', file('k.json', '{"rules": ["loss == 0"], "rate": [1000]}')], /unknown key "rate": a profile takes/],
    ['an unknown operator in --require', () => ['--require', 'loss ~ 0'], /--require: rule "loss ~ 0": at column 6, expected an operator/],
    ['a profile that does not exist', () => ['--profile', path.join(dir, 'missing.yaml')], /cannot read the profile ".*missing.yaml" \(ENOENT\)/],
    ['an --out that cannot be a directory', () => ['--require', 'loss == 0', '--out', '/etc/hostname/run'], /cannot write the --out directory "\/etc\/hostname\/run": a part of its directory is not a directory \(ENOTDIR\)/],
  ])('%s', async (_what, args, message) => {
    const run = await runCli(['qualify', target, ...args()]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('a non-empty --out directory is refused unless --force', async () => {
    const out = mkdtempSync(path.join(dir, 'out-'));
    writeFileSync(path.join(out, 'kept.txt'), 'an earlier run');
    const run = await runCli(['qualify', target, '--require', 'loss == 0', '--out', out]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain(`the --out directory "${out}" is not empty: give a new or empty directory, or --force to write into it`);
    expect(readdirSync(out)).toEqual(['kept.txt']);
  });
});

describe('rtt-probe qualify against a target that does not answer', () => {
  it('a target that does not answer the pilot probes is exit 1 before the matrix, saying what to start there', async () => {
    // Port 9 (discard) on loopback: nothing answers STAMP there, and the ICMP port unreachable ends the pilot at once.
    const run = await runCli(['qualify', '127.0.0.1:9', '--require', 'loss == 0']);
    expect(run.code).toBe(EXIT.failure);
    expect(run.stderr).toMatch(/^rtt-probe: no reply from 127\.0\.0\.1:9 to the pilot probes before the matrix \(.*port unreachable.*\); is a STAMP reflector running there\? rtt-probe reflect starts one\n$/);
    expect(run.stdout).toBe('');
  });
});
