/**
 * `rtt-probe qualify` across a veth pair: a reflector in one namespace, the
 * qualification in the other, each a CLI process. A profile the path meets
 * passes (exit 0); thresholds below what the path does fail (exit 3), and so
 * does `loss == 0` while nftables drops 5% of the probes; --out keeps the
 * run; --json is one document of the result schema; SIGINT stops the matrix
 * and keeps what was measured. Needs root; the namespaces are removed
 * afterwards, also on failure. Profiles and usage errors without traffic are
 * in qualify-profile.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/exit-codes';
import { summaryLine, type QualifyJSON } from '../src/qualify/report';
import { checkResult } from '../src/schema';
import { browserUnavailable, openReport } from './support/browser';
import { runCli, spawnCli, startCliReflector } from './support/cli';
import { createVethPair, namespaceExists, netnsUnavailable, nftUnavailable, removeLeftovers, type VethPair } from './support/netns';

const PREFIX = 'rttp-qualify-';

const skip = netnsUnavailable();
if (skip) console.warn(`qualify tests skipped: ${skip}`);
const skipLoss = nftUnavailable();
if (skipLoss && !skip) console.warn(`qualify loss test skipped: ${skipLoss}`);
const browserSkip = browserUnavailable();

/** A small matrix: two sizes, software and hardware timestamps (veth has no NIC stamps: those cells are skipped), ping-pong and one rate. */
const SMALL = { sizes: [64, 256], timestamps: ['software', 'hardware'], modes: ['pingpong', 'rate'], rates: [2000], count: 300 };

describe.skipIf(skip !== null)('rtt-probe qualify across a veth pair', () => {
  let net: VethPair;
  let reflector: Awaited<ReturnType<typeof startCliReflector>>;
  let target: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rttp-qualify-'));

  function profile(name: string, json: object): string {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(json));
    return file;
  }

  const qualify = (args: string[], timeoutMs = 60_000) => runCli(['qualify', target, ...args], { netns: net.b, timeoutMs });

  beforeAll(async () => {
    removeLeftovers(PREFIX);
    net = createVethPair('qualify', PREFIX);
    // Blocking, not spinning: the sender spins, and the machine is shared.
    reflector = await startCliReflector(`${net.addressA}:0`, { netns: net.a, extra: ['--no-busy-poll'] });
    target = `${net.addressA}:${reflector.listening.port}`;
  });
  afterAll(async () => {
    reflector?.child.kill('SIGTERM');
    await reflector?.done;
    net?.remove();
    rmSync(dir, { recursive: true, force: true });
    expect(namespaceExists(net.a)).toBe(false);
  });

  it('a profile the path meets passes: the plan, a line per cell, the verdict table and a PASS summary; exit 0', async () => {
    const run = await qualify(['--profile', profile('pass.json', { ...SMALL, rules: ['rtt.user p99 <= 200ms', 'rtt.kernel p50 <= 200ms', 'loss == 0', 'caps <= fail'] })]);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    expect(run.stderr).toMatch(new RegExp(`^qualify ${target} via veth-rttp \\(no hardware timestamping\\)\nmatrix: 8 cells, 4 to run, 300 probes each\n`));
    expect(run.stderr).toMatch(/^ {2}- {2}udp-hardware-64-pingpong +skipped: veth-rttp has no hardware timestamping \(ethtool -T veth-rttp\)$/m);
    expect(run.stderr).toMatch(/^estimated \d+\.\d s: rate cells count \/ rate; ping-pong cells count x [\d.]+ µs; each cell [\d.]+ ms to start and end: the mean round trip and the session cost of 200 ping-pong probes measured just now$/m);
    for (const [i, id] of ['udp-software-64-pingpong', 'udp-software-64-rate2000', 'udp-software-256-pingpong', 'udp-software-256-rate2000'].entries()) {
      expect(run.stderr).toMatch(new RegExp(`^\\[${i + 1}/4\\] ${id}: 300 sent, 300 received, rtt.user p50 [\\d.]+ µs p99 [\\d.]+ µs$`, 'm'));
      expect(run.stdout).toMatch(new RegExp(`^${id} +rtt.user p99 <= 200ms +ok +[\\d.]+ µs$`, 'm'));
    }
    expect(run.stderr).toMatch(/^the cells took \d+\.\d s \(estimated \d+\.\d s\)$/m);
    expect(run.stdout).toMatch(/^host +caps <= fail +ok +(ok|warn|fail)$/m);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('qualify: PASS: 4 rules ok; 4 cells run, 4 skipped');
  }, 90_000);

  it('thresholds below what the path does fail: the table names the rule and the value measured; exit 3', async () => {
    const run = await qualify(['--profile', profile('fast.json', { ...SMALL, timestamps: ['software'], rules: ['rtt.user p50 <= 1ns', 'loss == 0', 'caps <= ok'] })]);
    expect(run.code, run.stderr).toBe(EXIT.check);
    expect(run.stdout).toMatch(/^udp-software-64-pingpong +rtt.user p50 <= 1ns +FAIL +[\d.]+ µs$/m);
    expect(run.stdout).toMatch(/^ {2}FAIL +rtt.user p50 <= 1ns +0 of 4 checks ok$/m);
    expect(run.stdout).toMatch(/^ {2}ok +loss == 0 +4 of 4 checks ok$/m);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('qualify: FAIL: 2 of 3 rules failed; 4 cells run, 0 skipped');
    // caps <= ok fails on any host without --cpu: not every CPU the process may run on can be isolated. The settings to fix are listed.
    expect(run.stdout).toMatch(/^host +caps <= ok +FAIL +(warn|fail)$/m);
    expect(run.stdout).toMatch(/^caps to fix\n( {2}(warn|fail) +\S+ [\w-]+: .*\n)+/m);
  }, 90_000);

  it('a rule about a metric no cell can have (rtt.hw on veth) is unchecked, with the reason, and fails; exit 3', async () => {
    const run = await qualify(['--profile', profile('hw.json', { ...SMALL, sizes: [64], modes: ['pingpong'], rules: ['rtt.hw p99 <= 8us', 'loss == 0'] })]);
    expect(run.code, run.stderr).toBe(EXIT.check);
    expect(run.stdout).toMatch(/^ {2}UNCHECKED +rtt.hw p99 <= 8us +no cell that ran can have rtt.hw \(skipped: veth-rttp has no hardware timestamping \(ethtool -T veth-rttp\)\)$/m);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('qualify: FAIL: 0 of 2 rules failed, 1 unchecked; 1 cell run, 1 skipped');
  }, 90_000);

  it('--json prints one document of the result schema: profile, cells with their results and caps, checks and verdicts', async () => {
    const run = await qualify(['--json', '--require', 'rtt.user p99 <= 200ms', '--require', 'caps <= fail', '--profile', profile('json.json', { ...SMALL, sizes: [64] })]);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    const json = JSON.parse(run.stdout) as QualifyJSON;
    expect(checkResult(json, ['qualify'], 'the output')).toBe('qualify');
    expect(json.profile).toMatchObject({ ...SMALL, sizes: [64], rules: ['rtt.user p99 <= 200ms', 'caps <= fail'], transports: ['udp'], timeout: '1s' });
    expect(json.interface).toBe('veth-rttp');
    expect(json.caps!.interfaces.map((i) => i.interface)).toEqual(['veth-rttp']);
    expect(json.cells.map((c) => [c.id, c.status])).toEqual([
      ['udp-software-64-pingpong', 'measured'],
      ['udp-software-64-rate2000', 'measured'],
      ['udp-hardware-64-pingpong', 'skipped'],
      ['udp-hardware-64-rate2000', 'skipped'],
    ]);
    const measured = json.cells[1]!.result!;
    expect(measured).toMatchObject({ sent: 300, options: { mode: 'rate', rate: 2000, size: 64, count: 300, timestamps: 'software' } });
    // Each result describes itself: the caps of the interface and CPUs it used.
    expect(measured.caps!.interfaces.map((i) => i.interface)).toEqual(['veth-rttp']);
    const check = json.checks.find((c) => c.cell === 'udp-software-64-rate2000')!;
    expect(check).toEqual({ rule: 'rtt.user p99 <= 200ms', cell: 'udp-software-64-rate2000', verdict: 'ok', measured: measured.metrics['rtt.user']!.percentiles['99'], unit: 'ns', reason: null });
    expect(json.checks.find((c) => c.cell === null)).toMatchObject({ rule: 'caps <= fail', verdict: 'ok', measured: json.caps!.summary.worst, unit: 'verdict' });
    expect(json.verdict).toBe('pass');
  }, 90_000);

  it('--out keeps the run: a result per cell, the caps snapshot, the effective profile, the verdicts and an HTML report', async () => {
    const out = path.join(dir, 'kept');
    const run = await qualify(['--out', out, '--profile', profile('out.json', { ...SMALL, sizes: [64], timestamps: ['software'], rules: ['loss == 0'] })]);
    expect(run.code, run.stderr).toBe(EXIT.ok);
    expect(readdirSync(out).sort()).toEqual(['caps.json', 'profile.json', 'report.html', 'results', 'verdicts.json']);
    expect(readdirSync(path.join(out, 'results')).sort()).toEqual(['udp-software-64-pingpong.json', 'udp-software-64-rate2000.json']);
    const result = JSON.parse(readFileSync(path.join(out, 'results', 'udp-software-64-rate2000.json'), 'utf8'));
    expect(checkResult(result, ['probe'], 'the result file')).toBe('probe');
    const verdicts = JSON.parse(readFileSync(path.join(out, 'verdicts.json'), 'utf8')) as QualifyJSON;
    expect(checkResult(verdicts, ['qualify'], 'verdicts.json')).toBe('qualify');
    expect(JSON.parse(readFileSync(path.join(out, 'profile.json'), 'utf8'))).toEqual(verdicts.profile);
    expect(JSON.parse(readFileSync(path.join(out, 'caps.json'), 'utf8'))).toEqual(verdicts.caps);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('udp-software-64-pingpong');
    expect(html).toContain('udp-software-64-rate2000');
    if (browserSkip) console.warn(`the report's rendering is not checked: ${browserSkip}`);
    else {
      // The report leads with the verdicts, as a browser shows them, then plots every cell.
      const page = await openReport(path.join(out, 'report.html'), path.join(dir, 'qualify.png'));
      expect(page.errors).toEqual([]);
      expect(page.text).toContain(summaryLine(verdicts));
      expect(page.text).toMatch(/verdict\s+rule\s+detail\s+ok\s+loss == 0\s+2 of 2 checks ok/);
      expect(page.text).toMatch(/udp-software-64-rate2000\s+loss == 0\s+ok\s+0\s/);
      expect(page.text.indexOf('Verdicts')).toBeLessThan(page.text.indexOf(page.plots[0]!.title));
      expect(page.plots.length).toBeGreaterThan(0);
      for (const plot of page.plots) expect(plot.pixels.some((n) => n > 0), plot.title).toBe(true);
    }
    // The same directory again: refused, then written into with --force.
    expect((await qualify(['--out', out, '--profile', profile('again.json', { ...SMALL, sizes: [128], modes: ['pingpong'], rules: ['loss == 0'] })])).code).toBe(EXIT.usage);
    const again = await qualify(['--out', out, '--force', '--profile', path.join(dir, 'again.json')]);
    expect(again.code, again.stderr).toBe(EXIT.ok);
    expect(readdirSync(path.join(out, 'results')).sort()).toEqual(['udp-software-128-pingpong.json', 'udp-software-64-pingpong.json', 'udp-software-64-rate2000.json']);
    expect(JSON.parse(readFileSync(path.join(out, 'profile.json'), 'utf8')).sizes).toEqual([128]);
  }, 90_000);

  it('the raw transport runs where CAP_NET_RAW is held, and is skipped with the reason where it is not', async () => {
    const file = profile('raw.json', { ...SMALL, sizes: [64], timestamps: ['software'], modes: ['pingpong'], transports: ['udp', 'raw'], rules: ['loss == 0', 'rtt.user p99 <= 200ms'] });
    const root = await qualify(['--json', '--profile', file]);
    expect(root.code, root.stderr).toBe(EXIT.ok);
    const json = JSON.parse(root.stdout) as QualifyJSON;
    expect(json.cells.map((c) => [c.id, c.status, c.result?.options.transport])).toEqual([
      ['udp-software-64-pingpong', 'measured', 'udp'],
      ['raw-software-64-pingpong', 'measured', 'raw'],
    ]);
    expect(json.cells[1]!.result!.received).toBe(300);
    // The same as nobody, every capability dropped (who must be able to read the profile).
    chmodSync(dir, 0o755);
    const nobody = await runCli(['qualify', target, '--profile', file], { netns: net.b, wrapper: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'] });
    expect(nobody.code, nobody.stderr).toBe(EXIT.ok);
    expect(nobody.stderr).toMatch(/^ {2}- {2}raw-software-64-pingpong +skipped: the raw transport needs CAP_NET_RAW: run as root, or `sudo setcap cap_net_raw\+ep/m);
    expect(nobody.stdout.trimEnd().split('\n').at(-1)).toBe('qualify: PASS: 2 rules ok; 1 cell run, 1 skipped');
  }, 90_000);

  it('SIGINT mid-matrix stops it, prints and keeps the partial verdicts marked interrupted; exit 130', async () => {
    const out = path.join(dir, 'interrupted');
    // 20 000 probes at 1000/s: 20 s a cell, so the signal lands in the first.
    const file = profile('long.json', { sizes: [64, 256], timestamps: ['software'], modes: ['rate'], rates: [1000], count: 20_000, rules: ['loss == 0'] });
    const { child, done } = spawnCli(['qualify', target, '--profile', file, '--out', out], { netns: net.b, timeoutMs: 60_000 });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr!.on('data', (d) => {
        stderr += d;
        if (stderr.includes('estimated ')) resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGINT');
    const run = await done;
    expect(run.code, run.stderr).toBe(EXIT.sigint);
    expect(run.stderr).toMatch(/^\[1\/2\] udp-software-64-rate1000: \d+ sent, \d+ received, .* \(interrupted\)$/m);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(
      'qualify: INTERRUPTED (verdicts cover what was measured before the stop): 1 rule ok; 1 cell run, 0 skipped, 1 not run',
    );
    const verdicts = JSON.parse(readFileSync(path.join(out, 'verdicts.json'), 'utf8')) as QualifyJSON;
    expect(verdicts).toMatchObject({ interrupted: true, verdict: 'interrupted' });
    expect(verdicts.cells.map((c) => c.status)).toEqual(['interrupted', 'not run']);
    const sent = verdicts.cells[0]!.result!.sent;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(20_000);
    expect(existsSync(path.join(out, 'results', 'udp-software-64-rate1000.json'))).toBe(true);
  }, 90_000);

  describe.skipIf(skipLoss !== null)('with nftables dropping 5% of the probes at the reflector', () => {
    beforeAll(() => {
      execFileSync('ip', ['netns', 'exec', net.a, 'nft', '-f', '-'], {
        input: `
          table inet rttp_qualify {
            chain input {
              type filter hook input priority 0; policy accept;
              udp dport ${reflector.listening.port} numgen random mod 100 < 5 drop
            }
          }`,
      });
    });
    afterAll(() => execFileSync('ip', ['netns', 'exec', net.a, 'nft', 'delete', 'table', 'inet', 'rttp_qualify']));

    it('`loss == 0` fails, and the table shows what was lost; exit 3', async () => {
      // 2000 probes: the chance that 5% drops none of them is below 1e-44.
      const file = profile('loss.json', { sizes: [64], timestamps: ['software'], modes: ['rate'], rates: [5000], count: 2000, timeout: '50ms', rules: ['loss == 0', 'loss <= 20%'] });
      const run = await qualify(['--profile', file]);
      expect(run.code, run.stderr).toBe(EXIT.check);
      const lost = /^udp-software-64-rate5000 +loss == 0 +FAIL +(\d+)$/m.exec(run.stdout);
      expect(lost, run.stdout).not.toBeNull();
      expect(Number(lost![1])).toBeGreaterThan(0);
      expect(run.stdout).toMatch(/^udp-software-64-rate5000 +loss <= 20% +ok +\d+\.\d{3}%$/m);
      expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('qualify: FAIL: 1 of 2 rules failed; 1 cell run, 0 skipped');
    }, 90_000);
  });
});
