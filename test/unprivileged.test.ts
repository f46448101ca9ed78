/**
 * Without root: the CLI run as user nobody with every capability dropped
 * (setpriv) and the real-time and locked-memory limits at zero (prlimit).
 * UDP measurement works; what needs a privilege fails with a message that
 * names the capability, exit 1, or (enabling NIC timestamping) is refused
 * with a warning that names it while the run goes on. Port 862 binds for root only (each case runs
 * in a private network namespace, where ports below 1024 are privileged).
 * Dropping root needs root, so this file is skipped without it.
 */
import { describe, expect, it } from 'vitest';
import { runCli, startCliReflector, type CliOptions } from './support/cli';

const skip = process.getuid?.() !== 0 ? 'needs root to drop to user nobody (CI runs as root)' : null;
if (skip) console.warn(`unprivileged tests skipped: ${skip}`);

const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs'];
const NO_RT_NO_MLOCK = ['prlimit', '--rtprio=0:0', '--memlock=65536:65536'];
const unprivileged: CliOptions = { wrapper: [...NO_RT_NO_MLOCK, ...NOBODY] };
/** A private network namespace with loopback up, for binding port 862 without colliding with anything. */
const inPrivateNetwork = (wrapper: string[] = []): CliOptions => ({
  wrapper: ['unshare', '--net', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...wrapper],
});

describe.skipIf(skip !== null)('as user nobody without capabilities', () => {
  it('reflects and probes over UDP on ports >= 1024, with kernel timestamps', async () => {
    const reflector = await startCliReflector('127.0.0.1:0', unprivileged);
    try {
      const run = await runCli(['probe', `127.0.0.1:${reflector.listening.port}`, '--count', '500', '--socket-busy-poll', '50', '--json'], unprivileged);
      expect(run.code, run.stderr).toBe(0);
      const r = JSON.parse(run.stdout);
      expect(r).toMatchObject({ sent: 500, received: 500, lost: 0 });
      expect(r.metrics['rtt.kernel'].count).toBe(500);
      // SO_BUSY_POLL needs CAP_NET_ADMIN: reported as refused, and the run goes on without it.
      expect(r.granted.socketBusyPoll).toMatchObject({ granted: false, refused: 'EPERM' });
    } finally {
      reflector.child.kill('SIGTERM');
      expect((await reflector.done).code).toBe(143);
    }
  });

  it('--ts hardware: enabling NIC timestamping is refused with EPERM, and the warning names CAP_NET_ADMIN', async () => {
    const reflector = await startCliReflector('127.0.0.1:0', unprivileged);
    try {
      const run = await runCli(['probe', `127.0.0.1:${reflector.listening.port}`, '--count', '100', '--ts', 'hardware', '--json'], unprivileged);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/interface lo gives no hardware timestamps: SIOCSHWTSTAMP refused with EPERM \(changing it needs CAP_NET_ADMIN\)/);
      const r = JSON.parse(run.stdout);
      expect(r.received).toBe(100);
      expect(r.granted.timestamping.hwtstamp).toMatchObject({ previousError: 'EOPNOTSUPP', refused: 'EPERM', changed: false });
    } finally {
      reflector.child.kill('SIGTERM');
      expect((await reflector.done).code).toBe(143);
    }
  });

  it('--transport raw: the AF_PACKET socket is refused with EPERM, and the error names CAP_NET_RAW and the fix', async () => {
    for (const command of [['probe', '[::1]:9', '--count', '1'], ['reflect', '--bind', '[::1]:0', '--duration', '1s']]) {
      const run = await runCli([...command, '--transport', 'raw'], unprivileged);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/the raw transport needs CAP_NET_RAW to open an AF_PACKET socket: run as root, or grant it to node with `sudo setcap cap_net_raw\+ep \$\(readlink -f \$\(which node\)\)`.*\(EPERM\)/);
    }
  });

  it('caps reads everything but the lab features, which need root', async () => {
    const run = await runCli(['caps', '--interface', 'lo', '--json'], unprivileged);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.host).toMatchObject({ features: null, featuresUnavailable: expect.stringMatching(/needs root/) });
    expect(report.interfaces[0]).toMatchObject({ interface: 'lo', hwtstampError: 'EOPNOTSUPP' });
  });

  it.each([
    ['SCHED_FIFO', ['--rt-priority', '10'], /cannot run SCHED_FIFO at priority 10 \(needs root or CAP_SYS_NICE\).*EPERM/],
    ['mlock', ['--mlock'], /cannot lock memory with mlockall \(needs root, CAP_IPC_LOCK or a higher RLIMIT_MEMLOCK\)/],
  ])('%s fails with exit 1, naming the capability', async (_name, flags, message) => {
    const run = await runCli(['probe', '127.0.0.1:9', '--count', '1', '--timeout', '10ms', ...flags], unprivileged);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('binding port 862 fails with EACCES, naming CAP_NET_BIND_SERVICE and the way out', async () => {
    const run = await runCli(['reflect', '--bind', '127.0.0.1:862', '--duration', '100ms'], inPrivateNetwork(unprivileged.wrapper));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot bind UDP socket to 127\.0\.0\.1:862 \(ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port >= 1024\).*EACCES/);
  });

  it('root binds port 862', async () => {
    const run = await runCli(['reflect', '--bind', '127.0.0.1:862', '--duration', '100ms'], inPrivateNetwork());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^listening on 127\.0\.0\.1:862$/m);
  });
});
