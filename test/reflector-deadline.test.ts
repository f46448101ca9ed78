/**
 * A reflector's --duration holds under load: a flood that keeps its socket
 * queue full (44-byte STAMP requests sent with sendmmsg by
 * test/support/flood.c) must not keep it running past its deadline, and it
 * still prints its counters when it stops.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { ReflectorResult } from '../src/index';
import { cProgram } from './support/c-program';
import { startCliReflector } from './support/cli';

const flood = cProgram(path.join(__dirname, 'support', 'flood.c'));

describe('the reflector deadline under a flood', () => {
  // With kernel stamps a request's RX stamp is its arrival time, which under a
  // full queue lags the clock: the deadline must not follow it.
  it.each([
    ['with kernel stamps', []],
    ['with user-space stamps only', ['--ts', 'none']],
  ])('reflect --duration 2s exits within 2.5 s of a 6 s flood starting, with its counters (%s)', async (_name, ts) => {
    const reflector = await startCliReflector('127.0.0.1:0', { extra: ['--duration', '2s', ...ts] });
    const floodStarted = performance.now();
    // Bounded by its arguments too: 6 s or 50 million datagrams.
    const flooder = spawn(flood(), ['127.0.0.1', String(reflector.listening.port), '6', '50000000'], { stdio: 'ignore' });
    const flooderExit = new Promise<void>((resolve) => flooder.once('exit', () => resolve()));
    try {
      const run = await reflector.done;
      const tookMs = performance.now() - floodStarted;
      expect(run.code, run.stderr).toBe(0);
      expect(tookMs, `ms from the flood's start to the reflector's exit`).toBeLessThan(2500);
      // Still flooding when the reflector stopped: the deadline was met under load, not after it.
      expect(flooder.exitCode).toBeNull();
      const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as ReflectorResult;
      // The loop's own record, without the process's start-up and teardown.
      expect(Date.parse(result.endedAt) - Date.parse(result.startedAt), 'ms the reflector ran').toBeLessThan(2200);
      expect(result.received).toBeGreaterThan(0);
      expect(result.reflected).toBeGreaterThan(0);
    } finally {
      flooder.kill('SIGKILL');
      await flooderExit;
    }
  }, 30_000);
});
