// The round-trip tools the benchmark compares, each with its server and client
// on the same path, in two groups. udp: the C floor (bare and with the kernel
// stamps rtt-probe takes, each also with the least STAMP asks), rtt-probe (CLI
// and library), sockperf in its busy and default modes, and irtt; rtt-probe's
// raw transport beside them. tcp: the C TCP floor (request/response, and
// connect per transaction), rtt-probe --proto tcp, sockperf --tcp busy and
// default, and netperf TCP_RR/TCP_CRR where it is installed. Server on CPU 0,
// client on CPU 1.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand, inNamespace, runClient, startServer } from './process.mjs';
import { percentile } from './stats.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FLOOR = path.join(root, 'bench', 'out', 'udp_pingpong');
export const TCP_FLOOR = path.join(root, 'bench', 'out', 'tcp_pingpong');
const CLI = path.join(root, 'dist', 'cli', 'main.js');
const LIBRARY = path.join(root, 'bench', 'library-probe.mjs');
const node = process.execPath;
/** What rtt-probe's reflector and the C floors print once they listen. */
const LISTENING = /^listening/m;
const hostPort = (address, port) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

function sockperfClient(output) {
  const pct = (p) => {
    const m = new RegExp(`percentile ${p} =\\s+([\\d.]+)`).exec(output);
    return m ? Number(m[1]) * 1000 : NaN;
  };
  const valid = /\[Valid Duration\] RunTime=([\d.]+) sec; SentMessages=\d+; ReceivedMessages=(\d+)/.exec(output);
  return {
    p50: pct('50.000'),
    p99: pct('99.000'),
    p999: pct('99.900'),
    roundTripsPerSecond: valid ? Number(valid[2]) / Number(valid[1]) : NaN,
  };
}

/**
 * rtt-probe's CLI at both ends, with the same extra flags on each unless
 * `reflect` gives the reflector's, and the sender's own (`probe`); `address`
 * maps the path's address (a raw sender cannot reach a UDP reflector on
 * 127.0.0.1: the kernel takes 127/8 frames that come in through a packet
 * socket for martians, so that row uses ::1 on loopback); `metric` is the
 * figure compared (connect mode's is `transaction`, netperf TCP_CRR's).
 */
function rttProbeCli(name, extra, { group = 'udp', reflect = extra, probe = [], address = (a) => a, metric = 'rtt.user' } = {}) {
  return {
    name,
    group,
    missing: () => null,
    ready: LISTENING,
    server: (a, port) => [node, CLI, 'reflect', '--bind', hostPort(address(a), port), '--cpu', '0', ...reflect],
    client: (a, port, s) => {
      const r = JSON.parse(
        runClient(s.wrap([node, CLI, 'probe', hostPort(address(a), port), '--count', String(s.count), '--warmup', '1000', '--cpu', '1', ...extra, ...probe, '--json'])),
      );
      const p = r.metrics[metric].percentiles;
      return { p50: p['50'], p99: p['99'], p999: p['99.9'], roundTripsPerSecond: r.achievedRate, kernelP50: r.metrics['rtt.kernel']?.percentiles['50'] };
    },
  };
}

const SOCKPERF_MISSING = () => (hasCommand('sockperf') ? null : 'sockperf is not installed (apt-get install sockperf)');

/** sockperf ping-pong over UDP or (`--tcp`) TCP, busy (`--nonblocked --timeout 0` at both ends) or as it runs by default. */
function sockperf(name, group, busy) {
  const proto = group === 'tcp' ? ['--tcp'] : [];
  const spin = busy ? ['--nonblocked', '--timeout', '0'] : [];
  return {
    name,
    group,
    missing: SOCKPERF_MISSING,
    server: (a, port) => ['taskset', '-c', '0', 'sockperf', 'server', ...proto, '-i', a, '-p', String(port), ...spin],
    client: (a, port, s) =>
      sockperfClient(
        runClient(s.wrap(['taskset', '-c', '1', 'sockperf', 'ping-pong', ...proto, '-i', a, '-p', String(port), '-t', String(s.seconds), '-m', '44', '--full-rtt', ...spin])),
      ),
  };
}

export const NETPERF_ABSENT = "netperf: not in Debian's main archive (non-free); install it from source to add its rows";
const NETPERF_MISSING = () => (hasCommand('netperf') && hasCommand('netserver') ? null : NETPERF_ABSENT);

/**
 * netperf's TCP_RR or TCP_CRR test with 44-byte requests and replies, its
 * omni output selectors giving the latency percentiles (µs) and the rate.
 * netserver forks a child per test that inherits its CPU.
 */
function netperf(test) {
  return {
    name: `netperf ${test}`,
    group: 'tcp',
    missing: NETPERF_MISSING,
    server: (a, port) => ['taskset', '-c', '0', 'netserver', '-D', '-L', a, '-p', String(port)],
    client: (a, port, s) => {
      const out = runClient(
        s.wrap(['taskset', '-c', '1', 'netperf', '-H', a, '-p', String(port), '-t', test, '-l', String(s.seconds), '-P', '0', '--', '-r', '44,44', '-o', 'P50_LATENCY,P99_LATENCY,TRANSACTION_RATE']),
      );
      const [p50, p99, rate] = out.trim().split('\n').at(-1).split(',').map(Number);
      // netperf's omni output has no p99.9 selector.
      return { p50: p50 * 1000, p99: p99 * 1000, p999: NaN, roundTripsPerSecond: rate };
    },
  };
}

/** A C floor (bench/floor/): its server and client with their extra flags. */
function cFloor(name, group, binary, serverFlags = [], clientFlags = []) {
  return {
    name,
    group,
    missing: () => null,
    ready: LISTENING,
    server: (a, port) => [binary, 'server', a, String(port), '0', ...serverFlags],
    client: (a, port, s) => JSON.parse(runClient(s.wrap([binary, 'client', a, String(port), String(s.count), '1000', '1', ...clientFlags]))),
  };
}

const v6OnLoopback = (a) => (a === '127.0.0.1' ? '::1' : a);

/** @type {Array<{name: string, group: 'udp' | 'tcp', missing: () => string | null, server: Function, client: Function}>} */
export const TOOLS = [
  cFloor('floor (C busy-poll)', 'udp', FLOOR),
  cFloor('floor + kernel stamps (C)', 'udp', FLOOR, ['stamped'], ['busy', 'stamped']),
  // Not the targets' floors: what the protocol itself costs over each of them.
  cFloor('floor + STAMP (C)', 'udp', FLOOR, ['stamp'], ['busy', 'stamp']),
  cFloor('floor + kernel stamps + STAMP (C)', 'udp', FLOOR, ['stamped', 'stamp'], ['busy', 'stamped', 'stamp']),
  rttProbeCli('rtt-probe CLI', []),
  // The peers and the bare floor take no kernel stamps: this row does the same work they do.
  rttProbeCli('rtt-probe CLI --ts none', ['--ts', 'none']),
  // The raw transport: frames built in user space, no qdisc on send, taken at the packet tap on receive.
  rttProbeCli('rtt-probe CLI raw', ['--transport', 'raw']),
  rttProbeCli('rtt-probe CLI raw --ts none', ['--transport', 'raw', '--ts', 'none']),
  rttProbeCli('rtt-probe CLI raw, UDP reflector', ['--transport', 'raw'], { reflect: [], address: v6OnLoopback }),
  {
    name: 'rtt-probe library',
    group: 'udp',
    missing: () => null,
    ready: LISTENING,
    server: (a, port) => [node, CLI, 'reflect', '--bind', hostPort(a, port), '--cpu', '0'],
    client: (a, port, s) => JSON.parse(runClient(s.wrap([node, LIBRARY, a, String(port), String(s.count), '--cpu', '1']))),
  },
  sockperf('sockperf busy', 'udp', true),
  sockperf('sockperf default', 'udp', false),
  {
    name: 'irtt 10us',
    group: 'udp',
    missing: () => (hasCommand('irtt') ? null : 'irtt is not installed (apt-get install irtt)'),
    server: (a, port) => ['taskset', '-c', '0', 'irtt', 'server', '-b', hostPort(a, port), '-i', '0'],
    client: (a, port, s) => {
      const json = JSON.parse(
        runClient(s.wrap(['taskset', '-c', '1', 'irtt', 'client', '-i', '10us', '-d', `${s.seconds}s`, '-q', '--fill=none', '-o', '-', hostPort(a, port)])),
      );
      const rtts = json.round_trips.filter((t) => t.lost === 'false').map((t) => t.delay.rtt);
      return {
        p50: percentile(rtts, 50),
        p99: percentile(rtts, 99),
        p999: percentile(rtts, 99.9),
        roundTripsPerSecond: rtts.length / s.seconds,
      };
    },
  },
  cFloor('tcp floor (C busy-poll)', 'tcp', TCP_FLOOR),
  cFloor('tcp floor crr (C)', 'tcp', TCP_FLOOR, [], ['busy', 'crr']),
  rttProbeCli('rtt-probe CLI --proto tcp', ['--proto', 'tcp'], { group: 'tcp' }),
  rttProbeCli('rtt-probe CLI --proto tcp --ts none', ['--proto', 'tcp', '--ts', 'none'], { group: 'tcp' }),
  rttProbeCli('rtt-probe CLI --proto tcp --mode connect --ts none', ['--proto', 'tcp', '--ts', 'none'], { group: 'tcp', probe: ['--mode', 'connect'], metric: 'transaction' }),
  sockperf('sockperf --tcp busy', 'tcp', true),
  sockperf('sockperf --tcp default', 'tcp', false),
  netperf('TCP_RR'),
  netperf('TCP_CRR'),
];

/** One measurement of one tool on one path. */
export async function measure(tool, pathSpec, port, settings) {
  const server = await startServer(inNamespace(pathSpec.serverNs, tool.server(pathSpec.address, port)), { ready: tool.ready ?? null });
  try {
    return tool.client(pathSpec.address, port, { ...settings, wrap: (argv) => inNamespace(pathSpec.clientNs, argv) });
  } finally {
    await server.stop();
  }
}
