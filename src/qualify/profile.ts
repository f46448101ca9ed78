/**
 * Qualification profiles (docs/qualify.md): which runs make up the matrix
 * and the rules each must meet, in the tool's one rule grammar
 * (src/report/rules.ts). A profile is JSON or YAML; every key is optional
 * (a missing one takes the default profile's value) and every key and value
 * is checked before anything runs, so a typo is an error, never a rule that
 * silently passes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RttProbeError } from '../errors';
import { isMapping, parseYaml } from '../yaml-input';
import { MAX_PACKET_SIZE, MIN_PACKET_SIZE, PROBE_MODES, TIMESTAMP_SOURCES, TRANSPORTS, parseDuration, type ProbeMode, type TimestampSource, type Transport } from '../options';
import type { MetricName } from '../metrics';
import { RuleError, parseRule, type CapsRule, type CounterRule, type PercentileRule } from '../report/rules';

/** Qualify runs its cells over datagrams (udp, raw): connect mode, TCP's, is none of its modes. */
const QUALIFY_MODES = PROBE_MODES.filter((mode) => mode !== 'connect');

/** A profile as written in its file, and as `--out` keeps the effective one (profile.json). */
export interface QualifyProfile {
  /** Absolute rules: `METRIC PERCENTILE OP VALUE`, `COUNTER OP VALUE`, `caps OP VERDICT`. */
  rules: string[];
  /** UDP payload sizes, bytes. */
  sizes: number[];
  timestamps: TimestampSource[];
  modes: ProbeMode[];
  /** Probes per second of each rate-mode cell. */
  rates: number[];
  /** Probes measured in each cell (warm-up excluded). */
  count: number;
  transports: Transport[];
  /** How long each probe waits for its reply ("1s", "20ms"): a lost probe costs a ping-pong cell this much. */
  timeout: string;
}

/** What `rtt-probe qualify` checks when given neither --profile nor --require. */
export const DEFAULT_PROFILE: QualifyProfile = {
  rules: ['rtt.user p99 <= 50us', 'rtt.kernel p99.9 <= 100us', 'send.error p99 <= 10us', 'loss == 0', 'caps <= warn'],
  sizes: [64, 256, 1024, 1472],
  timestamps: ['software', 'hardware'],
  modes: ['pingpong', 'rate'],
  rates: [10_000],
  count: 10_000,
  transports: ['udp'],
  timeout: '1s',
};

export const PROFILE_KEYS = Object.keys(DEFAULT_PROFILE) as (keyof QualifyProfile)[];

const MAX_COUNT = 4_000_000_000;
const MAX_RATE = 10_000_000;

/** A profile that cannot be used: the message names its source, the key or rule, and what to give. */
export class ProfileError extends RttProbeError {
  declare readonly code: 'ERR_RTT_PROBE_PROFILE';

  constructor(message: string) {
    super(message, 'ERR_RTT_PROBE_PROFILE');
    this.name = 'ProfileError';
  }
}

/** A rule of a profile: an absolute rule whose latency form always names its metric. */
export type QualifyRule = (PercentileRule & { metric: MetricName }) | CounterRule | CapsRule;

/** A profile rule parsed, or a ProfileError naming the source: relative rules (compare's) and rules without a metric have no place here. */
export function profileRule(text: string, source: string): QualifyRule {
  let rule;
  try {
    rule = parseRule(text);
  } catch (error) {
    if (error instanceof RuleError) throw new ProfileError(`${source}: ${error.message}`);
    throw error;
  }
  if (rule.kind === 'relative') {
    throw new ProfileError(`${source}: rule "${text}" is a change against a baseline (compare --fail-if); a profile takes absolute rules such as "rtt.kernel p99.9 <= 30us"`);
  }
  if (rule.kind !== 'percentile') return rule;
  const { metric } = rule;
  if (metric === null) throw new ProfileError(`${source}: rule "${text}" names no metric; write it as "rtt.user ${text.trim()}" (or another metric)`);
  return { ...rule, metric };
}

function fail(source: string, key: string, what: string): never {
  throw new ProfileError(`${source}: "${key}" ${what}`);
}

function list(value: unknown, source: string, key: string, what: string): unknown[] {
  if (!Array.isArray(value) || value.length === 0) fail(source, key, `must be a non-empty list of ${what}, got ${JSON.stringify(value)}`);
  const seen = new Set<string>();
  for (const v of value) {
    if (seen.has(JSON.stringify(v))) fail(source, key, `lists ${JSON.stringify(v)} twice`);
    seen.add(JSON.stringify(v));
  }
  return value;
}

function choices<T extends string>(value: unknown, source: string, key: string, allowed: readonly T[]): T[] {
  const items = list(value, source, key, allowed.join(', '));
  for (const v of items) if (!(allowed as readonly unknown[]).includes(v)) fail(source, key, `has ${JSON.stringify(v)}: expected ${allowed.join(', ')}`);
  return items as T[];
}

function numbers(value: unknown, source: string, key: string, what: string, min: number, max: number, integer: boolean): number[] {
  const items = list(value, source, key, what);
  for (const v of items) {
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      fail(source, key, `has ${JSON.stringify(v)}: expected ${what} from ${min} to ${max}`);
    }
  }
  return items as number[];
}

function timeout(value: unknown, source: string): string {
  const what = 'a duration from 1us to 60s, such as "1s" or "20ms"';
  if (typeof value !== 'string') fail(source, 'timeout', `must be ${what}, got ${JSON.stringify(value)}`);
  let ns: number;
  try {
    ns = parseDuration(value, 'timeout');
  } catch {
    fail(source, 'timeout', `must be ${what}, got ${JSON.stringify(value)}`);
  }
  if (ns < 1000 || ns > 60e9) fail(source, 'timeout', `must be ${what}, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Checks a parsed profile and fills what it leaves out from the default;
 * `extraRules` (--require) are added to its rules. Throws a ProfileError
 * naming `source` and what is wrong.
 */
export function checkProfile(given: unknown, source: string, extraRules: readonly string[] = []): QualifyProfile {
  if (!isMapping(given)) {
    throw new ProfileError(`${source}: a profile is an object with the keys ${PROFILE_KEYS.join(', ')}, e.g. {"rules": ["loss == 0"]}`);
  }
  const unknown = Object.keys(given).filter((k) => !(PROFILE_KEYS as string[]).includes(k));
  if (unknown.length > 0) throw new ProfileError(`${source}: unknown key ${unknown.map((k) => `"${k}"`).join(', ')}: a profile takes ${PROFILE_KEYS.join(', ')}`);
  const has = (key: keyof QualifyProfile) => given[key] !== undefined;
  const rules = has('rules') ? (list(given['rules'], source, 'rules', 'rules') as unknown[]) : [];
  for (const r of rules) if (typeof r !== 'string') fail(source, 'rules', `has ${JSON.stringify(r)}: each rule is a string such as "loss == 0"`);
  const profile: QualifyProfile = {
    rules: [...(rules as string[]), ...extraRules],
    sizes: has('sizes') ? numbers(given['sizes'], source, 'sizes', 'sizes in bytes', MIN_PACKET_SIZE, MAX_PACKET_SIZE, true) : DEFAULT_PROFILE.sizes,
    timestamps: has('timestamps') ? choices(given['timestamps'], source, 'timestamps', TIMESTAMP_SOURCES) : DEFAULT_PROFILE.timestamps,
    modes: has('modes') ? choices(given['modes'], source, 'modes', QUALIFY_MODES) : DEFAULT_PROFILE.modes,
    rates: has('rates') ? numbers(given['rates'], source, 'rates', 'probes per second', 1, MAX_RATE, false) : DEFAULT_PROFILE.rates,
    count: has('count') ? numbers([given['count']], source, 'count', 'a number of probes', 1, MAX_COUNT, true)[0]! : DEFAULT_PROFILE.count,
    transports: has('transports') ? choices(given['transports'], source, 'transports', TRANSPORTS) : DEFAULT_PROFILE.transports,
    timeout: has('timeout') ? timeout(given['timeout'], source) : DEFAULT_PROFILE.timeout,
  };
  if (profile.rules.length === 0) throw new ProfileError(`${source}: no rules to check: give "rules" in the profile, or --require RULE`);
  for (const rule of profile.rules) profileRule(rule, source);
  return profile;
}

/** The rules of a checked profile, parsed. */
export function profileRules(profile: QualifyProfile): QualifyRule[] {
  return profile.rules.map((r) => profileRule(r, 'the profile'));
}

/** Reads a profile file: .json as JSON, anything else as YAML (which JSON also is). */
export function loadProfile(file: string, extraRules: readonly string[] = []): QualifyProfile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    throw new ProfileError(`cannot read the profile "${file}" (${code}); give a JSON or YAML file such as docs/profiles/low-latency-25g.yaml`);
  }
  const format = path.extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML';
  const invalid = (problem: string) => new ProfileError(`the profile "${file}" is not valid ${format}: ${problem}`);
  let json: unknown;
  if (format === 'YAML') json = parseYaml(text, invalid);
  else {
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw invalid((error as Error).message.split('\n')[0]!);
    }
  }
  return checkProfile(json, `profile "${file}"`, extraRules);
}
