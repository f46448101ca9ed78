/** Human output of `rtt-probe lab` and `rtt-probe budget`. */
import type { MetricName } from '../metrics';
import { micros, pad } from '../text';
import type { BudgetReport, Estimate, PairCost } from './budget';
import type { Protocol } from '../options';
import { reportProtocols, type LabReportJSON } from './report';
import { SUMMARY_STATISTICS, summarize, summarizeCpu, type Difference, type MetricSummary } from './summary';

/** A duration in the unit that suits its size: µs below 1 ms, then ms, then s. */
export function duration(ns: number): string {
  const abs = Math.abs(ns);
  const sign = ns < 0 ? '-' : '';
  if (abs < 1e6) return `${sign}${micros(abs)} µs`;
  if (abs < 1e9) return `${sign}${(abs / 1e6).toPrecision(abs < 1e7 ? 4 : 5)} ms`;
  return `${sign}${(abs / 1e9).toPrecision(4)} s`;
}

function signed(text: string, value: number): string {
  return value > 0 ? `+${text}` : text;
}

/** "~" marks a difference the repeat rounds cannot tell from noise (their ranges overlap). */
function deltaCells(d: Difference): [string, string] {
  const mark = d.distinct === false ? '~' : '';
  return [`${signed(micros(d.ns), d.ns)}${mark}`, `${signed(d.percent.toFixed(1), d.percent)}%${mark}`];
}

function settingsLine(report: LabReportJSON): string {
  const s = report.settings;
  const measured = report.topologies.filter((t) => t.runs.length > 0).length;
  const pinned = !s.cpu
    ? 'ends not pinned'
    : s.remote
      ? `sender pinned to CPU ${s.cpu.sender}`
      : `ends pinned: reflector on CPU ${s.cpu.reflector}, sender on CPU ${s.cpu.sender}`;
  const far = s.remote ? `${s.remote.host}:${s.remote.port}${s.remote.address !== s.remote.host ? ` (${s.remote.address})` : ''}` : '';
  const target = s.remote ? `reflector on ${far}` : 'both ends on this host';
  return [
    `rtt-probe lab: ${measured} of ${report.topologies.length} topologies measured; ${reportProtocols(report).map((p) => p.toUpperCase()).join(' and ')}`,
    `${s.mode}${s.rate ? ` at ${s.rate}/s` : ''}, ${s.count} probes per run, sizes ${s.sizes.join(', ')} B, ` +
      `${s.repeat} round${s.repeat > 1 ? 's' : ''}; ${pinned}; ${s.busyPoll ? 'busy polling' : 'blocking (ppoll)'}`,
    `${target}; baseline ${s.baseline}` +
      (s.remote ? '; one-way delays need synchronized clocks here' : "; one-way delays (owd.*) are valid: both ends share this host's clock"),
  ].join('\n');
}

function metricTable(rows: MetricSummary[], rounds: number): string {
  const header = ['topology', 'metric', 'p50', 'p90', 'p99', 'p99.9', 'mean', 'Δp50 µs', 'Δp50 %', 'Δp99 µs', 'Δp99 %'];
  if (rounds > 1) header.push('p50 range', 'p99 range');
  const table = [header];
  for (const r of rows) {
    const cells = [r.topology, r.metric, ...SUMMARY_STATISTICS.map((s) => micros(r.statistics[s].median))];
    cells.push(...(r.vsBaseline ? [...deltaCells(r.vsBaseline.p50), ...deltaCells(r.vsBaseline.p99)] : ['baseline', '', '', '']));
    if (rounds > 1) {
      for (const s of ['p50', 'p99'] as const) cells.push(`${micros(r.statistics[s].min)}–${micros(r.statistics[s].max)}`);
    }
    table.push(cells);
  }
  return pad(table, 2);
}

function cpuTable(report: LabReportJSON, protocol: Protocol, size: number): string {
  const table = [['topology', 'sender cpu', 'reflector cpu', 'sent', 'lost']];
  for (const c of summarizeCpu(report).filter((x) => x.protocol === protocol && x.size === size)) {
    const pct = (u: number) => `${(100 * u).toFixed(0)}%`;
    table.push([c.topology, pct(c.sender.median), c.reflector ? pct(c.reflector.median) : 'n/a', String(c.sent), String(c.lost)]);
  }
  return pad(table);
}

/** The lab's tables: per protocol and size, topology × metric percentiles with the difference from the baseline, then CPU and loss. */
export function formatLab(report: LabReportJSON, metrics: readonly MetricName[]): string {
  const out = [settingsLine(report)];
  const unmeasured = report.topologies.filter((t) => t.status !== 'measured');
  if (unmeasured.length > 0) {
    out.push('', 'not measured:');
    for (const t of unmeasured) out.push(`  ${t.name}: ${t.status}${t.reason ? `: ${t.reason}` : ''}`);
  }
  const summary = summarize(report, metrics);
  const rounds = report.settings.repeat;
  for (const protocol of reportProtocols(report)) {
    const name = protocol.toUpperCase();
    for (const size of report.settings.sizes) {
      const rows = summary.filter((r) => r.protocol === protocol && r.size === size);
      if (rows.length === 0) continue;
      const baseline = report.settings.baseline;
      const base = rows.some((r) => r.topology === baseline) ? `Δ against ${baseline} ${name}` : `no ${baseline} ${name} results: no differences`;
      out.push('', `${name}, ${size} B payload (µs, median of ${rounds} round${rounds > 1 ? 's' : ''}; ${base})`, metricTable(rows, rounds));
      out.push('', `CPU of each end's session thread (share of one core) and loss, ${name} ${size} B`, cpuTable(report, protocol, size));
    }
  }
  if (rounds > 1) out.push('', `~ marks a difference inside the rounds' spread (their ranges overlap): not shown to be real.`);
  if (report.interrupted) out.push('', 'interrupted: partial results');
  if (report.cleanupErrors.length > 0) out.push('', 'cleanup failed for:', ...report.cleanupErrors.map((e) => `  ${e}`));
  return out.join('\n');
}

/** Chain figures whose confidence interval reaches further than this share of the value are marked "~". */
const WIDE_INTERVAL = 0.05;

function wide(e: Estimate): boolean {
  return e.value > 0 && Math.max(e.value - e.low, e.high - e.value) > WIDE_INTERVAL * e.value;
}

function estimate(e: Estimate): string {
  return `${duration(e.value)}${wide(e) ? '~' : ''}${e.undersampled ? '*' : ''}`;
}

function costSentence(c: PairCost): string {
  return (
    `choosing ${c.choose} over ${c.over} costs ${signed(duration(c.p50), c.p50)} at p50 and ${signed(duration(c.p99), c.p99)} at p99 ` +
    `for a chain of ${c.calls} call${c.calls > 1 ? 's' : ''} (naive ${c.calls} × Δp50: ${signed(duration(c.naive), c.naive)})`
  );
}

/**
 * The budget: chains and fan-outs per input, then what choosing one input
 * over another costs. `pairsWith` limits the cost table to pairs with that
 * input (the lab's baseline); sentences are always against `baseline`.
 */
export function formatBudget(report: BudgetReport, metric: string, baseline: string | null, pairsWith: string | null = null): string {
  const ps = report.settings.percentiles;
  const out: string[] = [`budget of ${metric} per hop`];
  const chain = [['input', 'N', ...ps.map((p) => `p${p}`), 'mean', 'N × p50 (naive)']];
  const fan = [['input', 'K', ...ps.map((p) => `p${p}`)]];
  for (const e of report.entries) {
    e.chain.forEach((c, i) => {
      chain.push([i === 0 ? e.label : '', String(c.calls), ...ps.map((p) => estimate(c.percentiles[String(p)]!)), duration(c.mean), duration(c.naive)]);
    });
    e.fanout.forEach((f, i) => fan.push([i === 0 ? e.label : '', String(f.calls), ...ps.map((p) => estimate(f.percentiles[String(p)]!))]));
  }
  out.push(
    '',
    `chain of N sequential calls: the sum of N per-hop samples, resampled (${report.method.replicates} replicates, seed ${report.method.seed}, ` +
      'the same draws for every input; the mean is exact)',
    pad(chain),
  );
  out.push('', 'fan-out of K parallel calls: the max of K per-hop samples, exact from the histogram (p-quantile = per-hop quantile at p^(1/K))', pad(fan));
  const costs = report.costs.filter((c) => pairsWith === null || c.choose === pairsWith || c.over === pairsWith);
  if (costs.length > 0) {
    const table = [['choose', 'over', 'N', 'Δp50', 'Δp99', 'naive N × Δp50']];
    for (const c of costs) table.push([c.choose, c.over, String(c.calls), signed(duration(c.p50), c.p50), signed(duration(c.p99), c.p99), signed(duration(c.naive), c.naive)]);
    out.push('', 'choosing one over another costs, for a chain of N calls', pad(table, 2));
    const longest = Math.max(...report.settings.chain);
    const headline = costs.filter((c) => c.calls === longest && baseline !== null && (c.over === baseline || c.choose === baseline));
    if (headline.length > 0) out.push('', ...headline.map(costSentence));
  }
  const figures = report.entries.flatMap((e) => [...e.chain, ...e.fanout].flatMap((f) => Object.values(f.percentiles)));
  const level = `${Math.round(report.method.confidence * 100)}%`;
  out.push('', `${level} confidence intervals of every chain figure are in --json.`);
  if (figures.some(wide)) {
    out.push(
      `~ its ${level} interval reaches past ±${WIDE_INTERVAL * 100}%: the figure sits where the chain's distribution jumps ` +
        '(a few rare slow hops more or less), or needs more --replicates',
    );
  }
  if (figures.some((x) => x.undersampled)) {
    out.push(
      '* undersampled: depends on per-hop latencies rarer than one in the samples measured (the figure cannot exceed the slowest hop seen); measure more probes',
    );
  }
  return out.join('\n');
}
