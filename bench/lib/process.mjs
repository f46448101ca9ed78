// Child processes for the benchmark: servers that are always killed, clients whose output is parsed.
import { execFileSync, spawn } from 'node:child_process';

const live = new Set();
for (const signal of ['exit', 'SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of live) child.kill('SIGKILL');
    if (signal !== 'exit') process.exit(130);
  });
}

/** Prefixes a command so it runs inside a network namespace (or not). */
export function inNamespace(netns, argv) {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
}

/** Starts a server and waits until its port answers (or `ready` says so). */
export async function startServer(argv, { settleMs = 300 } = {}) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  child.on('exit', () => live.delete(child));
  await new Promise((r) => setTimeout(r, settleMs));
  if (child.exitCode !== null) throw new Error(`server ${argv.join(' ')} exited: ${output}`);
  return {
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGKILL');
      }),
  };
}

/** Runs a client to completion and returns its stdout; throws with its output on failure. */
export function runClient(argv, { timeoutMs = 120_000, env } = {}) {
  try {
    return execFileSync(argv[0], argv.slice(1), {
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 256 << 20,
      env: env ? { ...process.env, ...env } : process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    throw new Error(`${argv.join(' ')} failed: ${error.stderr || error.message}`);
  }
}

export function hasCommand(name) {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
