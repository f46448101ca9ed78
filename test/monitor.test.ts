/**
 * `rtt-probe monitor` as a service: it probes every target of its targets
 * file, serves the series of src/monitor/series.ts on /metrics with the
 * source, target and address labels, answers /healthz, follows the file as
 * it changes and on SIGHUP (the other targets keep their counters), ends with
 * exit 0 on SIGTERM, and binds /metrics to localhost unless told otherwise.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { probe, startReflector, type Reflector } from '../src/index';
import { MESH_BUCKET_BOUNDS_NS } from '../src/mesh';
import { LAST_REPLY_SERIES, PROBE_COUNTER_SERIES, RTT_SERIES, SERIES, TARGET_UP_SERIES, seriesPerTarget } from '../src/monitor/series';
import { runCli, spawnCli } from './support/cli';
import { netnsUnavailable, PREFIX, removeLeftovers } from './support/netns';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let dir = '';
const reflectors: Reflector[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rtt-probe-monitor-'));
  for (let i = 0; i < 3; ++i) reflectors.push(await startReflector({ bind: '127.0.0.1', port: 0, busyPoll: false }));
});

afterAll(async () => {
  await Promise.all(reflectors.map((r) => r.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const target = (name: string, i: number) => ({ name, address: '127.0.0.1', port: reflectors[i]!.address.port });

/** Replaces the file as editors do (write aside, rename over). */
function writeTargets(file: string, targets: object[]): void {
  writeFileSync(`${file}.tmp`, JSON.stringify({ targets }));
  renameSync(`${file}.tmp`, file);
}

/** Starts the monitor and waits for its "metrics on HOST:PORT" line. */
async function startMonitor(args: string[]) {
  const run = spawnCli(['monitor', ...args], { timeoutMs: 40_000 });
  let stderr = '';
  run.child.stderr!.on('data', (d) => (stderr += d));
  for (let i = 0; i < 100 && !/metrics on /.test(stderr); ++i) await sleep(100);
  const port = /metrics on 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1];
  if (!port) throw new Error(`the monitor did not start: ${stderr}`);
  return { ...run, url: `http://127.0.0.1:${port}`, log: () => stderr };
}

/** The value of every series line, keyed by the line's name and labels. */
async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const series = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

const labels = (t: { name: string }) => `{source="node-1",target="${t.name}",address="127.0.0.1"}`;

let monitor: Awaited<ReturnType<typeof startMonitor>> | undefined;
afterEach(() => {
  monitor?.child.kill('SIGKILL');
  monitor = undefined;
});

describe('rtt-probe monitor', () => {
  it('serves every target series with its labels, /healthz, and ends with exit 0 on SIGTERM', async () => {
    const file = path.join(dir, 'serve.json');
    const a = target('a', 0);
    const b = target('b', 1);
    writeTargets(file, [a, b]);
    monitor = await startMonitor(['--targets', file, '--reflect', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--name', 'node-1', '--rate', '20']);
    await sleep(1500);
    const series = await scrape(monitor.url);
    for (const t of [a, b]) {
      for (const s of PROBE_COUNTER_SERIES) expect(series.has(`${s.name}${labels(t)}`)).toBe(true);
      expect(series.get(`rtt_probe_probes_sent_total${labels(t)}`)).toBeGreaterThan(10);
      expect(series.get(`rtt_probe_probes_lost_total${labels(t)}`)).toBe(0);
      expect(series.get(`${TARGET_UP_SERIES.name}${labels(t)}`)).toBe(1);
      expect(series.get(`${LAST_REPLY_SERIES.name}${labels(t)}`)).toBeGreaterThan(Date.now() / 1000 - 5);
      const user = `{source="node-1",target="${t.name}",address="127.0.0.1",metric="user"`;
      const count = series.get(`${RTT_SERIES.name}_count${user}}`)!;
      expect(count).toBeGreaterThan(10);
      expect(series.get(`${RTT_SERIES.name}_bucket${user},le="+Inf"}`)).toBe(count);
    }
    expect(series.has('rtt_probe_reflector_received_total{source="node-1"}')).toBe(true);
    expect(series.has('process_cpu_user_seconds_total')).toBe(true);

    const health = await fetch(`${monitor.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toMatch(/probing 2 targets/);

    monitor.child.kill('SIGTERM');
    const run = await monitor.done;
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
  }, 30_000);

  it('follows the targets file as it changes and on SIGHUP, leaving the others running', async () => {
    const file = path.join(dir, 'follow.json');
    const a = target('a', 0);
    const b = target('b', 1);
    const c = target('c', 2);
    writeTargets(file, [a, b]);
    monitor = await startMonitor(['--targets', file, '--no-reflect', '--metrics', '127.0.0.1:0', '--name', 'node-1', '--rate', '20']);
    await sleep(800);
    const before = await scrape(monitor.url);
    const sentA = `rtt_probe_probes_sent_total${labels(a)}`;

    writeTargets(file, [a, c]);  // b out, c in: picked up by the file watch
    for (let i = 0; i < 50 && !/1 added, 1 removed/.test(monitor.log()); ++i) await sleep(100);
    await sleep(500);
    const after = await scrape(monitor.url);
    expect(after.has(`rtt_probe_probes_sent_total${labels(b)}`)).toBe(false);
    expect(after.get(`rtt_probe_probes_sent_total${labels(c)}`)).toBeGreaterThan(0);
    // a's counters went on from where they were: it was never restarted.
    expect(after.get(sentA)!).toBeGreaterThan(before.get(sentA)!);

    monitor.child.kill('SIGHUP');
    for (let i = 0; i < 30 && !/SIGHUP: reloading/.test(monitor.log()); ++i) await sleep(100);
    expect(monitor.log()).toMatch(/SIGHUP: reloading the targets/);
    expect((await fetch(`${monitor.url}/healthz`)).status).toBe(200);

    writeFileSync(file, '{"targets": [');  // a broken file keeps the targets there were
    for (let i = 0; i < 30 && !/targets: .*previous targets keep running/.test(monitor.log()); ++i) await sleep(100);
    expect(monitor.log()).toMatch(/previous targets keep running/);
    expect((await scrape(monitor.url)).get(sentA)!).toBeGreaterThan(after.get(sentA)!);
    monitor.child.kill('SIGTERM');
    expect((await monitor.done).code).toBe(0);
  }, 30_000);

  it('--key-file authenticates both ends with one key, and --cpu pins the mesh and reflector threads', async () => {
    const keyFile = path.join(dir, 'stamp.key');
    writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });
    const keyed = await startReflector({ bind: '127.0.0.1', port: 0, busyPoll: false, key: readFileSync(keyFile) });
    try {
      const file = path.join(dir, 'keyed.json');
      const k = { name: 'k', address: '127.0.0.1', port: keyed.address.port };
      const u = target('u', 0);  // answers without a key: its replies cannot be verified
      writeTargets(file, [k, u]);
      const pinned = os.cpus().length > 1 ? ['--cpu', '0'] : [];
      monitor = await startMonitor(['--targets', file, '--reflect', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--name', 'node-1', '--rate', '20', '--key-file', keyFile, ...pinned]);
      const port = Number(/reflecting on port (\d+)/.exec(monitor.log())![1]);
      await sleep(1500);
      const series = await scrape(monitor.url);
      expect(series.get(`rtt_probe_probes_received_total${labels(k)}`)).toBeGreaterThan(10);
      expect(series.get(`rtt_probe_probes_lost_total${labels(k)}`)).toBe(0);
      expect(series.get(`rtt_probe_probes_received_total${labels(u)}`)).toBe(0);
      expect(series.get(`rtt_probe_probes_lost_total${labels(u)}`)).toBeGreaterThan(0);
      // Its own reflector answers the key, and nothing without it.
      const withKey = await probe({ host: '127.0.0.1', port }, { count: 20, warmup: 0, busyPoll: false, key: readFileSync(keyFile) }).result;
      expect(withKey.received).toBe(20);
      const without = await probe({ host: '127.0.0.1', port }, { count: 5, warmup: 0, busyPoll: false, timeout: '100ms' }).result;
      expect(without.received).toBe(0);
      const pid = monitor.child.pid!;
      const allowed = (task: string) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8'))![1];
      // Where the process may run on CPU 0 alone, pinning there changes nothing to see.
      if (pinned.length > 0 && allowed(String(pid)) !== '0') {
        // The mesh's thread and the reflector's; Node's own threads stay where they were.
        expect(readdirSync(`/proc/${pid}/task`).filter((t) => allowed(t) === '0').length).toBe(2);
      }
      monitor.child.kill('SIGTERM');
      expect((await monitor.done).code).toBe(0);
    } finally {
      await keyed.stop();
    }
  }, 30_000);

  it('refuses a key file that others can read, before it starts, with exit 2', async () => {
    const keyFile = path.join(dir, 'open.key');
    writeFileSync(keyFile, randomBytes(32), { mode: 0o644 });
    chmodSync(keyFile, 0o644);
    const run = await runCli(['monitor', '--targets', path.join(dir, 'serve.json'), '--no-reflect', '--metrics', '127.0.0.1:0', '--key-file', keyFile]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/chmod 600/);
  }, 30_000);

  const noNetns = netnsUnavailable();
  it.skipIf(noNetns !== null)(`binds /metrics to 127.0.0.1:9862 unless told otherwise${noNetns ? ` (skipped: ${noNetns})` : ''}`, async () => {
    removeLeftovers();
    // A namespace of its own, so the default port is free whatever else runs here.
    const ns = `${PREFIX}${process.pid}-monitor`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const file = path.join(dir, 'default.json');
      writeTargets(file, []);
      const run = spawnCli(['monitor', '--targets', file, '--no-reflect'], { netns: ns, timeoutMs: 20_000 });
      let listening = '';
      for (let i = 0; i < 100 && !/:9862/.test(listening); ++i) {
        await sleep(100);
        listening = execFileSync('ip', ['netns', 'exec', ns, 'ss', '-ltnH'], { encoding: 'utf8' });
      }
      run.child.kill('SIGTERM');
      expect((await run.done).code).toBe(0);
      expect(listening).toMatch(/127\.0\.0\.1:9862\s/);
      expect(listening).not.toMatch(/(0\.0\.0\.0|\*|\[::\]):9862\s/);
    } finally {
      execFileSync('ip', ['netns', 'delete', ns]);
    }
  }, 30_000);
});

describe('docs/monitor.md', () => {
  const doc = readFileSync(path.join(__dirname, '..', 'docs', 'monitor.md'), 'utf8');

  it('lists every series of src/monitor/series.ts, and no other', () => {
    const rows = doc.split('\n').filter((l) => l.startsWith('| `rtt_probe_'));
    expect(rows).toEqual(SERIES.map((s) => `| \`${s.name}\` | ${s.type} | ${s.labels.join(', ')} | ${s.help} |`));
  });

  it('states the series per target that the default buckets give', () => {
    expect(doc).toContain(`**${seriesPerTarget(MESH_BUCKET_BOUNDS_NS.length)} series\nper target**`);
  });
});
