/**
 * The readings of a caps report (src/caps.ts reads them, src/caps-verdicts.ts
 * judges them): the host, the CPUs a session would use, and the interfaces.
 */
import type { HwtstampConfig, RawInterfaceCaps } from './binding';

export type { HwtstampConfig };

/** Where sysfs and procfs are mounted (tests point these at a synthetic tree). */
export interface CapsRoot {
  sys: string;
  proc: string;
}

/** An interrupt line: its number, its /proc/interrupts name and the CPUs it lands on. */
export interface IrqCaps {
  irq: number;
  name: string;
  /** effective_affinity_list where the kernel has it, else smp_affinity_list; null with `cpusError` where unreadable. */
  cpus: number[] | null;
  cpusError: string | null;
}

/** A queue's packet-steering mask (rps_cpus or xps_cpus) as CPUs; an empty list is off. */
export interface QueueSteering {
  queue: string;
  cpus: number[];
}

export interface InterfaceCaps extends RawInterfaceCaps {
  /** The PTP hardware clock device, /dev/ptp<phcIndex>; null: none. */
  phc: string | null;
  /** /sys/class/net/IF/mtu. */
  mtu: number | null;
  mtuError: string | null;
  /** The NIC's NUMA node (device/numa_node); null where it has none (-1, or a virtual device). */
  numaNode: number | null;
  /** The NIC's interrupts: its device's msi_irqs, else /proc/interrupts lines that name the interface. */
  irqs: IrqCaps[];
  /** Receive packet steering per rx queue (queues/rx-N/rps_cpus). */
  rps: QueueSteering[];
  /** Transmit packet steering per tx queue (queues/tx-N/xps_cpus); queues without XPS are left out. */
  xps: QueueSteering[];
}

/** A sysfs cpuidle state of one CPU. */
export interface IdleState {
  name: string;
  /** Exit latency in µs (stateN/latency). */
  exitLatencyUs: number;
  /** stateN/disable: the governor never picks it. */
  disabled: boolean;
}

/** One CPU a session would use. */
export interface CpuCaps {
  cpu: number;
  /** Its NUMA node (the cpuN/nodeM link); null where the kernel has no NUMA. */
  numaNode: number | null;
  /** cpufreq (cpuN/cpufreq): the governor and frequencies in kHz; null with `cpufreqError` where the kernel has none (many VMs). */
  cpufreq: { governor: string; curKHz: number | null; minKHz: number | null; maxKHz: number | null; hardwareMaxKHz: number | null } | null;
  cpufreqError: string | null;
  /** The other hardware threads of its core (topology/thread_siblings_list). */
  siblings: number[] | null;
  siblingsError: string | null;
  /** Its cpuidle states (cpuN/cpuidle/stateN). */
  idleStates: IdleState[] | null;
  idleStatesError: string | null;
  /** Interrupt lines whose affinity includes this CPU. */
  irqs: { irq: number; name: string }[] | null;
  irqsError: string | null;
  /** Named in isolcpus=, nohz_full=, rcu_nocbs= of the kernel command line. */
  isolated: boolean;
  nohzFull: boolean;
  rcuNocbs: boolean;
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
  /** isolcpus=, nohz_full= and rcu_nocbs= from the kernel command line; null when not given. */
  isolcpus: string | null;
  nohzFull: string | null;
  rcuNocbs: string | null;
  /** /sys/devices/system/cpu/smt: control (on, off, notsupported, ...) and whether siblings are online. */
  smt: { control: string; active: boolean } | null;
  smtError: string | null;
  /** /sys/kernel/mm/transparent_hugepage/enabled, the selected one of always, madvise, never. */
  transparentHugepages: string | null;
  transparentHugepagesError: string | null;
}

/** What the verdict rules read: the report without its verdicts. */
export interface CapsReadings {
  host: HostCaps;
  /** The CPUs a session would use (`--cpu`; default: every CPU this process may run on). */
  cpus: CpuCaps[];
  interfaces: InterfaceCaps[];
}
