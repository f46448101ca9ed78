/**
 * `rtt-probe lab` (the container-networking study on this host, or against
 * a remote reflector) and `rtt-probe budget` (what per-hop latencies add up
 * to over chains and fan-outs of calls).
 */
import dns from 'node:dns/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { METRIC_NAMES, type MetricName } from '../metrics';
import { DEFAULT_PORT, parseDuration, parseTarget } from '../options';
import { DEFAULT_BUDGET_SETTINGS, HopDistribution, MAX_CHAIN, MAX_DRAWS, budget, type BudgetReport, type BudgetSettings } from '../lab/budget';
import { loadBudgetInputs } from '../lab/budget-input';
import { labCsv } from '../lab/csv';
import { formatBudget, formatLab } from '../lab/format';
import type { LabReportJSON, LabSettingsJSON } from '../lab/report';
import { LabRun } from '../lab/run';
import { roundHistograms, summarize, type MetricSummary } from '../lab/summary';
import { LabError, hasLabPrivileges } from '../lab/system';
import { LOCAL_TOPOLOGIES, REMOTE_TOPOLOGIES, type TopologyName } from '../lab/topologies';
import { UsageError, duration, integer, integers, positive } from './arguments';
import { EXIT } from './exit-codes';
import type { Io } from './program';

/** `rtt-probe lab --json`: the report with its derived summary and budget. */
export type LabOutputJSON = LabReportJSON & { summary: MetricSummary[]; budget: BudgetReport | null };

interface LabFlags {
  topologies?: string[];
  baseline?: string;
  count: number;
  sizes: number[];
  repeat: number;
  mode: 'pingpong' | 'rate';
  rate?: number;
  warmup: number;
  timeout: string;
  maxRun: string;
  cpu?: { reflector: number; sender: number } | 'none';
  busyPoll: boolean;
  ts: 'auto' | 'none';
  metrics: MetricName[];
  chain: number[];
  fanout: number[];
  json?: boolean;
  out?: string;
  csv?: string;
  remote?: { host: string; port: number };
}

interface BudgetFlags {
  metric: MetricName;
  size?: number;
  chain: number[];
  fanout: number[];
  baseline?: string;
  replicates: number;
  seed: number;
  json?: boolean;
}

function names<T extends string>(allowed: readonly T[], what: string) {
  return (value: string): T[] => {
    const list = value.split(',').map((v) => v.trim());
    for (const v of list) {
      if (!allowed.includes(v as T)) throw new InvalidArgumentError(`unknown ${what} "${v}": choose from ${allowed.join(', ')}.`);
    }
    return [...new Set(list)] as T[];
  };
}

function metricName(value: string): MetricName {
  return names(METRIC_NAMES, 'metric')(value)[0]!;
}

function cpuPair(value: string): { reflector: number; sender: number } | 'none' {
  if (value === 'none') return 'none';
  const m = /^(\d{1,4}),(\d{1,4})$/.exec(value.trim());
  if (!m || m[1] === m[2]) throw new InvalidArgumentError('give two different CPUs as REFLECTOR,SENDER (e.g. 0,1), or none.');
  return { reflector: Number(m[1]), sender: Number(m[2]) };
}

function remoteTarget(value: string): { host: string; port: number } {
  try {
    return parseTarget(value, DEFAULT_PORT);
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message}; give HOST or HOST:PORT of a running \`rtt-probe reflect\`.`);
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
  const wrong = chosen.filter((t) => !allowed.includes(t as TopologyName));
  if (wrong.length > 0) {
    throw new UsageError(
      remote
        ? `--topologies ${wrong.join(', ')} cannot run against a remote reflector (both ends must be on this host): with --remote choose from ${allowed.join(', ')}`
        : `--topologies ${wrong.join(', ')}: only with --remote; choose from ${allowed.join(', ')}`,
    );
  }
  if (flags.rate !== undefined && flags.mode !== 'rate') throw new UsageError('--rate needs --mode rate');
  const cpu = flags.cpu === 'none' ? null : (flags.cpu ?? defaultCpus());
  if (cpu && Math.max(cpu.reflector, cpu.sender) >= os.cpus().length) {
    throw new UsageError(`--cpu ${cpu.reflector},${cpu.sender}: this machine has CPUs 0-${os.cpus().length - 1}`);
  }
  const topologies = [baseline, ...(chosen as TopologyName[]).filter((t) => t !== baseline)];
  return {
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

function budgetSettings(chain: number[], fanout: number[], replicates: number, seed: number): BudgetSettings {
  if (replicates * Math.max(...chain) > MAX_DRAWS) {
    throw new UsageError(`--replicates ${replicates} × the longest chain ${Math.max(...chain)} is over ${MAX_DRAWS} draws: lower one of them`);
  }
  return { ...DEFAULT_BUDGET_SETTINGS, chain, fanout, replicates, seed };
}

/** The lab's own budget: rtt.user per hop at the first size, every measured topology pooled over its rounds. */
function labBudget(report: LabReportJSON, settings: BudgetSettings): BudgetReport | null {
  const size = report.settings.sizes[0]!;
  const inputs = report.topologies
    .map((t) => ({ label: t.name, histograms: roundHistograms(t, size, 'rtt.user') }))
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
  const remote = flags.remote ? await resolveRemote(flags.remote) : null;
  const log = flags.json ? () => {} : (line: string) => io.stderr.write(`lab: ${line}\n`);
  const run = new LabRun({ ...settings, remote }, log);
  let exit: number = EXIT.ok;
  const onSignal = (code: number) => () => {
    // A second signal: remove everything now and leave.
    if (exit !== EXIT.ok) {
      run.destroyNow();
      process.exit(exit);
    }
    exit = code;
    log('stopping: removing the topology in use, then printing what was measured');
    run.stop();
  };
  const onInt = onSignal(EXIT.sigint);
  const onTerm = onSignal(EXIT.sigterm);
  const onExit = () => run.destroyNow();
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('exit', onExit);
  try {
    const report = await run.report;
    if (flags.csv) writeFileSync(flags.csv, labCsv(report));
    const ownBudget = labBudget(report, chainSettings);
    const whole: LabOutputJSON = { ...report, summary: summarize(report), budget: ownBudget };
    if (flags.out) writeFileSync(flags.out, `${JSON.stringify(whole)}\n`);
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
    }
    if (exit !== EXIT.ok) return exit;
    return report.topologies.some((t) => t.status === 'failed') || report.cleanupErrors.length > 0 ? EXIT.failure : EXIT.ok;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('exit', onExit);
  }
}

function runBudget(io: Io, files: string[], flags: BudgetFlags): number {
  const settings = budgetSettings(flags.chain, flags.fanout, flags.replicates, flags.seed);
  const { inputs, labBaseline } = loadBudgetInputs(files, flags.metric, flags.size);
  const labels = inputs.map((i) => i.label);
  const baseline = flags.baseline ?? labBaseline ?? labels[0]!;
  if (!labels.includes(baseline)) throw new UsageError(`--baseline ${baseline} is none of the inputs: choose from ${labels.join(', ')}`);
  const report = budget(inputs, settings);
  io.stdout.write(
    flags.json
      ? `${JSON.stringify({ metric: flags.metric, baseline, ...report })}\n`
      : `${formatBudget(report, flags.metric, baseline)}\n`,
  );
  return EXIT.ok;
}

const CALLS = integers(1, MAX_CHAIN);
const CALLS_HELP = `comma-separated (default ${DEFAULT_BUDGET_SETTINGS.chain.join(',')})`;

export function addLabCommands(program: Command, io: Io, outcome: { exit: number }): void {
  program
    .command('lab')
    .description(
      'build container-networking topologies as network namespaces on this host (root), measure each the same way, ' +
        'and compare them with a baseline; UDP only (rtt-probe has no TCP mode)',
    )
    .option('--topologies <list>', `comma-separated, from ${LOCAL_TOPOLOGIES.join(', ')} (default: all; with --remote: ${REMOTE_TOPOLOGIES.join(', ')})`, names([...LOCAL_TOPOLOGIES, 'host'], 'topology'))
    .option('--baseline <name>', 'what differences are measured against: loopback or veth (default veth; host with --remote)')
    .option('--count <n>', 'probes measured per run (the study: 50000 transactions)', integer(1, 10_000_000), 50_000)
    .option('--sizes <list>', 'UDP payload sizes in bytes, >= 44 (the study: 300,500,1024,2048)', integers(44, 65507), [64])
    .option('--repeat <n>', 'rounds over all topologies, to see which differences are real', integer(1, 100), 1)
    .addOption(new Option('--mode <mode>', 'pingpong: next probe after the reply; rate: fixed interval').choices(['pingpong', 'rate']).default('pingpong'))
    .option('--rate <pps>', 'probes per second in rate mode (1000)', positive)
    .option('--warmup <n>', 'probes sent first and left out of each run', integer(0, 1_000_000), 10)
    .option('--timeout <d>', 'how long each probe waits for its reply', duration, '1s')
    .option('--max-run <d>', 'the most one run may take, whatever --count asks', duration, '60s')
    .option('--cpu <reflector,sender>', 'pin the two ends to these CPUs, or none (default: the last two CPUs when there are two or more)', cpuPair)
    .option('--no-busy-poll', 'block in ppoll instead of spinning, in both ends')
    .addOption(
      new Option('--ts <source>', "the sender's kernel timestamps (none: user-space stamps only, without the cost of stamping)")
        .choices(['auto', 'none'])
        .default('auto'),
    )
    .option('--metrics <list>', `metrics in the table (all are in --json), from ${METRIC_NAMES.join(', ')}`, names(METRIC_NAMES, 'metric'), ['rtt.user', 'rtt.kernel', 'rtt.net'] as MetricName[])
    .option('--chain <list>', `chain lengths N for the budget summary, ${CALLS_HELP}`, CALLS, [...DEFAULT_BUDGET_SETTINGS.chain])
    .option('--fanout <list>', `fan-out widths K for the budget summary, ${CALLS_HELP}`, CALLS, [...DEFAULT_BUDGET_SETTINGS.fanout])
    .option('--json', 'print the whole report (every run, summary, budget) as JSON only')
    .option('--out <file>', 'also write the whole report as JSON (what --json prints), for rtt-probe budget')
    .option('--csv <file>', "also write one row per run in the study's CSV columns")
    .option(
      '--remote <host[:port]>',
      'probe a reflector on another host (start it there: rtt-probe reflect --bind 0.0.0.0:862) from this host and from a container here',
      remoteTarget,
    )
    .action(async (flags: LabFlags) => {
      outcome.exit = await runLab(io, flags);
    });

  program
    .command('budget')
    .description('what per-hop latency adds up to: chains of N sequential calls and fan-outs of K parallel calls, from saved results')
    .argument('<files...>', 'results of `rtt-probe probe --json` or `rtt-probe lab --json`, each as FILE or LABEL=FILE')
    .option('--metric <name>', 'the per-hop metric', metricName, 'rtt.user' as MetricName)
    .option('--size <bytes>', 'payload size to take from a lab report measured at several', integer(44, 65507))
    .option('--chain <list>', `chain lengths N, ${CALLS_HELP}`, CALLS, [...DEFAULT_BUDGET_SETTINGS.chain])
    .option('--fanout <list>', `fan-out widths K, ${CALLS_HELP}`, CALLS, [...DEFAULT_BUDGET_SETTINGS.fanout])
    .option('--baseline <label>', 'the input costs are stated against (default: the lab report\'s baseline, else the first input)')
    .option('--replicates <n>', 'resampled sums per chain length (more: narrower intervals, slower)', integer(100, 10_000_000), DEFAULT_BUDGET_SETTINGS.replicates)
    .option('--seed <n>', 'seed of the resampling', integer(0, 2 ** 32 - 1), DEFAULT_BUDGET_SETTINGS.seed)
    .option('--json', 'print the budget as JSON only')
    .action((files: string[], flags: BudgetFlags) => {
      outcome.exit = runBudget(io, files, flags);
    });
}
