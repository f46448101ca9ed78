/**
 * `rtt-probe lab`: the container-networking study on this host, or against
 * a remote reflector, with its own budget summary.
 */
import dns from 'node:dns/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { DEFAULT_BUDGET_SETTINGS, HopDistribution, budget, type BudgetReport, type BudgetSettings } from '../../lab/budget';
import { labCsv } from '../../lab/csv';
import { SENDER_TIMESTAMPS, type SenderTimestamps } from '../../lab/ends';
import { formatBudget, formatLab } from '../../lab/format';
import { hopLabel, onProtocol, reportProtocols, type LabReportJSON, type LabSettingsJSON } from '../../lab/report';
import { LabRun, type LabProgress } from '../../lab/run';
import { roundHistograms, summarize, type MetricSummary } from '../../lab/summary';
import { LabError, hasLabPrivileges } from '../../lab/system';
import { LOCAL_TOPOLOGIES, REMOTE_TOPOLOGIES, TOPOLOGY_NAMES, type TopologyName } from '../../lab/topologies';
import { METRIC_NAMES, type MetricName } from '../../metrics';
import { htmlReport } from '../../report/html';
import { labSource } from '../../report/inputs';
import { DEFAULT_PORT, MAX_PACKET_SIZE, MIN_PACKET_SIZE, PROBE_MODES, parseDuration, parseTarget, type ProbeMode, type Protocol } from '../../options';
import { HistogramLogWriter } from '../../report/hlog';
import { checkWritable } from '../../report/output';
import { duration, integer, integers, names, positive, protocolList } from '../arguments';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import type { Io, Outcome } from '../io';
import { onStopSignals } from '../signals';
import { StatusLine, labStatus, wantsStatusLine } from '../status-line';
import { CALLS, CALLS_HELP, budgetSettings } from './budget';

/** `rtt-probe lab --json`: the report with its derived summary and budget. */
export type LabOutputJSON = LabReportJSON & { summary: MetricSummary[]; budget: BudgetReport | null };

interface LabFlags {
  proto: Protocol[];
  topologies?: TopologyName[];
  baseline?: string;
  count: number;
  sizes: number[];
  repeat: number;
  mode: ProbeMode;
  rate?: number;
  warmup: number;
  timeout: string;
  maxRun: string;
  cpu?: { reflector: number; sender: number } | 'none';
  busyPoll: boolean;
  ts: SenderTimestamps;
  metrics: MetricName[];
  chain: number[];
  fanout: number[];
  json?: boolean;
  quiet?: boolean;
  out?: string;
  csv?: string;
  html?: string;
  hlog?: string;
  remote?: { host: string; port: number; portGiven: boolean };
}

function cpuPair(value: string): { reflector: number; sender: number } | 'none' {
  if (value === 'none') return 'none';
  const m = /^(\d{1,4}),(\d{1,4})$/.exec(value.trim());
  if (!m || m[1] === m[2]) throw new InvalidArgumentError('give two different CPUs as REFLECTOR,SENDER (e.g. 0,1), or none.');
  return { reflector: Number(m[1]), sender: Number(m[2]) };
}

/** The far reflector; `portGiven` is false where the port is UDP's default, which TCP does not take. */
function remoteTarget(value: string): { host: string; port: number; portGiven: boolean } {
  let target: { host: string; port: number };
  try {
    target = parseTarget(value, DEFAULT_PORT);
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message}; give HOST or HOST:PORT of a running \`rtt-probe reflect\`.`);
  }
  return { host: target.host, port: target.port, portGiven: namesPort(value) };
}

/** Whether a target names its port: parseTarget without a default refuses one that does not. */
function namesPort(value: string): boolean {
  try {
    parseTarget(value, null);
    return true;
  } catch {
    return false;
  }
}

/** Two different CPUs when the machine has them: the last two, away from CPU 0's interrupt load where there is a choice. */
function defaultCpus(): { reflector: number; sender: number } | null {
  const n = os.cpus().length;
  return n >= 2 ? { reflector: n - 2, sender: n - 1 } : null;
}

function labSettings(flags: LabFlags): Omit<LabSettingsJSON, 'remote'> {
  const remote = flags.remote !== undefined;
  const allowed: readonly TopologyName[] = remote ? REMOTE_TOPOLOGIES : LOCAL_TOPOLOGIES;
  const baseline = (flags.baseline ?? (remote ? 'host' : 'veth')) as TopologyName;
  const bases: readonly string[] = remote ? ['host'] : ['loopback', 'veth'];
  if (!bases.includes(baseline)) {
    throw new UsageError(`--baseline ${baseline} is not a baseline${remote ? ' with --remote' : ''}: choose ${bases.join(' or ')}`);
  }
  const chosen = flags.topologies ?? [...allowed];
  const wrong = chosen.filter((t) => !allowed.includes(t));
  if (wrong.length > 0) {
    throw new UsageError(
      remote
        ? `--topologies ${wrong.join(', ')} cannot run against a remote reflector (both ends must be on this host): with --remote choose from ${allowed.join(', ')}`
        : `--topologies ${wrong.join(', ')}: only with --remote; choose from ${allowed.join(', ')}`,
    );
  }
  if (flags.rate !== undefined && flags.mode !== 'rate') throw new UsageError('--rate needs --mode rate');
  const protocols = [...new Set(flags.proto)];
  if (flags.mode === 'rate' && protocols.includes('tcp')) {
    throw new UsageError('--mode rate is for UDP: with --proto tcp choose --mode pingpong (request/response, as netperf TCP_RR) or connect (as TCP_CRR)');
  }
  if (flags.remote && !flags.remote.portGiven && protocols.includes('tcp')) {
    throw new UsageError(
      `--remote ${flags.remote.host} names no port, and TCP has none by default (862/TCP is TWAMP-Control's): ` +
        'give HOST:PORT of a reflector started with --proto udp,tcp',
    );
  }
  if (flags.mode === 'connect' && protocols.includes('udp')) {
    throw new UsageError('--mode connect opens a TCP connection per probe: use it with --proto tcp alone');
  }
  const cpu = flags.cpu === 'none' ? null : (flags.cpu ?? defaultCpus());
  if (cpu && Math.max(cpu.reflector, cpu.sender) >= os.cpus().length) {
    throw new UsageError(`--cpu ${cpu.reflector},${cpu.sender}: this machine has CPUs 0-${os.cpus().length - 1}`);
  }
  const topologies = [baseline, ...chosen.filter((t) => t !== baseline)];
  return {
    protocols,
    topologies,
    baseline,
    sizes: flags.sizes,
    repeat: flags.repeat,
    count: flags.count,
    mode: flags.mode,
    rate: flags.mode === 'rate' ? (flags.rate ?? 1000) : null,
    warmup: flags.warmup,
    timeout: flags.timeout,
    busyPoll: flags.busyPoll,
    timestamps: flags.ts,
    cpu,
    maxRunMs: Math.max(1, Math.round(parseDuration(flags.maxRun, 'max-run') / 1e6)),
  };
}

async function resolveRemote(remote: { host: string; port: number }): Promise<{ host: string; address: string; port: number }> {
  try {
    const found = await dns.lookup(remote.host);
    return { host: remote.host, address: found.address, port: remote.port };
  } catch (error) {
    throw new LabError(`cannot resolve --remote host "${remote.host}" (${(error as { code?: string }).code ?? 'error'}): check the name or give an IP address`);
  }
}

/** The lab's own budget: rtt.user per hop at the first size, every measured topology and protocol pooled over its rounds. */
function labBudget(report: LabReportJSON, settings: BudgetSettings): BudgetReport | null {
  const size = report.settings.sizes[0]!;
  const inputs = reportProtocols(report)
    .flatMap((protocol) =>
      onProtocol(report, protocol).topologies.map((t) => ({ label: hopLabel(t.name, protocol), histograms: roundHistograms(t, size, 'rtt.user') })),
    )
    .filter((t) => t.histograms.length > 0)
    .map((t) => ({ label: t.label, distribution: new HopDistribution(t.histograms) }));
  return inputs.length > 0 ? budget(inputs, settings) : null;
}

async function runLab(io: Io, flags: LabFlags): Promise<number> {
  const settings = labSettings(flags);
  const chainSettings = budgetSettings(flags.chain, flags.fanout, DEFAULT_BUDGET_SETTINGS.replicates, DEFAULT_BUDGET_SETTINGS.seed);
  if (!hasLabPrivileges(readFileSync('/proc/self/status', 'utf8'))) {
    throw new LabError(
      'lab needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces, links and nftables rules: run it with sudo',
      'EPERM',
    );
  }
  // Every output checked before the first topology is built.
  if (flags.out) checkWritable('the report', flags.out);
  if (flags.csv) checkWritable('the CSV', flags.csv);
  if (flags.html) checkWritable('the HTML report', flags.html);
  const remote = flags.remote ? await resolveRemote(flags.remote) : null;
  const hlog = flags.hlog ? new HistogramLogWriter(flags.hlog) : null;
  const status = wantsStatusLine(io, flags) ? new StatusLine(io) : null;
  const write = status ? (line: string) => status.log(line) : (line: string) => io.stderr.write(`${line}\n`);
  const log = flags.json || flags.quiet ? () => {} : (line: string) => write(`lab: ${line}`);
  // The elapsed time ticks between the runs' reports.
  const startedAt = performance.now();
  const elapsedNs = () => (performance.now() - startedAt) * 1e6;
  let latest: LabProgress | null = null;
  let doneAtNs = 0;
  const draw = () => latest && status?.draw(labStatus(latest, elapsedNs(), doneAtNs));
  const ticker = status ? setInterval(draw, 250).unref() : null;
  const progress = (p: LabProgress) => {
    if (p.current === null) doneAtNs = elapsedNs();
    latest = p;
    draw();
  };
  const run = new LabRun({ ...settings, remote }, { finished: EXIT.ok, interrupted: EXIT.sigint }, log, progress);
  const signals = onStopSignals(
    'measure',
    () => {
      log('stopping: removing the topology in use, then printing what was measured');
      run.stop();
    },
    // A second signal: remove everything now, then leave.
    () => run.destroyNow(),
  );
  const onExit = () => run.destroyNow();
  process.on('exit', onExit);
  try {
    const report = await run.report.finally(() => {
      if (ticker) clearInterval(ticker);
      status?.clear();
    });
    if (flags.csv) writeFileSync(flags.csv, labCsv(report));
    const ownBudget = labBudget(report, chainSettings);
    const whole: LabOutputJSON = { ...report, summary: summarize(report), budget: ownBudget };
    if (flags.out) writeFileSync(flags.out, `${JSON.stringify(whole)}\n`);
    // Plots pool a topology's runs, so each protocol is a report of its own there.
    const protocols = reportProtocols(whole);
    if (flags.html) {
      const sources = protocols.length > 1 ? protocols.map((p) => labSource(`lab ${p.toUpperCase()}`, onProtocol(whole, p))) : [labSource('lab', whole)];
      writeFileSync(flags.html, htmlReport(sources));
    }
    if (flags.json) {
      io.stdout.write(`${JSON.stringify(whole)}\n`);
    } else {
      io.stdout.write(`${formatLab(report, flags.metrics)}\n`);
      if (ownBudget) {
        io.stdout.write(
          `\n${formatBudget(ownBudget, `rtt.user at ${report.settings.sizes[0]} B`, report.settings.baseline, report.settings.baseline)}\n` +
            '(rtt-probe budget on the --json report shows every pair, other sizes and metrics)\n',
        );
      }
      if (flags.out) io.stdout.write(`\nreport: ${flags.out}\n`);
      if (flags.csv) io.stdout.write(`CSV in the study's columns: ${flags.csv}\n`);
      if (flags.html) io.stdout.write(`HTML report: ${flags.html}\n`);
    }
    hlog?.labRuns(report);
    if (signals.exit !== null) return signals.exit;
    return report.topologies.some((t) => t.status === 'failed') || report.cleanupErrors.length > 0 ? EXIT.failure : EXIT.ok;
  } finally {
    hlog?.close();
    signals.dispose();
    process.off('exit', onExit);
  }
}

export function addLabCommand(program: Command, io: Io, outcome: Outcome): void {
  program
    .command('lab')
    .description(
      'build container-networking topologies as network namespaces on this host (root), measure each the same way, ' +
        'and compare them with a baseline, over UDP, TCP (request/response, as netperf TCP_RR) or both',
    )
    .option('--proto <list>', 'udp, tcp or udp,tcp: measure each topology in each, in that order (see docs/lab.md)', protocolList, ['udp'] as Protocol[])
    .option('--topologies <list>', `comma-separated, from ${LOCAL_TOPOLOGIES.join(', ')} (default: all; with --remote: ${REMOTE_TOPOLOGIES.join(', ')})`, names(TOPOLOGY_NAMES, 'topology'))
    .option('--baseline <name>', 'what differences are measured against: loopback or veth (default veth; host with --remote)')
    .option('--count <n>', 'probes measured per run (the study: 50000 transactions)', integer(1, 10_000_000), 50_000)
    .option('--sizes <list>', `payload sizes in bytes (UDP datagrams, TCP requests), >= ${MIN_PACKET_SIZE} (the study: 300,500,1024,2048)`, integers(MIN_PACKET_SIZE, MAX_PACKET_SIZE), [64])
    .option('--repeat <n>', 'rounds over all topologies, to see which differences are real', integer(1, 100), 1)
    .addOption(new Option('--mode <mode>', 'pingpong: next probe after the reply; rate: fixed interval (UDP); connect: a connection per probe (TCP)').choices(PROBE_MODES).default('pingpong'))
    .option('--rate <pps>', 'probes per second in rate mode (1000)', positive)
    .option('--warmup <n>', 'probes sent first and left out of each run', integer(0, 1_000_000), 10)
    .option('--timeout <d>', 'how long each probe waits for its reply', duration, '1s')
    .option('--max-run <d>', 'the most one run may take, whatever --count asks', duration, '60s')
    .option('--cpu <reflector,sender>', 'pin the two ends to these CPUs, or none (default: the last two CPUs when there are two or more)', cpuPair)
    .option('--no-busy-poll', 'block in ppoll instead of spinning, in both ends')
    .addOption(
      new Option('--ts <source>', "the sender's kernel timestamps (none: user-space stamps only, without the cost of stamping)")
        .choices(SENDER_TIMESTAMPS)
        .default('auto'),
    )
    .option('--metrics <list>', `metrics in the table (all are in --json), from ${METRIC_NAMES.join(', ')}`, names(METRIC_NAMES, 'metric'), ['rtt.user', 'rtt.kernel', 'rtt.net'] as MetricName[])
    .option('--chain <list>', `chain lengths N for the budget summary, ${CALLS_HELP}`, CALLS, [...DEFAULT_BUDGET_SETTINGS.chain])
    .option('--fanout <list>', `fan-out widths K for the budget summary, ${CALLS_HELP}`, CALLS, [...DEFAULT_BUDGET_SETTINGS.fanout])
    .option('--json', 'print the whole report (every run, summary, budget) as JSON only')
    .option('--quiet', 'print the report and errors only: no status line, no progress or warning lines')
    .option('--out <file>', 'also write the whole report as JSON (what --json prints), for rtt-probe budget')
    .option('--csv <file>', "also write one row per run in the study's CSV columns")
    .option('--html <file>', 'also write a self-contained HTML report: topologies with their rounds\' spread, distributions, budget curves (checked writable before the run)')
    .option('--hlog <file>', 'also write an HdrHistogram log: one interval per run per metric, tagged <topology>/<size>/<metric> (values in ns)')
    .option(
      '--remote <host[:port]>',
      'probe a reflector on another host (start it there: rtt-probe reflect --bind 0.0.0.0:862, with --proto udp,tcp for TCP) from this host and from a container here',
      remoteTarget,
    )
    .action(async (flags: LabFlags) => {
      outcome.exit = await runLab(io, flags);
    });
}
