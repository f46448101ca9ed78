/**
 * bench/README.md's figures are generated from one benchmark run's JSON
 * report (bench/run.mjs writes it to bench/out/), never copied by hand.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { END, START, renderReport, replaceSection } from '../bench/report.mjs';

const spread = (median: number, min = median, max = median) => ({ median, min, max, rounds: 3 });

/** A small report in the shape bench/run.mjs writes: one path, one rate, every other section. */
function fixture() {
  return {
    settings: { rounds: 3, count: 100000, seconds: 2 },
    startedAt: '2030-01-02T03:04:05.000Z',
    host: { kernel: '6.1.0', cpus: 2, node: 'v20.20.2', clocksource: 'tsc' },
    paths: {
      loopback: {
        tools: {
          'floor + kernel stamps (C)': { p50: spread(3370, 3300, 3400), p99: spread(4100), p999: spread(9000), roundTripsPerSecond: spread(287352) },
          'rtt-probe CLI': { p50: spread(3360), p99: spread(4110), p999: spread(9100), roundTripsPerSecond: spread(283761) },
          irtt: { skipped: 'irtt is not installed' },
        },
        ratios: {
          'rtt-probe CLI / floor + kernel stamps (C)': { p50: spread(1.007, 0.908, 1.055), p99: spread(1.004), roundTripsPerSecond: spread(0.985) },
        },
      },
    },
    rate: [
      {
        target: 10000, accuracy: 1, sendErrorP50: 110, sendErrorP99: 6200, sendErrorP99Rounds: [200, 6200, 12100], sent: 60000, lost: 0,
        floor: { sendErrorP50: 60, sendErrorP99: 170, sendErrorP99Rounds: [120, 170, 23400] },
        realtime: null,
      },
    ],
    highestSustainedRate: 300000,
    settingsEffects: [{ setting: 'not pinned', p50: 3380, p99: 4180, roundTripsPerSecond: 285796, p50VsDefault: 1.006, roundTripsVsDefault: 0.996 }],
    statusLine: { without: { p50: 3360, p99: 4110 }, with: { p50: 3370, p99: 4120, p50VsWithout: 1.003 } },
    startup: { addonLoadMs: 1.07, versionMs: 73, nodeBareMs: 53 },
    clock: { realtimeNs: 16.1, tscNs: 8.2, rdtscpNs: 7.5 },
    eventLoopDelayP99Ns: 1_100_000,
    soak: { probes: 10_000_000, afterWarmup: 49.3 * 2 ** 20, max: 49.5 * 2 ** 20, end: 47.9 * 2 ** 20, growthBytes: -1.4 * 2 ** 20, received: 10_000_000 },
    instructionsPerRoundTrip: { floor: 515, rttProbe: 1428 },
  };
}

describe('the benchmark report as Markdown', () => {
  it('shows each tool and ratio with the median and range over rounds, and skipped tools with the reason', () => {
    const md = renderReport(fixture(), 'bench/out/bench-2030.json');
    expect(md).toContain('## Figures of the run of 2030-01-02T03:04:05.000Z');
    expect(md).toContain('From `bench/out/bench-2030.json`: 2 CPUs, kernel 6.1.0');
    expect(md).toContain('| floor + kernel stamps (C) | 3.37 (3.30–3.40) | 4.10 (4.10–4.10) | 9.00 (9.00–9.00) | 287352 |');
    expect(md).toContain('| irtt | skipped: irtt is not installed |');
    expect(md).toContain('| rtt-probe CLI / floor + kernel stamps (C) | 1.007 (0.908–1.055) | 1.004 (1.004–1.004) | 0.985 (0.985–0.985) |');
  });

  it('shows rate mode beside the C floor, the settings, and the process figures', () => {
    const md = renderReport(fixture(), 'x.json');
    expect(md).toContain('| 10000 | 1.0000 | 0.11 | 6.20 (0.20, 6.20, 12.10) | 0 | 0.06 | 0.17 (0.12, 0.17, 23.40) | not measured |');
    expect(md).toContain('300000 probes/s');
    expect(md).toContain('| not pinned | 3.38 | 4.18 | 285796 | 1.006 | 0.996 |');
    expect(md).toContain('| none | 3.36 | 4.11 | 1 |\n| status line (250 ms) | 3.37 | 4.12 | 1.003 |');
    expect(md).toContain('the addon loads in 1.07 ms');
    expect(md).toContain('RSS 49.3 MiB after warm-up, 49.5 MiB at most, 47.9 MiB at the end');
    expect(md).toContain('C floor 515, rtt-probe\'s session loop 1428');
  });

  it('judges the targets from the run when the report carries no verdicts', () => {
    const md = renderReport(fixture(), 'x.json');
    expect(md).toContain('| p50 ≤ 1.02 × floor | loopback: rtt-probe CLI / floor + kernel stamps (C) | 1.007 | yes |');
    expect(md).toContain('| send.error p99 < 2.00 µs | rate mode, 10000/s | 6.20 µs | NO |');
  });

  it('says which sections a partial run did not measure, rather than leaving them out silently', () => {
    const md = renderReport({ ...fixture(), paths: {}, rate: [], settingsEffects: [], statusLine: null, soak: undefined, instructionsPerRoundTrip: undefined }, 'x.json');
    expect(md).toContain('The comparison with the floor and the peers: not measured in this run.');
    expect(md).toContain('Rate mode: not measured in this run.');
    expect(md).toContain("The status line's cost: not measured in this run.");
    expect(md).toContain('Memory (soak): not measured in this run.');
  });

  it('names each section that failed and why, since the run goes on past it', () => {
    const md = renderReport({ ...fixture(), instructionsPerRoundTrip: undefined, failedSections: { instructions: 'callgrind counted nothing' } }, 'x.json');
    expect(md).toContain('Instructions per round trip: not measured in this run.');
    expect(md).toContain('Sections that failed in this run:\n\n- instructions: callgrind counted nothing\n');
  });

  it('replaces only the generated section of bench/README.md, which keeps its markers', () => {
    const readme = readFileSync(path.join(__dirname, '..', 'bench', 'README.md'), 'utf8');
    const section = renderReport(fixture(), 'x.json');
    const replaced = replaceSection(readme, section);
    expect(replaced.startsWith(readme.slice(0, readme.indexOf(START)))).toBe(true);
    expect(replaced).toContain('| not pinned | 3.38 |');
    expect(replaceSection(replaced, renderReport(null))).toBe(replaceSection(readme, renderReport(null)));
    expect(() => replaceSection(readme.replace(END, ''), section)).toThrow(/markers/);
  });
});
