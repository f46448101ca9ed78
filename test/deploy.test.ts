/**
 * The deployment files (deploy/): no cluster, registry or container engine
 * is reachable here, so the Kubernetes manifests are validated with the
 * kubernetes-models schemas and checked against each other (ports, labels,
 * the DNS name the monitors resolve), the Dockerfile's build stage runs
 * outside a container and the runtime stage's entrypoint runs from what it
 * copied, and the Grafana dashboard's queries name only the monitor's series.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonSet } from 'kubernetes-models/apps/v1';
import { Service, ServiceAccount } from 'kubernetes-models/v1';
import { PodMonitor, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { parseAllDocuments } from 'yaml';
import { RTT_SERIES, SERIES } from '../src/monitor/series';
import { DASHBOARD_PATH, DASHBOARD_VARIABLES, dashboardQueries } from './support/dashboard';
import { execForm, parseDockerfile, runStage, type Stage } from './support/dockerfile';

const ROOT = path.join(__dirname, '..');
const KUBE = path.join(ROOT, 'deploy', 'kubernetes');

// Manifests are checked against their schemas, then read by path.
type Manifest = Record<string, any>;

/** The models the manifests' kinds validate against. */
const MODELS: Array<{ apiVersion: string; kind: string; new (data: never): { validate(): void } }> = [ServiceAccount, Service, DaemonSet, PodMonitor, ServiceMonitor];

function validate(obj: Manifest): void {
  const Model = MODELS.find((m) => m.apiVersion === obj.apiVersion && m.kind === obj.kind);
  if (!Model) throw new Error(`no model for ${obj.apiVersion} ${obj.kind}: add it to this test`);
  new Model(obj as never).validate();
}

const files = readdirSync(KUBE).filter((f) => f.endsWith('.yaml'));
const manifests = new Map<string, Manifest>(
  files.map((f) => {
    const docs = parseAllDocuments(readFileSync(path.join(KUBE, f), 'utf8'));
    return [f, docs.length === 1 && docs[0]!.errors.length === 0 ? (docs[0]!.toJS() as Manifest) : { parseErrors: docs.flatMap((d) => d.errors.map(String)) }];
  }),
);
const byKind = (kind: string) => [...manifests.values()].find((m) => m.kind === kind)!;
const daemonSet = byKind('DaemonSet');
const pod = daemonSet.spec.template.spec;
const container = pod.containers[0];
const arg = (flag: string) => (container.args as string[]).find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
const portOf = (name: string) => (container.ports as Manifest[]).find((p) => p.name === name);
const dockerfile = parseDockerfile(readFileSync(path.join(ROOT, 'deploy', 'Dockerfile'), 'utf8'));
const runtime = dockerfile.at(-1)!;
const step = (stage: Stage, instruction: string) => stage.steps.filter((s) => s.instruction === instruction);

describe('the Kubernetes manifests', () => {
  it.each(files.filter((f) => f !== 'kustomization.yaml'))('%s is one YAML document that validates against its kind\'s schema', (file) => {
    const obj = manifests.get(file)!;
    expect(obj.parseErrors).toBeUndefined();
    expect(() => validate(obj)).not.toThrow();
    // Namespace-free: kubectl apply -n (or kustomize) places them.
    expect(obj.metadata.namespace).toBeUndefined();
  });

  it('a manifest with a wrong field type fails validation (the check can fail)', () => {
    const broken = structuredClone(byKind('Service'));
    broken.spec.ports[0].port = 'stamp';
    expect(() => validate(broken)).toThrow(/port must be integer/);
  });

  it('the kustomization lists the monitor\'s own objects; the Prometheus Operator ones are applied apart', () => {
    const resources = manifests.get('kustomization.yaml')!.resources as string[];
    expect(resources.sort()).toEqual(['daemonset.yaml', 'service.yaml', 'serviceaccount.yaml']);
    for (const r of resources) expect(existsSync(path.join(KUBE, r))).toBe(true);
  });

  it('the headless Service selects the DaemonSet\'s pods and names its ports, which the DaemonSet declares', () => {
    const service = byKind('Service');
    expect(service.spec.clusterIP).toBe('None');
    expect(daemonSet.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(daemonSet.spec.selector.matchLabels).toEqual(service.spec.selector);
    for (const p of service.spec.ports) expect(portOf(p.targetPort)).toMatchObject({ containerPort: p.port, protocol: p.protocol });
    expect(portOf('stamp')!.protocol).toBe('UDP');
  });

  it('the monitors find each other through that Service\'s DNS name, and listen where the ports say', () => {
    expect(arg('--targets-dns')).toBe(`${byKind('Service').metadata.name}.$(POD_NAMESPACE).svc.$(CLUSTER_DOMAIN)`);
    const env = new Set((container.env as Manifest[]).map((e) => e.name));
    for (const variable of ['NODE_NAME', 'POD_NAMESPACE', 'CLUSTER_DOMAIN']) expect(env).toContain(variable);
    expect(arg('--name')).toBe('$(NODE_NAME)');
    expect(arg('--reflect')).toBe(`0.0.0.0:${portOf('stamp')!.containerPort}`);
    expect(arg('--targets-port')).toBe(String(portOf('stamp')!.containerPort));
    // Prometheus and the kubelet come to the pod's IP: not the default 127.0.0.1.
    expect(arg('--metrics')).toBe(`0.0.0.0:${portOf('metrics')!.containerPort}`);
  });

  it('runs as the image\'s non-root user, read-only, with every capability dropped and none added', () => {
    const uid = Number(step(runtime, 'USER')[0]!.args.split(':')[0]);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: uid });
    expect(uid).toBeGreaterThan(0);
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(pod.hostNetwork).toBeUndefined();
    // An unprivileged port needs no NET_BIND_SERVICE.
    expect(portOf('stamp')!.containerPort).toBeGreaterThanOrEqual(1024);
  });

  it('is probed on /healthz, and has requests and limits', () => {
    for (const probe of [container.livenessProbe, container.readinessProbe]) expect(probe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(Object.keys(container.resources.requests).sort()).toEqual(['cpu', 'memory']);
    expect(Object.keys(container.resources.limits).sort()).toEqual(['cpu', 'memory']);
  });

  it('the PodMonitor and the ServiceMonitor scrape the metrics port of those pods', () => {
    const podMonitor = byKind('PodMonitor');
    const serviceMonitor = byKind('ServiceMonitor');
    expect(podMonitor.spec.selector.matchLabels).toEqual(daemonSet.spec.selector.matchLabels);
    expect(byKind('Service').metadata.labels).toMatchObject(serviceMonitor.spec.selector.matchLabels);
    expect(podMonitor.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
    expect(serviceMonitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
  });
});

describe('the Dockerfile', () => {
  it('builds in a node:20-bookworm stage and runs from node:20-bookworm-slim, copying only from the build', () => {
    expect(dockerfile.map((s) => [s.image, s.name])).toEqual([
      ['node:20-bookworm', 'build'],
      ['node:20-bookworm-slim', undefined],
    ]);
    expect(step(runtime, 'COPY').every((s) => s.from === 'build')).toBe(true);
    expect(step(runtime, 'RUN')).toEqual([]);
  });

  it('runs as a numeric non-root user, the monitor command as entrypoint', () => {
    expect(step(runtime, 'USER').map((s) => s.args)).toEqual(['1000:1000']);
    expect(execForm(step(runtime, 'ENTRYPOINT')[0]!)).toEqual(['node', 'dist/cli/main.js', 'monitor']);
  });

  describe('its steps, run outside a container', () => {
    let tmp = '';
    afterEach(() => {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it(
      'build the addon and dist from a clean checkout, and the runtime stage\'s copy runs the entrypoint',
      () => {
        tmp = mkdtempSync(path.join(os.tmpdir(), 'rtt-probe-docker-'));
        // The build context: the files a checkout has (tracked, and new ones git does not ignore), as the .dockerignore leaves them.
        const context = path.join(tmp, 'context');
        const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
        for (const file of listed.split('\0').filter((f) => f && existsSync(path.join(ROOT, f)))) {
          mkdirSync(path.dirname(path.join(context, file)), { recursive: true });
          cpSync(path.join(ROOT, file), path.join(context, file));
        }
        const build = dockerfile[0]!;
        const buildRoot = path.join(tmp, 'build');
        // npm's cache stands in for the registry; nothing else differs from the image build.
        runStage(build, { context, root: buildRoot, stages: {}, env: { npm_config_prefer_offline: 'true' }, timeoutMs: 600_000 });
        const app = path.join(buildRoot, 'app');
        expect(existsSync(path.join(app, 'build/Release/rtt_probe.node'))).toBe(true);
        expect(existsSync(path.join(app, 'node_modules/typescript')), 'npm prune --omit=dev left the dev dependencies').toBe(false);

        const run = runStage(runtime, { context, root: path.join(tmp, 'runtime'), stages: { build: buildRoot }, env: {}, timeoutMs: 60_000 });
        expect(readdirSync(run.dir).sort()).toEqual(['build', 'dist', 'node_modules', 'package.json', 'schema']);
        const [command, ...args] = execForm(step(runtime, 'ENTRYPOINT')[0]!);
        const env = { PATH: process.env.PATH, ...run.env };
        const help = spawnSync(command === 'node' ? process.execPath : command!, [...args, '--help'], { cwd: run.dir, env, encoding: 'utf8', timeout: 30_000 });
        expect(help.status, help.stderr).toBe(0);
        expect(help.stdout).toMatch(/Usage: rtt-probe monitor/);
        // The addon the image carries loads from there, without the checkout's node_modules or build.
        const load = spawnSync(process.execPath, ['-e', "require('./dist/binding.js').binding(); console.log('loaded')"], { cwd: run.dir, env, encoding: 'utf8' });
        expect(load.stdout.trim(), load.stderr).toBe('loaded');
      },
      900_000,
    );
  });
});

/** What a query may name: every series of src/monitor/series.ts, a histogram by its _bucket, _sum and _count. */
const HISTOGRAM = RTT_SERIES.name;
const QUERYABLE = new Set(SERIES.flatMap((s) => (s.type === 'histogram' ? ['_bucket', '_sum', '_count'].map((suffix) => `${s.name}${suffix}`) : [s.name])));

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8'));
  const queries = dashboardQueries();
  const exprs = (panelType: string) => (dashboard.panels as Manifest[]).filter((p) => p.type === panelType).flatMap((p) => p.targets.map((t: Manifest) => t.expr as string));

  it('is a recent Grafana schema with the variables source and target drawn from the series', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const variables = Object.fromEntries((dashboard.templating.list as Manifest[]).map((v) => [v.name, v]));
    expect(variables.source.query.query).toBe('label_values(rtt_probe_target_up, source)');
    expect(variables.target.query.query).toBe('label_values(rtt_probe_target_up{source=~"$source"}, target)');
  });

  it('every panel has a query, and each names only the monitor\'s series and uses only $source, $target and $__rate_interval', () => {
    expect(queries.length).toBeGreaterThanOrEqual(8);
    for (const { panel, expr } of queries) {
      expect(expr, panel).not.toBe('');
      const names = expr.match(/\brtt_probe_[a-z_]+/g) ?? [];
      expect(names.length, panel).toBeGreaterThan(0);
      for (const name of names) expect(QUERYABLE, `${panel}: ${name}`).toContain(name);
      for (const variable of expr.match(/\$\w+/g) ?? []) expect(DASHBOARD_VARIABLES, `${panel}: ${variable}`).toContain(variable.slice(1));
    }
  });

  it('has a latency heatmap of rtt.user and of rtt.kernel from the histogram buckets', () => {
    const heatmaps = exprs('heatmap');
    for (const metric of ['user', 'kernel']) expect(heatmaps.some((e) => e.includes(`${HISTOGRAM}_bucket`) && e.includes(`metric="${metric}"`))).toBe(true);
  });

  it('shows p50 and p99 through histogram_quantile, the loss rate, and which targets are up', () => {
    const all = queries.map((q) => q.expr);
    for (const q of ['0.5', '0.99']) expect(all.some((e) => e.startsWith(`histogram_quantile(${q}, `))).toBe(true);
    expect(all.some((e) => /rtt_probe_probes_lost_total.*\/.*rtt_probe_probes_sent_total/.test(e))).toBe(true);
    expect(exprs('table').some((e) => e.startsWith('rtt_probe_target_up{'))).toBe(true);
  });
});
