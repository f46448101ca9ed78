/**
 * Verdicts on a caps report for low-latency use: one table of rules, each
 * with its id, what it reads, its thresholds, why it matters and the command
 * that fixes it. A rule judges one subject (the host, each CPU a session
 * would use, each interface) `ok`, `warn` or `fail`; what could not be read
 * is `unknown` with its errno. `caps <= warn` in the rule grammar
 * (src/report/rules.ts) compares against worstVerdict().
 */
import type { CapsReadings, CpuCaps, HostCaps, InterfaceCaps } from './caps-types';

/** Verdicts of a host's capabilities, best first: `caps <= warn` holds for ok and warn. */
export const CAPS_VERDICTS = ['ok', 'warn', 'fail'] as const;
export type CapsVerdict = (typeof CAPS_VERDICTS)[number];
/** A finding's verdict: unknown where what the rule reads could not be read. */
export type FindingVerdict = CapsVerdict | 'unknown';

/** One rule applied to one subject. */
export interface CapsFinding {
  rule: string;
  /** `host`, `cpuN` or the interface's name. */
  subject: string;
  verdict: FindingVerdict;
  /** What was read, in words (`adaptive-rx on, rx-usecs 50`). */
  value: string;
  reason: string;
  /** The command that makes it ok; null when it is ok. */
  fix: string | null;
  /** The errno name that kept the reading from being made (unknown only). */
  error: string | null;
}

export interface CapsSummary {
  ok: number;
  warn: number;
  fail: number;
  unknown: number;
  /** The worst verdict of those read (ok where every finding is ok or unknown). */
  worst: CapsVerdict;
}

/** What the rules see: the report without its verdicts. */
export type CapsFacts = CapsReadings;

/** A rule's finding on one subject: a verdict with the value it judged, or why the value could not be read. */
export type Judgement = { verdict: CapsVerdict; value: string } | { error: string };

/** What a rule judges, by its scope. */
export interface CapsSubjects {
  host: HostCaps;
  cpu: CpuCaps;
  interface: InterfaceCaps;
}

export interface CapsRuleSpec<S extends keyof CapsSubjects = keyof CapsSubjects> {
  id: string;
  scope: S;
  /** Where the reading comes from. */
  reads: string;
  /** What is ok, warn and fail. */
  thresholds: string;
  /** Why it costs latency. */
  reason: string;
  judge(subject: CapsSubjects[S], facts: CapsFacts): Judgement;
  fix(subject: CapsSubjects[S], facts: CapsFacts): string;
}

/** A reading that is null with an errno beside it is unknown; otherwise judge it. */
function readOr<T>(value: T | null, error: string | null, judge: (v: T) => Judgement): Judgement {
  return value === null ? { error: error ?? 'ENODATA' } : judge(value);
}

const onOff = (b: boolean) => (b ? 'on' : 'off');
const list = (cpus: readonly number[]) => (cpus.length > 0 ? cpus.join(',') : 'none');
const COALESCE_FAIL_USECS = 8;
const RX_RING_MIN = 256;
const IDLE_EXIT_OK_US = 2;
const IDLE_EXIT_FAIL_US = 50;

/** The commands that move interrupt lines onto the CPUs the session leaves free (a placeholder where it uses them all). */
function moveIrqs(irqs: readonly number[], facts: CapsFacts): string {
  const session = facts.cpus.map((c) => c.cpu);
  const free = Array.from({ length: facts.host.cpus }, (_, cpu) => cpu).filter((cpu) => !session.includes(cpu));
  const to = free.length > 0 ? free.join(',') : 'CPUS_THE_SESSION_LEAVES_FREE';
  if (irqs.length === 1) return `echo ${to} > /proc/irq/${irqs[0]}/smp_affinity_list`;
  return `for irq in ${irqs.join(' ')}; do echo ${to} > /proc/irq/$irq/smp_affinity_list; done`;
}

function coalesce(direction: 'rx' | 'tx', failOver: number | null): CapsRuleSpec<'interface'> {
  const usecs = direction === 'rx' ? 'rxUsecs' : 'txUsecs';
  const adaptive = direction === 'rx' ? 'adaptiveRx' : 'adaptiveTx';
  return {
    id: `coalesce-${direction}`,
    scope: 'interface',
    reads: `ETHTOOL_GCOALESCE ${direction}-usecs, adaptive-${direction} (ethtool -c)`,
    thresholds:
      failOver === null
        ? `ok: ${direction}-usecs 0 and adaptive-${direction} off; warn: otherwise`
        : `ok: ${direction}-usecs 0 and adaptive-${direction} off; warn: ${direction}-usecs 1–${failOver}; fail: adaptive-${direction} on or ${direction}-usecs above ${failOver}`,
    reason:
      direction === 'rx'
        ? 'the NIC holds back the receive interrupt to batch packets: each reply waits up to rx-usecs (adaptive: as long as the driver likes)'
        : 'the NIC holds back the transmit-completion interrupt: TX timestamps and freed buffers wait up to tx-usecs',
    judge: (i) =>
      readOr(i.coalesce, i.coalesceError, (c) => {
        const value = `adaptive-${direction} ${onOff(c[adaptive])}, ${direction}-usecs ${c[usecs]}`;
        if (!c[adaptive] && c[usecs] === 0) return { verdict: 'ok', value };
        const bad = failOver !== null && (c[adaptive] || c[usecs] > failOver);
        return { verdict: bad ? 'fail' : 'warn', value };
      }),
    fix: (i) => `ethtool -C ${i.interface} adaptive-${direction} off ${direction}-usecs 0`,
  };
}

function offload(name: 'gro' | 'lro', bad: CapsVerdict, reason: string): CapsRuleSpec<'interface'> {
  return {
    id: name,
    scope: 'interface',
    reads: `${name === 'gro' ? 'ETHTOOL_GGRO' : 'ETHTOOL_GFLAGS (LRO)'} (ethtool -k: ${name === 'gro' ? 'generic' : 'large'}-receive-offload)`,
    thresholds: `ok: off; ${bad}: on`,
    reason,
    judge: (i) => readOr(i[name], i[`${name}Error`], (on) => ({ verdict: on ? bad : 'ok', value: onOff(on) })),
    fix: (i) => `ethtool -K ${i.interface} ${name} off`,
  };
}

function cmdlineCpus(key: 'isolcpus' | 'nohz_full' | 'rcu_nocbs', field: 'isolated' | 'nohzFull' | 'rcuNocbs', reason: string): CapsRuleSpec<'cpu'> {
  return {
    id: key.replace('_', '-'),
    scope: 'cpu',
    reads: `${key}= of /proc/cmdline`,
    thresholds: `ok: the CPU is in ${key}=; warn: it is not`,
    reason,
    judge: (c) => ({ verdict: c[field] ? 'ok' : 'warn', value: c[field] ? `cpu${c.cpu} in ${key}=` : `cpu${c.cpu} not in ${key}=` }),
    fix: (c) => `add ${key}=${c.cpu} to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub and reboot)`,
  };
}

/** A rule of any scope, as CAPS_RULES lists them. */
export type AnyCapsRule = CapsRuleSpec<'host'> | CapsRuleSpec<'cpu'> | CapsRuleSpec<'interface'>;

function rule<S extends keyof CapsSubjects>(spec: CapsRuleSpec<S>): CapsRuleSpec<S> {
  return spec;
}

/** Every verdict rule, in report order: interface, then CPU, then host rules. */
export const CAPS_RULES: readonly AnyCapsRule[] = [
  coalesce('rx', COALESCE_FAIL_USECS),
  coalesce('tx', null),
  offload('gro', 'warn', 'GRO holds received packets back to merge them with the next of their flow'),
  offload('lro', 'fail', 'LRO makes the NIC hold received packets back to merge them, and hides their own timestamps'),
  rule({
    id: 'rx-ring',
    scope: 'interface',
    reads: 'ETHTOOL_GRINGPARAM rx, rx max (ethtool -g)',
    thresholds: `ok: rx ring at least ${RX_RING_MIN} descriptors (or the maximum); warn: smaller`,
    reason: 'a small receive ring drops bursts, and a lost probe reads as a timeout',
    judge: (i) =>
      readOr(i.rings, i.ringsError, (r) => ({
        verdict: r.rx >= Math.min(RX_RING_MIN, r.rxMax) ? 'ok' : 'warn',
        value: `rx ${r.rx} of ${r.rxMax}, tx ${r.tx} of ${r.txMax}`,
      })),
    fix: (i) => `ethtool -G ${i.interface} rx ${Math.min(RX_RING_MIN, i.rings?.rxMax ?? RX_RING_MIN)}`,
  }),
  rule({
    id: 'duplex',
    scope: 'interface',
    reads: 'ETHTOOL_GSET speed, duplex (ethtool IF)',
    thresholds: 'ok: full duplex; warn: unknown (no link); fail: half duplex',
    reason: 'a half-duplex link waits for the medium (and collides); no link carries nothing',
    judge: (i) =>
      readOr(i.link, i.linkError, (l) => ({
        verdict: l.duplex === 'full' ? 'ok' : l.duplex === 'half' ? 'fail' : 'warn',
        value: `${l.speedMbps === null ? 'speed unknown' : `${l.speedMbps} Mb/s`}, ${l.duplex} duplex`,
      })),
    fix: (i) => `check the cable and the link partner, then ethtool -s ${i.interface} autoneg on`,
  }),
  rule({
    id: 'numa',
    scope: 'interface',
    reads: '/sys/class/net/IF/device/numa_node, /sys/devices/system/cpu/cpuN/nodeM',
    thresholds: "ok: the NIC has no NUMA node, or every CPU of the session is on the NIC's node; warn: one is on another",
    reason: "a CPU on another node than the NIC's reaches its rings and buffers across the interconnect",
    judge: (i, facts) => {
      if (i.numaNode === null) return { verdict: 'ok', value: 'the NIC has no NUMA node' };
      const away = facts.cpus.filter((c) => c.numaNode !== null && c.numaNode !== i.numaNode).map((c) => c.cpu);
      return { verdict: away.length > 0 ? 'warn' : 'ok', value: `NIC on node ${i.numaNode}${away.length > 0 ? `, cpu ${list(away)} elsewhere` : ''}` };
    },
    fix: (i) => `pin with --cpu to a CPU of node ${i.numaNode} (/sys/devices/system/node/node${i.numaNode}/cpulist)`,
  }),
  rule({
    id: 'nic-irqs',
    scope: 'interface',
    reads: '/sys/class/net/IF/device/msi_irqs (or /proc/interrupts), /proc/irq/N/effective_affinity_list',
    thresholds: "ok: none of the NIC's interrupts lands on a CPU of the session; warn: one does",
    reason: 'an interrupt on the busy-polling CPU stops the loop while its handler and softirq run',
    judge: (i, facts) => {
      const session = facts.cpus.map((c) => c.cpu);
      const landing = i.irqs.flatMap((q) => {
        const on = (q.cpus ?? []).filter((c) => session.includes(c));
        return on.length > 0 ? [`IRQ ${q.irq} on cpu ${list(on)}`] : [];
      });
      if (i.irqs.length === 0) return { verdict: 'ok', value: 'no interrupts' };
      return { verdict: landing.length > 0 ? 'warn' : 'ok', value: landing.length > 0 ? landing.join(', ') : `${i.irqs.length} interrupts, none on cpu ${list(session)}` };
    },
    fix: (i, facts) => {
      const session = facts.cpus.map((c) => c.cpu);
      return moveIrqs(i.irqs.filter((q) => q.cpus?.some((c) => session.includes(c))).map((q) => q.irq), facts);
    },
  }),
  rule({
    id: 'rps',
    scope: 'interface',
    reads: '/sys/class/net/IF/queues/rx-N/rps_cpus',
    thresholds: 'ok: RPS off on every rx queue; warn: on',
    reason: "RPS hands each received packet to another CPU's backlog: an inter-processor interrupt and a queue per packet",
    judge: (i) => {
      const on = i.rps.filter((q) => q.cpus.length > 0);
      return { verdict: on.length > 0 ? 'warn' : 'ok', value: on.length > 0 ? on.map((q) => `${q.queue} to cpu ${list(q.cpus)}`).join(', ') : 'off' };
    },
    fix: (i) => i.rps.filter((q) => q.cpus.length > 0).map((q) => `echo 0 > /sys/class/net/${i.interface}/queues/${q.queue}/rps_cpus`).join('; '),
  }),
  rule({
    id: 'cpufreq-governor',
    scope: 'cpu',
    reads: '/sys/devices/system/cpu/cpuN/cpufreq/scaling_governor',
    thresholds: 'ok: performance; warn: any other governor',
    reason: 'other governors lower the clock when the CPU looks idle, and take time to raise it again',
    judge: (c) =>
      readOr(c.cpufreq, c.cpufreqError, (f) => ({
        verdict: f.governor === 'performance' ? 'ok' : 'warn',
        value: `${f.governor}${f.curKHz === null ? '' : `, ${f.curKHz / 1000} MHz`}${f.maxKHz === null ? '' : ` (max ${f.maxKHz / 1000} MHz)`}`,
      })),
    fix: (c) => `cpupower -c ${c.cpu} frequency-set -g performance`,
  }),
  rule({
    id: 'smt-sibling',
    scope: 'cpu',
    reads: '/sys/devices/system/cpu/cpuN/topology/thread_siblings_list',
    thresholds: 'ok: no other hardware thread on its core; warn: a sibling is online',
    reason: "the sibling thread shares the core's execution units and caches with the polling loop",
    judge: (c) => readOr(c.siblings, c.siblingsError, (s) => ({ verdict: s.length > 0 ? 'warn' : 'ok', value: s.length > 0 ? `sibling cpu ${list(s)}` : 'no sibling' })),
    fix: (c) => `echo 0 > /sys/devices/system/cpu/cpu${c.siblings?.[0] ?? 'N'}/online (or echo off > /sys/devices/system/cpu/smt/control)`,
  }),
  rule({
    id: 'idle-states',
    scope: 'cpu',
    reads: '/sys/devices/system/cpu/cpuN/cpuidle/stateM/{name,latency,disable}',
    thresholds: `ok: no enabled state exits slower than ${IDLE_EXIT_OK_US} µs; warn: up to ${IDLE_EXIT_FAIL_US} µs; fail: slower`,
    reason: 'a CPU that idles in a deep state takes its exit latency to wake for the next packet',
    judge: (c) =>
      readOr(c.idleStates, c.idleStatesError, (states) => {
        const enabled = states.filter((s) => !s.disabled);
        const worst = Math.max(0, ...enabled.map((s) => s.exitLatencyUs));
        const value = enabled.length > 0 ? enabled.map((s) => `${s.name} ${s.exitLatencyUs} µs`).join(', ') : 'none enabled';
        return { verdict: worst <= IDLE_EXIT_OK_US ? 'ok' : worst <= IDLE_EXIT_FAIL_US ? 'warn' : 'fail', value };
      }),
    fix: (c) => `cpupower -c ${c.cpu} idle-set -D ${IDLE_EXIT_OK_US}`,
  }),
  rule({
    id: 'cpu-irqs',
    scope: 'cpu',
    reads: '/proc/interrupts, /proc/irq/N/effective_affinity_list (or smp_affinity_list)',
    thresholds: 'ok: no interrupt line lands on the CPU; warn: some do',
    reason: 'each interrupt on the busy-polling CPU stops the loop for its handler',
    judge: (c) => readOr(c.irqs, c.irqsError, (irqs) => ({ verdict: irqs.length > 0 ? 'warn' : 'ok', value: irqs.length > 0 ? irqs.map((i) => `${i.irq} ${i.name}`).join(', ') : 'none' })),
    fix: (c, facts) => `${moveIrqs((c.irqs ?? []).map((i) => i.irq), facts)} (and keep irqbalance off cpu${c.cpu}: IRQBALANCE_BANNED_CPULIST=${c.cpu})`,
  }),
  cmdlineCpus('isolcpus', 'isolated', 'the scheduler puts other tasks on a CPU that is not isolated'),
  cmdlineCpus('nohz_full', 'nohzFull', 'the scheduler tick interrupts a CPU that is not nohz_full every 1–4 ms'),
  cmdlineCpus('rcu_nocbs', 'rcuNocbs', 'RCU callbacks run on a CPU unless it is offloaded with rcu_nocbs'),
  rule({
    id: 'transparent-hugepages',
    scope: 'host',
    reads: '/sys/kernel/mm/transparent_hugepage/enabled',
    thresholds: 'ok: madvise or never; warn: always',
    reason: 'with always, page faults compact memory and khugepaged collapses pages under running processes',
    judge: (h) => readOr(h.transparentHugepages, h.transparentHugepagesError, (t) => ({ verdict: t === 'always' ? 'warn' : 'ok', value: t })),
    fix: () => 'echo madvise > /sys/kernel/mm/transparent_hugepage/enabled',
  }),
  rule({
    id: 'clocksource',
    scope: 'host',
    reads: '/sys/devices/system/clocksource/clocksource0/current_clocksource',
    thresholds: 'ok: tsc; warn: any other',
    reason: 'other clocksources make every clock read (and kernel timestamp) a slower, sometimes trapping, access',
    judge: (h) => readOr(h.clocksource, 'ENOENT', (c) => ({ verdict: c === 'tsc' ? 'ok' : 'warn', value: c })),
    fix: () => 'echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource (clocksource=tsc on the kernel command line keeps it)',
  }),
];

function subjectsOf(scope: keyof CapsSubjects, facts: CapsFacts): { name: string; subject: CapsSubjects[keyof CapsSubjects] }[] {
  if (scope === 'host') return [{ name: 'host', subject: facts.host }];
  if (scope === 'cpu') return facts.cpus.map((c) => ({ name: `cpu${c.cpu}`, subject: c }));
  return facts.interfaces.map((i) => ({ name: i.interface, subject: i }));
}

/** Every rule of CAPS_RULES applied to every subject of its scope. */
export function judgeCaps(facts: CapsFacts): CapsFinding[] {
  return CAPS_RULES.flatMap((r) =>
    subjectsOf(r.scope, facts).map(({ name, subject }) => {
      // subjectsOf gives each rule the subjects of its own scope.
      const { judge, fix } = r as unknown as CapsRuleSpec<keyof CapsSubjects> & { judge(s: unknown, f: CapsFacts): Judgement; fix(s: unknown, f: CapsFacts): string };
      const j = judge(subject, facts);
      const base = { rule: r.id, subject: name, reason: r.reason };
      if ('error' in j) return { ...base, verdict: 'unknown' as const, value: 'not readable', fix: null, error: j.error };
      return { ...base, verdict: j.verdict, value: j.value, fix: j.verdict === 'ok' ? null : fix(subject, facts), error: null };
    }),
  );
}

export function summarize(findings: readonly CapsFinding[]): CapsSummary {
  const count = (v: FindingVerdict) => findings.filter((f) => f.verdict === v).length;
  const worst = [...CAPS_VERDICTS].reverse().find((v) => count(v) > 0) ?? 'ok';
  return { ok: count('ok'), warn: count('warn'), fail: count('fail'), unknown: count('unknown'), worst };
}

/** The worst verdict of a report, what `caps <= warn` is checked against; unknown findings count as none. */
export function worstVerdict(report: { verdicts: readonly CapsFinding[] }): CapsVerdict {
  return summarize(report.verdicts).worst;
}
