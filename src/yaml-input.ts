/** What the YAML inputs (monitor targets and web-config, qualify profiles) share: parsing with the first line of the parser's complaint, and the mapping check. */
import { parse } from 'yaml';

/** Parses YAML (and so JSON); a syntax error becomes `fail(first line of the parser's message)`. */
export function parseYaml(text: string, fail: (problem: string) => Error): unknown {
  try {
    return parse(text);
  } catch (error) {
    throw fail((error as Error).message.split('\n')[0]!);
  }
}

/** A YAML mapping (a JSON object), not a list or a scalar. */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
