/** `rtt-probe monitor`: a reflector plus a continuous latency mesh over a fleet's targets, served to Prometheus. */
import os from 'node:os';
import { Option, type Command } from 'commander';
import { DEFAULT_PORT, MAX_RATE_LIMIT, MIN_RATE_LIMIT, TIMESTAMP_SOURCES, type TimestampSource } from '../../options';
import { DEFAULT_METRICS_ADDRESS, Monitor } from '../../monitor/monitor';
import { duration, integer, positive, replyRate } from '../arguments';
import { EXIT } from '../exit-codes';
import type { Io, Outcome } from '../io';
import { onStopSignals } from '../signals';
import { keyFromFlags, keyOptions, type KeyFlags } from '../key';
import { bindAddress, cidrList } from '../session-options';

interface MonitorFlags extends KeyFlags {
  targets?: string;
  targetsDns?: string;
  targetsPort: number;
  reflect: { bind: string; port: number } | false;
  metrics: { bind: string; port: number };
  webConfig?: string;
  name: string;
  rate: number;
  timeout: string;
  size?: number;
  ts: TimestampSource;
  busyPoll?: boolean;
  cpu?: number;
  allowTargets?: boolean;
  allow?: string[];
  rateLimit?: number;
  globalRateLimit?: number;
}

export function addMonitorCommand(program: Command, io: Io, outcome: Outcome): void {
  const command = program
    .command('monitor')
    .description(
      'reflect STAMP probes and probe every target continuously (10/s each by default, jittered), serving the results ' +
        'to Prometheus on /metrics (see docs/monitor.md); SIGHUP reloads the targets, SIGTERM stops with exit 0',
    )
    .option('--targets <file>', 'targets file, JSON or YAML: {"targets":[{"name":"a","address":"198.18.0.1","port":862}]}; reloaded when it changes')
    .option('--targets-dns <name>', 'also probe every A/AAAA record of this name (a Kubernetes headless Service), re-resolved every 30s')
    .option('--targets-port <port>', 'port of --targets-dns targets and of file targets that name none', integer(1, 65535), DEFAULT_PORT)
    .option('--reflect <addr:port>', 'where the reflector listens', bindAddress, { bind: '0.0.0.0', port: DEFAULT_PORT })
    .option('--no-reflect', 'run no reflector (probe only)')
    .option('--metrics <addr:port>', 'where /metrics and /healthz listen (localhost unless told otherwise)', bindAddress, {
      bind: DEFAULT_METRICS_ADDRESS.host,
      port: DEFAULT_METRICS_ADDRESS.port,
    })
    .option('--web-config <file>', 'Prometheus web-config file: TLS and basic auth for /metrics')
    .option('--name <name>', 'this node, the source label of every series (default: the hostname)', os.hostname())
    .option('--rate <pps>', 'probes per second to each target', positive, 10)
    .option('--timeout <d>', 'how long to wait for each reply', duration, '1s')
    .option('--size <bytes>', 'UDP payload bytes (44 or more)', integer(44, 65507))
    .addOption(new Option('--ts <source>', 'timestamps to ask for (see rtt-probe probe --help)').choices(TIMESTAMP_SOURCES).default('auto'))
    .option('--busy-poll', 'spin on the sockets instead of blocking (takes a whole core)')
    .option('--cpu <n>', 'pin the mesh and reflector threads to this CPU', integer(0, 1023))
    .option('--allow-targets', "answer only the targets' addresses (and --allow), following the targets as they change")
    .option('--allow <cidrs>', 'answer only these sources (comma-separated CIDR prefixes; repeatable)', cidrList)
    .option('--rate-limit <pps>', `most replies per second to one source address (${MIN_RATE_LIMIT} to ${MAX_RATE_LIMIT})`, replyRate)
    .option('--global-rate-limit <pps>', `most replies per second in total (${MIN_RATE_LIMIT} to ${MAX_RATE_LIMIT})`, replyRate);
  // One key for both ends: the fleet's probes and this node's replies.
  keyOptions(command).action(async (flags: MonitorFlags) => {
    const key = keyFromFlags(flags);
    const log = (line: string) => io.stderr.write(`rtt-probe monitor: ${line}\n`);
    const monitor = await Monitor.start({
      name: flags.name,
      targetsFile: flags.targets,
      targetsDns: flags.targetsDns,
      targetsPort: flags.targetsPort,
      reflector: flags.reflect
        ? {
            bind: flags.reflect.bind,
            port: flags.reflect.port,
            busyPoll: flags.busyPoll ?? false,
            cpu: flags.cpu,
            key,
            allow: flags.allow,
            rateLimit: flags.rateLimit,
            globalRateLimit: flags.globalRateLimit,
          }
        : null,
      allowTargets: flags.allowTargets ?? false,
      metrics: { host: flags.metrics.bind, port: flags.metrics.port },
      webConfigFile: flags.webConfig,
      mesh: { rate: flags.rate, timeout: flags.timeout, size: flags.size, timestamps: flags.ts, busyPoll: flags.busyPoll ?? false, cpu: flags.cpu, key },
      log,
    });
    const m = monitor.metricsAddress;
    const r = monitor.reflectorAddress;
    log(
      `probing ${monitor.targets().length} targets as ${flags.name}; metrics on ${m.host.includes(':') ? `[${m.host}]` : m.host}:${m.port}` +
        (r ? `; reflecting on port ${r.port}` : ''),
    );
    let stopped!: () => void;
    const done = new Promise<void>((resolve) => (stopped = resolve));
    const signals = onStopSignals('service', () => stopped());
    const hangup = () => {
      log('SIGHUP: reloading the targets');
      monitor.reload().catch((error: Error) => log(`reload failed: ${error.message}`));
    };
    process.on('SIGHUP', hangup);
    try {
      await done;
      await monitor.close();
    } finally {
      process.off('SIGHUP', hangup);
      signals.dispose();
    }
    outcome.exit = signals.exit ?? EXIT.ok;
  });
}
