/**
 * What `probe` and `reflect` share: the options of a session (pinning,
 * polling, timestamps, clock, key, output), what they become in the
 * library's options, the --bind and --allow parsers, and the warnings about
 * settings that cannot give what was asked.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { TimestampingGrant } from '../binding';
import { rtThrottling } from '../caps';
import {
  CLOCK_SOURCES,
  DEFAULT_PORT,
  TIMESTAMP_FORMATS,
  TIMESTAMP_SOURCES,
  TRANSPORTS,
  MAX_DSCP,
  MAX_VLAN_ID,
  parseTarget,
  type ClockSource,
  type TimestampFormat,
  type TimestampSource,
  type Transport,
} from '../options';
import { integer } from './arguments';
import { hardwareShortfall, rtThrottlingStop } from './format';
import type { Io } from './io';
import { keyFromFlags, keyOptions, type KeyFlags } from './key';

export interface SessionFlags extends KeyFlags {
  cpu?: number;
  rtPriority?: number;
  mlock?: boolean;
  busyPoll: boolean;
  socketBusyPoll?: number;
  ts: TimestampSource;
  timestampFormat: TimestampFormat;
  clock: ClockSource;
  json?: boolean;
  duration?: string;
  transport: Transport;
  interface?: string;
  vlan?: number;
  dscp?: number;
  ttl?: number;
}

export function sessionOptions(cmd: Command): Command {
  cmd
    .option('--cpu <n>', 'pin the session thread to this CPU', integer(0, 1023))
    .option('--rt-priority <n>', 'run the session thread SCHED_FIFO at this priority (1-99; needs root)', integer(1, 99))
    .option('--mlock', 'lock memory (mlockall) so page faults cannot stall the loop')
    .option('--no-busy-poll', 'block in ppoll instead of spinning (to see what busy polling buys)')
    .option('--socket-busy-poll <us>', 'also set SO_BUSY_POLL on the socket (kernel NIC-queue polling)', integer(1, 1_000_000))
    .addOption(
      new Option(
        '--ts <source>',
        'timestamps to ask for: auto (kernel, and NIC where the driver has them), software, hardware (enables NIC timestamping: ' +
          'needs CAP_NET_ADMIN and a NIC that has it, see rtt-probe caps; warns when none will come), none',
      )
        .choices(TIMESTAMP_SOURCES)
        .default('auto'),
    )
    .addOption(new Option('--timestamp-format <format>', 'STAMP timestamp format this end writes').choices(TIMESTAMP_FORMATS).default('ntp'))
    .addOption(
      new Option(
        '--clock <source>',
        'clock for user stamps and timers, both CLOCK_REALTIME: tsc (the CPU counter, calibrated against it; half the cost of a read), ' +
          'realtime (the vDSO), auto (tsc where the kernel keeps time with an invariant TSC)',
      )
        .choices(CLOCK_SOURCES)
        .default('auto'),
    )
    .addOption(
      new Option(
        '--transport <kind>',
        'how packets reach the wire: udp (sockets), raw (Ethernet frames built in user space on an AF_PACKET socket; needs CAP_NET_RAW, see docs/transports.md)',
      )
        .choices(TRANSPORTS)
        .default('udp'),
    )
    .option('--interface <if>', 'raw: the interface to use (default: the route\'s to the target; a reflector\'s: its --bind address\'s, required with a wildcard bind)')
    .option('--vlan <id>', 'raw: tag frames with this 802.1Q VLAN ID and take only frames tagged with it', integer(1, MAX_VLAN_ID))
    .option('--dscp <n>', `DSCP of the packets this end sends (0-${MAX_DSCP})`, integer(0, MAX_DSCP))
    .option('--ttl <n>', 'TTL / hop limit of the packets this end sends (default: the system\'s)', integer(1, 255));
  return keyOptions(cmd).option('--json', 'print the result as JSON only');
}

/** The library options the shared flags stand for. */
export function commonOptions(flags: SessionFlags) {
  return {
    key: keyFromFlags(flags),
    cpu: flags.cpu,
    rtPriority: flags.rtPriority,
    mlock: flags.mlock ?? false,
    busyPoll: flags.busyPoll,
    socketBusyPollUs: flags.socketBusyPoll ?? 0,
    timestamps: flags.ts,
    timestampFormat: flags.timestampFormat,
    clock: flags.clock,
    transport: flags.transport,
    interface: flags.interface,
    vlan: flags.vlan,
    dscp: flags.dscp,
    ttl: flags.ttl,
  };
}

/** --allow takes comma-separated prefixes and may be repeated. */
export function cidrList(value: string, previous: string[] | undefined): string[] {
  const entries = value.split(',').map((e) => e.trim());
  if (entries.some((e) => e === '')) throw new InvalidArgumentError('give CIDR prefixes separated by commas, e.g. 198.18.0.0/15,2001:2::/48.');
  return [...(previous ?? []), ...entries];
}

/** Parses "ADDR", "ADDR:PORT", "[V6]:PORT" or ":PORT" for --bind. */
export function bindAddress(value: string): { bind: string; port: number } {
  const text = value.startsWith(':') ? `0.0.0.0${value}` : value;
  try {
    const t = parseTarget(text, DEFAULT_PORT);
    return { bind: t.host, port: t.port };
  } catch {
    // Port 0 (any free port) is valid for a listener but not for a target.
    const zero = /^(.*):0$/.exec(text);
    if (zero) return { bind: zero[1]!.replace(/^\[(.*)\]$/, '$1'), port: 0 };
    throw new InvalidArgumentError('give ADDR, ADDR:PORT, [IPv6]:PORT or :PORT, with a port from 0 to 65535.');
  }
}

/**
 * Tells a user who asked for SCHED_FIFO on a busy-polling session that the
 * kernel's RT throttling will stop that thread every period: measured here,
 * it turned a 13 µs send-time p99 at 100 000 probes/s into 41 ms.
 */
export function warnRtThrottling(io: Io, flags: SessionFlags): void {
  if (!flags.rtPriority || !flags.busyPoll) return;
  const throttling = rtThrottling();
  const stop = rtThrottlingStop(throttling);
  if (!throttling || stop === null) return;
  io.stderr.write(
    `rtt-probe: warning: the kernel throttles real-time threads (sched_rt_runtime_us ${throttling.runtimeUs} of ${throttling.periodUs}), ` +
      `so ${stop}; set kernel.sched_rt_runtime_us to -1 for the run (and keep other work off the --cpu) or leave out --rt-priority\n`,
  );
}

/** Tells a user who asked for hardware timestamps (--ts hardware) when none will come, and why. */
export function warnHardware(io: Io, requested: TimestampSource, timestamping: TimestampingGrant): void {
  const shortfall = requested === 'hardware' ? hardwareShortfall(timestamping) : null;
  if (shortfall) io.stderr.write(`rtt-probe: warning: ${shortfall}\n`);
}
