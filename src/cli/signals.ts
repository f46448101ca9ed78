/**
 * SIGINT and SIGTERM for every command. The first signal asks the command to
 * stop (its action then prints what it has and exits with the status the
 * policy gives); a second one leaves at once, since a stop that hangs must
 * not trap the user.
 */
import { EXIT } from './exit-codes';

/**
 * measure: a run of measurements; either signal stops it early, exit 130 or
 * 143 after printing what was measured. service: a long-running service;
 * SIGTERM is how it is told to end (systemd, Kubernetes), so it ends
 * cleanly with exit 0, and SIGINT (Ctrl-C) is an interruption as above.
 */
export type SignalPolicy = 'measure' | 'service';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

const STATUS: Record<SignalPolicy, Record<StopSignal, number>> = {
  measure: { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm },
  service: { SIGINT: EXIT.sigint, SIGTERM: EXIT.ok },
};

export interface StopSignals {
  /** The exit status the first signal asked for; null while none came. */
  readonly exit: number | null;
  /** Removes the handlers (call when the command is done). */
  dispose(): void;
}

/**
 * Handles SIGINT and SIGTERM for one command: the first calls `stop`, a
 * second calls `leave` (synchronous cleanup that cannot wait) and exits with
 * the first one's status.
 */
export function onStopSignals(policy: SignalPolicy, stop: () => void, leave: () => void = () => {}): StopSignals {
  let exit: number | null = null;
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = () => {
      if (exit !== null) {
        leave();
        process.exit(exit);
      }
      exit = STATUS[policy][signal];
      stop();
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return {
    get exit() {
      return exit;
    },
    dispose() {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}
