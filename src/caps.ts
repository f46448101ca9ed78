/**
 * What this host can do for latency measurement (`rtt-probe caps`): per
 * interface, the driver's timestamping capabilities (ETHTOOL_GET_TS_INFO)
 * and the NIC's current hardware-timestamping config (SIOCGHWTSTAMP); for
 * the host, the clock, busy-polling, real-time throttling and CPU-isolation
 * settings that decide tails. Only reads: nothing is changed (what the lab
 * can build is found by building it: src/lab/features.ts).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { binding, type HwtstampConfig, type RawInterfaceCaps } from './binding';
import { OptionRangeError, OptionTypeError, fromNative } from './errors';

export type { HwtstampConfig };

export interface InterfaceCaps extends RawInterfaceCaps {
  /** The PTP hardware clock device, /dev/ptp<phcIndex>; null: none. */
  phc: string | null;
}

export interface HostCaps {
  /** Kernel release (uname -r). */
  kernel: string;
  cpus: number;
  /** /sys/devices/system/clocksource/clocksource0/current_clocksource; null where unreadable. */
  clocksource: string | null;
  availableClocksources: string[];
  /** /proc/cpuinfo flags: the TSC runs at a constant rate, and through deep C-states; both make it invariant. */
  constantTsc: boolean;
  nonstopTsc: boolean;
  invariantTsc: boolean;
  /**
   * The user clock `clock: 'auto'` (`--clock auto`) reads here, and why not
   * the TSC when it cannot (the kernel keeps time with another clocksource, or
   * the TSC is not invariant).
   */
  clock: { auto: 'tsc' | 'realtime'; tscUnavailable: string | null };
  /** net.core.busy_poll / net.core.busy_read in µs (0: off); null where unreadable. */
  busyPoll: number | null;
  busyRead: number | null;
  /** The cpuidle driver and governor; null where the kernel has no cpuidle (many VMs). */
  cpuidle: { driver: string; governor: string | null } | null;
  /**
   * kernel.sched_rt_runtime_us / sched_rt_period_us (runtime -1: off); null
   * where unreadable. While on, a SCHED_FIFO thread that never sleeps, as a
   * busy-polling session with `rtPriority` is, is stopped for the difference
   * every period (see rtThrottlingStallUs).
   */
  rtThrottling: { runtimeUs: number; periodUs: number } | null;
  /** isolcpus= and nohz_full= from the kernel command line; null when not given. */
  isolcpus: string | null;
  nohzFull: string | null;
}

/** `rtt-probe caps --json`. */
export interface CapsReport {
  host: HostCaps;
  interfaces: InterfaceCaps[];
}

export interface CapsOptions {
  /** Interfaces to report (default: every interface of this network namespace). */
  interfaces?: readonly string[] | undefined;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

function readNumber(path: string): number | null {
  const text = read(path);
  return text !== null && /^\d+$/.test(text) ? Number(text) : null;
}

/** isolcpus= and nohz_full= of a kernel command line (the last of each wins, as in the kernel). */
export function parseCmdline(cmdline: string): { isolcpus: string | null; nohzFull: string | null } {
  let isolcpus: string | null = null;
  let nohzFull: string | null = null;
  for (const word of cmdline.trim().split(/\s+/)) {
    if (word.startsWith('isolcpus=')) isolcpus = word.slice('isolcpus='.length);
    if (word.startsWith('nohz_full=')) nohzFull = word.slice('nohz_full='.length);
  }
  return { isolcpus, nohzFull };
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
export function rtThrottling(): HostCaps['rtThrottling'] {
  const runtime = read('/proc/sys/kernel/sched_rt_runtime_us');
  const period = readNumber('/proc/sys/kernel/sched_rt_period_us');
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

export function hostCaps(): HostCaps {
  const flags = cpuFlags(read('/proc/cpuinfo') ?? '');
  const clocksource = '/sys/devices/system/clocksource/clocksource0';
  const cpuidle = '/sys/devices/system/cpu/cpuidle';
  const driver = read(`${cpuidle}/current_driver`);
  const constantTsc = flags.has('constant_tsc');
  const nonstopTsc = flags.has('nonstop_tsc');
  return {
    kernel: os.release(),
    cpus: os.cpus().length,
    clocksource: read(`${clocksource}/current_clocksource`),
    availableClocksources: (read(`${clocksource}/available_clocksource`) ?? '').split(/\s+/).filter(Boolean),
    constantTsc,
    nonstopTsc,
    invariantTsc: constantTsc && nonstopTsc,
    clock: userClock(),
    busyPoll: readNumber('/proc/sys/net/core/busy_poll'),
    busyRead: readNumber('/proc/sys/net/core/busy_read'),
    cpuidle: driver && driver !== 'none' ? { driver, governor: read(`${cpuidle}/current_governor`) ?? read(`${cpuidle}/current_governor_ro`) } : null,
    rtThrottling: rtThrottling(),
    ...parseCmdline(read('/proc/cmdline') ?? ''),
  };
}

function interfaceCaps(name: string): InterfaceCaps {
  let raw: RawInterfaceCaps;
  try {
    raw = binding().interfaceCaps(name);
  } catch (error) {
    throw fromNative(error);
  }
  return { ...raw, phc: raw.phcIndex === null ? null : `/dev/ptp${raw.phcIndex}` };
}

/** The report of `rtt-probe caps`; an interface this host lacks is an OptionRangeError that says how to list them. */
export function caps(options: CapsOptions = {}): CapsReport {
  const wanted = options.interfaces;
  if (wanted !== undefined && (!Array.isArray(wanted) || wanted.some((n) => typeof n !== 'string'))) {
    throw new OptionTypeError('interfaces must be an array of interface names');
  }
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
  return { host: hostCaps(), interfaces: names.map(interfaceCaps) };
}
