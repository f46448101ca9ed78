/**
 * Options of probe sessions and reflectors, validated before anything native
 * runs: a wrong type is an OptionTypeError, a value out of range an
 * OptionRangeError (both RttProbeErrors); each message names the option and
 * what to give instead.
 */
import net from 'node:net';
import { DEFAULT_CAPTURE_BUFFER_ROWS, MAX_CAPTURE_BUFFER_ROWS, captureFormatOf, type CaptureFormat, type CaptureOptions } from './capture';
import { OptionRangeError, OptionTypeError } from './errors';

/** Each list of choices is written once here; types, option checks, the CLI's choices and the native parsers' agreement test derive from it. */
export const PROBE_MODES = ['pingpong', 'rate', 'connect'] as const;
export type ProbeMode = (typeof PROBE_MODES)[number];
/** What carries the STAMP packets: UDP datagrams, or a TCP stream (request/response, as netperf TCP_RR and TCP_CRR; see docs/tcp.md). */
export const PROTOCOLS = ['udp', 'tcp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
export const TIMESTAMP_SOURCES = ['auto', 'software', 'hardware', 'none'] as const;
export type TimestampSource = (typeof TIMESTAMP_SOURCES)[number];
/**
 * The clock user stamps and timers are read from. Both give CLOCK_REALTIME,
 * the clock kernel stamps use: 'tsc' converts the CPU's time-stamp counter,
 * calibrated against it (half the cost of a vDSO read); 'realtime' reads it
 * through the vDSO; 'auto' takes the TSC where the kernel itself keeps time
 * with it and the TSC is invariant.
 */
export const CLOCK_SOURCES = ['auto', 'tsc', 'realtime'] as const;
export type ClockSource = (typeof CLOCK_SOURCES)[number];
export const TIMESTAMP_FORMATS = ['ntp', 'ptp'] as const;
/**
 * How packets reach the wire: 'udp' through the kernel's sockets; 'raw' as
 * Ethernet frames built in user space on an AF_PACKET socket (qdisc
 * bypassed, a BPF filter on receive; needs CAP_NET_RAW). See docs/transports.md.
 */
export const TRANSPORTS = ['udp', 'raw'] as const;
export type Transport = (typeof TRANSPORTS)[number];
export type TimestampFormat = (typeof TIMESTAMP_FORMATS)[number];
/** A duration: milliseconds as a number, or a string with a unit ("10s", "250ms", "50us", "1m"). */
export type Duration = number | string;

export const DEFAULT_PORT = 862;
/** TCP connections a reflector keeps open at once by default; more are reset and counted. */
export const DEFAULT_MAX_CONNECTIONS = 1024;
export const MAX_CONNECTIONS = 65_536;
export const MIN_PACKET_SIZE = 44;
export const MAX_PACKET_SIZE = 65507;
/** Probes that may wait for replies at once in rate mode (rate x timeout); bounds the sender's memory. */
export const MAX_IN_FLIGHT = 1_000_000;
/** Authenticated STAMP packets (RFC 8762 4.2.2 / 4.3.2): 112 bytes, the last 16 an HMAC-SHA-256. */
export const AUTH_PACKET_SIZE = 112;
export const MIN_KEY_SIZE = 16;
export const MAX_KEY_SIZE = 4096;
/** Most stateful-mode sessions a reflector keeps (its memory is allocated up front). */
export const MAX_SESSIONS = 65_536;
export const MAX_ALLOW_PREFIXES = 256;
/** Reflector reply-rate limits, replies per second. Below the minimum a limit would be "never": leave the reflector off instead. */
export const MIN_RATE_LIMIT = 0.001;
export const MAX_VLAN_ID = 4094;
export const MAX_DSCP = 63;
export const MAX_RATE_LIMIT = 10_000_000;

export interface PinningOptions {
  /** Pin the session thread to this CPU. */
  cpu?: number | undefined;
  /** Run the session thread SCHED_FIFO at this priority (1-99). */
  rtPriority?: number | undefined;
  /** mlockall() so page faults cannot stall the loop. */
  mlock?: boolean | undefined;
}

/** Options probe sessions and reflectors share. */
export interface CommonOptions extends PinningOptions {
  /**
   * Shared key of authenticated STAMP (112-byte packets with HMAC-SHA-256):
   * 16 to 4096 secret bytes, the same on sender and reflector. Read it from a
   * file or the environment; it is never part of a result or a message.
   */
  key?: Uint8Array | undefined;
  /** Spin on non-blocking sockets (default true); false blocks in ppoll instead. */
  busyPoll?: boolean | undefined;
  /** SO_BUSY_POLL microseconds (NIC queue polling in the kernel); 0 leaves it off. */
  socketBusyPollUs?: number | undefined;
  /** Which SO_TIMESTAMPING stamps to ask for (default 'auto': software, and hardware where the NIC gives them). */
  timestamps?: TimestampSource | undefined;
  /** STAMP timestamp format this end writes (default 'ntp'). */
  timestampFormat?: TimestampFormat | undefined;
  /** The clock user stamps and timers are read from (default 'auto'). */
  clock?: ClockSource | undefined;
  /** How often progress snapshots are delivered (default 1s). */
  progressInterval?: Duration | undefined;
  /** How packets reach the wire (default 'udp'). */
  transport?: Transport | undefined;
  /**
   * Raw transport: the interface to send and receive on. Default: a probe's,
   * that of the route to the target; a reflector's, that of its bind address
   * (required when it binds a wildcard address).
   */
  interface?: string | undefined;
  /** Raw transport: tag frames with this 802.1Q VLAN ID (1-4094), and take only frames tagged with it. */
  vlan?: number | undefined;
  /** DSCP (0-63) of the packets this end sends (default 0). */
  dscp?: number | undefined;
  /** TTL / hop limit (1-255) of the packets this end sends (default: the system's). */
  ttl?: number | undefined;
  /** Stops the session; the result then holds everything recorded so far. */
  signal?: AbortSignal | undefined;
}

export interface ProbeOptions extends CommonOptions {
  /** Reflector port when the target does not name one (default 862). */
  port?: number | undefined;
  /** Local address to send from (default: the wildcard address of the target's family). */
  bind?: string | undefined;
  /**
   * 'pingpong' (default): next probe right after the reply; 'rate': fixed
   * interval, many in flight (UDP only); 'connect': a new TCP connection per
   * probe (TCP only, as netperf TCP_CRR).
   */
  mode?: ProbeMode | undefined;
  /**
   * 'udp' (default), or 'tcp': requests and replies on one connection (or one
   * per probe in connect mode). TCP has no default port (862/TCP is
   * TWAMP-Control's): the target or `port` must name one.
   */
  protocol?: Protocol | undefined;
  /** Probes to measure (warm-up excluded). */
  count?: number | undefined;
  /** How long to send; with neither count nor duration, 10s. */
  duration?: Duration | undefined;
  /** Probes sent first and left out of the results (default 10). */
  warmup?: number | undefined;
  /** Probes per second; rate mode only (default 1000). */
  rate?: number | undefined;
  /** STAMP packet bytes, >= 44 (default 44): the UDP payload, or a TCP frame less its 2-byte length. */
  size?: number | undefined;
  /** How long to wait for each reply (default 1s). */
  timeout?: Duration | undefined;
  /** STAMP session-sender identifier (default 0). */
  ssid?: number | undefined;
  /**
   * End the session at the first ICMP error (port, host or network
   * unreachable) instead of waiting out every probe's timeout (default
   * false; the CLI turns it on in ping-pong mode). The result then says why
   * it has no samples.
   */
  stopOnUnreachable?: boolean | undefined;
  /** Raw transport: the destination MAC ('aa:bb:cc:dd:ee:ff') instead of the neighbour table's. */
  dstMac?: string | undefined;
  /**
   * Write one row per measured probe (every timestamp, every metric, its
   * status) to a CSV or JSON Lines file while the session runs. The file is
   * opened before the first probe, so an unwritable path fails the session
   * at its start.
   */
  capture?: CaptureOptions | undefined;
}

export interface ReflectorOptions extends CommonOptions {
  /** Address to listen on (default '::', which also serves IPv4). */
  bind?: string | undefined;
  /** Port to listen on (default 862; 0 picks a free one). */
  port?: number | undefined;
  /** Stop by itself after this long. */
  duration?: Duration | undefined;
  /** Answer only these sources: CIDR prefixes ("198.18.0.0/15", "2001:2::/48") or addresses. */
  allow?: string | readonly string[] | undefined;
  /** Most replies per second to one source address (bursts of a tenth of a second's worth). */
  rateLimit?: number | undefined;
  /** Most replies per second in total. */
  globalRateLimit?: number | undefined;
  /** Stateful mode (RFC 8762): per-session reflector sequence numbers; replayed requests are counted, not answered. */
  stateful?: boolean | undefined;
  /** Stateful mode: most sessions (sender address, port, SSID) kept at once (default 1024). */
  maxSessions?: number | undefined;
  /** Stateful mode: a session idle this long is forgotten (default 60s). */
  sessionTimeout?: Duration | undefined;
  /** Also answer TWAMP-Light test packets shorter than 44 bytes (their 41-byte reply is larger than the request). */
  twampLight?: boolean | undefined;
  /** What to serve (default 'udp'); TCP listens on the same port number as UDP. */
  protocols?: Protocol | readonly Protocol[] | undefined;
  /** TCP: most connections open at once (default 1024); more are reset and counted as connectionsRefused. */
  maxConnections?: number | undefined;
}

export const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Parses "10s", "250ms", "1.5m", "100us" into nanoseconds; numbers are milliseconds. */
export function parseDuration(value: Duration, name: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new OptionRangeError(`${name} must be a non-negative number of milliseconds, got ${value}`);
    }
    return Math.round(value * 1e6);
  }
  if (typeof value !== 'string') {
    throw new OptionTypeError(`${name} must be a duration such as "10s" or a number of milliseconds, got ${typeof value}`);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h)\s*$/.exec(value);
  if (!m) {
    throw new OptionRangeError(
      `${name} "${value}" is not a duration: give a number with a unit, e.g. 10s, 250ms, 50us, 2m`,
    );
  }
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

function check<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

function integer(value: unknown, name: string, min: number, max: number, hint = ''): number {
  if (typeof value !== 'number') throw new OptionTypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OptionRangeError(`${name} must be an integer from ${min} to ${max}, got ${value}${hint}`);
  }
  return value;
}

function boolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new OptionTypeError(`${name} must be true or false, got ${typeof value}`);
  return value;
}

function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== 'string') throw new OptionTypeError(`${name} must be a string, got ${typeof value}`);
  if (!allowed.includes(value as T)) {
    throw new OptionRangeError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

/** A numeric IPv4/IPv6 address (zone allowed), or throws naming the option. */
export function ipAddress(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new OptionTypeError(`${name} must be a string, got ${typeof value}`);
  if (net.isIP(value.split('%')[0]!) === 0) {
    throw new OptionRangeError(`${name} "${value}" is not an IPv4 or IPv6 address (e.g. 127.0.0.1 or ::1)`);
  }
  return value;
}

/** 0.0.0.0 or :: however written: every address of the host. */
function isWildcard(address: string): boolean {
  return /^0+(\.0+){3}$/.test(address) || /^[0:]+$/.test(address);
}

/** The key as a private copy, or null without one. */
function keyBytes(value: unknown): Buffer | null {
  if (value === undefined) return null;
  if (!(value instanceof Uint8Array)) {
    throw new OptionTypeError(`key must be a Buffer or Uint8Array of secret bytes, got ${value === null ? 'null' : typeof value}`);
  }
  if (value.length < MIN_KEY_SIZE || value.length > MAX_KEY_SIZE) {
    throw new OptionRangeError(
      `key must be ${MIN_KEY_SIZE} to ${MAX_KEY_SIZE} bytes, got ${value.length} (e.g. 32 random bytes: head -c 32 /dev/urandom > key)`,
    );
  }
  return Buffer.from(value);
}

function positiveRate(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number') throw new OptionTypeError(`${name} must be a number of replies per second, got ${typeof value}`);
  if (!Number.isFinite(value) || value < MIN_RATE_LIMIT || value > MAX_RATE_LIMIT) {
    throw new OptionRangeError(
      `${name} must be from ${MIN_RATE_LIMIT} to ${MAX_RATE_LIMIT} replies per second, got ${value} (leave it out for no limit)`,
    );
  }
  return value;
}

/** A CIDR prefix or single address, or throws naming the option. */
export function cidr(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new OptionTypeError(`${name} must be a string, got ${typeof value}`);
  const [address, bits, extra] = value.split('/');
  const family = net.isIP(address ?? '');
  const max = family === 6 ? 128 : 32;
  if (family === 0 || extra !== undefined || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max))) {
    throw new OptionRangeError(
      `${name} "${value}" is not an address or CIDR prefix: give e.g. 198.18.0.0/15, 2001:2::/48 or 127.0.0.1`,
    );
  }
  return value;
}

/** Options that only the raw transport has: given with 'udp', they are refused rather than ignored. */
function rawOnly<O extends object>(transport: Transport, o: O, names: readonly (keyof O & string)[]): void {
  for (const name of names) {
    if (o[name] !== undefined && transport !== 'raw') {
      throw new OptionRangeError(`${name} applies to the raw transport only: add transport: 'raw' (--transport raw) or leave ${name} out`);
    }
  }
}

/** An interface name as the kernel takes it (IFNAMSIZ: at most 15 bytes, no '/', ':' or whitespace). */
function interfaceName(value: unknown): string {
  if (typeof value !== 'string') throw new OptionTypeError(`interface must be a string, got ${typeof value}`);
  if (!/^[^\s/:]{1,15}$/.test(value)) {
    throw new OptionRangeError(`interface "${value}" is not an interface name (1-15 characters, no '/', ':' or spaces; list them with \`ip link\`)`);
  }
  return value;
}

/** A MAC address written aa:bb:cc:dd:ee:ff, lower-cased. */
function macAddress(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new OptionTypeError(`${name} must be a string, got ${typeof value}`);
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(value)) {
    throw new OptionRangeError(`${name} "${value}" is not a MAC address: write six hex bytes with colons, e.g. 02:00:00:00:00:01`);
  }
  return value.toLowerCase();
}

export interface NormalizedCommon {
  transport: Transport;
  /** null: the interface the route or bind address gives. */
  interface: string | null;
  vlan: number | null;
  dscp: number;
  /** null: the system's default. */
  ttl: number | null;
  busyPoll: boolean;
  socketBusyPollUs: number;
  timestamps: TimestampSource;
  timestampFormat: TimestampFormat;
  clock: ClockSource;
  cpu: number;
  rtPriority: number;
  mlock: boolean;
  progressIntervalNs: number;
}

function normalizeCommon(o: CommonOptions): NormalizedCommon {
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new OptionTypeError('signal must be an AbortSignal');
  }
  const progressIntervalNs = parseDuration(check(o.progressInterval, '1s'), 'progressInterval');
  if (progressIntervalNs < 10e6) throw new OptionRangeError('progressInterval must be at least 10ms');
  const transport = oneOf(check(o.transport, 'udp'), 'transport', TRANSPORTS);
  rawOnly(transport, o, ['interface', 'vlan']);
  return {
    transport,
    interface: o.interface === undefined ? null : interfaceName(o.interface),
    vlan: o.vlan === undefined ? null : integer(o.vlan, 'vlan', 1, MAX_VLAN_ID),
    dscp: integer(check(o.dscp, 0), 'dscp', 0, MAX_DSCP),
    ttl: o.ttl === undefined ? null : integer(o.ttl, 'ttl', 1, 255),
    busyPoll: boolean(check(o.busyPoll, true), 'busyPoll'),
    socketBusyPollUs: integer(check(o.socketBusyPollUs, 0), 'socketBusyPollUs', 0, 1_000_000),
    timestamps: oneOf(check(o.timestamps, 'auto'), 'timestamps', TIMESTAMP_SOURCES),
    timestampFormat: oneOf(check(o.timestampFormat, 'ntp'), 'timestampFormat', TIMESTAMP_FORMATS),
    clock: oneOf(check(o.clock, 'auto'), 'clock', CLOCK_SOURCES),
    cpu: o.cpu === undefined ? -1 : integer(o.cpu, 'cpu', 0, 1023),
    rtPriority: integer(check(o.rtPriority, 0), 'rtPriority', 0, 99, ' (1-99 selects SCHED_FIFO, 0 leaves the scheduler alone)'),
    mlock: boolean(check(o.mlock, false), 'mlock'),
    progressIntervalNs,
  };
}

export interface NormalizedProbeOptions extends NormalizedCommon {
  bind: string | undefined;
  mode: ProbeMode;
  protocol: Protocol;
  count: number;
  durationNs: number;
  warmup: number;
  rate: number;
  size: number;
  timeoutNs: number;
  ssid: number;
  key: Buffer | null;
  stopOnUnreachable: boolean;
  dstMac: string | null;
  /** The capture file, '' for none. */
  captureFile: string;
  captureFormat: CaptureFormat;
  captureBufferRows: number;
}

/** A session's duration in ns, 0 where none is given; a given one must be longer than 0 (`hint` says what to do instead). */
function givenDuration(duration: Duration | undefined, hint: string): number {
  if (duration === undefined) return 0;
  const ns = parseDuration(duration, 'duration');
  if (ns === 0) throw new OptionRangeError(`duration must be longer than 0${hint}`);
  return ns;
}

export function normalizeProbeOptions(o: ProbeOptions = {}): NormalizedProbeOptions {
  if (typeof o !== 'object' || o === null) throw new OptionTypeError('options must be an object');
  const common = normalizeCommon(o);
  rawOnly(common.transport, o, ['dstMac']);
  const count = o.count === undefined ? 0 : integer(o.count, 'count', 1, 2 ** 32 - 1024);
  let durationNs = givenDuration(o.duration, '');
  if (count === 0 && durationNs === 0) durationNs = 10e9;
  const timeoutNs = parseDuration(check(o.timeout, '1s'), 'timeout');
  if (timeoutNs < 1000 || timeoutNs > 60e9) {
    throw new OptionRangeError('timeout must be between 1us and 60s (e.g. "100ms")');
  }
  const mode = oneOf(check(o.mode, 'pingpong'), 'mode', PROBE_MODES);
  const protocol = oneOf(check(o.protocol, 'udp'), 'protocol', PROTOCOLS);
  if (protocol === 'tcp' && common.transport === 'raw') {
    throw new OptionRangeError("the raw transport carries UDP only: leave out transport: 'raw' (--transport raw) for protocol 'tcp'");
  }
  if (protocol === 'tcp' && mode === 'rate') {
    throw new OptionRangeError("rate mode is for UDP; with protocol 'tcp' use mode 'pingpong' (request/response) or 'connect' (a connection per probe)");
  }
  if (protocol === 'udp' && mode === 'connect') {
    throw new OptionRangeError("connect mode opens a TCP connection per probe: add protocol: 'tcp' (--proto tcp)");
  }
  if (o.rate !== undefined && mode !== 'rate') {
    throw new OptionRangeError(`rate applies to rate mode only: add mode: 'rate' (--mode rate) or leave rate out`);
  }
  const rate = check(o.rate, 1000);
  if (typeof rate !== 'number') throw new OptionTypeError(`rate must be a number of probes per second, got ${typeof rate}`);
  if (!Number.isFinite(rate) || rate <= 0 || rate > 10_000_000) {
    throw new OptionRangeError(`rate must be between 0 and 10000000 probes per second, got ${rate}`);
  }
  const key = keyBytes(o.key);
  const minSize = key ? AUTH_PACKET_SIZE : MIN_PACKET_SIZE;
  const size = integer(check(o.size, minSize), 'size', MIN_PACKET_SIZE, MAX_PACKET_SIZE, ' (a STAMP packet is at least 44 bytes)');
  if (size < minSize) {
    throw new OptionRangeError(`size must be at least ${AUTH_PACKET_SIZE} with a key (authenticated STAMP packets are ${AUTH_PACKET_SIZE} bytes), got ${size}`);
  }
  if (mode === 'rate' && rate * (timeoutNs / 1e9) > MAX_IN_FLIGHT) {
    throw new OptionRangeError(
      `rate ${rate}/s with a ${timeoutNs / 1e6} ms timeout keeps up to ${Math.ceil(rate * (timeoutNs / 1e9))} probes in flight; ` +
        `the most is ${MAX_IN_FLIGHT}: lower the rate or the timeout`,
    );
  }
  return {
    ...common,
    bind: o.bind === undefined ? undefined : ipAddress(o.bind, 'bind'),
    mode,
    protocol,
    count,
    durationNs,
    warmup: integer(check(o.warmup, 10), 'warmup', 0, 1_000_000),
    rate,
    size,
    timeoutNs,
    ssid: integer(check(o.ssid, 0), 'ssid', 0, 65535),
    key,
    stopOnUnreachable: boolean(check(o.stopOnUnreachable, false), 'stopOnUnreachable'),
    dstMac: o.dstMac === undefined ? null : macAddress(o.dstMac, 'dstMac'),
    ...normalizeCapture(o.capture),
  };
}

function normalizeCapture(
  capture: CaptureOptions | undefined,
): Pick<NormalizedProbeOptions, 'captureFile' | 'captureFormat' | 'captureBufferRows'> {
  if (capture === undefined) return { captureFile: '', captureFormat: 'csv', captureBufferRows: DEFAULT_CAPTURE_BUFFER_ROWS };
  if (typeof capture !== 'object' || capture === null || typeof capture.file !== 'string' || capture.file === '') {
    throw new OptionTypeError("capture must be an object with a file path, e.g. { file: 'probes.csv' }");
  }
  return {
    captureFile: capture.file,
    captureFormat: captureFormatOf(capture.file),
    captureBufferRows: integer(check(capture.bufferRows, DEFAULT_CAPTURE_BUFFER_ROWS), 'capture.bufferRows', 2, MAX_CAPTURE_BUFFER_ROWS),
  };
}

/** What a reflector answers and how much, as the native reflector takes it. */
export interface NormalizedReflectorPolicy {
  key: Buffer | null;
  allow: string[];
  rateLimit: number;
  globalRateLimit: number;
  stateful: boolean;
  maxSessions: number;
  sessionTimeoutNs: number;
  twampLight: boolean;
  protocols: Protocol[];
  maxConnections: number;
}

export interface NormalizedReflectorOptions extends NormalizedCommon, NormalizedReflectorPolicy {
  bind: string;
  port: number;
  durationNs: number;
}

export function normalizeReflectorOptions(o: ReflectorOptions = {}): NormalizedReflectorOptions {
  if (typeof o !== 'object' || o === null) throw new OptionTypeError('options must be an object');
  const allow = o.allow === undefined ? [] : typeof o.allow === 'string' ? [o.allow] : o.allow;
  if (!Array.isArray(allow)) throw new OptionTypeError('allow must be a CIDR string or an array of them');
  if (allow.length > MAX_ALLOW_PREFIXES) {
    throw new OptionRangeError(`allow has ${allow.length} entries; at most ${MAX_ALLOW_PREFIXES} (use wider prefixes)`);
  }
  const stateful = boolean(check(o.stateful, false), 'stateful');
  for (const name of ['maxSessions', 'sessionTimeout'] as const) {
    if (o[name] !== undefined && !stateful) {
      throw new OptionRangeError(`${name} applies to stateful mode only: add stateful: true (--stateful) or leave ${name} out`);
    }
  }
  const key = keyBytes(o.key);
  const twampLight = boolean(check(o.twampLight, false), 'twampLight');
  if (twampLight && key) {
    throw new OptionRangeError('twampLight answers unauthenticated TWAMP-Light senders: leave out either twampLight or the key');
  }
  const protocols = reflectorProtocols(o.protocols);
  if (protocols.includes('tcp') && o.port === undefined) {
    throw new OptionRangeError("TCP has no default port (862/TCP is TWAMP-Control's): give port (0 for any free one)");
  }
  if (twampLight && protocols.includes('tcp')) {
    throw new OptionRangeError("twampLight answers TWAMP-Light test packets, which come over UDP only: leave out either twampLight or 'tcp'");
  }
  if (o.maxConnections !== undefined && !protocols.includes('tcp')) {
    throw new OptionRangeError("maxConnections applies to TCP only: add protocols: ['udp', 'tcp'] (--proto udp,tcp) or leave maxConnections out");
  }
  const sessionTimeoutNs = parseDuration(check(o.sessionTimeout, '60s'), 'sessionTimeout');
  if (sessionTimeoutNs < 1e6 || sessionTimeoutNs > 3600e9) {
    throw new OptionRangeError('sessionTimeout must be between 1ms and 1h (e.g. "60s")');
  }
  const common = normalizeCommon(o);
  if (common.transport === 'raw' && protocols.includes('tcp')) {
    throw new OptionRangeError("the raw transport carries UDP only: serve 'tcp' without transport: 'raw' (--transport raw)");
  }
  const bind = ipAddress(check(o.bind, '::'), 'bind');
  if (common.transport === 'raw' && common.interface === null && isWildcard(bind)) {
    throw new OptionRangeError(
      `a raw reflector bound to the wildcard address ${bind} needs an interface: give interface (--interface IF) or bind to one of its addresses (--bind ADDR)`,
    );
  }
  return {
    ...common,
    bind,
    port: integer(check(o.port, DEFAULT_PORT), 'port', 0, 65535),
    // Zero would read as no duration at all: run until stopped.
    durationNs: givenDuration(o.duration, ' (leave it out to run until stopped)'),
    key,
    allow: allow.map((entry, i) => cidr(entry, `allow[${i}]`)),
    rateLimit: positiveRate(o.rateLimit, 'rateLimit'),
    globalRateLimit: positiveRate(o.globalRateLimit, 'globalRateLimit'),
    stateful,
    maxSessions: integer(check(o.maxSessions, 1024), 'maxSessions', 1, MAX_SESSIONS),
    sessionTimeoutNs,
    twampLight,
    protocols,
    maxConnections: integer(check(o.maxConnections, DEFAULT_MAX_CONNECTIONS), 'maxConnections', 1, MAX_CONNECTIONS),
  };
}

/** The protocols a reflector serves, each once, in PROTOCOLS order. */
function reflectorProtocols(value: unknown): Protocol[] {
  const list: unknown[] = value === undefined ? ['udp'] : typeof value === 'string' ? [value] : Array.isArray(value) ? value : [null];
  if (list.length === 0 || list[0] === null) {
    throw new OptionTypeError(`protocols must be 'udp', 'tcp' or a list of them such as ['udp', 'tcp']`);
  }
  const given = list.map((p, i) => oneOf(p, `protocols[${i}]`, PROTOCOLS));
  return PROTOCOLS.filter((p) => given.includes(p));
}

export interface Target {
  host: string;
  port: number;
}

/** A reflector to probe as an object: the port defaults to the `port` option, else 862. */
export interface TargetInput {
  host: string;
  port?: number | undefined;
}

/** Parses "host", "host:port", "[v6]:port" or a bare IPv6 address. */
export function parseTarget(target: string | TargetInput, defaultPort: number | null = DEFAULT_PORT): Target {
  const withPort = parseTargetText(target, defaultPort ?? 0);
  if (withPort.port === 0) {
    throw new OptionRangeError(
      `target "${withPort.host}" names no port, and TCP has none by default (862/TCP is TWAMP-Control's): give one in the target, e.g. ${withPort.host.includes(':') ? `[${withPort.host}]` : withPort.host}:8620 (or the library's port option)`,
    );
  }
  return withPort;
}

/** parseTarget without the TCP check: a port of 0 stands for "none given". */
function parseTargetText(target: string | TargetInput, defaultPort: number): Target {
  if (typeof target === 'object' && target !== null) {
    if (typeof target.host !== 'string' || target.host === '') throw new OptionTypeError('target.host must be a non-empty string');
    return { host: target.host, port: target.port === undefined ? defaultPort : integer(target.port, 'target.port', 1, 65535) };
  }
  if (typeof target !== 'string' || target.trim() === '') {
    throw new OptionTypeError('target must be "host", "host:port" or "[ipv6]:port"');
  }
  const t = target.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? portOf(bracketed[2], t) : defaultPort };
  if (net.isIPv6(t.split('%')[0]!)) return { host: t, port: defaultPort };
  const colon = t.lastIndexOf(':');
  if (colon > 0 && !t.slice(0, colon).includes(':')) return { host: t.slice(0, colon), port: portOf(t.slice(colon + 1), t) };
  if (t.includes(':')) throw new OptionRangeError(`target "${t}" is ambiguous: write an IPv6 address with a port as [addr]:port`);
  return { host: t, port: defaultPort };
}

function portOf(text: string, target: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new OptionRangeError(`port in target "${target}" must be 1-65535`);
  }
  return port;
}
