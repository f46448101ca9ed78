/**
 * `rtt-probe caps`: what this host and its interfaces can do for latency
 * measurement (the library's caps(), which only reads), and what the lab
 * can build here (found by building it in a scratch namespace).
 */
import type { Command } from 'commander';
import { caps, type CapsReport, type HostCaps, type InterfaceCaps } from '../../caps';
import { FEATURES, labFeatures, type LabFeatures } from '../../lab/features';
import { resultHeader, type ResultHeader } from '../../schema';
import { pad } from '../../text';
import { rtThrottlingStop } from '../format';
import type { Io } from '../io';

/** `rtt-probe caps --json`: the library's report with the lab's features in its host section. */
export type CapsOutputJSON = ResultHeader<'caps'> & CapsReport & { host: HostCaps & LabFeatures };

const SCRATCH = 'tried in a scratch network namespace, created and deleted again';

const none = (list: string[]) => (list.length > 0 ? list.join(' ') : 'none');
const yesNo = (b: boolean) => (b ? 'yes' : 'no');

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

function interfaceRows(i: InterfaceCaps): string[][] {
  if (i.tsInfoError) return [[i.interface, ''], ['  timestamping', `not reported (${i.tsInfoError})`], ['  hwtstamp', hwtstampText(i)]];
  return [
    [i.interface, ''],
    ['  timestamping', none(i.soTimestamping)],
    ['  hardware', i.hardwareCapable ? 'yes: --ts auto asks for NIC stamps here' : 'no: software stamps only'],
    ['  PTP clock', i.phc ?? 'none'],
    ['  tx types', none(i.txTypes)],
    ['  rx filters', none(i.rxFilters)],
    ['  hwtstamp', hwtstampText(i)],
  ];
}

export function formatCaps(report: CapsOutputJSON): string {
  return [
    'host',
    pad(hostRows(report.host).map(([k, v]) => [`  ${k}`, v!]), 2),
    '',
    'interfaces',
    pad(report.interfaces.flatMap(interfaceRows), 2),
  ].join('\n');
}

export function addCapsCommand(program: Command, io: Io): void {
  program
    .command('caps')
    .description(
      "what this host can do for latency measurement: each interface's timestamping capabilities (ethtool -T) and hardware-timestamping config, " +
        'and the clock, busy-polling, real-time throttling and CPU-isolation settings; changes nothing, except that detecting ' +
        'the lab features creates and deletes a scratch network namespace (needs root; --no-lab-features leaves it out)',
    )
    .option('--interface <name...>', 'only these interfaces (default: all; `ip link` lists them)')
    .option('--no-lab-features', 'do not detect what the lab can build (which creates and deletes a scratch network namespace)')
    .option('--json', 'print the report as JSON only')
    .action((flags: { interface?: string[]; labFeatures: boolean; json?: boolean }) => {
      const report = caps({ interfaces: flags.interface });
      const lab: LabFeatures = flags.labFeatures ? labFeatures() : { features: null, featuresUnavailable: 'not asked for (--no-lab-features)' };
      const whole: CapsOutputJSON = { ...resultHeader('caps'), ...report, host: { ...report.host, ...lab } };
      io.stdout.write(flags.json ? `${JSON.stringify(whole)}\n` : `${formatCaps(whole)}\n`);
    });
}
