/**
 * Running a qualification: a short ping-pong pilot finds the route's
 * interface, takes the caps snapshot (that interface, the CPUs of `cpu`)
 * and measures the round trip the estimate uses; then the cells run one
 * after another against the target, each a probe session of its own.
 */
import { CAP_NET_RAW, holdsCapabilities } from '../capabilities';
import type { CapsReport } from '../caps';
import { RttProbeError } from '../errors';
import type { ProbeResult } from '../result';
import { probe, type ProbeProgress } from '../session';
import { CELL_WARMUP, buildMatrix, estimateNs, skipReason, type Cell, type PathFacts } from './matrix';
import { profileRules, type QualifyProfile } from './profile';
import { judge, type CellRun, type Verdicts } from './verdicts';

/** Probes of the pilot run: its mean round trip and its cost besides the round trips are what the estimate assumes. */
export const PILOT_PROBES = 200;

/** The target did not answer the pilot: nothing in the matrix could be measured. */
export class QualifyError extends RttProbeError {
  constructor(message: string) {
    super(message, 'ERR_RTT_PROBE_NO_REPLY');
    this.name = 'QualifyError';
  }
}

/** Whether this process holds CAP_NET_RAW, which the raw transport needs. */
export function holdsNetRaw(status?: string): boolean {
  return holdsCapabilities([CAP_NET_RAW], status);
}

export interface QualifyOptions {
  profile: QualifyProfile;
  /** Pin every session (and take the caps of) this CPU; default: unpinned, the caps of every CPU the process may run on. */
  cpu?: number | undefined;
  /** Stops the run: the cell in flight keeps what it measured, the rest are not run. */
  signal?: AbortSignal | undefined;
}

export interface Plan {
  target: string;
  path: PathFacts;
  caps: CapsReport | undefined;
  /** Mean round trip of the pilot, ns. */
  roundTripNs: number;
  /** What the pilot session took besides its round trips, ns: each cell's estimate adds it. */
  sessionNs: number;
  cells: { cell: Cell; skip: string | null }[];
  estimateNs: number;
}

export async function planQualify(target: string, { profile, cpu, signal }: QualifyOptions): Promise<Plan> {
  const started = process.hrtime.bigint();
  const pilot = await probe(target, { mode: 'pingpong', count: PILOT_PROBES, warmup: CELL_WARMUP, timestamps: 'none', timeout: profile.timeout, cpu, stopOnUnreachable: true, signal }).result;
  const pilotNs = Number(process.hrtime.bigint() - started);
  const rtt = pilot.metrics['rtt.user'];
  if (!rtt || rtt.count === 0) {
    throw new QualifyError(
      `no reply from ${target} to the pilot probes before the matrix (${pilot.missing['rtt.user'] ?? 'none measured'}); is a STAMP reflector running there? rtt-probe reflect starts one`,
    );
  }
  const nic = pilot.caps?.interfaces[0];
  const path: PathFacts = { interface: nic?.interface ?? null, hardwareTimestamping: nic?.hardwareCapable ?? false, netRaw: holdsNetRaw() };
  const cells = buildMatrix(profile).map((cell) => ({ cell, skip: skipReason(cell, path) }));
  const roundTripNs = Math.round(rtt.mean);
  // What a session costs besides its probes (thread, sockets, the caps snapshot of its result), as the pilot paid it.
  const sessionNs = Math.max(0, pilotNs - (PILOT_PROBES + CELL_WARMUP) * roundTripNs);
  const runnable = cells.filter((c) => c.skip === null).map((c) => c.cell);
  return { target, path, caps: pilot.caps, roundTripNs, sessionNs, cells, estimateNs: estimateNs(runnable, profile.count, roundTripNs, sessionNs) };
}

export interface RunCallbacks {
  /** A cell starts: its index among the cells that run (from 1) and how many run. */
  onCellStart?: (cell: Cell, index: number, of: number) => void;
  onCellEnd?: (run: CellRun) => void;
  onProgress?: (cell: Cell, progress: ProbeProgress) => void;
}

async function runCell(target: string, cell: Cell, options: QualifyOptions, callbacks: RunCallbacks): Promise<CellRun> {
  let result: ProbeResult;
  try {
    const session = probe(target, {
      transport: cell.transport,
      mode: cell.mode,
      ...(cell.rate !== null ? { rate: cell.rate } : {}),
      count: options.profile.count,
      warmup: CELL_WARMUP,
      size: cell.size,
      timeout: options.profile.timeout,
      timestamps: cell.timestamps,
      cpu: options.cpu,
      signal: options.signal,
    });
    if (callbacks.onProgress) session.on('progress', (p) => callbacks.onProgress!(cell, p));
    result = await session.result;
  } catch (error) {
    if (!(error instanceof RttProbeError)) throw error;
    return { cell, status: 'failed', reason: `${error.message} (${error.code})`, result: null };
  }
  return { cell, status: result.stopped ? 'interrupted' : 'measured', reason: null, result };
}

export interface Qualification {
  plan: Plan;
  runs: CellRun[];
  /** How long the cells took, ns: to set against the plan's estimate. */
  elapsedNs: number;
  interrupted: boolean;
  verdicts: Verdicts;
}

/** Runs the plan's cells in order and judges them; stopped by `signal`, it judges what was measured and says it was interrupted. */
export async function runQualify(plan: Plan, options: QualifyOptions, callbacks: RunCallbacks = {}): Promise<Qualification> {
  const started = process.hrtime.bigint();
  const runs: CellRun[] = [];
  const of = plan.cells.filter((c) => c.skip === null).length;
  let index = 0;
  for (const { cell, skip } of plan.cells) {
    if (skip !== null) {
      runs.push({ cell, status: 'skipped', reason: skip, result: null });
      continue;
    }
    if (options.signal?.aborted) {
      runs.push({ cell, status: 'not run', reason: null, result: null });
      continue;
    }
    callbacks.onCellStart?.(cell, ++index, of);
    const run = await runCell(plan.target, cell, options, callbacks);
    runs.push(run);
    callbacks.onCellEnd?.(run);
  }
  const interrupted = options.signal?.aborted ?? false;
  const elapsedNs = Number(process.hrtime.bigint() - started);
  return { plan, runs, elapsedNs, interrupted, verdicts: judge(profileRules(options.profile), runs, plan.caps, plan.path, interrupted) };
}
