/** `rtt-probe budget FILES...`: what per-hop latencies add up to over chains and fan-outs of calls. */
import type { Command } from 'commander';
import { DEFAULT_BUDGET_SETTINGS, MAX_CHAIN, MAX_DRAWS, budget, type BudgetSettings } from '../../lab/budget';
import { loadBudgetInputs } from '../../lab/budget-input';
import { formatBudget } from '../../lab/format';
import { METRIC_NAMES, type MetricName } from '../../metrics';
import { MAX_PACKET_SIZE, MIN_PACKET_SIZE } from '../../options';
import { resultHeader } from '../../schema';
import { integer, integers, names } from '../arguments';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import type { Io, Outcome } from '../io';

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

/** Parses --chain and --fanout: the numbers of calls. */
export const CALLS = integers(1, MAX_CHAIN);
export const CALLS_HELP = `comma-separated (default ${DEFAULT_BUDGET_SETTINGS.chain.join(',')})`;

/** The budget's settings, refusing a resampling too large to finish. */
export function budgetSettings(chain: number[], fanout: number[], replicates: number, seed: number): BudgetSettings {
  if (replicates * Math.max(...chain) > MAX_DRAWS) {
    throw new UsageError(`--replicates ${replicates} × the longest chain ${Math.max(...chain)} is over ${MAX_DRAWS} draws: lower one of them`);
  }
  return { ...DEFAULT_BUDGET_SETTINGS, chain, fanout, replicates, seed };
}

function metricName(value: string): MetricName {
  return names(METRIC_NAMES, 'metric')(value)[0]!;
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
      ? `${JSON.stringify({ ...resultHeader('budget'), metric: flags.metric, baseline, ...report })}\n`
      : `${formatBudget(report, flags.metric, baseline)}\n`,
  );
  return EXIT.ok;
}

export function addBudgetCommand(program: Command, io: Io, outcome: Outcome): void {
  program
    .command('budget')
    .description('what per-hop latency adds up to: chains of N sequential calls and fan-outs of K parallel calls, from saved results')
    .argument('<files...>', 'results of `rtt-probe probe --json` or `rtt-probe lab --json`, each as FILE or LABEL=FILE')
    .option('--metric <name>', 'the per-hop metric', metricName, 'rtt.user' as MetricName)
    .option('--size <bytes>', 'payload size to take from a lab report measured at several', integer(MIN_PACKET_SIZE, MAX_PACKET_SIZE))
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
