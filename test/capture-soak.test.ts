/**
 * The per-probe capture over a long run: up to 10 million probes in rate
 * mode at 250 000/s against a loopback reflector, and at most 50 s of
 * sending, every row streamed through a FIFO to `wc -l`, with the probe's
 * resident memory sampled every second. After the warm-up (a tenth of the
 * run, at least 5 s) RSS stays within 4 MiB, and every probe has its row or
 * is counted in captureDropped. A host that sends slower than 200 000/s
 * captures fewer probes within the bound; RTT_CAPTURE_SOAK_SECONDS lifts it.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstLine, spawnCli } from './support/cli';

const PROBES = 10_000_000;
// Long enough for the 10 million on this 2-vCPU host (177 s measured): the bound is for a slower one.
const SECONDS = Number(process.env.RTT_CAPTURE_SOAK_SECONDS ?? 240);
const TOLERANCE_KIB = 4 * 1024;

function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    return NaN;
  }
}

describe('capture soak', () => {
  it(`${PROBES} probes (or ${SECONDS} s of them) captured through a FIFO: RSS flat after warm-up, every row written or counted`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtt-capture-soak-'));
    const reflector = spawnCli(['reflect', '--bind', '127.0.0.1:0', '--no-busy-poll', '--json'], { timeoutMs: (SECONDS + 70) * 1000 });
    try {
      const { port } = JSON.parse(await firstLine(reflector.child)).listening;
      const fifo = path.join(dir, 'probes.csv');
      execFileSync('mkfifo', [fifo]);
      // Held open so the probe finds a reader at once; wc does the reading.
      const held = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const counter = spawn('wc', ['-l', fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
      let lines = '';
      counter.stdout.on('data', (d) => (lines += d));
      const counted = new Promise<number>((resolve) => counter.on('close', () => resolve(Number(lines.trim().split(' ')[0]))));

      const sender = spawnCli(
        ['probe', `127.0.0.1:${port}`, '--mode', 'rate', '--rate', '250000', '--count', String(PROBES), '--duration', `${SECONDS}s`, '--timeout', '10ms', '--json', '--raw', fifo],
        { timeoutMs: (SECONDS + 60) * 1000 },
      );
      const started = Date.now();
      const samples: Array<{ t: number; rss: number }> = [];
      const timer = setInterval(() => samples.push({ t: (Date.now() - started) / 1000, rss: rssKiB(sender.child.pid!) }), 1000);
      const run = await sender.done;
      clearInterval(timer);
      fs.closeSync(held);
      const rows = (await counted) - 1; // the header

      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout);
      console.info(`capture soak: ${result.sent} probes in ${samples.at(-1)!.t} s, ${rows} rows, ${result.captureDropped} dropped`);
      expect(result.sent).toBeGreaterThan(0);
      expect(rows + result.captureDropped).toBe(result.sent);
      const seconds = samples.at(-1)!.t;
      // After the warm-up, and before the last sample, which may catch the process writing its result.
      const steady = samples
        .slice(0, -1)
        .filter((s) => s.t >= Math.max(5, seconds / 10) && Number.isFinite(s.rss))
        .map((s) => s.rss);
      expect(steady.length).toBeGreaterThan(3);
      // Flat: it never grows past where it stood after the warm-up (the kernel may hand pages back, lowering it).
      expect(Math.max(...steady) - steady[0]!, `RSS samples (KiB): ${steady.join(' ')}`).toBeLessThanOrEqual(TOLERANCE_KIB);
    } finally {
      reflector.child.kill('SIGTERM');
      await reflector.done;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, (SECONDS + 80) * 1000);
});
