/**
 * Verdicts in `rtt-probe caps`. What this VM lacks (cpufreq, cpuidle states,
 * a NIC with MSI interrupts, RPS, a NUMA node, isolated CPUs) is read from a
 * synthetic sysfs/procfs tree the report is pointed at; the ethtool ioctls
 * run for real on lo and on a veth pair and are checked against `ethtool`'s
 * own output; their verdicts are checked with synthetic readings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { caps, parseCpuList, parseCpuMask, parseInterrupts, sessionCaps, type InterfaceCaps } from '../src/caps';
import { CAPS_RULES, judgeCaps, summarize, worstVerdict, type CapsFacts } from '../src/caps-verdicts';
import { runCli } from './support/cli';
import { createVethPair, netnsUnavailable, removeLeftovers, type VethPair } from './support/netns';

/** Writes files (path relative to root: contents) and symlinks (path: '-> target'). */
function tree(root: string, files: Record<string, string>): void {
  for (const [name, contents] of Object.entries(files)) {
    const file = path.join(root, name);
    mkdirSync(path.dirname(file), { recursive: true });
    if (contents.startsWith('-> ')) symlinkSync(contents.slice(3), file);
    else writeFileSync(file, `${contents}\n`);
  }
}

const cpu1 = 'sys/devices/system/cpu/cpu1';
const nic = 'sys/class/net/lo';

/** A 4-CPU, 2-node host with cpufreq, deep idle states, SMT, a NIC on node 1 with two MSI vectors, one of them on cpu1. */
const HOST: Record<string, string> = {
  'proc/cmdline': 'root=/dev/sda1 isolcpus=managed_irq,domain,1 rcu_nocbs=1-3 quiet',
  'proc/self/status': 'Name:\tnode\nCpus_allowed_list:\t0-3\n',
  'proc/interrupts': [
    '           CPU0       CPU1       CPU2       CPU3',
    '  0:         10          0          0          0   IO-APIC   2-edge      timer',
    ' 40:          0       1234          0          0   PCI-MSIX-0000:3b:00.0   0-edge      lo-TxRx-0',
    ' 41:        999          0          0          0   PCI-MSIX-0000:3b:00.0   1-edge      lo-TxRx-1',
    'LOC:        100        100        100        100   Local timer interrupts',
  ].join('\n'),
  'proc/irq/0/smp_affinity_list': '0-3',
  'proc/irq/0/effective_affinity_list': '0',
  'proc/irq/40/smp_affinity_list': '0-3',
  'proc/irq/40/effective_affinity_list': '1',
  'proc/irq/41/smp_affinity_list': '0',
  'proc/sys/kernel/sched_rt_runtime_us': '950000',
  'proc/sys/kernel/sched_rt_period_us': '1000000',
  'sys/devices/system/cpu/possible': '0-3',
  'sys/devices/system/cpu/smt/control': 'on',
  'sys/devices/system/cpu/smt/active': '1',
  [`${cpu1}/node0`]: '-> ../../node/node0',
  [`${cpu1}/cpufreq/scaling_governor`]: 'powersave',
  [`${cpu1}/cpufreq/scaling_cur_freq`]: '800000',
  [`${cpu1}/cpufreq/scaling_min_freq`]: '800000',
  [`${cpu1}/cpufreq/scaling_max_freq`]: '3500000',
  [`${cpu1}/cpufreq/cpuinfo_max_freq`]: '3500000',
  [`${cpu1}/topology/thread_siblings_list`]: '1,3',
  [`${cpu1}/cpuidle/state0/name`]: 'POLL',
  [`${cpu1}/cpuidle/state0/latency`]: '0',
  [`${cpu1}/cpuidle/state0/disable`]: '0',
  [`${cpu1}/cpuidle/state1/name`]: 'C1E',
  [`${cpu1}/cpuidle/state1/latency`]: '10',
  [`${cpu1}/cpuidle/state1/disable`]: '0',
  [`${cpu1}/cpuidle/state2/name`]: 'C6',
  [`${cpu1}/cpuidle/state2/latency`]: '133',
  [`${cpu1}/cpuidle/state2/disable`]: '0',
  'sys/devices/system/cpu/cpu2/topology/thread_siblings_list': '2',
  'sys/devices/system/cpu/cpu2/cpufreq/scaling_governor': 'performance',
  'sys/devices/system/cpu/cpu2/cpuidle/state0/name': 'POLL',
  'sys/devices/system/cpu/cpu2/cpuidle/state0/latency': '0',
  'sys/devices/system/cpu/cpu2/cpuidle/state0/disable': '0',
  'sys/devices/system/cpu/cpu2/cpuidle/state1/name': 'C6',
  'sys/devices/system/cpu/cpu2/cpuidle/state1/latency': '133',
  'sys/devices/system/cpu/cpu2/cpuidle/state1/disable': '1',
  'sys/kernel/mm/transparent_hugepage/enabled': '[always] madvise never',
  [`${nic}/mtu`]: '9000',
  [`${nic}/device/numa_node`]: '1',
  [`${nic}/device/msi_irqs/40`]: 'msix',
  [`${nic}/device/msi_irqs/41`]: 'msix',
  [`${nic}/queues/rx-0/rps_cpus`]: '00000000,00000004',
  [`${nic}/queues/rx-1/rps_cpus`]: '0',
  [`${nic}/queues/tx-0/xps_cpus`]: '3',
};

describe('caps read from a synthetic sysfs and procfs', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'rttp-caps-'));
    tree(root, HOST);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const at = () => ({ sys: path.join(root, 'sys'), proc: path.join(root, 'proc') });

  it('reads the CPU a session would use: frequency, sibling, idle states, interrupts, isolation and node', () => {
    const report = caps({ root: at(), interfaces: ['lo'], cpus: [1] });
    expect(report.cpus).toEqual([
      {
        cpu: 1,
        numaNode: 0,
        cpufreq: { governor: 'powersave', curKHz: 800_000, minKHz: 800_000, maxKHz: 3_500_000, hardwareMaxKHz: 3_500_000 },
        cpufreqError: null,
        siblings: [3],
        siblingsError: null,
        idleStates: [
          { name: 'POLL', exitLatencyUs: 0, disabled: false },
          { name: 'C1E', exitLatencyUs: 10, disabled: false },
          { name: 'C6', exitLatencyUs: 133, disabled: false },
        ],
        idleStatesError: null,
        irqs: [{ irq: 40, name: 'lo-TxRx-0' }],
        irqsError: null,
        isolated: true,
        nohzFull: false,
        rcuNocbs: true,
      },
    ]);
    expect(report.host).toMatchObject({ rcuNocbs: '1-3', smt: { control: 'on', active: true }, transparentHugepages: 'always' });
  });

  it("reads the interface's MTU, NUMA node, queue interrupts with their CPUs, and RPS/XPS masks", () => {
    const [lo] = caps({ root: at(), interfaces: ['lo'], cpus: [1] }).interfaces;
    expect(lo).toMatchObject({
      mtu: 9000,
      numaNode: 1,
      irqs: [
        { irq: 40, name: 'lo-TxRx-0', cpus: [1], cpusError: null },
        { irq: 41, name: 'lo-TxRx-1', cpus: [0], cpusError: null },
      ],
      rps: [
        { queue: 'rx-0', cpus: [2] },
        { queue: 'rx-1', cpus: [] },
      ],
      xps: [{ queue: 'tx-0', cpus: [0, 1] }],
    });
  });

  it('gives each setting a verdict with its reason and the command that fixes it', () => {
    const report = caps({ root: at(), interfaces: ['lo'], cpus: [1, 2] });
    // The CPUs of this host (os.cpus()) that the session leaves free take the interrupts.
    const others = Array.from({ length: os.cpus().length }, (_, c) => c).filter((c) => c !== 1 && c !== 2).join(',') || 'CPUS_THE_SESSION_LEAVES_FREE';
    const finding = (rule: string, subject: string) => report.verdicts.find((f) => f.rule === rule && f.subject === subject);
    expect(finding('cpufreq-governor', 'cpu1')).toMatchObject({ verdict: 'warn', value: 'powersave, 800 MHz (max 3500 MHz)', fix: 'cpupower -c 1 frequency-set -g performance' });
    expect(finding('cpufreq-governor', 'cpu2')).toMatchObject({ verdict: 'ok', fix: null });
    expect(finding('smt-sibling', 'cpu1')).toMatchObject({ verdict: 'warn', value: 'sibling cpu 3' });
    expect(finding('smt-sibling', 'cpu2')).toMatchObject({ verdict: 'ok', value: 'no sibling' });
    expect(finding('idle-states', 'cpu1')).toMatchObject({ verdict: 'fail', value: 'POLL 0 µs, C1E 10 µs, C6 133 µs', fix: 'cpupower -c 1 idle-set -D 2' });
    // A disabled deep state is never entered.
    expect(finding('idle-states', 'cpu2')).toMatchObject({ verdict: 'ok', value: 'POLL 0 µs' });
    expect(finding('cpu-irqs', 'cpu1')).toMatchObject({ verdict: 'warn', value: '40 lo-TxRx-0' });
    expect(finding('isolcpus', 'cpu1')!.verdict).toBe('ok');
    expect(finding('isolcpus', 'cpu2')!.verdict).toBe('warn');
    expect(finding('nohz-full', 'cpu1')).toMatchObject({ verdict: 'warn', fix: expect.stringMatching(/^add nohz_full=1 to the kernel command line/) });
    expect(finding('rcu-nocbs', 'cpu2')!.verdict).toBe('ok');
    expect(finding('nic-irqs', 'lo')).toMatchObject({ verdict: 'warn', value: 'IRQ 40 on cpu 1', fix: `echo ${others} > /proc/irq/40/smp_affinity_list` });
    expect(finding('rps', 'lo')).toMatchObject({ verdict: 'warn', value: 'rx-0 to cpu 2', fix: 'echo 0 > /sys/class/net/lo/queues/rx-0/rps_cpus' });
    expect(finding('numa', 'lo')).toMatchObject({ verdict: 'warn', value: 'NIC on node 1, cpu 1 elsewhere' });
    expect(finding('transparent-hugepages', 'host')).toMatchObject({ verdict: 'warn', fix: 'echo madvise > /sys/kernel/mm/transparent_hugepage/enabled' });
    expect(report.summary).toEqual(summarize(report.verdicts));
    expect(report.summary.worst).toBe('fail');
  });

  it('what cannot be read is unknown with its errno, never an exception', () => {
    // cpu3 has no directory at all in the tree: nothing of it is readable.
    const report = caps({ root: at(), interfaces: ['lo'], cpus: [3] });
    expect(report.cpus[0]).toMatchObject({ cpufreq: null, cpufreqError: 'ENOENT', siblings: null, siblingsError: 'ENOENT', idleStates: null, idleStatesError: 'ENOENT' });
    for (const rule of ['cpufreq-governor', 'smt-sibling', 'idle-states']) {
      expect(report.verdicts.find((f) => f.rule === rule)).toMatchObject({ subject: 'cpu3', verdict: 'unknown', error: 'ENOENT', fix: null });
    }
    const empty = mkdtempSync(path.join(os.tmpdir(), 'rttp-caps-empty-'));
    try {
      const bare = caps({ root: { sys: path.join(empty, 'sys'), proc: path.join(empty, 'proc') }, interfaces: ['lo'], cpus: [0] });
      expect(bare.host).toMatchObject({ smt: null, smtError: 'ENOENT', transparentHugepages: null, transparentHugepagesError: 'ENOENT' });
      expect(bare.cpus[0]!.irqsError).toBe('ENOENT');
      expect(bare.interfaces[0]).toMatchObject({ mtu: null, mtuError: 'ENOENT', irqs: [], rps: [], xps: [] });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('reports every CPU this process may run on unless given CPUs, and refuses a CPU the host lacks', () => {
    expect(caps({ root: at(), interfaces: [] }).cpus.map((c) => c.cpu)).toEqual([0, 1, 2, 3]);
    expect(() => caps({ root: at(), interfaces: [], cpus: [7] })).toThrow(/no CPU 7 on this host \(CPUs 0-3\)/);
  });
});

/** An interface with every ethtool reading given, as a NIC that has them would report. */
function nicFacts(overrides: Partial<InterfaceCaps>): CapsFacts {
  const base: InterfaceCaps = {
    interface: 'eth0', soTimestamping: [], hardwareCapable: false, phcIndex: null, phc: null, txTypes: [], rxFilters: [],
    tsInfoError: null, hwtstamp: null, hwtstampError: 'EOPNOTSUPP',
    driver: { driver: 'ice', firmware: '4.40', bus: '0000:3b:00.0' }, driverError: null,
    link: { speedMbps: 25_000, duplex: 'full' }, linkError: null,
    coalesce: { rxUsecs: 0, txUsecs: 0, adaptiveRx: false, adaptiveTx: false }, coalesceError: null,
    rings: { rx: 1024, rxMax: 8160, tx: 1024, txMax: 8160 }, ringsError: null,
    gro: false, groError: null, lro: false, lroError: null,
    mtu: 1500, mtuError: null, numaNode: null, irqs: [], rps: [], xps: [],
  };
    // A host whose own rules pass, so only the interface's verdicts count.
  const host = { cpus: 4, clocksource: 'tsc', transparentHugepages: 'madvise', transparentHugepagesError: null } as CapsFacts['host'];
  return { host, cpus: [], interfaces: [{ ...base, ...overrides }] };
}

function verdictOf(rule: string, overrides: Partial<InterfaceCaps>) {
  const f = judgeCaps(nicFacts(overrides)).find((x) => x.rule === rule && x.subject === 'eth0')!;
  return { verdict: f.verdict, value: f.value, fix: f.fix };
}

describe('the verdicts on ethtool readings', () => {
  it('interrupt coalescing: none is ok, a few µs warn, adaptive or long fail, with the ethtool -C that turns it off', () => {
    const rx = (rxUsecs: number, adaptiveRx: boolean) => verdictOf('coalesce-rx', { coalesce: { rxUsecs, txUsecs: 0, adaptiveRx, adaptiveTx: false } });
    expect(rx(0, false)).toEqual({ verdict: 'ok', value: 'adaptive-rx off, rx-usecs 0', fix: null });
    expect(rx(8, false).verdict).toBe('warn');
    expect(rx(9, false).verdict).toBe('fail');
    expect(rx(0, true)).toEqual({ verdict: 'fail', value: 'adaptive-rx on, rx-usecs 0', fix: 'ethtool -C eth0 adaptive-rx off rx-usecs 0' });
    expect(verdictOf('coalesce-tx', { coalesce: { rxUsecs: 0, txUsecs: 64, adaptiveRx: false, adaptiveTx: true } })).toEqual({
      verdict: 'warn',
      value: 'adaptive-tx on, tx-usecs 64',
      fix: 'ethtool -C eth0 adaptive-tx off tx-usecs 0',
    });
  });

  it('GRO on warns, LRO on fails; a half-duplex link fails; a small rx ring warns', () => {
    expect(verdictOf('gro', { gro: true })).toEqual({ verdict: 'warn', value: 'on', fix: 'ethtool -K eth0 gro off' });
    expect(verdictOf('lro', { lro: true })).toEqual({ verdict: 'fail', value: 'on', fix: 'ethtool -K eth0 lro off' });
    expect(verdictOf('duplex', { link: { speedMbps: 100, duplex: 'half' } }).verdict).toBe('fail');
    expect(verdictOf('duplex', { link: { speedMbps: null, duplex: 'unknown' } })).toMatchObject({ verdict: 'warn', value: 'speed unknown, unknown duplex' });
    expect(verdictOf('rx-ring', { rings: { rx: 64, rxMax: 4096, tx: 64, txMax: 4096 } })).toEqual({ verdict: 'warn', value: 'rx 64 of 4096, tx 64 of 4096', fix: 'ethtool -G eth0 rx 256' });
    // A NIC whose ring cannot grow is at its best.
    expect(verdictOf('rx-ring', { rings: { rx: 128, rxMax: 128, tx: 128, txMax: 128 } }).verdict).toBe('ok');
  });

  it('a reading the driver refused is unknown with its errno', () => {
    expect(judgeCaps(nicFacts({ coalesce: null, coalesceError: 'EOPNOTSUPP' })).find((f) => f.rule === 'coalesce-rx')).toMatchObject({
      verdict: 'unknown',
      error: 'EOPNOTSUPP',
      fix: null,
    });
  });

  it('worstVerdict is the worst of ok, warn and fail; unknown readings do not count', () => {
    expect(worstVerdict({ verdicts: judgeCaps(nicFacts({})) })).toBe('ok');
    expect(worstVerdict({ verdicts: judgeCaps(nicFacts({ gro: true })) })).toBe('warn');
    expect(worstVerdict({ verdicts: judgeCaps(nicFacts({ gro: true, lro: true })) })).toBe('fail');
    expect(summarize(judgeCaps(nicFacts({ gro: true, coalesce: null, coalesceError: 'EOPNOTSUPP' })))).toMatchObject({ warn: 1, unknown: 2, worst: 'warn' });
  });

  it('every rule has its own id, what it reads, thresholds, a reason, and is documented in docs/hardware.md', () => {
    const ids = CAPS_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const doc = readFileSync(path.join(__dirname, '..', 'docs', 'hardware.md'), 'utf8');
    for (const r of CAPS_RULES) {
      expect(r.reads && r.thresholds && r.reason).toBeTruthy();
      expect(doc).toContain(`| \`${r.id}\` |`);
    }
  });
});

describe('the caps a probe result carries', () => {
  it("are those of the session's interface (by name, else by its local address) and its pinned CPU", () => {
    const byAddress = sessionCaps({ interface: '*', localAddress: '127.0.0.1', cpu: 0 })!;
    expect(byAddress.interfaces.map((i) => i.interface)).toEqual(['lo']);
    expect(byAddress.cpus.map((c) => c.cpu)).toEqual([0]);
    expect(byAddress.summary).toEqual(summarize(byAddress.verdicts));
    expect(sessionCaps({ interface: 'lo', localAddress: '198.18.0.1', cpu: null })!.interfaces.map((i) => i.interface)).toEqual(['lo']);
  });

  it('without a known interface they hold the host and CPUs only; a session unpinned gets every CPU it may run on', () => {
    const unknown = sessionCaps({ interface: 'gone0', localAddress: '198.18.0.1', cpu: null })!;
    expect(unknown.interfaces).toEqual([]);
    expect(unknown.cpus.map((c) => c.cpu)).toEqual(caps({ interfaces: [] }).cpus.map((c) => c.cpu));
  });
});

describe('parsing kernel lists', () => {
  it('cpulists, hex CPU masks and /proc/interrupts', () => {
    expect(parseCpuList('0-2,5,8-9')).toEqual([0, 1, 2, 5, 8, 9]);
    expect(parseCpuList('nohz,domain,2-3')).toEqual([2, 3]);
    expect(parseCpuMask('00000000,00000005')).toEqual([0, 2]);
    expect(parseCpuMask('1,00000000')).toEqual([32]);
    expect(parseCpuMask('0')).toEqual([]);
    expect(parseInterrupts(HOST['proc/interrupts']!)).toEqual([
      { irq: 0, name: 'timer' },
      { irq: 40, name: 'lo-TxRx-0' },
      { irq: 41, name: 'lo-TxRx-1' },
    ]);
  });
});

/** `ethtool -k IF`'s line for a feature: on or off. */
function ethtoolFeature(args: string[], feature: string): boolean {
  const out = execFileSync('ethtool', [...args], { encoding: 'utf8' });
  return new RegExp(`^${feature}: on`, 'm').test(out);
}

function ethtoolFails(args: string[]): string | null {
  try {
    execFileSync('ethtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return null;
  } catch (error) {
    return String((error as { stderr?: string }).stderr);
  }
}

const noEthtool = (() => {
  try {
    execFileSync('ethtool', ['--version']);
    return null;
  } catch {
    return 'needs ethtool (.ci/run installs it)';
  }
})();

describe.skipIf(noEthtool !== null)('the ethtool ioctls on lo, against ethtool', () => {
  it('lo: no driver info or coalescing (as ethtool -i and -c say), GRO and LRO as ethtool -k, MTU as sysfs', () => {
    const [lo] = caps({ interfaces: ['lo'], cpus: [0] }).interfaces;
    expect(ethtoolFails(['-i', 'lo'])).toMatch(/Operation not supported/);
    expect(lo).toMatchObject({ driver: null, driverError: 'EOPNOTSUPP' });
    expect(ethtoolFails(['-c', 'lo'])).toMatch(/Operation not supported/);
    expect(lo).toMatchObject({ coalesce: null, coalesceError: 'EOPNOTSUPP' });
    expect(lo!.gro).toBe(ethtoolFeature(['-k', 'lo'], 'generic-receive-offload'));
    expect(lo!.lro).toBe(ethtoolFeature(['-k', 'lo'], 'large-receive-offload'));
    expect(lo!.mtu).toBe(Number(readFileSync('/sys/class/net/lo/mtu', 'utf8')));
  });
});

describe.skipIf(netnsUnavailable() !== null || noEthtool !== null)('the ethtool ioctls on a veth pair, against ethtool', () => {
  let pair: VethPair;
  beforeAll(() => {
    removeLeftovers();
    pair = createVethPair('caps');
  });
  afterAll(() => pair?.remove());

  it('driver, link, offloads and MTU as ethtool and sysfs report them inside the namespace', async () => {
    const run = await runCli(['caps', '--interface', 'veth-rttp', '--cpu', '0', '--no-lab-features', '--json'], { netns: pair.a });
    expect(run.code, run.stderr).toBe(0);
    const veth = JSON.parse(run.stdout).interfaces[0];
    const inNs = (...args: string[]) => execFileSync('ip', ['netns', 'exec', pair.a, ...args], { encoding: 'utf8' });
    const info = inNs('ethtool', '-i', 'veth-rttp');
    expect(veth.driver).toEqual({
      driver: /^driver:[ \t]*(.*)$/m.exec(info)![1]!.trim(),
      firmware: /^firmware-version:[ \t]*(.*)$/m.exec(info)![1]!.trim(),
      bus: /^bus-info:[ \t]*(.*)$/m.exec(info)![1]!.trim(),
    });
    const link = inNs('ethtool', 'veth-rttp');
    expect(`${veth.link.speedMbps}Mb/s`).toBe(/Speed: (\S+)/.exec(link)![1]);
    expect(veth.link.duplex).toBe(/Duplex: (\S+)/.exec(link)![1]!.toLowerCase());
    const features = inNs('ethtool', '-k', 'veth-rttp');
    expect(veth.gro).toBe(/^generic-receive-offload: on/m.test(features));
    expect(veth.lro).toBe(/^large-receive-offload: on/m.test(features));
    expect(veth.mtu).toBe(Number(inNs('cat', '/sys/class/net/veth-rttp/mtu')));
    expect(veth.rps.map((q: { queue: string }) => q.queue)).toEqual(inNs('ls', '/sys/class/net/veth-rttp/queues').split(/\s+/).filter((q) => q.startsWith('rx-')));
  });
});
