// The round-trip tools the benchmark compares, each with its server and client
// on the same path: the C floor (bare and with the kernel stamps rtt-probe
// takes, each also with the least STAMP asks), rtt-probe (CLI and library),
// sockperf in its busy and default modes, and irtt; rtt-probe's raw transport
// beside them. Server on CPU 0, client on CPU 1.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand, inNamespace, runClient, startServer } from './process.mjs';
import { percentile } from './stats.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FLOOR = path.join(root, 'bench', 'out', 'udp_pingpong');
const CLI = path.join(root, 'dist', 'cli', 'main.js');
const LIBRARY = path.join(root, 'bench', 'library-probe.mjs');
const node = process.execPath;
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
 * rtt-probe's CLI at both ends, ping-pong, with the same extra flags on each
 * unless `reflect` gives the reflector's; `address` maps the path's address
 * (a raw sender cannot reach a UDP reflector on 127.0.0.1: the kernel takes
 * 127/8 frames that come in through a packet socket for martians, so that
 * row uses ::1 on loopback).
 */
function rttProbeCli(name, extra, { reflect = extra, address = (a) => a } = {}) {
  return {
    name,
    missing: () => null,
    server: (a, port) => [node, CLI, 'reflect', '--bind', hostPort(address(a), port), '--cpu', '0', ...reflect],
    client: (a, port, s) => {
      const r = JSON.parse(
        runClient(s.wrap([node, CLI, 'probe', hostPort(address(a), port), '--count', String(s.count), '--warmup', '1000', '--cpu', '1', ...extra, '--json'])),
      );
      const p = r.metrics['rtt.user'].percentiles;
      return { p50: p['50'], p99: p['99'], p999: p['99.9'], roundTripsPerSecond: r.achievedRate, kernelP50: r.metrics['rtt.kernel']?.percentiles['50'] };
    },
  };
}

const v6OnLoopback = (a) => (a === '127.0.0.1' ? '::1' : a);

/** @type {Array<{name: string, missing: () => string | null, server: Function, client: Function}>} */
export const TOOLS = [
  {
    name: 'floor (C busy-poll)',
    missing: () => null,
    server: (a, port) => [FLOOR, 'server', a, String(port), '0'],
    client: (a, port, s) => JSON.parse(runClient(s.wrap([FLOOR, 'client', a, String(port), String(s.count), '1000', '1']))),
  },
  {
    name: 'floor + kernel stamps (C)',
    missing: () => null,
    server: (a, port) => [FLOOR, 'server', a, String(port), '0', 'stamped'],
    client: (a, port, s) =>
      JSON.parse(runClient(s.wrap([FLOOR, 'client', a, String(port), String(s.count), '1000', '1', 'busy', 'stamped']))),
  },
  // Not the targets' floors: what the protocol itself costs over each of them.
  {
    name: 'floor + STAMP (C)',
    missing: () => null,
    server: (a, port) => [FLOOR, 'server', a, String(port), '0', 'stamp'],
    client: (a, port, s) => JSON.parse(runClient(s.wrap([FLOOR, 'client', a, String(port), String(s.count), '1000', '1', 'busy', 'stamp']))),
  },
  {
    name: 'floor + kernel stamps + STAMP (C)',
    missing: () => null,
    server: (a, port) => [FLOOR, 'server', a, String(port), '0', 'stamped', 'stamp'],
    client: (a, port, s) =>
      JSON.parse(runClient(s.wrap([FLOOR, 'client', a, String(port), String(s.count), '1000', '1', 'busy', 'stamped', 'stamp']))),
  },
  rttProbeCli('rtt-probe CLI', []),
  // The peers and the bare floor take no kernel stamps: this row does the same work they do.
  rttProbeCli('rtt-probe CLI --ts none', ['--ts', 'none']),
  // The raw transport: frames built in user space, no qdisc on send, taken at the packet tap on receive.
  rttProbeCli('rtt-probe CLI raw', ['--transport', 'raw']),
  rttProbeCli('rtt-probe CLI raw --ts none', ['--transport', 'raw', '--ts', 'none']),
  rttProbeCli('rtt-probe CLI raw, UDP reflector', ['--transport', 'raw'], { reflect: [], address: v6OnLoopback }),
  {
    name: 'rtt-probe library',
    missing: () => null,
    server: (a, port) => [node, CLI, 'reflect', '--bind', hostPort(a, port), '--cpu', '0'],
    client: (a, port, s) => JSON.parse(runClient(s.wrap([node, LIBRARY, a, String(port), String(s.count), '--cpu', '1']))),
  },
  {
    name: 'sockperf busy',
    missing: () => (hasCommand('sockperf') ? null : 'sockperf is not installed (apt-get install sockperf)'),
    server: (a, port) => ['taskset', '-c', '0', 'sockperf', 'server', '-i', a, '-p', String(port), '--nonblocked', '--timeout', '0'],
    client: (a, port, s) =>
      sockperfClient(
        runClient(s.wrap(['taskset', '-c', '1', 'sockperf', 'ping-pong', '-i', a, '-p', String(port), '-t', String(s.seconds), '-m', '44', '--full-rtt', '--nonblocked', '--timeout', '0'])),
      ),
  },
  {
    name: 'sockperf default',
    missing: () => (hasCommand('sockperf') ? null : 'sockperf is not installed (apt-get install sockperf)'),
    server: (a, port) => ['taskset', '-c', '0', 'sockperf', 'server', '-i', a, '-p', String(port)],
    client: (a, port, s) =>
      sockperfClient(runClient(s.wrap(['taskset', '-c', '1', 'sockperf', 'ping-pong', '-i', a, '-p', String(port), '-t', String(s.seconds), '-m', '44', '--full-rtt']))),
  },
  {
    name: 'irtt 10us',
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
];

/** One measurement of one tool on one path. */
export async function measure(tool, pathSpec, port, settings) {
  const server = await startServer(inNamespace(pathSpec.serverNs, tool.server(pathSpec.address, port)));
  try {
    return tool.client(pathSpec.address, port, { ...settings, wrap: (argv) => inNamespace(pathSpec.clientNs, argv) });
  } finally {
    await server.stop();
  }
}
