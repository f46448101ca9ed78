/**
 * The raw transport (--transport raw): STAMP in Ethernet frames built in user
 * space on an AF_PACKET socket. Across a veth pair between two namespaces it
 * interworks with the UDP transport in both directions and with itself,
 * tagged or not; captures on the receiving side show valid frames with the
 * asked DSCP, TTL and VLAN tag (frames that bypass the qdisc are not shown to
 * captures on the sending side); the kernel's own stack answers nothing
 * (no ICMP port unreachable) and the BPF filter keeps foreign traffic out of
 * the counters. Needs root; the namespaces are removed afterwards.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCliReflector } from './support/cli';
import { createVethPair, netnsUnavailable, removeLeftovers, type VethPair } from './support/netns';

function tsharkMissing(): string | null {
  try {
    execFileSync('tshark', ['-v'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'needs tshark for the captures (.ci/run installs it)';
  }
}

const skip = netnsUnavailable() ?? tsharkMissing();
if (skip) console.warn(`raw transport tests skipped: ${skip}`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rttp-raw-'));

/** A tshark capture on a namespace's veth end; stop() ends it and returns the pcap file. */
async function capture(netns: string, filter: string): Promise<{ stop(): Promise<string> }> {
  const file = path.join(dir, `${netns}-${Date.now()}.pcap`);
  const child = spawn('ip', ['netns', 'exec', netns, 'tshark', '-i', 'veth-rttp', '-f', filter, '-w', file, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      if (err.includes('Capturing on')) resolve();
    });
    child.once('close', () => reject(new Error(`tshark ended before capturing: ${err}`)));
  });
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      clearTimeout(kill);
      return file;
    },
  };
}

/** The frames of a capture as tshark decodes them, checksums verified: one object per frame. */
function frames(file: string, fields: string[]): Record<string, string>[] {
  const out = execFileSync(
    'tshark',
    ['-r', file, '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=/t', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => Object.fromEntries(line.split('\t').map((v, i) => [fields[i]!, v])));
}

function macOf(netns: string): string {
  return JSON.parse(execFileSync('ip', ['-n', netns, '-j', 'link', 'show', 'veth-rttp'], { encoding: 'utf8' }))[0].address;
}

describe.skipIf(skip !== null)('the raw transport across two namespaces joined by veth', () => {
  let net: VethPair;
  beforeAll(() => {
    removeLeftovers();
    net = createVethPair('raw');
  });
  afterAll(() => {
    net?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Reflector in namespace a, sender in b; probe args after the target. Returns the sender's result and the reflector's. */
  async function session(reflectArgs: string[], probeArgs: string[], host = net.addressA, exit = 0, whileListening = () => {}) {
    const bracketed = host.includes(':') ? `[${host}]` : host;
    const reflector = await startCliReflector(`${bracketed}:0`, { netns: net.a, extra: reflectArgs });
    let run;
    try {
      whileListening();
      run = await runCli(['probe', `${bracketed}:${reflector.listening.port}`, '--json', ...probeArgs], { netns: net.b });
    } finally {
      reflector.child.kill('SIGTERM');
    }
    const done = await reflector.done;
    expect(done.code).toBe(143);
    expect(run.code, run.stderr).toBe(exit);
    const lines = done.stdout.trim().split('\n');
    return { probe: JSON.parse(run.stdout), reflector: JSON.parse(lines[lines.length - 1]!), port: reflector.listening.port };
  }

  it.each([
    ['raw sender, UDP reflector', [], ['--transport', 'raw']],
    ['UDP sender, raw reflector', ['--transport', 'raw'], []],
    ['raw sender, raw reflector', ['--transport', 'raw'], ['--transport', 'raw']],
  ])('%s (IPv4): every probe answered, kernel stamps on both ends, valid frames and no ICMP on the wire', async (_name, reflectArgs, probeArgs) => {
    const toReflector = await capture(net.a, 'udp or icmp or icmp6');
    const toSender = await capture(net.b, 'udp or icmp or icmp6');
    const { probe: r, port } = await session(reflectArgs, ['--count', '1000', ...probeArgs]);
    const arrived = [
      // Probes as the reflector's side saw them arrive, replies as the sender's did (a raw end's own
      // frames skip the taps of its side); the kernel's UDP frames keep offloaded checksums, so only raw ones are checked.
      { file: await toReflector.stop(), port: 'udp.dstport', raw: probeArgs.length > 0 },
      { file: await toSender.stop(), port: 'udp.srcport', raw: reflectArgs.length > 0 },
    ];
    expect(r).toMatchObject({ sent: 1000, received: 1000, lost: 0, malformed: 0, unexpected: 0, corrupted: 0 });
    expect(r.options.transport).toBe(probeArgs.length ? 'raw' : 'udp');
    expect(r.granted.timestamping.interface).toBe('veth-rttp');
    expect(r.metrics['rtt.kernel'].count).toBe(1000);
    expect(r.metrics.residence.count).toBe(1000);
    for (const { file, port: field, raw } of arrived) {
      const seen = frames(file, ['udp.srcport', 'udp.dstport', 'ip.checksum.status', 'udp.checksum.status', 'icmp.type', 'icmpv6.type']);
      const stamp = seen.filter((f) => f[field] === String(port));
      // 1010 probes with the warm-up, and as many replies; tshark, starved of CPU beside two spinning ends, may miss a few.
      expect(stamp.length).toBeGreaterThan(500);
      expect(stamp.length).toBeLessThanOrEqual(1010);
      if (raw) for (const f of stamp) expect([f['ip.checksum.status'], f['udp.checksum.status']]).toEqual(['1', '1']);
      // No destination unreachable (ICMP type 3, ICMPv6 type 1): the held port silences the kernel.
      expect(seen.filter((f) => f['icmp.type'] === '3' || f['icmpv6.type'] === '1')).toEqual([]);
    }
  });

  it('IPv6 both ways: raw sender and raw reflector', async () => {
    const { probe: r } = await session(['--transport', 'raw'], ['--count', '500', '--transport', 'raw'], net.address6A);
    expect(r).toMatchObject({ sent: 500, received: 500, lost: 0 });
    expect(r.local.address).toBe(net.address6B);
  });

  it('--vlan, --dscp and --ttl: the capture shows the 802.1Q tag, the DSCP and the TTL of each end, checksums valid', async () => {
    const atReflector = await capture(net.a, 'vlan and udp');
    const atSender = await capture(net.b, 'vlan and udp');
    const { probe: r } = await session(
      ['--transport', 'raw', '--vlan', '42', '--dscp', '10', '--ttl', '9'],
      ['--count', '200', '--transport', 'raw', '--vlan', '42', '--dscp', '46', '--ttl', '7'],
    );
    expect(r).toMatchObject({ sent: 200, received: 200 });
    expect(r.options).toMatchObject({ transport: 'raw', vlan: 42, dscp: 46, ttl: 7 });
    const fields = ['vlan.id', 'ip.dsfield.dscp', 'ip.ttl', 'ip.checksum.status', 'udp.checksum.status'];
    const probes = frames(await atReflector.stop(), fields);
    const replies = frames(await atSender.stop(), fields);
    expect(probes.length).toBe(210);
    expect(replies.length).toBe(210);
    expect(new Set(probes.map((f) => Object.values(f).join(' ')))).toEqual(new Set(['42 46 7 1 1']));
    expect(new Set(replies.map((f) => Object.values(f).join(' ')))).toEqual(new Set(['42 10 9 1 1']));
  });

  it('an untagged sender is not answered by a tagged reflector (the filter takes only its VLAN)', async () => {
    const { probe: r } = await session(['--transport', 'raw', '--vlan', '42'], ['--count', '3', '--warmup', '0', '--timeout', '50ms', '--transport', 'raw'], net.addressA, 1);
    expect(r).toMatchObject({ sent: 3, received: 0, lost: 3 });
  });

  it('foreign UDP traffic on the same interfaces during a session reaches neither end: no reply counted wrong, no request seen', async () => {
    // 100 datagrams every 10 ms to 50 other ports of each host, for 3 s: the whole of the session.
    const flood = (netns: string, host: string) =>
      spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', `
        const s = require('node:dgram').createSocket('udp4');
        let n = 0;
        const until = Date.now() + 3000;
        (function burst() {
          for (let i = 0; i < 100; i++, n++) s.send(Buffer.alloc(44, n), 40000 + (n % 50), '${host}');
          if (Date.now() < until) setTimeout(burst, 10); else s.close();
        })();`], { stdio: 'ignore' });
    const floods: ReturnType<typeof spawn>[] = [];
    try {
      const { probe: r, reflector } = await session(['--transport', 'raw'], ['--duration', '2s', '--transport', 'raw'], net.addressA, 0, () => {
        floods.push(flood(net.a, net.addressB), flood(net.b, net.addressA));
      });
      expect(reflector).toMatchObject({ received: r.sent + 10, reflected: r.sent + 10, malformed: 0 });
      expect(r).toMatchObject({ received: r.sent, malformed: 0, unexpected: 0, corrupted: 0, duplicates: 0 });
      expect(r.sent).toBeGreaterThan(100);
    } finally {
      for (const f of floods) f.kill('SIGKILL');
    }
  });

  it('--dst-mac replaces the neighbour table: the peer\'s MAC works, another MAC reaches nobody', async () => {
    const right = await session([], ['--count', '100', '--transport', 'raw', '--dst-mac', macOf(net.a)]);
    expect(right.probe).toMatchObject({ received: 100, options: { dstMac: macOf(net.a) } });
    const wrong = await session([], ['--count', '3', '--warmup', '0', '--timeout', '50ms', '--transport', 'raw', '--dst-mac', '02:00:00:00:00:99'], net.addressA, 1);
    expect(wrong.probe).toMatchObject({ sent: 3, received: 0 });
  });

  it('a neighbour missing from the table is resolved first', async () => {
    execFileSync('ip', ['-n', net.b, 'neigh', 'flush', 'dev', 'veth-rttp']);
    expect(execFileSync('ip', ['-n', net.b, 'neigh', 'show', net.addressA], { encoding: 'utf8' }).trim()).toBe('');
    const { probe: r } = await session([], ['--count', '100', '--transport', 'raw']);
    expect(r.received).toBe(100);
    expect(execFileSync('ip', ['-n', net.b, 'neigh', 'show', net.addressA], { encoding: 'utf8' })).toContain(macOf(net.a));
  });

  it('--ts hardware on veth, which has none: a warning, and the run goes on with software stamps as over UDP', async () => {
    const reflector = await startCliReflector(`${net.addressA}:0`, { netns: net.a });
    try {
      const run = await runCli(['probe', `${net.addressA}:${reflector.listening.port}`, '--count', '100', '--transport', 'raw', '--ts', 'hardware', '--json'], { netns: net.b });
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/warning: --ts hardware: interface veth-rttp gives no hardware timestamps: SIOCSHWTSTAMP refused with EOPNOTSUPP/);
      const r = JSON.parse(run.stdout);
      expect(r.received).toBe(100);
      expect(r.metrics['rtt.hw']).toBeUndefined();
      expect(r.missing['rtt.hw']).toMatch(/veth-rttp/);
    } finally {
      reflector.child.kill('SIGTERM');
      await reflector.done;
    }
  });
});

describe.skipIf(skip !== null)('the raw transport on loopback, and its usage errors', () => {
  it('a raw sender against the built-in reflector on ::1 (IPv4 127/8 frames are martians on input unless route_localnet)', async () => {
    const reflector = await startCliReflector('[::1]:0');
    try {
      const run = await runCli(['probe', `[::1]:${reflector.listening.port}`, '--count', '300', '--transport', 'raw', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const r = JSON.parse(run.stdout);
      expect(r).toMatchObject({ sent: 300, received: 300, malformed: 0 });
      expect(r.granted.timestamping.interface).toBe('lo');
      expect(r.metrics['rtt.kernel'].count).toBe(300);
    } finally {
      reflector.child.kill('SIGTERM');
      await reflector.done;
    }
  });

  it('a raw reflector on a wildcard address without --interface is a usage error (exit 2)', async () => {
    const run = await runCli(['reflect', '--transport', 'raw', '--bind', ':0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/raw reflector bound to the wildcard address 0\.0\.0\.0 needs an interface: give interface \(--interface IF\)/);
  });

  it('an interface that does not exist: ENODEV, named', async () => {
    const run = await runCli(['probe', '[::1]:9', '--transport', 'raw', '--interface', 'nosuch0', '--count', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no interface named 'nosuch0' \(list them with `ip link`\).*ENODEV/);
  });

  it('--interface, --vlan and --dst-mac without --transport raw are refused rather than ignored', async () => {
    for (const args of [['--interface', 'lo'], ['--vlan', '5'], ['--dst-mac', '02:00:00:00:00:01']]) {
      const run = await runCli(['probe', '[::1]:9', '--count', '1', ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/applies to the raw transport only/);
    }
  });
});
