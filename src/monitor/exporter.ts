/**
 * The monitor's Prometheus exporter. The series of series.ts are written
 * from one mesh snapshot per scrape, in the text format, straight from the
 * snapshot's arrays; prom-client's Registry adds the process's own metrics
 * and gives the content type. (prom-client formats each sample on its own:
 * 1 000 targets, 59 000 samples, took 1-2 s a scrape here.) Nothing is kept
 * between scrapes, so a removed target's series go with it.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ReflectorCounters } from '../counters';
import type { MeshSession, MeshTargetSnapshot } from '../mesh';
import {
  LAST_REPLY_SERIES,
  PROBE_COUNTER_SERIES,
  REFLECTOR_SERIES,
  RTT_METRIC_LABELS,
  RTT_SERIES,
  TARGET_UP_SERIES,
  type RttMetricLabel,
  type Series,
} from './series';

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
function escapeLabel(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function header(s: Series): string {
  return `# HELP ${s.name} ${s.help}\n# TYPE ${s.name} ${s.type}\n`;
}

export interface ExporterOptions {
  mesh: MeshSession;
  /** The probing node: the source label. */
  source: string;
  /** The monitor's reflector's counters as last reported; undefined: no reflector. */
  reflector?: (() => ReflectorCounters | undefined) | undefined;
}

export class MeshExporter {
  /** The process's own metrics (process_*, nodejs_*). */
  readonly registry = new Registry();
  readonly #options: ExporterOptions;
  readonly #source: string;
  readonly #le: string[];

  constructor(options: ExporterOptions) {
    this.#options = options;
    this.#source = escapeLabel(options.source);
    this.#le = [...options.mesh.bucketBoundsNs.map((b) => String(b / 1e9)), '+Inf'];
    collectDefaultMetrics({ register: this.registry });
  }

  /** The text exposition of every series, from one fresh snapshot. */
  async metrics(): Promise<{ contentType: string; body: string }> {
    const snapshot = await this.#options.mesh.snapshot();
    const targets = snapshot.targets.map((t) => ({ t, labels: this.#labels(t) }));
    const out: string[] = [header(RTT_SERIES)];
    for (const { t, labels } of targets) this.#histogram(out, t, labels);
    for (const s of PROBE_COUNTER_SERIES) {
      out.push(header(s));
      for (const { t, labels } of targets) out.push(`${s.name}{${labels}} ${t.counters[s.counter]}\n`);
    }
    out.push(header(TARGET_UP_SERIES));
    for (const { t, labels } of targets) out.push(`${TARGET_UP_SERIES.name}{${labels}} ${t.up ? 1 : 0}\n`);
    out.push(header(LAST_REPLY_SERIES));
    for (const { t, labels } of targets) {
      if (t.lastReplyNs !== null) out.push(`${LAST_REPLY_SERIES.name}{${labels}} ${t.lastReplyNs / 1e9}\n`);
    }
    const reflector = this.#options.reflector?.();
    if (reflector) {
      for (const s of REFLECTOR_SERIES) out.push(header(s), `${s.name}{source="${this.#source}"} ${reflector[s.counter]}\n`);
    }
    out.push(await this.registry.metrics());
    return { contentType: this.registry.contentType, body: out.join('') };
  }

  #labels(t: MeshTargetSnapshot): string {
    return `source="${this.#source}",target="${escapeLabel(t.target.name)}",address="${escapeLabel(t.target.address)}"`;
  }

  #histogram(out: string[], t: MeshTargetSnapshot, labels: string): void {
    const name = RTT_SERIES.name;
    for (const [label, metric] of Object.entries(RTT_METRIC_LABELS) as [RttMetricLabel, (typeof RTT_METRIC_LABELS)[RttMetricLabel]][]) {
      const m = t.metrics[metric];
      if (!m) continue;
      const l = `${labels},metric="${label}"`;
      this.#le.forEach((le, i) => out.push(`${name}_bucket{${l},le="${le}"} ${m.buckets[i]}\n`));
      out.push(`${name}_sum{${l}} ${m.sumNs / 1e9}\n`, `${name}_count{${l}} ${m.count}\n`);
    }
  }
}
