/**
 * One measurement: a reflector and a sender, each the rtt-probe CLI run as
 * its own process inside its namespace (`ip netns exec NS node main.js ...`),
 * since a process's network namespace belongs to the thread that entered it.
 * Both are bounded in count and time, carry the lab's owner mark in their
 * environment, and are killed if the lab exits first.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ProbeMode, Protocol, TimestampSource } from '../options';
import type { ProbeResultJSON, ReflectorResult } from '../result';
import { firstLine, spawnOwned } from './sandbox';
import { LabError } from './system';
import type { BuiltTopology, Endpoint } from './topologies';

const CLI = path.join(__dirname, '..', 'cli', 'main.js');

/** How long a reflector may take to print its listening line. */
const START_LIMIT_MS = 20_000;
/** Slack past the sender's own limit before a stuck end is killed. */
const EXIT_SLACK_MS = 30_000;

/** Timestamps the sender may ask for: 'auto' (kernel, and NIC where it can) or 'none'. */
export const SENDER_TIMESTAMPS = ['auto', 'none'] as const satisfies readonly TimestampSource[];
export type SenderTimestamps = (typeof SENDER_TIMESTAMPS)[number];

/**
 * The sender's exit statuses that still come with a result: a run that
 * finished, and one the lab stopped early with SIGINT. The CLI the lab runs
 * sits above the lab, so whoever starts the lab passes them in.
 */
export interface SenderStatuses {
  finished: number;
  interrupted: number;
}

export interface EndSettings {
  count: number;
  mode: ProbeMode;
  rate: number | null;
  warmup: number;
  /** The sender's timestamps: 'auto' (kernel, and NIC where it can) or 'none' (user-space stamps only). */
  timestamps: SenderTimestamps;
  /** Per-probe reply timeout, as the probe command takes it ("1s"). */
  timeout: string;
  busyPoll: boolean;
  /** CPUs to pin the two ends to, or null to leave them unpinned. */
  cpu: { reflector: number; sender: number } | null;
  /** The most one sender may run, in milliseconds, whatever count asks. */
  maxRunMs: number;
}

export interface Measurement {
  sender: ProbeResultJSON;
  /** The reflector's counters and CPU time; null when it runs on a remote host. */
  reflector: ReflectorResult | null;
}

interface End {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function hostPort(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/** Every end still running, so an exit handler can kill them. */
const running = new Set<ChildProcess>();

/** Kills every end this process started that is still running (for exit and second-signal paths). */
export function killEnds(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

function start(netns: string | null, args: string[], owner: number, limitMs: number): End {
  const child = spawnOwned(netns, [process.execPath, CLI, ...args], owner);
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const exited = new Promise<Awaited<End['exited']>>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code: null, signal: null, stdout, stderr: `${stderr}${error.message}` });
    });
  });
  return { child, exited };
}

function parseLast<T>(stdout: string, what: string): T {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new LabError(`${what} printed no JSON result: ${line.slice(0, 200)}`);
  }
}

function common(s: EndSettings, cpu: number | undefined): string[] {
  return [...(cpu === undefined ? [] : ['--cpu', String(cpu)]), ...(s.busyPoll ? [] : ['--no-busy-poll'])];
}

/**
 * Runs one sender against one reflector in a built topology, over UDP or TCP
 * (the reflector then serves that protocol alone; the port is always given,
 * as TCP has no default). An abort stops the sender early (SIGINT: it prints
 * what it measured, `stopped: true`).
 */
export async function measure(
  built: BuiltTopology,
  protocol: Protocol,
  size: number,
  s: EndSettings,
  owner: number,
  signal: AbortSignal,
  statuses: SenderStatuses,
  timestamps: SenderTimestamps = s.timestamps,
): Promise<Measurement> {
  const senderLimitMs = s.maxRunMs + EXIT_SLACK_MS;
  let reflector: End | null = null;
  if (built.reflector) {
    reflector = start(
      built.reflector.netns,
      [
        'reflect',
        '--bind',
        hostPort(built.reflector.bind),
        '--proto',
        protocol,
        '--json',
        // Bounds an orphaned reflector should the lab be killed outright.
        '--duration',
        `${senderLimitMs + EXIT_SLACK_MS}ms`,
        ...common(s, s.cpu?.reflector),
      ],
      owner,
      senderLimitMs + 2 * EXIT_SLACK_MS,
    );
  }
  try {
    if (reflector) await firstLine(reflector.child, 'reflector', START_LIMIT_MS);
    const sender = start(
      built.sender.netns,
      [
        'probe',
        hostPort(built.sender.target),
        '--proto',
        protocol,
        '--json',
        '--count',
        String(s.count),
        '--duration',
        `${s.maxRunMs}ms`,
        '--size',
        String(size),
        '--mode',
        s.mode,
        ...(s.rate === null ? [] : ['--rate', String(s.rate)]),
        '--warmup',
        String(s.warmup),
        '--timeout',
        s.timeout,
        '--ts',
        timestamps,
        ...common(s, s.cpu?.sender),
      ],
      owner,
      senderLimitMs,
    );
    const onAbort = () => sender.child.kill('SIGINT');
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const done = await sender.exited.finally(() => signal.removeEventListener('abort', onAbort));
    // Stopped by our SIGINT, it still prints the partial result.
    if (done.code !== statuses.finished && done.code !== statuses.interrupted) {
      throw new LabError(`sender exited with ${done.code ?? done.signal}: ${done.stderr.trim() || 'no message'}`);
    }
    const result = parseLast<ProbeResultJSON>(done.stdout, 'sender');
    let counters: ReflectorResult | null = null;
    if (reflector) {
      reflector.child.kill('SIGTERM');
      const end = await reflector.exited;
      counters = parseLast<ReflectorResult>(end.stdout, 'reflector');
    }
    return { sender: result, reflector: counters };
  } finally {
    reflector?.child.kill('SIGKILL');
  }
}
