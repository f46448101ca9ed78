/**
 * C programs the tests build from source with the system compiler (the
 * benchmark's floor, the flooder): compiled once per test file into a
 * temporary folder that is removed when the file's tests end.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** Registers the build and cleanup hooks; the returned getter gives the executable's path once built. */
export function cProgram(source: string): () => string {
  let dir: string | undefined;
  let binary: string | undefined;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `rtt-probe-${path.basename(source, '.c')}-`));
    const out = path.join(dir, path.basename(source, '.c'));
    execFileSync('cc', ['-O2', '-Wall', '-Werror', '-o', out, source]);
    binary = out;
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!binary) throw new Error(`${source} is not built: call cProgram() at the top of a test file, outside its tests`);
    return binary;
  };
}

/** Stops a program a test started (SIGTERM) and waits until it has exited. */
export function stopProgram(child: ChildProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill();
  return exited;
}
