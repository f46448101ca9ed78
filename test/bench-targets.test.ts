/**
 * The benchmark ends its report by judging the performance targets from the
 * run's own figures: each target, the figure measured, and whether it holds.
 */
import { describe, expect, it } from 'vitest';
import { TARGETS, judgeTargets, targetsMarkdown } from '../bench/lib/targets.mjs';
import type { BenchReport, RatioSpread, Verdict } from '../bench/lib/targets.mjs';

const spread = (median: number) => ({ median, min: median, max: median, rounds: 7 });
const ratio = (p50: number, p99: number, roundTripsPerSecond: number): RatioSpread => ({
  p50: spread(p50),
  p99: spread(p99),
  roundTripsPerSecond: spread(roundTripsPerSecond),
});

type FullReport = Required<BenchReport> & {
  paths: { loopback: { ratios: Record<string, RatioSpread>; kernelP50: Record<string, ReturnType<typeof spread>> } };
};

/** A full run on one path where every target holds; `change` edits it. */
function report(change: (r: FullReport) => void = () => {}): BenchReport {
  const r: FullReport = {
    paths: {
      loopback: {
        ratios: {
          'rtt-probe CLI / floor + kernel stamps (C)': ratio(1.01, 1.02, 0.99),
          'rtt-probe library / floor + kernel stamps (C)': ratio(1.01, 1.02, 0.99),
          'rtt-probe CLI --ts none / floor (C busy-poll)': ratio(1.015, 1.03, 0.985),
          'rtt-probe CLI --ts none / sockperf busy': ratio(0.95, 0.97, 1.05),
          'rtt-probe CLI / sockperf default': ratio(0.05, 0.04, 18),
          'rtt-probe CLI / irtt 10us': ratio(0.06, 0.04, 20),
          'rtt-probe CLI --proto tcp --ts none / tcp floor (C busy-poll)': ratio(1.04, 1.1, 0.96),
          'rtt-probe CLI --proto tcp / sockperf --tcp default': ratio(0.3, 0.2, 3),
          'rtt-probe CLI --proto tcp / netperf TCP_RR': ratio(0.4, 0.3, 2.5),
          'rtt-probe CLI --proto tcp --mode connect --ts none / netperf TCP_CRR': ratio(0.7, 0.6, 1.4),
          'rtt-probe CLI raw / floor (C busy-poll)': ratio(0.9, 0.95, 1.1),
        },
        kernelP50: { 'rtt-probe CLI': spread(3000), 'rtt-probe CLI raw': spread(3400), 'rtt-probe CLI raw, UDP reflector': spread(2700) },
      },
    },
    rate: [
      { target: 10_000, accuracy: 1, sendErrorP99: 180 },
      { target: 100_000, accuracy: 0.9995, sendErrorP99: 1500 },
      { target: 300_000, accuracy: 0.97, sendErrorP99: 250_000 },
    ],
    eventLoopDelayP99Ns: 1_100_000,
    soak: { probes: 10_000_000, growthBytes: -1_000_000 },
    startup: { addonLoadMs: 1.1 },
  };
  change(r);
  return r;
}

const find = (verdicts: Verdict[], target: string, subject: string) => {
  const v = verdicts.find((x) => x.target.startsWith(target) && x.subject.startsWith(subject));
  if (!v) throw new Error(`no verdict for ${target} / ${subject}`);
  return v;
};

describe('judging the performance targets from one benchmark run', () => {
  it('holds every target of a run that meets them, and only rates up to 100 000/s are held to the rate targets', () => {
    const verdicts = judgeTargets(report());
    expect(verdicts.filter((v) => v.met !== true)).toEqual([]);
    expect(verdicts.some((v) => v.subject.includes('300000'))).toBe(false);
    // 3 floor pairs x 3 + 2 against sockperf busy + raw below the floor + raw rtt.kernel agreement + 4 against the
    // slow peers, TCP: 1 against its floor + 3 p50 against peers, 2 rates x 2, event loop, memory, load
    expect(verdicts).toHaveLength(17 + 4 + 4 + 3);
  });

  it('holds default runs to the stamped floor and --ts none to the bare floor, at the issue thresholds', () => {
    const verdicts = judgeTargets(
      report((r) => {
        const ratios = r.paths.loopback.ratios;
        ratios['rtt-probe CLI / floor + kernel stamps (C)'] = ratio(TARGETS.floorP50, TARGETS.floorP99 + 0.001, 0.979);
        ratios['rtt-probe CLI --ts none / floor (C busy-poll)'] = ratio(1.021, TARGETS.floorP99, TARGETS.floorRoundTrips);
      }),
    );
    const stamped = 'loopback: rtt-probe CLI / floor + kernel stamps (C)';
    expect(find(verdicts, 'p50 ≤', stamped)).toMatchObject({ met: true, shown: '1.020' });
    expect(find(verdicts, 'p99 ≤', stamped)).toMatchObject({ met: false, shown: '1.101' });
    expect(find(verdicts, 'round trips/s', stamped)).toMatchObject({ met: false, shown: '0.979' });
    const bare = 'loopback: rtt-probe CLI --ts none / floor (C busy-poll)';
    expect(find(verdicts, 'p50 ≤', bare).met).toBe(false);
    expect(find(verdicts, 'p99 ≤', bare).met).toBe(true);
    expect(find(verdicts, 'round trips/s', bare).met).toBe(true);
    expect(find(verdicts, 'p50 ≤', 'loopback: rtt-probe library').met).toBe(true);
  });

  it('wants rtt-probe at least level with sockperf busy, and strictly faster than sockperf default and irtt', () => {
    const verdicts = judgeTargets(
      report((r) => {
        const ratios = r.paths.loopback.ratios;
        ratios['rtt-probe CLI --ts none / sockperf busy'] = ratio(1, 1.003, 1);
        ratios['rtt-probe CLI / irtt 10us'] = ratio(1, 0.5, 1);
      }),
    );
    expect(find(verdicts, 'p50 at least as fast', 'loopback').met).toBe(true);
    expect(find(verdicts, 'p99 at least as fast', 'loopback').met).toBe(false);
    expect(find(verdicts, 'p50 faster', 'loopback: rtt-probe CLI / irtt').met).toBe(false);
    expect(find(verdicts, 'p99 faster', 'loopback: rtt-probe CLI / irtt').met).toBe(true);
  });

  it('holds TCP --ts none to 1.05 × the TCP floor at p50, and rtt-probe ahead of sockperf --tcp default and netperf at p50', () => {
    const verdicts = judgeTargets(
      report((r) => {
        const ratios = r.paths.loopback.ratios;
        ratios['rtt-probe CLI --proto tcp --ts none / tcp floor (C busy-poll)'] = ratio(TARGETS.tcpFloorP50 + 0.001, 1, 1);
        ratios['rtt-probe CLI --proto tcp / netperf TCP_RR'] = ratio(1, 0.5, 1);
      }),
    );
    const floor = 'loopback: rtt-probe CLI --proto tcp --ts none / tcp floor (C busy-poll)';
    expect(find(verdicts, 'p50 ≤ 1.05 × TCP floor', floor)).toMatchObject({ met: false, shown: '1.051' });
    expect(find(verdicts, 'p50 faster', 'loopback: rtt-probe CLI --proto tcp / sockperf --tcp default').met).toBe(true);
    expect(find(verdicts, 'p50 faster', 'loopback: rtt-probe CLI --proto tcp / netperf TCP_RR').met).toBe(false);
    expect(find(verdicts, 'p50 faster', 'loopback: rtt-probe CLI --proto tcp --mode connect --ts none / netperf TCP_CRR').met).toBe(true);
  });

  it('leaves the netperf targets unjudged where netperf is absent, with the reason, and a run of the udp tools alone judges no TCP target', () => {
    const absent = "netperf: not in Debian's main archive (non-free); install it from source to add its rows";
    const withoutNetperf = judgeTargets(
      report((r) => {
        const loopback = r.paths.loopback as { ratios: Record<string, RatioSpread>; tools?: Record<string, { skipped?: string }> };
        delete loopback.ratios['rtt-probe CLI --proto tcp / netperf TCP_RR'];
        delete loopback.ratios['rtt-probe CLI --proto tcp --mode connect --ts none / netperf TCP_CRR'];
        loopback.tools = Object.fromEntries(
          ['rtt-probe CLI --proto tcp', 'rtt-probe CLI --proto tcp --ts none', 'rtt-probe CLI --proto tcp --mode connect --ts none'].map((t) => [t, {}]),
        );
        loopback.tools['netperf TCP_RR'] = { skipped: absent };
        loopback.tools['netperf TCP_CRR'] = { skipped: absent };
      }),
    );
    expect(find(withoutNetperf, 'p50 faster', 'loopback: rtt-probe CLI --proto tcp / netperf TCP_RR')).toMatchObject({ met: null, why: absent });
    expect(find(withoutNetperf, 'p50 faster', 'loopback: rtt-probe CLI --proto tcp --mode connect --ts none / netperf TCP_CRR').why).toBe(absent);
    expect(find(withoutNetperf, 'p50 ≤ 1.05 × TCP floor', 'loopback').met).toBe(true);

    const udpOnly = judgeTargets(
      report((r) => {
        (r.paths.loopback as { tools?: Record<string, object> }).tools = { 'rtt-probe CLI': {}, 'floor (C busy-poll)': {} };
      }),
    );
    expect(udpOnly.filter((v) => v.subject.includes('tcp'))).toEqual([]);
  });

  it('wants raw ping-pong below the UDP floor, and a raw sender agreeing with UDP on rtt.kernel p50 within 1 µs', () => {
    const held = judgeTargets(report());
    expect(find(held, 'rtt.kernel p50 within 1.00 µs', 'loopback: rtt-probe CLI raw, UDP reflector')).toMatchObject({ met: true, shown: '0.30 µs' });
    const verdicts = judgeTargets(
      report((r) => {
        r.paths.loopback.ratios['rtt-probe CLI raw / floor (C busy-poll)'] = ratio(1, 0.9, 1);
        r.paths.loopback.kernelP50['rtt-probe CLI raw, UDP reflector'] = spread(4001);
      }),
    );
    expect(find(verdicts, 'p50 below the UDP floor', 'loopback: rtt-probe CLI raw')).toMatchObject({ met: false, shown: '1.000' });
    expect(find(verdicts, 'rtt.kernel p50 within 1.00 µs', 'loopback: rtt-probe CLI raw, UDP reflector')).toMatchObject({ met: false, shown: '1.00 µs' });
  });

  it('fails a rate that drifts more than 0.1 % either way, or a send.error p99 of 2 µs or more', () => {
    const verdicts = judgeTargets(
      report((r) => {
        r.rate[0] = { target: 10_000, accuracy: 1.0011, sendErrorP99: 2000 };
        r.rate[1] = { target: 100_000, accuracy: 0.999, sendErrorP99: 1999, realtime: { sendErrorP99: 2500 } };
      }),
    );
    expect(find(verdicts, 'achieved rate', 'rate mode, 10000/s')).toMatchObject({ met: false, shown: '1.0011' });
    expect(find(verdicts, 'send.error p99', 'rate mode, 10000/s')).toMatchObject({ met: false, shown: '2.00 µs' });
    expect(find(verdicts, 'achieved rate', 'rate mode, 100000/s').met).toBe(true);
    expect(find(verdicts, 'send.error p99', 'rate mode, 100000/s').met).toBe(true);
    expect(find(verdicts, 'send.error p99', 'rate mode, 100000/s, SCHED_FIFO')).toMatchObject({ met: false, shown: '2.50 µs' });
  });

  it('fails an event loop, memory or load over its bound', () => {
    const verdicts = judgeTargets(
      report((r) => {
        r.eventLoopDelayP99Ns = 2_000_000;
        r.soak.growthBytes = 5 * 2 ** 20;
        r.startup.addonLoadMs = 25;
      }),
    );
    expect(find(verdicts, 'event-loop delay', '')).toMatchObject({ met: false, shown: '2.00 ms' });
    expect(find(verdicts, 'RSS growth', '')).toMatchObject({ met: false, shown: '5.0 MiB' });
    expect(find(verdicts, 'addon load', '')).toMatchObject({ met: false, shown: '25.00 ms' });
  });

  it('does not judge what the run did not measure, and says why', () => {
    const verdicts = judgeTargets(
      report((r) => {
        delete r.paths.loopback.ratios['rtt-probe CLI / irtt 10us'];
        r.soak.probes = 200_000;
        delete r.startup.addonLoadMs;
      }),
    );
    expect(find(verdicts, 'p50 faster', 'loopback: rtt-probe CLI / irtt')).toMatchObject({ met: null, why: 'not measured in this run' });
    expect(find(verdicts, 'RSS growth', '').met).toBeNull();
    expect(find(verdicts, 'RSS growth', '').why).toMatch(/ran 200000 probes, not 10000000/);
    expect(find(verdicts, 'addon load', '').met).toBeNull();

    const sectionsSkipped = judgeTargets({ paths: {}, rate: [], startup: {} });
    expect(sectionsSkipped.filter((v) => v.met !== null)).toEqual([]);
    expect(sectionsSkipped.map((v) => v.why)).toEqual(
      expect.arrayContaining(['the compare section did not run', 'the rate section did not run']),
    );
  });

  it('prints a table with the figure of each target and a count of those that hold', () => {
    const verdicts = judgeTargets(report((r) => (r.rate[1].sendErrorP99 = 13_590)));
    const text = targetsMarkdown(verdicts).join('\n');
    expect(text).toContain('| send.error p99 < 2.00 µs | rate mode, 100000/s | 13.59 µs | NO |');
    expect(text).toContain('| p50 ≤ 1.02 × floor | loopback: rtt-probe CLI / floor + kernel stamps (C) | 1.010 | yes |');
    expect(text).toContain(`${verdicts.length - 1} of ${verdicts.length} judged targets hold; 0 not judged.`);
  });
});
