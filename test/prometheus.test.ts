/**
 * A real Prometheus (Debian's prometheus package; .ci/run installs it) scrapes
 * a monitor that probes three reflectors, each in a network namespace of its
 * own reached over veth from the monitor's. An nftables rule in one
 * reflector's namespace drops 10% of the probes it receives: Prometheus's
 * HTTP API shows that loss on that target's series and no loss on the
 * others'. Every query of the Grafana dashboard returns data.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from './support/cli';
import { DASHBOARD_PATH, dashboardQueries, substitute } from './support/dashboard';
import { netnsUnavailable, PREFIX, removeLeftovers } from './support/netns';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function missingTools(): string | null {
  for (const tool of ['prometheus', 'nft', 'curl']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `needs ${tool} (.ci/run installs it)`;
    }
  }
  return null;
}

const unavailable = netnsUnavailable() ?? missingTools();
const tag = `${PREFIX}${process.pid}-prom`;
const monitorNs = `${tag}-m`;
const reflectorNs = [1, 2, 3].map((k) => `${tag}-r${k}`);
const LOSSY = 1;  // reflectorNs[1], the second target, drops 10% of what it receives
const promPort = 20_000 + Math.floor(Math.random() * 40_000);
const children: ChildProcess[] = [];
let dir = '';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query through Prometheus's HTTP API, from inside the monitor's namespace. */
function query(promql: string): Sample[] {
  const url = `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(promql)}`;
  const out = execFileSync('ip', ['netns', 'exec', monitorNs, 'curl', '-sf', url], { encoding: 'utf8' });
  const body = JSON.parse(out) as { status: string; data: { result: Sample[] } };
  expect(body.status).toBe('success');
  return body.data.result;
}

beforeAll(async () => {
  if (unavailable) return;
  removeLeftovers();
  dir = mkdtempSync(path.join(os.tmpdir(), 'rtt-probe-prometheus-'));
  ip('netns', 'add', monitorNs);
  ip('-n', monitorNs, 'link', 'set', 'lo', 'up');
  const targets = reflectorNs.map((ns, i) => {
    const k = i + 1;
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('link', 'add', `rttp-m${k}`, 'netns', monitorNs, 'type', 'veth', 'peer', 'name', 'rttp-r', 'netns', ns);
    ip('-n', monitorNs, 'addr', 'add', `198.18.${k}.1/30`, 'dev', `rttp-m${k}`);
    ip('-n', monitorNs, 'link', 'set', `rttp-m${k}`, 'up');
    ip('-n', ns, 'addr', 'add', `198.18.${k}.2/30`, 'dev', 'rttp-r');
    ip('-n', ns, 'link', 'set', 'rttp-r', 'up');
    children.push(spawnCli(['reflect', '--bind', `198.18.${k}.2:862`, '--no-busy-poll'], { netns: ns, timeoutMs: 120_000 }).child);
    return { name: `r${k}`, address: `198.18.${k}.2`, port: 862 };
  });
  const nft = (...args: string[]) => execFileSync('ip', ['netns', 'exec', reflectorNs[LOSSY]!, 'nft', ...args], { stdio: 'ignore' });
  nft('add', 'table', 'inet', 'rttp');
  nft('add', 'chain', 'inet', 'rttp', 'input', '{ type filter hook input priority 0; }');
  nft('add', 'rule', 'inet', 'rttp', 'input', 'udp', 'dport', '862', 'numgen', 'random', 'mod', '100', '<', '10', 'drop');

  const file = path.join(dir, 'targets.json');
  writeFileSync(file, JSON.stringify({ targets }));
  children.push(
    spawnCli(['monitor', '--targets', file, '--metrics', '127.0.0.1:9862', '--name', 'mon', '--rate', '100'], { netns: monitorNs, timeoutMs: 120_000 })
      .child,
  );
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: rtt-probe\n    static_configs:\n      - targets: ["127.0.0.1:9862"]\n',
  );
  const prometheus = spawn(
    'ip',
    ['netns', 'exec', monitorNs, 'prometheus', `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`],
    { stdio: 'ignore' },
  );
  children.push(prometheus);
  // Twelve seconds of scrapes: 1 200 probes per target, enough for 10% loss to show.
  for (let i = 0; i < 40; ++i) {
    await sleep(500);
    try {
      if (query('rtt_probe_probes_sent_total').length === 3) break;
    } catch {
      // Prometheus still starting
    }
  }
  await sleep(12_000);
}, 60_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const ns of [monitorNs, ...reflectorNs]) {
    try {
      ip('netns', 'delete', ns);
    } catch {
      // never made
    }
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(unavailable !== null)(`Prometheus scraping a monitor${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('stores every target series with the source, target and address labels', () => {
    const sent = query('rtt_probe_probes_sent_total');
    expect(sent.map((s) => s.metric.target).sort()).toEqual(['r1', 'r2', 'r3']);
    for (const s of sent) {
      expect(s.metric.source).toBe('mon');
      expect(s.metric.address).toBe(`198.18.${s.metric.target!.slice(1)}.2`);
      expect(Number(s.value[1])).toBeGreaterThan(500);
    }
    const p50 = query('histogram_quantile(0.5, rate(rtt_probe_rtt_seconds_bucket{metric="user"}[10s]))');
    expect(p50).toHaveLength(3);
    for (const s of p50) expect(Number(s.value[1])).toBeGreaterThan(0);
  });

  it('shows the 10% dropped on one path as that target\'s loss rate, and none elsewhere', () => {
    const loss = new Map(query('rtt_probe_probes_lost_total / rtt_probe_probes_sent_total').map((s) => [s.metric.target, Number(s.value[1])]));
    expect(loss.get('r2')).toBeGreaterThan(0.04);
    expect(loss.get('r2')).toBeLessThan(0.2);
    expect(loss.get('r1')).toBeLessThan(0.01);
    expect(loss.get('r3')).toBeLessThan(0.01);
  });

  it.skipIf(!existsSync(DASHBOARD_PATH))('answers every query of the Grafana dashboard with data', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(5);
    for (const { expr } of queries) {
      const promql = substitute(expr, { source: '.*', target: '.*', rateInterval: '10s' });
      expect(query(promql).length, promql).toBeGreaterThan(0);
    }
  });
});
