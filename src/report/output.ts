/**
 * Output files checked before a run starts: a path that cannot be written
 * fails at once, naming the path and the reason, rather than after the run
 * has measured for minutes.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { OutputPathError } from '../errors';

function failure(what: string, file: string, error: unknown): OutputPathError {
  const code = (error as { code?: string }).code ?? 'EACCES';
  const why: Record<string, string> = {
    ENOENT: 'its directory does not exist',
    ENOTDIR: 'a part of its directory is not a directory',
    EACCES: 'permission denied',
    EROFS: 'the file system is read-only',
    EISDIR: 'it is a directory',
  };
  return new OutputPathError(`cannot write ${what} "${file}": ${why[code] ?? code} (${code}); give a path in a writable directory`, code);
}

/** Throws an OutputPathError (code: the errno name) when `file` could not be created or overwritten. */
export function checkWritable(what: string, file: string): void {
  try {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    accessSync(stat ? file : path.dirname(path.resolve(file)), constants.W_OK);
  } catch (error) {
    throw failure(what, file, error);
  }
}

/** Creates `dir` (and its parents) where it does not exist; throws an OutputPathError when files cannot be written in it. */
export function prepareDirectory(what: string, dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw failure(what, dir, error);
  }
}
