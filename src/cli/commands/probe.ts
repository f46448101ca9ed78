/** `rtt-probe probe TARGET`: probe a STAMP reflector and print the round trips. */
import { Option, type Command } from 'commander';
import { DEFAULT_CAPTURE_BUFFER_ROWS, MAX_CAPTURE_BUFFER_ROWS } from '../../capture';
import { AUTH_PACKET_SIZE, MAX_PACKET_SIZE, MIN_PACKET_SIZE, PROBE_MODES, type ProbeMode, type ProbeOptions } from '../../options';
import { probe, type ProbeSession } from '../../session';
import { duration, integer, positive } from '../arguments';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { captureDropped, formatProbeResult, formatProgress, refusedAfterReplies, unanswered } from '../format';
import type { Io, Outcome } from '../io';
import { onStopSignals } from '../signals';
import { commonOptions, sessionOptions, warnHardware, warnRtThrottling, type SessionFlags } from '../session-options';

interface ProbeFlags extends SessionFlags {
  mode: ProbeMode;
  count?: number;
  rate?: number;
  size?: number;
  warmup: number;
  timeout: string;
  bind?: string;
  ssid: number;
  progress?: boolean;
  stopOnUnreachable: boolean;
  raw?: string;
  rawBuffer?: number;
}

/**
 * Runs a probe session, printing its result; a signal stops it early. A run
 * in which no probe was answered fails (exit 1), as ping's does, so a script
 * that only checks the status does not take it for a measurement.
 */
export async function runProbe(io: Io, session: ProbeSession, json: boolean, progress: boolean, raw?: string): Promise<number> {
  const signals = onStopSignals('measure', () => session.stop());
  if (progress) session.on('progress', (p) => io.stderr.write(`${formatProgress(p)}\n`));
  try {
    const result = await session.result;
    io.stdout.write(json ? `${JSON.stringify(result)}\n` : `${formatProbeResult(result)}\n`);
    const dropped = raw === undefined ? null : captureDropped(result, raw);
    if (dropped) io.stderr.write(`rtt-probe: warning: ${dropped}\n`);
    if (signals.exit !== null) return signals.exit;
    const failed = unanswered(result);
    if (failed) {
      io.stderr.write(`rtt-probe: ${failed}\n`);
      return EXIT.failure;
    }
    const cut = refusedAfterReplies(result);
    if (cut) io.stderr.write(`rtt-probe: warning: ${cut}\n`);
    return EXIT.ok;
  } finally {
    signals.dispose();
  }
}

export function addProbeCommand(program: Command, io: Io, outcome: Outcome): void {
  sessionOptions(
    program
      .command('probe')
      .description('probe a STAMP reflector (rtt-probe reflect, or any STAMP / TWAMP-Light reflector)')
      .argument('<target>', 'host, host:port or [ipv6]:port (default port 862)'),
  )
    .addOption(new Option('--mode <mode>', 'pingpong: next probe after the reply; rate: fixed interval').choices(PROBE_MODES).default('pingpong'))
    .option('--count <n>', 'probes to measure (warm-up excluded)', integer(1, 4_000_000_000))
    .option('--duration <d>', 'how long to send (default 10s unless --count)', duration)
    .option('--rate <pps>', 'probes per second in rate mode', positive)
    .option('--size <bytes>', `UDP payload size (${MIN_PACKET_SIZE}, and ${AUTH_PACKET_SIZE} with a key)`, integer(MIN_PACKET_SIZE, MAX_PACKET_SIZE))
    .option('--warmup <n>', 'probes sent first and left out of results', integer(0, 1_000_000), 10)
    .option('--timeout <d>', 'how long to wait for each reply', duration, '1s')
    .option('--bind <addr>', 'local address to send from')
    .option('--ssid <n>', 'STAMP session-sender identifier', integer(0, 65535), 0)
    .option('--progress', 'print a progress line to stderr every second')
    .option('--raw <file>', 'write one row per probe (timestamps, metrics, status) to FILE: .csv, or .jsonl for JSON Lines')
    .option('--raw-buffer <rows>', `rows --raw buffers for its writer (default ${DEFAULT_CAPTURE_BUFFER_ROWS}); rows that find it full are dropped and counted`, integer(2, MAX_CAPTURE_BUFFER_ROWS))
    .option('--no-stop-on-unreachable', 'ping-pong: keep probing a target that refuses with ICMP unreachable (by default the run stops at the first)')
    .action(async (target: string, flags: ProbeFlags) => {
      if (flags.rate !== undefined && flags.mode !== 'rate') throw new UsageError('--rate needs --mode rate');
      if (flags.rawBuffer !== undefined && flags.raw === undefined) throw new UsageError('--raw-buffer needs --raw FILE');
      const options: ProbeOptions = {
        ...commonOptions(flags),
        mode: flags.mode,
        count: flags.count,
        duration: flags.duration,
        rate: flags.rate,
        size: flags.size,
        warmup: flags.warmup,
        timeout: flags.timeout,
        bind: flags.bind,
        ssid: flags.ssid,
        stopOnUnreachable: flags.stopOnUnreachable && flags.mode === 'pingpong',
        capture: flags.raw === undefined ? undefined : { file: flags.raw, bufferRows: flags.rawBuffer },
      };
      warnRtThrottling(io, flags);
      const session = probe(target, options);
      session.once('started', ({ timestamping }) => warnHardware(io, flags.ts, timestamping));
      outcome.exit = await runProbe(io, session, flags.json ?? false, flags.progress ?? false, flags.raw);
    });
}
