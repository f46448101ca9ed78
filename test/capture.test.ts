/**
 * The per-probe capture (docs/results.md#per-probe-capture): one row per
 * measured probe, CSV or JSON Lines, that agrees with the result's counters
 * and histograms; a writer that falls behind loses rows only as counted
 * ones (captureDropped, and a CLI warning), never silently and never with a
 * hang; an unwritable path fails before the first probe.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPTURE_COLUMNS, CAPTURE_STATUSES, METRIC_NAMES, TIMESTAMP_COLUMNS, probe, startReflector, type ProbeResult, type Reflector } from '../src/index';
import { firstLine, runCli, spawnCli } from './support/cli';
import { replyTo, startDouble } from './support/reflector-double';

type Row = Record<string, string | null>;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtt-capture-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Rows of a CSV capture, each value as written (null where the field is empty). */
function readCsv(file: string): { header: string[]; rows: Row[] } {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  const columns = header!.split(',');
  const rows = lines.map((line) => {
    const values = line.split(',');
    expect(values).toHaveLength(columns.length);
    return Object.fromEntries(columns.map((c, i) => [c, values[i] === '' ? null : values[i]!]));
  });
  return { header: columns, rows };
}

/** Rows of a JSON Lines capture; numbers kept as their digits, since ns since the epoch exceed 2^53. */
function readJsonl(file: string): Row[] {
  return fs
    .readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line.replace(/:(-?\d+)/g, ':"$1"')) as Row);
}

function expectRowsMatch(rows: Row[], result: ProbeResult): void {
  const { sent, received, lost, inFlight, captureDropped } = result.counters;
  expect(captureDropped).toBe(0);
  expect(rows).toHaveLength(sent);
  const seqs = rows.map((r) => Number(r.seq));
  const warmup = result.options.warmup;
  expect(seqs).toEqual(Array.from({ length: sent }, (_, i) => warmup + i));
  const count = (status: string) => rows.filter((r) => r.status === status).length;
  expect(count('answered')).toBe(received);
  // A late probe was lost first: the counter `lost` holds it too.
  expect(count('lost') + count('late')).toBe(lost);
  expect(count('in-flight')).toBe(inFlight);
  for (const r of rows) {
    expect(CAPTURE_STATUSES).toContain(r.status);
    expect(r['t1.user']).not.toBeNull();
    if (r.status !== 'answered') expect(r['rtt.user']).toBeNull();
    else expect(BigInt(r['rtt.user']!)).toBe(BigInt(r['t4.user']!) - BigInt(r['t1.user']!));
  }
  // Each metric's rows span what its histogram holds (3 significant digits). A histogram holds
  // values from 0 up; a negative one-way delay (the test double's T2 has millisecond resolution)
  // is kept in its row only.
  for (const name of METRIC_NAMES) {
    const h = result.metrics[name];
    const values = rows
      .map((r) => r[name])
      .filter((v): v is string => v !== null)
      .map(Number)
      .filter((v) => v >= 0);
    expect(values.length, name).toBe(h?.count ?? 0);
    if (!h || values.length === 0) continue;
    expect(Math.abs(Math.min(...values) - h.min), name).toBeLessThanOrEqual(Math.abs(h.min) / 1000 + 1);
    expect(Math.abs(Math.max(...values) - h.max), name).toBeLessThanOrEqual(Math.abs(h.max) / 1000 + 1);
  }
}

describe('capture from the library', () => {
  let reflector: Reflector;
  beforeAll(async () => {
    reflector = await startReflector({ bind: '127.0.0.1', port: 0, busyPoll: false });
  });
  afterAll(async () => {
    await reflector.stop();
  });

  it('CSV: a header of every column, then one row per measured probe that agrees with the result', async () => {
    const file = path.join(dir, 'pingpong.csv');
    const result = await probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 2000, busyPoll: false, capture: { file } }).result;
    const { header, rows } = readCsv(file);
    expect(header).toEqual([...CAPTURE_COLUMNS]);
    expect(result.counters.received).toBeGreaterThan(0);
    expectRowsMatch(rows, result);
    // Kernel stamps on loopback: T1k and T4k are there, T1h and T4h are not.
    expect(rows.every((r) => r.status !== 'answered' || (r['t1.kernel'] !== null && r['t1.hw'] === null))).toBe(true);
  });

  it('JSON Lines, in rate mode: every column on every line, send.error per probe', async () => {
    const file = path.join(dir, 'rate.jsonl');
    const result = await probe({ host: '127.0.0.1', port: reflector.address.port }, {
      mode: 'rate',
      rate: 5000,
      count: 2000,
      busyPoll: false,
      capture: { file },
    }).result;
    const rows = readJsonl(file);
    for (const r of rows) expect(Object.keys(r)).toEqual([...CAPTURE_COLUMNS]);
    expectRowsMatch(rows, result);
    expect(rows.every((r) => r['send.error'] !== null)).toBe(true);
  });

  it('a target that never answers: every row lost, with T1 and nothing after it', async () => {
    const file = path.join(dir, 'lost.csv');
    const silent = await startReflector({ bind: '127.0.0.1', port: 0, busyPoll: false, allow: '198.18.0.1' });
    try {
      const result = await probe({ host: '127.0.0.1', port: silent.address.port }, {
        mode: 'rate',
        rate: 1000,
        count: 50,
        timeout: '20ms',
        busyPoll: false,
        capture: { file },
      }).result;
      const { rows } = readCsv(file);
      expect(result.counters.lost).toBe(50);
      expectRowsMatch(rows, result);
      for (const r of rows) {
        expect(r.status).toBe('lost');
        for (const c of TIMESTAMP_COLUMNS.slice(3)) expect(r[c]).toBeNull();
      }
    } finally {
      await silent.stop();
    }
  });

  it('a reply after the timeout marks its probe late: T4 but no metrics, counted lost and late', async () => {
    const file = path.join(dir, 'late.csv');
    // Even sequence numbers are answered 60 ms late, past the 30 ms timeout; odd ones at once.
    const double = await startDouble((request, reply) => {
      const late = request.readUInt32BE(0) % 2 === 0;
      setTimeout(() => reply(replyTo(request)), late ? 60 : 0);
    });
    try {
      const result = await probe({ host: '127.0.0.1', port: double.port }, {
        mode: 'rate',
        rate: 100,
        count: 20,
        warmup: 0,
        timeout: '30ms',
        busyPoll: false,
        capture: { file },
      }).result;
      const { rows } = readCsv(file);
      expectRowsMatch(rows, result);
      const late = rows.filter((r) => r.status === 'late');
      expect(late.length).toBeGreaterThan(0);
      expect(late.length).toBe(result.counters.late);
      for (const r of late) {
        expect(Number(r.seq) % 2).toBe(0);
        expect(r['t4.user']).not.toBeNull();
        expect(r['rtt.user']).toBeNull();
      }
    } finally {
      await double.close();
    }
  });

  it('a writer that cannot keep up with a 2-row buffer: the rows it lost are counted, the rest are written', async () => {
    const file = path.join(dir, 'tiny.csv');
    // A short timeout keeps the probe ring small, so rows leave it while the run goes on.
    const result = await probe({ host: '127.0.0.1', port: reflector.address.port }, {
      mode: 'rate',
      rate: 100_000,
      count: 50_000,
      timeout: '2ms',
      busyPoll: false,
      capture: { file, bufferRows: 2 },
    }).result;
    const { rows } = readCsv(file);
    expect(result.counters.captureDropped).toBeGreaterThan(0);
    expect(rows.length + result.counters.captureDropped).toBe(result.counters.sent);
  });

  it('an unwritable path fails the session before its first probe, naming the file and the errno', async () => {
    const before = (await reflectorCount(reflector)).received;
    const file = path.join(dir, 'no-such-directory', 'p.csv');
    await expect(probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 10, capture: { file } }).result).rejects.toMatchObject({
      code: 'ENOENT',
      message: expect.stringContaining(`cannot write the capture file ${file}`),
    });
    expect((await reflectorCount(reflector)).received).toBe(before);
  });

  it('a file that is neither .csv nor .jsonl is refused when the options are read', () => {
    expect(() => probe('127.0.0.1', { capture: { file: path.join(dir, 'p.txt') } })).toThrow(/must end in \.csv or \.jsonl/);
  });
});

/** The reflector's counters now, from one progress snapshot. */
function reflectorCount(reflector: Reflector): Promise<{ received: number }> {
  return new Promise((resolve) => reflector.once('progress', (p) => resolve(p)));
}

/** Everything a non-blocking FIFO holds now. */
function pipeContents(fd: number): string {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(65536);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fd, buffer);
    } catch (error) {
      if ((error as { code?: string }).code === 'EAGAIN') break;
      throw error;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buffer.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

describe('capture from the CLI', () => {
  it('--raw into a FIFO whose reader never reads: the probe ends, says how many rows it dropped, and exits 0', async () => {
    const reflector = spawnCli(['reflect', '--bind', '127.0.0.1:0', '--no-busy-poll', '--json']);
    try {
      const { port } = JSON.parse(await firstLine(reflector.child)).listening;
      const fifo = path.join(dir, 'stalled.csv');
      execFileSync('mkfifo', [fifo]);
      // Opened for reading, never read: the writer fills the pipe and stalls.
      const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      try {
        const run = await runCli(
          ['probe', `127.0.0.1:${port}`, '--mode', 'rate', '--rate', '20000', '--count', '20000', '--no-busy-poll', '--json', '--raw', fifo],
          { timeoutMs: 30_000 },
        );
        expect(run.code, run.stderr).toBe(0);
        const result = JSON.parse(run.stdout);
        expect(result.captureDropped).toBeGreaterThan(0);
        // What reached the pipe before it stalled: each whole line a row, after the header.
        const lines = pipeContents(reader).split('\n').length - 2;
        expect(lines).toBeGreaterThan(0);
        expect(lines + result.captureDropped).toBe(result.sent);
        expect(run.stderr).toContain(`rtt-probe: warning: ${result.captureDropped} of ${result.sent} probes have no row in ${fifo}`);
      } finally {
        fs.closeSync(reader);
      }
    } finally {
      reflector.child.kill('SIGTERM');
      await reflector.done;
    }
  }, 40_000);

  it('--raw to a FIFO nobody has open, or into a missing directory: a clear error, no probe sent', async () => {
    const fifo = path.join(dir, 'unread.jsonl');
    execFileSync('mkfifo', [fifo]);
    const noReader = await runCli(['probe', '127.0.0.1:9', '--count', '1', '--raw', fifo]);
    expect(noReader.code).not.toBe(0);
    expect(noReader.stderr).toContain(`cannot write the capture file ${fifo} (a FIFO needs its reader first)`);
    expect(noReader.stderr).toContain('ENXIO');
    const missing = await runCli(['probe', '127.0.0.1:9', '--count', '1', '--raw', path.join(dir, 'none', 'p.csv')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/cannot write the capture file .*none\/p\.csv: No such file or directory \(ENOENT\)/);
  });
});
