/** `rtt-probe reflect`: answer STAMP probes until stopped, then print the counters. */
import type { Command } from 'commander';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_PORT, MAX_CONNECTIONS, MAX_RATE_LIMIT, MIN_RATE_LIMIT, type Protocol, type ReflectorOptions } from '../../options';
import { resultHeader } from '../../schema';
import { startReflector } from '../../session';
import { duration, integer, protocolList, replyRate } from '../arguments';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { formatReflectorResult } from '../format';
import type { Io, Outcome } from '../io';
import { onStopSignals } from '../signals';
import { bindAddress, cidrList, commonOptions, sessionOptions, warnHardware, warnRtThrottling, type SessionFlags } from '../session-options';

interface ReflectFlags extends SessionFlags {
  bind: { bind: string; port: number };
  allow?: string[];
  rateLimit?: number;
  globalRateLimit?: number;
  stateful?: boolean;
  maxSessions?: number;
  sessionTimeout?: string;
  twampLight?: boolean;
  proto: Protocol[];
  maxConnections?: number;
}

export function addReflectCommand(program: Command, io: Io, outcome: Outcome): void {
  sessionOptions(
    program
      .command('reflect')
      .description('answer STAMP probes until SIGINT/SIGTERM (or --duration), then print the counters'),
  )
    .option('--bind <addr[:port]>', 'address and port to listen on (port 0 picks a free one)', bindAddress, { bind: '::', port: DEFAULT_PORT })
    .option('--duration <d>', 'stop by itself after this long', duration)
    .option('--allow <cidrs>', 'answer only these sources (comma-separated CIDR prefixes; repeatable)', cidrList)
    .option('--rate-limit <pps>', `most replies per second to one source address (${MIN_RATE_LIMIT} to ${MAX_RATE_LIMIT})`, replyRate)
    .option('--global-rate-limit <pps>', `most replies per second in total (${MIN_RATE_LIMIT} to ${MAX_RATE_LIMIT})`, replyRate)
    .option('--stateful', 'stateful mode: per-session reflector sequence numbers, replayed requests counted and dropped')
    .option('--max-sessions <n>', 'stateful mode: most sessions kept at once (1024)', integer(1, 65_536))
    .option('--session-timeout <d>', 'stateful mode: forget a session idle this long (60s)', duration)
    .option('--twamp-light', 'also answer TWAMP-Light test packets shorter than 44 bytes (replies up to 41 bytes)')
    .option('--proto <list>', 'udp, tcp or udp,tcp: TCP listens on the same port number (see docs/tcp.md)', protocolList, ['udp'])
    .option('--max-connections <n>', `TCP: most connections open at once (${DEFAULT_MAX_CONNECTIONS}); more are reset and counted`, integer(1, MAX_CONNECTIONS))
    .action(async (flags: ReflectFlags, command: Command) => {
      const { bind, port } = flags.bind;
      if (flags.proto.includes('tcp') && command.getOptionValueSource('bind') === 'default') {
        throw new UsageError(`TCP has no default port (862/TCP is TWAMP-Control's): give one with --bind, e.g. --bind :8620 (or :0 for any)`);
      }
      const options: ReflectorOptions = {
        ...commonOptions(flags),
        bind,
        port,
        duration: flags.duration,
        allow: flags.allow,
        rateLimit: flags.rateLimit,
        globalRateLimit: flags.globalRateLimit,
        stateful: flags.stateful,
        maxSessions: flags.maxSessions,
        sessionTimeout: flags.sessionTimeout,
        twampLight: flags.twampLight,
        protocols: flags.proto,
        maxConnections: flags.maxConnections,
      };
      warnRtThrottling(io, flags);
      const reflector = await startReflector(options);
      const a = reflector.address;
      io.stdout.write(
        flags.json
          ? `${JSON.stringify({ ...resultHeader('listening'), listening: a })}\n`
          : `listening on ${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}\n`,
      );
      warnHardware(io, flags.ts, reflector.timestamping);
      const signals = onStopSignals('measure', () => void reflector.stop());
      try {
        const result = await reflector.result;
        io.stdout.write(flags.json ? `${JSON.stringify(result)}\n` : `${formatReflectorResult(result)}\n`);
      } finally {
        signals.dispose();
      }
      outcome.exit = signals.exit ?? EXIT.ok;
    });
}
