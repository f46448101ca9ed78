/**
 * The live status line: on a terminal, `probe` and `lab` redraw one line on
 * stderr (\r, the status, ESC[K) at most about 4 times a second and erase
 * it before the result; without a terminal, with --json or with --quiet
 * none of it is written, and --progress prints plain lines instead. The
 * terminal is a pseudo-terminal from util-linux's `script`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatusLine } from '../src/cli/status-line';
import { CLI, runCli, startCliReflector } from './support/cli';

const ERASE = '\r\x1b[K';
const hasScript = spawnSync('script', ['--version']).status === 0;

/** Runs the CLI with a pseudo-terminal, 200 columns wide, as stdin, stdout and stderr; the output as the terminal got it. */
function onTerminal(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string; seconds: number }> {
  const started = performance.now();
  const child = spawn('script', ['-qfec', `stty cols 200; ${[process.execPath, CLI, ...args].join(' ')}`, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** The status lines drawn before the result, and what follows the last one. */
function statusLines(output: string): { lines: string[]; after: string } {
  const parts = output.split(ERASE);
  return { lines: parts.slice(1, -1), after: parts.at(-1)! };
}

describe('StatusLine', () => {
  const sink = (columns?: number) => {
    const writes: string[] = [];
    return { writes, io: { stdout: process.stdout, stderr: Object.assign({ write: (s: string) => writes.push(s) > 0, columns }, {}) as never } };
  };

  it('redraws at most every ~250 ms, cut to the terminal width', () => {
    const { writes, io } = sink(20);
    const line = new StatusLine(io);
    for (let i = 0; i < 10; i++) line.draw(`draw ${i} ${'x'.repeat(30)}`);
    expect(writes).toEqual([`${ERASE}draw 0 ${'x'.repeat(12)}`]);
  });

  it('erases itself for a line of its own and at the end, and writes nothing to erase when nothing was drawn', () => {
    const { writes, io } = sink();
    const line = new StatusLine(io);
    line.clear();
    expect(writes).toEqual([]);
    line.draw('status');
    line.log('lab: veth: 64 B');
    line.draw('status again');
    line.clear();
    expect(writes).toEqual([`${ERASE}status`, ERASE, 'lab: veth: 64 B\n', `${ERASE}status again`, ERASE]);
  });
});

describe.skipIf(!hasScript)('on a terminal (skipped: needs util-linux script for a pseudo-terminal)', () => {
  let reflector: Awaited<ReturnType<typeof startCliReflector>>;
  let target: string;
  beforeAll(async () => {
    reflector = await startCliReflector('127.0.0.1:0');
    target = `127.0.0.1:${reflector.listening.port}`;
  });
  afterAll(() => {
    reflector.child.kill('SIGTERM');
  });

  it('probe redraws one status line at most ~4 times a second and erases it before the result', async () => {
    const run = await onTerminal(['probe', target, '--duration', '2s'], 20_000);
    expect(run.code).toBe(0);
    const { lines, after } = statusLines(run.output);
    // Every 250 ms for 2 s, less the first snapshot's wait and a slow start.
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.length).toBeLessThanOrEqual(Math.ceil(2 * 4.5));
    for (const line of lines) {
      expect(line).toMatch(/^\d+\.\ds {2}remaining \d+\.\ds {2}sent \d+ {2}lost \d+ \(\d+\.\d\d%\)( {2}rtt\.user p50 [\d.]+ µs {2}p99 [\d.]+)?/);
      expect(line).not.toContain('\n');
    }
    expect(after).toMatch(/^rtt-probe 127\.0\.0\.1:\d+ {2}pingpong/);
  });

  it.each([
    ['--json', /^\{"schemaVersion":1,"kind":"rtt-probe-probe","metrics":/],
    ['--quiet', /^rtt-probe 127\.0\.0\.1:\d+ {2}pingpong/],
  ])('%s: no status line', async (flag, result) => {
    const run = await onTerminal(['probe', target, '--duration', '1s', flag], 20_000);
    expect(run.code).toBe(0);
    expect(run.output).not.toContain('\x1b[K');
    expect(run.output).toMatch(result);
  });

  it('--progress: plain lines for logs instead', async () => {
    const run = await onTerminal(['probe', target, '--duration', '2500ms', '--progress'], 20_000);
    expect(run.code).toBe(0);
    expect(run.output).not.toContain('\x1b[K');
    expect(run.output).toMatch(/^1\.0s {2}sent \d+ {2}received \d+ {2}lost \d+/m);
  });

  it('--quiet with --progress is a contradiction: exit 2', async () => {
    const run = await runCli(['probe', target, '--quiet', '--progress']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/option '--quiet' cannot be used with option '--progress'/);
  });

  it('without a terminal on stderr nothing but the result is written', async () => {
    const run = await runCli(['probe', target, '--duration', '1s']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).not.toContain('\x1b[K');
  });

  it.skipIf(process.getuid?.() !== 0)('lab redraws its status between the runs and erases it before the report (skipped: the lab needs root)', async () => {
    const run = await onTerminal(['lab', '--topologies', 'loopback', '--count', '2000'], 60_000);
    expect(run.code).toBe(0);
    const { lines, after } = statusLines(run.output);
    expect(lines.length).toBeLessThanOrEqual(Math.ceil(run.seconds * 4.5));
    expect(lines.some((l) => /^\d+\.\ds {2}run 1 of 2: veth UDP 64 B round 1/.test(l))).toBe(true);
    expect(lines.some((l) => /run 2 of 2: loopback UDP 64 B round 1 {2}remaining ~\d+\.\ds {2}last veth UDP 64 B: sent 2000 {2}lost \d+/.test(l))).toBe(true);
    expect(after).toMatch(/^rtt-probe lab: 2 of 2 topologies measured/);
    const quiet = await onTerminal(['lab', '--topologies', 'loopback', '--count', '500', '--quiet'], 60_000);
    expect(quiet.code).toBe(0);
    expect(quiet.output).not.toContain('\x1b[K');
    expect(quiet.output).not.toMatch(/^lab: /m);
    expect(quiet.output).toMatch(/^rtt-probe lab: 2 of 2 topologies measured/);
  });
});
