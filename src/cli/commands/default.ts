/** `rtt-probe` with no command: a reflector on loopback, probed for a few seconds. */
import type { Command } from 'commander';
import { probe, startReflector } from '../../session';
import { duration } from '../arguments';
import { UsageError } from '../errors';
import type { Io, Outcome } from '../io';
import { runProbe } from './probe';

export function addDefaultAction(program: Command, io: Io, outcome: Outcome): void {
  program
    .option('--duration <d>', 'how long to probe loopback', duration, '3s')
    .option('--ipv6', 'use ::1 instead of 127.0.0.1')
    .option('--json', 'print the result as JSON only')
    .action(async (flags: { duration: string; ipv6?: boolean; json?: boolean }, command: Command) => {
      if (command.args.length > 0) {
        const names = command.commands.map((c) => c.name()).join(', ');
        throw new UsageError(`unknown command '${command.args[0]}' (the commands are ${names}; with none, rtt-probe probes loopback)`);
      }
      const host = flags.ipv6 ? '::1' : '127.0.0.1';
      const reflector = await startReflector({ bind: host, port: 0 });
      try {
        if (!flags.json) io.stderr.write(`built-in reflector on ${flags.ipv6 ? `[${host}]` : host}:${reflector.address.port}; probing for ${flags.duration}\n`);
        const session = probe({ host, port: reflector.address.port }, { duration: flags.duration });
        outcome.exit = await runProbe(io, session, { json: flags.json ?? false, display: { kind: 'none', quiet: false } });
      } finally {
        await reflector.stop();
      }
    });
}
