/**
 * Inputs of `rtt-probe budget`: saved `probe --json` results (one hop each,
 * named after the file or LABEL=FILE) and `lab --json` reports (one hop per
 * measured topology, every repeat round pooled). A file that cannot serve
 * is an InputError naming the file, the problem and the fix.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RttProbeError } from '../errors';
import { Histogram, type HistogramJSON } from '../histogram';
import type { MetricName } from '../metrics';
import { checkResult } from '../schema';
import { HopDistribution, type BudgetInput } from './budget';
import { hopLabel, onProtocol, reportProtocols, type LabReportJSON } from './report';
import { roundHistograms } from './summary';

/** An input file that cannot be used: its path, what is wrong, what to give instead. */
export class InputError extends RttProbeError {
  constructor(message: string) {
    super(message, 'ERR_RTT_PROBE_INPUT');
    this.name = 'InputError';
  }
}

const WHAT = 'give a file written by `rtt-probe probe --json` or `rtt-probe lab --json`';

/** Parses a JSON input file; `what` says which files the command takes. */
export function readJsonInput(file: string, what: string = WHAT): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${file} (${(error as { code?: string }).code ?? 'error'}): ${what}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InputError(`${file} is not JSON: ${what}`);
  }
}

/** A FILE or LABEL=FILE argument: the label, null when none was given. */
export function labelledFile(arg: string): { label: string | null; file: string } {
  const eq = arg.indexOf('=');
  return eq > 0 ? { label: arg.slice(0, eq), file: arg.slice(eq + 1) } : { label: null, file: arg };
}

/** A file's name without its .json extension: the label of an input given without one. */
export function fileLabel(file: string): string {
  return path.basename(file).replace(/\.json$/i, '');
}

export interface LoadedInputs {
  inputs: BudgetInput[];
  /** The baseline of the first lab report among the inputs, if any. */
  labBaseline: string | null;
}

function fromLab(report: LabReportJSON, file: string, label: string | null, metric: MetricName, size: number | undefined): BudgetInput[] {
  const sizes = report.settings.sizes;
  if (size === undefined && sizes.length > 1) {
    throw new InputError(`${file} holds payload sizes ${sizes.join(', ')}: choose one with --size`);
  }
  const chosen = size ?? sizes[0]!;
  if (!sizes.includes(chosen)) throw new InputError(`${file} has no ${chosen} B runs (it has ${sizes.join(', ')}): choose one with --size`);
  const inputs: BudgetInput[] = [];
  for (const protocol of reportProtocols(report)) {
    for (const t of onProtocol(report, protocol).topologies) {
      const histograms = roundHistograms(t, chosen, metric);
      if (histograms.length === 0) continue;
      const hop = hopLabel(t.name, protocol);
      inputs.push({ label: label ? `${label}:${hop}` : hop, distribution: new HopDistribution(histograms) });
    }
  }
  if (inputs.length === 0) throw new InputError(`${file} has no ${metric} results at ${chosen} B: measure again, or choose another --metric`);
  return inputs;
}

function fromProbe(json: { metrics: Partial<Record<MetricName, HistogramJSON>> }, file: string, label: string, metric: MetricName): BudgetInput {
  const h = json.metrics[metric];
  if (!h || h.count === 0) {
    const has = Object.keys(json.metrics).join(', ') || 'none';
    throw new InputError(`${file} has no ${metric} samples (it has: ${has}): choose one of those with --metric`);
  }
  return { label, distribution: new HopDistribution([Histogram.fromJSON(h)]) };
}

/** Reads every FILE or LABEL=FILE argument; labels must come out unique. */
export function loadBudgetInputs(args: readonly string[], metric: MetricName, size?: number): LoadedInputs {
  const inputs: BudgetInput[] = [];
  let labBaseline: string | null = null;
  for (const arg of args) {
    const { label, file } = labelledFile(arg);
    const json = readJsonInput(file);
    if (checkResult(json, ['probe', 'lab'], file) === 'lab') {
      const report = json as LabReportJSON;
      inputs.push(...fromLab(report, file, label, metric, size));
      labBaseline ??= label ? `${label}:${report.settings.baseline}` : report.settings.baseline;
    } else {
      const result = json as { metrics: Partial<Record<MetricName, HistogramJSON>> };
      inputs.push(fromProbe(result, file, label ?? fileLabel(file), metric));
    }
  }
  const seen = new Set<string>();
  for (const { label } of inputs) {
    if (seen.has(label)) throw new InputError(`two inputs are named "${label}": name them apart with LABEL=FILE`);
    seen.add(label);
  }
  return { inputs, labBaseline };
}
