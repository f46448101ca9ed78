/**
 * The soak in bench/soak.mjs, shortened: 200 000 probes in rate mode with
 * constant resident memory after the warm-up and every probe accounted for.
 * The full run (10 million probes) is `node bench/soak.mjs`.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('soak', () => {
  it('200 000 probes at 20 000/s: RSS within 4 MiB after warm-up, nothing lost from the books', () => {
    const run = spawnSync(process.execPath, [path.join(__dirname, '..', 'bench', 'soak.mjs'), '--probes', '200000', '--rate', '20000'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ ok: true, sent: 200_000 });
    expect(summary.received).toBeGreaterThan(190_000);
  }, 150_000);
});
