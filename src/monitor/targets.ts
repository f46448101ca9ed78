/**
 * The monitor's targets: a JSON or YAML file (reloaded when it changes and on
 * SIGHUP) and/or every A/AAAA record of a DNS name (a Kubernetes headless
 * Service), re-resolved periodically. A TargetSource holds the current set
 * and emits what was added and removed, so the session keeps probing the
 * targets that stayed.
 */
import { promises as dns } from 'node:dns';
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { RttProbeError } from '../errors';
import { isMapping, parseYaml } from '../yaml-input';

/** One host the monitor probes. Identity is name + address + port. */
export interface MonitorTarget {
  name: string;
  address: string;
  port: number;
}

/** A targets file (or DNS answer) that cannot be used; the message names the file and the entry. */
export class TargetsError extends RttProbeError {
  declare readonly code: 'ERR_INVALID_TARGETS';

  constructor(message: string) {
    super(message, 'ERR_INVALID_TARGETS');
    this.name = 'TargetsError';
  }
}

const TARGET_KEYS = ['name', 'address', 'port'] as const;
const SHAPE = 'expected {"targets":[{"name":"self","address":"127.0.0.1","port":862}]}';

/**
 * Parses a targets file: JSON or YAML (YAML reads JSON too), `source` names it
 * in errors. `port` may be left out: it is then `defaultPort`. Addresses are
 * IP literals; a DNS name belongs in --targets-dns.
 */
export function parseTargets(text: string, source: string, defaultPort: number): MonitorTarget[] {
  const doc = parseYaml(text, (problem) => new TargetsError(`${source}: not JSON or YAML (${problem}); ${SHAPE}`));
  if (!isMapping(doc) || !Array.isArray(doc.targets)) throw new TargetsError(`${source}: no "targets" list; ${SHAPE}`);
  const extra = Object.keys(doc).filter((k) => k !== 'targets');
  if (extra.length > 0) throw new TargetsError(`${source}: unknown key ${extra.map((k) => `"${k}"`).join(', ')} at the top; only "targets" is read`);

  const byName = new Map<string, number>();
  return doc.targets.map((entry: unknown, i: number) => {
    const at = (what: string) => new TargetsError(`${source}: targets[${i}]${isMapping(entry) && typeof entry.name === 'string' ? ` ("${entry.name}")` : ''}: ${what}`);
    if (!isMapping(entry)) throw at(`not an object; ${SHAPE}`);
    const unknown = Object.keys(entry).filter((k) => !(TARGET_KEYS as readonly string[]).includes(k));
    if (unknown.length > 0) throw at(`unknown key ${unknown.map((k) => `"${k}"`).join(', ')}; a target has ${TARGET_KEYS.join(', ')}`);
    const { name, address, port = defaultPort } = entry;
    if (typeof name !== 'string' || name.trim() === '') throw at('"name" is missing or empty; give each target a unique name');
    if (typeof address !== 'string' || address === '') throw at('"address" is missing; give an IPv4 or IPv6 address');
    if (net.isIP(address) === 0) throw at(`"address" ${JSON.stringify(address)} is not an IP address; give an IPv4 or IPv6 address (a DNS name goes to --targets-dns)`);
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw at(`"port" ${JSON.stringify(port)} is not an integer from 1 to 65535`);
    const first = byName.get(name);
    if (first !== undefined) throw at(`name "${name}" is taken by targets[${first}]; names label the series, so each must be unique`);
    byName.set(name, i);
    return { name, address, port };
  });
}

/** What resolves a DNS name: node:dns's promises Resolver, or one pointed at other servers (setServers). */
export type TargetResolver = Pick<dns.Resolver, 'resolve4' | 'resolve6'>;

export interface TargetSourceOptions {
  /** A targets file (JSON or YAML), watched for changes. */
  file?: string;
  /** A DNS name whose every A and AAAA record is a target, named by its address. */
  dns?: string;
  /** The port of the DNS targets. */
  dnsPort: number;
  /** How often the DNS name is resolved again (default 30 s). */
  dnsIntervalMs?: number;
  /** The port of file targets that name none. */
  defaultPort: number;
  /** Resolves the DNS name (default: a node:dns Resolver using the system's servers). */
  resolver?: TargetResolver;
}

export interface TargetSourceEvents {
  change: [added: MonitorTarget[], removed: MonitorTarget[]];
  error: [error: Error];
}

/** Editors and Kubernetes replace a file in a few steps (write, rename, symlink swap): one reload after they settle. */
const SETTLE_MS = 100;
const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND']);

const identity = (t: MonitorTarget) => `${t.name}\0${t.address}\0${t.port}`;

/**
 * The current targets from a file and/or a DNS name. `start()` gives the
 * initial set; afterwards 'change' carries what was added and removed, and a
 * bad reload keeps the previous set and emits 'error'.
 */
export class TargetSource extends EventEmitter<TargetSourceEvents> {
  private readonly options: TargetSourceOptions;
  private readonly resolver: TargetResolver;
  private current = new Map<string, MonitorTarget>();
  private watcher: FSWatcher | undefined;
  private settle: NodeJS.Timeout | undefined;
  private dnsTimer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(options: TargetSourceOptions) {
    super();
    if (options.file === undefined && options.dns === undefined) throw new TargetsError('no targets: give a targets file, a DNS name, or both');
    this.options = options;
    this.resolver = options.resolver ?? new dns.Resolver();
  }

  /** The targets now, in file order then DNS order. */
  get targets(): MonitorTarget[] {
    return [...this.current.values()];
  }

  /** Reads the file and resolves the name once, then watches both. Throws when the file is bad or DNS fails (no records is an empty set). */
  async start(): Promise<MonitorTarget[]> {
    this.current = new Map((await this.read()).map((t) => [identity(t), t]));
    const { file } = this.options;
    if (file !== undefined && !this.closed) {
      // The directory, not the file: a rename over the file would end a watch on it.
      this.watcher = watch(path.dirname(file), () => {
        clearTimeout(this.settle);
        this.settle = setTimeout(() => void this.reload(), SETTLE_MS);
      });
      this.watcher.on('error', (error) => this.emit('error', new TargetsError(`cannot watch ${file}: ${error.message}`)));
    }
    if (this.options.dns !== undefined) this.scheduleDns();
    return this.targets;
  }

  /** Reads the file and resolves the name again (what SIGHUP does); a failure keeps the previous set and emits 'error'. */
  reload(): Promise<void> {
    this.queue = this.queue.then(async () => {
      if (this.closed) return;
      try {
        this.apply(await this.read());
      } catch (error) {
        if (!this.closed) this.emit('error', error as Error);
      }
    });
    return this.queue;
  }

  /** Stops watching and resolving; no event comes after it. */
  close(): void {
    this.closed = true;
    this.watcher?.close();
    clearTimeout(this.settle);
    clearTimeout(this.dnsTimer);
  }

  private scheduleDns(): void {
    if (this.closed) return;
    this.dnsTimer = setTimeout(() => void this.reload().then(() => this.scheduleDns()), this.options.dnsIntervalMs ?? 30_000);
    // The metrics server keeps a monitor alive; a re-resolution alone must not.
    this.dnsTimer.unref();
  }

  private apply(next: MonitorTarget[]): void {
    const nextById = new Map(next.map((t) => [identity(t), t]));
    const added = next.filter((t) => !this.current.has(identity(t)));
    const removed = [...this.current].filter(([id]) => !nextById.has(id)).map(([, t]) => t);
    this.current = nextById;
    if (added.length > 0 || removed.length > 0) this.emit('change', added, removed);
  }

  private async read(): Promise<MonitorTarget[]> {
    const [fromFile, fromDns] = await Promise.all([this.readTargetsFile(), this.resolve()]);
    const names = new Set(fromFile.map((t) => t.name));
    const clash = fromDns.find((t) => names.has(t.name));
    if (clash) throw new TargetsError(`${this.options.file}: target name "${clash.name}" is also an address of ${this.options.dns}; name file targets other than the DNS targets' addresses`);
    return [...fromFile, ...fromDns];
  }

  private async readTargetsFile(): Promise<MonitorTarget[]> {
    const { file, defaultPort } = this.options;
    if (file === undefined) return [];
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new TargetsError(`cannot read targets file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}): ${(error as Error).message}`);
    }
    return parseTargets(text, file, defaultPort);
  }

  private async resolve(): Promise<MonitorTarget[]> {
    const { dns: name, dnsPort } = this.options;
    if (name === undefined) return [];
    const records = async (resolve: (n: string) => Promise<string[]>) => {
      try {
        return await resolve(name);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'error';
        // A headless Service with no ready pods has no records: an empty set, not a failure.
        if (NO_RECORDS.has(code)) return [];
        throw new TargetsError(`cannot resolve ${name} (${code}); check the name and the DNS servers`);
      }
    };
    const [v4, v6] = await Promise.all([records((n) => this.resolver.resolve4(n)), records((n) => this.resolver.resolve6(n))]);
    return [...v4.sort(), ...v6.sort()].map((address) => ({ name: address, address, port: dnsPort }));
  }
}
