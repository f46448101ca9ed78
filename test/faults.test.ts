/**
 * Faults, with nothing lost from the books: packet loss injected with
 * nftables between two namespaces is measured to within 1.5 percentage
 * points and the run ends on time; a reflector killed and restarted mid-run
 * costs exactly the gap, counted as loss, and the sender recovers. Every
 * probe ends up received, lost or in flight. (Misbehaving replies are in
 * accounting.test.ts, signals in cli.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../src/index';
import { runCli, startCliReflector } from './support/cli';
import { createVethPair, namespaceExists, nftUnavailable, removeLeftovers, type VethPair } from './support/netns';

const PREFIX = 'rttp-fault-';

const skipLoss = nftUnavailable();
if (skipLoss) console.warn(`loss-injection tests skipped: ${skipLoss}`);

describe.skipIf(skipLoss !== null)('loss injected with nftables between two namespaces', () => {
  let net: VethPair;
  let reflector: Awaited<ReturnType<typeof startCliReflector>>;
  beforeAll(async () => {
    removeLeftovers(PREFIX);
    net = createVethPair('faults', PREFIX);
    reflector = await startCliReflector(`${net.addressA}:0`, { netns: net.a, extra: ['--no-busy-poll'] });
  });
  afterAll(async () => {
    reflector?.child.kill('SIGTERM');
    await reflector?.done;
    net?.remove();
    expect(namespaceExists(net.a)).toBe(false);
  });

  /** Drops `percent`% of the probes arriving at the reflector's namespace, at random. */
  function dropAtRandom(percent: number): void {
    execFileSync('ip', ['netns', 'exec', net.a, 'nft', '-f', '-'], {
      input: `
        table inet rttp_fault
        delete table inet rttp_fault
        table inet rttp_fault {
          chain input {
            type filter hook input priority 0; policy accept;
            udp dport ${reflector.listening.port} numgen random mod 100 < ${percent} drop
          }
        }`,
    });
  }

  it.each([10, 50])('dropping %d percent is measured within ±1.5 points, and the run ends on time', async (percent) => {
    dropAtRandom(percent);
    // 20 000 probes: the binomial spread of the measured loss is at most 0.35 points.
    const started = Date.now();
    const run = await runCli(
      ['probe', `${net.addressA}:${reflector.listening.port}`, '--mode', 'rate', '--rate', '5000', '--count', '20000',
        '--timeout', '200ms', '--no-busy-poll', '--json'],
      { netns: net.b, timeoutMs: 60_000 },
    );
    const elapsed = Date.now() - started;
    expect(run.code, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r.sent).toBe(20_000);
    expect(r.received + r.lost).toBe(20_000);
    const measured = (100 * r.lost) / (r.received + r.lost);
    console.log(`injected ${percent}% loss, measured ${measured.toFixed(2)}%`);
    expect(Math.abs(measured - percent)).toBeLessThanOrEqual(1.5);
    // 4 s of sending and one timeout; the rest is process start-up.
    expect(elapsed).toBeLessThan(10_000);
  }, 60_000);
});

describe('a reflector killed and restarted mid-run', () => {
  it('the sender keeps going, counts the gap as loss and measures again once it is back', async () => {
    const first = await startCliReflector('127.0.0.1:0');
    const port = first.listening.port;
    const started = Date.now();
    const session = probe({ host: '127.0.0.1', port }, {
      mode: 'rate', rate: 1000, duration: '5s', timeout: '100ms', warmup: 0, busyPoll: false, progressInterval: '50ms',
    });
    let latest = { received: 0, lost: 0 };
    session.on('progress', (p) => (latest = p));
    await new Promise((r) => setTimeout(r, 1000));
    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    await first.done;
    const atKill = latest.received;
    await new Promise((r) => setTimeout(r, 700));
    const second = await startCliReflector(`127.0.0.1:${port}`);
    const atRestart = latest.received;
    // Probes sent while nothing listened: the 0.7 s gap plus the new process's start-up (slow on a
    // busy host or under a sanitizer); and those left to send once it listens again.
    const unanswerable = Date.now() - killedAt;
    const answerable = started + 5000 - Date.now();
    try {
      const r = await session.result;
      expect(r.counters.sent).toBeGreaterThan(4000);
      expect(r.counters.received + r.counters.lost + r.counters.inFlight).toBe(r.counters.sent);
      // Nothing came back while no reflector listened...
      expect(atRestart - atKill).toBeLessThanOrEqual(150);
      // ...about the gap was lost (1000 probes a second)...
      expect(r.counters.lost).toBeGreaterThan(500);
      expect(r.counters.lost).toBeLessThan(unanswerable + 300);
      // ...and the probes after the restart were answered again.
      expect(answerable).toBeGreaterThan(1000);
      expect(r.counters.received - atRestart).toBeGreaterThan(answerable / 2);
      expect(r.metrics['rtt.user']!.count).toBe(r.counters.received);
    } finally {
      second.child.kill('SIGTERM');
      await second.done;
    }
  });
});
