/**
 * `rtt-probe caps`: what this host and its interfaces can do for latency
 * measurement (the library's caps(), which only reads), and what the lab
 * can build here (found by building it in a scratch namespace).
 */
import type { Command } from 'commander';
import { caps, type CapsReport, type CpuCaps, type HostCaps, type InterfaceCaps } from '../../caps';
import type { CapsFinding, CapsSummary } from '../../caps-verdicts';
import { FEATURES, labFeatures, type LabFeatures } from '../../lab/features';
import { resultHeader, type ResultHeader } from '../../schema';
import { pad } from '../../text';
import { cpuList } from '../arguments';
import { rtThrottlingStop } from '../format';
import type { Io } from '../io';

/** `rtt-probe caps --json`: the library's report with the lab's features in its host section. */
export type CapsOutputJSON = ResultHeader<'caps'> & CapsReport & { host: HostCaps & LabFeatures };

const SCRATCH = 'tried in a scratch network namespace, created and deleted again';

const none = (list: string[]) => (list.length > 0 ? list.join(' ') : 'none');
const yesNo = (b: boolean) => (b ? 'yes' : 'no');
const onOff = (b: boolean) => (b ? 'on' : 'off');

function rtThrottlingText(t: HostCaps['rtThrottling']): string {
  if (!t) return 'unknown';
  const stop = rtThrottlingStop(t);
  if (stop === null) return `off (sched_rt_runtime_us ${t.runtimeUs}): a --rt-priority session thread keeps its CPU; keep other work off it`;
  return `sched_rt_runtime_us ${t.runtimeUs} of ${t.periodUs}: ${stop}`;
}

function hostRows(h: CapsOutputJSON['host']): string[][] {
  const rows = [
    ['kernel', h.kernel],
    ['cpus', String(h.cpus)],
    ['clocksource', `${h.clocksource ?? 'unknown'}${h.availableClocksources.length > 0 ? ` (available: ${h.availableClocksources.join(' ')})` : ''}`],
    ['invariant TSC', `${yesNo(h.invariantTsc)} (constant_tsc ${yesNo(h.constantTsc)}, nonstop_tsc ${yesNo(h.nonstopTsc)})`],
    ['user clock', h.clock.auto === 'tsc' ? 'tsc (--clock auto reads the TSC)' : `realtime (--clock auto reads the vDSO: ${h.clock.tscUnavailable})`],
    ['busy polling', `net.core.busy_poll ${h.busyPoll ?? '?'} µs, net.core.busy_read ${h.busyRead ?? '?'} µs (0: off; rtt-probe spins in user space either way)`],
    ['cpuidle', h.cpuidle ? `${h.cpuidle.driver}, governor ${h.cpuidle.governor ?? 'unknown'}` : 'none'],
    ['rt throttling', rtThrottlingText(h.rtThrottling)],
    ['isolcpus', h.isolcpus ?? 'none'],
    ['nohz_full', h.nohzFull ?? 'none'],
    ['rcu_nocbs', h.rcuNocbs ?? 'none'],
    ['smt', h.smt ? `${h.smt.control}${h.smt.active ? ', siblings online' : ''}` : `unknown (${h.smtError})`],
    ['hugepages', h.transparentHugepages ? `transparent ${h.transparentHugepages}` : `unknown (${h.transparentHugepagesError})`],
  ];
  if (!h.features) return [...rows, ['lab features', `not detected: ${h.featuresUnavailable}`]];
  const support = h.features;
  const missing = FEATURES.filter((f) => support[f] !== null).map((f) => ['', `${f}: ${support[f]}`]);
  return [...rows, ['lab features', `${none(FEATURES.filter((f) => support[f] === null))} (${SCRATCH})`], ...missing];
}

function hwtstampText(i: InterfaceCaps): string {
  if (i.hwtstamp) return `tx-type ${i.hwtstamp.txType}, rx-filter ${i.hwtstamp.rxFilter}`;
  return `not reported (${i.hwtstampError}${i.hwtstampError === 'EOPNOTSUPP' ? ': no hardware timestamping, or a driver that cannot report it' : ''})`;
}

/** A reading, or `unknown (ERRNO)` where it could not be made. */
function reading<T>(value: T | null, error: string | null, text: (v: T) => string): string {
  return value === null ? `unknown (${error})` : text(value);
}

const cpus = (list: readonly number[]) => (list.length > 0 ? list.join(',') : 'none');

function settingRows(i: InterfaceCaps): string[][] {
  return [
    ['  driver', reading(i.driver, i.driverError, (d) => `${d.driver}${d.firmware ? `, firmware ${d.firmware}` : ''}${d.bus ? `, bus ${d.bus}` : ''}`)],
    ['  link', reading(i.link, i.linkError, (l) => `${l.speedMbps === null ? 'speed unknown' : `${l.speedMbps} Mb/s`}, ${l.duplex} duplex`)],
    ['  mtu', reading(i.mtu, i.mtuError, String)],
    ['  numa node', i.numaNode === null ? 'none' : String(i.numaNode)],
    ['  coalescing', reading(i.coalesce, i.coalesceError, (c) => `rx-usecs ${c.rxUsecs}, tx-usecs ${c.txUsecs}, adaptive-rx ${c.adaptiveRx ? 'on' : 'off'}, adaptive-tx ${c.adaptiveTx ? 'on' : 'off'}`)],
    ['  rings', reading(i.rings, i.ringsError, (r) => `rx ${r.rx} (max ${r.rxMax}), tx ${r.tx} (max ${r.txMax})`)],
    ['  offloads', `gro ${reading(i.gro, i.groError, onOff)}, lro ${reading(i.lro, i.lroError, onOff)}`],
    ['  irqs', i.irqs.length > 0 ? i.irqs.map((q) => `${q.irq} ${q.name} on cpu ${q.cpus ? cpus(q.cpus) : `unknown (${q.cpusError})`}`).join('; ') : 'none'],
    ['  rps', i.rps.length > 0 ? i.rps.map((q) => `${q.queue} ${cpus(q.cpus)}`).join(', ') : 'no rx queues'],
    ['  xps', i.xps.length > 0 ? i.xps.map((q) => `${q.queue} ${cpus(q.cpus)}`).join(', ') : 'none'],
  ];
}

function interfaceRows(i: InterfaceCaps): string[][] {
  if (i.tsInfoError) return [[i.interface, ''], ['  timestamping', `not reported (${i.tsInfoError})`], ['  hwtstamp', hwtstampText(i)], ...settingRows(i)];
  return [
    [i.interface, ''],
    ['  timestamping', none(i.soTimestamping)],
    ['  hardware', i.hardwareCapable ? 'yes: --ts auto asks for NIC stamps here' : 'no: software stamps only'],
    ['  PTP clock', i.phc ?? 'none'],
    ['  tx types', none(i.txTypes)],
    ['  rx filters', none(i.rxFilters)],
    ['  hwtstamp', hwtstampText(i)],
    ...settingRows(i),
  ];
}

function cpuRows(c: CpuCaps): string[][] {
  return [
    [`cpu${c.cpu}`, ''],
    ['  numa node', c.numaNode === null ? 'none' : String(c.numaNode)],
    ['  cpufreq', reading(c.cpufreq, c.cpufreqError, (f) => `${f.governor}, ${f.curKHz ?? '?'} kHz (${f.minKHz ?? '?'}–${f.maxKHz ?? '?'}, hardware max ${f.hardwareMaxKHz ?? '?'})`)],
    ['  siblings', reading(c.siblings, c.siblingsError, cpus)],
    ['  idle states', reading(c.idleStates, c.idleStatesError, (s) => (s.length > 0 ? s.map((x) => `${x.name} ${x.exitLatencyUs} µs${x.disabled ? ' (disabled)' : ''}`).join(', ') : 'none'))],
    ['  irqs', reading(c.irqs, c.irqsError, (irqs) => (irqs.length > 0 ? irqs.map((i) => `${i.irq} ${i.name}`).join(', ') : 'none'))],
    ['  isolation', `isolcpus ${yesNo(c.isolated)}, nohz_full ${yesNo(c.nohzFull)}, rcu_nocbs ${yesNo(c.rcuNocbs)}`],
  ];
}

function verdictRows(f: CapsFinding): string[][] {
  const head = [`  ${f.verdict}`, `${f.subject} ${f.rule}: ${f.value}${f.error ? ` (${f.error})` : ''}`];
  return f.fix ? [head, ['', `fix: ${f.fix}`]] : [head];
}

/** `caps: 3 ok, 2 warn, 1 fail, 4 unknown; worst fail`. */
export function summaryLine(s: CapsSummary): string {
  return `caps: ${s.ok} ok, ${s.warn} warn, ${s.fail} fail, ${s.unknown} unknown; worst ${s.worst}`;
}

export function formatCaps(report: CapsOutputJSON): string {
  return [
    'host',
    pad(hostRows(report.host).map(([k, v]) => [`  ${k}`, v!]), 2),
    '',
    'cpus',
    pad(report.cpus.flatMap(cpuRows), 2),
    '',
    'interfaces',
    pad(report.interfaces.flatMap(interfaceRows), 2),
    '',
    'verdicts',
    pad(report.verdicts.flatMap(verdictRows), 2),
    '',
    summaryLine(report.summary),
  ].join('\n');
}

export function addCapsCommand(program: Command, io: Io): void {
  program
    .command('caps')
    .description(
      "what this host can do for latency measurement: each interface's timestamping capabilities (ethtool -T), hardware-timestamping config, " +
        'driver, link, coalescing, rings, offloads, IRQs and packet steering; the clock, busy-polling, real-time throttling, CPU-isolation, ' +
        'frequency, idle-state and interrupt settings of the host and its CPUs; and a verdict (ok, warn, fail or unknown) with a fix on each. ' +
        'Changes nothing, except that detecting ' +
        'the lab features creates and deletes a scratch network namespace (needs root; --no-lab-features leaves it out)',
    )
    .option('--interface <name...>', 'only these interfaces (default: all; `ip link` lists them)')
    .option('--cpu <cpulist>', 'the CPUs a session would use, e.g. 3 or 2-5 (default: every CPU this process may run on)', cpuList)
    .option('--no-lab-features', 'do not detect what the lab can build (which creates and deletes a scratch network namespace)')
    .option('--json', 'print the report as JSON only')
    .action((flags: { interface?: string[]; cpu?: number[]; labFeatures: boolean; json?: boolean }) => {
      const report = caps({ interfaces: flags.interface, cpus: flags.cpu });
      const lab: LabFeatures = flags.labFeatures ? labFeatures() : { features: null, featuresUnavailable: 'not asked for (--no-lab-features)' };
      const whole: CapsOutputJSON = { ...resultHeader('caps'), ...report, host: { ...report.host, ...lab } };
      io.stdout.write(flags.json ? `${JSON.stringify(whole)}\n` : `${formatCaps(whole)}\n`);
    });
}
