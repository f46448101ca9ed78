/** The `rtt-probe` program: every command, each from its own file, with the exit statuses in every help. */
import { Command } from 'commander';
import { VERSION } from '../host';
import { addBudgetCommand } from './commands/budget';
import { addCapsCommand } from './commands/caps';
import { addCompareCommand } from './commands/compare';
import { addDefaultAction } from './commands/default';
import { addLabCommand } from './commands/lab';
import { addMonitorCommand } from './commands/monitor';
import { addProbeCommand } from './commands/probe';
import { addQualifyCommand } from './commands/qualify';
import { addReflectCommand } from './commands/reflect';
import { addReportCommand } from './commands/report';
import { exitStatusHelp } from './exit-codes';
import type { Io, Outcome } from './io';

export function buildProgram(io: Io, outcome: Outcome): Command {
  const program = new Command('rtt-probe')
    .description(
      'Measure network round-trip time with kernel timestamps, busy polling and HDR histograms (STAMP, RFC 8762).\n' +
        'With no command: start a reflector on loopback and probe it for a few seconds.',
    )
    .version(VERSION)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    // Options after a command belong to that command (probe and reflect have their own --json, --duration).
    .enablePositionalOptions();
  addDefaultAction(program, io, outcome);
  addProbeCommand(program, io, outcome);
  addReflectCommand(program, io, outcome);
  addMonitorCommand(program, io, outcome);
  addLabCommand(program, io, outcome);
  addBudgetCommand(program, io, outcome);
  addReportCommand(program, io, outcome);
  addCompareCommand(program, io, outcome);
  addCapsCommand(program, io);
  addQualifyCommand(program, io, outcome);
  for (const command of [program, ...program.commands]) command.addHelpText('after', exitStatusHelp());
  // A word that names no command reaches the default action, which says so
  // rather than "too many arguments". Set last: commands made after it would inherit it.
  program.allowExcessArguments();
  return program;
}
