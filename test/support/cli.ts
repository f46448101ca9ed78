/** Runs the built CLI (dist/cli/main.js) as a user's shell would, optionally inside a network namespace. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

export const CLI = path.join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  netns?: string;
  timeoutMs?: number;
  /** A command the CLI runs under, e.g. setpriv to drop root. */
  wrapper?: string[];
}

function command(args: string[], options: CliOptions): [string, string[]] {
  const argv = [...(options.wrapper ?? []), process.execPath, CLI, ...args];
  return options.netns ? ['ip', ['netns', 'exec', options.netns, ...argv]] : [argv[0]!, argv.slice(1)];
}

/** Spawns the CLI; `done` settles when it exits (killed after timeoutMs). */
export function spawnCli(args: string[], options: CliOptions = {}) {
  const [cmd, argv] = command(args, options);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  // A spinning reflector must never outlive the test process, whatever failed.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const done = new Promise<CliRun>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', reap);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return spawnCli(args, options).done;
}

/** Waits for the child's first stdout line (a reflector's listening line). */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.once('line', (line) => {
      rl.close();
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing a line`)));
  });
}

/** Waits for a stderr line matching `pattern` (a probe's first --progress line: it is measuring), rejecting if the child exits first. */
export function stderrLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stderr! });
    rl.on('line', (line) => {
      if (!pattern.test(line)) return;
      rl.close();
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing a line matching ${pattern}`)));
  });
}

/** Starts `rtt-probe reflect --json` and returns its port once it listens. */
export async function startCliReflector(bind: string, options: Omit<CliOptions, 'timeoutMs'> & { extra?: string[] } = {}) {
  const run = spawnCli(['reflect', '--bind', bind, '--json', ...(options.extra ?? [])], { ...options, timeoutMs: 120_000 });
  try {
    const line = await firstLine(run.child);
    const { listening } = JSON.parse(line) as { listening: { address: string; port: number; family: string } };
    return { ...run, listening };
  } catch (error) {
    run.child.kill('SIGKILL');
    throw error;
  }
}
