/**
 * The lab's result as JSON (`rtt-probe lab --json`): the settings, every
 * topology with its status (measured, skipped with the reason, failed with
 * the error) and every run's full sender result and reflector counters.
 * Summaries, differences and budgets are derived from it (summary.ts,
 * budget.ts), so a saved report can be re-read by `rtt-probe budget`.
 */
import type { HostInfo } from '../host';
import { resultHeader, type ResultHeader } from '../schema';
import type { ProbeResultJSON, ReflectorResult } from '../result';
import type { EndSettings } from './ends';
import type { TopologyName } from './topologies';

export const LAB_REPORT_KIND = resultHeader('lab').kind;

/** The lab measures UDP only; said wherever results are shown. */
export const PROTOCOL_NOTE = 'UDP only: rtt-probe has no TCP mode';

export interface LabSettingsJSON extends EndSettings {
  topologies: TopologyName[];
  baseline: TopologyName;
  sizes: number[];
  repeat: number;
  /** The far reflector in --remote runs; null when both ends are on this host. */
  remote: { host: string; address: string; port: number } | null;
}

export interface LabRunJSON {
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
  protocol: 'UDP';
  note: string;
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
