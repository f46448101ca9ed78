/**
 * The Grafana dashboard's queries (deploy/grafana/rtt-probe-dashboard.json),
 * for the tests that check them: every panel's targets[].expr, and the same
 * with the dashboard's variables ($source, $target, $__rate_interval)
 * replaced, ready for a Prometheus HTTP API query.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const DASHBOARD_PATH = path.join(__dirname, '..', '..', 'deploy', 'grafana', 'rtt-probe-dashboard.json');

export interface DashboardQuery {
  panel: string;
  expr: string;
}

/** The variables a panel query may use. */
export const DASHBOARD_VARIABLES = ['source', 'target', '__rate_interval'] as const;

interface Panel {
  title: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

export function dashboardQueries(): DashboardQuery[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as { panels: Panel[] };
  const flat = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...flat(p.panels ?? [])]);
  return flat(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));
}

/** An expression with the variables given values: a regex for $source and $target (".+" is Grafana's "All" here), a duration for $__rate_interval. */
export function substitute(expr: string, values: { source: string; target: string; rateInterval: string }): string {
  return expr.replaceAll('$source', values.source).replaceAll('$target', values.target).replaceAll('$__rate_interval', values.rateInterval);
}
