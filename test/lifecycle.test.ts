/**
 * Session threads and the JavaScript thread never wait on each other: a
 * blocked event loop only drops progress snapshots, and tearing down an
 * environment (a Worker, the process) stops and joins the native threads.
 * A session closes its socket as it ends, fails its start where setup
 * fails, and keeps the process alive only while ref'd.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { RttProbeError, probe, startReflector, type ProbeProgress } from '../src/index';

const root = path.join(__dirname, '..');

describe('session lifecycle', () => {
  it('keeps measuring while JavaScript is blocked, and drops the snapshots it cannot deliver', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
    try {
      // Rate mode sends on its own schedule, so what it sent shows the loop running whatever the reflector's pace.
      const session = probe({ host: '127.0.0.1', port: reflector.address.port }, { mode: 'rate', rate: 5000, duration: '600ms', progressInterval: '10ms' });
      const taken: number[] = []; // when each delivered snapshot was taken, ms since the session started
      const sent: number[] = []; // and the probes sent by then
      session.on('progress', (p) => {
        taken.push(p.elapsedNs / 1e6);
        sent.push(p.sent);
      });
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
      // The loop kept probing while JavaScript was blocked: a snapshot taken
      // during the block counts more probes sent than the last one before it.
      const during = taken.findIndex((t) => t > blockedFrom - started + 2 && t < blockedTo - started - 2);
      expect(during).toBeGreaterThan(0);
      expect(sent[during]!).toBeGreaterThan(sent[during - 1]!);
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

/** Descriptors this process has open now. */
function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Runs a script with the built package in a child process and returns its exit status and output. */
function runScript(script: string, timeout = 10_000): { status: number; stdout: string; stderr: string } {
  const child = spawnSync(process.execPath, ['-e', script], { cwd: root, timeout, encoding: 'utf8' });
  return { status: child.status ?? -1, stdout: child.stdout, stderr: child.stderr };
}

/** A CPU this process may not run on (so pinning to it fails with EINVAL). */
const FORBIDDEN_CPU = 1023;

describe('a session releases its socket when it ends, not when it is collected', () => {
  it('starts and stops a reflector on one fixed port 100 times, descriptors back to the start each time', async () => {
    const first = await startReflector({ bind: '127.0.0.1', port: 0 });
    const port = first.address.port;
    await first.stop();
    const before = openDescriptors();
    for (let i = 0; i < 100; i++) {
      const reflector = await startReflector({ bind: '127.0.0.1', port });
      await reflector.stop();
      expect(openDescriptors()).toBe(before);
    }
  });

  it('runs 1000 probe sessions in sequence without keeping a descriptor', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0, busyPoll: false });
    try {
      const target = { host: '127.0.0.1', port: reflector.address.port };
      await probe(target, { count: 1, warmup: 0 }).result;
      const before = openDescriptors();
      for (let i = 0; i < 1000; i++) {
        const result = await probe(target, { count: 1, warmup: 0, busyPoll: false }).result;
        expect(result.counters.received).toBe(1);
        expect(openDescriptors()).toBe(before);
      }
    } finally {
      await reflector.stop();
    }
  }, 60_000);
});

describe('setup failures fail the start, where the caller can catch them', () => {
  it('rejects startReflector when the thread cannot be pinned, and leaves nothing open', async () => {
    const before = openDescriptors();
    const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const failure = await startReflector({ bind: '127.0.0.1', port: 0, cpu: FORBIDDEN_CPU }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RttProbeError);
    expect(failure).toMatchObject({ code: 'EINVAL', message: expect.stringMatching(/cannot pin to CPU 1023|does not exist/) });
    expect(openDescriptors()).toBe(before);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(timers);
  });

  it('rejects startReflector with EPERM for a real-time priority without CAP_SYS_NICE', (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip(); // needs root to drop the capability in a child
    const { status, stdout } = spawnSync(
      'setpriv',
      ['--inh-caps=-sys_nice', '--bounding-set=-sys_nice', process.execPath, '-e', `
        const { startReflector } = require('./dist/index.js');
        startReflector({ bind: '127.0.0.1', port: 0, rtPriority: 10 }).then(
          (r) => { console.log('started'); r.stop(); },
          (error) => console.log('rejected', error.code),
        );`],
      { cwd: root, timeout: 10_000, encoding: 'utf8' },
    );
    expect(stdout.trim()).toBe('rejected EPERM');
    expect(status).toBe(0);
  });

  it('fails a probe session at setup without "started", through "error" and result', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
    try {
      const session = probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 10, cpu: FORBIDDEN_CPU });
      const events: string[] = [];
      session.on('started', () => events.push('started'));
      session.on('error', (error) => events.push(`error ${error.code}`));
      await expect(session.result).rejects.toMatchObject({ code: 'EINVAL' });
      expect(events).toEqual(['error EINVAL']);
    } finally {
      await reflector.stop();
    }
  });

  it('does not crash a process that listens for "error" without reading result', () => {
    const { status, stdout } = runScript(`
      const { probe } = require('./dist/index.js');
      probe('127.0.0.1:9', { count: 1, cpu: ${FORBIDDEN_CPU} }).on('error', (error) => console.log('error', error.code));`);
    expect(stdout.trim()).toBe('error EINVAL');
    expect(status).toBe(0);
  });

  it('throws an unwatched failure (no "error" listener, result never read) as an uncaught exception', () => {
    const { status, stderr } = runScript(`
      const { probe } = require('./dist/index.js');
      probe('127.0.0.1:9', { count: 1, cpu: ${FORBIDDEN_CPU} });`);
    expect(status).toBe(1);
    expect(stderr).toMatch(/cannot pin to CPU 1023|does not exist/);
  });
});

describe('sessions keep the process alive like Node sockets: ref, unref, dispose', () => {
  it('holds a ref\'d handle that Node lists while the reflector serves, and lets go on unref() and stop', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
    expect(reflector.hasRef()).toBe(true);
    expect(timers()).toBe(before + 1);
    reflector.unref();
    expect(reflector.hasRef()).toBe(false);
    expect(timers()).toBe(before);
    reflector.ref();
    expect(timers()).toBe(before + 1);
    await reflector.stop();
    expect(timers()).toBe(before);
  });

  it('keeps a process with a forgotten reflector alive, and lets an unref\'d one exit cleanly', () => {
    const serve = (unref: boolean) =>
      runScript(
        `const { startReflector } = require('./dist/index.js');
         startReflector({ bind: '127.0.0.1', port: 0 }).then((r) => { ${unref ? 'r.unref();' : ''} console.log('serving'); });`,
        3000,
      );
    const unrefd = serve(true);
    expect(unrefd).toMatchObject({ status: 0, stdout: 'serving\n' });
    const forgotten = serve(false);
    expect(forgotten.stdout).toBe('serving\n');
    expect(forgotten.status).toBe(-1); // still running when the 3 s timeout killed it
  });

  it('stops a reflector on Symbol.asyncDispose (await using) and frees its port', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
    const { port } = reflector.address;
    const results: number[] = [];
    reflector.result.then((r) => results.push(r.received), () => {});
    await reflector[Symbol.asyncDispose]();
    await Promise.resolve();
    expect(results).toEqual([0]);
    const again = await startReflector({ bind: '127.0.0.1', port });
    await again[Symbol.asyncDispose]();
  });

  it('stops a probe session on Symbol.asyncDispose', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
    try {
      const session = probe({ host: '127.0.0.1', port: reflector.address.port }, { duration: '60s' });
      await new Promise((resolve) => session.once('started', resolve));
      const started = Date.now();
      await session[Symbol.asyncDispose]();
      expect(Date.now() - started).toBeLessThan(2000);
      expect((await session.result).stopped).toBe(true);
    } finally {
      await reflector.stop();
    }
  });
});

describe('a refused target', () => {
  it('ends at the first ICMP port unreachable with stopOnUnreachable, and says why', async () => {
    const closed = await startReflector({ bind: '127.0.0.1', port: 0 });
    const { port } = closed.address;
    await closed.stop(); // a port that was just free: nothing listens there now
    const started = Date.now();
    const result = await probe({ host: '127.0.0.1', port }, { count: 5, timeout: '5s', stopOnUnreachable: true }).result;
    expect(Date.now() - started).toBeLessThan(4000); // waiting out one timeout would take 5 s
    expect(result.counters.icmpErrors).toBeGreaterThan(0);
    expect(result.options.stopOnUnreachable).toBe(true);
    expect(result.missing['rtt.user']).toMatch(/port unreachable.*stopped at the first \(stopOnUnreachable\)/);
  });
});

describe('progress snapshots', () => {
  it('carry the results\' percentiles up to p99.9, p90 included', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
    try {
      const session = probe({ host: '127.0.0.1', port: reflector.address.port }, { duration: '300ms', progressInterval: '50ms' });
      const snapshots: ProbeProgress[] = [];
      session.on('progress', (p) => snapshots.push(p));
      await session.result;
      const last = snapshots.at(-1)?.metrics['rtt.user'];
      expect(last).toBeDefined();
      expect(last!.p90).toBeGreaterThanOrEqual(last!.p50);
      expect(last!.p99).toBeGreaterThanOrEqual(last!.p90);
    } finally {
      await reflector.stop();
    }
  });
});
