/** Human output of the CLI: one table of metrics in microseconds, then the counters. */
import type { TimestampingGrant } from '../binding';
import { rtThrottlingStallUs, type HostCaps } from '../caps';
import type { ProbeResult, ReflectorResult } from '../index';
import { METRIC_NAMES } from '../metrics';
import type { ProbeProgress } from '../session';
import { micros, pad } from '../text';

const COLUMNS = ['min', 'p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max', 'mean', 'stddev'] as const;

export function formatProbeResult(result: ProbeResult): string {
  const o = result.options;
  const lines: string[] = [];
  const target = result.target.family === 'IPv6' ? `[${result.target.address}]` : result.target.address;
  const limit = [o.count ? `${o.count} probes` : '', o.durationNs ? `${o.durationNs / 1e9}s` : ''].filter(Boolean).join(' or ');
  lines.push(
    `rtt-probe ${target}:${result.target.port}  ${o.mode}${o.rate ? ` ${o.rate}/s` : ''}  ${o.size} B  ${limit}` +
      `${result.stopped ? '  (stopped early: partial results)' : ''}`,
  );
  const rows: string[][] = [['metric (µs)', ...COLUMNS]];
  for (const name of METRIC_NAMES) {
    const h = result.metrics[name];
    if (!h) continue;
    const p = (q: number) => micros(h.percentile(q));
    rows.push([name, micros(h.min), p(50), p(90), p(99), p(99.9), p(99.99), micros(h.max), micros(h.mean), micros(h.stddev)]);
  }
  if (rows.length > 1) lines.push('', pad(rows));
  const c = result.counters;
  const judged = c.received + c.lost;
  const lossPct = judged ? ((100 * c.lost) / judged).toFixed(2) : '0.00';
  lines.push(
    '',
    `sent ${c.sent}  received ${c.received}  lost ${c.lost} (${lossPct}%)  dup ${c.duplicates}  reordered ${c.reordered}` +
      `  late ${c.late}${c.malformed ? `  malformed ${c.malformed}` : ''}${c.authFailures ? `  auth failures ${c.authFailures}` : ''}` +
      `${c.corrupted ? `  corrupted ${c.corrupted}` : ''}${c.unexpected ? `  unexpected ${c.unexpected}` : ''}${c.sendErrors ? `  send errors ${c.sendErrors} (${result.lastSendError})` : ''}` +
      `${c.icmpErrors ? `  ICMP errors ${c.icmpErrors}` : ''}` +
      `${c.connectErrors ? `  connect errors ${c.connectErrors}` : ''}${c.disconnects ? `  disconnects ${c.disconnects}` : ''}` +
      `${c.echoes ? `  echoed ${c.echoes}` : ''}` +
      `${c.inFlight ? `  in flight at stop ${c.inFlight}` : ''}`,
  );
  // Metrics missing for one reason share a line.
  const byReason = new Map<string, string[]>();
  for (const [name, why] of Object.entries(result.missing)) byReason.set(why, [...(byReason.get(why) ?? []), name]);
  if (byReason.size > 0) {
    lines.push('', 'not measured:');
    for (const [why, names] of byReason) lines.push(`  ${names.join(', ')}: ${why}`);
  }
  const g = result.granted;
  const change = hwtstampChange(g.timestamping);
  const pin = g.pinning.cpu !== null ? `cpu ${g.pinning.cpu}` : 'not pinned';
  const rt = g.pinning.rtPriority ? `, SCHED_FIFO ${g.pinning.rtPriority}` : '';
  lines.push(
    '',
    `granted: ${pin}${rt}${g.pinning.mlock ? ', mlock' : ''}; timestamps ${g.timestamping.software ? 'software' : 'none'}` +
      `${g.stamps.txHardware || g.stamps.rxHardware ? ' + hardware' : ''}; ${o.busyPoll ? 'busy polling' : 'blocking (ppoll)'}; clock ${g.clock}`,
  );
  if (change) lines.push(change);
  return lines.join('\n');
}

const REFUSALS: Record<string, string> = {
  EPERM: 'changing it needs CAP_NET_ADMIN',
  EOPNOTSUPP: 'its driver has no hardware timestamping',
  ERANGE: 'the NIC can stamp neither every packet (rx-filter all) nor ntp-all',
};

/**
 * Why hardware timestamps will not come although they were asked for, and
 * what to do; null when they can be expected. For --ts hardware only: auto
 * asks for them where the driver says it can, and stays quiet otherwise.
 */
export function hardwareShortfall(ts: TimestampingGrant): string | null {
  const hw = ts.hwtstamp;
  if (!ts.hardwareRequested || (hw?.tx && hw.rx && !ts.refused && ts.hardware)) return null;
  if (!hw) {
    const where = ts.interface === '*' ? 'the socket is bound to a wildcard address' : "no interface has the socket's address";
    return (
      `--ts hardware: ${where}, so rtt-probe cannot tell which NIC to enable hardware timestamping on; ` +
      "measuring with software timestamps only. Bind to the NIC's own address (--bind ADDR)."
    );
  }
  const name = ts.interface;
  let why = `it is set to tx-type ${hw.granted?.txType ?? 'unknown'}, rx-filter ${hw.granted?.rxFilter ?? 'unknown'}, which does not stamp every probe`;
  if (hw.refused) why = `SIOCSHWTSTAMP refused with ${hw.refused}${REFUSALS[hw.refused] ? ` (${REFUSALS[hw.refused]})` : ''}`;
  else if (ts.refused) why = `the kernel refused the socket's timestamping flags (${ts.refused})`;
  else if (!ts.hardware && hw.tx && hw.rx) why = 'the socket did not accept the hardware timestamping flags';
  return (
    `--ts hardware: interface ${name} gives no hardware timestamps: ${why}. Measuring with software timestamps only (rtt.hw stays empty).\n` +
    `  what to do: \`rtt-probe caps --interface ${name}\` shows what it can do; hardware timestamps need a NIC that has them ` +
    '(ethtool -T: hardware-transmit, hardware-receive, hardware-raw-clock) and CAP_NET_ADMIN (root) to enable them on it.'
  );
}

/** A line saying that the NIC's hardware-timestamping config was changed, and left so; null when it was not. */
export function hwtstampChange(ts: TimestampingGrant): string | null {
  const hw = ts.hwtstamp;
  if (!hw?.changed || !hw.granted) return null;
  const was = hw.previous ? `tx-type ${hw.previous.txType}, rx-filter ${hw.previous.rxFilter}` : `not reported, ${hw.previousError}`;
  return (
    `hardware timestamping: set ${ts.interface} to tx-type ${hw.granted.txType}, rx-filter ${hw.granted.rxFilter} (was ${was}); ` +
    'left so, as ptp4l and chrony leave it'
  );
}

/** What RT throttling does to a busy-polling SCHED_FIFO session, or null where it is off or unknown. */
export function rtThrottlingStop(t: HostCaps['rtThrottling']): string | null {
  const stall = rtThrottlingStallUs(t);
  if (!t || stall === null) return null;
  return `a busy-polling --rt-priority thread is stopped for ${stall / 1000} ms every ${t.periodUs / 1e6} s`;
}

/**
 * What to tell a user whose run got no reply at all (null when some came): the
 * ICMP errors the target sent back, or else the timeout each probe waited.
 */
const none = (sent: number) => (sent === 1 ? 'the one probe sent was not answered' : `none of the ${sent} probes was answered`);

export function unanswered(result: ProbeResult): string | null {
  const { sent, received, late, icmpErrors } = result.counters;
  if (sent === 0 || received > 0) return null;
  const timeout = durationText(result.options.timeoutNs);
  if (late > 0) return `${none(sent)} within the ${timeout} timeout: ${late} replies came after it (raise --timeout)`;
  // The core's reason for the missing metrics names the last ICMP error and what it means.
  const icmp = /\d+ ICMP errors? came back \(.*\)$/.exec(result.missing['rtt.user'] ?? '');
  if (icmpErrors > 0 && icmp) return `${none(sent)}: ${icmp[0]}`;
  return `${none(sent)} within the ${timeout} timeout (is a STAMP reflector running there? rtt-probe reflect starts one)`;
}

/**
 * Why a run that measured something ended early: the target refused a probe
 * with an ICMP error or a TCP connection (stopOnUnreachable), or closed a
 * ping-pong TCP session's connection.
 */
export function refusedAfterReplies(result: ProbeResult): string | null {
  const { received, icmpErrors, connectErrors, disconnects } = result.counters;
  if (received === 0) return null;
  if (result.options.mode === 'pingpong' && disconnects > 0) {
    return `the run stopped after ${received} replies: the peer closed the TCP connection`;
  }
  if (!result.options.stopOnUnreachable || icmpErrors + connectErrors === 0) return null;
  const how = icmpErrors > 0 ? 'a probe with an ICMP error (unreachable), and ping-pong runs' : 'a TCP connection, and connect-mode runs';
  return `the run stopped after ${received} replies: the target refused ${how} stop at the first (--no-stop-on-unreachable keeps probing)`;
}

/** Rows the per-probe capture could not write, and why that matters; null when every row was written. */
export function captureDropped(result: ProbeResult, file: string): string | null {
  const { captureDropped: dropped, sent } = result.counters;
  if (dropped === 0) return null;
  return (
    `${dropped} of ${sent} probes have no row in ${file}: its writer fell behind (a slow disk, or a pipe read too slowly). ` +
    'The result and its counters still count every probe; a larger --raw-buffer or a faster disk keeps them all'
  );
}

/** A duration in the largest unit it reaches: 1 s, 200 ms, 1.5 µs. */
function durationText(ns: number): string {
  if (ns >= 1e9) return `${ns / 1e9} s`;
  if (ns >= 1e6) return `${ns / 1e6} ms`;
  if (ns >= 1e3) return `${ns / 1e3} µs`;
  return `${ns} ns`;
}

export function formatProgress(p: ProbeProgress): string {
  const user = p.metrics['rtt.user'];
  const stats = user ? `  rtt.user p50 ${micros(user.p50)} µs  p99 ${micros(user.p99)} µs  max ${micros(user.max)} µs` : '';
  return `${(p.elapsedNs / 1e9).toFixed(1)}s  sent ${p.sent}  received ${p.received}  lost ${p.lost}${stats}`;
}

/** Why requests went unanswered, in the order the reflector checks; shown when non-zero. */
const DROP_REASONS = [
  ['denied', 'denied (allow-list)'],
  ['loops', 'loops (reflector replies)'],
  ['authFailures', 'auth failures'],
  ['sessionsRefused', 'sessions refused'],
  ['replayed', 'replayed'],
  ['outOfWindow', 'out of window'],
  ['rateLimited', 'rate limited'],
  ['globalRateLimited', 'global rate limited'],
] as const;

export function formatReflectorResult(r: ReflectorResult): string {
  const seconds = (Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000;
  const drops = DROP_REASONS.filter(([key]) => r[key] > 0).map(([key, label]) => `  ${label} ${r[key]}`).join('');
  const change = hwtstampChange(r.granted.timestamping);
  return (
    `reflector ${r.local.family === 'IPv6' ? `[${r.local.address}]` : r.local.address}:${r.local.port} ran ${seconds.toFixed(1)}s: ` +
    `received ${r.received}  reflected ${r.reflected}  malformed ${r.malformed}${drops}  send errors ${r.sendErrors}` +
    `${r.sessionsEvicted ? `  sessions evicted ${r.sessionsEvicted}` : ''}` +
    `${r.connections ? `  TCP connections ${r.connections}` : ''}${r.connectionsRefused ? `  connections refused ${r.connectionsRefused}` : ''}` +
    `${r.requestTimeouts ? `  request timeouts ${r.requestTimeouts}` : ''}` +
    `${r.rxStampsMissing ? `  T2 from user clock ${r.rxStampsMissing}` : ''}${change ? `\n${change}` : ''}`
  );
}
