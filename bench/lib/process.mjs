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

/**
 * Starts a server and waits settleMs, or, with `ready` (a pattern of its
 * output), until it prints that it listens: a TCP client that comes before the
 * listener is refused, where a UDP one only loses its first datagrams.
 */
export async function startServer(argv, { settleMs = 300, ready = null, readyLimitMs = 30_000 } = {}) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const listening = new Promise((resolve) => {
    const seen = (d) => {
      output += d;
      if (ready?.test(output)) resolve();
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.on('exit', resolve);
  });
  child.on('exit', () => live.delete(child));
  const limit = ready ? readyLimitMs : settleMs;
  const waited = new Promise((r) => setTimeout(r, limit));
  await (ready ? Promise.race([listening, waited]) : waited);
  if (child.exitCode !== null) throw new Error(`server ${argv.join(' ')} exited: ${output}`);
  if (ready && !ready.test(output)) throw new Error(`server ${argv.join(' ')} did not say it listens within ${limit} ms: ${output}`);
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
