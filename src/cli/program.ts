/**
 * The `rtt-probe` command line. Exit codes: 0 success, 1 runtime failure (or
 * a probe run that no reply answered), 2 bad usage, 130 after SIGINT and 143
 * after SIGTERM (partial results are still printed).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { TimestampingGrant } from '../binding';
import { rtThrottling } from '../caps';
import { OptionRangeError, OptionTypeError } from '../errors';
import { VERSION } from '../host';
import { InputError } from '../lab/budget-input';
import { DEFAULT_PORT, MAX_RATE_LIMIT, MIN_RATE_LIMIT, parseTarget, type ProbeOptions, type ReflectorOptions } from '../options';
import type { ProbeResult } from '../result';
import { probe, startReflector, type ProbeSession } from '../session';
import { UsageError, duration, integer, positive, replyRate } from './arguments';
import { EXIT } from './exit-codes';
import { addCapsCommand } from './caps';
import { formatProbeResult, formatProgress, formatReflectorResult, hardwareShortfall, rtThrottlingStop, unanswered } from './format';
import { addLabCommands } from './lab';
import { DEFAULT_KEY_VARIABLE, KeyError, keyFromFlags, type KeyFlags } from './key';

export { EXIT };

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

interface SharedFlags extends KeyFlags {
  cpu?: number;
  rtPriority?: number;
  mlock?: boolean;
  busyPoll: boolean;
  socketBusyPoll?: number;
  ts: 'auto' | 'software' | 'hardware' | 'none';
  timestampFormat: 'ntp' | 'ptp';
  clock: 'auto' | 'tsc' | 'realtime';
  json?: boolean;
  duration?: string;
}

interface ProbeFlags extends SharedFlags {
  mode: 'pingpong' | 'rate';
  count?: number;
  rate?: number;
  size?: number;
  warmup: number;
  timeout: string;
  bind?: string;
  ssid: number;
  progress?: boolean;
}

interface ReflectFlags extends SharedFlags {
  bind: { bind: string; port: number };
  allow?: string[];
  rateLimit?: number;
  globalRateLimit?: number;
  stateful?: boolean;
  maxSessions?: number;
  sessionTimeout?: string;
  twampLight?: boolean;
}

/** --allow takes comma-separated prefixes and may be repeated. */
function cidrList(value: string, previous: string[] | undefined): string[] {
  const entries = value.split(',').map((e) => e.trim());
  if (entries.some((e) => e === '')) throw new InvalidArgumentError('give CIDR prefixes separated by commas, e.g. 198.18.0.0/15,2001:2::/48.');
  return [...(previous ?? []), ...entries];
}

function sharedOptions(cmd: Command): Command {
  return cmd
    .option('--cpu <n>', 'pin the session thread to this CPU', integer(0, 1023))
    .option('--rt-priority <n>', 'run the session thread SCHED_FIFO at this priority (1-99; needs root)', integer(1, 99))
    .option('--mlock', 'lock memory (mlockall) so page faults cannot stall the loop')
    .option('--no-busy-poll', 'block in ppoll instead of spinning (to see what busy polling buys)')
    .option('--socket-busy-poll <us>', 'also set SO_BUSY_POLL on the socket (kernel NIC-queue polling)', integer(1, 1_000_000))
    .addOption(
      new Option(
        '--ts <source>',
        'timestamps to ask for: auto (kernel, and NIC where the driver has them), software, hardware (enables NIC timestamping: ' +
          'needs CAP_NET_ADMIN and a NIC that has it, see rtt-probe caps; warns when none will come), none',
      )
        .choices(['auto', 'software', 'hardware', 'none'])
        .default('auto'),
    )
    .addOption(new Option('--timestamp-format <format>', 'STAMP timestamp format this end writes').choices(['ntp', 'ptp']).default('ntp'))
    .addOption(
      new Option(
        '--clock <source>',
        'clock for user stamps and timers, both CLOCK_REALTIME: tsc (the CPU counter, calibrated against it; half the cost of a read), ' +
          'realtime (the vDSO), auto (tsc where the kernel keeps time with an invariant TSC)',
      )
        .choices(['auto', 'tsc', 'realtime'])
        .default('auto'),
    )
    .option('--key-file <path>', 'authenticated STAMP: read the shared key (16-4096 bytes) from this file')
    .option('--key-env [name]', `authenticated STAMP: read the shared key, as hex or base64:..., from this environment variable (${DEFAULT_KEY_VARIABLE})`)
    .option('--insecure-key-file', 'take a --key-file that other users can read or change (refused otherwise, as ssh does)')
    .option('--json', 'print the result as JSON only');
}

function common(flags: SharedFlags) {
  return {
    key: keyFromFlags(flags),
    cpu: flags.cpu,
    rtPriority: flags.rtPriority,
    mlock: flags.mlock ?? false,
    busyPoll: flags.busyPoll,
    socketBusyPollUs: flags.socketBusyPoll ?? 0,
    timestamps: flags.ts,
    timestampFormat: flags.timestampFormat,
    clock: flags.clock,
  };
}

/** Parses "ADDR", "ADDR:PORT", "[V6]:PORT" or ":PORT" for --bind. */
function bindAddress(value: string): { bind: string; port: number } {
  const text = value.startsWith(':') ? `0.0.0.0${value}` : value;
  try {
    const t = parseTarget(text, DEFAULT_PORT);
    return { bind: t.host, port: t.port };
  } catch {
    // Port 0 (any free port) is valid for a listener but not for a target.
    const zero = /^(.*):0$/.exec(text);
    if (zero) return { bind: zero[1]!.replace(/^\[(.*)\]$/, '$1'), port: 0 };
    throw new InvalidArgumentError('give ADDR, ADDR:PORT, [IPv6]:PORT or :PORT, with a port from 0 to 65535.');
  }
}

/**
 * Tells a user who asked for SCHED_FIFO on a busy-polling session that the
 * kernel's RT throttling will stop that thread every period: measured here,
 * it turned a 13 µs send-time p99 at 100 000 probes/s into 41 ms.
 */
function warnRtThrottling(io: Io, flags: SharedFlags): void {
  if (!flags.rtPriority || !flags.busyPoll) return;
  const throttling = rtThrottling();
  const stop = rtThrottlingStop(throttling);
  if (!throttling || stop === null) return;
  io.stderr.write(
    `rtt-probe: warning: the kernel throttles real-time threads (sched_rt_runtime_us ${throttling.runtimeUs} of ${throttling.periodUs}), ` +
      `so ${stop}; set kernel.sched_rt_runtime_us to -1 for the run (and keep other work off the --cpu) or leave out --rt-priority\n`,
  );
}

/** Tells a user who asked for hardware timestamps (--ts hardware) when none will come, and why. */
function warnHardware(io: Io, requested: SharedFlags['ts'], timestamping: TimestampingGrant): void {
  const shortfall = requested === 'hardware' ? hardwareShortfall(timestamping) : null;
  if (shortfall) io.stderr.write(`rtt-probe: warning: ${shortfall}\n`);
}

/**
 * Runs a probe session, printing its result; maps signals to exit codes. A run
 * in which no probe was answered fails (exit 1), as ping's does, so a script
 * that only checks the status does not take it for a measurement.
 */
async function runProbe(io: Io, session: ProbeSession, json: boolean, progress: boolean): Promise<number> {
  let exit: number = EXIT.ok;
  const onSignal = (code: number) => () => {
    if (exit !== EXIT.ok) process.exit(exit);  // a second signal: leave at once
    exit = code;
    session.stop();
  };
  const onInt = onSignal(EXIT.sigint);
  const onTerm = onSignal(EXIT.sigterm);
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  if (progress) session.on('progress', (p) => io.stderr.write(`${formatProgress(p)}\n`));
  try {
    const result: ProbeResult = await session.result;
    io.stdout.write(json ? `${JSON.stringify(result)}\n` : `${formatProbeResult(result)}\n`);
    const failed = exit === EXIT.ok ? unanswered(result) : null;
    if (failed) {
      io.stderr.write(`rtt-probe: ${failed}\n`);
      return EXIT.failure;
    }
    return exit;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

export function buildProgram(io: Io, outcome: { exit: number }): Command {
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
    .enablePositionalOptions()
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
        outcome.exit = await runProbe(io, session, flags.json ?? false, false);
      } finally {
        await reflector.stop();
      }
    });

  sharedOptions(
    program
      .command('probe')
      .description('probe a STAMP reflector (rtt-probe reflect, or any STAMP / TWAMP-Light reflector)')
      .argument('<target>', 'host, host:port or [ipv6]:port (default port 862)')
      .addHelpText(
        'after',
        '\nExit status: 0 when replies were measured; 1 when none came back (stderr says why) or the run failed;\n' +
          '2 for bad usage; 130 or 143 after SIGINT or SIGTERM, with what was measured printed first.',
      ),
  )
    .addOption(new Option('--mode <mode>', 'pingpong: next probe after the reply; rate: fixed interval').choices(['pingpong', 'rate']).default('pingpong'))
    .option('--count <n>', 'probes to measure (warm-up excluded)', integer(1, 4_000_000_000))
    .option('--duration <d>', 'how long to send (default 10s unless --count)', duration)
    .option('--rate <pps>', 'probes per second in rate mode', positive)
    .option('--size <bytes>', 'UDP payload size (44, and 112 with a key)', integer(44, 65507))
    .option('--warmup <n>', 'probes sent first and left out of results', integer(0, 1_000_000), 10)
    .option('--timeout <d>', 'how long to wait for each reply', duration, '1s')
    .option('--bind <addr>', 'local address to send from')
    .option('--ssid <n>', 'STAMP session-sender identifier', integer(0, 65535), 0)
    .option('--progress', 'print a progress line to stderr every second')
    .action(async (target: string, flags: ProbeFlags) => {
      if (flags.rate !== undefined && flags.mode !== 'rate') throw new UsageError('--rate needs --mode rate');
      const options: ProbeOptions = {
        ...common(flags),
        mode: flags.mode,
        count: flags.count,
        duration: flags.duration,
        rate: flags.rate,
        size: flags.size,
        warmup: flags.warmup,
        timeout: flags.timeout,
        bind: flags.bind,
        ssid: flags.ssid,
      };
      warnRtThrottling(io, flags);
      const session = probe(target, options);
      session.once('started', ({ timestamping }) => warnHardware(io, flags.ts, timestamping));
      outcome.exit = await runProbe(io, session, flags.json ?? false, flags.progress ?? false);
    });

  sharedOptions(
    program
      .command('reflect')
      .description('answer STAMP probes until SIGINT/SIGTERM (or --duration), then print the counters'),
  )
    .option('--bind <addr[:port]>', 'address and port to listen on (port 0 picks a free one)', bindAddress, { bind: '::', port: DEFAULT_PORT })
    .option('--duration <d>', 'stop by itself after this long', duration)
    .option('--allow <cidrs>', 'answer only these sources (comma-separated CIDR prefixes; repeatable)', cidrList)
    .option('--rate-limit <pps>', `most replies per second to one source address (${MIN_RATE_LIMIT} to ${MAX_RATE_LIMIT})`, replyRate)
    .option('--global-rate-limit <pps>', `most replies per second in total (${MIN_RATE_LIMIT} to ${MAX_RATE_LIMIT})`, replyRate)
    .option('--stateful', 'stateful mode: per-session reflector sequence numbers, replayed requests counted and dropped')
    .option('--max-sessions <n>', 'stateful mode: most sessions kept at once (1024)', integer(1, 65_536))
    .option('--session-timeout <d>', 'stateful mode: forget a session idle this long (60s)', duration)
    .option('--twamp-light', 'also answer TWAMP-Light test packets shorter than 44 bytes (replies up to 41 bytes)')
    .action(async (flags: ReflectFlags) => {
      const { bind, port } = flags.bind;
      const options: ReflectorOptions = {
        ...common(flags),
        bind,
        port,
        duration: flags.duration,
        allow: flags.allow,
        rateLimit: flags.rateLimit,
        globalRateLimit: flags.globalRateLimit,
        stateful: flags.stateful,
        maxSessions: flags.maxSessions,
        sessionTimeout: flags.sessionTimeout,
        twampLight: flags.twampLight,
      };
      warnRtThrottling(io, flags);
      const reflector = await startReflector(options);
      const a = reflector.address;
      io.stdout.write(
        flags.json
          ? `${JSON.stringify({ listening: a })}\n`
          : `listening on ${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}\n`,
      );
      warnHardware(io, flags.ts, reflector.timestamping);
      let exit: number = EXIT.ok;
      const onInt = () => ((exit = EXIT.sigint), reflector.stop());
      const onTerm = () => ((exit = EXIT.sigterm), reflector.stop());
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      try {
        const result = await reflector.result;
        io.stdout.write(flags.json ? `${JSON.stringify(result)}\n` : `${formatReflectorResult(result)}\n`);
      } finally {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
      }
      outcome.exit = exit;
    });

  addLabCommands(program, io, outcome);
  addCapsCommand(program, io);
  // A word that names no command reaches the default action, which says so
  // rather than "too many arguments". Set last: commands made after it would inherit it.
  program.allowExcessArguments();
  return program;
}

/** Runs the CLI and returns the exit code; never throws. */
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const outcome = { exit: EXIT.ok as number };
  const program = buildProgram(io, outcome);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return outcome.exit;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    const message = (error as Error).message ?? String(error);
    io.stderr.write(`rtt-probe: ${message}\n`);
    if (error instanceof InputError) return EXIT.usage;
    if (error instanceof UsageError || error instanceof KeyError || error instanceof OptionTypeError || error instanceof OptionRangeError) {
      io.stderr.write('(run with --help for usage)\n');
      return EXIT.usage;
    }
    return EXIT.failure;
  }
}
