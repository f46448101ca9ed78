/**
 * The live status line of `probe` and `lab`: one line on a terminal's
 * stderr, redrawn in place (\r, then ESC[K to erase what the last one left)
 * at most about 4 times a second, and erased when the run ends. It draws the
 * progress snapshots the session already sends, so the measuring thread
 * does nothing more for it.
 */
import type { LabProgress } from '../lab/run';
import type { ProbeProgress } from '../session';
import { micros } from '../text';
import type { Io } from './io';

/** The progress interval a status line asks the session for, and the least time between redraws. */
export const STATUS_INTERVAL = '250ms';
const MIN_REDRAW_MS = 225;

const ERASE = '\r\x1b[K';

/** Who wants a status line: a terminal on stderr, and none of --json (machine output), --quiet or --progress (plain lines). */
export function wantsStatusLine(io: Io, flags: { json?: boolean | undefined; quiet?: boolean | undefined; progress?: boolean | undefined }): boolean {
  return io.stderr.isTTY === true && !flags.json && !flags.quiet && !flags.progress;
}

export class StatusLine {
  readonly #stderr: Io['stderr'] & { columns?: number };
  #drawnAt = -Infinity;
  #shown = false;

  constructor(io: Io) {
    this.#stderr = io.stderr;
  }

  /** Redraws the line, unless the last redraw was under ~250 ms ago. Cut to the terminal's width: a wrapped line cannot be redrawn in place. */
  draw(text: string): void {
    const now = performance.now();
    if (now - this.#drawnAt < MIN_REDRAW_MS) return;
    this.#drawnAt = now;
    const width = this.#stderr.columns ?? 80;
    this.#stderr.write(`${ERASE}${text.length >= width ? text.slice(0, width - 1) : text}`);
    this.#shown = true;
  }

  /** Writes a line of its own above the status line; the next draw brings the status back. */
  log(line: string): void {
    this.clear();
    this.#stderr.write(`${line}\n`);
    this.#drawnAt = -Infinity;
  }

  /** Erases the line, leaving the cursor at the start of an empty line. */
  clear(): void {
    if (this.#shown) this.#stderr.write(ERASE);
    this.#shown = false;
  }
}

const seconds = (ns: number) => `${(ns / 1e9).toFixed(1)}s`;

/** What is left of a run: its time, its probes, or both when it has both limits. */
function remaining(p: ProbeProgress, limits: { count: number; durationNs: number }): string {
  const left = [
    ...(limits.durationNs > 0 ? [seconds(Math.max(0, limits.durationNs - p.elapsedNs))] : []),
    ...(limits.count > 0 ? [`${Math.max(0, limits.count - p.sent)} probes`] : []),
  ];
  return left.length > 0 ? `  remaining ${left.join(' or ')}` : '';
}

/** Probes, loss and the rtt.user p50 and p99 (ns; null where nothing was measured). */
function figures(c: { sent: number; received: number; lost: number }, user: { p50: number; p99: number } | null): string {
  const judged = c.received + c.lost;
  const loss = judged > 0 ? ((100 * c.lost) / judged).toFixed(2) : '0.00';
  const rtt = user ? `  rtt.user p50 ${micros(user.p50)} µs  p99 ${micros(user.p99)} µs` : '';
  return `sent ${c.sent}  lost ${c.lost} (${loss}%)${rtt}`;
}

/** The status of a running probe: elapsed and remaining, probes, loss, running rtt.user p50 and p99. */
export function probeStatus(p: ProbeProgress, limits: { count: number; durationNs: number }): string {
  return `${seconds(p.elapsedNs)}${remaining(p, limits)}  ${figures(p, p.metrics['rtt.user'] ?? null)}`;
}

/**
 * The status of a lab run: elapsed, the run measuring now, the time left
 * (estimated from the time the `done` runs took, doneAtNs), and the last finished run's figures:
 * the lab's senders are processes of their own, and report when done.
 */
export function labStatus(p: LabProgress, elapsedNs: number, doneAtNs: number): string {
  const now = p.current ? `  run ${p.done + 1} of ${p.planned}: ${p.current.topology} ${p.current.protocol.toUpperCase()} ${p.current.size} B round ${p.current.round}` : '';
  // The runs so far took doneAtNs; the one measuring now has had part of its share.
  const left = p.done > 0 ? `  remaining ~${seconds(Math.max(0, (doneAtNs / p.done) * (p.planned - p.done) - (elapsedNs - doneAtNs)))}` : '';
  const s = p.last?.run.sender;
  const user = s?.metrics['rtt.user'];
  const last = s ? `  last ${p.last!.topology} ${p.last!.run.protocol.toUpperCase()} ${p.last!.run.size} B: ${figures(s, user ? { p50: user.percentiles['50']!, p99: user.percentiles['99']! } : null)}` : '';
  return `${seconds(elapsedNs)}${now}${left}${last}`;
}
