/**
 * The one rule grammar of the tool (docs/cli.md, "Rules"): `compare
 * --fail-if` takes relative rules, and checking commands the absolute ones.
 *
 *   rule       = relative | percentile | counter | caps
 *   relative   = [METRIC] STATISTIC OP SIGN NUMBER (UNIT | "%")   p99>+10%   p50 > +2us
 *   percentile = [METRIC] STATISTIC OP NUMBER UNIT                rtt.kernel p99.9 <= 30us
 *   counter    = COUNTER OP NUMBER ["%"]                          loss == 0   loss <= 0.1%
 *   caps       = "caps" OP VERDICT                                caps <= warn
 *
 * A rule without a METRIC is about the command's --metric. Parsing gives a
 * typed rule; evaluating says whether its condition holds: `compare` trips
 * when a --fail-if rule holds, a requirement passes when it holds.
 */
import { CAPS_VERDICTS, type CapsVerdict } from '../caps-verdicts';
import { SENDER_COUNTERS } from '../counters';
import { RttProbeError } from '../errors';
import { STANDARD_PERCENTILES, type Histogram } from '../histogram';
import { METRIC_NAMES, type MetricName } from '../metrics';
import { UNITS } from '../options';
import type { ProbeResult } from '../result';

/** The statistics a rule (and compare) can name: the standard percentiles between min and max. */
export const STATISTICS = ['min', ...STANDARD_PERCENTILES.map((p) => `p${p}` as const), 'max'] as const;
export type StatisticName = (typeof STATISTICS)[number];

export const OPERATORS = ['<=', '>=', '==', '!=', '<', '>'] as const;
export type Operator = (typeof OPERATORS)[number];

/** Units of a latency in a rule, as parseDuration spells them. */
export const RULE_UNITS = ['ns', 'us', 'µs', 'ms', 's'] as const;

/** `loss` is the lost counter under the name people say it by; every sender counter can be named too. */
export const RULE_COUNTERS = ['loss', ...SENDER_COUNTERS] as const;
export type RuleCounter = (typeof RULE_COUNTERS)[number];

export { CAPS_VERDICTS, type CapsVerdict };

interface RuleBase {
  /** The rule as written. */
  text: string;
  op: Operator;
}

/** A change from BASE to NEW: `change` is signed, in ns (unit 'ns') or percent of BASE (unit '%'). */
export interface RelativeRule extends RuleBase {
  kind: 'relative';
  metric: MetricName | null;
  statistic: StatisticName;
  change: number;
  unit: 'ns' | '%';
}

export interface PercentileRule extends RuleBase {
  kind: 'percentile';
  metric: MetricName | null;
  statistic: StatisticName;
  valueNs: number;
}

/** A counter as a count (unit 'count') or as a percentage of the probes sent (unit '%'). */
export interface CounterRule extends RuleBase {
  kind: 'counter';
  counter: RuleCounter;
  value: number;
  unit: 'count' | '%';
}

export interface CapsRule extends RuleBase {
  kind: 'caps';
  verdict: CapsVerdict;
}

export type AbsoluteRule = PercentileRule | CounterRule | CapsRule;
export type Rule = RelativeRule | AbsoluteRule;

/** A rule that does not parse or cannot be evaluated; the message names the rule, the column and what was expected. */
export class RuleError extends RttProbeError {
  declare readonly code: 'ERR_RTT_PROBE_RULE';

  constructor(message: string) {
    super(message, 'ERR_RTT_PROBE_RULE');
    this.name = 'RuleError';
  }
}

const includes = <T extends string>(list: readonly T[], word: string): word is T => (list as readonly string[]).includes(word);

/** A cursor over the rule's text; errors point at a 1-based column. */
class Scanner {
  #at = 0;

  constructor(readonly text: string) {}

  #skip(): void {
    while (this.#at < this.text.length && /\s/.test(this.text[this.#at]!)) this.#at++;
  }

  fail(what: string, at = this.#at): never {
    throw new RuleError(`rule "${this.text}": at column ${at + 1}, ${what}`);
  }

  /** The next token matched by `re` (anchored here), or null. */
  take(re: RegExp): { value: string; at: number } | null {
    this.#skip();
    const m = new RegExp(re.source, 'y');
    m.lastIndex = this.#at;
    const found = m.exec(this.text);
    if (!found) return null;
    const at = this.#at;
    this.#at += found[0].length;
    return { value: found[0], at };
  }

  /** What comes next, for an error message. */
  next(): string {
    this.#skip();
    return this.#at < this.text.length ? `"${this.text.slice(this.#at)}"` : 'the end of the rule';
  }

  end(): void {
    this.#skip();
    if (this.#at < this.text.length) this.fail(`expected the end of the rule, got ${this.next()}`);
  }
}

const WORD = /[A-Za-z][\w.]*/;
const NUMBER = /\d+(?:\.\d+)?(?:e[+-]?\d+)?/;

function operator(s: Scanner): Operator {
  const t = s.take(/<=|>=|==|!=|<|>/);
  if (!t) s.fail(`expected an operator (${OPERATORS.join(' ')}), got ${s.next()}`);
  return t.value as Operator;
}

function number(s: Scanner, what: string): number {
  const t = s.take(NUMBER);
  if (!t) s.fail(`expected ${what}, got ${s.next()}`);
  return Number(t.value);
}

function unitNs(s: Scanner, allowPercent: boolean): number | '%' {
  const t = s.take(/%|[A-Za-zµ]+/);
  const units = [...(allowPercent ? ['%'] : []), ...RULE_UNITS].join(', ');
  if (!t) s.fail(`expected a unit (${units}), got ${s.next()}`);
  if (t.value === '%' && allowPercent) return '%';
  if (!includes(RULE_UNITS, t.value)) s.fail(`unknown unit "${t.value}": expected one of ${units}`, t.at);
  return UNITS[t.value]!;
}

function statistic(s: Scanner): StatisticName {
  const t = s.take(WORD);
  if (!t) s.fail(`expected a statistic (${STATISTICS.join(', ')}), got ${s.next()}`);
  if (!includes(STATISTICS, t.value)) s.fail(`unknown statistic "${t.value}": expected one of ${STATISTICS.join(', ')}`, t.at);
  return t.value;
}

/** The statistic and what follows it: a signed change (relative) or a latency (percentile). */
function latencyRule(s: Scanner, metric: MetricName | null, stat: StatisticName): RelativeRule | PercentileRule {
  const op = operator(s);
  const sign = s.take(/[+-]/);
  const value = number(s, sign ? 'a number after the sign' : 'a signed change (+10%, -2us) or a latency (30us)');
  const unit = unitNs(s, sign !== null);
  s.end();
  if (sign) {
    const signed = sign.value === '-' ? -value : value;
    return unit === '%'
      ? { kind: 'relative', text: s.text, metric, statistic: stat, op, change: signed, unit: '%' }
      : { kind: 'relative', text: s.text, metric, statistic: stat, op, change: signed * unit, unit: 'ns' };
  }
  return { kind: 'percentile', text: s.text, metric, statistic: stat, op, valueNs: value * (unit as number) };
}

/** Parses one rule of any form; throws a RuleError naming the rule, the column and what was expected. */
export function parseRule(text: string): Rule {
  const s: Scanner = new Scanner(text);
  const first = s.take(WORD);
  if (!first) {
    s.fail(`expected a metric (${METRIC_NAMES.join(', ')}), a statistic (${STATISTICS.join(', ')}), a counter (${RULE_COUNTERS.join(', ')}) or caps, got ${s.next()}`);
  }
  const word = first.value;
  if (includes(METRIC_NAMES, word)) return latencyRule(s, word, statistic(s));
  if (includes(STATISTICS, word)) return latencyRule(s, null, word);
  if (includes(RULE_COUNTERS, word)) {
    const op = operator(s);
    const value = number(s, 'a count or a percentage of the probes sent (0, 0.1%)');
    const percent = s.take(/%/);
    s.end();
    return { kind: 'counter', text, counter: word, op, value, unit: percent ? '%' : 'count' };
  }
  if (word === 'caps') {
    const op = operator(s);
    const v = s.take(WORD);
    if (!v || !includes(CAPS_VERDICTS, v.value)) s.fail(`expected a caps verdict (${CAPS_VERDICTS.join(', ')}), got ${v ? `"${v.value}"` : s.next()}`, v?.at);
    s.end();
    return { kind: 'caps', text, op, verdict: v.value };
  }
  if (/^p\d/.test(word)) s.fail(`unknown statistic "${word}": expected one of ${STATISTICS.join(', ')}`, first.at);
  if (word.includes('.')) s.fail(`unknown metric "${word}": expected one of ${METRIC_NAMES.join(', ')}`, first.at);
  s.fail(
    `unknown "${word}": expected a metric (${METRIC_NAMES.join(', ')}), a statistic (${STATISTICS.join(', ')}), ` +
      `a counter (${RULE_COUNTERS.join(', ')}) or caps`,
    first.at,
  );
}

export function compareWith(op: Operator, left: number, right: number): boolean {
  switch (op) {
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '>=':
      return left >= right;
    case '==':
      return left === right;
    case '!=':
      return left !== right;
  }
}

/** A statistic of a histogram, in ns. */
export function statisticOf(h: Histogram, stat: StatisticName): number {
  if (stat === 'min') return h.min;
  if (stat === 'max') return h.max;
  return h.percentile(Number(stat.slice(1)));
}

/** NEW minus BASE in ns, and as a percentage of BASE (0 when both are 0). */
export function change(base: number, next: number): { difference: number; percent: number } {
  const difference = next - base;
  return { difference, percent: base === 0 ? (difference === 0 ? 0 : Math.sign(difference) * Infinity) : (100 * difference) / base };
}

export interface RelativeOutcome {
  holds: boolean;
  base: number;
  new: number;
  difference: number;
  percent: number;
}

/** Whether a relative rule holds for a change of its statistic from `base` to `next` (ns). */
export function relativeOutcome(rule: RelativeRule, base: number, next: number): RelativeOutcome {
  const c = change(base, next);
  return { holds: compareWith(rule.op, rule.unit === '%' ? c.percent : c.difference, rule.change), base, new: next, ...c };
}

/** Whether a relative rule holds for the change from BASE's histogram to NEW's (both of the rule's metric). */
export function evaluateRelative(rule: RelativeRule, base: Histogram, next: Histogram): RelativeOutcome {
  return relativeOutcome(rule, statisticOf(base, rule.statistic), statisticOf(next, rule.statistic));
}

export interface AbsoluteOutcome {
  holds: boolean;
  /** What was compared with the rule's value: ns, a count, a percentage, or the verdict. */
  measured: number | CapsVerdict;
}

/** Whether a caps rule holds for the host's worst caps verdict: a result has nothing to add to it. */
export function evaluateCaps(rule: CapsRule, caps: CapsVerdict): AbsoluteOutcome {
  return { holds: compareWith(rule.op, CAPS_VERDICTS.indexOf(caps), CAPS_VERDICTS.indexOf(rule.verdict)), measured: caps };
}

/**
 * Whether an absolute rule holds for one result. `metric` stands in for a
 * rule that names none; `caps` is the host's verdict, which caps rules need.
 */
export function evaluateAbsolute(rule: AbsoluteRule, result: ProbeResult, context: { metric: MetricName; caps?: CapsVerdict }): AbsoluteOutcome {
  switch (rule.kind) {
    case 'percentile': {
      const metric = rule.metric ?? context.metric;
      const h = result.metrics[metric];
      if (!h || h.count === 0) throw new RuleError(`rule "${rule.text}": the result has no ${metric} samples (${result.missing[metric] ?? 'not measured'})`);
      const measured = statisticOf(h, rule.statistic);
      return { holds: compareWith(rule.op, measured, rule.valueNs), measured };
    }
    case 'counter': {
      const count = result.counters[rule.counter === 'loss' ? 'lost' : rule.counter];
      const sent = result.counters.sent;
      const measured = rule.unit === '%' ? (sent === 0 ? 0 : (100 * count) / sent) : count;
      return { holds: compareWith(rule.op, measured, rule.value), measured };
    }
    case 'caps': {
      if (context.caps === undefined) throw new RuleError(`rule "${rule.text}": no caps verdict to check it against`);
      return evaluateCaps(rule, context.caps);
    }
  }
}
