/**
 * TCP request/response (netperf TCP_RR) and connect-per-transaction
 * (TCP_CRR) probing, as docs/tcp.md describes it: the metrics UDP has where
 * they apply, the ACK stamp, the connect and transaction times, UDP and TCP
 * served on one port, an echo service as the peer, 100 000 connections
 * without a leaked descriptor or an exhausted ephemeral port, and a run
 * across two network namespaces.
 */
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe, startReflector, type Reflector } from '../src/index';
import { SCHEMA_PATH } from '../src/schema';
import { runCli, startCliReflector } from './support/cli';
import { createVethPair, namespaceExists, netnsUnavailable, removeLeftovers, type VethPair } from './support/netns';

const validate = new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')));
const PERCENTILES = ['50', '90', '99'];

/** The rows of a --raw .jsonl capture that were answered. */
function answeredRows(file: string): Array<Record<string, number | string | null>> {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, number | string | null>)
    .filter((row) => row.status === 'answered');
}

describe('TCP request/response against `rtt-probe reflect --proto tcp`', () => {
  let reflector: Awaited<ReturnType<typeof startCliReflector>>;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rttp-tcp-'));
    reflector = await startCliReflector('127.0.0.1:0', { extra: ['--proto', 'tcp'] });
  });
  afterAll(async () => {
    reflector.child.kill('SIGTERM');
    await reflector.done;
    rmSync(dir, { recursive: true, force: true });
  });

  it('measures what UDP does where it applies, plus the ACK of each request', async () => {
    const raw = path.join(dir, 'rr.jsonl');
    const run = await runCli(['probe', '--proto', 'tcp', `127.0.0.1:${reflector.listening.port}`, '--count', '2000', '--json', '--raw', raw]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(validate(r), JSON.stringify(validate.errors)).toBe(true);
    expect(r.options).toMatchObject({ protocol: 'tcp', mode: 'pingpong' });
    expect(r).toMatchObject({ sent: 2000, received: 2000, lost: 0, corrupted: 0, echoes: 0, disconnects: 0 });
    for (const m of ['rtt.user', 'rtt.kernel', 'residence', 'rtt.net', 'stack.tx', 'stack.rx', 'ack']) expect(r.metrics[m]?.count, m).toBe(2000);
    for (const p of PERCENTILES) {
      expect(r.metrics['rtt.kernel'].percentiles[p]).toBeLessThanOrEqual(r.metrics['rtt.user'].percentiles[p]);
      expect(r.metrics['rtt.net'].percentiles[p]).toBeLessThanOrEqual(r.metrics['rtt.user'].percentiles[p]);
    }
    expect(r.metrics['rtt.net'].percentiles['50']).toBeLessThan(r.metrics['rtt.user'].percentiles['50']);
    expect(r.metrics.residence.min).toBeGreaterThan(0);
    expect(r.missing).not.toHaveProperty('ack');
    // The kernel has processed the ACK of a request (carried by the reply, or
    // sent before it) by the time the reply is read: ack <= T4u - T1k.
    const rows = answeredRows(raw);
    expect(rows).toHaveLength(2000);
    for (const row of rows) {
      expect(row.ack as number).toBeGreaterThan(0);
      expect(row.ack as number).toBeLessThanOrEqual((row['t4.user'] as number) - (row['t1.kernel'] as number));
    }
  }, 60_000);

  it('connect mode: a connection per probe, with its connect and transaction times', async () => {
    const raw = path.join(dir, 'crr.jsonl');
    const run = await runCli(['probe', '--proto', 'tcp', '--mode', 'connect', `127.0.0.1:${reflector.listening.port}`, '--count', '1000', '--json', '--raw', raw]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(validate(r), JSON.stringify(validate.errors)).toBe(true);
    expect(r).toMatchObject({ sent: 1000, received: 1000, connectErrors: 0 });
    for (const m of ['connect', 'transaction', 'rtt.user', 'rtt.kernel', 'residence', 'ack']) expect(r.metrics[m]?.count, m).toBe(1000);
    // transaction = connect start to reply read, so it holds the connect and
    // the request/response on the new connection, probe by probe.
    const rows = answeredRows(raw);
    expect(rows).toHaveLength(1000);
    for (const row of rows) {
      expect(row.connect as number).toBeGreaterThan(0);
      expect(row.transaction as number).toBeGreaterThanOrEqual((row.connect as number) + (row['rtt.user'] as number));
    }
  }, 60_000);

  it('takes no default port, and refuses rate mode on TCP and connect mode on UDP, with exit 2', async () => {
    const noPort = await runCli(['probe', '--proto', 'tcp', '127.0.0.1', '--count', '1']);
    expect(noPort.code).toBe(2);
    expect(noPort.stderr).toMatch(/names no port.*862\/TCP is TWAMP-Control's.*127\.0\.0\.1:8620/);
    const rate = await runCli(['probe', '--proto', 'tcp', '--mode', 'rate', `127.0.0.1:${reflector.listening.port}`]);
    expect(rate.code).toBe(2);
    expect(rate.stderr).toMatch(/rate mode is for UDP.*'pingpong'.*'connect'/);
    const connect = await runCli(['probe', '--mode', 'connect', `127.0.0.1:${reflector.listening.port}`]);
    expect(connect.code).toBe(2);
    expect(connect.stderr).toMatch(/connect mode opens a TCP connection per probe: add protocol: 'tcp' \(--proto tcp\)/);
    const reflect = await runCli(['reflect', '--proto', 'tcp']);
    expect(reflect.code).toBe(2);
    expect(reflect.stderr).toMatch(/TCP has no default port \(862\/TCP is TWAMP-Control's\): give one with --bind/);
  }, 60_000);
});

describe('one library reflector serving udp,tcp on one port number', () => {
  let reflector: Reflector;
  beforeAll(async () => {
    reflector = await startReflector({ bind: '127.0.0.1', port: 0, protocols: ['udp', 'tcp'], busyPoll: false });
  });
  afterAll(async () => {
    await reflector.stop();
  });

  it('answers UDP and TCP probes to the same port', async () => {
    const target = { host: '127.0.0.1', port: reflector.address.port };
    const [udp, tcp] = await Promise.all([
      probe(target, { count: 500, busyPoll: false }).result,
      probe(target, { count: 500, protocol: 'tcp', busyPoll: false }).result,
    ]);
    expect(udp.received).toBe(500);
    expect(tcp.received).toBe(500);
    expect(tcp.options.protocol).toBe('tcp');
    expect(udp.options.protocol).toBe('udp');
    const counters = await new Promise<{ connections: number; reflected: number }>((resolve) => reflector.once('progress', resolve));
    expect(counters.connections).toBe(1);
    expect(counters.reflected).toBeGreaterThanOrEqual(2 * 510);
  }, 60_000);

  it('names a missing port for TCP in the library too', () => {
    expect(() => probe('127.0.0.1', { protocol: 'tcp' })).toThrow(/names no port, and TCP has none by default \(862\/TCP is TWAMP-Control's\)/);
  });
});

describe('SO_BUSY_POLL on TCP', () => {
  it('a TCP-only reflector sets it on its listener and every connection, and reports the grant as UDP does', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0, protocols: ['tcp'], socketBusyPollUs: 50, busyPoll: false });
    const sent = await probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 200, protocol: 'tcp', socketBusyPollUs: 50, busyPoll: false }).result;
    const served = await reflector.stop();
    expect(sent.received).toBe(200);
    for (const granted of [sent.granted.socketBusyPoll, served.granted.socketBusyPoll]) {
      expect(granted.socketBusyPollUs).toBe(50);
      if (process.getuid?.() === 0) expect(granted).toMatchObject({ granted: true, refused: null });
      else expect(granted.granted || granted.refused === 'EPERM').toBe(true);
    }
  }, 60_000);
});

describe('an echo service as the peer', () => {
  let server: net.Server;
  let port: number;
  beforeAll(async () => {
    server = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('measures the round trip, and lists residence and rtt.net as missing because the replies carry no T2/T3', async () => {
    const r = await probe({ host: '127.0.0.1', port }, { protocol: 'tcp', count: 300, busyPoll: false }).result;
    expect(r.received).toBe(300);
    expect(r.counters.echoes).toBe(310);
    expect(r.metrics['rtt.user']?.count).toBe(300);
    expect(r.metrics['rtt.kernel']?.count).toBe(300);
    expect(r.metrics.residence).toBeUndefined();
    expect(r.missing.residence).toMatch(/echo service \(it returned each request unchanged\).*T2\/T3/);
    expect(r.missing['rtt.net']).toBe(r.missing.residence);
  }, 30_000);
});

describe('100 000 connect-mode transactions', () => {
  it('leave the reflector\'s descriptor count flat and never run out of ephemeral ports', async () => {
    // Both ends block rather than spin: on a loaded 2-vCPU host two spinning
    // threads leave each other less time than wake-ups cost.
    const reflector = await startCliReflector('127.0.0.1:0', { extra: ['--proto', 'tcp', '--no-busy-poll'] });
    const fds = () => readdirSync(`/proc/${reflector.child.pid}/fd`).length;
    try {
      const before = fds();
      const r = await probe({ host: '127.0.0.1', port: reflector.listening.port }, { protocol: 'tcp', mode: 'connect', count: 100_000, warmup: 0, timestamps: 'none', busyPoll: false }).result;
      expect(r.counters).toMatchObject({ sent: 100_000, received: 100_000, connectErrors: 0, lost: 0 });
      expect(r.lastSendError).toBeNull();
      expect(fds()).toBe(before);
    } finally {
      reflector.child.kill('SIGTERM');
      await reflector.done;
    }
  }, 400_000);
});

const skip = netnsUnavailable();
if (skip) console.warn(`TCP netns test skipped: ${skip}`);

describe.skipIf(skip !== null)('TCP across two namespaces joined by veth', () => {
  let pair: VethPair;
  beforeAll(() => {
    removeLeftovers();
    pair = createVethPair('tcp');
  });
  afterAll(() => {
    pair?.remove();
    expect(namespaceExists(pair.a)).toBe(false);
  });

  it.each([['pingpong'], ['connect']])('%s: answered, with kernel stamps and residence', async (mode) => {
    const reflector = await startCliReflector(`${pair.addressA}:0`, { netns: pair.a, extra: ['--proto', 'udp,tcp'] });
    try {
      const run = await runCli(['probe', '--proto', 'tcp', '--mode', mode, `${pair.addressA}:${reflector.listening.port}`, '--count', '1000', '--json'], { netns: pair.b });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const r = JSON.parse(run.stdout);
      expect(r.received).toBe(1000);
      expect(r.local.address).toBe(pair.addressB);
      for (const m of ['rtt.kernel', 'residence', 'ack']) expect(r.metrics[m]?.count, m).toBe(1000);
    } finally {
      reflector.child.kill('SIGTERM');
      expect((await reflector.done).code).toBe(143);
    }
  }, 60_000);
});
