/**
 * `rtt-probe caps`: what this host can do for latency measurement. Every
 * Linux host has lo, whose driver stamps in software and has no hardware
 * timestamping config to report; the host section reads the clock, busy
 * polling, cpuidle and CPU-isolation settings. The interface decoding of
 * NICs this host lacks is checked with synthetic structs in
 * test/native/core_test.cpp.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { cpuFlags, parseCmdline, parseCpuList, rtThrottlingStallUs } from '../src/caps';
import { OptionRangeError, caps } from '../src/index';
import { FEATURES } from '../src/lab/features';
import { runCli } from './support/cli';

describe('rtt-probe caps --json', () => {
  it('reports the host and every interface, lo with software timestamping and no hardware config', async () => {
    const run = await runCli(['caps', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout);
    expect(Object.keys(report)).toEqual(['schemaVersion', 'kind', 'host', 'cpus', 'interfaces', 'verdicts', 'summary']);
    expect(report).toMatchObject({ schemaVersion: 1, kind: 'rtt-probe-caps' });
    expect(Object.keys(report.host).sort()).toEqual(
      [
        'kernel', 'cpus', 'clocksource', 'availableClocksources', 'constantTsc', 'nonstopTsc', 'invariantTsc', 'clock',
        'busyPoll', 'busyRead', 'cpuidle', 'rtThrottling', 'isolcpus', 'nohzFull', 'rcuNocbs', 'smt', 'smtError',
        'transparentHugepages', 'transparentHugepagesError', 'features', 'featuresUnavailable',
      ].sort(),
    );
    // Without --cpu: every CPU this process may run on.
    const allowed = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
    expect(report.cpus.map((c: { cpu: number }) => c.cpu)).toEqual(parseCpuList(allowed));
    expect(report.host.cpus).toBeGreaterThan(0);
    // Read from /proc/sys/kernel as it is now.
    const runtime = Number(readFileSync('/proc/sys/kernel/sched_rt_runtime_us', 'utf8'));
    expect(report.host.rtThrottling).toEqual({ runtimeUs: runtime, periodUs: Number(readFileSync('/proc/sys/kernel/sched_rt_period_us', 'utf8')) });
    expect(report.host.invariantTsc).toBe(report.host.constantTsc && report.host.nonstopTsc);
    // The core decides (the same check a session makes); it agrees with what caps reads itself.
    const tsc = report.host.clocksource === 'tsc' && report.host.invariantTsc;
    expect(report.host.clock).toEqual(tsc ? { auto: 'tsc', tscUnavailable: null } : { auto: 'realtime', tscUnavailable: expect.any(String) });
    // The lab's own detection: every feature with null (available) or why not, or why it was not run.
    if (report.host.features) expect(Object.keys(report.host.features)).toEqual([...FEATURES]);
    else expect(report.host.featuresUnavailable).toMatch(/needs root/);

    const lo = report.interfaces.find((i: { interface: string }) => i.interface === 'lo');
    // Each reading the addon makes (and the sysfs ones caps adds), with an errno beside each ethtool one.
    expect(Object.keys(lo).sort()).toEqual(
      [
        'interface', 'soTimestamping', 'hardwareCapable', 'phcIndex', 'phc', 'txTypes', 'rxFilters', 'tsInfoError', 'hwtstamp', 'hwtstampError',
        'driver', 'driverError', 'link', 'linkError', 'coalesce', 'coalesceError', 'rings', 'ringsError', 'gro', 'groError', 'lro', 'lroError',
        'mtu', 'mtuError', 'numaNode', 'irqs', 'rps', 'xps',
      ].sort(),
    );
    expect(Object.keys(report.cpus[0]).sort()).toEqual(
      [
        'cpu', 'numaNode', 'cpufreq', 'cpufreqError', 'siblings', 'siblingsError', 'idleStates', 'idleStatesError', 'irqs', 'irqsError',
        'isolated', 'nohzFull', 'rcuNocbs',
      ].sort(),
    );
    expect(lo).toMatchObject({
      interface: 'lo',
      soTimestamping: ['tx-software', 'rx-software', 'software'],
      hardwareCapable: false,
      phcIndex: null,
      phc: null,
      txTypes: [],
      rxFilters: [],
      tsInfoError: null,
      hwtstamp: null,
      hwtstampError: 'EOPNOTSUPP',
    });
  });

  it('--interface limits the report to the named interfaces', async () => {
    const run = await runCli(['caps', '--interface', 'lo', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).interfaces.map((i: { interface: string }) => i.interface)).toEqual(['lo']);
  });

  it('an interface this host lacks exits 2, saying how to list them', async () => {
    const run = await runCli(['caps', '--interface', 'nosuch0']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^rtt-probe: no interface named nosuch0 on this host.*`ip link` lists them \(here: lo\b/);
  });
});

describe('rtt-probe caps', () => {
  it('prints the host settings, then each interface as a list', async () => {
    const run = await runCli(['caps', '--interface', 'lo']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^host\n {2}kernel +\S+\n {2}cpus +\d+\n {2}clocksource /);
    expect(run.stdout).toMatch(/^ {2}invariant TSC +(yes|no) \(constant_tsc (yes|no), nonstop_tsc (yes|no)\)$/m);
    expect(run.stdout).toMatch(/^ {2}user clock +(tsc \(--clock auto reads the TSC\)|realtime \(--clock auto reads the vDSO: .+\))$/m);
    expect(run.stdout).toMatch(/^ {2}busy polling +net\.core\.busy_poll \d+ µs, net\.core\.busy_read \d+ µs/m);
    expect(run.stdout).toMatch(/^ {2}rt throttling +(sched_rt_runtime_us \d+ of \d+: a busy-polling --rt-priority thread is stopped for [\d.]+ ms every [\d.]+ s|off \(sched_rt_runtime_us -1\): .+)$/m);
    expect(run.stdout).toMatch(/^interfaces\nlo\n {2}timestamping +tx-software rx-software software\n {2}hardware +no: software stamps only$/m);
    expect(run.stdout).toMatch(/^ {2}PTP clock +none$/m);
    expect(run.stdout).toMatch(/^ {2}hwtstamp +not reported \(EOPNOTSUPP: /m);
  });

  it('shows each reading, an errno where the kernel refused it, then the verdicts with fixes and a summary line', async () => {
    const run = await runCli(['caps', '--interface', 'lo', '--cpu', '0', '--no-lab-features']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^cpus\ncpu0\n {2}numa node +(none|\d+)\n {2}cpufreq +/m);
    expect(run.stdout).toMatch(/^ {2}driver +unknown \(EOPNOTSUPP\)$/m);
    expect(run.stdout).toMatch(/^ {2}coalescing +unknown \(EOPNOTSUPP\)$/m);
    expect(run.stdout).toMatch(/^ {2}offloads +gro (on|off), lro (on|off)$/m);
    expect(run.stdout).toMatch(/^verdicts\n {2}(ok|warn|fail|unknown) +/m);
    expect(run.stdout).toMatch(/^ {2}unknown +lo coalesce-rx: not readable \(EOPNOTSUPP\)$/m);
    const json = JSON.parse((await runCli(['caps', '--interface', 'lo', '--cpu', '0', '--no-lab-features', '--json'])).stdout);
    const { ok, warn, fail, unknown, worst } = json.summary;
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(`caps: ${ok} ok, ${warn} warn, ${fail} fail, ${unknown} unknown; worst ${worst}`);
    expect(ok + warn + fail + unknown).toBe(json.verdicts.length);
  });

  it('--cpu takes a cpulist; anything else, or a CPU the host lacks, exits 2 saying what to give', async () => {
    const bad = await runCli(['caps', '--cpu', 'first']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/give CPU numbers as a cpulist, e\.g\. 3, 2-5 or 1,3,8-11/);
    const lacking = await runCli(['caps', '--cpu', '4095', '--no-lab-features']);
    expect(lacking.code).toBe(2);
    expect(lacking.stderr).toMatch(/no CPU 4095 on this host \(CPUs /);
  });
});

describe('rtt-probe caps and the lab features', () => {
  it('says that detecting them creates and deletes a scratch namespace, in the help and the report', async () => {
    const help = await runCli(['caps', '--help']);
    // Commander wraps the description to the terminal's width.
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(/detecting the lab features creates and deletes a scratch network namespace \(needs root/);
    const run = await runCli(['caps', '--interface', 'lo']);
    expect(run.stdout).toMatch(/^ {2}lab features +(.+ \(tried in a scratch network namespace, created and deleted again\)|not detected: needs root .*scratch namespace)$/m);
  });

  it('--no-lab-features leaves them out; the JSON keeps its shape and says why they are missing', async () => {
    const run = await runCli(['caps', '--interface', 'lo', '--no-lab-features', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).host).toMatchObject({ features: null, featuresUnavailable: 'not asked for (--no-lab-features)' });
  });
});

describe('caps() in the library', () => {
  it('only reads: the host and its interfaces, without the lab features (those come from src/lab)', () => {
    const report = caps({ interfaces: ['lo'] });
    expect(report.interfaces[0]!.soTimestamping).toContain('software');
    expect(report.host).not.toHaveProperty('features');
    expect(report.host).not.toHaveProperty('featuresUnavailable');
  });

  it('throws an OptionRangeError for an interface this host lacks', () => {
    expect(() => caps({ interfaces: ['lo', 'nosuch0'] })).toThrow(OptionRangeError);
    expect(() => caps({ interfaces: ['nosuch0'] })).toThrow(/`ip link` lists them/);
  });
});

describe('reading the host', () => {
  it('takes isolcpus, nohz_full and rcu_nocbs from the kernel command line', () => {
    expect(parseCmdline('BOOT_IMAGE=/vmlinuz root=/dev/sda1 isolcpus=nohz,domain,2-7 nohz_full=2-7 rcu_nocbs=2-7 quiet\n')).toEqual({
      isolcpus: 'nohz,domain,2-7',
      nohzFull: '2-7',
      rcuNocbs: '2-7',
    });
    expect(parseCmdline('root=/dev/vda ro')).toEqual({ isolcpus: null, nohzFull: null, rcuNocbs: null });
  });

  it('knows how long RT throttling stops a thread that never sleeps, and when it does not', () => {
    // The kernel's default: 950 ms of each second for real-time threads.
    expect(rtThrottlingStallUs({ runtimeUs: 950_000, periodUs: 1_000_000 })).toBe(50_000);
    expect(rtThrottlingStallUs({ runtimeUs: -1, periodUs: 1_000_000 })).toBeNull();
    expect(rtThrottlingStallUs({ runtimeUs: 1_000_000, periodUs: 1_000_000 })).toBeNull();
    expect(rtThrottlingStallUs(null)).toBeNull();
  });

  it("reads the first processor's flags from /proc/cpuinfo", () => {
    const flags = cpuFlags('processor\t: 0\nflags\t\t: fpu tsc constant_tsc nonstop_tsc rdtscp\n\nprocessor\t: 1\nflags\t\t: fpu\n');
    expect(flags.has('constant_tsc') && flags.has('nonstop_tsc')).toBe(true);
    expect(cpuFlags('processor : 0\nFeatures : fp asimd\n').size).toBe(0); // arm64 has no flags line
  });
});
