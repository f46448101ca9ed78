// One probe session through the library, as an application embeds it, with
// what the benchmark wants to know about the embedding process: event-loop
// delay while the session thread spins (its monitor is a 1 ms timer, so only
// when asked), resident memory over the run, and what the CLI's status line
// (its text from every progress snapshot) costs the measurement.
//
//   node bench/library-probe.mjs HOST PORT COUNT [--cpu N] [--rss] [--event-loop-delay] [--status-line]
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const { probe } = require('../dist/index.js');
const { probeStatus } = require('../dist/cli/status-line.js');

const [host, port, count, ...rest] = process.argv.slice(2);
const flag = (name) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const cpu = flag('--cpu');

const delay = monitorEventLoopDelay({ resolution: 1 });
const rss = [];
const session = probe(
  { host, port: Number(port) },
  {
    count: Number(count),
    warmup: 1000,
    cpu: cpu === undefined ? undefined : Number(cpu),
    timeout: '200ms',
    progressInterval: '250ms',
  },
);
let status = '';
if (rest.includes('--status-line')) session.on('progress', (p) => (status = probeStatus(p, { count: Number(count), durationNs: 0 })));
if (rest.includes('--rss')) session.on('progress', (p) => rss.push([p.sent, process.memoryUsage().rss]));
const measureDelay = rest.includes('--event-loop-delay');
if (measureDelay) delay.enable();
const result = await session.result;
if (measureDelay) delay.disable();
const user = result.metrics['rtt.user'];
const afterWarmup = rss.find(([sent]) => sent >= Number(count) * 0.05)?.[1] ?? rss[0]?.[1];
console.log(
  JSON.stringify({
    p50: user?.percentile(50),
    p99: user?.percentile(99),
    p999: user?.percentile(99.9),
    roundTripsPerSecond: result.achievedRate,
    sent: result.counters.sent,
    received: result.counters.received,
    lost: result.counters.lost,
    eventLoopDelayP99Ns: measureDelay ? delay.percentile(99) : null,
    statusLine: status || null,
    rss: rss.length ? { afterWarmup, max: Math.max(...rss.map(([, r]) => r)), end: rss.at(-1)[1], samples: rss.length } : null,
  }),
);
