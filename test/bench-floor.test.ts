/**
 * The benchmark's C floor in its STAMP modes (`stamp`, with or without
 * `stamped`) is the least a STAMP sender and reflector can cost, so it must
 * speak STAMP: rtt-probe measures its server with every reply valid, and its
 * client accepts rtt-probe's reflector and refuses an echo server, whose
 * replies do not carry the probe's sequence number and T1 where STAMP puts them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { probe, startReflector } from '../src/index';
import { cProgram, stopProgram } from './support/c-program';

const floor = cProgram(path.join(__dirname, '..', 'bench', 'floor', 'udp_pingpong.c'));

/** A floor server on a free loopback port (from the kernel), once it listens. */
async function floorServer(...flags: string[]): Promise<{ port: number; child: ChildProcess }> {
  const port = await new Promise<number>((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const child = spawn(floor(), ['server', '127.0.0.1', String(port), '-', ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return { port, child };
}

const floorClient = (port: number, ...flags: string[]) =>
  spawnSync(floor(), ['client', '127.0.0.1', String(port), '2000', '10', '-', 'busy', ...flags], { encoding: 'utf8', timeout: 20_000 });

describe('the C floor in its STAMP modes', () => {
  it.each([
    ['with kernel stamps', ['stamped', 'stamp'], 'software' as const],
    ['without kernel stamps', ['stamp'], 'none' as const],
  ])('answers as a STAMP reflector %s: rtt-probe finds every reply valid, with T2 and T3', async (_name, flags, timestamps) => {
    const server = await floorServer(...flags);
    try {
      // Bounded in time too: replies it refuses would each cost a timeout.
      const r = await probe({ host: '127.0.0.1', port: server.port }, { count: 2000, duration: '5s', timeout: '100ms', timestamps }).result;
      expect(r.counters).toMatchObject({ received: 2000, lost: 0, malformed: 0, corrupted: 0 });
      expect(r.metrics.residence!.count).toBe(2000);
      expect(r.metrics.residence!.max).toBeLessThanOrEqual(r.metrics['rtt.user']!.max);
    } finally {
      await stopProgram(server.child);
    }
  });

  it.each([
    ['with kernel stamps', ['stamped', 'stamp']],
    ['without kernel stamps', ['stamp']],
  ])("probes rtt-probe's reflector as a STAMP sender %s", async (_name, flags) => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
    try {
      const run = floorClient(reflector.address.port, ...flags);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ count: 2000 });
    } finally {
      await reflector.stop();
    }
  });

  it('refuses the replies of an echo server, which are not STAMP replies', async () => {
    const echo = await floorServer('stamped');
    try {
      const run = floorClient(echo.port, 'stamped', 'stamp');
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/^reply does not echo the T1 of probe 0$/m);
    } finally {
      await stopProgram(echo.child);
    }
  });
});
