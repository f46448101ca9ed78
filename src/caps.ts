/**
 * What this host can do for latency measurement (`rtt-probe caps`): per
 * interface, the driver's timestamping capabilities (ETHTOOL_GET_TS_INFO),
 * the NIC's current hardware-timestamping config (SIOCGHWTSTAMP) and the
 * ethtool settings, IRQs and packet steering that add latency; for the host
 * and each CPU a session would use, the clock, frequency, idle states,
 * siblings, interrupts and isolation that decide tails; and a verdict on
 * each (src/caps-verdicts.ts). Only reads: nothing is changed (what the lab
 * can build is found by building it: src/lab/features.ts). The sysfs and
 * procfs roots are options, so tests point the report at a synthetic tree.
 */
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { binding, type RawInterfaceCaps } from './binding';
import type { CapsReadings, CapsRoot, CpuCaps, HostCaps, IdleState, InterfaceCaps, IrqCaps, QueueSteering } from './caps-types';
import { judgeCaps, summarize, type CapsFinding, type CapsSummary } from './caps-verdicts';
import { OptionRangeError, OptionTypeError, fromNative } from './errors';

export type * from './caps-types';

const SYSTEM_ROOT: CapsRoot = { sys: '/sys', proc: '/proc' };

/** `rtt-probe caps --json`. */
export interface CapsReport extends CapsReadings {
  /** A verdict on each setting that costs latency, by the rules of src/caps-verdicts.ts. */
  verdicts: CapsFinding[];
  summary: CapsSummary;
}

export interface CapsOptions {
  /** Interfaces to report (default: every interface of this network namespace). */
  interfaces?: readonly string[] | undefined;
  /** CPUs a session would use (default: every CPU this process may run on). */
  cpus?: readonly number[] | undefined;
  /** Where sysfs and procfs are read (default: /sys and /proc). */
  root?: Partial<CapsRoot> | undefined;
}

/** A file's trimmed text, or the errno name that refused it. */
type Read<T> = { value: T; error: null } | { value: null; error: string };

function errnoName(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : 'EIO';
}

function readText(path: string): Read<string> {
  try {
    return { value: readFileSync(path, 'utf8').trim(), error: null };
  } catch (error) {
    return { value: null, error: errnoName(error) };
  }
}

function readEntries(path: string): Read<string[]> {
  try {
    return { value: readdirSync(path), error: null };
  } catch (error) {
    return { value: null, error: errnoName(error) };
  }
}

function read(path: string): string | null {
  return readText(path).value;
}

function readNumber(path: string): number | null {
  const text = read(path);
  return text !== null && /^\d+$/.test(text) ? Number(text) : null;
}

/** A cpulist ("0-3,8", "nohz,domain,2-7": flags are skipped) as CPU numbers, ascending. */
export function parseCpuList(list: string): number[] {
  const cpus = new Set<number>();
  for (const part of list.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) continue;
    const last = Number(m[2] ?? m[1]);
    for (let cpu = Number(m[1]); cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** A hex CPU mask as sysfs writes it ("00000000,00000005": 32-bit words, highest first) as CPU numbers. */
export function parseCpuMask(mask: string): number[] {
  const bits = BigInt(`0x${mask.replace(/[,\s]/g, '') || '0'}`);
  const cpus: number[] = [];
  for (let cpu = 0; bits >> BigInt(cpu) > 0n; cpu++) if ((bits >> BigInt(cpu)) & 1n) cpus.push(cpu);
  return cpus;
}

/** isolcpus=, nohz_full= and rcu_nocbs= of a kernel command line (the last of each wins, as in the kernel). */
export function parseCmdline(cmdline: string): { isolcpus: string | null; nohzFull: string | null; rcuNocbs: string | null } {
  const found = { isolcpus: null as string | null, nohzFull: null as string | null, rcuNocbs: null as string | null };
  const keys = { 'isolcpus=': 'isolcpus', 'nohz_full=': 'nohzFull', 'rcu_nocbs=': 'rcuNocbs' } as const;
  for (const word of cmdline.trim().split(/\s+/)) {
    for (const [prefix, key] of Object.entries(keys)) if (word.startsWith(prefix)) found[key] = word.slice(prefix.length);
  }
  return found;
}

/**
 * How long a spinning SCHED_FIFO thread is stopped in each RT period, in µs,
 * or null where the kernel does not throttle RT threads.
 */
export function rtThrottlingStallUs(t: HostCaps['rtThrottling']): number | null {
  if (!t || t.runtimeUs < 0 || t.runtimeUs >= t.periodUs) return null;
  return t.periodUs - t.runtimeUs;
}

/** kernel.sched_rt_runtime_us and sched_rt_period_us of this host. */
export function rtThrottling(root: CapsRoot = SYSTEM_ROOT): HostCaps['rtThrottling'] {
  const runtime = read(`${root.proc}/sys/kernel/sched_rt_runtime_us`);
  const period = readNumber(`${root.proc}/sys/kernel/sched_rt_period_us`);
  if (runtime === null || !/^-?\d+$/.test(runtime) || period === null) return null;
  return { runtimeUs: Number(runtime), periodUs: period };
}

/** The flags of the first processor in /proc/cpuinfo. */
export function cpuFlags(cpuinfo: string): Set<string> {
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo);
  return new Set(line ? line[1]!.trim().split(/\s+/) : []);
}

function userClock(): HostCaps['clock'] {
  const tscUnavailable = binding().tscClockUnavailable();
  return { auto: tscUnavailable === null ? 'tsc' : 'realtime', tscUnavailable };
}

/** The selected word of a sysfs choice file ("always [madvise] never": madvise). */
function selected(text: string): string {
  return /\[(\S+)\]/.exec(text)?.[1] ?? text;
}

export function hostCaps(root: CapsRoot = SYSTEM_ROOT): HostCaps {
  const flags = cpuFlags(read(`${root.proc}/cpuinfo`) ?? '');
  const clocksource = `${root.sys}/devices/system/clocksource/clocksource0`;
  const cpuidle = `${root.sys}/devices/system/cpu/cpuidle`;
  const driver = read(`${cpuidle}/current_driver`);
  const constantTsc = flags.has('constant_tsc');
  const nonstopTsc = flags.has('nonstop_tsc');
  const smtControl = readText(`${root.sys}/devices/system/cpu/smt/control`);
  const thp = readText(`${root.sys}/kernel/mm/transparent_hugepage/enabled`);
  return {
    kernel: os.release(),
    cpus: os.cpus().length,
    clocksource: read(`${clocksource}/current_clocksource`),
    availableClocksources: (read(`${clocksource}/available_clocksource`) ?? '').split(/\s+/).filter(Boolean),
    constantTsc,
    nonstopTsc,
    invariantTsc: constantTsc && nonstopTsc,
    clock: userClock(),
    busyPoll: readNumber(`${root.proc}/sys/net/core/busy_poll`),
    busyRead: readNumber(`${root.proc}/sys/net/core/busy_read`),
    cpuidle: driver && driver !== 'none' ? { driver, governor: read(`${cpuidle}/current_governor`) ?? read(`${cpuidle}/current_governor_ro`) } : null,
    rtThrottling: rtThrottling(root),
    ...parseCmdline(read(`${root.proc}/cmdline`) ?? ''),
    smt: smtControl.value === null ? null : { control: smtControl.value, active: read(`${root.sys}/devices/system/cpu/smt/active`) === '1' },
    smtError: smtControl.error,
    transparentHugepages: thp.value === null ? null : selected(thp.value),
    transparentHugepagesError: thp.error,
  };
}

/** /proc/interrupts: each numbered line's IRQ and its name (the words after the per-CPU counts and the chip). */
export function parseInterrupts(text: string): { irq: number; name: string }[] {
  const lines = text.split('\n');
  const cpuColumns = (lines[0] ?? '').trim().split(/\s+/).filter(Boolean).length;
  const irqs: { irq: number; name: string }[] = [];
  for (const line of lines.slice(1)) {
    const m = /^\s*(\d+):(.*)$/.exec(line);
    if (!m) continue;
    const words = m[2]!.trim().split(/\s+/).slice(cpuColumns);
    irqs.push({ irq: Number(m[1]), name: words[words.length - 1] ?? '' });
  }
  return irqs;
}

function irqCpus(root: CapsRoot, irq: number): Read<number[]> {
  const effective = readText(`${root.proc}/irq/${irq}/effective_affinity_list`);
  const list = effective.value !== null && effective.value !== '' ? effective : readText(`${root.proc}/irq/${irq}/smp_affinity_list`);
  return list.value === null ? list : { value: parseCpuList(list.value), error: null };
}

/** The MSI vectors of the interface's device (virtio puts them on its parent), else the lines of /proc/interrupts that name it. */
function interfaceIrqs(root: CapsRoot, name: string, interrupts: { irq: number; name: string }[]): IrqCaps[] {
  const device = `${root.sys}/class/net/${name}/device`;
  const msi = readEntries(`${device}/msi_irqs`).value ?? readEntries(`${device}/../msi_irqs`).value;
  const named = new Map(interrupts.map((i) => [i.irq, i.name]));
  const numbers = msi
    ? msi.filter((e) => /^\d+$/.test(e)).map(Number)
    : interrupts.filter((i) => i.name === name || i.name.startsWith(`${name}-`)).map((i) => i.irq);
  return numbers
    .sort((a, b) => a - b)
    .map((irq) => {
      const cpus = irqCpus(root, irq);
      return { irq, name: named.get(irq) ?? '', cpus: cpus.value, cpusError: cpus.error };
    });
}

function queueSteering(root: CapsRoot, name: string, direction: 'rx' | 'tx', file: 'rps_cpus' | 'xps_cpus'): QueueSteering[] {
  const queues = `${root.sys}/class/net/${name}/queues`;
  return (readEntries(queues).value ?? [])
    .filter((q) => q.startsWith(`${direction}-`))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))
    .flatMap((queue) => {
      const mask = read(`${queues}/${queue}/${file}`);
      return mask === null ? [] : [{ queue, cpus: parseCpuMask(mask) }];
    });
}

function interfaceSysfs(root: CapsRoot, name: string, interrupts: { irq: number; name: string }[]) {
  const mtu = readText(`${root.sys}/class/net/${name}/mtu`);
  const node = read(`${root.sys}/class/net/${name}/device/numa_node`);
  return {
    mtu: mtu.value === null ? null : Number(mtu.value),
    mtuError: mtu.error,
    numaNode: node !== null && /^\d+$/.test(node) ? Number(node) : null,
    irqs: interfaceIrqs(root, name, interrupts),
    rps: queueSteering(root, name, 'rx', 'rps_cpus'),
    xps: queueSteering(root, name, 'tx', 'xps_cpus'),
  };
}

function idleStates(dir: string): Read<IdleState[]> {
  const entries = readEntries(dir);
  if (entries.value === null) return entries;
  const states = entries.value
    .filter((e) => /^state\d+$/.test(e))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
    .map((state) => ({
      name: read(`${dir}/${state}/name`) ?? state,
      exitLatencyUs: readNumber(`${dir}/${state}/latency`) ?? 0,
      disabled: read(`${dir}/${state}/disable`) === '1',
    }));
  return { value: states, error: null };
}

function cpufreq(dir: string): Read<NonNullable<CpuCaps['cpufreq']>> {
  const governor = readText(`${dir}/scaling_governor`);
  if (governor.value === null) return governor;
  return {
    value: {
      governor: governor.value,
      curKHz: readNumber(`${dir}/scaling_cur_freq`),
      minKHz: readNumber(`${dir}/scaling_min_freq`),
      maxKHz: readNumber(`${dir}/scaling_max_freq`),
      hardwareMaxKHz: readNumber(`${dir}/cpuinfo_max_freq`),
    },
    error: null,
  };
}

/** Each interrupt line with the CPUs it lands on, read once for every CPU. */
type Interrupts = Read<{ irq: number; name: string; cpus: number[] }[]>;

function cpuCaps(root: CapsRoot, cpu: number, host: HostCaps, interrupts: Interrupts): CpuCaps {
  const dir = `${root.sys}/devices/system/cpu/cpu${cpu}`;
  const node = (readEntries(dir).value ?? []).find((e) => /^node\d+$/.test(e));
  const freq = cpufreq(`${dir}/cpufreq`);
  const siblings = readText(`${dir}/topology/thread_siblings_list`);
  const idle = idleStates(`${dir}/cpuidle`);
  const has = (list: string | null) => list !== null && parseCpuList(list).includes(cpu);
  return {
    cpu,
    numaNode: node === undefined ? null : Number(node.slice(4)),
    cpufreq: freq.value,
    cpufreqError: freq.error,
    siblings: siblings.value === null ? null : parseCpuList(siblings.value).filter((c) => c !== cpu),
    siblingsError: siblings.error,
    idleStates: idle.value,
    idleStatesError: idle.error,
    irqs: interrupts.value === null ? null : interrupts.value.filter((i) => i.cpus.includes(cpu)).map(({ irq, name }) => ({ irq, name })),
    irqsError: interrupts.error,
    isolated: has(host.isolcpus),
    nohzFull: has(host.nohzFull),
    rcuNocbs: has(host.rcuNocbs),
  };
}

/** The CPUs this process may run on (Cpus_allowed_list of /proc/self/status). */
export function allowedCpus(root: CapsRoot = SYSTEM_ROOT): number[] {
  const status = read(`${root.proc}/self/status`) ?? '';
  const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1];
  return list ? parseCpuList(list) : os.cpus().map((_, i) => i);
}

function interfaceCaps(name: string, root: CapsRoot, interrupts: { irq: number; name: string }[]): InterfaceCaps {
  let raw: RawInterfaceCaps;
  try {
    raw = binding().interfaceCaps(name);
  } catch (error) {
    throw fromNative(error);
  }
  return { ...raw, phc: raw.phcIndex === null ? null : `/dev/ptp${raw.phcIndex}`, ...interfaceSysfs(root, name, interrupts) };
}

function checkCpus(cpus: unknown): asserts cpus is readonly number[] | undefined {
  if (cpus !== undefined && (!Array.isArray(cpus) || cpus.some((c) => !Number.isSafeInteger(c) || c < 0))) {
    throw new OptionTypeError('cpus must be an array of CPU numbers (0, 1, ...)');
  }
}

/**
 * The report of `rtt-probe caps`, verdicts included; an interface this host
 * lacks is an OptionRangeError that says how to list them, and so is a CPU it
 * lacks. What cannot be read is null beside its errno, never an exception.
 */
export function caps(options: CapsOptions = {}): CapsReport {
  const wanted = options.interfaces;
  if (wanted !== undefined && (!Array.isArray(wanted) || wanted.some((n) => typeof n !== 'string'))) {
    throw new OptionTypeError('interfaces must be an array of interface names');
  }
  checkCpus(options.cpus);
  const root: CapsRoot = { ...SYSTEM_ROOT, ...options.root };
  let present: string[];
  try {
    present = binding().interfaceNames();
  } catch (error) {
    throw fromNative(error);
  }
  const names = wanted === undefined ? present : [...new Set(wanted)];
  const unknown = names.filter((n) => !present.includes(n));
  if (unknown.length > 0) {
    throw new OptionRangeError(
      `no interface named ${unknown.join(', ')} on this host (in this network namespace); \`ip link\` lists them (here: ${present.join(', ')})`,
    );
  }
  const possible = readText(`${root.sys}/devices/system/cpu/possible`);
  const cpuNumbers = options.cpus === undefined ? allowedCpus(root) : [...new Set(options.cpus)].sort((a, b) => a - b);
  if (possible.value !== null) {
    const lacking = cpuNumbers.filter((c) => !parseCpuList(possible.value).includes(c));
    if (lacking.length > 0) throw new OptionRangeError(`no CPU ${lacking.join(', ')} on this host (CPUs ${possible.value})`);
  }
  const host = hostCaps(root);
  const text = readText(`${root.proc}/interrupts`);
  const interrupts: Interrupts =
    text.value === null ? text : { value: parseInterrupts(text.value).map((i) => ({ ...i, cpus: irqCpus(root, i.irq).value ?? [] })), error: null };
  const cpus = cpuNumbers.map((cpu) => cpuCaps(root, cpu, host, interrupts));
  const interfaces = names.map((name) => interfaceCaps(name, root, interrupts.value ?? []));
  const verdicts = judgeCaps({ host, cpus, interfaces });
  return { host, cpus, interfaces, verdicts, summary: summarize(verdicts) };
}

/**
 * The caps of what a session used, for its result: the interface named by
 * its timestamping grant, else the one holding its local address (none when
 * neither is known, or the interface is gone), and its pinned CPU, else
 * every CPU it may run on. Undefined where the report cannot be made (the
 * interface list unreadable): the measurement is never lost for it.
 */
export function sessionCaps(used: { interface: string; localAddress: string; cpu: number | null }): CapsReport | undefined {
  try {
    const present = binding().interfaceNames();
    const byAddress = Object.entries(os.networkInterfaces()).find(([, addresses]) => addresses?.some((a) => a.address === used.localAddress))?.[0];
    const name = used.interface !== '*' ? used.interface : byAddress;
    return caps({ interfaces: name !== undefined && present.includes(name) ? [name] : [], cpus: used.cpu === null ? undefined : [used.cpu] });
  } catch {
    return undefined;
  }
}
