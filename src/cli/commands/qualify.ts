/** `rtt-probe qualify TARGET`: run a matrix of probe sessions against a reflector and check each against a profile's rules. */
import type { Command } from 'commander';
import { loadProfile, checkProfile, DEFAULT_PROFILE, type QualifyProfile } from '../../qualify/profile';
import { elapsedLine, formatCellLine, formatPlan, formatVerdicts, prepareOut, qualifyJSON, writeOut } from '../../qualify/report';
import { planQualify, runQualify, type QualifyOptions } from '../../qualify/run';
import type { ProbeProgress } from '../../session';
import { integer } from '../arguments';
import { EXIT } from '../exit-codes';
import type { Io, Outcome } from '../io';
import { onStopSignals } from '../signals';

interface QualifyFlags {
  profile?: string;
  require?: string[];
  out?: string;
  force?: boolean;
  cpu?: number;
  json?: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** The effective profile: the file's, else the default's axes; --require rules added; the built-in rules only when neither is given. */
function effectiveProfile(flags: QualifyFlags): QualifyProfile {
  const required = flags.require ?? [];
  if (flags.profile !== undefined) return loadProfile(flags.profile, required);
  if (required.length > 0) return checkProfile({}, '--require', required);
  return DEFAULT_PROFILE;
}

export function addQualifyCommand(program: Command, io: Io, outcome: Outcome): void {
  program
    .command('qualify')
    .description(
      'qualify a path: run a matrix of probe sessions (transports x timestamp sources x sizes x ping-pong and rate mode) against a reflector, ' +
        "check each against a profile's rules and print a verdict table (docs/qualify.md). Exit 0 when every rule holds, 3 when one fails or goes unchecked",
    )
    .argument('<target>', 'host, host:port or [ipv6]:port of a STAMP reflector (default port 862)')
    .option('--profile <file>', 'the profile, JSON or YAML: rules, sizes, timestamps, modes, rates, count, transports (default: the built-in profile)')
    .option('--require <rule>', 'a rule every cell must meet, e.g. "rtt.kernel p99.9 <= 30us", "loss == 0", "caps <= warn" (repeatable; added to --profile, else replaces the built-in rules)', collect)
    .option('--out <dir>', 'keep the run: results/CELL.json, caps.json, profile.json, verdicts.json, report.html (a new or empty directory)')
    .option('--force', 'write into a non-empty --out directory')
    .option('--cpu <n>', 'pin every session to this CPU (and report its caps; default: every CPU the process may run on)', integer(0, 1023))
    .option('--json', 'print one JSON document (kind rtt-probe-qualify) instead of the table')
    .action(async (target: string, flags: QualifyFlags) => {
      const profile = effectiveProfile(flags);
      if (flags.out !== undefined) prepareOut(flags.out, flags.force ?? false);
      const controller = new AbortController();
      const signals = onStopSignals('measure', () => controller.abort());
      const options: QualifyOptions = { profile, cpu: flags.cpu, signal: controller.signal };
      const timelines = new Map<string, ProbeProgress[]>();
      try {
        const plan = await planQualify(target, options);
        io.stderr.write(`${formatPlan(plan, profile)}\n`);
        let position = { index: 0, of: 0 };
        const q = await runQualify(plan, options, {
          onCellStart: (cell, index, of) => {
            position = { index, of };
            timelines.set(cell.id, []);
          },
          onProgress: (cell, p) => timelines.get(cell.id)!.push(p),
          onCellEnd: (run) => io.stderr.write(`${formatCellLine(run, position.index, position.of)}\n`),
        });
        const json = qualifyJSON(q, profile);
        io.stderr.write(`${elapsedLine(json)}\n`);
        // The verdicts are printed first: a file that fails to write cannot lose them.
        io.stdout.write(flags.json ? `${JSON.stringify(json)}\n` : `${formatVerdicts(json)}\n`);
        if (flags.out !== undefined) {
          writeOut(flags.out, json, timelines);
          io.stderr.write(`kept in ${flags.out}: results/, caps.json, profile.json, verdicts.json, report.html\n`);
        }
        outcome.exit = signals.exit ?? (json.verdict === 'pass' ? EXIT.ok : EXIT.check);
      } catch (error) {
        if (signals.exit !== null) {
          io.stderr.write(`rtt-probe: stopped before the matrix started: ${(error as Error).message}\n`);
          outcome.exit = signals.exit;
          return;
        }
        throw error;
      } finally {
        signals.dispose();
      }
    });
}
