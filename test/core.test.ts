/**
 * native/core builds and runs without Node or N-API: test/native/core_test.cpp
 * is compiled against the core sources alone (which also proves none of them
 * includes napi.h) and checks control-message parsing with synthetic kernel
 * and NIC stamps, and the histogram layout.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const core = path.join(root, 'native', 'core');
const out = mkdtempSync(path.join(os.tmpdir(), 'rtt-probe-core-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('native/core on its own', () => {
  it('compiles without N-API and passes its checks', () => {
    const sources = readdirSync(core)
      .filter((f) => f.endsWith('.cpp'))
      .map((f) => path.join(core, f));
    const binary = path.join(out, 'core_test');
    execFileSync(
      'g++',
      ['-std=c++17', '-O1', '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter', `-I${core}`, '-o', binary, path.join(root, 'test/native/core_test.cpp'), ...sources, '-pthread', '-lcrypto'],
      { stdio: 'pipe' },
    );
    const output = execFileSync(binary, { encoding: 'utf8' });
    expect(output.trim()).toBe('all checks passed');
    // One g++ run over every core source: about 20 s of CPU, longer on a busy host.
  }, 240_000);
});
