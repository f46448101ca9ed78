/**
 * Output files named by options (--html): checked before a run starts, so
 * that a path that cannot be written fails in a second rather than after
 * the measurement, losing it.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './errors';

function code(error: unknown): string {
  return (error as { code?: string }).code ?? 'error';
}

/** Returns `file` when it can be written (created in its folder, or replaced); a UsageError naming the option and the fix otherwise. */
export function writablePath(option: string, file: string): string {
  const fail = (why: string) => new UsageError(`${option} ${file}: cannot write there (${why}): give a file path in an existing, writable folder`);
  let stat;
  try {
    stat = statSync(file);
  } catch (error) {
    if (code(error) !== 'ENOENT') throw fail(code(error));
  }
  if (stat?.isDirectory()) throw fail('EISDIR, a folder');
  const folder = path.dirname(path.resolve(file));
  try {
    if (!statSync(folder).isDirectory()) throw fail(`ENOTDIR, ${folder} is not a folder`);
    accessSync(stat ? file : folder, constants.W_OK);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw fail(code(error));
  }
  return file;
}
