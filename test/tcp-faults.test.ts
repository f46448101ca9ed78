/**
 * TCP sessions when the other end misbehaves (docs/tcp.md#faults): a target
 * without TCP, a peer that closes mid-run, a reply cut short, a peer that
 * never reads, SIGINT mid-run, and on the reflector's side a peer that sends
 * half a request and stalls, and more connections than it takes. Each ends
 * with a clear error or a counter, and nothing hangs.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RttProbeError, probe, startReflector, wire } from '../src/index';
import { runCli, spawnCli, startCliReflector } from './support/cli';

/** A TCP server the test controls, closed after each test with its connections. */
const servers: net.Server[] = [];
const accepted: net.Socket[] = [];
async function serve(onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer((socket) => {
    accepted.push(socket);
    socket.on('error', () => {});
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}
afterEach(async () => {
  for (const socket of accepted.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const port = await serve(() => {});
  await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
  return port;
}

/** A framed STAMP request (docs/tcp.md#framing-and-why). */
function frame(size = 44): Buffer {
  const packet = wire.encodeSender({ seq: 1, timestamp: 1n, errorEstimate: 0, ssid: 0 }, size);
  const out = Buffer.alloc(2 + packet.length);
  out.writeUInt16BE(packet.length, 0);
  Buffer.from(packet).copy(out, 2);
  return out;
}

describe('the sender', () => {
  it('fails at once with ECONNREFUSED against a reflector that serves UDP only', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0, busyPoll: false });
    try {
      const started = Date.now();
      const error = await probe({ host: '127.0.0.1', port: reflector.address.port }, { protocol: 'tcp', count: 10 }).result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RttProbeError);
      expect((error as RttProbeError).code).toBe('ECONNREFUSED');
      expect((error as Error).message).toMatch(/cannot connect over TCP to 127\.0\.0\.1:\d+.*start the reflector with --proto tcp/);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await reflector.stop();
    }
  });

  it('exits 1 naming ECONNREFUSED from the CLI', async () => {
    const run = await runCli(['probe', '--proto', 'tcp', `127.0.0.1:${await closedPort()}`, '--count', '10'], { timeoutMs: 10_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/ECONNREFUSED/);
  });

  it('keeps what it measured when the peer closes mid-run, and ends at once with the disconnect counted', async () => {
    // An echo that closes after 50 requests.
    const port = await serve((socket) => {
      let requests = 0;
      socket.on('data', (data) => {
        socket.write(data);
        requests += data.length / frame().length;
        if (requests >= 50) socket.end();
      });
    });
    const started = Date.now();
    const r = await probe({ host: '127.0.0.1', port }, { protocol: 'tcp', count: 1000, warmup: 0, timeout: '10s', busyPoll: false }).result;
    expect(Date.now() - started).toBeLessThan(5000); // waiting out the timeout would take 10 s
    expect(r.counters.disconnects).toBe(1);
    expect(r.received).toBe(50);
    expect(r.metrics['rtt.user']?.count).toBe(50);
    expect(r.sent).toBeLessThanOrEqual(51);
  });

  it('counts a reply cut short as lost once its timeout passes, and ends', async () => {
    const port = await serve((socket) => socket.once('data', (data) => socket.write(data.subarray(0, 20))));
    const r = await probe({ host: '127.0.0.1', port }, { protocol: 'tcp', count: 5, warmup: 0, timeout: '100ms', busyPoll: false }).result;
    expect(r.counters).toMatchObject({ sent: 5, received: 0, lost: 5 });
    expect(r.missing['rtt.user']).toMatch(/no replies were received/);
  });

  it('does not block on a peer that never reads: the full send buffer is counted, the run ends', async () => {
    const port = await serve((socket) => socket.pause());
    const started = Date.now();
    const r = await probe({ host: '127.0.0.1', port }, { protocol: 'tcp', count: 300, warmup: 0, size: 65_000, timeout: '10ms', busyPoll: false }).result;
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.counters).toMatchObject({ sent: 300, received: 0, lost: 300 });
    expect(r.counters.sendErrors).toBeGreaterThan(0);
    expect(r.lastSendError).toBe('ENOBUFS');
  }, 20_000);

  it('connect mode: a reflector that goes away mid-run ends the run with the refusals counted', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0, protocols: ['tcp'], busyPoll: false });
    const session = probe({ host: '127.0.0.1', port: reflector.address.port }, { protocol: 'tcp', mode: 'connect', duration: '20s', stopOnUnreachable: true, busyPoll: false });
    session.once('progress', () => void reflector.stop());
    const r = await session.result;
    expect(r.received).toBeGreaterThan(0);
    expect(r.counters.connectErrors).toBe(1);
    // The probe whose connection the stopping reflector reset, if any, is lost too.
    expect(r.counters.lost).toBe(1 + r.counters.disconnects);
  }, 30_000);

  it('SIGINT mid-run prints what was measured and exits 130', async () => {
    const reflector = await startCliReflector('127.0.0.1:0', { extra: ['--proto', 'tcp', '--no-busy-poll'] });
    try {
      const run = spawnCli(['probe', '--proto', 'tcp', `127.0.0.1:${reflector.listening.port}`, '--duration', '60s', '--json', '--no-busy-poll'], { timeoutMs: 20_000 });
      await new Promise((resolve) => setTimeout(resolve, 2000));
      run.child.kill('SIGINT');
      const done = await run.done;
      expect(done.code).toBe(130);
      const r = JSON.parse(done.stdout);
      expect(r.received).toBeGreaterThan(0);
      expect(r.options.protocol).toBe('tcp');
    } finally {
      reflector.child.kill('SIGTERM');
      await reflector.done;
    }
  }, 30_000);
});

describe('the reflector', () => {
  it('answers others while a peer stalls mid-request, and closes the stalled connection at its deadline', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0, protocols: ['tcp'], busyPoll: false, progressInterval: '100ms' });
    try {
      const stalled = net.connect(reflector.address.port, '127.0.0.1');
      stalled.on('error', () => {});
      const closed = new Promise<void>((resolve) => stalled.on('close', () => resolve()));
      stalled.write(frame().subarray(0, 20));
      const r = await probe({ host: '127.0.0.1', port: reflector.address.port }, { protocol: 'tcp', count: 200, busyPoll: false }).result;
      expect(r.received).toBe(200);
      await closed;
      const counters = await new Promise<{ requestTimeouts: number }>((resolve) => reflector.once('progress', resolve));
      expect(counters.requestTimeouts).toBe(1);
    } finally {
      await reflector.stop();
    }
  }, 15_000);

  it('applies its allow-list to TCP peers: requests from elsewhere are counted as denied and not answered', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0, protocols: ['tcp'], allow: '198.18.0.0/15', busyPoll: false, progressInterval: '100ms' });
    try {
      const r = await probe({ host: '127.0.0.1', port: reflector.address.port }, { protocol: 'tcp', count: 3, warmup: 0, timeout: '100ms', busyPoll: false }).result;
      expect(r.counters).toMatchObject({ sent: 3, received: 0, lost: 3 });
      const counters = await new Promise<{ denied: number; reflected: number }>((resolve) => reflector.once('progress', resolve));
      expect(counters).toMatchObject({ denied: 3, reflected: 0 });
    } finally {
      await reflector.stop();
    }
  });

  it('resets connections over maxConnections and counts them', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0, protocols: ['tcp'], maxConnections: 2, busyPoll: false, progressInterval: '100ms' });
    const sockets: net.Socket[] = [];
    try {
      const outcomes = await Promise.all(
        [0, 1, 2].map(
          () =>
            new Promise<string>((resolve) => {
              const s = net.connect(reflector.address.port, '127.0.0.1', () => s.write(frame()));
              sockets.push(s);
              s.once('data', () => resolve('answered'));
              s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
            }),
        ),
      );
      expect(outcomes.sort()).toEqual(['ECONNRESET', 'answered', 'answered']);
      const counters = await new Promise<{ connections: number; connectionsRefused: number }>((resolve) => reflector.once('progress', resolve));
      expect(counters).toMatchObject({ connections: 2, connectionsRefused: 1 });
    } finally {
      for (const s of sockets) s.destroy();
      await reflector.stop();
    }
  });
});
