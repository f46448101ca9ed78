#!/usr/bin/env node
// Soak: a rate-mode probe of N probes (10 million by default) against a
// reflector, each its own CLI process, sampling both processes' resident
// memory (VmRSS) every second. After the warm-up (the first tenth of the run,
// at least 5 s) RSS must not grow by more than --tolerance-mb, and every probe must be
// accounted for (received + lost + in flight = sent). Prints a summary and
// exits 1 when either fails. Traffic stays on 127.0.0.1.
//
//   node bench/soak.mjs                              # 10 000 000 probes at 50 000/s (~3.5 min)
//   node bench/soak.mjs --probes 200000 --rate 20000 # the short version the tests run
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');

const options = { probes: 10_000_000, rate: 50_000, 'tolerance-mb': 4 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const name = argv[i]?.replace(/^--/, '');
  const value = Number(argv[i + 1]);
  if (!(name in options) || !Number.isFinite(value) || value <= 0) {
    console.error(`usage: soak.mjs [--probes N] [--rate PPS] [--tolerance-mb MB]; got "${argv[i]} ${argv[i + 1] ?? ''}"`);
    process.exit(2);
  }
  options[name] = value;
}
const seconds = options.probes / options.rate;
const warmupSeconds = Math.max(5, seconds / 10);

function start(args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  process.once('exit', () => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

function rssKiB(pid) {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    return NaN;
  }
}

// The reflector blocks in ppoll so the two processes do not both spin on a small machine.
const reflector = start(['reflect', '--bind', '127.0.0.1:0', '--no-busy-poll', '--json']);
const listening = await new Promise((resolve, reject) => {
  readline.createInterface({ input: reflector.child.stdout }).once('line', (l) => resolve(JSON.parse(l).listening));
  reflector.child.once('exit', (code) => reject(new Error(`reflector exited with ${code}`)));
});
const sender = start(['probe', `127.0.0.1:${listening.port}`, '--mode', 'rate', '--rate', String(options.rate),
  '--count', String(options.probes), '--timeout', '100ms', '--json']);
// Bounded in time whatever happens: the run's own length, plus a margin.
const deadline = setTimeout(() => sender.child.kill('SIGTERM'), (seconds * 1.5 + 60) * 1000);

const started = Date.now();
const samples = [];
const timer = setInterval(() => {
  const t = (Date.now() - started) / 1000;
  samples.push({ t, sender: rssKiB(sender.child.pid), reflector: rssKiB(reflector.child.pid) });
  if (samples.length % 10 === 0) {
    const s = samples.at(-1);
    console.error(`${t.toFixed(0)}s  RSS sender ${(s.sender / 1024).toFixed(1)} MiB  reflector ${(s.reflector / 1024).toFixed(1)} MiB`);
  }
}, 1000);

const run = await sender.done;
clearInterval(timer);
clearTimeout(deadline);
reflector.child.kill('SIGTERM');
await reflector.done;

const steady = samples.filter((s) => s.t >= warmupSeconds && Number.isFinite(s.sender));
const spread = (key) => {
  const v = steady.map((s) => s[key]);
  return { atWarmup: v[0] / 1024, min: Math.min(...v) / 1024, max: Math.max(...v) / 1024, final: v.at(-1) / 1024 };
};
const failures = [];
let result = {};
if (run.code !== 0) failures.push(`the probe exited with ${run.code}: ${run.stderr.trim()}`);
else result = JSON.parse(run.stdout);
if (result.sent !== undefined && result.received + result.lost + result.inFlight !== result.sent) {
  failures.push(`probes unaccounted for: sent ${result.sent}, received ${result.received}, lost ${result.lost}, in flight ${result.inFlight}`);
}
if (steady.length < 3) failures.push('too few samples after the warm-up: run more probes');
const memory = { sender: spread('sender'), reflector: spread('reflector') };
// Growth past the warm-up is what a leak looks like; memory the process hands back is not.
for (const [who, m] of Object.entries(memory)) {
  if (m.max - m.atWarmup > options['tolerance-mb']) {
    failures.push(`${who} RSS grew ${(m.max - m.atWarmup).toFixed(1)} MiB after the warm-up (allowed ${options['tolerance-mb']} MiB)`);
  }
}
const summary = {
  probes: options.probes,
  rate: options.rate,
  elapsedSeconds: Math.round((Date.now() - started) / 100) / 10,
  warmupSeconds,
  sent: result.sent,
  received: result.received,
  lost: result.lost,
  rssMiB: Object.fromEntries(Object.entries(memory).map(([k, m]) => [k, Object.fromEntries(Object.entries(m).map(([n, v]) => [n, Math.round(v * 10) / 10]))])),
  ok: failures.length === 0,
};
console.log(JSON.stringify(summary));
for (const f of failures) console.error(`soak: ${f}`);
process.exit(failures.length ? 1 : 0);
