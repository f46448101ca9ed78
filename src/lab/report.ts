/**
 * The lab's result as JSON (`rtt-probe lab --json`): the settings, every
 * topology with its status (measured, skipped with the reason, failed with
 * the error) and every run's full sender result and reflector counters.
 * Summaries, differences and budgets are derived from it (summary.ts,
 * budget.ts), so a saved report can be re-read by `rtt-probe budget`.
 */
import type { HostInfo } from '../host';
import type { Protocol } from '../options';
import { resultHeader, type ResultHeader } from '../schema';
import type { ProbeResultJSON, ReflectorResult } from '../result';
import type { EndSettings } from './ends';
import type { TopologyName } from './topologies';

export const LAB_REPORT_KIND = resultHeader('lab').kind;

export interface LabSettingsJSON extends EndSettings {
  /** Each topology is measured in each of these, in this order (reports written before TCP have none: UDP). */
  protocols: Protocol[];
  topologies: TopologyName[];
  baseline: TopologyName;
  sizes: number[];
  repeat: number;
  /** The far reflector in --remote runs; null when both ends are on this host. */
  remote: { host: string; address: string; port: number } | null;
}

export interface LabRunJSON {
  protocol: Protocol;
  size: number;
  /** 1-based repeat round. */
  repeat: number;
  sender: ProbeResultJSON;
  reflector: ReflectorResult | null;
}

export type TopologyStatus = 'measured' | 'skipped' | 'failed' | 'interrupted';

export interface LabTopologyJSON {
  name: TopologyName;
  description: string;
  from: string;
  to: string;
  status: TopologyStatus;
  /** Why it was skipped or failed; null when measured. */
  reason: string | null;
  runs: LabRunJSON[];
}

export interface LabReportJSON extends ResultHeader<'lab'> {
  /** 'local': both ends on this host; 'remote': the reflector on another host. */
  hosttype: 'local' | 'remote';
  settings: LabSettingsJSON;
  host: HostInfo;
  startedAt: string;
  endedAt: string;
  /** True when SIGINT/SIGTERM ended the run early; results hold what was measured. */
  interrupted: boolean;
  /** Leftovers of earlier, killed runs that this run removed first. */
  removedLeftovers: string[];
  /** Cleanup steps that failed (empty when everything was removed). */
  cleanupErrors: string[];
  topologies: LabTopologyJSON[];
}

/** The protocols a report measured; UDP for reports written before the lab took TCP. */
export function reportProtocols(report: LabReportJSON): Protocol[] {
  return report.settings.protocols ?? ['udp'];
}

/** The report with only the runs of one protocol, for what summarizes runs of one kind (summary, budget, plots). */
export function onProtocol(report: LabReportJSON, protocol: Protocol): LabReportJSON {
  return {
    ...report,
    settings: { ...report.settings, protocols: [protocol] },
    topologies: report.topologies.map((t) => ({ ...t, runs: t.runs.filter((r) => (r.protocol ?? 'udp') === protocol) })),
  };
}

/**
 * A topology's name as a hop where protocols meet (budget inputs, hlog tags):
 * bare for UDP, as before the lab took TCP, and with /tcp for TCP.
 */
export function hopLabel(topology: string, protocol: Protocol): string {
  return protocol === 'udp' ? topology : `${topology}/${protocol}`;
}
