/** The metrics of a probe session, named as in docs/design.md#metrics, the JSON and the CLI. */
export const METRIC_NAMES = [
  'rtt.user',
  'rtt.kernel',
  'rtt.hw',
  'residence',
  'rtt.net',
  'owd.fwd',
  'owd.rev',
  'stack.tx',
  'stack.rx',
  'send.error',
  'ack',
  'connect',
  'transaction',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

export const METRIC_DESCRIPTIONS: Record<MetricName, string> = {
  'rtt.user': 'T4u - T1u: round trip as an application sees it',
  'rtt.kernel': 'T4k - T1k: stack to stack, kernel software stamps',
  'rtt.hw': 'T4h - T1h: wire to wire, NIC hardware stamps',
  residence: 'T3 - T2: time the packet spent inside the reflector',
  'rtt.net': 'best available RTT - residence: the network\'s own share',
  'owd.fwd': 'T2 - T1: forward one-way delay',
  'owd.rev': 'T4 - T3: reverse one-way delay',
  'stack.tx': 'T1k - T1u: sender transmit stack overhead',
  'stack.rx': 'T4u - T4k: sender receive stack overhead',
  'send.error': 'rate mode: T1u - scheduled send time, how late each probe left',
  ack: "TCP: kernel stamp of the peer's ACK of the request - T1k",
  connect: 'TCP connect mode: connect() called to connection established',
  transaction: 'TCP connect mode: connect() called to reply read (netperf TCP_CRR)',
};

/** Metrics whose values mean something only under a condition the tool cannot check. */
export const METRIC_CAVEATS: Partial<Record<MetricName, string>> = {
  'owd.fwd': 'valid only when sender and reflector share one clock (same host) or their clocks are synchronized',
  'owd.rev': 'valid only when sender and reflector share one clock (same host) or their clocks are synchronized',
};
