/**
 * Verdicts of a qualification: each rule checked against each cell that ran
 * and can have what it names (a caps rule once, against the worst verdict of
 * the caps snapshot), then each rule's verdict over all its cells. A rule
 * that applies to no cell that ran is `unchecked`, which fails the
 * qualification: a rule nothing measured must not pass for one that held.
 */
import type { CapsReport } from '../caps';
import { RuleError, evaluateAbsolute, evaluateCaps, type CapsRule } from '../report/rules';
import type { ProbeResult } from '../result';
import { cellCanMeasure, type Cell, type PathFacts } from './matrix';
import type { QualifyRule } from './profile';

/**
 * measured: the cell ran to its count; interrupted: a signal stopped it (its
 * result holds what it measured); failed: the session could not run;
 * skipped: this host cannot run it; not run: the matrix was stopped first.
 */
export const CELL_STATUSES = ['measured', 'interrupted', 'failed', 'skipped', 'not run'] as const;
export type CellStatus = (typeof CELL_STATUSES)[number];

export interface CellRun {
  cell: Cell;
  status: CellStatus;
  /** Why it was skipped or failed; null otherwise. */
  reason: string | null;
  result: ProbeResult | null;
}

/** One rule against one cell (`cell` null: a caps rule, checked once against the host). */
export interface Check {
  rule: string;
  cell: string | null;
  verdict: 'ok' | 'fail';
  /** ns for a latency, a count or a percentage for a counter, the worst verdict for caps; null where nothing could be measured. */
  measured: number | string | null;
  /** What `measured` is: ns, a count, a percentage of the probes sent, or a caps verdict. */
  unit: 'ns' | 'count' | '%' | 'verdict';
  /** Why a check failed without a measurement; null otherwise. */
  reason: string | null;
}

export const RULE_VERDICTS = ['ok', 'fail', 'unchecked'] as const;

export interface RuleVerdict {
  rule: string;
  verdict: (typeof RULE_VERDICTS)[number];
  /** Cells (or the host, for caps) it was checked against, and how many of them failed it. */
  checked: number;
  failed: number;
  /** Why it is unchecked; null otherwise. */
  reason: string | null;
}

export const QUALIFY_VERDICTS = ['pass', 'fail', 'interrupted'] as const;
export type QualifyVerdict = (typeof QUALIFY_VERDICTS)[number];

export interface Verdicts {
  verdict: QualifyVerdict;
  rules: RuleVerdict[];
  checks: Check[];
}

function checkCell(rule: Exclude<QualifyRule, CapsRule>, run: CellRun): Check {
  const base = { rule: rule.text, cell: run.cell.id, unit: rule.kind === 'percentile' ? ('ns' as const) : rule.unit };
  if (run.status === 'failed') return { ...base, verdict: 'fail', measured: null, reason: `the run failed: ${run.reason}` };
  try {
    const { holds, measured } = evaluateAbsolute(rule, run.result!, { metric: 'rtt.user' });
    return { ...base, verdict: holds ? 'ok' : 'fail', measured, reason: null };
  } catch (error) {
    if (!(error instanceof RuleError)) throw error;
    return { ...base, verdict: 'fail', measured: null, reason: error.message };
  }
}

function checkCaps(rule: CapsRule, caps: CapsReport | undefined): Check {
  const base = { rule: rule.text, cell: null, unit: 'verdict' as const };
  if (caps === undefined) return { ...base, verdict: 'fail', measured: null, reason: 'no caps snapshot could be taken' };
  const { holds, measured } = evaluateCaps(rule, caps.summary.worst);
  return { ...base, verdict: holds ? 'ok' : 'fail', measured, reason: null };
}

/** Why a latency rule applies to no cell that ran. */
function uncheckedReason(rule: QualifyRule, runs: readonly CellRun[]): string {
  const ran = runs.filter((r) => r.status !== 'skipped' && r.status !== 'not run');
  if (ran.length === 0) return 'no cell ran';
  const metric = rule.kind === 'percentile' ? rule.metric : null;
  const skipped = runs.filter((r) => r.status === 'skipped').map((r) => r.reason);
  const why = skipped.length > 0 ? ` (skipped: ${[...new Set(skipped)].join('; ')})` : '';
  return `no cell that ran can have ${metric}${why}`;
}

export function judge(rules: readonly QualifyRule[], runs: readonly CellRun[], caps: CapsReport | undefined, path: PathFacts, interrupted: boolean): Verdicts {
  const checks: Check[] = [];
  const verdicts = rules.map((rule): RuleVerdict => {
    let mine: Check[];
    if (rule.kind === 'caps') {
      mine = [checkCaps(rule, caps)];
    } else {
      const applies = runs.filter(
        (r) => (r.result !== null || r.status === 'failed') && (rule.kind !== 'percentile' || cellCanMeasure(r.cell, rule.metric, path)),
      );
      mine = applies.map((r) => checkCell(rule, r));
    }
    checks.push(...mine);
    const failed = mine.filter((c) => c.verdict === 'fail').length;
    if (mine.length === 0) return { rule: rule.text, verdict: 'unchecked', checked: 0, failed: 0, reason: uncheckedReason(rule, runs) };
    return { rule: rule.text, verdict: failed > 0 ? 'fail' : 'ok', checked: mine.length, failed, reason: null };
  });
  const verdict: QualifyVerdict = interrupted ? 'interrupted' : verdicts.every((v) => v.verdict === 'ok') ? 'pass' : 'fail';
  return { verdict, rules: verdicts, checks };
}
