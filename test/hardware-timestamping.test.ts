/**
 * Hardware timestamps on real NICs need the NIC configured (SIOCSHWTSTAMP),
 * not just socket flags. This host has no NIC that stamps, so the setup is
 * checked through the kernel's refusals: lo and veth have no hardware
 * timestamping (EOPNOTSUPP), and without CAP_NET_ADMIN the kernel refuses
 * before asking the driver (EPERM). The policy itself (what is asked for,
 * the ntp-all fallback, what a driver grants) runs against a synthetic NIC in
 * test/native/core_test.cpp. A run asking for hardware stamps explicitly
 * says when none will come; 'auto' stays quiet.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe, startReflector, type Reflector } from '../src/index';
import { runCli, startCliReflector } from './support/cli';
import { createVethPair, netnsUnavailable, removeLeftovers, type VethPair } from './support/netns';

const CAP_NET_ADMIN = 12n;
const capEff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
/** What SIOCSHWTSTAMP on lo answers this process: the capability check comes before the driver's. */
const LO_REFUSAL = ((capEff >> CAP_NET_ADMIN) & 1n) === 1n ? 'EOPNOTSUPP' : 'EPERM';

describe('--ts hardware on loopback', () => {
  let reflector: Reflector;
  beforeAll(async () => {
    reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await reflector.stop();
  });

  it('tries to enable NIC timestamping on lo and records the refusal by errno in the grant', async () => {
    const result = await probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 50, timestamps: 'hardware' }).result;
    expect(result.granted.timestamping).toMatchObject({ interface: 'lo', hardwareRequested: true, software: true });
    expect(result.granted.timestamping.hwtstamp).toEqual({
      previous: null,
      previousError: 'EOPNOTSUPP', // lo's driver cannot report a config: it has none
      changed: false,
      refused: LO_REFUSAL,
      granted: null,
      tx: false,
      rx: false,
    });
    expect(result.missing['rtt.hw']).toBe(`interface lo refused hardware timestamping (SIOCSHWTSTAMP: ${LO_REFUSAL}; see rtt-probe caps)`);
    expect(result.metrics['rtt.kernel']!.count).toBe(50); // software stamps still measure
  });

  it("the 'started' event carries the grant before the first probe", async () => {
    const session = probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 5, timestamps: 'hardware' });
    const started = new Promise((resolve) => session.once('started', resolve));
    await session.result;
    expect(await started).toMatchObject({ local: { address: '127.0.0.1' }, timestamping: { hwtstamp: { refused: LO_REFUSAL } } });
  });

  it.each(['auto', 'software', 'none'] as const)('with --ts %s no NIC is touched (hwtstamp is null)', async (timestamps) => {
    const result = await probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 5, timestamps }).result;
    expect(result.granted.timestamping.hwtstamp).toBeNull();
  });

  it('a reflector bound to the wildcard address cannot tell which NIC to configure', async () => {
    const wildcard = await startReflector({ bind: '0.0.0.0', port: 0, timestamps: 'hardware' });
    try {
      expect(wildcard.timestamping).toMatchObject({ interface: '*', hardwareRequested: true, hwtstamp: null });
    } finally {
      await wildcard.stop();
    }
  });
});

describe('what the CLI says', () => {
  it('probe --ts hardware warns on stderr, naming the interface, the errno and what to do, and still measures', async () => {
    const reflector = await startCliReflector('127.0.0.1:0');
    try {
      const run = await runCli(['probe', `127.0.0.1:${reflector.listening.port}`, '--count', '100', '--ts', 'hardware']);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(
        new RegExp(`^rtt-probe: warning: --ts hardware: interface lo gives no hardware timestamps: SIOCSHWTSTAMP refused with ${LO_REFUSAL}`),
      );
      expect(run.stderr).toMatch(/`rtt-probe caps --interface lo`/);
      expect(run.stderr).toMatch(/a NIC that has them.*CAP_NET_ADMIN/);
      expect(run.stdout).toMatch(/^rtt\.kernel(\s+\d+(\.\d+)?){9}$/m);
      expect(run.stdout).toMatch(/rtt\.hw: interface lo refused hardware timestamping/);
    } finally {
      reflector.child.kill('SIGTERM');
      await reflector.done;
    }
  });

  it('reflect --ts hardware warns right after its listening line', async () => {
    const run = await runCli(['reflect', '--bind', '127.0.0.1:0', '--ts', 'hardware', '--duration', '200ms']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^listening on 127\.0\.0\.1:\d+$/m);
    expect(run.stderr).toMatch(/warning: --ts hardware: interface lo gives no hardware timestamps/);
  });

  it('a wildcard bind is told to bind to the NIC address', async () => {
    const run = await runCli(['reflect', '--bind', '0.0.0.0:0', '--ts', 'hardware', '--duration', '200ms']);
    expect(run.stderr).toMatch(/bound to a wildcard address.*--bind ADDR/);
  });

  it('--ts auto stays silent where the interface has no hardware timestamping', async () => {
    const reflector = await startCliReflector('127.0.0.1:0');
    try {
      const run = await runCli(['probe', `127.0.0.1:${reflector.listening.port}`, '--count', '100']);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
    } finally {
      reflector.child.kill('SIGTERM');
      await reflector.done;
    }
  });
});

const skip = netnsUnavailable();
if (skip) console.warn(`hardware-timestamping namespace tests skipped: ${skip}`);

describe.skipIf(skip !== null)('on a veth pair between two namespaces (root)', () => {
  let net: VethPair;
  beforeAll(() => {
    removeLeftovers();
    net = createVethPair('hwts');
  });
  afterAll(() => net?.remove());

  it('veth refuses SIOCSHWTSTAMP with EOPNOTSUPP; both ends record it and the probe still measures', async () => {
    const reflector = await startCliReflector(`${net.addressA}:0`, { netns: net.a, extra: ['--ts', 'hardware'] });
    try {
      const run = await runCli(['probe', `${net.addressA}:${reflector.listening.port}`, '--count', '200', '--ts', 'hardware', '--json'], {
        netns: net.b,
      });
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/interface veth-rttp gives no hardware timestamps: SIOCSHWTSTAMP refused with EOPNOTSUPP/);
      const r = JSON.parse(run.stdout);
      expect(r.received).toBe(200);
      expect(r.granted.timestamping).toMatchObject({
        interface: 'veth-rttp',
        hardwareCapable: false,
        hwtstamp: { previous: null, previousError: 'EOPNOTSUPP', refused: 'EOPNOTSUPP', changed: false, tx: false, rx: false },
      });
    } finally {
      reflector.child.kill('SIGTERM');
      const done = await reflector.done;
      expect(done.stderr).toMatch(/interface veth-rttp gives no hardware timestamps: SIOCSHWTSTAMP refused with EOPNOTSUPP/);
    }
  });

  it('caps reports what veth can do: software stamps only, no config to read', async () => {
    const run = await runCli(['caps', '--interface', 'veth-rttp', '--json'], { netns: net.a });
    expect(run.code, run.stderr).toBe(0);
    const [veth] = JSON.parse(run.stdout).interfaces;
    expect(veth).toMatchObject({ interface: 'veth-rttp', hardwareCapable: false, phc: null, hwtstamp: null, hwtstampError: 'EOPNOTSUPP' });
    expect(veth.soTimestamping).toEqual(expect.arrayContaining(['rx-software', 'software']));
  });
});
