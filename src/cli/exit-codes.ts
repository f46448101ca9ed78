/**
 * The exit statuses of every command, each with its meaning: the one table
 * the code returns from and the help's "Exit status" epilogue is written from.
 */
export const EXIT_STATUSES = {
  ok: { code: 0, meaning: 'success (a probe run: replies were measured)' },
  failure: { code: 1, meaning: 'failure: nothing was measured (no reply came back) or the system refused something; stderr says why' },
  usage: { code: 2, meaning: 'bad usage: an option, argument or input file the command cannot take; stderr says what to give' },
  check: { code: 3, meaning: 'a check the command was asked to make did not pass (compare: a --fail-if rule tripped; qualify: a rule failed or went unchecked)' },
  sigint: { code: 130, meaning: 'stopped by SIGINT (Ctrl-C), after printing what was measured' },
  sigterm: { code: 143, meaning: 'stopped by SIGTERM, after printing what was measured' },
} as const;

export type ExitName = keyof typeof EXIT_STATUSES;

/** The status codes by name: EXIT.usage is 2. */
export const EXIT = Object.fromEntries(Object.entries(EXIT_STATUSES).map(([name, s]) => [name, s.code])) as {
  readonly [N in ExitName]: (typeof EXIT_STATUSES)[N]['code'];
};

/** The help's epilogue: every status and its meaning. */
export function exitStatusHelp(): string {
  const rows = Object.values(EXIT_STATUSES);
  const width = Math.max(...rows.map((s) => String(s.code).length));
  return ['', 'Exit status:', ...rows.map((s) => `  ${String(s.code).padStart(width)}  ${s.meaning}`)].join('\n');
}
