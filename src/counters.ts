/**
 * The counters of probe sessions and reflectors, each list written once in
 * the engine's order (native/core/counters.hpp), which is the order of the
 * JSON; the counter types and the result readers derive from these lists,
 * and test/native-lists.test.ts checks them against the addon's.
 */
export const SENDER_COUNTERS = [
  'sent',
  'received',
  'lost',
  'duplicates',
  'reordered',
  'late',
  'malformed',
  'authFailures',
  'corrupted',
  'unexpected',
  'inFlight',
  'sendErrors',
  'icmpErrors',
  'txStampsMissing',
  'captureDropped',
  'connectErrors',
  'disconnects',
  'echoes',
] as const;

export const REFLECTOR_COUNTERS = [
  'received',
  'reflected',
  'malformed',
  'loops',
  'authFailures',
  'denied',
  'rateLimited',
  'globalRateLimited',
  'replayed',
  'outOfWindow',
  'sessionsRefused',
  'sessionsEvicted',
  'sendErrors',
  'rxStampsMissing',
  'activeSessions',
  'connections',
  'connectionsRefused',
  'requestTimeouts',
] as const;

export type SenderCounterName = (typeof SENDER_COUNTERS)[number];
export type ReflectorCounterName = (typeof REFLECTOR_COUNTERS)[number];
export type SenderCounters = Record<SenderCounterName, number>;
export type ReflectorCounters = Record<ReflectorCounterName, number>;

/** Sender counters added after results were first kept, with the value an older result that lacks one held. */
export const SENDER_COUNTERS_ADDED_LATER = { captureDropped: 0, connectErrors: 0, disconnects: 0, echoes: 0 } as const satisfies Partial<SenderCounters>;
