/**
 * `rtt-probe lab` as root: it builds every topology this kernel supports,
 * measures each with the same settings, reports the rest as skipped with the
 * reason, computes differences against the chosen baseline, and leaves no
 * namespace, link, nftables table or process behind, also when interrupted
 * or killed. Counts are kept small; the only timings checked are coarse
 * ratios no machine's noise reaches (a user-space tunnel against a veth).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Histogram } from '../src/histogram';
import { CSV_COLUMNS } from '../src/lab/csv';
import { formatLab } from '../src/lab/format';
import type { LabReportJSON } from '../src/lab/report';
import { Sandbox } from '../src/lab/sandbox';
import { median, type MetricSummary } from '../src/lab/summary';
import { topology, type BuiltTopology } from '../src/lab/topologies';
import type { LabOutputJSON } from '../src/cli/commands/lab';
import { runCli, spawnCli, startCliReflector } from './support/cli';
import { hasNft, labLeftovers, labProcesses, settledLeftovers, waitFor } from './support/lab';
import { createVethPair, netnsUnavailable, removeLeftovers } from './support/netns';

const skip = netnsUnavailable();
if (skip) console.warn(`lab tests skipped: ${skip}`);

const ALL = ['loopback', 'veth', 'bridge', 'bridge-nat', 'macvlan', 'ipvlan-l2', 'ipvlan-l3', 'routed', 'vxlan', 'ipip', 'tun-udp'];

/** Whether this host has the TUN driver's device node (tun-udp's forwarders open it). */
const hasTun = existsSync('/dev/net/tun');

/** Whether this kernel can create a link of that type: the test's own check, independent of the lab's. */
function kernelHas(...linkArgs: string[]): boolean {
  const ns = `rttp-test-${process.pid}-kernel`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
    execFileSync('ip', ['-n', ns, 'link', 'add', 'x0', ...linkArgs], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    execFileSync('ip', ['netns', 'delete', ns]);
  }
}

function buildable(): Record<string, boolean> {
  const nft = hasNft();
  return {
    loopback: true,
    veth: true,
    bridge: true,
    'bridge-nat': nft,
    macvlan: kernelHas('link', 'p0', 'type', 'macvlan', 'mode', 'bridge'),
    'ipvlan-l2': kernelHas('link', 'p0', 'type', 'ipvlan', 'mode', 'l2'),
    'ipvlan-l3': kernelHas('link', 'p0', 'type', 'ipvlan', 'mode', 'l3'),
    vxlan: kernelHas('type', 'vxlan', 'id', '42', 'dstport', '4789', 'dev', 'p0'),
    ipip: kernelHas('type', 'ipip', 'local', '198.18.255.1', 'remote', '198.18.255.2'),
    routed: true,
    'tun-udp': hasTun,
  };
}

/** The p50 of rtt.user per round, recomputed from the raw runs. */
function roundP50s(report: LabReportJSON, topology: string): number[] {
  const t = report.topologies.find((x) => x.name === topology)!;
  return t.runs.map((r) => Histogram.fromJSON(r.sender.metrics['rtt.user']!).percentile(50));
}

/** A process's command line, words joined by spaces ('' once it has gone). */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** UDP datagrams received in the network namespace of a process (0 once it has gone). */
function udpReceived(pid: number): number {
  try {
    const [names, values] = readFileSync(`/proc/${pid}/net/snmp`, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('Udp: '))
      .map((line) => line.split(/\s+/));
    return Number(values![names!.indexOf('InDatagrams')]);
  } catch {
    return 0;
  }
}

/** The lab's TUN forwarders of one lab run, by pid. */
function tunForwarders(owner: number): number[] {
  return labProcesses()
    .filter((p) => p.owner === owner && commandLine(p.pid).includes('tun-forwarder.js'))
    .map((p) => p.pid);
}

function row(summary: MetricSummary[], topology: string, metric = 'rtt.user'): MetricSummary {
  return summary.find((r) => r.topology === topology && r.metric === metric)!;
}

function expectDifferencesAgainst(out: LabOutputJSON, baseline: string): void {
  const base = median(roundP50s(out, baseline));
  expect(row(out.summary, baseline).vsBaseline).toBeNull();
  for (const t of out.topologies.filter((x) => x.runs.length > 0 && x.name !== baseline)) {
    const here = median(roundP50s(out, t.name));
    const d = row(out.summary, t.name).vsBaseline!.p50;
    expect(d.ns).toBeCloseTo(here - base, 6);
    expect(d.percent).toBeCloseTo((100 * (here - base)) / base, 6);
  }
}

describe.skipIf(skip !== null)('rtt-probe lab (root)', () => {
  afterEach(async () => {
    expect(await settledLeftovers()).toEqual([]);
  });

  it('measures every topology the kernel can build, skips the others with the reason, and leaves nothing behind', async () => {
    const csv = path.join(mkdtempSync(path.join(os.tmpdir(), 'rttp-lab-')), 'study.csv');
    const can = buildable();
    const run = await runCli(['lab', '--count', '300', '--repeat', '2', '--json', '--csv', csv], { timeoutMs: 300_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as LabOutputJSON;
    expect(out.settings.baseline).toBe('veth');
    expect(out.topologies.map((t) => t.name).sort()).toEqual([...ALL].sort());
    expect(out.topologies[0]!.name).toBe('veth');
    expect(out.settings.protocols).toEqual(['udp']);
    for (const t of out.topologies) {
      if (can[t.name]) {
        expect(t.status, `${t.name}: ${t.reason}`).toBe('measured');
        expect(t.runs.map((r) => r.repeat)).toEqual([1, 2]);
        for (const r of t.runs) {
          expect(r.protocol).toBe('udp');
          expect(r.size).toBe(64);
          expect(r.sender.sent).toBe(300);
          expect(r.sender.received).toBeGreaterThan(0);
          expect(r.sender.metrics['rtt.user']!.count).toBe(r.sender.received);
          expect(r.sender.metrics['owd.fwd']!.count).toBe(r.sender.received);
          expect(r.sender.cpu.threadNs).toBeGreaterThan(0);
          expect(r.reflector!.reflected).toBeGreaterThanOrEqual(300);
          expect(r.reflector!.cpu.threadNs).toBeGreaterThan(0);
          // Paths that never stamp transmits (macvlan between namespaces) are measured all the same:
          // the sender stops waiting for TX stamps and says why rtt.kernel is missing.
          if (r.sender.granted.stamps.txSoftware === 0) {
            expect(r.sender.missing['rtt.kernel']).toMatch(/does not stamp transmits/);
          } else {
            expect(r.sender.metrics['rtt.kernel']!.count).toBeGreaterThan(0);
          }
        }
      } else {
        expect(t.status).toBe('skipped');
        expect(t.reason).toMatch(/kernel lacks|needs nftables/);
        expect(t.runs).toEqual([]);
      }
    }
    expectDifferencesAgainst(out, 'veth');
    expect(out.budget!.entries.map((e) => e.label)).toEqual(out.topologies.filter((t) => t.runs.length > 0).map((t) => t.name));

    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows).toHaveLength(2 * out.topologies.filter((t) => t.status === 'measured').length);
    for (const r of rows) {
      expect(r).toHaveLength(CSV_COLUMNS.length);
      expect([r[0], r[2], r[5], r[6], r[7]]).toEqual(['UDP_RR', 'local', '300', '64', 'UDP']);
      expect(Number(r[13])).toBeGreaterThan(0);
    }
  }, 300_000);

  it('--proto udp,tcp: each topology in both, each run labelled, CSV rows UDP_RR and TCP_RR, summary and tables per protocol; TCP crosses bridge-nat', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rttp-lab-'));
    const [csv, html] = [path.join(dir, 'study.csv'), path.join(dir, 'lab.html')];
    const measured = hasNft() ? ['veth', 'bridge-nat'] : ['veth'];
    const run = await runCli(['lab', '--proto', 'udp,tcp', '--topologies', 'veth,bridge-nat', '--count', '200', '--json', '--csv', csv, '--html', html], {
      timeoutMs: 180_000,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as LabOutputJSON;
    expect(out.settings.protocols).toEqual(['udp', 'tcp']);
    for (const name of measured) {
      const t = out.topologies.find((x) => x.name === name)!;
      expect(t.status, `${name}: ${t.reason}`).toBe('measured');
      expect(t.runs.map((r) => r.protocol)).toEqual(['udp', 'tcp']);
      for (const r of t.runs) {
        expect(r.sender.options.protocol).toBe(r.protocol);
        expect(r.sender.received).toBe(200);
        expect(r.reflector!.reflected).toBeGreaterThanOrEqual(200);
      }
      // The TCP run is one connection, request/response, as netperf TCP_RR.
      expect(t.runs[1]!.reflector!.connections).toBe(1);
    }
    // Each protocol's differences are against the baseline in the same protocol, never across.
    for (const protocol of ['udp', 'tcp'] as const) {
      const rows = out.summary.filter((r) => r.protocol === protocol && r.metric === 'rtt.user');
      expect(rows.map((r) => r.topology)).toEqual(measured);
      expect(rows[0]!.vsBaseline).toBeNull();
      const p50 = (name: string) => {
        const r = out.topologies.find((x) => x.name === name)!.runs.find((x) => x.protocol === protocol)!;
        return Histogram.fromJSON(r.sender.metrics['rtt.user']!).percentile(50);
      };
      for (const r of rows.slice(1)) expect(r.vsBaseline!.p50.ns).toBeCloseTo(p50(r.topology) - p50('veth'), 6);
    }
    expect(out.budget!.entries.map((e) => e.label)).toEqual([...measured, ...measured.map((n) => `${n}/tcp`)]);

    const text = formatLab(out, ['rtt.user']);
    expect(text).toMatch(/^rtt-probe lab: \d of 2 topologies measured; UDP and TCP$/m);
    expect(text).toMatch(/^UDP, 64 B payload \(µs, median of 1 round; Δ against veth UDP\)$/m);
    expect(text).toMatch(/^TCP, 64 B payload \(µs, median of 1 round; Δ against veth TCP\)$/m);

    const rows = readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(rows.map((r) => [r[0], r[1], r[7]])).toEqual(measured.flatMap((name) => [['UDP_RR', name, 'UDP'], ['TCP_RR', name, 'TCP']]));
    // The HTML report pools a topology's runs in its plots, so each protocol is a lab section of its own there.
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<h3>lab UDP (lab)</h3>');
    expect(page).toContain('<h3>lab TCP (lab)</h3>');
  }, 180_000);

  it('--baseline loopback: every difference is against loopback, which is measured even when not listed', async () => {
    const run = await runCli(['lab', '--baseline', 'loopback', '--topologies', 'veth,bridge', '--count', '200', '--json'], { timeoutMs: 120_000 });
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as LabOutputJSON;
    expect(out.topologies.map((t) => t.name)).toEqual(['loopback', 'veth', 'bridge']);
    expectDifferencesAgainst(out, 'loopback');
  });

  it('prints the table with differences, CPU per end, and the budget summary; --out saves the report', async () => {
    const saved = path.join(mkdtempSync(path.join(os.tmpdir(), 'rttp-lab-')), 'lab.json');
    const run = await runCli(['lab', '--topologies', 'veth,bridge', '--count', '200', '--chain', '1,10', '--fanout', '1,10', '--out', saved], {
      timeoutMs: 120_000,
    });
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(saved, 'utf8')) as LabOutputJSON;
    expect(report.topologies.map((t) => t.status)).toEqual(['measured', 'measured']);
    expect(run.stdout).toMatch(/^rtt-probe lab: 2 of 2 topologies measured; UDP$/m);
    expect(run.stdout).toMatch(/^UDP, 64 B payload \(µs, median of 1 round; Δ against veth UDP\)$/m);
    // Figures of 10 ms and more print without decimals (a stalled host reaches them).
    expect(run.stdout).toMatch(/^veth\s+rtt\.user(\s+\d+(\.\d+)?){5}\s+baseline$/m);
    expect(run.stdout).toMatch(/^bridge\s+rtt\.user(\s+\d+(\.\d+)?){5}\s+[+-]\d+(\.\d+)?\s+[+-]\d+\.\d%\s+[+-]\d+(\.\d+)?\s+[+-]\d+\.\d%$/m);
    expect(run.stdout).toMatch(/^bridge\s+\d+%\s+\d+%\s+200\s+\d+$/m);
    expect(run.stdout).toMatch(/^choosing (bridge over veth|veth over bridge) costs .* at p50 and .* at p99 for a chain of 10 calls \(naive 10 × Δp50: .*\)$/m);
    expect(run.stderr).toMatch(/^lab: bridge: UDP 64 B$/m);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s mid-run: the running topology is removed, partial results are printed, exit %i', async (signal, code) => {
    const lab = spawnCli(['lab', '--count', '10000000', '--max-run', '60s', '--json'], { timeoutMs: 120_000 });
    try {
      expect(await waitFor(() => labProcesses().some((p) => p.owner === lab.child.pid))).toBe(true);
    } finally {
      lab.child.kill(signal);
    }
    const run = await lab.done;
    expect(run.code).toBe(code);
    const out = JSON.parse(run.stdout) as LabOutputJSON;
    expect(out.interrupted).toBe(true);
    expect(out.cleanupErrors).toEqual([]);
    expect(out.topologies.some((t) => t.status === 'interrupted')).toBe(true);
    expect(labLeftovers()).toEqual([]);
  });

  it('SIGKILL mid-run leaves namespaces and spinning ends behind; the next run removes them first', async () => {
    const lab = spawnCli(['lab', '--topologies', 'veth', '--count', '10000000', '--max-run', '60s'], { timeoutMs: 120_000 });
    const owner = lab.child.pid!;
    let log = '';
    lab.child.stderr!.on('data', (d) => (log += d));
    try {
      // Past the calibration: veth's reflector and sender are running.
      expect(await waitFor(() => log.includes('lab: veth: UDP 64 B') && labProcesses().filter((p) => p.owner === owner).length >= 2)).toBe(true);
    } finally {
      lab.child.kill('SIGKILL');
    }
    await lab.done;
    const left = labLeftovers();
    expect(left.some((l) => l.startsWith(`namespace rttp-lab-${owner}-veth-`))).toBe(true);
    expect(left.some((l) => l.startsWith('process '))).toBe(true);

    const rerun = await runCli(['lab', '--topologies', 'loopback', '--baseline', 'loopback', '--count', '50', '--json'], { timeoutMs: 120_000 });
    expect(rerun.code).toBe(0);
    const out = JSON.parse(rerun.stdout) as LabOutputJSON;
    for (const l of left) expect(out.removedLeftovers).toContain(l);
  });

  it('routed is built as calico builds it: no bridge, a /32 route per end on the host, and the host answering ARP for the peer', () => {
    const sandbox = new Sandbox('routed');
    try {
      const built = topology('routed', null).build(sandbox) as BuiltTopology;
      const host = `rttp-lab-${process.pid}-routed-host`;
      const inNs = (ns: string, ...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
      expect(inNs(host, '-o', 'link', 'show', 'type', 'bridge')).toBe('');
      expect(inNs(host, '-o', 'addr', 'show', 'scope', 'global')).toBe('');
      expect(inNs(host, 'route', 'show')).toMatch(/^198\.18\.14\.1 dev veth-r\b.*\n198\.18\.14\.2 dev veth-s\b/m);
      // One datagram from the sender makes it ARP for the reflector's address: the host's veth answers.
      const sender = built.sender.netns!;
      const target = built.sender.target;
      const send = `const s = require('node:dgram').createSocket('udp4'); s.send('x', ${target.port}, '${target.address}', () => setTimeout(() => s.close(), 200));`;
      execFileSync('ip', ['netns', 'exec', sender, process.execPath, '-e', send]);
      const hostMac = /link\/ether (\S+)/.exec(inNs(host, 'link', 'show', 'veth-s'))![1];
      expect(inNs(sender, 'neigh', 'show', target.address)).toMatch(new RegExp(`lladdr ${hostMac}\\b`));
    } finally {
      expect(sandbox.destroy()).toEqual([]);
    }
  });

  it.skipIf(!hasTun)('routed runs close to veth; tun-udp, every packet through two user-space forwarders, far slower', async () => {
    const run = await runCli(['lab', '--topologies', 'routed,tun-udp', '--count', '2000', '--json'], { timeoutMs: 180_000 });
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as LabOutputJSON;
    expect(out.topologies.map((t) => [t.name, t.status, t.from, t.to])).toEqual([
      ['veth', 'measured', 'host', 'host'],
      ['routed', 'measured', 'container', 'container'],
      ['tun-udp', 'measured', 'container', 'container'],
    ]);
    for (const t of out.topologies) {
      const r = t.runs[0]!;
      expect(r.sender.sent).toBe(2000);
      expect(r.sender.received).toBeGreaterThan(1900);
      expect(r.reflector!.reflected).toBeGreaterThanOrEqual(r.sender.received);
    }
    const p50 = (name: string) => median(roundP50s(out, name));
    expect(p50('routed')).toBeLessThan(2 * p50('veth'));
    expect(p50('tun-udp')).toBeGreaterThan(3 * p50('veth'));
    expect(p50('tun-udp')).toBeGreaterThan(2 * p50('routed'));
  });

  it.skipIf(!hasTun)('SIGINT while tun-udp is measured: the partial run is printed, and its forwarders go with the topology', async () => {
    const lab = spawnCli(['lab', '--topologies', 'tun-udp', '--baseline', 'loopback', '--count', '10000000', '--max-run', '5s', '--json'], {
      timeoutMs: 120_000,
    });
    const owner = lab.child.pid!;
    let forwarders: number[] = [];
    try {
      // Two forwarders, and a sender that has had replies through them past its 10 warm-up probes: tun-udp is being measured.
      const running = () =>
        (forwarders = tunForwarders(owner)).length === 2 &&
        labProcesses().some((p) => p.owner === owner && commandLine(p.pid).includes(' probe ') && udpReceived(p.pid) > 20);
      expect(await waitFor(running)).toBe(true);
    } finally {
      lab.child.kill('SIGINT');
    }
    const run = await lab.done;
    expect(run.code).toBe(130);
    const out = JSON.parse(run.stdout) as LabOutputJSON;
    expect(out.interrupted).toBe(true);
    expect(out.cleanupErrors).toEqual([]);
    const tun = out.topologies.find((t) => t.name === 'tun-udp')!;
    expect(tun.runs.length, `tun-udp ${tun.status}: ${tun.reason}`).toBe(1);
    expect(tun.runs[0]!.sender.stopped).toBe(true);
    expect(tun.runs[0]!.sender.received).toBeGreaterThan(0);
    expect(labProcesses().filter((p) => forwarders.includes(p.pid))).toEqual([]);
    expect(labLeftovers()).toEqual([]);
  });

  it.skipIf(!hasTun)('SIGKILL while tun-udp is measured: the forwarders end on their own with the lab; the next run removes the rest', async () => {
    const lab = spawnCli(['lab', '--topologies', 'tun-udp', '--baseline', 'loopback', '--count', '10000000', '--max-run', '5s'], {
      timeoutMs: 120_000,
    });
    const owner = lab.child.pid!;
    let log = '';
    lab.child.stderr!.on('data', (d) => (log += d));
    try {
      expect(await waitFor(() => log.includes('lab: tun-udp: UDP 64 B') && tunForwarders(owner).length === 2)).toBe(true);
    } finally {
      lab.child.kill('SIGKILL');
    }
    await lab.done;
    expect(await waitFor(() => tunForwarders(owner).length === 0, 5000)).toBe(true);
    const rerun = await runCli(['lab', '--topologies', 'loopback', '--baseline', 'loopback', '--count', '50', '--json'], { timeoutMs: 120_000 });
    expect(rerun.code).toBe(0);
  });

  it('--remote: probes a reflector on another host from this host and from a NAT-ed container here', async () => {
    removeLeftovers();
    const hosts = createVethPair('remote');
    const reflector = await startCliReflector(`${hosts.addressA}:0`, { netns: hosts.a });
    try {
      const far = `${hosts.addressA}:${reflector.listening.port}`;
      const args = ['lab', '--remote', far, '--count', '200', '--json'];
      const off = JSON.parse((await runCli(args, { netns: hosts.b, timeoutMs: 120_000 })).stdout) as LabOutputJSON;
      expect(off.hosttype).toBe('remote');
      expect(off.topologies.map((t) => [t.name, t.status])).toEqual([
        ['host', 'measured'],
        ['bridge-nat', 'skipped'],
      ]);
      expect(off.topologies[1]!.reason).toMatch(hasNft() ? /net\.ipv4\.ip_forward=0/ : /needs nftables/);

      execFileSync('ip', ['netns', 'exec', hosts.b, 'tee', '/proc/sys/net/ipv4/ip_forward'], { input: '1\n', stdio: ['pipe', 'ignore', 'inherit'] });
      const run = await runCli(args, { netns: hosts.b, timeoutMs: 120_000 });
      expect(run.code).toBe(0);
      const on = JSON.parse(run.stdout) as LabOutputJSON;
      expect(on.topologies.find((t) => t.name === 'host')!.runs[0]!.reflector).toBeNull();
      const nat = on.topologies.find((t) => t.name === 'bridge-nat')!;
      if (hasNft()) {
        expect(nat.status, `${nat.reason}`).toBe('measured');
        expect(nat.runs[0]!.sender.received).toBeGreaterThan(0);
        expectDifferencesAgainst(on, 'host');
      } else {
        expect(nat).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/needs nftables/) });
      }
      expect(labLeftovers(hosts.b)).toEqual([]);
    } finally {
      reflector.child.kill('SIGTERM');
      await reflector.done;
      hosts.remove();
    }
  });
});
