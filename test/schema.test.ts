/**
 * The result schema (schema/result.schema.json): every JSON the CLI writes
 * validates against it with ajv and carries schemaVersion and its kind; the
 * lists it repeats agree with the library's; results written before the
 * schema still load, and a newer schema version or a file that is not a
 * result is a ResultFormatError naming the file and what was expected.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFLECTOR_COUNTERS, SENDER_COUNTERS, SENDER_COUNTERS_ADDED_LATER } from '../src/counters';
import { ResultFormatError } from '../src/errors';
import { METRIC_NAMES } from '../src/metrics';
import { TRANSPORTS } from '../src/options';
import { ProbeResult, type KeptProbeResultJSON } from '../src/result';
import { RESULT_KINDS, SCHEMA_PATH, SCHEMA_VERSION } from '../src/schema';
import { runCli, startCliReflector } from './support/cli';
import { netnsUnavailable } from './support/netns';

const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as {
  oneOf: Array<{ $ref: string }>;
  definitions: Record<string, { required?: string[]; properties?: Record<string, unknown>; propertyNames?: { enum: string[] } }>;
};
const validate = new Ajv({ allErrors: true }).compile(schema);
const dir = mkdtempSync(path.join(os.tmpdir(), 'rttp-schema-'));
const PRE_SCHEMA = path.join(__dirname, 'fixtures', 'probe-result-pre-schema.json');
const labSkip = netnsUnavailable();

/** Validates one object the CLI wrote and checks its header. */
function expectValid(json: unknown, kind: string): void {
  expect(validate(json), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  expect(json).toMatchObject({ schemaVersion: SCHEMA_VERSION, kind: `rtt-probe-${kind}` });
}

function write(name: string, content: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

describe('every JSON the CLI writes validates against the shipped schema', () => {
  let reflector: Awaited<ReturnType<typeof startCliReflector>>;
  let probeJson: unknown;
  beforeAll(async () => {
    reflector = await startCliReflector('127.0.0.1:0', { extra: ['--no-busy-poll'] });
    const run = await runCli(['probe', `127.0.0.1:${reflector.listening.port}`, '--count', '500', '--no-busy-poll', '--json']);
    expect(run.code, run.stderr).toBe(0);
    probeJson = JSON.parse(run.stdout);
  });
  afterAll(() => {
    reflector?.child.kill('SIGINT');
  });

  it('probe --json', () => {
    expectValid(probeJson, 'probe');
  });

  it('probe --json carries the caps of the interface and CPUs it used: lo, every CPU it may run on, with verdicts', () => {
    const { caps } = probeJson as { caps: { interfaces: { interface: string }[]; cpus: { cpu: number }[]; verdicts: unknown[]; summary: { worst: string } } };
    expect(caps.interfaces.map((i) => i.interface)).toEqual(['lo']);
    expect(caps.cpus.length).toBeGreaterThan(0);
    expect(caps.verdicts.length).toBeGreaterThan(0);
    expect(['ok', 'warn', 'fail']).toContain(caps.summary.worst);
    expect(validate({ ...(probeJson as object), caps: { ...caps, verdicts: [{ rule: 'gro' }] } })).toBe(false);
  });

  it('a result without caps (written before it existed) still validates and loads', () => {
    const { caps: _, ...older } = probeJson as { caps: unknown };
    expectValid(older, 'probe');
    expect(ProbeResult.fromJSON(older as KeptProbeResultJSON).caps).toBeUndefined();
  });

  it('reflect --json: the listening line, then the counters', async () => {
    const run = await runCli(['reflect', '--bind', '127.0.0.1:0', '--duration', '300ms', '--no-busy-poll', '--json']);
    expect(run.code).toBe(0);
    const [listening, result] = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expectValid(listening, 'listening');
    expectValid(result, 'reflect');
  });

  it('budget --json', async () => {
    const run = await runCli(['budget', write('probe.json', probeJson), '--chain', '1,10', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expectValid(JSON.parse(run.stdout), 'budget');
  });

  it('caps --json', async () => {
    const run = await runCli(['caps', '--json']);
    expect(run.code).toBe(0);
    expectValid(JSON.parse(run.stdout), 'caps');
  });

  it.skipIf(labSkip !== null)(`lab --json, and budget reads it back (needs root and network namespaces${labSkip ? `: ${labSkip}` : ''})`, async () => {
    const run = await runCli(['lab', '--topologies', 'veth', '--count', '200', '--json'], { timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as unknown;
    expectValid(report, 'lab');
    const budget = await runCli(['budget', write('lab.json', report), '--json']);
    expect(budget.code, budget.stderr).toBe(0);
  });

  it('an object of one kind does not pass as another', () => {
    expect(validate({ ...(probeJson as object), kind: 'rtt-probe-reflect' })).toBe(false);
    expect(validate({ ...(probeJson as object), schemaVersion: SCHEMA_VERSION + 1 })).toBe(false);
  });
});

describe('the schema and the library name the same things', () => {
  it('one definition per result kind, in the order of RESULT_KINDS', () => {
    expect(schema.oneOf.map((r) => r.$ref.replace('#/definitions/', ''))).toEqual(RESULT_KINDS);
  });

  it('the probe result describes every sender counter and requires all but those added later; the reflector result requires every reflector counter', () => {
    const body = schema.definitions['probeBody']!;
    expect(Object.keys(body.properties ?? {})).toEqual(expect.arrayContaining([...SENDER_COUNTERS]));
    const later = Object.keys(SENDER_COUNTERS_ADDED_LATER);
    expect(body.required).toEqual(expect.arrayContaining(SENDER_COUNTERS.filter((c) => !later.includes(c))));
    for (const counter of later) expect(body.required).not.toContain(counter);
    expect(schema.definitions['reflectBody']!.required).toEqual(expect.arrayContaining([...REFLECTOR_COUNTERS]));
  });

  it('results name exactly the transports there are', () => {
    const path = schema.definitions['pathOptions']!.properties!['transport'] as { enum: string[] };
    expect(path.enum).toEqual([...TRANSPORTS]);
  });

  it('metric maps take exactly the metric names', () => {
    expect(schema.definitions['metricMap']!.propertyNames!.enum).toEqual([...METRIC_NAMES]);
  });

  it('ships in the package', () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('schema/');
  });
});

describe('reading results back', () => {
  const kept = JSON.parse(readFileSync(PRE_SCHEMA, 'utf8')) as KeptProbeResultJSON;

  it('a result written before schemaVersion existed loads as version 1', () => {
    expect(kept).not.toHaveProperty('schemaVersion');
    const result = ProbeResult.fromJSON(kept, PRE_SCHEMA);
    expect(result.metrics['rtt.user']!.count).toBe(kept.metrics['rtt.user']!.count);
    expect(result.toJSON()).toMatchObject({ schemaVersion: SCHEMA_VERSION, kind: 'rtt-probe-probe' });
  });

  it('budget reads it too', async () => {
    const run = await runCli(['budget', PRE_SCHEMA, '--chain', '1']);
    expect(run.code, run.stderr).toBe(0);
  });

  it.each([
    ['a newer schema version', { ...kept, schemaVersion: SCHEMA_VERSION + 1, kind: 'rtt-probe-probe' }, /^new\.json was written by a newer rtt-probe \(result schema version 2; this one reads up to 1\): read it with a newer rtt-probe$/],
    ['another kind of result', { schemaVersion: 1, kind: 'rtt-probe-caps', host: {}, interfaces: [] }, /^new\.json is a capabilities report \(`rtt-probe caps --json`\): expected a probe result \(`rtt-probe probe --json`\)$/],
    ['a kind that is not ours', { schemaVersion: 1, kind: 'prometheus' }, /^new\.json is not an rtt-probe result \(its kind is "prometheus"\): expected a probe result/],
    ['a file that is no result', { hello: 'world' }, /^new\.json is not an rtt-probe result \(no "metrics"\): expected a probe result/],
    ['a result with a broken histogram', { ...kept, metrics: { 'rtt.user': { count: 'many' } } }, /^new\.json is not an rtt-probe result \("metrics\.rtt\.user" has no "min"\)/],
  ])('%s: a ResultFormatError naming the file and what was expected', (_what, json, message) => {
    const read = () => ProbeResult.fromJSON(json as KeptProbeResultJSON, 'new.json');
    expect(read).toThrow(ResultFormatError);
    expect(read).toThrow(message);
  });
});
