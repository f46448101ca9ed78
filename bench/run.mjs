// rtt-probe benchmark: rtt-probe against the C floor and its peers on the same
// paths, interleaved over several rounds, plus rate accuracy, event-loop delay,
// memory over a long run, start-up costs, host settings and instruction counts,
// then judges the performance targets from this run's figures. Prints a
// markdown report and writes the figures as JSON to bench/out/.
//
//   npm run bench                      full run (several minutes)
//   npm run bench -- --quick           fewer rounds and probes, no soak, no callgrind
//   npm run bench -- --rounds 5 --count 200000 --soak 10000000 --only loopback
//   npm run bench -- --tools floor,'rtt-probe CLI' --only loopback   those tools' comparison alone
//   npm run bench -- --tools tcp --only loopback   one group of tools (udp or tcp) alone
//   npm run bench -- --sections rate,instructions   only these sections (compare rate settings status startup soak instructions monitor)
//   npm run bench -- --sections monitor --quick      one mesh probing 1 000 addresses at 10/s each: CPU, RSS, churn
//   npm run bench -- --sections rate --rt-unthrottled   also rate mode under SCHED_FIFO, with
//                                      kernel.sched_rt_runtime_us at -1 for those runs only (root)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOOPBACK, createLabPath } from './lib/paths.mjs';
import { hasCommand, inNamespace, runClient, startServer } from './lib/process.mjs';
import { median, ratio, spread, us } from './lib/stats.mjs';
import { judgeTargets, targetsMarkdown } from './lib/targets.mjs';
import { FLOOR, TCP_FLOOR, TOOLS, measure } from './lib/tools.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'bench', 'out');
const CLI = path.join(root, 'dist', 'cli', 'main.js');
const LIBRARY = path.join(root, 'bench', 'library-probe.mjs');
const MESH_SCALE = path.join(root, 'bench', 'mesh-scale.mjs');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const quick = args.includes('--quick');
const settings = {
  rounds: Number(option('--rounds', quick ? 2 : 3)),
  count: Number(option('--count', quick ? 30000 : 100000)),
  seconds: Number(option('--seconds', quick ? 1 : 2)),
  soak: Number(option('--soak', quick ? 0 : 10_000_000)),
  only: option('--only', null),
  tools: option('--tools', null)?.split(','),
  sections: option('--sections', null)?.split(','),
  callgrind: !quick && !args.includes('--no-callgrind'),
  // Turn the kernel's RT throttling off (root) only while rate mode runs with --rt-priority.
  rtUnthrottled: args.includes('--rt-unthrottled'),
};

const lines = [];
const say = (s = '') => {
  lines.push(s);
  console.log(s);
};
const report = { settings, startedAt: new Date().toISOString(), host: {}, paths: {}, rate: [], startup: {}, settingsEffects: [], statusLine: null };

function prepare() {
  mkdirSync(out, { recursive: true });
  execFileSync('cc', ['-O2', '-o', FLOOR, path.join(root, 'bench/floor/udp_pingpong.c')]);
  execFileSync('cc', ['-O2', '-o', TCP_FLOOR, path.join(root, 'bench/floor/tcp_pingpong.c')]);
  if (process.arch === 'x64') {
    const core = path.join(root, 'native', 'core');
    execFileSync('g++', ['-std=c++17', '-O2', `-I${core}`, '-o', path.join(out, 'clock_cost'), path.join(root, 'bench/clock_cost.cpp'),
      ...['user_clock.cpp', 'clock.cpp', 'errors.cpp'].map((f) => path.join(core, f))]);
  }
  const missing = ['sockperf', 'irtt'].filter((c) => !hasCommand(c));
  if (missing.length && process.getuid?.() === 0 && hasCommand('apt-get')) {
    console.error(`installing ${missing.join(', ')} from Debian ...`);
    try {
      execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    } catch {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
      execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    }
  }
  report.host = {
    kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    cpus: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    node: process.version,
    clocksource: execFileSync('cat', ['/sys/devices/system/clocksource/clocksource0/current_clocksource'], { encoding: 'utf8' }).trim(),
  };
}

let nextPort = 19000;
const RAW_ROWS = ['rtt-probe CLI raw', 'rtt-probe CLI raw --ts none', 'rtt-probe CLI raw, UDP reflector'];

// Each rtt-probe row over the tools that do its work: each STAMP floor beside
// the rtt-probe rows that take the same stamps; connect mode (its
// `transaction` figure) beside the connect-per-transaction floor and netperf TCP_CRR.
const UDP_PEERS = ['floor (C busy-poll)', 'floor + kernel stamps (C)', 'sockperf busy', 'sockperf default', 'irtt 10us'];
const TCP_PEERS = ['tcp floor (C busy-poll)', 'sockperf --tcp busy', 'sockperf --tcp default', 'netperf TCP_RR'];
const RATIO_PAIRS = [
  ['rtt-probe CLI', [...UDP_PEERS, 'floor + kernel stamps + STAMP (C)']],
  ['rtt-probe CLI --ts none', [...UDP_PEERS, 'floor + STAMP (C)']],
  ['rtt-probe library', [...UDP_PEERS, 'floor + kernel stamps + STAMP (C)']],
  ...RAW_ROWS.map((raw) => [raw, [...UDP_PEERS, raw.endsWith('--ts none') ? 'floor + STAMP (C)' : 'floor + kernel stamps + STAMP (C)']]),
  ['rtt-probe CLI --proto tcp', TCP_PEERS],
  ['rtt-probe CLI --proto tcp --ts none', TCP_PEERS],
  ['rtt-probe CLI --proto tcp --mode connect --ts none', ['tcp floor crr (C)', 'netperf TCP_CRR']],
];

async function comparePath(pathSpec) {
  const chosen = TOOLS.filter((t) => !settings.tools || settings.tools.some((w) => t.name.includes(w) || t.group === w));
  const tools = chosen.map((tool) => ({ tool, why: tool.missing() }));
  const runs = Object.fromEntries(chosen.map((t) => [t.name, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const { tool, why } of tools) {
      if (why) continue;
      try {
        runs[tool.name].push(await measure(tool, pathSpec, nextPort++, settings));
      } catch (error) {
        console.error(`${pathSpec.name} round ${round} ${tool.name}: ${error.message.split('\n')[0]}`);
      }
    }
    console.error(`${pathSpec.name}: round ${round}/${settings.rounds} done`);
  }
  const summary = {};
  for (const { tool, why } of tools) {
    const r = runs[tool.name];
    summary[tool.name] = why
      ? { skipped: why }
      : Object.fromEntries(['p50', 'p99', 'p999', 'roundTripsPerSecond'].map((k) => [k, spread(r.map((x) => x[k]))]));
  }
  // Ratios per round (rtt-probe over the other tool in the same round), then their spread.
  const ratios = {};
  for (const [mine, others] of RATIO_PAIRS) {
    for (const other of others) {
      const a = runs[mine];
      const b = runs[other];
      if (!a?.length || !b?.length) continue;
      const n = Math.min(a.length, b.length);
      const per = (k) => spread(Array.from({ length: n }, (_, i) => a[i][k] / b[i][k]));
      ratios[`${mine} / ${other}`] = { p50: per('p50'), p99: per('p99'), roundTripsPerSecond: per('roundTripsPerSecond') };
    }
  }
  // The raw rows against UDP on the kernel-stamped RTT, which leaves out each end's syscalls: the wire and stacks alike should agree.
  const kernel = Object.fromEntries(
    ['rtt-probe CLI', ...RAW_ROWS].map((t) => [t, spread((runs[t] ?? []).map((x) => x.kernelP50))]).filter(([, k]) => k.rounds > 0),
  );
  report.paths[pathSpec.name] = { tools: summary, ratios, kernelP50: kernel };

  const cell = (s) => `${us(s.median)} (${us(s.min)}-${us(s.max)})`;
  const rc = (s) => `${ratio(s.median)} (${ratio(s.min)}-${ratio(s.max)})`;
  for (const group of ['udp', 'tcp']) {
    const inGroup = chosen.filter((t) => t.group === group).map((t) => t.name);
    if (inGroup.length === 0) continue;
    say(`### ${pathSpec.name}, ${group}: user RTT, median of ${settings.rounds} rounds (min-max)`);
    say();
    say('| tool | p50 µs | p99 µs | p99.9 µs | round trips/s |');
    say('|---|---|---|---|---|');
    for (const name of inGroup) {
      const s = summary[name];
      if (s.skipped) say(`| ${name} | skipped: ${s.skipped} | | | |`);
      else say(`| ${name} | ${cell(s.p50)} | ${cell(s.p99)} | ${cell(s.p999)} | ${Math.round(s.roundTripsPerSecond.median)} |`);
    }
    say();
    const groupRatios = Object.entries(ratios).filter(([name]) => inGroup.some((t) => name.startsWith(`${t} / `)));
    if (groupRatios.length === 0) continue;
    say('| ratio | p50 | p99 | round trips/s |');
    say('|---|---|---|---|');
    for (const [name, r] of groupRatios) say(`| ${name} | ${rc(r.p50)} | ${rc(r.p99)} | ${rc(r.roundTripsPerSecond)} |`);
    say();
  }
  if (Object.keys(kernel).length > 1) {
    say('| rtt.kernel p50 µs (min-max) | Δ against rtt-probe CLI (UDP) µs |');
    say('|---|---|');
    const udp = kernel['rtt-probe CLI']?.median;
    for (const [name, k] of Object.entries(kernel)) say(`| ${name}: ${cell(k)} | ${name === 'rtt-probe CLI' ? '' : us(k.median - udp)} |`);
    say();
  }
}

async function withReflector(fn) {
  const port = nextPort++;
  const server = await startServer([process.execPath, CLI, 'reflect', '--bind', `127.0.0.1:${port}`, '--cpu', '0']);
  try {
    return await fn(port);
  } finally {
    await server.stop();
  }
}

const library = (port, count, extra = []) =>
  JSON.parse(runClient([process.execPath, LIBRARY, '127.0.0.1', String(port), String(count), '--cpu', '1', ...extra], { timeoutMs: 600_000 }));

async function rateAccuracy() {
  say(`### rate mode on loopback: achieved rate and send-time error against the schedule, median of ${settings.rounds} rounds`);
  say();
  say('The floor columns are the C floor pacing the same schedule to the same reflector, interleaved: what this host lets any busy-waiting sender hold. This VM stalls for milliseconds now and then; a stall makes every probe behind it late, so one stall in a run can decide its p99.');
  say();
  say('| target /s | achieved / target | send.error p50 µs | send.error p99 µs (rounds) | lost | floor send error p50 µs | floor p99 µs (rounds) |');
  say('|---|---|---|---|---|---|---|');
  const paced = (port, target, count) => JSON.parse(runClient([FLOOR, 'pace', '127.0.0.1', String(port), String(target), String(count), '1']));
  // Through the CLI: the library runs carry an event-loop monitor whose 1 ms
  // timer would wake on the session thread's CPU and perturb the schedule.
  const cli = (port, target, count, extra = []) => {
    const r = JSON.parse(
      runClient([process.execPath, CLI, 'probe', `127.0.0.1:${port}`, '--mode', 'rate', '--rate', String(target), '--count', String(count), '--warmup', '1000', '--timeout', '200ms', '--cpu', '1', '--json', ...extra]),
    );
    const e = r.metrics['send.error'];
    return { achievedRate: r.achievedRate, sent: r.sent, lost: r.lost, sendErrorP50: e?.percentiles['50'], sendErrorP99: e?.percentiles['99'] };
  };
  // A busy-polling SCHED_FIFO thread is stopped for the RT throttling gap every period, so
  // --rt-priority is only measured where throttling is off, or turned off for those runs.
  const throttle = '/proc/sys/kernel/sched_rt_runtime_us';
  const throttling = readFileSync(throttle, 'utf8').trim();
  const rtWhy =
    throttling === '-1' ? null
    : !settings.rtUnthrottled ? `kernel.sched_rt_runtime_us is ${throttling}: a spinning SCHED_FIFO thread would be stopped every second (--rt-unthrottled turns it off for those runs)`
    : process.getuid?.() !== 0 ? '--rt-unthrottled needs root'
    : null;
  // With listeners, a signal waits for the running client, so the finally below restores the setting.
  if (!rtWhy && throttling !== '-1') for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
  const realtime = (port, target, count) => {
    if (throttling !== '-1') writeFileSync(throttle, '-1');
    try {
      return cli(port, target, count, ['--rt-priority', '10']);
    } finally {
      if (throttling !== '-1') writeFileSync(throttle, throttling);
    }
  };
  const measureTarget = (port, target, count, withRealtime = false) => {
    const runs = [];
    const floors = [];
    const rt = [];
    for (let round = 0; round < settings.rounds; round++) {
      floors.push(paced(port, target, count));
      runs.push(cli(port, target, count));
      if (withRealtime && !rtWhy) rt.push(realtime(port, target, count));
    }
    const m = (list, k) => median(list.map((x) => x[k]));
    const entry = {
      target,
      accuracy: m(runs, 'achievedRate') / target,
      sendErrorP50: m(runs, 'sendErrorP50'),
      sendErrorP99: m(runs, 'sendErrorP99'),
      sendErrorP99Rounds: runs.map((r) => r.sendErrorP99),
      sent: runs.reduce((a, r) => a + r.sent, 0),
      lost: runs.reduce((a, r) => a + r.lost, 0),
      floor: { sendErrorP50: m(floors, 'sendErrorP50'), sendErrorP99: m(floors, 'sendErrorP99'), sendErrorP99Rounds: floors.map((f) => f.sendErrorP99) },
      realtime: rt.length ? { sendErrorP50: m(rt, 'sendErrorP50'), sendErrorP99: m(rt, 'sendErrorP99'), sendErrorP99Rounds: rt.map((r) => r.sendErrorP99) } : null,
    };
    report.rate.push(entry);
    const rounds = (list) => list.map((v) => us(v)).join(', ');
    say(
      `| ${target} | ${entry.accuracy.toFixed(4)} | ${us(entry.sendErrorP50)} | ${us(entry.sendErrorP99)} (${rounds(entry.sendErrorP99Rounds)}) | ${entry.lost} | ${us(entry.floor.sendErrorP50)} | ${us(entry.floor.sendErrorP99)} (${rounds(entry.floor.sendErrorP99Rounds)}) |`,
    );
    return entry;
  };
  await withReflector(async (port) => {
    const fifo = [10_000, 100_000].map((target) => measureTarget(port, target, quick ? target / 2 : target * 2, true));
    // The highest rate that holds its schedule within 0.1% with under 0.1% loss.
    let sustained = null;
    for (const target of [200_000, 300_000, 400_000, 600_000, 800_000, 1_000_000]) {
      const e = measureTarget(port, target, target);
      if (e.accuracy < 0.999 || e.lost > e.sent * 0.001) break;
      sustained = target;
    }
    report.highestSustainedRate = sustained;
    say();
    say(`highest sustained rate (within 0.1% of target, < 0.1% loss): ${sustained ?? 'below 200000'} probes/s`);
    say();
    if (rtWhy) say(`under SCHED_FIFO (--rt-priority 10): not measured: ${rtWhy}`);
    for (const e of fifo.filter((x) => x.realtime)) {
      const rounds = e.realtime.sendErrorP99Rounds.map((v) => us(v)).join(', ');
      say(`under SCHED_FIFO (--rt-priority 10, RT throttling off), ${e.target}/s: send.error p50 ${us(e.realtime.sendErrorP50)} µs, p99 ${us(e.realtime.sendErrorP99)} µs (${rounds}), interleaved with the rows above`);
    }
    say();
  });
}

// The embedding process: event-loop delay while a library session spins (its
// 1 ms timer would wake the measuring cores, so the compare rows run without
// it), and, over the soak, resident memory.
async function soak() {
  const probes = settings.soak || 200_000;
  await withReflector(async (port) => {
    const r = library(port, probes, ['--event-loop-delay', ...(settings.soak ? ['--rss'] : [])]);
    report.eventLoopDelayP99Ns = r.eventLoopDelayP99Ns;
    say(`### the embedding process over ${probes} probes (library, ping-pong)`);
    say();
    say(`Node event-loop delay p99 while the session thread spins: ${(r.eventLoopDelayP99Ns / 1e6).toFixed(2)} ms`);
    if (settings.soak) {
      report.soak = { probes, ...r.rss, growthBytes: r.rss.end - r.rss.afterWarmup, received: r.received };
      const mb = (b) => (b / 2 ** 20).toFixed(1);
      say(`RSS after warm-up ${mb(r.rss.afterWarmup)} MiB, max ${mb(r.rss.max)} MiB, end ${mb(r.rss.end)} MiB: growth ${mb(report.soak.growthBytes)} MiB over ${r.received} round trips`);
    }
    say();
  });
}

// A monitor's scale: 1 000 targets at 10 probes/s, each an address of its
// own on lo in a namespace where one reflector answers on all of them.
async function monitorScale() {
  const targets = Number(option('--mesh-targets', 1000));
  if (process.getuid() !== 0) {
    say('monitor section skipped: it needs root for its namespace and addresses');
    say();
    return;
  }
  const ns = `rttp-bench-${process.pid}-mesh`;
  const addresses = Array.from({ length: targets }, (_, i) => `198.18.${4 + Math.floor(i / 250)}.${1 + (i % 250)}`);
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, '-batch', '-'], {
      input: ['link set lo up', ...addresses.map((a) => `addr add ${a}/32 dev lo`)].join('\n'),
    });
    const reflector = await startServer(inNamespace(ns, [process.execPath, CLI, 'reflect', '--bind', '0.0.0.0:862', '--no-busy-poll']));
    try {
      const steady = quick ? 10 : 30;
      const churn = quick ? 30 : 600;
      const argv = [process.execPath, MESH_SCALE, '--addresses', addresses.join(','), '--rate', '10', '--steady', String(steady), '--churn', String(churn)];
      const r = JSON.parse(runClient(inNamespace(ns, argv), { timeoutMs: (steady + churn + 120) * 1000 }).trim().split('\n').pop());
      report.monitor = r;
      const mb = (b) => (b / 2 ** 20).toFixed(1);
      say(`### monitor: one mesh probing ${r.targets} targets at ${r.rate} probes/s each (blocking, jittered; reflector in its own process)`);
      say();
      say(`CPU ${(r.cpuCoresTotal * 100).toFixed(1)}% of a core in all (${r.cpuPerTargetPercent.toFixed(4)}% per target) over ${r.steadySeconds} s; ` +
        `RSS ${mb(r.rssSteadyBytes)} MiB (${(r.rssPerTargetBytes / 1024).toFixed(1)} KiB per target over the empty process's ${mb(r.rssBeforeBytes)} MiB)`);
      say(`one scrape of every series: ${r.scrapeMsMedian.toFixed(1)} ms, ${(r.scrapeBytes / 2 ** 20).toFixed(2)} MiB; ${r.sent} probes sent, ${r.lost} lost`);
      say(`churn, 10% of the targets replaced every 3 s for ${r.churnSeconds} s (${r.replaced} replaced): RSS ${r.churnRss.map(mb).join(', ')} MiB`);
      say();
    } finally {
      await reflector.stop();
    }
  } finally {
    execFileSync('ip', ['netns', 'delete', ns]);
  }
}

function startup() {
  const times = (argv, n) => {
    const t = [];
    for (let i = 0; i < n; i++) {
      const started = process.hrtime.bigint();
      execFileSync(argv[0], argv.slice(1), { stdio: 'ignore' });
      t.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return median(t);
  };
  const load = [];
  for (let i = 0; i < 5; i++) {
    const code = "const t=process.hrtime.bigint();require('./build/Release/rtt_probe.node');console.log(Number(process.hrtime.bigint()-t)/1e6)";
    load.push(Number(execFileSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8' })));
  }
  report.startup = {
    addonLoadMs: median(load),
    versionMs: times([process.execPath, CLI, '--version'], 7),
    nodeBareMs: times([process.execPath, '-e', '0'], 7),
  };
  const clock = process.arch === 'x64' ? JSON.parse(execFileSync(path.join(out, 'clock_cost'), { encoding: 'utf8' })) : null;
  report.clock = clock;
  say('### start-up and clock');
  say();
  say(`addon load ${report.startup.addonLoadMs.toFixed(2)} ms; \`rtt-probe --version\` ${report.startup.versionMs.toFixed(1)} ms (bare \`node -e 0\`: ${report.startup.nodeBareMs.toFixed(1)} ms)`);
  if (clock) {
    const tsc = clock.tscNs === null ? 'not available on this host' : `${clock.tscNs.toFixed(1)} ns`;
    say(`user clock read (--clock): realtime (vDSO) ${clock.realtimeNs.toFixed(1)} ns, tsc ${tsc}; a bare rdtscp ${clock.rdtscpNs.toFixed(1)} ns`);
  }
  say();
}

async function settingsEffects() {
  say('### settings: their effect on rtt-probe ping-pong over loopback (median of rounds, settings interleaved within each round; ratios to the default taken within a round)');
  say();
  say('| setting | p50 µs | p99 µs | round trips/s | p50 / default | round trips/s / default |');
  say('|---|---|---|---|---|---|');
  const variants = [
    ['pinned, busy polling (default bench setup)', ['--cpu', '1'], ['--cpu', '0']],
    ['not pinned', [], []],
    ['blocking (--no-busy-poll)', ['--cpu', '1', '--no-busy-poll'], ['--cpu', '0', '--no-busy-poll']],
    ['SO_BUSY_POLL 50 µs (--socket-busy-poll 50)', ['--cpu', '1', '--socket-busy-poll', '50'], ['--cpu', '0', '--socket-busy-poll', '50']],
    ['kernel timestamps off (--ts none)', ['--cpu', '1', '--ts', 'none'], ['--cpu', '0', '--ts', 'none']],
    ['user clock from the vDSO, not the TSC (--clock realtime)', ['--cpu', '1', '--clock', 'realtime'], ['--cpu', '0', '--clock', 'realtime']],
  ];
  const runs = variants.map(() => []);
  for (let round = 0; round < settings.rounds; round++) {
    for (const [i, [, probeArgs, reflectArgs]] of variants.entries()) {
      const port = nextPort++;
      const server = await startServer([process.execPath, CLI, 'reflect', '--bind', `127.0.0.1:${port}`, ...reflectArgs]);
      try {
        const r = JSON.parse(runClient([process.execPath, CLI, 'probe', `127.0.0.1:${port}`, '--count', String(settings.count), '--warmup', '1000', '--json', ...probeArgs]));
        runs[i].push({ p50: r.metrics['rtt.user'].percentiles['50'], p99: r.metrics['rtt.user'].percentiles['99'], rtps: r.achievedRate });
      } finally {
        await server.stop();
      }
    }
  }
  const base = runs[0];
  for (const [i, [name]] of variants.entries()) {
    const r = runs[i];
    const e = {
      setting: name,
      p50: median(r.map((x) => x.p50)),
      p99: median(r.map((x) => x.p99)),
      roundTripsPerSecond: median(r.map((x) => x.rtps)),
      p50VsDefault: median(r.map((x, k) => x.p50 / base[k].p50)),
      roundTripsVsDefault: median(r.map((x, k) => x.rtps / base[k].rtps)),
    };
    report.settingsEffects.push(e);
    say(`| ${name} | ${us(e.p50)} | ${us(e.p99)} | ${Math.round(e.roundTripsPerSecond)} | ${e.p50VsDefault.toFixed(3)} | ${e.roundTripsVsDefault.toFixed(3)} |`);
  }
  say();
}

/**
 * What the CLI's status line costs the measurement: library runs with and
 * without a listener that formats the status from every 250 ms progress
 * snapshot, as the status line does, interleaved against one reflector.
 */
async function statusLineCost() {
  say(`### status line: rtt-probe library ping-pong over loopback with and without a 250 ms progress listener drawing the status (median of ${settings.rounds} rounds, interleaved)`);
  say();
  say('| progress listener | p50 µs | p99 µs | p50 / without |');
  say('|---|---|---|---|');
  const runs = { without: [], with: [] };
  await withReflector(async (port) => {
    for (let round = 0; round < settings.rounds; round++) {
      runs.without.push(library(port, settings.count));
      runs.with.push(library(port, settings.count, ['--status-line']));
    }
  });
  const row = (r) => ({ p50: median(r.map((x) => x.p50)), p99: median(r.map((x) => x.p99)) });
  report.statusLine = {
    without: row(runs.without),
    with: { ...row(runs.with), p50VsWithout: median(runs.with.map((x, k) => x.p50 / runs.without[k].p50)) },
  };
  say(`| none | ${us(report.statusLine.without.p50)} | ${us(report.statusLine.without.p99)} | 1 |`);
  say(`| status line (250 ms) | ${us(report.statusLine.with.p50)} | ${us(report.statusLine.with.p99)} | ${report.statusLine.with.p50VsWithout.toFixed(3)} |`);
  say();
}

/** Instructions per round trip, from the difference of two callgrind runs (blocking mode: no spin counted). */
async function instructions() {
  if (!settings.callgrind || !hasCommand('valgrind')) return;
  // rtt-probe counts only inside the session loop (Sender::run and what it
  // calls): the rest of a Node process (JIT, GC, timers) varies run to run.
  const collected = (argv, only = []) => {
    const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', ...only, ...argv], { encoding: 'utf8', timeout: 600_000 });
    const m = /Collected : (\d+)/.exec(r.stderr);
    if (!m) throw new Error(`callgrind printed no count: ${r.stderr.slice(-300)}`);
    return Number(m[1]);
  };
  const [n1, n2] = [2000, 6000];
  const perRoundTrip = (makeArgv, only) => (collected(makeArgv(n2), only) - collected(makeArgv(n1), only)) / (n2 - n1);
  const result = {};
  const floorPort = nextPort++;
  const floorServer = await startServer([FLOOR, 'server', '127.0.0.1', String(floorPort), '0']);
  try {
    result.floor = perRoundTrip((n) => [FLOOR, 'client', '127.0.0.1', String(floorPort), String(n), '0', '1', 'blocking']);
  } finally {
    await floorServer.stop();
  }
  await withReflector(async (port) => {
    result.rttProbe = perRoundTrip(
      (n) => [process.execPath, CLI, 'probe', `127.0.0.1:${port}`, '--count', String(n), '--warmup', '0', '--no-busy-poll', '--json'],
      ['--toggle-collect=*Sender::run*'],
    );
  });
  // A stripped addon (prebuildify --strip leaves build/Release stripped) has no Sender::run to count in.
  if (!(result.rttProbe > 0)) throw new Error('callgrind counted nothing inside Sender::run: the addon has no symbols; rebuild it (npx node-gyp rebuild)');
  report.instructionsPerRoundTrip = result;
  say('### instructions per round trip (callgrind, sender side, blocking mode so spinning is not counted; rtt-probe: its session loop only)');
  say();
  say(`floor ${Math.round(result.floor)}; rtt-probe ${Math.round(result.rttProbe)} (ratio ${ratio(result.rttProbe / result.floor)})`);
  say();
}

async function main() {
  prepare();
  say(`## rtt-probe benchmark (${new Date().toISOString()}, ${report.host.cpus} CPUs, kernel ${report.host.kernel}, node ${report.host.node})`);
  say();
  say(`${settings.rounds} rounds, ${settings.count} round trips per tool and round (sockperf/irtt: ${settings.seconds} s); server on CPU 0, client on CPU 1; tools interleaved within each round.`);
  say();
  const paths = [LOOPBACK];
  const lab = ['veth', 'vxlan'].map((name) => ({ name, ...createLabPath(name) }));
  for (const l of lab) {
    if (l.path) paths.push(l.path);
    else say(`${l.name} path skipped: ${l.reason}`);
  }
  // A chosen set of tools is an A/B comparison: the other sections would only add minutes.
  const sections = settings.sections ?? (settings.tools ? ['compare'] : ['compare', 'rate', 'settings', 'status', 'startup', 'soak', 'instructions', 'monitor']);
  const run = (name) => sections.includes(name);
  try {
    if (run('compare')) for (const p of paths) if (!settings.only || settings.only === p.name) await comparePath(p);
  } finally {
    for (const l of lab) l.remove?.();
  }
  // A section that fails is reported and the run goes on: one broken section must not cost the others' minutes.
  const attempt = async (name, section) => {
    if (!run(name)) return;
    try {
      await section();
    } catch (error) {
      (report.failedSections ??= {})[name] = String(error?.message ?? error);
      say(`${name} section failed: ${report.failedSections[name]}`);
      say();
      console.error(error);
    }
  };
  await attempt('rate', rateAccuracy);
  await attempt('settings', settingsEffects);
  await attempt('status', statusLineCost);
  await attempt('startup', startup);
  await attempt('soak', soak);
  await attempt('instructions', instructions);
  await attempt('monitor', monitorScale);
  report.targets = judgeTargets(report);
  for (const line of targetsMarkdown(report.targets)) say(line);
  say();
  const file = path.join(out, `bench-${report.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(out, 'latest.md'), `${lines.join('\n')}\n`);
  console.error(`wrote ${path.relative(root, file)} and bench/out/latest.md`);
  const failed = Object.keys(report.failedSections ?? {});
  if (failed.length > 0) {
    console.error(`sections that failed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
