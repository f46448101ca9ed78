/**
 * The JSON Schema of every object rtt-probe writes (schema/result.schema.json,
 * shipped in the package) and the one check that reads results back: each
 * object carries `schemaVersion` and a `kind` (`rtt-probe-<command>`) naming
 * its definition. Files written before the schema existed have neither; they
 * read as version 1 (a probe result without a kind is one), so kept results
 * still load. A newer version, another kind or a file that is not a result
 * is a ResultFormatError naming the source and what was expected.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ResultFormatError } from './errors';

/** Each kind of result, with the command that writes it: the list the kinds derive from. */
export const RESULT_WRITERS = {
  probe: 'a probe result (`rtt-probe probe --json`)',
  reflect: 'a reflector result (`rtt-probe reflect --json`)',
  listening: "a reflector's listening line (`rtt-probe reflect --json`)",
  lab: 'a lab report (`rtt-probe lab --json`)',
  budget: 'a budget (`rtt-probe budget --json`)',
  caps: 'a capabilities report (`rtt-probe caps --json`)',
  qualify: 'a qualification (`rtt-probe qualify --json`)',
} as const;

export type ResultKind = keyof typeof RESULT_WRITERS;
export const RESULT_KINDS = Object.keys(RESULT_WRITERS) as ResultKind[];

/** The path of the schema file in the package. */
export const SCHEMA_PATH = path.join(__dirname, '..', 'schema', 'result.schema.json');

/** The schema as shipped. */
export const RESULT_SCHEMA = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as {
  $id: string;
  definitions: Record<string, Record<string, unknown>> & { schemaVersion: { maximum: number } };
};

/** The version of the schema this rtt-probe writes and reads up to. */
export const SCHEMA_VERSION: number = RESULT_SCHEMA.definitions.schemaVersion.maximum;

/** What every object the tool writes starts with. */
export interface ResultHeader<K extends ResultKind> {
  schemaVersion: number;
  kind: `rtt-probe-${K}`;
}

export function resultHeader<K extends ResultKind>(kind: K): ResultHeader<K> {
  return { schemaVersion: SCHEMA_VERSION, kind: `rtt-probe-${kind}` };
}

let ajv: Ajv | undefined;

/** Compiled on first use, so loading the library costs no schema compilation. */
function validator(definition: string): ValidateFunction {
  ajv ??= new Ajv().addSchema(RESULT_SCHEMA);
  const v = ajv.getSchema(`${RESULT_SCHEMA.$id}#/definitions/${definition}`);
  if (!v) throw new Error(`the result schema has no definition "${definition}"`);
  return v;
}

function expectedText(expected: readonly ResultKind[]): string {
  return expected.map((k) => RESULT_WRITERS[k]).join(' or ');
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** An ajv error as a sentence: `"options.port" must be integer`. */
function explain(error: ErrorObject): string {
  const at = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return `${at ? `"${at}" has no` : 'no'} "${missing}"`;
  }
  return `${at ? `"${at}"` : 'the object'} ${error.message ?? 'is invalid'}`;
}

/**
 * Checks that `json` is one of the `expected` kinds of result and returns the
 * kind it is; `source` (a file name, or "the given object") starts every
 * message.
 */
export function checkResult(json: unknown, expected: readonly ResultKind[], source: string): ResultKind {
  const wanted = `expected ${expectedText(expected)}`;
  const fail = (what: string) => new ResultFormatError(`${source} ${what}: ${wanted}`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw fail(`is not an rtt-probe result (it is ${describe(json)})`);
  const { schemaVersion, kind } = json as { schemaVersion?: unknown; kind?: unknown };
  if (schemaVersion !== undefined && (!Number.isInteger(schemaVersion) || (schemaVersion as number) < 1)) {
    throw fail(`has a schemaVersion that is not a version (${JSON.stringify(schemaVersion)})`);
  }
  if (typeof schemaVersion === 'number' && schemaVersion > SCHEMA_VERSION) {
    throw new ResultFormatError(
      `${source} was written by a newer rtt-probe (result schema version ${schemaVersion}; this one reads up to ${SCHEMA_VERSION}): read it with a newer rtt-probe`,
    );
  }
  const found = typeof kind === 'string' && kind.startsWith('rtt-probe-') ? kind.slice('rtt-probe-'.length) : undefined;
  if (kind !== undefined && !(found !== undefined && (RESULT_KINDS as string[]).includes(found))) {
    throw fail(`is not an rtt-probe result (its kind is ${JSON.stringify(kind)})`);
  }
  // Written before the schema: a probe result had no kind.
  const legacy = schemaVersion === undefined;
  const resultKind = (found ?? (legacy ? 'probe' : undefined)) as ResultKind | undefined;
  if (resultKind === undefined) throw fail('has a schemaVersion but no kind');
  if (!expected.includes(resultKind)) throw fail(`is ${RESULT_WRITERS[resultKind]}`);
  const definition = legacy && `${resultKind}Body` in RESULT_SCHEMA.definitions ? `${resultKind}Body` : resultKind;
  const validate = validator(definition);
  if (!validate(json)) {
    const what = legacy && kind === undefined ? 'is not an rtt-probe result' : `is not a valid ${resultKind} result`;
    throw fail(`${what} (${explain(validate.errors![0]!)})`);
  }
  return resultKind;
}
