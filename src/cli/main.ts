#!/usr/bin/env node
/** Runs the `rtt-probe` program: the exit status comes from the command, or from the error that ended it. */
import { CommanderError } from 'commander';
import { exitFor } from './errors';
import { EXIT } from './exit-codes';
import type { Io, Outcome } from './io';
import { buildProgram } from './program';

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const outcome: Outcome = { exit: EXIT.ok };
  const program = buildProgram(io, outcome);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return outcome.exit;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    io.stderr.write(`rtt-probe: ${(error as Error).message ?? String(error)}\n`);
    const { exitCode, hint } = exitFor(error);
    if (hint) io.stderr.write('(run with --help for usage)\n');
    return exitCode;
  }
}

// Run as the rtt-probe command (not when a test imports main).
if (require.main === module) {
  // A reader that stops early (`rtt-probe --help | head`) closes stdout: the output is no longer wanted, which is no error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? EXIT.ok);
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`rtt-probe: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = EXIT.failure;
    },
  );
}
