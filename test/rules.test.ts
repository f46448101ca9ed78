/**
 * The one rule grammar (docs/cli.md, "Rules"): every form parses into its
 * typed rule, a rule that does not parse says which rule, where and what
 * was expected, and evaluation says whether the condition holds.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { binding } from '../src/binding';
import { SENDER_COUNTERS } from '../src/counters';
import { Histogram } from '../src/histogram';
import { METRIC_NAMES } from '../src/metrics';
import { ProbeResult, type ProbeResultJSON } from '../src/result';
import {
  CAPS_VERDICTS,
  OPERATORS,
  RULE_COUNTERS,
  RULE_UNITS,
  RuleError,
  STATISTICS,
  evaluateAbsolute,
  evaluateRelative,
  parseRule,
  type AbsoluteRule,
  type RelativeRule,
} from '../src/report/rules';

describe('parseRule: every form of the grammar', () => {
  it.each([
    ['p99>+10%', { kind: 'relative', metric: null, statistic: 'p99', op: '>', change: 10, unit: '%' }],
    ['p50 > +2us', { kind: 'relative', metric: null, statistic: 'p50', op: '>', change: 2000, unit: 'ns' }],
    ['rtt.kernel max >= +1.5ms', { kind: 'relative', metric: 'rtt.kernel', statistic: 'max', op: '>=', change: 1_500_000, unit: 'ns' }],
    ['p99.9<-5%', { kind: 'relative', metric: null, statistic: 'p99.9', op: '<', change: -5, unit: '%' }],
    ['rtt.kernel p99.9 <= 30us', { kind: 'percentile', metric: 'rtt.kernel', statistic: 'p99.9', op: '<=', valueNs: 30_000 }],
    ['residence p50 < 800 ns', { kind: 'percentile', metric: 'residence', statistic: 'p50', op: '<', valueNs: 800 }],
    ['min != 2µs', { kind: 'percentile', metric: null, statistic: 'min', op: '!=', valueNs: 2000 }],
    ['p99.99 <= 1s', { kind: 'percentile', metric: null, statistic: 'p99.99', op: '<=', valueNs: 1e9 }],
    ['loss == 0', { kind: 'counter', counter: 'loss', op: '==', value: 0, unit: 'count' }],
    ['loss <= 0.1%', { kind: 'counter', counter: 'loss', op: '<=', value: 0.1, unit: '%' }],
    ['duplicates<10', { kind: 'counter', counter: 'duplicates', op: '<', value: 10, unit: 'count' }],
    ['caps <= warn', { kind: 'caps', op: '<=', verdict: 'warn' }],
  ])('%s', (text, expected) => {
    expect(parseRule(text)).toEqual({ text, ...expected });
  });

  it('knows every metric and every sender counter', () => {
    for (const metric of METRIC_NAMES) expect(parseRule(`${metric} p50 < 1ms`)).toMatchObject({ metric });
    for (const counter of SENDER_COUNTERS) expect(parseRule(`${counter} <= 1`)).toMatchObject({ counter });
  });
});

describe('parseRule: errors name the rule, the column and what was expected', () => {
  const metrics = METRIC_NAMES.join(', ');
  it.each([
    ['rtt.fast p99 < 1ms', `rule "rtt.fast p99 < 1ms": at column 1, unknown metric "rtt.fast": expected one of ${metrics}`],
    ['p95>+10%', 'rule "p95>+10%": at column 1, unknown statistic "p95": expected one of min, p50, p90, p99, p99.9, p99.99, max'],
    ['rtt.user p42 < 1ms', 'at column 10, unknown statistic "p42": expected one of min, p50'],
    ['p99 => +10%', 'rule "p99 => +10%": at column 5, expected an operator (<= >= == != < >), got "=> +10%"'],
    ['p50>+2 sec', 'rule "p50>+2 sec": at column 8, unknown unit "sec": expected one of %, ns, us, µs, ms, s'],
    ['p50 < 30', 'at column 9, expected a unit (ns, us, µs, ms, s), got the end of the rule'],
    ['rtt.kernel p99 < 10%', 'at column 20, unknown unit "%": expected one of ns, us'],
    ['p99 > +', 'at column 8, expected a number after the sign, got the end of the rule'],
    ['loss <= some', 'at column 9, expected a count or a percentage of the probes sent (0, 0.1%), got "some"'],
    ['caps <= great', 'at column 9, expected a caps verdict (ok, warn, fail), got "great"'],
    ['p99>+10% or more', 'at column 10, expected the end of the rule, got "or more"'],
    ['latency < 1ms', `at column 1, unknown "latency": expected a metric (${metrics}), a statistic`],
    ['', 'rule "": at column 1, expected a metric'],
  ])('%j', (text, message) => {
    let error: unknown;
    try {
      parseRule(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RuleError);
    expect((error as RuleError).code).toBe('ERR_RTT_PROBE_RULE');
    expect((error as RuleError).message).toContain(message);
  });
});

/** A histogram of `n` values from `from` upwards in steps of `step` ns. */
function histogram(n: number, from: number, step: number): Histogram {
  return Histogram.fromRaw(binding().recordHistogram(Float64Array.from({ length: n }, (_, i) => from + i * step)));
}

describe('evaluation', () => {
  const base = histogram(1000, 10_000, 1); // p50 10.5 µs (10.503 in the histogram)
  const slower = histogram(1000, 12_000, 1); // p50 12.499 µs: +2 µs, +19%

  it('a relative rule holds on the change from BASE to NEW, in % or in absolute units', () => {
    const rule = (text: string) => parseRule(text) as RelativeRule;
    expect(evaluateRelative(rule('p50>+10%'), base, slower)).toMatchObject({ holds: true, difference: 2000 });
    expect(evaluateRelative(rule('p50>+20%'), base, slower).holds).toBe(false);
    expect(evaluateRelative(rule('p50>+1999ns'), base, slower).holds).toBe(true);
    expect(evaluateRelative(rule('p50>+2001ns'), base, slower).holds).toBe(false);
    expect(evaluateRelative(rule('p50<-10%'), slower, base).holds).toBe(true);
  });

  it('absolute rules hold on one result: a statistic of a metric, a counter as a count or a share of the probes sent, the caps verdict', () => {
    // A kept result (test/fixtures) with these two histograms and counters.
    const kept = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'probe-result-pre-schema.json'), 'utf8')) as ProbeResultJSON;
    const json = {
      ...kept,
      metrics: { 'rtt.user': base.toJSON(), 'rtt.kernel': slower.toJSON() },
      missing: {},
      ...Object.fromEntries(SENDER_COUNTERS.map((c) => [c, 0])),
      sent: 2000,
      lost: 3,
    } as ProbeResultJSON;
    const result = ProbeResult.fromJSON(json);
    const check = (text: string, caps?: 'ok' | 'warn' | 'fail') => evaluateAbsolute(parseRule(text) as AbsoluteRule, result, { metric: 'rtt.user', caps });
    expect(check('p50 <= 10.6us')).toEqual({ holds: true, measured: base.percentile(50) });
    expect(check('rtt.kernel p50 <= 10.6us').holds).toBe(false);
    expect(check('loss == 0').holds).toBe(false);
    expect(check('loss <= 3').holds).toBe(true);
    expect(check('loss <= 0.1%')).toEqual({ holds: false, measured: 0.15 });
    expect(check('loss <= 0.2%').holds).toBe(true);
    expect(check('caps <= warn', 'warn').holds).toBe(true);
    expect(check('caps <= warn', 'fail').holds).toBe(false);
    expect(() => check('caps <= warn')).toThrow(/no caps verdict/);
    expect(() => check('rtt.hw p50 < 1us')).toThrow(/the result has no rtt.hw samples/);
  });
});

describe('the grammar in docs/cli.md ("Rules", from scripts/cli-docs.template.md)', () => {
  const template = readFileSync(path.join(__dirname, '..', 'scripts', 'cli-docs.template.md'), 'utf8');
  const section = template.slice(template.indexOf('## Rules'), template.indexOf('## Commands'));

  it('names every metric, statistic, operator, unit, counter and verdict the parser takes', () => {
    for (const word of [...METRIC_NAMES, ...STATISTICS, ...OPERATORS, ...RULE_UNITS, ...RULE_COUNTERS, ...CAPS_VERDICTS]) {
      expect(section, word).toContain(`\`${word}\``);
    }
  });

  it('gives examples that parse', () => {
    const examples = [...section.matchAll(/^\|[^|]*\| `([^`]+)` \|/gm)].map((m) => m[1]!);
    expect(examples.length).toBeGreaterThanOrEqual(7);
    for (const example of examples) expect(() => parseRule(example), example).not.toThrow();
  });
});
