/**
 * The lab run: removes leftovers of killed earlier runs, finds what the
 * kernel can build, then for each repeat round builds each topology,
 * measures every protocol at every payload size in it and tears it down
 * again, so no two topologies ever share the machine and a round-to-round
 * drift shows up as spread rather than as a difference between topologies.
 */
import { readFileSync } from 'node:fs';
import { hostInfo } from '../host';
import type { Protocol } from '../options';
import { resultHeader } from '../schema';
import { killEnds, measure, type SenderStatuses } from './ends';
import { detectFeatures, type FeatureSupport } from './features';
import { type LabReportJSON, type LabRunJSON, type LabSettingsJSON, type LabTopologyJSON } from './report';
import { Sandbox, removeLeftovers } from './sandbox';
import { LabError, hasCommand } from './system';
import { topology, type RemoteTarget, type Topology } from './topologies';

function forwardingOff(): boolean {
  return readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== '1';
}

/** Why a topology cannot be built here, or null. */
function skipReason(spec: Topology, support: FeatureSupport, remote: RemoteTarget | null): string | null {
  for (const feature of spec.needs) {
    const missing = support[feature];
    if (missing !== null) return missing;
  }
  if (remote && spec.name === 'bridge-nat') {
    if (remote.address.includes(':')) return `the remote ${remote.host} is IPv6; bridge-nat, like Docker's default bridge, is IPv4`;
    if (forwardingOff()) {
      return (
        'IPv4 forwarding is off on this host (net.ipv4.ip_forward=0) and the lab does not change host settings: ' +
        'enable it (sysctl -w net.ipv4.ip_forward=1) to measure bridge-nat against a remote reflector'
      );
    }
  }
  return null;
}

/** Where a lab run is: told as each run starts and as it ends. */
export interface LabProgress {
  /** Runs finished, and runs planned (every topology not skipped, at every size, in every round). */
  done: number;
  planned: number;
  /** The run measuring now; null between runs. */
  current: { topology: string; protocol: Protocol; size: number; round: number } | null;
  /** The last finished run and its topology. */
  last: { topology: string; run: LabRunJSON } | null;
}

export class LabRun {
  /** Resolves with the report once every topology is measured and removed, also after stop(). */
  readonly report: Promise<LabReportJSON>;
  readonly #controller = new AbortController();
  readonly #statuses: SenderStatuses;
  #current: Sandbox | null = null;

  constructor(
    settings: LabSettingsJSON,
    statuses: SenderStatuses,
    log: (line: string) => void = () => {},
    progress: (p: LabProgress) => void = () => {},
  ) {
    this.#statuses = statuses;
    this.report = this.#run(settings, log, progress);
  }

  /** Ends the run early: the running sender stops, the topology is removed, the report holds what was measured. */
  stop(): void {
    this.#controller.abort();
  }

  /** Synchronously kills the ends and removes the topology in place (for exit handlers and a second signal). */
  destroyNow(): string[] {
    killEnds();
    const errors = this.#current?.destroy() ?? [];
    this.#current = null;
    return errors;
  }

  async #run(settings: LabSettingsJSON, log: (line: string) => void, progress: (p: LabProgress) => void): Promise<LabReportJSON> {
    if (!hasCommand('ip', '-V')) throw new LabError('the lab needs iproute2 (the ip command): install it (apt-get install iproute2)', 'ENOENT');
    const startedAt = new Date().toISOString();
    const removedLeftovers = removeLeftovers();
    if (removedLeftovers.length > 0) log(`removed leftovers of an earlier run: ${removedLeftovers.join(', ')}`);
    const support = detectFeatures();
    const remote = settings.remote;
    const entries = settings.topologies.map((name) => {
      const spec = topology(name, remote);
      const reason = skipReason(spec, support, remote);
      if (reason) log(`${name}: skipped: ${reason}`);
      const entry: LabTopologyJSON = {
        name,
        description: spec.description,
        from: spec.from,
        to: spec.to,
        status: reason ? 'skipped' : 'measured',
        reason,
        runs: [],
      };
      return { spec, entry };
    });
    const cleanupErrors: string[] = [];
    const signal = this.#controller.signal;
    const planned =
      entries.filter((e) => e.entry.status === 'measured').length * settings.protocols.length * settings.sizes.length * settings.repeat;
    let done = 0;
    let last: LabProgress['last'] = null;
    for (let round = 1; round <= settings.repeat && !signal.aborted; round++) {
      for (const { spec, entry } of entries) {
        if (entry.status !== 'measured' || signal.aborted) continue;
        const sandbox = new Sandbox(spec.name);
        this.#current = sandbox;
        try {
          const built = await spec.build(sandbox);
          for (const protocol of settings.protocols) {
            for (const size of settings.sizes) {
              if (signal.aborted) break;
              log(`${spec.name}: ${protocol.toUpperCase()} ${size} B${settings.repeat > 1 ? `, round ${round} of ${settings.repeat}` : ''}`);
              progress({ done, planned, current: { topology: spec.name, protocol, size, round }, last });
              const m = await measure(built, protocol, size, settings, sandbox.owner, signal, this.#statuses, settings.timestamps);
              const run = { protocol, size, repeat: round, sender: m.sender, reflector: m.reflector };
              entry.runs.push(run);
              last = { topology: spec.name, run };
              progress({ done: ++done, planned, current: null, last });
              if (m.sender.received === 0 && !m.sender.stopped) {
                throw new LabError(
                  `no ${protocol.toUpperCase()} replies arrived (${m.sender.sent} probes sent${remote ? '; is the far reflector running and reachable?' : ''})`,
                );
              }
            }
          }
        } catch (error) {
          entry.status = signal.aborted ? 'interrupted' : 'failed';
          entry.reason = (error as Error).message;
          log(`${spec.name}: ${entry.status}: ${entry.reason}`);
        } finally {
          this.#current = null;
          cleanupErrors.push(...sandbox.destroy());
        }
      }
    }
    if (signal.aborted) {
      for (const { entry } of entries) if (entry.status === 'measured' && entry.runs.length === 0) entry.status = 'interrupted';
    }
    return {
      ...resultHeader('lab'),
      hosttype: remote ? 'remote' : 'local',
      settings,
      host: hostInfo(),
      startedAt,
      endedAt: new Date().toISOString(),
      interrupted: signal.aborted,
      removedLeftovers,
      cleanupErrors,
      topologies: entries.map((e) => e.entry),
    };
  }
}
