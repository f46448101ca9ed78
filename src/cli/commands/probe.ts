/** `rtt-probe probe TARGET`: probe a STAMP reflector and print the round trips. */
import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { DEFAULT_CAPTURE_BUFFER_ROWS, MAX_CAPTURE_BUFFER_ROWS } from '../../capture';
import { AUTH_PACKET_SIZE, MAX_PACKET_SIZE, MIN_PACKET_SIZE, PROBE_MODES, PROTOCOLS, normalizeProbeOptions, type ProbeMode, type ProbeOptions, type Protocol } from '../../options';
import { writePercentileDistributions } from '../../report/hgrm';
import { HistogramLogWriter } from '../../report/hlog';
import { htmlReport } from '../../report/html';
import { probeSource } from '../../report/inputs';
import { checkWritable } from '../../report/output';
import { probe, type ProbeProgress, type ProbeSession } from '../../session';
import { duration, integer, positive } from '../arguments';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { captureDropped, formatProbeResult, formatProgress, refusedAfterReplies, unanswered } from '../format';
import type { Io, Outcome } from '../io';
import { onStopSignals } from '../signals';
import { commonOptions, sessionOptions, warnHardware, warnRtThrottling, type SessionFlags } from '../session-options';
import { STATUS_INTERVAL, StatusLine, probeStatus, wantsStatusLine } from '../status-line';

interface ProbeFlags extends SessionFlags {
  mode: ProbeMode;
  proto: Protocol;
  count?: number;
  rate?: number;
  size?: number;
  warmup: number;
  timeout: string;
  bind?: string;
  ssid: number;
  progress?: boolean;
  quiet?: boolean;
  stopOnUnreachable: boolean;
  html?: string;
  hlog?: string;
  hgrm?: string;
  interval?: string;
  raw?: string;
  rawBuffer?: number;
  dstMac?: string;
}


/**
 * How a run shows itself while it measures: plain progress lines (for
 * logs), a status line redrawn in place (a terminal), or nothing. `quiet`
 * also drops warnings; errors are always printed.
 */
export type RunDisplay =
  | { kind: 'lines' | 'none'; quiet: boolean }
  | { kind: 'status'; quiet: false; limits: { count: number; durationNs: number } };

/**
 * How a run's result is shown and kept: `--json`, how it shows itself while
 * it runs, and the files it writes besides (each opened or checked writable
 * before the run starts).
 */
export interface ProbeOutput {
  json: boolean;
  display: RunDisplay;
  html?: string | undefined;
  hlog?: HistogramLogWriter | undefined;
  hgrm?: string | undefined;
  /** The --raw capture file, to name in the warning when rows were dropped. */
  raw?: string | undefined;
}

/**
 * Runs a probe session, printing its result; a signal stops it early. A run
 * in which no probe was answered fails (exit 1), as ping's does, so a script
 * that only checks the status does not take it for a measurement.
 */
export async function runProbe(io: Io, session: ProbeSession, { json, display, html, hlog, hgrm, raw }: ProbeOutput): Promise<number> {
  const signals = onStopSignals('measure', () => session.stop());
  const status = display.kind === 'status' ? new StatusLine(io) : null;
  if (display.kind === 'lines') session.on('progress', (p) => io.stderr.write(`${formatProgress(p)}\n`));
  if (display.kind === 'status') session.on('progress', (p) => status!.draw(probeStatus(p, display.limits)));
  // The page draws latency over time from the snapshots: one a progress interval, a few hundred bytes each.
  const timeline: ProbeProgress[] = [];
  if (html) session.on('progress', (p) => timeline.push(p));
  hlog?.follow(session);
  try {
    const result = await session.result.finally(() => status?.clear());
    // The result is printed first: a file that fails to write cannot lose it.
    io.stdout.write(json ? `${JSON.stringify(result)}\n` : `${formatProbeResult(result)}\n`);
    const dropped = raw === undefined ? null : captureDropped(result, raw);
    if (dropped && !display.quiet) io.stderr.write(`rtt-probe: warning: ${dropped}\n`);
    hlog?.finish(result);
    const distributions = hgrm ? writePercentileDistributions(hgrm, result.metrics) : [];
    if (distributions.length > 0) io.stderr.write(`rtt-probe: percentile distributions in ${distributions.join(', ')}\n`);
    if (html) {
      writeFileSync(html, htmlReport([probeSource(result.options.target, result.toJSON(), timeline)]));
      io.stderr.write(`HTML report: ${html}\n`);
    }
    if (signals.exit !== null) return signals.exit;
    const failed = unanswered(result);
    if (failed) {
      io.stderr.write(`rtt-probe: ${failed}\n`);
      return EXIT.failure;
    }
    const cut = refusedAfterReplies(result);
    if (cut && !display.quiet) io.stderr.write(`rtt-probe: warning: ${cut}\n`);
    return EXIT.ok;
  } finally {
    hlog?.close();
    signals.dispose();
  }
}

export function addProbeCommand(program: Command, io: Io, outcome: Outcome): void {
  sessionOptions(
    program
      .command('probe')
      .description('probe a STAMP reflector (rtt-probe reflect, or any STAMP / TWAMP-Light reflector)')
      .argument('<target>', 'host, host:port or [ipv6]:port (default port 862 for UDP; TCP needs one)'),
  )
    .addOption(
      new Option('--mode <mode>', 'pingpong: next probe after the reply; rate: fixed interval (UDP); connect: a TCP connection per probe')
        .choices(PROBE_MODES)
        .default('pingpong'),
    )
    .addOption(new Option('--proto <protocol>', 'udp, or tcp: request/response on one connection (see docs/tcp.md)').choices(PROTOCOLS).default('udp'))
    .option('--count <n>', 'probes to measure (warm-up excluded)', integer(1, 4_000_000_000))
    .option('--duration <d>', 'how long to send (default 10s unless --count)', duration)
    .option('--rate <pps>', 'probes per second in rate mode', positive)
    .option('--size <bytes>', `STAMP packet size: the UDP payload, or a TCP frame less its 2-byte length (${MIN_PACKET_SIZE}, and ${AUTH_PACKET_SIZE} with a key)`, integer(MIN_PACKET_SIZE, MAX_PACKET_SIZE))
    .option('--warmup <n>', 'probes sent first and left out of results', integer(0, 1_000_000), 10)
    .option('--timeout <d>', 'how long to wait for each reply', duration, '1s')
    .option('--bind <addr>', 'local address to send from')
    .option('--ssid <n>', 'STAMP session-sender identifier', integer(0, 65535), 0)
    .option('--progress', 'print a progress line to stderr every second, for logs (instead of the status line)')
    .addOption(new Option('--quiet', 'print the result and errors only: no status line, no warnings').conflicts('progress'))
    .option('--html <file>', 'also write a self-contained HTML report of the run, with latency over time (checked writable before the run)')
    .option('--hlog <file>', 'also write an HdrHistogram interval log (values in ns, one line per interval per metric, Tag=<metric>)')
    .option('--interval <d>', 'the --hlog interval (default 1s; also the --progress and status-line period)', duration)
    .option('--hgrm <file>', 'also write HdrHistogram percentile distributions (in µs): rtt.user to FILE, each other metric to FILE with its name before the extension')
    .option('--raw <file>', 'write one row per probe (timestamps, metrics, status) to FILE: .csv, or .jsonl for JSON Lines')
    .option('--raw-buffer <rows>', `rows --raw buffers for its writer (default ${DEFAULT_CAPTURE_BUFFER_ROWS}); rows that find it full are dropped and counted`, integer(2, MAX_CAPTURE_BUFFER_ROWS))
    .option('--dst-mac <mac>', 'raw: the destination MAC (aa:bb:cc:dd:ee:ff) instead of the neighbour table\'s')
    .option('--no-stop-on-unreachable', 'ping-pong and connect: keep probing a target that refuses (ICMP unreachable, TCP connection refused; by default the run stops at the first)')
    .action(async (target: string, flags: ProbeFlags) => {
      if (flags.rate !== undefined && flags.mode !== 'rate') throw new UsageError('--rate needs --mode rate');
      if (flags.interval !== undefined && flags.hlog === undefined) throw new UsageError('--interval is the --hlog interval: give --hlog FILE too');
      if (flags.html !== undefined) checkWritable('the HTML report', flags.html);
      if (flags.hgrm !== undefined) checkWritable('the percentile distribution', flags.hgrm);
      if (flags.rawBuffer !== undefined && flags.raw === undefined) throw new UsageError('--raw-buffer needs --raw FILE');
      const options: ProbeOptions = {
        ...commonOptions(flags),
        mode: flags.mode,
        protocol: flags.proto,
        count: flags.count,
        duration: flags.duration,
        rate: flags.rate,
        size: flags.size,
        warmup: flags.warmup,
        timeout: flags.timeout,
        bind: flags.bind,
        ssid: flags.ssid,
        dstMac: flags.dstMac,
        stopOnUnreachable: flags.stopOnUnreachable && flags.mode !== 'rate',
        // The log's intervals are the session's snapshots.
        ...(flags.hlog !== undefined ? { progressInterval: flags.interval ?? '1s' } : {}),
        capture: flags.raw === undefined ? undefined : { file: flags.raw, bufferRows: flags.rawBuffer },
      };
      const quiet = flags.quiet ?? false;
      let display: RunDisplay = { kind: flags.progress ? 'lines' : 'none', quiet };
      if (wantsStatusLine(io, flags)) {
        const { count, durationNs } = normalizeProbeOptions(options);
        display = { kind: 'status', quiet: false, limits: { count, durationNs } };
        options.progressInterval ??= STATUS_INTERVAL;
      }
      if (!quiet) warnRtThrottling(io, flags);
      const hlog = flags.hlog === undefined ? undefined : new HistogramLogWriter(flags.hlog);
      let session: ProbeSession;
      try {
        session = probe(target, options);
      } catch (error) {
        hlog?.close();
        throw error;
      }
      if (!quiet) session.once('started', ({ timestamping }) => warnHardware(io, flags.ts, timestamping));
      outcome.exit = await runProbe(io, session, { json: flags.json ?? false, display, html: flags.html, hlog, hgrm: flags.hgrm, raw: flags.raw });
    });
}
