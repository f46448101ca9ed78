/**
 * A reflector and a sender in one process on loopback: both modes, IPv4 and
 * IPv6, with kernel-stamped metrics that agree with each other, progress,
 * stopping, loss and system errors, on either user clock.
 */
import dgram from 'node:dgram';
import type { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hostCaps } from '../src/caps';
import { indexOf } from '../src/histogram';
import { ProbeResult, RttProbeError, probe, startReflector, type ProbeProgress, type Reflector } from '../src/index';

const STANDARD = [50, 90, 99, 99.9, 99.99];

/** The consistency every kernel-stamped result must show (the metric table of docs/design.md#metrics). */
function expectConsistentKernelMetrics(result: ProbeResult): void {
  const user = result.metrics['rtt.user']!;
  const kernel = result.metrics['rtt.kernel']!;
  expect(kernel, `rtt.kernel missing: ${result.missing['rtt.kernel']}`).toBeDefined();
  // Per probe T1k >= T1u and T4k <= T4u, so every percentile of rtt.kernel is at most rtt.user's.
  for (const p of STANDARD) expect(kernel.percentile(p)).toBeLessThanOrEqual(user.percentile(p));
  expect(result.metrics.residence!.min).toBeGreaterThan(0);
  const net = result.metrics['rtt.net']!;
  // Per probe rtt.net < rtt.user; strictly at p50 only, since in the tail a stall of milliseconds can put both in one bucket.
  for (const p of STANDARD) expect(net.percentile(p)).toBeLessThanOrEqual(user.percentile(p));
  expect(net.percentile(50)).toBeLessThan(user.percentile(50));
  for (const name of ['stack.tx', 'stack.rx', 'owd.fwd', 'owd.rev'] as const) {
    expect(result.metrics[name]?.count, name).toBe(user.count);
  }
  expect(result.missing['rtt.hw']).toMatch(/hardware/);
}

describe.each([
  ['IPv4', '127.0.0.1'],
  ['IPv6', '::1'],
])('on %s loopback', (_family, host) => {
  let reflector: Reflector;
  beforeAll(async () => {
    reflector = await startReflector({ bind: host, port: 0 });
  });
  afterAll(async () => {
    await reflector.stop();
  });

  it('ping-pong measures every probe with user and kernel stamps', async () => {
    const result = await probe({ host, port: reflector.address.port }, { count: 2000, warmup: 50 }).result;
    expect(result.counters).toMatchObject({ sent: 2000, received: 2000, lost: 0, duplicates: 0, late: 0, malformed: 0 });
    expect(result.metrics['rtt.user']!.count).toBe(2000);
    expect(result.granted.timestamping.software).toBe(true);
    expect(result.target.family).toBe(_family);
    // The session thread spins: it used CPU time, at most one core's worth.
    expect(result.cpu.threadNs).toBeGreaterThan(0);
    expect(result.cpu.utilization).toBeLessThanOrEqual(1.05);
    expectConsistentKernelMetrics(result);
  });

  it('rate mode keeps several probes in flight and matches replies by sequence number', async () => {
    const started = Date.now();
    const result = await probe({ host, port: reflector.address.port }, { mode: 'rate', rate: 20_000, count: 10_000 }).result;
    const elapsed = Date.now() - started;
    expect(result.counters.sent).toBe(10_000);
    expect(result.counters.received + result.counters.lost).toBe(10_000);
    // Loss here can only come from a descheduled end on a loaded machine: bounded, not zero.
    expect(result.counters.received).toBeGreaterThan(9_500);
    expect(result.options).toMatchObject({ mode: 'rate', rate: 20_000 });
    expect(elapsed).toBeGreaterThan(400); // 10 010 probes at 20k/s cannot finish sooner
    expectConsistentKernelMetrics(result);
    // Every measured probe's lateness against its schedule is recorded; the rate is measured, not assumed.
    expect(result.metrics['send.error']!.count).toBe(10_000);
    expect(result.achievedRate).toBeGreaterThan(0);
    expect(result.achievedRate).toBeLessThan(20_000 * 1.01);
  });

  it('ping-pong reports round trips per second and no send.error (it has no schedule)', async () => {
    const result = await probe({ host, port: reflector.address.port }, { count: 500 }).result;
    expect(result.achievedRate).toBeGreaterThan(0);
    expect(result.metrics['send.error']).toBeUndefined();
    expect(result.missing['send.error']).toBeUndefined();
  });

  it('counts the achieved rate over measured probes only, as every other figure', async () => {
    // Warm-up probes are sent but not measured: one measured probe spans no time.
    const one = await probe({ host, port: reflector.address.port }, { count: 1, warmup: 50 }).result;
    expect(one.counters.sent).toBe(1);
    expect(one.achievedRate).toBe(0);
    // Ping-pong sends a probe per round trip at most: no faster than the quickest one allows.
    const pingpong = await probe({ host, port: reflector.address.port }, { count: 2_000, warmup: 1_000 }).result;
    expect(pingpong.achievedRate).toBeGreaterThan(0);
    expect(pingpong.achievedRate).toBeLessThanOrEqual(1e9 / pingpong.metrics['rtt.user']!.min);
  });

  it('without busy polling blocks in ppoll and still measures', async () => {
    const result = await probe({ host, port: reflector.address.port }, { count: 300, busyPoll: false }).result;
    expect(result.counters.received).toBe(300);
    expect(result.options.busyPoll).toBe(false);
    expectConsistentKernelMetrics(result);
  });
});

describe('sessions', () => {
  let reflector: Reflector;
  beforeAll(async () => {
    reflector = await startReflector({ bind: '127.0.0.1', port: 0, progressInterval: '50ms' });
  });
  afterAll(async () => {
    await reflector.stop();
  });
  const target = () => ({ host: '127.0.0.1', port: reflector.address.port });

  it('delivers progress snapshots as events and by async iteration', async () => {
    const session = probe(target(), { duration: '400ms', progressInterval: '50ms' });
    const events: number[] = [];
    session.on('progress', (p) => events.push(p.received));
    const iterated = [];
    for await (const p of session) iterated.push(p);
    const result = await session.result;
    expect(iterated.length).toBeGreaterThanOrEqual(3);
    expect(events.length).toBe(iterated.length);
    expect(events).toEqual([...events].sort((a, b) => a - b));
    expect(iterated.at(-1)!.metrics['rtt.user']!.p50).toBeGreaterThan(0);
    expect(result.counters.received).toBeGreaterThanOrEqual(events.at(-1)!);
  });

  it('takes progress snapshots only while someone listens, so an unwatched loop never wakes JavaScript', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const session = probe(target(), { duration: '800ms', progressInterval: '10ms' });
    // Spied on as a plain EventEmitter: the typed emit is generic, so its calls have no one argument type.
    const emit = vi.spyOn<EventEmitter, 'emit'>(session, 'emit');
    const handed = () => emit.mock.calls.filter(([event]) => event === 'progress').length;
    await sleep(200);
    expect(handed()).toBe(0);
    const seen: number[] = [];
    const listener = (p: ProbeProgress) => seen.push(p.elapsedNs);
    session.on('progress', listener);
    await sleep(200);
    expect(seen.length).toBeGreaterThanOrEqual(5);
    session.off('progress', listener);
    // Snapshots already queued (at most two) may still arrive, then none.
    await sleep(50);
    const afterOff = handed();
    await sleep(200);
    expect(handed()).toBe(afterOff);
    const result = await session.result;
    expect(result.counters.received).toBeGreaterThan(1000);

    const watched = await startReflector({ bind: '127.0.0.1', port: 0, progressInterval: '10ms' });
    try {
      const reflectorEmit = vi.spyOn<EventEmitter, 'emit'>(watched, 'emit');
      await probe({ host: '127.0.0.1', port: watched.address.port }, { count: 2000 }).result;
      expect(reflectorEmit.mock.calls.filter(([event]) => event === 'progress')).toHaveLength(0);
      const next = await new Promise<{ received: number }>((resolve) => watched.once('progress', resolve));
      expect(next.received).toBeGreaterThanOrEqual(2000);
    } finally {
      await watched.stop();
    }
  });

  it('puts bucket counts in progress snapshots only for a session that asked, and they add up to the running count', async () => {
    const session = probe(target(), { duration: '1500ms', progressInterval: '20ms' });
    const snapshots: ProbeProgress[] = [];
    session.on('progress', (p) => snapshots.push(p));
    await new Promise((r) => setTimeout(r, 400));
    const before = snapshots.length;
    session.wantProgressCounts();
    await session.result;
    const withoutCounts = snapshots.slice(0, before).filter((p) => p.metrics['rtt.user']);
    expect(withoutCounts.length).toBeGreaterThan(3);
    for (const p of withoutCounts) expect(p.metrics['rtt.user']).not.toHaveProperty('counts');
    // The switch takes effect from the next snapshot; queued ones (at most two) may still lack counts.
    const counted = snapshots.slice(before + 2);
    expect(counted.length).toBeGreaterThan(3);
    for (const p of counted) {
      const m = p.metrics['rtt.user']!;
      expect(m.counts!.reduce((a, b) => a + b, 0)).toBe(m.count);
      expect(m.countsFrom).toBe(indexOf(m.min));
    }
  });

  it('stops on an AbortSignal and resolves with what was recorded so far', async () => {
    const controller = new AbortController();
    const session = probe(target(), { duration: '30s', signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const result = await session.result;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.stopped).toBe(true);
    expect(result.counters.received).toBeGreaterThan(0);
    expect(result.metrics['rtt.user']!.count).toBe(result.counters.received);
  });

  it('runs several sessions at once against one reflector', async () => {
    const results = await Promise.all([1, 2, 3].map((ssid) => probe(target(), { count: 500, ssid }).result));
    for (const r of results) expect(r.counters.received).toBe(500);
  });

  it('serialises to JSON and back without losing metrics or counters', async () => {
    const result = await probe(target(), { count: 200 }).result;
    const json = JSON.parse(JSON.stringify(result));
    expect(Object.keys(json.metrics)).toContain('rtt.kernel');
    expect(json.metrics['rtt.user'].percentiles).toHaveProperty('99.99');
    expect(Number.isInteger(json.metrics['rtt.user'].mean)).toBe(true);
    const back = ProbeResult.fromJSON(json);
    expect(back.counters).toEqual(result.counters);
    expect(back.metrics['rtt.user']!.percentile(99)).toBe(result.metrics['rtt.user']!.percentile(99));
    expect(JSON.parse(JSON.stringify(back))).toEqual(json);
  });

  it('reads a kept report from before the TSC clock as measured on the vDSO clock', async () => {
    const json = JSON.parse(JSON.stringify(await probe(target(), { count: 10 }).result));
    delete json.options.clock;
    delete json.granted.clock;
    const back = ProbeResult.fromJSON(json);
    expect(back.options.clock).toBe('realtime');
    expect(back.granted.clock).toBe('realtime');
    expect(back.metrics['rtt.user']!.count).toBe(10);
  });

  it('reports the pinning that took effect', async () => {
    const result = await probe(target(), { count: 100, cpu: 0 }).result;
    expect(result.granted.pinning.cpu).toBe(0);
  });

  it('rejects a CPU this process may not use with EINVAL and the allowed CPUs', async () => {
    const session = probe(target(), { count: 10, cpu: 1000 });
    await expect(session.result).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringMatching(/may use CPUs/) });
  });

  it('auto asks for hardware stamps only where the interface has them, and says so', async () => {
    const result = await probe(target(), { count: 50 }).result;
    expect(result.granted.timestamping).toMatchObject({ interface: 'lo', hardwareCapable: false, hardwareRequested: false, software: true });
    expect(result.missing['rtt.hw']).toBe('interface lo has no hardware timestamping (see ethtool -T lo)');
  });

  it('hardware asks lo for NIC stamps anyway, is refused, and measures with kernel stamps', async () => {
    const result = await probe(target(), { count: 50, timestamps: 'hardware' }).result;
    expect(result.granted.timestamping).toMatchObject({ hardwareRequested: true, software: true, hwtstamp: { rx: false, tx: false } });
    expect(result.missing['rtt.hw']).toMatch(/^interface lo refused hardware timestamping \(SIOCSHWTSTAMP: (EOPNOTSUPP|EPERM)/);
    expect(result.metrics['rtt.kernel']!.count).toBe(50);
  });

  it('with timestamps off, says why the kernel metrics are missing', async () => {
    const result = await probe(target(), { count: 100, timestamps: 'none' }).result;
    expect(result.metrics['rtt.user']!.count).toBe(100);
    expect(result.metrics['rtt.kernel']).toBeUndefined();
    expect(result.missing['rtt.kernel']).toMatch(/timestamping is off/);
  });

  it('with timestamps off, still reads the reflector timestamps and counts ICMP errors', async () => {
    // The sender then reads replies without control messages (recvfrom).
    const result = await probe(target(), { count: 100, timestamps: 'none' }).result;
    expect(result.metrics.residence!.count).toBe(100);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = sock.address().port;
    sock.close();
    const refused = await probe({ host: '127.0.0.1', port }, { count: 3, warmup: 0, timeout: '50ms', timestamps: 'none' }).result;
    expect(refused.counters.icmpErrors).toBeGreaterThan(0);
    expect(refused.counters).toMatchObject({ sent: 3, received: 0, lost: 3 });
    // The reason every metric is missing says what the ICMP errors mean.
    expect(refused.missing['rtt.user']).toBe(
      `no replies were received; ${refused.counters.icmpErrors} ICMP errors came back ` +
        "(last ECONNREFUSED: port unreachable, so nothing listens on the target's port or a firewall rejects the probes)",
    );
    expect(refused.missing['rtt.kernel']).toBe(refused.missing['rtt.user']);
  });
});

describe('the user clock', () => {
  const host = hostCaps();
  const tscUsable = host.clocksource === 'tsc' && host.invariantTsc;

  it('is the TSC where the kernel keeps time with an invariant TSC, else CLOCK_REALTIME through the vDSO', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
    try {
      const auto = await probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 100 }).result;
      expect(auto.granted.clock).toBe(tscUsable ? 'tsc' : 'realtime');
      const vdso = await probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 100, clock: 'realtime' }).result;
      expect(vdso.granted.clock).toBe('realtime');
      expect(vdso.options.clock).toBe('realtime');
    } finally {
      await reflector.stop();
    }
    expect((await reflector.result).granted.clock).toBe(tscUsable ? 'tsc' : 'realtime');
  });

  // T1 and T4 bracket the kernel's own stamps of the same datagrams, and the
  // reflector's T3 follows its kernel T2: a TSC clock off CLOCK_REALTIME by
  // more than a kernel stack traversal breaks one of these.
  it.each(tscUsable ? (['tsc', 'realtime'] as const) : (['realtime'] as const))(
    'on %s, user stamps agree with the kernel stamps of the same datagrams',
    async (clock) => {
      const reflector = await startReflector({ bind: '127.0.0.1', port: 0, clock });
      try {
        const result = await probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 20000, clock }).result;
        expect(result.granted.clock).toBe(clock);
        expect(result.counters).toMatchObject({ received: 20000, corrupted: 0 });
        expectConsistentKernelMetrics(result);
        expect(result.metrics['stack.tx']!.min).toBeGreaterThan(0);
        expect(result.metrics['stack.rx']!.min).toBeGreaterThan(0);
      } finally {
        await reflector.stop();
      }
    },
  );
});

describe('failures', () => {
  it('a probe to a port where nothing listens ends on time with 100% loss', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = sock.address().port;
    sock.close(); // the port is now closed
    const started = Date.now();
    const result = await probe({ host: '127.0.0.1', port }, { count: 5, warmup: 0, timeout: '100ms' }).result;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result.counters).toMatchObject({ sent: 5, received: 0, lost: 5 });
    expect(result.lossRatio).toBe(1);
    expect(result.missing['rtt.user']).toMatch(/no replies/);
  });

  it('a busy port is EADDRINUSE, with the address and what to do', async () => {
    const first = await startReflector({ bind: '127.0.0.1', port: 0 });
    try {
      const second = startReflector({ bind: '127.0.0.1', port: first.address.port });
      await expect(second).rejects.toBeInstanceOf(RttProbeError);
      await expect(second).rejects.toMatchObject({
        code: 'EADDRINUSE',
        message: expect.stringMatching(new RegExp(`127\\.0\\.0\\.1:${first.address.port}.*choose another port`)),
      });
    } finally {
      await first.stop();
    }
  });

  it('an unresolvable host rejects with the resolver code', async () => {
    await expect(probe('no-such-host.invalid', { count: 1 }).result).rejects.toMatchObject({
      code: expect.stringMatching(/ENOTFOUND|EAI_AGAIN/),
    });
  });
});
