// The performance targets rtt-probe is held to, judged from one benchmark
// report: each with the figure this run measured and whether it holds, so a
// run says for itself which targets it met instead of leaving the reader to
// compare tables with thresholds.

import { ratio, us } from './stats.mjs';

const MiB = 2 ** 20;

export const TARGETS = {
  floorP50: 1.02, // rtt-probe p50 at most this times the floor's
  floorP99: 1.1,
  floorRoundTrips: 0.98, // round trips per second at least this times the floor's
  tcpFloorP50: 1.05, // rtt-probe --proto tcp --ts none p50 at most this times the TCP floor's
  rateAccuracy: 0.001, // achieved rate within 0.1 % of target ...
  rateUpTo: 100_000, // ... and send.error p99 below the bound, up to this rate
  sendErrorP99Ns: 2000,
  eventLoopDelayP99Ns: 2_000_000,
  soakProbes: 10_000_000,
  soakGrowthBytes: 4 * MiB, // "no growth beyond a few MB"
  addonLoadMs: 20,
  rawKernelAgreementNs: 1000, // raw and UDP rtt.kernel p50 within this on one path
};

// Each rtt-probe row is held to the floor that does the same work: the
// default run takes kernel stamps, as the stamped floor does; --ts none takes
// none, as the bare floor and the peers do.
const FLOOR_PAIRS = [
  ['rtt-probe CLI', 'floor + kernel stamps (C)'],
  ['rtt-probe library', 'floor + kernel stamps (C)'],
  ['rtt-probe CLI --ts none', 'floor (C busy-poll)'],
];
const AT_LEAST_AS_FAST = [['rtt-probe CLI --ts none', 'sockperf busy']];
// The raw transport skips the IP/UDP output path and the qdisc on send and is
// taken at the packet tap on receive: its ping-pong should beat the UDP floor.
const BELOW_UDP_FLOOR = [['rtt-probe CLI raw', 'floor (C busy-poll)']];
const FASTER = [
  ['rtt-probe CLI', 'sockperf default'],
  ['rtt-probe CLI', 'irtt 10us'],
];

// TCP: --ts none against the TCP floor; ahead of the peers at p50, netperf only where it is installed.
const TCP_FLOOR_PAIR = ['rtt-probe CLI --proto tcp --ts none', 'tcp floor (C busy-poll)'];
const TCP_FASTER = [
  ['rtt-probe CLI --proto tcp', 'sockperf --tcp default'],
  ['rtt-probe CLI --proto tcp', 'netperf TCP_RR'],
  ['rtt-probe CLI --proto tcp --mode connect --ts none', 'netperf TCP_CRR'],
];

const micro = (ns) => `${us(ns)} µs`;

/**
 * One verdict per target and subject. `met` is true or false, or null where
 * this run did not measure it (`why` says so).
 */
export function judgeTargets(report) {
  const verdicts = [];
  const judge = (target, subject, value, holds, show) =>
    verdicts.push(
      Number.isFinite(value)
        ? { target, subject, value, shown: show(value), met: holds(value) }
        : { target, subject, value: null, shown: 'n/a', met: null, why: 'not measured in this run' },
    );

  const notRun = (target, why) => verdicts.push({ target, subject: 'all', value: null, shown: 'n/a', met: null, why });
  if (!Object.keys(report.paths ?? {}).length) notRun('ping-pong against the floor and the peers', 'the compare section did not run');
  for (const [pathName, { ratios, tools }] of Object.entries(report.paths ?? {})) {
    const median = (mine, other, k) => ratios[`${mine} / ${other}`]?.[k]?.median;
    const measured = (name) => tools === undefined || name in tools;
    for (const [mine, floor] of FLOOR_PAIRS.filter(([m]) => measured(m))) {
      const subject = `${pathName}: ${mine} / ${floor}`;
      judge(`p50 ≤ ${TARGETS.floorP50} × floor`, subject, median(mine, floor, 'p50'), (x) => x <= TARGETS.floorP50, ratio);
      judge(`p99 ≤ ${TARGETS.floorP99} × floor`, subject, median(mine, floor, 'p99'), (x) => x <= TARGETS.floorP99, ratio);
      judge(
        `round trips/s ≥ ${TARGETS.floorRoundTrips} × floor`,
        subject,
        median(mine, floor, 'roundTripsPerSecond'),
        (x) => x >= TARGETS.floorRoundTrips,
        ratio,
      );
    }
    for (const [mine, peer] of AT_LEAST_AS_FAST.filter(([m]) => measured(m))) {
      const subject = `${pathName}: ${mine} / ${peer}`;
      judge('p50 at least as fast', subject, median(mine, peer, 'p50'), (x) => x <= 1, ratio);
      judge('p99 at least as fast', subject, median(mine, peer, 'p99'), (x) => x <= 1, ratio);
    }
    for (const [mine, floor] of BELOW_UDP_FLOOR.filter(([m]) => measured(m))) {
      judge('p50 below the UDP floor', `${pathName}: ${mine} / ${floor}`, median(mine, floor, 'p50'), (x) => x < 1, ratio);
    }
    // rtt.kernel leaves out the sender's own stack, not the reflector's: the
    // raw sender is held to UDP's against the same UDP reflector (raw to raw
    // also skips the reflector's UDP path, which the bench shows beside).
    const kernel = report.paths[pathName].kernelP50 ?? {};
    for (const raw of ['rtt-probe CLI raw, UDP reflector'].filter(measured)) {
      judge(
        `rtt.kernel p50 within ${micro(TARGETS.rawKernelAgreementNs)} of UDP`,
        `${pathName}: ${raw}`,
        Math.abs(kernel[raw]?.median - kernel['rtt-probe CLI']?.median),
        (x) => x <= TARGETS.rawKernelAgreementNs,
        micro,
      );
    }
    for (const [mine, peer] of FASTER.filter(([m]) => measured(m))) {
      const subject = `${pathName}: ${mine} / ${peer}`;
      judge('p50 faster', subject, median(mine, peer, 'p50'), (x) => x < 1, ratio);
      judge('p99 faster', subject, median(mine, peer, 'p99'), (x) => x < 1, ratio);
    }
    // A run of the udp tools alone says nothing about TCP, and the other way round.
    if (measured(TCP_FLOOR_PAIR[0])) {
      const [mine, floor] = TCP_FLOOR_PAIR;
      judge(`p50 ≤ ${TARGETS.tcpFloorP50} × TCP floor`, `${pathName}: ${mine} / ${floor}`, median(mine, floor, 'p50'), (x) => x <= TARGETS.tcpFloorP50, ratio);
    }
    for (const [mine, peer] of TCP_FASTER.filter(([m]) => measured(m))) {
      const subject = `${pathName}: ${mine} / ${peer}`;
      const skipped = tools?.[peer]?.skipped;
      if (skipped) verdicts.push({ target: 'p50 faster', subject, value: null, shown: 'n/a', met: null, why: skipped });
      else judge('p50 faster', subject, median(mine, peer, 'p50'), (x) => x < 1, ratio);
    }
  }

  if (!report.rate?.length) notRun('rate mode accuracy', 'the rate section did not run');
  for (const entry of (report.rate ?? []).filter((e) => e.target <= TARGETS.rateUpTo)) {
    const subject = `rate mode, ${entry.target}/s`;
    judge(
      `achieved rate within ${TARGETS.rateAccuracy * 100} % of target`,
      subject,
      entry.accuracy,
      (x) => Math.abs(x - 1) <= TARGETS.rateAccuracy + 1e-12, // 1 - 0.999 is 0.0010000000000000009 in binary
      (x) => x.toFixed(4),
    );
    judge(`send.error p99 < ${micro(TARGETS.sendErrorP99Ns)}`, subject, entry.sendErrorP99, (x) => x < TARGETS.sendErrorP99Ns, micro);
    if (entry.realtime) {
      judge(
        `send.error p99 < ${micro(TARGETS.sendErrorP99Ns)}`,
        `${subject}, SCHED_FIFO, RT throttling off`,
        entry.realtime.sendErrorP99,
        (x) => x < TARGETS.sendErrorP99Ns,
        micro,
      );
    }
  }

  judge(
    `event-loop delay p99 < ${TARGETS.eventLoopDelayP99Ns / 1e6} ms`,
    'library session spinning on another core',
    report.eventLoopDelayP99Ns,
    (x) => x < TARGETS.eventLoopDelayP99Ns,
    (x) => `${(x / 1e6).toFixed(2)} ms`,
  );
  const soak = report.soak;
  if (soak && soak.probes < TARGETS.soakProbes) {
    verdicts.push({
      target: `RSS growth ≤ ${TARGETS.soakGrowthBytes / MiB} MiB`,
      subject: `${TARGETS.soakProbes} probes`,
      value: soak.growthBytes,
      shown: `${(soak.growthBytes / MiB).toFixed(1)} MiB`,
      met: null,
      why: `the soak ran ${soak.probes} probes, not ${TARGETS.soakProbes}`,
    });
  } else {
    judge(
      `RSS growth ≤ ${TARGETS.soakGrowthBytes / MiB} MiB`,
      `${TARGETS.soakProbes} probes`,
      soak?.growthBytes,
      (x) => x <= TARGETS.soakGrowthBytes,
      (x) => `${(x / MiB).toFixed(1)} MiB`,
    );
  }
  judge(`addon load < ${TARGETS.addonLoadMs} ms`, 'require() of the addon', report.startup?.addonLoadMs, (x) => x < TARGETS.addonLoadMs, (x) => `${x.toFixed(2)} ms`);
  return verdicts;
}

/** The verdicts as a markdown section: a table, then a count of what holds. */
export function targetsMarkdown(verdicts) {
  const holds = (v) => (v.met === null ? `not judged: ${v.why}` : v.met ? 'yes' : 'NO');
  const judged = verdicts.filter((v) => v.met !== null);
  return [
    '### targets, judged from this run (medians over rounds)',
    '',
    '| target | subject | this run | holds |',
    '|---|---|---|---|',
    ...verdicts.map((v) => `| ${v.target} | ${v.subject} | ${v.shown} | ${holds(v)} |`),
    '',
    `${judged.filter((v) => v.met).length} of ${judged.length} judged targets hold; ${verdicts.length - judged.length} not judged.`,
  ];
}
