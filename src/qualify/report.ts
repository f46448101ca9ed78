/**
 * What a qualification prints and keeps: the plan before it starts, a line
 * per cell, the verdict table with its summary line, the `--json` document
 * (kind rtt-probe-qualify), and the `--out` directory.
 */
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { CapsReport } from '../caps';
import { OutputPathError } from '../errors';
import { htmlReport, type ReportPreface } from '../report/html';
import { probeSource } from '../report/inputs';
import { prepareDirectory } from '../report/output';
import type { ProbeResultJSON } from '../result';
import { resultHeader, type ResultHeader } from '../schema';
import type { ProbeProgress } from '../session';
import { micros, pad } from '../text';
import type { Cell } from './matrix';
import { PILOT_PROBES, type Plan, type Qualification } from './run';
import type { QualifyProfile } from './profile';
import type { Check, CellRun, CellStatus, RuleVerdict, Verdicts } from './verdicts';

export interface QualifyCellJSON extends Cell {
  status: CellStatus;
  reason: string | null;
  result: ProbeResultJSON | null;
}

/** `rtt-probe qualify --json`, and verdicts.json of --out. */
export interface QualifyJSON extends ResultHeader<'qualify'>, Verdicts {
  target: string;
  /** The effective profile: the file's (or the default), --require added. */
  profile: QualifyProfile;
  /** The interface of the route to the target, and whether it has hardware timestamping. */
  interface: string | null;
  hardwareTimestamping: boolean;
  /** The pilot's mean round trip, its cost besides the round trips, and the estimate made from them, ns. */
  roundTripNs: number;
  sessionNs: number;
  estimateNs: number;
  /** How long the cells took. */
  elapsedNs: number;
  caps: CapsReport | null;
  cells: QualifyCellJSON[];
  interrupted: boolean;
}

export function qualifyJSON(q: Qualification, profile: QualifyProfile): QualifyJSON {
  return {
    ...resultHeader('qualify'),
    target: q.plan.target,
    profile,
    interface: q.plan.path.interface,
    hardwareTimestamping: q.plan.path.hardwareTimestamping,
    roundTripNs: q.plan.roundTripNs,
    sessionNs: q.plan.sessionNs,
    estimateNs: q.plan.estimateNs,
    elapsedNs: q.elapsedNs,
    caps: q.plan.caps ?? null,
    cells: q.runs.map((r) => ({ ...r.cell, status: r.status, reason: r.reason, result: r.result?.toJSON() ?? null })),
    interrupted: q.interrupted,
    ...q.verdicts,
  };
}

function seconds(ns: number): string {
  return ns < 60e9 ? `${(ns / 1e9).toFixed(1)} s` : `${Math.floor(ns / 60e9)} min ${Math.round((ns % 60e9) / 1e9)} s`;
}

function cellText(c: Cell): string {
  const mode = c.rate === null ? 'ping-pong' : `rate ${c.rate}/s`;
  return `${c.transport}, ${c.timestamps} timestamps, ${c.size} B, ${mode}`;
}

/** The matrix, one line per cell, and how long it should take. */
export function formatPlan(plan: Plan, profile: QualifyProfile): string {
  const runnable = plan.cells.filter((c) => c.skip === null).length;
  let n = 0;
  const rows = plan.cells.map(({ cell, skip }) => [skip === null ? String(++n) : '-', cell.id, skip === null ? cellText(cell) : `skipped: ${skip}`]);
  const hw = plan.path.hardwareTimestamping ? 'hardware timestamping' : 'no hardware timestamping';
  return [
    `qualify ${plan.target} via ${plan.path.interface ?? 'an unknown interface'} (${hw})`,
    `matrix: ${plan.cells.length} cells, ${runnable} to run, ${profile.count} probes each`,
    pad(rows.map(([a, b, c]) => [`  ${a}`, b!, c!]), 3),
    `estimated ${seconds(plan.estimateNs)}: rate cells count / rate; ping-pong cells count x ${micros(plan.roundTripNs)} µs; ` +
      `each cell ${micros(plan.sessionNs / 1000)} ms to start and end: the mean round trip and the session cost of ${PILOT_PROBES} ping-pong probes measured just now`,
  ].join('\n');
}

/** `the cells took 8.3 s (estimated 7.9 s)`. */
export function elapsedLine(q: QualifyJSON): string {
  return `the cells took ${seconds(q.elapsedNs)} (estimated ${seconds(q.estimateNs)})`;
}

/** `[2/8] udp-software-64-rate10000: 300 sent, 300 received, rtt.user p50 12.1 µs p99 30.5 µs`. */
export function formatCellLine(run: CellRun, index: number, of: number): string {
  const head = `[${index}/${of}] ${run.cell.id}`;
  if (run.result === null) return `${head}: ${run.status}${run.reason ? `: ${run.reason}` : ''}`;
  const { sent, received } = run.result.counters;
  const rtt = run.result.metrics['rtt.user'];
  const latency = rtt && rtt.count > 0 ? `, rtt.user p50 ${micros(rtt.percentile(50))} µs p99 ${micros(rtt.percentile(99))} µs` : '';
  return `${head}: ${sent} sent, ${received} received${latency}${run.status === 'interrupted' ? ' (interrupted)' : ''}`;
}

function measuredText(c: Check): string {
  if (c.measured === null) return '-';
  if (typeof c.measured === 'string') return c.measured;
  if (c.unit === 'ns') return `${micros(c.measured)} µs`;
  return c.unit === '%' ? `${c.measured.toFixed(3)}%` : String(c.measured);
}

/** cell, rule, verdict, measured, reason. */
function checkRow(c: Check): string[] {
  return [c.cell ?? 'host', c.rule, c.verdict === 'ok' ? 'ok' : 'FAIL', measuredText(c), c.reason ?? ''];
}

/** verdict, rule, detail. */
function ruleRow(r: RuleVerdict): string[] {
  const verdict = r.verdict === 'ok' ? 'ok' : r.verdict === 'fail' ? 'FAIL' : 'UNCHECKED';
  const detail = r.verdict === 'unchecked' ? r.reason! : `${r.checked - r.failed} of ${plural(r.checked, 'check')} ok`;
  return [verdict, r.rule, detail];
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `qualify: FAIL: 1 of 4 rules failed, 1 unchecked; 8 cells run, 8 skipped`. */
export function summaryLine(q: QualifyJSON): string {
  const failed = q.rules.filter((r) => r.verdict === 'fail').length;
  const unchecked = q.rules.filter((r) => r.verdict === 'unchecked').length;
  const count = (s: CellStatus) => q.cells.filter((c) => c.status === s).length;
  const ran = count('measured') + count('interrupted') + count('failed');
  const rules = failed + unchecked === 0 ? `${plural(q.rules.length, 'rule')} ok` : `${failed} of ${plural(q.rules.length, 'rule')} failed${unchecked > 0 ? `, ${unchecked} unchecked` : ''}`;
  const cells = `${plural(ran, 'cell')} run${count('failed') > 0 ? ` (${count('failed')} failed)` : ''}, ${count('skipped')} skipped${count('not run') > 0 ? `, ${count('not run')} not run` : ''}`;
  const verdict = q.verdict === 'pass' ? 'PASS' : q.verdict === 'fail' ? 'FAIL' : 'INTERRUPTED (verdicts cover what was measured before the stop)';
  return `qualify: ${verdict}: ${rules}; ${cells}`;
}

/** The verdicts as the HTML report leads with them: the summary line, each rule's verdict, and every check. */
function verdictPreface(q: QualifyJSON): ReportPreface {
  return {
    heading: 'Verdicts',
    lines: [summaryLine(q), elapsedLine(q)],
    tables: [
      { caption: 'rules', columns: ['verdict', 'rule', 'detail'], rows: q.rules.map(ruleRow) },
      { caption: 'checks', columns: ['cell', 'rule', 'verdict', 'measured', 'reason'], rows: q.checks.map(checkRow) },
    ],
  };
}

/** The verdict table (cell × rule: verdict and measured value), each rule's verdict, and the summary line. */
export function formatVerdicts(q: QualifyJSON): string {
  const checks = q.checks.map(checkRow);
  const table = checks.length > 0 ? pad([['cell', 'rule', 'verdict', 'measured', ''], ...checks].map((r) => [r[0]!, r[1]!, r[2]!, r[4] ? `${r[3]!}  ${r[4]}` : r[3]!]), 3) : 'no checks were made';
  return [table, '', 'rules', pad(q.rules.map(ruleRow).map(([verdict, ...rest]) => [`  ${verdict!}`, ...rest]), 3), ...capsToFix(q), '', summaryLine(q)].join('\n');
}

/** Where a caps rule failed: the settings caps judged warn or fail, each with its fix (`rtt-probe caps` has them all). */
function capsToFix(q: QualifyJSON): string[] {
  if (!q.caps || !q.checks.some((c) => c.cell === null && c.verdict === 'fail')) return [];
  const findings = q.caps.verdicts.filter((f) => f.verdict === 'warn' || f.verdict === 'fail');
  return ['', 'caps to fix', ...findings.map((f) => `  ${f.verdict.padEnd(4)}  ${f.subject} ${f.rule}: ${f.value}${f.fix ? `; fix: ${f.fix}` : ''}`)];
}

/**
 * Makes (or takes) the --out directory before anything runs: one that
 * cannot be written, or an existing non-empty one without `force`, is an
 * OutputPathError (exit 2).
 */
export function prepareOut(dir: string, force: boolean): void {
  prepareDirectory('the --out directory', dir);
  if (!force && readdirSync(dir).length > 0) {
    throw new OutputPathError(`the --out directory "${dir}" is not empty: give a new or empty directory, or --force to write into it`, 'ENOTEMPTY');
  }
}

/** Writes results/CELL.json per cell that measured, caps.json, profile.json, verdicts.json and report.html; returns the files written. */
export function writeOut(dir: string, json: QualifyJSON, timelines: ReadonlyMap<string, ProbeProgress[]>): string[] {
  const files: [string, string][] = [];
  const measured = json.cells.filter((c) => c.result !== null);
  for (const c of measured) files.push([path.join('results', `${c.id}.json`), `${JSON.stringify(c.result)}\n`]);
  files.push(['caps.json', `${JSON.stringify(json.caps, null, 2)}\n`]);
  files.push(['profile.json', `${JSON.stringify(json.profile, null, 2)}\n`]);
  files.push(['verdicts.json', `${JSON.stringify(json)}\n`]);
  if (measured.length > 0) {
    const sources = measured.map((c) => probeSource(c.id, c.result!, timelines.get(c.id) ?? null));
    files.push(['report.html', htmlReport(sources, `rtt-probe qualify ${json.target}: ${json.verdict}`, verdictPreface(json))]);
  }
  mkdirSync(path.join(dir, 'results'), { recursive: true });
  for (const [name, text] of files) writeFileSync(path.join(dir, name), text);
  return files.map(([name]) => name);
}
