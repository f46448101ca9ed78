/** `rtt-probe compare BASE NEW`: how NEW's latency differs from BASE's, with intervals, and --fail-if rules that gate on it. */
import { InvalidArgumentError, type Command } from 'commander';
import { METRIC_NAMES, type MetricName } from '../../metrics';
import {
  COMPARE_KIND,
  DEFAULT_COMPARE_SETTINGS,
  checkRules,
  compareRuns,
  loadCompareInput,
  type Comparison,
  type CompareInput,
  type RuleOutcome,
} from '../../report/compare';
import { RuleError, parseRule, type RelativeRule } from '../../report/rules';
import { micros, pad } from '../../text';
import { integer, names } from '../arguments';
import { EXIT } from '../exit-codes';
import type { Io, Outcome } from '../io';

interface CompareFlags {
  metric: MetricName;
  failIf?: RelativeRule[];
  significant?: boolean;
  json?: boolean;
  seed: number;
  resamples: number;
}

function metricName(value: string): MetricName {
  return names(METRIC_NAMES, 'metric')(value)[0]!;
}

/** --fail-if takes relative rules only, and may be repeated. */
function failIf(value: string, previous: RelativeRule[] | undefined): RelativeRule[] {
  let rule;
  try {
    rule = parseRule(value);
  } catch (error) {
    if (error instanceof RuleError) throw new InvalidArgumentError(`${error.message}. See "Rules" in docs/cli.md.`);
    throw error;
  }
  if (rule.kind !== 'relative') {
    throw new InvalidArgumentError(`rule "${value}" is an absolute rule; compare takes changes from BASE to NEW, e.g. p99>+10% or p50>+2us.`);
  }
  return [...(previous ?? []), rule];
}

const signed = (ns: number) => `${ns >= 0 ? '+' : '-'}${micros(Math.abs(ns))}`;
const percentText = (p: number) => (Number.isFinite(p) ? `${p >= 0 ? '+' : ''}${p.toFixed(1)}%` : 'n/a');
const yesNo = (b: boolean | null) => (b === null ? '-' : b ? 'yes' : 'no');

function where(c: Pick<Comparison, 'topology' | 'size' | 'metric'>): string {
  return c.topology === null ? c.metric : `${c.topology}, ${c.size} B, ${c.metric}`;
}

function formatComparison(c: Comparison): string {
  const lab = c.statistics[0]?.rounds !== undefined;
  const header = ['statistic', 'BASE µs', 'NEW µs', 'change µs', '%', '95% interval µs', 'beyond spread', ...(lab ? ['rounds apart'] : [])];
  const rows = c.statistics.map((s) => [
    s.statistic,
    micros(s.base),
    micros(s.new),
    signed(s.difference),
    percentText(s.percent),
    `${signed(s.ci[0])} .. ${signed(s.ci[1])}`,
    yesNo(s.significant),
    ...(s.rounds ? [yesNo(s.rounds.distinct)] : []),
  ]);
  return `${where(c)}: ${c.counts.base} samples in BASE, ${c.counts.new} in NEW\n${pad([header, ...rows])}`;
}

function formatRule(r: RuleOutcome): string {
  const verdict = r.tripped ? 'TRIPPED' : r.holds ? 'holds, but the interval includes zero (--significant): not tripped' : 'not tripped';
  return `--fail-if ${r.rule}  ${where(r)}: ${r.statistic} ${signed(r.difference)} µs (${percentText(r.percent)}): ${verdict}`;
}

function describe(input: CompareInput): { file: string; kind: CompareInput['kind'] } {
  return { file: input.file, kind: input.kind };
}

function runCompare(io: Io, baseFile: string, newFile: string, flags: CompareFlags): number {
  const [base, next] = [loadCompareInput(baseFile, 'BASE'), loadCompareInput(newFile, 'NEW')];
  const failIfRules = flags.failIf ?? [];
  const metrics = [...new Set([flags.metric, ...failIfRules.map((r) => r.metric ?? flags.metric)])];
  const settings = { resamples: flags.resamples, seed: flags.seed };
  const comparisons = compareRuns(base, next, metrics, settings);
  const rules = checkRules(failIfRules, comparisons, flags.metric, flags.significant ?? false);
  const tripped = rules.filter((r) => r.tripped);
  if (flags.json) {
    const json = {
      kind: COMPARE_KIND,
      base: describe(base),
      new: describe(next),
      metric: flags.metric,
      ...settings,
      confidence: DEFAULT_COMPARE_SETTINGS.confidence,
      significantOnly: flags.significant ?? false,
      comparisons,
      rules,
      tripped: tripped.length > 0,
    };
    io.stdout.write(`${JSON.stringify(json)}\n`);
  } else {
    const lines = [
      `compare BASE ${baseFile} -> NEW ${newFile}: change is NEW - BASE; 95% intervals from ${flags.resamples} resamples of the histograms (seed ${flags.seed});`,
      'beyond spread: the interval excludes zero' + (base.kind === 'lab' ? "; rounds apart: the repeat rounds' ranges do not overlap" : ''),
      ...comparisons.map((c) => `\n${formatComparison(c)}`),
    ];
    if (rules.length > 0) lines.push('', ...rules.map(formatRule));
    io.stdout.write(`${lines.join('\n')}\n`);
  }
  if (tripped.length === 0) return EXIT.ok;
  io.stderr.write(`rtt-probe: compare: ${tripped.length} of ${rules.length} rule checks tripped: ${[...new Set(tripped.map((r) => r.rule))].join(', ')}\n`);
  return EXIT.check;
}

export function addCompareCommand(program: Command, io: Io, outcome: Outcome): void {
  program
    .command('compare')
    .description(
      'compare two probe results or two lab reports: each statistic in BASE and NEW, the change with its interval from resampling the histograms, ' +
        `and --fail-if rules that exit ${EXIT.check} when they trip (for CI jobs)`,
    )
    .argument('<base>', 'the result to compare against: a file from `rtt-probe probe --json` or `rtt-probe lab --json`')
    .argument('<new>', 'the result to judge, of the same kind')
    .option('--metric <name>', `the metric to compare, from ${METRIC_NAMES.join(', ')}`, metricName, 'rtt.user' as MetricName)
    .option('--fail-if <rule>', `exit ${EXIT.check} when the change from BASE to NEW meets this rule, e.g. "p99>+10%" or "p50>+2us" (repeatable; see Rules in docs/cli.md)`, failIf)
    .option('--significant', 'a rule trips only when the change is also beyond the runs\' spread (its interval excludes zero)')
    .option('--seed <n>', 'seed of the resampling', integer(0, 2 ** 32 - 1), DEFAULT_COMPARE_SETTINGS.seed)
    .option('--resamples <n>', 'resamples per statistic (more: steadier intervals, slower)', integer(100, 1_000_000), DEFAULT_COMPARE_SETTINGS.resamples)
    .option('--json', 'print the comparison as JSON only')
    .action((base: string, next: string, flags: CompareFlags) => {
      outcome.exit = runCompare(io, base, next, flags);
    });
}
