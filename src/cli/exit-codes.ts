/** Exit codes of every command: 0 success, 1 runtime failure (or a probe run that no reply answered), 2 bad usage, 130 after SIGINT, 143 after SIGTERM. */
export const EXIT = { ok: 0, failure: 1, usage: 2, sigint: 130, sigterm: 143 } as const;
