/**
 * Everything the lab creates carries its owner's pid in the name: namespaces
 * and nftables tables `rttp-lab-<pid>-...`, links made outside the lab's own
 * namespaces `rttpl<pid>-..` (interface names stop at 15 characters), and
 * every process it starts has RTTP_LAB_OWNER=<pid> in its environment.
 * A Sandbox removes what one topology created; removeLeftovers() removes
 * what a run that no longer exists (killed, crashed) left behind, and leaves
 * a run that is still going alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import readline from 'node:readline';
import { LabError, ip, ipIn, nft, run, hasCommand } from './system';

export const LAB_PREFIX = 'rttp-lab-';
export const LINK_PREFIX = 'rttpl';
export const OWNER_ENV = 'RTTP_LAB_OWNER';

const OWNED_NAME = new RegExp(`^${LAB_PREFIX}(\\d+)(?:-|$)`);
const OWNED_LINK = new RegExp(`^${LINK_PREFIX}(\\d+)-`);

/**
 * Starts `argv` inside a namespace (`ip netns exec`; null: this one) with
 * the owner's mark in its environment, in a process group of its own, so a
 * terminal's Ctrl-C reaches the lab, which stops what it started in order.
 */
export function spawnOwned(netns: string | null, argv: string[], owner: number, stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  const [command, rest] = netns === null ? [argv[0]!, argv.slice(1)] : ['ip', ['netns', 'exec', netns, ...argv]];
  return spawn(command, rest, { stdio: [stdin, 'pipe', 'pipe'], detached: true, env: { ...process.env, [OWNER_ENV]: String(owner) } });
}

/** The first line a started process prints (its "listening" or "ready" line); rejects if it exits or stays silent for limitMs. */
export function firstLine(child: ChildProcess, what: string, limitMs: number): Promise<string> {
  let stderr = '';
  const onStderr = (d: Buffer | string) => (stderr += String(d));
  child.stderr!.on('data', onStderr);
  return new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    const done = () => {
      clearTimeout(timer);
      lines.close();
      child.off('close', onClose);
      child.stderr!.off('data', onStderr);
    };
    const onClose = (code: number | null, signal: NodeJS.Signals | null) => {
      done();
      reject(new LabError(`${what} exited with ${code ?? signal} before it was ready: ${stderr.trim() || 'no message'}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new LabError(`${what} printed nothing within ${limitMs / 1000}s`));
    }, limitMs);
    lines.once('line', (line) => {
      done();
      resolve(line);
    });
    child.on('close', onClose);
  });
}

/** Whether a process exists (EPERM: it does, someone else's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // exited meanwhile
  }
}

/** Runs a cleanup step; a failure is collected, never thrown, so the remaining steps still run. */
function attempt(errors: string[], step: () => void): void {
  try {
    step();
  } catch (error) {
    errors.push((error as Error).message);
  }
}

export function listNamespaces(): string[] {
  return ip('netns', 'list')
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter((name) => name !== '');
}

function listLinks(): string[] {
  return ip('-o', 'link', 'show')
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/** nftables tables of the current namespace as "family name". */
function listTables(): string[] {
  if (!hasCommand('nft')) return [];
  return run('nft', ['list', 'tables'])
    .split('\n')
    .map((line) => /^table (\S+) (\S+)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} ${m[2]}`);
}

/** Processes started by a lab run, by the owner recorded in their environment. */
export function labProcesses(): Array<{ pid: number; owner: number }> {
  const found: Array<{ pid: number; owner: number }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      const mark = env.find((v) => v.startsWith(`${OWNER_ENV}=`));
      if (mark) found.push({ pid: Number(entry), owner: Number(mark.slice(OWNER_ENV.length + 1)) });
    } catch {
      // the process exited while we looked
    }
  }
  return found;
}

/** Deletes a link unless it is gone already (deleting one end of a veth pair removes the other). */
function deleteLink(name: string): boolean {
  if (!listLinks().includes(name)) return false;
  ip('link', 'delete', name);
  return true;
}

function killNamespaceProcesses(netns: string): void {
  for (const pid of ip('netns', 'pids', netns).split('\n').filter((l) => /^\d+$/.test(l))) kill(Number(pid));
}

function ownerOf(pattern: RegExp, name: string): number | null {
  const m = pattern.exec(name);
  return m ? Number(m[1]) : null;
}

/** What the lab creates for one topology; destroy() removes all of it. */
export class Sandbox {
  readonly owner: number;
  readonly topology: string;
  readonly #namespaces: string[] = [];
  readonly #links: string[] = [];
  readonly #tables: string[] = [];
  readonly #processes: ChildProcess[] = [];

  constructor(topology: string, owner = process.pid) {
    this.topology = topology;
    this.owner = owner;
  }

  /** The name of nftables tables this run creates. */
  get tableName(): string {
    return `${LAB_PREFIX}${this.owner}`;
  }

  /** A fresh namespace with loopback up, named for this run, topology and role. */
  namespace(role: string): string {
    const name = `${LAB_PREFIX}${this.owner}-${this.topology}-${role}`;
    ip('netns', 'add', name);
    this.#namespaces.push(name);
    ipIn(name, 'link', 'set', 'lo', 'up');
    return name;
  }

  /** The name for a link created in the current namespace (outside the lab's own), remembered for removal. */
  hostLink(suffix: string): string {
    const name = `${LINK_PREFIX}${this.owner}-${suffix}`;
    if (name.length > 15) throw new RangeError(`link name ${name} is longer than 15 characters`);
    this.#links.push(name);
    return name;
  }

  /** Loads `table FAMILY rttp-lab-<pid> { body }` into the current namespace, remembered for removal. */
  hostTable(family: 'ip' | 'inet', body: string): void {
    const spec = `${family} ${this.tableName}`;
    this.#tables.push(spec);
    nft(null, `table ${spec} {\n${body}\n}\n`);
  }

  /**
   * Starts a helper the topology needs (a tunnel's forwarder) inside a
   * namespace and waits for its first line. Its stdin is a pipe from this
   * process: it ends when the lab does, however the lab ends; destroy()
   * kills it before anything else goes.
   */
  async helper(netns: string, argv: string[], what: string, limitMs = 20_000): Promise<ChildProcess> {
    const child = spawnOwned(netns, argv, this.owner, 'pipe');
    this.#processes.push(child);
    await firstLine(child, what, limitMs);
    // Drained from here on, so a helper's later output never fills a pipe and blocks it.
    child.stdout!.resume();
    child.stderr!.resume();
    return child;
  }

  /** Kills what runs inside, removes namespaces, links and tables; returns the steps that failed. */
  destroy(): string[] {
    const errors: string[] = [];
    for (const child of this.#processes.splice(0)) attempt(errors, () => child.kill('SIGKILL'));
    const namespaces = this.#namespaces.splice(0);
    attempt(errors, () => {
      const present = new Set(listNamespaces());
      for (const name of namespaces.filter((n) => present.has(n))) {
        attempt(errors, () => killNamespaceProcesses(name));
        attempt(errors, () => ip('netns', 'delete', name));
      }
    });
    for (const name of this.#links.splice(0)) attempt(errors, () => deleteLink(name));
    const tables = this.#tables.splice(0);
    if (tables.length > 0) {
      attempt(errors, () => {
        const present = new Set(listTables());
        for (const spec of tables.filter((t) => present.has(t))) attempt(errors, () => run('nft', ['delete', 'table', ...spec.split(' ')]));
      });
    }
    return errors;
  }
}

/**
 * Removes what lab runs that no longer exist left behind: their processes,
 * namespaces, links and nftables tables. Returns what it removed.
 */
export function removeLeftovers(): string[] {
  const removed: string[] = [];
  const dead = (owner: number | null) => owner !== null && owner !== process.pid && !isAlive(owner);
  for (const { pid, owner } of labProcesses()) {
    if (!dead(owner)) continue;
    kill(pid);
    removed.push(`process ${pid}`);
  }
  for (const name of listNamespaces().filter((n) => dead(ownerOf(OWNED_NAME, n)))) {
    killNamespaceProcesses(name);
    ip('netns', 'delete', name);
    removed.push(`namespace ${name}`);
  }
  for (const name of listLinks().filter((n) => dead(ownerOf(OWNED_LINK, n)))) {
    if (deleteLink(name)) removed.push(`link ${name}`);
  }
  for (const spec of listTables().filter((t) => dead(ownerOf(OWNED_NAME, t.split(' ')[1]!)))) {
    run('nft', ['delete', 'table', ...spec.split(' ')]);
    removed.push(`nftables table ${spec}`);
  }
  return removed;
}
