/**
 * The benchmark's TCP floor (bench/floor/tcp_pingpong.c) is the least a TCP
 * request/response can cost, the figure rtt-probe --proto tcp is held to: its
 * server echoes on every connection, its client times request/response over
 * one connection (netperf TCP_RR) or connect, request, response and close per
 * transaction (`crr`, netperf TCP_CRR) without leaving TIME_WAIT behind, and a
 * server that goes away ends the client with the reason instead of a hang.
 * Its server is a plain echo service, which rtt-probe --proto tcp measures as one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { probe } from '../src/index';
import { cProgram, stopProgram } from './support/c-program';

const floor = cProgram(path.join(__dirname, '..', 'bench', 'floor', 'tcp_pingpong.c'));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A floor server on a free loopback port, once it listens. */
async function floorServer(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(floor(), ['server', '127.0.0.1', String(port), '-'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return { port, child };
}

const floorClient = (port: number, count: number, ...flags: string[]) =>
  spawnSync(floor(), ['client', '127.0.0.1', String(port), String(count), '10', '-', 'busy', ...flags], { encoding: 'utf8', timeout: 60_000 });

/** TCP sockets in TIME_WAIT to or from this port on loopback. */
function timeWait(port: number): number {
  const ss = spawnSync('ss', ['-Htan', 'state', 'time-wait', `( sport = :${port} or dport = :${port} )`], { encoding: 'utf8' });
  return ss.stdout.split('\n').filter((l) => l.trim() !== '').length;
}

describe('the TCP floor', () => {
  it('times request/response over one connection and prints its percentiles', async () => {
    const server = await floorServer();
    try {
      const run = floorClient(server.port, 2000);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const r = JSON.parse(run.stdout) as Record<string, number>;
      expect(r.count).toBe(2000);
      expect(r.min).toBeGreaterThan(0);
      expect(r.min).toBeLessThanOrEqual(r.p50!);
      expect(r.p50).toBeLessThanOrEqual(r.p99!);
      expect(r.p99).toBeLessThanOrEqual(r.max!);
      expect(r.roundTripsPerSecond).toBeGreaterThan(0);
    } finally {
      await stopProgram(server.child);
    }
  });

  it('with crr, opens a connection per transaction and closes it with a reset, so no TIME_WAIT piles up', async () => {
    const server = await floorServer();
    try {
      const run = floorClient(server.port, 2000, 'crr');
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ count: 2000 });
      // 2010 connections: a graceful close would leave one TIME_WAIT each on the side that closed first.
      expect(timeWait(server.port)).toBe(0);
    } finally {
      await stopProgram(server.child);
    }
  });

  it('serves rtt-probe --proto tcp as the echo service it is: every reply counted an echo, no reflector timestamps', async () => {
    const server = await floorServer();
    try {
      const r = await probe({ host: '127.0.0.1', port: server.port }, { protocol: 'tcp', count: 500, duration: '10s', timeout: '1s' }).result;
      expect(r.counters).toMatchObject({ received: 500, lost: 0 });
      expect(r.counters.echoes).toBeGreaterThanOrEqual(500);
      expect(r.missing.residence).toMatch(/echo service/);
    } finally {
      await stopProgram(server.child);
    }
  });

  it('ends with the reason when the server closes the connection, instead of waiting for a reply', async () => {
    const port = await freePort();
    // It reads what arrives (so its side of the connection can finish closing) and closes at once.
    const closing = net.createServer((socket) => socket.resume().end());
    await new Promise<void>((resolve) => closing.listen(port, '127.0.0.1', resolve));
    try {
      const run = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(floor(), ['client', '127.0.0.1', String(port), '100', '0', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('close', (status) => resolve({ status, stderr }));
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/^the server closed the connection at transaction 0$/m);
    } finally {
      await new Promise((resolve) => closing.close(resolve));
    }
  });
});
