#!/usr/bin/env node
// Builds the libFuzzer targets in fuzz/ with clang (ASan + UBSan), replays
// every saved crash in fuzz/regressions/<target>/, then fuzzes each target
// for a bounded time. A new crash fails the run and names the file to add
// to fuzz/regressions/ once the bug is fixed.
//
//   node scripts/fuzz.mjs                  # 5 s per target (what the tests run)
//   node scripts/fuzz.mjs --seconds 600    # the longer run before a release
//   node scripts/fuzz.mjs --seconds 60 reply control
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
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
const sources = fs.readdirSync(core).filter((f) => f.endsWith('.cpp'));
fs.mkdirSync(path.join(out, 'core'), { recursive: true });

const FLAGS = ['-std=c++17', '-g', '-O1', '-fno-sanitize-recover=all', `-I${core}`];

function clang(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('clang++', args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`clang++ ${args.at(-1)} failed (exit ${code})`))));
  });
}

// The core is compiled once, a job per CPU, and linked into every target:
// compiling it again per target tripled the time of the test that runs this.
async function buildCore() {
  const objects = sources.map((f) => path.join(out, 'core', f.replace(/\.cpp$/, '.o')));
  const queue = sources.map((f, i) => [path.join(core, f), objects[i]]);
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      await clang([...FLAGS, '-fsanitize=fuzzer-no-link,address,undefined', '-c', '-o', job[1], job[0]]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, os.availableParallelism()) }, worker));
  return objects;
}

function build(target, objects) {
  const binary = path.join(out, `${target}_fuzz`);
  execFileSync('clang++', [...FLAGS, '-fsanitize=fuzzer,address,undefined', '-o', binary, path.join(root, 'fuzz', `${target}_fuzz.cpp`), ...objects, '-lcrypto'], {
    stdio: 'inherit',
  });
  return binary;
}

const files = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : []);

const objects = await buildCore();
let failed = false;
for (const target of chosen.length ? chosen : TARGETS) {
  const binary = build(target, objects);
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
