/**
 * SIGINT and SIGTERM, as every command takes them (src/cli/signals.ts),
 * sent for real to a process that uses the helper as a command does: the
 * first signal asks it to stop, and the policy decides the exit status; a
 * second signal leaves at once, even when stopping hangs. The commands
 * themselves are signalled in cli.test.ts (probe, reflect) and lab.test.ts.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/exit-codes';
import type { SignalPolicy } from '../src/cli/signals';

const SIGNALS = path.join(__dirname, '..', 'dist', 'cli', 'signals.js');

/**
 * A stand-in command: prints "ready", then runs until a signal asks it to
 * stop; its stop takes 50 ms, as a session's final result does, or never
 * comes ('hang'). It exits with the status the first signal asked for.
 */
const COMMAND = `
const { onStopSignals } = require(${JSON.stringify(SIGNALS)});
const [policy, stopping] = process.argv.slice(1);
const work = setInterval(() => {}, 1000);
const signals = onStopSignals(
  policy,
  () => {
    console.log('stopping');
    if (stopping === 'hang') return;
    setTimeout(() => {
      clearInterval(work);
      signals.dispose();
      console.log('stopped: results printed');
      process.exitCode = signals.exit;
    }, 50);
  },
  () => console.log('left at once'),
);
console.log('ready');
`;

async function signalled(policy: SignalPolicy, signals: NodeJS.Signals[], stop: 'finish' | 'hang' = 'finish') {
  const child = spawn(process.execPath, ['-e', COMMAND, policy, stop], { stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let stdout = '';
  const waiting: Array<{ text: string; resolve: () => void }> = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const w of waiting.filter((x) => stdout.includes(x.text))) w.resolve();
  });
  const printed = (text: string) => new Promise<void>((resolve) => (stdout.includes(text) ? resolve() : waiting.push({ text, resolve })));
  await printed('ready\n');
  // One at a time: a second signal sent before the first is handled may merge with it.
  for (const signal of signals) {
    child.kill(signal);
    await Promise.race([printed('stopping\n'), exited]);
  }
  const code = await exited;
  clearTimeout(timer);
  return { code, stdout: stdout.replace('ready\n', '') };
}

describe("policy 'measure' (probe, reflect, lab, the default run)", () => {
  it.each([
    ['SIGINT', EXIT.sigint],
    ['SIGTERM', EXIT.sigterm],
  ] as const)('%s stops the run; what was measured is printed; exit %i', async (signal, status) => {
    expect(await signalled('measure', [signal])).toEqual({ code: status, stdout: 'stopping\nstopped: results printed\n' });
  });

  it('a second signal leaves at once when stopping hangs, with the first one’s status', async () => {
    expect(await signalled('measure', ['SIGTERM', 'SIGINT'], 'hang')).toEqual({ code: EXIT.sigterm, stdout: 'stopping\nleft at once\n' });
  });
});

describe("policy 'service' (long-running services)", () => {
  it('SIGTERM, how a service manager ends a service, ends it cleanly with exit 0', async () => {
    expect(await signalled('service', ['SIGTERM'])).toEqual({ code: EXIT.ok, stdout: 'stopping\nstopped: results printed\n' });
  });

  it('SIGINT (Ctrl-C) interrupts it: exit 130', async () => {
    expect(await signalled('service', ['SIGINT'])).toEqual({ code: EXIT.sigint, stdout: 'stopping\nstopped: results printed\n' });
  });

  it('a second signal leaves at once when stopping hangs', async () => {
    expect(await signalled('service', ['SIGTERM', 'SIGTERM'], 'hang')).toEqual({ code: EXIT.ok, stdout: 'stopping\nleft at once\n' });
  });
});
