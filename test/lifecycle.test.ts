/**
 * Session threads and the JavaScript thread never wait on each other: a
 * blocked event loop only drops progress snapshots, and tearing down an
 * environment (a Worker, the process) stops and joins the native threads.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { probe, startReflector } from '../src/index';

const root = path.join(__dirname, '..');

describe('session lifecycle', () => {
  it('keeps measuring while JavaScript is blocked, and drops the snapshots it cannot deliver', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
    try {
      const session = probe({ host: '127.0.0.1', port: reflector.address.port }, { duration: '600ms', progressInterval: '10ms' });
      const taken: number[] = []; // when each delivered snapshot was taken, ms since the session started
      session.on('progress', (p) => taken.push(p.elapsedNs / 1e6));
      await new Promise((r) => setTimeout(r, 100));
      const blockedFrom = Date.now();
      while (Date.now() < blockedFrom + 300); // block the event loop for 300 ms (~30 snapshot intervals)
      const blockedTo = Date.now();
      const result = await session.result;
      const started = Date.parse(result.startedAt);
      // Two snapshots fit in the queue; the other ~28 taken while JavaScript
      // was blocked were dropped, not waited for (2 ms margins for the clocks' rounding).
      const duringBlock = taken.filter((t) => t > blockedFrom - started + 2 && t < blockedTo - started - 2);
      expect(duringBlock.length).toBeLessThanOrEqual(2);
      expect(taken.length).toBeGreaterThan(10);
      const ms = (Date.parse(result.endedAt) - Date.parse(result.startedAt));
      expect(ms).toBeLessThan(1500);
      expect(result.counters.received).toBeGreaterThan(1000);
    } finally {
      await reflector.stop();
    }
  });

  it('terminating a Worker that runs a reflector and a probe joins their threads and frees the port', async () => {
    const worker = new Worker(
      `
      const { parentPort } = require('node:worker_threads');
      const { startReflector, probe } = require(${JSON.stringify(path.join(root, 'dist/index.js'))});
      startReflector({ bind: '127.0.0.1', port: 0 }).then((r) => {
        probe({ host: '127.0.0.1', port: r.address.port }, { duration: '60s' });
        parentPort.postMessage(r.address.port);
      });
      `,
      { eval: true },
    );
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    expect(await worker.terminate()).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
    // The reflector's socket was closed with its session: the port binds again.
    const again = await startReflector({ bind: '127.0.0.1', port });
    await again.stop();
  });

  it('a process that exits with sessions running exits promptly', () => {
    const script = `
      const { startReflector, probe } = require('./dist/index.js');
      startReflector({ bind: '127.0.0.1', port: 0 }).then((r) => {
        probe({ host: '127.0.0.1', port: r.address.port }, { duration: '60s' });
        setTimeout(() => process.exit(3), 200);
      });`;
    const started = Date.now();
    let status = 0;
    try {
      execFileSync(process.execPath, ['-e', script], { cwd: root, timeout: 10_000 });
    } catch (error) {
      status = (error as { status: number }).status;
    }
    expect(status).toBe(3);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('reports SO_BUSY_POLL as granted when asked for (root) and keeps measuring', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0, socketBusyPollUs: 50 });
    try {
      const result = await probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 100, socketBusyPollUs: 50 }).result;
      expect(result.granted.socketBusyPoll.socketBusyPollUs).toBe(50);
      if (process.getuid?.() === 0) expect(result.granted.socketBusyPoll).toMatchObject({ granted: true, refused: null });
      else expect(result.granted.socketBusyPoll.granted || result.granted.socketBusyPoll.refused === 'EPERM').toBe(true);
      expect(result.counters.received).toBe(100);
    } finally {
      await reflector.stop();
    }
  });

  it('runs the session thread SCHED_FIFO when asked (root)', async (ctx) => {
    ctx.skip(process.getuid?.() !== 0, 'needs root for SCHED_FIFO (CI runs as root)');
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
    try {
      const result = await probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 100, rtPriority: 10, busyPoll: false }).result;
      expect(result.granted.pinning.rtPriority).toBe(10);
    } finally {
      await reflector.stop();
    }
  });
});
