/**
 * The lab's runs in the study's own CSV columns, one row per run, so they
 * sit next to the original netperf data: test UDP_RR or TCP_RR (TCP_CRR in
 * connect mode), protocol UDP or TCP, as the study writes them. Latencies
 * are rtt.user (what the application sees, as netperf's; in connect mode
 * `transaction`, connect to reply read, as TCP_CRR's) in microseconds. RT_LATENCY is, as in
 * netperf, wall-clock time per transaction (warm-up included). The study's
 * LOCAL_CPU_UTIL is netperf's system-wide figure; here it is the sending
 * thread's CPU time as a percentage of all this host's CPUs.
 */
import type { LabReportJSON } from './report';

export const CSV_COLUMNS = [
  'test',
  'type',
  'hosttype',
  'from',
  'to',
  'reps',
  'size',
  'protocol',
  'LOCAL_CPU_UTIL',
  'RT_LATENCY',
  'MEAN_LATENCY',
  'MIN_LATENCY',
  'MAX_LATENCY',
  'P50_LATENCY',
  'P90_LATENCY',
  'P99_LATENCY',
] as const;

/** Nanoseconds between two ISO timestamps with nanosecond fractions (beyond what a Date holds). */
export function isoSpanNs(start: string, end: string): number {
  const split = (iso: string) => {
    const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
    if (!m) throw new RangeError(`not an ISO UTC timestamp: ${iso}`);
    return { seconds: Date.parse(`${m[1]}Z`) / 1000, ns: Number((m[2] ?? '').padEnd(9, '0').slice(0, 9)) };
  };
  const a = split(start);
  const b = split(end);
  return (b.seconds - a.seconds) * 1e9 + (b.ns - a.ns);
}

function us(ns: number): string {
  return (ns / 1000).toFixed(3);
}

function field(value: string | number): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function labCsv(report: LabReportJSON): string {
  const rows: string[][] = [[...CSV_COLUMNS]];
  for (const t of report.topologies) {
    for (const run of t.runs) {
      const s = run.sender;
      const connect = s.options.mode === 'connect';
      const user = s.metrics[connect ? 'transaction' : 'rtt.user'];
      const protocol = (run.protocol ?? 'udp').toUpperCase();
      if (!user || user.count === 0) continue;
      const transactions = s.sent + s.options.warmup;
      rows.push(
        [
          `${protocol}_${connect ? 'CRR' : 'RR'}`,
          t.name,
          report.hosttype,
          t.from,
          t.to,
          s.sent,
          run.size,
          protocol,
          ((100 * s.cpu.utilization) / s.host.cpus).toFixed(2),
          us(isoSpanNs(s.startedAt, s.endedAt) / transactions),
          us(user.mean),
          us(user.min),
          us(user.max),
          us(user.percentiles['50']!),
          us(user.percentiles['90']!),
          us(user.percentiles['99']!),
        ].map(field),
      );
    }
  }
  return `${rows.map((r) => r.join(',')).join('\n')}\n`;
}
