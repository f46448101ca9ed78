/**
 * The `rtt-probe` command: the main job on a fresh machine, probe and reflect
 * in separate processes, JSON output, signals and exit codes (0 success,
 * 1 runtime failure or no reply at all, 2 bad usage (table in bad-input.test.ts), 130 SIGINT,
 * 143 SIGTERM).
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { rtThrottling, rtThrottlingStallUs } from '../src/caps';
import { EXIT_STATUSES } from '../src/cli/exit-codes';
import { METRIC_NAMES } from '../src/metrics';
import { firstLine, runCli, spawnCli, startCliReflector, stderrLine } from './support/cli';
import { replyTo, startDouble } from './support/reflector-double';

const NO_STACK = /^\s+at /m;

describe('rtt-probe with no arguments', () => {
  it('starts a reflector on loopback, probes it for a few seconds and prints rtt.user and rtt.kernel percentiles', async () => {
    const run = await runCli([]);
    expect(run.stderr).toMatch(/built-in reflector on 127\.0\.0\.1:\d+/);
    expect(run.code).toBe(0);
    const header = run.stdout.split('\n').find((l) => l.startsWith('metric (µs)'));
    expect(header?.split(/\s{2,}/)).toEqual(['metric (µs)', 'min', 'p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max', 'mean', 'stddev']);
    expect(run.stdout).toMatch(/^rtt\.user(\s+\d+(\.\d+)?){9}$/m);
    expect(run.stdout).toMatch(/^rtt\.kernel(\s+\d+(\.\d+)?){9}$/m);
    expect(run.stdout).toMatch(/sent \d+ {2}received \d+ {2}lost 0 \(0\.00%\) {2}dup 0 {2}reordered 0/);
  });

  it('--json prints only the result object', async () => {
    const run = await runCli(['--duration', '300ms', '--json', '--ipv6']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.target).toMatchObject({ address: '::1', family: 'IPv6' });
    expect(result.metrics['rtt.kernel'].count).toBeGreaterThan(0);
  });
});

describe('probe and reflect in two processes', () => {
  it.each([
    ['IPv4 ping-pong', '127.0.0.1:0', ['--count', '3000']],
    ['IPv6 ping-pong', '[::1]:0', ['--count', '3000', '--size', '300']],
    ['IPv4 rate', '127.0.0.1:0', ['--mode', 'rate', '--rate', '5000', '--count', '3000']],
    ['IPv6 rate', '[::1]:0', ['--mode', 'rate', '--rate', '5000', '--count', '3000']],
  ])('%s: --json has every field the format promises', async (_name, bind, args) => {
    const reflector = await startCliReflector(bind);
    try {
      const { address, port } = reflector.listening;
      const target = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
      const run = await runCli(['probe', target, '--json', ...args]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const r = JSON.parse(run.stdout);
      for (const key of ['metrics', 'sent', 'received', 'lost', 'duplicates', 'reordered', 'late', 'options', 'granted', 'host', 'startedAt', 'endedAt', 'missing']) {
        expect(r).toHaveProperty(key);
      }
      expect(r.sent).toBe(3000);
      expect(r.received + r.lost).toBe(3000);
      const user = r.metrics['rtt.user'];
      expect(Object.keys(user)).toEqual(expect.arrayContaining(['count', 'min', 'max', 'mean', 'stddev', 'percentiles']));
      expect(Object.keys(user.percentiles)).toEqual(['50', '90', '99', '99.9', '99.99']);
      for (const name of Object.keys(r.metrics)) {
        expect(METRIC_NAMES).toContain(name);
        for (const v of [r.metrics[name].min, r.metrics[name].mean, ...Object.values(r.metrics[name].percentiles)]) {
          expect(Number.isInteger(v)).toBe(true);
        }
      }
      const kernel = r.metrics['rtt.kernel'];
      for (const p of ['50', '90', '99', '99.9', '99.99']) {
        expect(kernel.percentiles[p]).toBeLessThanOrEqual(user.percentiles[p]);
        expect(r.metrics['rtt.net'].percentiles[p]).toBeLessThanOrEqual(user.percentiles[p]);
      }
      // Strictly below at p50 only: in the tail a stall of milliseconds can put both in one histogram bucket.
      expect(r.metrics['rtt.net'].percentiles['50']).toBeLessThan(user.percentiles['50']);
      expect(r.metrics.residence.min).toBeGreaterThan(0);
      expect(r.missing['rtt.hw']).toBeTypeOf('string');
      expect(r.caveats['owd.fwd']).toMatch(/one clock/);
      expect(r.host.kernel).toBeTypeOf('string');
    } finally {
      reflector.child.kill('SIGINT');
      const done = await reflector.done;
      expect(done.code).toBe(130);
      const counters = JSON.parse(done.stdout.trim().split('\n').at(-1)!);
      expect(counters.reflected).toBeGreaterThanOrEqual(3000);
    }
  });

  it('SIGINT to a probe prints the partial table and exits 130', async () => {
    const reflector = await startCliReflector('127.0.0.1:0', { extra: ['--no-busy-poll'] });
    try {
      const probe = spawnCli(['probe', `127.0.0.1:${reflector.listening.port}`, '--duration', '60s', '--progress']);
      // Stopped once it has measured for a second, however long a loaded host took to start it.
      await stderrLine(probe.child, /^1\.\ds {2}sent/);
      probe.child.kill('SIGINT');
      const run = await probe.done;
      expect(run.code).toBe(130);
      expect(run.stdout).toMatch(/stopped early: partial results/);
      expect(run.stdout).toMatch(/^rtt\.user(\s+\d+(\.\d+)?){9}$/m);
    } finally {
      reflector.child.kill('SIGTERM');
      expect((await reflector.done).code).toBe(143);
    }
  });

  it('SIGTERM to a probe writes the complete JSON of everything recorded and exits 143', async () => {
    const reflector = await startCliReflector('127.0.0.1:0', { extra: ['--no-busy-poll'] });
    try {
      const probe = spawnCli(['probe', `127.0.0.1:${reflector.listening.port}`, '--mode', 'rate', '--rate', '2000', '--duration', '60s', '--json', '--progress']);
      await stderrLine(probe.child, /^1\.\ds {2}sent/);
      probe.child.kill('SIGTERM');
      const run = await probe.done;
      expect(run.code).toBe(143);
      const r = JSON.parse(run.stdout);
      expect(r.stopped).toBe(true);
      expect(r.sent).toBeGreaterThan(1000);
      // Every probe sent is accounted for: answered, lost, or still awaiting its reply.
      expect(r.received + r.lost + r.inFlight).toBe(r.sent);
      expect(r.metrics['rtt.user'].count).toBe(r.received);
    } finally {
      reflector.child.kill('SIGINT');
      const done = await reflector.done;
      expect(done.code).toBe(130);
      const counters = JSON.parse(done.stdout.trim().split('\n').at(-1)!);
      expect(counters.reflected).toBeGreaterThan(1000);
      expect(counters.received).toBe(counters.reflected);
    }
  });

  it('reflect prints its address first and its counters when --duration ends', async () => {
    const run = spawnCli(['reflect', '--bind', '127.0.0.1:0', '--duration', '500ms']);
    const line = await firstLine(run.child);
    expect(line).toMatch(/^listening on 127\.0\.0\.1:\d+$/);
    const done = await run.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/received 0 {2}reflected 0 {2}malformed 0/);
  });

  it('--no-busy-poll still measures', async () => {
    const reflector = await startCliReflector('127.0.0.1:0', { extra: ['--no-busy-poll'] });
    try {
      const run = await runCli(['probe', `127.0.0.1:${reflector.listening.port}`, '--count', '200', '--no-busy-poll', '--json']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ received: 200, options: { busyPoll: false } });
    } finally {
      reflector.child.kill('SIGINT');
      await reflector.done;
    }
  });

  it('--progress prints a line to stderr every second, and the result on stdout', async () => {
    // Blocking, not spinning: the probe spins, and the machine is shared.
    const reflector = await startCliReflector('127.0.0.1:0', { extra: ['--no-busy-poll'] });
    try {
      const run = await runCli(['probe', `127.0.0.1:${reflector.listening.port}`, '--duration', '2300ms', '--progress', '--json']);
      expect(run.code).toBe(0);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      // A line each second: 1.0s, 2.0s, or a tenth or two later on a host that delays the thread.
      expect(lines[0]).toMatch(/^1\.\ds {2}sent \d+ {2}received \d+ {2}lost 0 {2}rtt\.user p50 [\d.]+ µs {2}p99 [\d.]+ µs/);
      expect(lines[1]).toMatch(/^2\.\ds {2}sent \d+/);
      expect(JSON.parse(run.stdout).received).toBeGreaterThan(0);
    } finally {
      reflector.child.kill('SIGINT');
      await reflector.done;
    }
  });

  it('a ping-pong probe to a closed port stops at the first ICMP error, counts that probe lost, and exits 1 saying why', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = sock.address().port;
    sock.close();
    const args = ['probe', `127.0.0.1:${port}`, '--count', '3', '--warmup', '0', '--timeout', '100ms'];
    const json = await runCli([...args, '--json'], { timeoutMs: 10_000 });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ sent: 1, received: 0, lost: 1, inFlight: 0, icmpErrors: 1 });
    expect(json.stderr).toBe(
      'rtt-probe: the one probe sent was not answered: 1 ICMP error came back ' +
        "(last ECONNREFUSED: port unreachable, so nothing listens on the target's port or a firewall rejects the probes); " +
        'the session stopped at the first (stopOnUnreachable)\n',
    );
    const text = await runCli(args, { timeoutMs: 10_000 });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/lost 1 \(100\.00%\) .* ICMP errors 1$/m);
    expect(text.stdout).toMatch(/rtt\.user, .*: no replies were received; 1 ICMP error came back \(last ECONNREFUSED: port unreachable/);
  });

  it('--no-stop-on-unreachable probes a closed port to the end: 100% loss, every ICMP error counted', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = sock.address().port;
    sock.close();
    const run = await runCli(['probe', `127.0.0.1:${port}`, '--count', '3', '--warmup', '0', '--timeout', '100ms', '--no-stop-on-unreachable', '--json'], {
      timeoutMs: 10_000,
    });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ sent: 3, received: 0, lost: 3, icmpErrors: 3 });
    expect(run.stderr).toMatch(/^rtt-probe: none of the 3 probes was answered: 3 ICMP errors came back \(last ECONNREFUSED/);
  });

  it('a reflector that goes away mid-run: the probe keeps what it measured, exits 0 and warns that the run stopped early', async () => {
    const reflector = await startCliReflector('127.0.0.1:0');
    const probe = spawnCli(['probe', `127.0.0.1:${reflector.listening.port}`, '--duration', '30s', '--warmup', '0', '--progress', '--json'], {
      timeoutMs: 40_000,
    });
    // Killed once the probe has measured something, however slow the host.
    await new Promise<void>((resolve) => {
      const measured = (d: Buffer) => {
        if (/received [1-9]/.test(String(d))) {
          probe.child.stderr!.off('data', measured);
          resolve();
        }
      };
      probe.child.stderr!.on('data', measured);
    });
    reflector.child.kill('SIGKILL');
    await reflector.done;
    const run = await probe.done;
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.received).toBeGreaterThan(0);
    expect(result.icmpErrors).toBeGreaterThan(0);
    expect(Date.parse(result.endedAt) - Date.parse(result.startedAt)).toBeLessThan(25_000);
    expect(run.stderr.replace(/^\d+\.\ds {2}sent .*\n/gm, '')).toBe(
      `rtt-probe: warning: the run stopped after ${result.received} replies: the target refused a probe with an ICMP error (unreachable), ` +
        'and ping-pong runs stop at the first (--no-stop-on-unreachable keeps probing)\n',
    );
  });

  it('a probe whose every reply comes after its timeout exits 1 and says to raise --timeout', async () => {
    // A reflector that answers each probe 5 ms late; the run waits 2 ms for each.
    const slow = await startDouble((request, reply) => setTimeout(() => reply(replyTo(request)), 5));
    try {
      const run = await runCli(['probe', `127.0.0.1:${slow.port}`, '--count', '50', '--warmup', '0', '--timeout', '2ms']);
      expect(run.code).toBe(1);
      const late = Number(/late (\d+)/.exec(run.stdout)?.[1]);
      expect(late).toBeGreaterThan(0);
      expect(run.stdout).toMatch(`no replies were received within the timeout; ${late} came after it`);
      expect(run.stderr).toBe(`rtt-probe: none of the 50 probes was answered within the 2 ms timeout: ${late} replies came after it (raise --timeout)\n`);
    } finally {
      await slow.close();
    }
  });

  it('a probe that no reply reaches exits 1 and names the timeout it waited', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    try {
      const run = await runCli(['probe', `127.0.0.1:${silent.address().port}`, '--count', '2', '--warmup', '0', '--timeout', '100ms'], {
        timeoutMs: 10_000,
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/sent 2 {2}received 0 {2}lost 2 \(100\.00%\)/);
      expect(run.stdout).not.toMatch(/ICMP errors/);
      expect(run.stderr).toBe(
        'rtt-probe: none of the 2 probes was answered within the 100 ms timeout ' +
          '(is a STAMP reflector running there? rtt-probe reflect starts one)\n',
      );
    } finally {
      silent.close();
    }
  });
});

// SCHED_FIFO needs CAP_SYS_NICE; the warning needs the kernel's default RT throttling.
const throttled = rtThrottlingStallUs(rtThrottling()) !== null;
const rtSkip = process.getuid?.() !== 0 ? 'needs root for SCHED_FIFO (CI runs as root)' : !throttled ? 'RT throttling is off on this host' : null;
if (rtSkip) console.warn(`skipping the RT throttling warning: ${rtSkip}`);

describe.skipIf(rtSkip !== null)('--rt-priority where the kernel throttles real-time threads', () => {
  it('warns that a busy-polling SCHED_FIFO thread will be stopped every period, and says what to change', async () => {
    const reflector = await startCliReflector('127.0.0.1:0');
    try {
      const target = `127.0.0.1:${reflector.listening.port}`;
      const spinning = await runCli(['probe', target, '--count', '200', '--rt-priority', '10', '--json']);
      expect(spinning.code).toBe(0);
      expect(spinning.stderr).toMatch(
        /^rtt-probe: warning: the kernel throttles real-time threads \(sched_rt_runtime_us \d+ of \d+\), so a busy-polling --rt-priority thread is stopped for [\d.]+ ms every [\d.]+ s; set kernel\.sched_rt_runtime_us to -1 .* or leave out --rt-priority\n$/,
      );
      expect(JSON.parse(spinning.stdout).granted.pinning.rtPriority).toBe(10);
      // A blocking session sleeps between packets, so throttling never stops it.
      const blocking = await runCli(['probe', target, '--count', '200', '--rt-priority', '10', '--no-busy-poll', '--json']);
      expect(blocking.code).toBe(0);
      expect(blocking.stderr).toBe('');
    } finally {
      reflector.child.kill('SIGINT');
      await reflector.done;
    }
  });
});

describe('help', () => {
  it('--help describes the commands; exits 0', async () => {
    const run = await runCli(['probe', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--mode <mode>/);
    expect(run.stdout).toMatch(/--no-busy-poll/);
  });

  it.each([[[]], [['probe']], [['reflect']], [['lab']], [['budget']], [['report']], [['compare']], [['caps']]])(
    'rtt-probe %j --help ends with every exit status and its meaning, from the one table',
    async (command) => {
      const run = await runCli([...command, '--help']);
      expect(run.code).toBe(0);
      const epilogue = run.stdout.slice(run.stdout.indexOf('\nExit status:\n'));
      expect(epilogue).toMatch(/^\nExit status:\n/);
      for (const { code, meaning } of Object.values(EXIT_STATUSES)) {
        expect(epilogue).toMatch(new RegExp(`^ +${code}  ${meaning.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
      }
      expect(epilogue.trim().split('\n')).toHaveLength(1 + Object.keys(EXIT_STATUSES).length);
    },
  );
});

describe('runtime failures exit 1', () => {
  it('a port in use: EADDRINUSE, the address, and what to do', async () => {
    const reflector = await startCliReflector('127.0.0.1:0');
    try {
      const run = await runCli(['reflect', '--bind', `127.0.0.1:${reflector.listening.port}`]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/EADDRINUSE/);
      expect(run.stderr).toMatch(/choose another port/);
      expect(run.stderr).not.toMatch(NO_STACK);
    } finally {
      reflector.child.kill('SIGINT');
      await reflector.done;
    }
  });
});
