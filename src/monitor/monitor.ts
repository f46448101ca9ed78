/**
 * The monitor: a reflector for the rest of the fleet, a mesh probing every
 * target of a TargetSource (a file, a DNS name), and /metrics and /healthz
 * for Prometheus. A change of targets adds and removes only those that
 * changed; a reload that fails keeps the targets running.
 */
import net from 'node:net';
import { REFLECTOR_COUNTERS, type ReflectorCounters } from '../counters';
import { OptionRangeError } from '../errors';
import { startMesh, type MeshOptions, type MeshSession } from '../mesh';
import { MAX_ALLOW_PREFIXES, type ReflectorOptions } from '../options';
import { startReflector, type Reflector } from '../session';
import { MeshExporter } from './exporter';
import { startMetricsServer, type MetricsServer } from './http-server';
import { TargetSource, type MonitorTarget } from './targets';
import { loadWebConfig } from './web-config';

/** Where /metrics and /healthz listen unless told otherwise: localhost only. */
export const DEFAULT_METRICS_ADDRESS = { host: '127.0.0.1', port: 9862 } as const;

export interface MonitorOptions {
  /** The source label: this node's name. */
  name: string;
  targetsFile?: string | undefined;
  targetsDns?: string | undefined;
  /** The port of DNS targets, and of file targets that name none. */
  targetsPort: number;
  /** The reflector's options (bind, port, allow, rate limits, ...); null: no reflector. */
  reflector: ReflectorOptions | null;
  /** Answer only the targets' addresses (added to reflector.allow), following them as they change. */
  allowTargets: boolean;
  metrics: { host: string; port: number };
  webConfigFile?: string | undefined;
  mesh: MeshOptions;
  /** Where the monitor says what happened to targets and reloads. */
  log: (line: string) => void;
}

function allowListOf(base: readonly string[], targets: readonly MonitorTarget[]): string[] {
  const list = [...new Set([...base, ...targets.map((t) => `${t.address}/${net.isIPv6(t.address) ? 128 : 32}`)])];
  if (list.length > MAX_ALLOW_PREFIXES) {
    throw new OptionRangeError(
      `--allow-targets would allow ${list.length} addresses; a reflector takes at most ${MAX_ALLOW_PREFIXES}: give --allow with the fleet's prefixes instead`,
    );
  }
  return list;
}

export class Monitor {
  readonly #options: MonitorOptions;
  readonly #source: TargetSource;
  readonly #mesh: MeshSession;
  #reflector: Reflector | null = null;
  #server: MetricsServer | undefined;
  /** The counters of reflectors replaced as the allow-list followed the targets, so the exported ones never go back. */
  #reflectorBase: ReflectorCounters | undefined;
  #reflectorLast: ReflectorCounters | undefined;
  #changes: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(options: MonitorOptions) {
    this.#options = options;
    this.#source = new TargetSource({
      file: options.targetsFile,
      dns: options.targetsDns,
      dnsPort: options.targetsPort,
      defaultPort: options.targetsPort,
    });
    this.#mesh = startMesh(options.mesh);
  }

  /** Reads the targets, starts the reflector, the mesh and the endpoint; rejects with what failed, leaving nothing running. */
  static async start(options: MonitorOptions): Promise<Monitor> {
    if (!options.targetsFile && !options.targetsDns) {
      throw new OptionRangeError('a monitor needs targets: give --targets FILE and/or --targets-dns NAME');
    }
    const monitor = new Monitor(options);
    try {
      await monitor.#start();
    } catch (error) {
      await monitor.close();
      throw error;
    }
    return monitor;
  }

  async #start(): Promise<void> {
    const o = this.#options;
    const webConfig = o.webConfigFile ? await loadWebConfig(o.webConfigFile) : undefined;
    const targets = await this.#source.start();
    if (o.reflector) await this.#startReflector(targets);
    for (const t of targets) await this.#add(t);
    this.#source.on('change', (added, removed) => this.#change(added, removed));
    this.#source.on('error', (error) => o.log(`targets: ${error.message} (the previous targets keep running)`));
    const exporter = new MeshExporter({
      mesh: this.#mesh,
      source: o.name,
      reflector: o.reflector ? () => this.#reflectorCounters() : undefined,
    });
    this.#server = await startMetricsServer({
      host: o.metrics.host,
      port: o.metrics.port,
      ...(webConfig ? { webConfig } : {}),
      metrics: () => exporter.metrics(),
      health: () => this.#health(),
    });
  }

  /** Where /metrics listens (the real port when 0 was asked for). */
  get metricsAddress(): { host: string; port: number } {
    if (!this.#server) throw new Error('the monitor has not started');
    return this.#server.address;
  }

  /** Where the reflector listens, null without one. */
  get reflectorAddress(): { address: string; port: number } | null {
    return this.#reflector ? this.#reflector.address : null;
  }

  targets(): MonitorTarget[] {
    return this.#mesh.targets();
  }

  /** Re-reads the targets file and re-resolves the DNS name now (SIGHUP). */
  reload(): Promise<void> {
    return this.#source.reload();
  }

  /** Stops everything; resolves once every socket is closed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#source.close();
    await this.#server?.close();
    await this.#changes;
    await Promise.allSettled([this.#mesh.close(), this.#reflector?.stop()]);
  }

  #health(): { ok: boolean; detail: string } {
    const n = this.#mesh.targets().length;
    if (this.#closed) return { ok: false, detail: 'stopping' };
    if (this.#options.reflector && !this.#reflector) return { ok: false, detail: 'the reflector is not running' };
    return { ok: true, detail: `probing ${n} target${n === 1 ? '' : 's'}${this.#reflector ? `, reflecting on port ${this.#reflector.address.port}` : ''}` };
  }

  async #add(t: MonitorTarget): Promise<void> {
    try {
      await this.#mesh.add(t);
    } catch (error) {
      this.#options.log(`target ${t.name} (${t.address} port ${t.port}) not probed: ${(error as Error).message}`);
    }
  }

  #change(added: MonitorTarget[], removed: MonitorTarget[]): void {
    this.#changes = this.#changes.then(async () => {
      if (this.#closed) return;
      for (const t of removed) this.#mesh.remove(t);
      for (const t of added) await this.#add(t);
      this.#options.log(`targets: ${added.length} added, ${removed.length} removed, ${this.#mesh.targets().length} probed`);
      if (this.#options.reflector && this.#options.allowTargets) {
        try {
          await this.#startReflector(this.#source.targets);
        } catch (error) {
          this.#options.log(`reflector allow-list not updated: ${(error as Error).message}`);
        }
      }
    });
  }

  /** (Re)starts the reflector; with allowTargets, on the targets' addresses. */
  async #startReflector(targets: readonly MonitorTarget[]): Promise<void> {
    const o = this.#options.reflector!;
    const base = typeof o.allow === 'string' ? [o.allow] : (o.allow ?? []);
    const options: ReflectorOptions = { ...o, ...(this.#options.allowTargets ? { allow: allowListOf(base, targets) } : {}) };
    const previous = this.#reflector;
    if (previous) {
      // The port is the one the fleet probes: free it first, then bind it again.
      const result = await previous.stop();
      this.#reflectorBase = this.#sum(this.#reflectorBase, result);
      this.#reflectorLast = undefined;
      this.#reflector = null;
    }
    const reflector = await startReflector({ ...options, port: previous ? previous.address.port : o.port, progressInterval: '1s' });
    reflector.on('progress', (p) => (this.#reflectorLast = p));
    reflector.on('error', (error) => this.#options.log(`reflector: ${error.message}`));
    this.#reflector = reflector;
  }

  #reflectorCounters(): ReflectorCounters | undefined {
    if (!this.#reflectorLast) return this.#reflectorBase;
    return this.#sum(this.#reflectorBase, this.#reflectorLast);
  }

  /** b's counters plus a's; activeSessions, a level, is b's. */
  #sum(a: ReflectorCounters | undefined, b: ReflectorCounters): ReflectorCounters {
    const out = Object.fromEntries(REFLECTOR_COUNTERS.map((k) => [k, b[k] + (a && k !== 'activeSessions' ? a[k] : 0)]));
    return out as ReflectorCounters;
  }
}
