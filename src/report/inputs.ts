/**
 * What an HTML report is made from: probe results (with the progress
 * snapshots a run recorded, when the report is written by the run itself),
 * lab reports (with their embedded budget) and budget reports, each read
 * from a file and checked, so that a file that cannot serve is an
 * InputError naming the file and what the report takes.
 */
import type { BudgetReport } from '../lab/budget';
import { InputError, fileLabel, labelledFile, readJsonInput } from '../lab/budget-input';
import type { LabReportJSON } from '../lab/report';
import { ProbeResult, type KeptProbeResultJSON, type ProbeResultJSON } from '../result';
import { checkResult } from '../schema';
import type { ProbeProgress } from '../session';

export const REPORT_INPUTS =
  'give a file written by `rtt-probe probe --json`, `rtt-probe lab --json` (or --out) or `rtt-probe budget --json`';

export interface ProbeSource {
  kind: 'probe';
  label: string;
  result: ProbeResultJSON;
  /** Progress snapshots taken during the run, oldest first; null when none were recorded (a saved result has none). */
  timeline: ProbeProgress[] | null;
}

export interface LabSource {
  kind: 'lab';
  label: string;
  report: LabReportJSON;
  /** The lab's own budget (rtt.user at its first size), when it had one. */
  budget: BudgetReport | null;
}

export interface BudgetSource {
  kind: 'budget';
  label: string;
  metric: string;
  baseline: string;
  budget: BudgetReport;
}

export type ReportSource = ProbeSource | LabSource | BudgetSource;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isBudgetReport(json: unknown): json is BudgetReport {
  return isObject(json) && isObject(json['method']) && isObject(json['settings']) && Array.isArray(json['entries']) && Array.isArray(json['costs']);
}

/** A probe result as a source: checked and normalized (older results gain today's defaults). */
export function probeSource(label: string, json: KeptProbeResultJSON, timeline: ProbeProgress[] | null = null, source?: string): ProbeSource {
  return { kind: 'probe', label, result: ProbeResult.fromJSON(json, source).toJSON(), timeline };
}

/** A lab report as a source; `budget` is taken from the report's own, as `lab --json` writes it. */
export function labSource(label: string, report: LabReportJSON & { budget?: BudgetReport | null }): LabSource {
  return { kind: 'lab', label, report, budget: isBudgetReport(report.budget) ? report.budget : null };
}

function budgetSource(label: string, json: BudgetReport): BudgetSource {
  const { metric, baseline } = json as BudgetReport & { metric?: unknown; baseline?: unknown };
  return { kind: 'budget', label, metric: String(metric ?? 'rtt.user'), baseline: String(baseline ?? ''), budget: json };
}

function sourceOf(json: unknown, file: string, label: string): ReportSource {
  // Budget reports written before the schema carry no kind; every input else is checked against the schema.
  if (isObject(json) && json['schemaVersion'] === undefined && isBudgetReport(json)) return budgetSource(label, json);
  const kind = checkResult(json, ['probe', 'lab', 'budget'], file);
  if (kind === 'lab') return labSource(label, json as LabReportJSON);
  if (kind === 'budget') return budgetSource(label, json as BudgetReport);
  return probeSource(label, json as KeptProbeResultJSON, null, file);
}

/** Reads every FILE or LABEL=FILE argument as a report source; labels must come out unique. */
export function loadReportSources(args: readonly string[]): ReportSource[] {
  const sources = args.map((arg) => {
    const { label, file } = labelledFile(arg);
    return sourceOf(readJsonInput(file, REPORT_INPUTS), file, label ?? fileLabel(file));
  });
  const seen = new Set<string>();
  for (const { label } of sources) {
    if (seen.has(label)) throw new InputError(`two inputs are named "${label}": name them apart with LABEL=FILE`);
    seen.add(label);
  }
  return sources;
}
