/**
 * The monitor's Prometheus exporter: a prom-client Registry holding the
 * process's own metrics and, for the series of series.ts, metric objects
 * whose values come from one mesh snapshot per scrape (every series of one
 * scrape reads the same snapshot). Nothing is kept between scrapes, so a
 * removed target's series go with it.
 */
import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';
import type { ReflectorCounters } from '../counters';
import type { MeshSession, MeshSnapshot, MeshTargetSnapshot } from '../mesh';
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

type Labels = Record<string, string>;
interface Sample {
  metricName?: string;
  labels: Labels;
  value: number;
}

/**
 * What prom-client's Registry reads from a metric (name, help, type and
 * get()); its typings name only its own classes, whose values cannot be set
 * from outside, hence the one cast where these are registered.
 */
class SnapshotMetric {
  readonly aggregator = 'sum';

  constructor(
    readonly series: Series,
    private readonly samples: () => Promise<Sample[]>,
  ) {}

  get name(): string {
    return this.series.name;
  }
  get help(): string {
    return this.series.help;
  }
  get type(): string {
    return this.series.type;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: await this.samples() };
  }
}

export interface ExporterOptions {
  mesh: MeshSession;
  /** The probing node: the source label. */
  source: string;
  /** The monitor's reflector's counters as last reported; undefined: no reflector. */
  reflector?: (() => ReflectorCounters | undefined) | undefined;
}

export class MeshExporter {
  readonly registry = new Registry();
  readonly #options: ExporterOptions;
  #scrape: Promise<MeshSnapshot> | undefined;

  constructor(options: ExporterOptions) {
    this.#options = options;
    collectDefaultMetrics({ register: this.registry });
    const register = (series: Series, samples: () => Promise<Sample[]>) =>
      this.registry.registerMetric(new SnapshotMetric(series, samples) as unknown as Metric);
    register(RTT_SERIES, async () => (await this.#snapshot()).targets.flatMap((t) => this.#histogram(t)));
    for (const s of PROBE_COUNTER_SERIES) {
      register(s, async () => (await this.#snapshot()).targets.map((t) => ({ labels: this.#labels(t), value: t.counters[s.counter] })));
    }
    register(TARGET_UP_SERIES, async () => (await this.#snapshot()).targets.map((t) => ({ labels: this.#labels(t), value: t.up ? 1 : 0 })));
    register(LAST_REPLY_SERIES, async () =>
      (await this.#snapshot()).targets.flatMap((t) => (t.lastReplyNs === null ? [] : [{ labels: this.#labels(t), value: t.lastReplyNs / 1e9 }])),
    );
    if (options.reflector) {
      const read = options.reflector;
      for (const s of REFLECTOR_SERIES) {
        register(s, async () => {
          const counters = read();
          return counters ? [{ labels: { source: options.source }, value: counters[s.counter] }] : [];
        });
      }
    }
  }

  /** The text exposition of every series, from one fresh snapshot. */
  async metrics(): Promise<{ contentType: string; body: string }> {
    try {
      return { contentType: this.registry.contentType, body: await this.registry.metrics() };
    } finally {
      this.#scrape = undefined;
    }
  }

  #snapshot(): Promise<MeshSnapshot> {
    this.#scrape ??= this.#options.mesh.snapshot();
    return this.#scrape;
  }

  #labels(t: MeshTargetSnapshot): Labels {
    return { source: this.#options.source, target: t.target.name, address: t.target.address };
  }

  #histogram(t: MeshTargetSnapshot): Sample[] {
    const samples: Sample[] = [];
    const bounds = this.#options.mesh.bucketBoundsNs;
    for (const [label, metric] of Object.entries(RTT_METRIC_LABELS) as [RttMetricLabel, (typeof RTT_METRIC_LABELS)[RttMetricLabel]][]) {
      const m = t.metrics[metric];
      if (!m) continue;
      const labels = { ...this.#labels(t), metric: label };
      bounds.forEach((bound, i) => {
        samples.push({ metricName: `${RTT_SERIES.name}_bucket`, labels: { ...labels, le: String(bound / 1e9) }, value: m.buckets[i]! });
      });
      samples.push({ metricName: `${RTT_SERIES.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: m.buckets[bounds.length]! });
      samples.push({ metricName: `${RTT_SERIES.name}_sum`, labels, value: m.sumNs / 1e9 });
      samples.push({ metricName: `${RTT_SERIES.name}_count`, labels, value: m.count });
    }
    return samples;
  }
}
