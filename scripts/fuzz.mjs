#!/usr/bin/env node
// Builds the libFuzzer targets in fuzz/ with clang (ASan + UBSan), replays
// every saved crash in fuzz/regressions/<target>/, then fuzzes each target
// for a bounded time. A new crash fails the run and names the file to add
// to fuzz/regressions/ once the bug is fixed.
//
//   node scripts/fuzz.mjs                  # 5 s per target (what the tests run)
//   node scripts/fuzz.mjs --seconds 600    # the longer run before a release
//   node scripts/fuzz.mjs --seconds 60 reply control
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = ['reflector', 'reply', 'control'];

const args = process.argv.slice(2);
let seconds = 5;
const chosen = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seconds') seconds = Number(args[++i]);
  else if (TARGETS.includes(args[i])) chosen.push(args[i]);
  else {
    console.error(`usage: fuzz.mjs [--seconds N] [${TARGETS.join('|')}...]; got "${args[i]}"`);
    process.exit(2);
  }
}
if (!Number.isFinite(seconds) || seconds < 1 || seconds > 86_400) {
  console.error('--seconds must be 1..86400');
  process.exit(2);
}

const out = path.join(root, 'build', 'fuzz');
const core = path.join(root, 'native', 'core');
const sources = fs.readdirSync(core).filter((f) => f.endsWith('.cpp')).map((f) => path.join(core, f));
fs.mkdirSync(out, { recursive: true });

function build(target) {
  const binary = path.join(out, `${target}_fuzz`);
  execFileSync(
    'clang++',
    ['-std=c++17', '-g', '-O1', '-fsanitize=fuzzer,address,undefined', '-fno-sanitize-recover=all', `-I${core}`,
      '-o', binary, path.join(root, 'fuzz', `${target}_fuzz.cpp`), ...sources, '-lcrypto'],
    { stdio: 'inherit' },
  );
  return binary;
}

const files = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : []);

let failed = false;
for (const target of chosen.length ? chosen : TARGETS) {
  const binary = build(target);
  const regressions = files(path.join(root, 'fuzz', 'regressions', target));
  if (regressions.length) {
    const replay = spawnSync(binary, regressions, { encoding: 'utf8' });
    if (replay.status !== 0) {
      process.stderr.write(replay.stderr);
      console.error(`${target}: a saved regression input crashes again`);
      failed = true;
      continue;
    }
  }
  // New inputs go to a scratch corpus under build/; the seeds in fuzz/corpus stay as committed.
  const corpus = path.join(out, 'corpus', target);
  const artifacts = path.join(out, 'artifacts', target) + path.sep;
  fs.mkdirSync(corpus, { recursive: true });
  fs.mkdirSync(artifacts, { recursive: true });
  const run = spawnSync(
    binary,
    [`-max_total_time=${seconds}`, '-timeout=5', '-rss_limit_mb=2048', '-print_final_stats=1',
      `-artifact_prefix=${artifacts}`, corpus, path.join(root, 'fuzz', 'corpus', target)],
    { encoding: 'utf8', timeout: (seconds + 60) * 1000 },
  );
  const runs = /stat::number_of_executed_units:\s*(\d+)/.exec(run.stderr)?.[1] ?? '?';
  if (run.status !== 0) {
    process.stderr.write(run.stderr.split('\n').slice(-40).join('\n'));
    const crash = files(artifacts).at(-1);
    console.error(`${target}: crashed after ${runs} runs; input saved as ${crash}. Fix it, then add the file to fuzz/regressions/${target}/`);
    failed = true;
  } else {
    console.log(`${target}: ${runs} runs in ${seconds} s, ${regressions.length} regression inputs, no crash`);
  }
}
process.exit(failed ? 1 : 0);
