/**
 * The libFuzzer targets in fuzz/ (reflector request path, sender reply
 * parser in both layouts, control-message parsers) build with clang's ASan
 * and UBSan, replay every crash ever found (fuzz/regressions/) and fuzz
 * for a few seconds each without a crash. `npm run fuzz -- --seconds 600`
 * is the longer run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');

function clangMissing(): string | null {
  try {
    const lib = execFileSync('clang++', ['-print-file-name=libclang_rt.fuzzer-x86_64.a'], { encoding: 'utf8' }).trim();
    return path.isAbsolute(lib) ? null : 'clang has no libFuzzer runtime (.ci/run installs clang and libclang-rt-dev)';
  } catch {
    return 'needs clang++ with libFuzzer (.ci/run installs clang and libclang-rt-dev)';
  }
}

const skip = clangMissing();
if (skip) console.warn(`fuzz tests skipped: ${skip}`);

describe.skipIf(skip !== null)('fuzzing', () => {
  it('every target replays its regressions and survives 5 s of fuzzing', () => {
    const run = spawnSync(process.execPath, [path.join(root, 'scripts', 'fuzz.mjs'), '--seconds', '5'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(run.status, run.stderr).toBe(0);
    for (const target of ['reflector', 'reply', 'control']) {
      const line = new RegExp(`^${target}: (\\d+) runs in 5 s, (\\d+) regression inputs, no crash$`, 'm').exec(run.stdout);
      expect(line, run.stdout).not.toBeNull();
      expect(Number(line![1])).toBeGreaterThan(10_000);
    }
    expect(run.stdout).toMatch(/^control: \d+ runs in 5 s, [1-9]\d* regression inputs/m);
  }, 300_000);
});
