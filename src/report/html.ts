/**
 * One self-contained HTML file from report sources: uPlot's script and
 * stylesheet inlined (read from the installed package at run time), the
 * plots' data as JSON, and tables of what each run recorded (options, host,
 * granted capabilities). It opens without a network. The page exposes what
 * it drew as `window.rttReport` so that a browser test can check every plot.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { reportProtocols } from '../lab/report';
import type { ReportSource } from './inputs';
import { reportPlots, type PlotSection } from './plots';

function uplotAsset(file: string): string {
  const root = path.dirname(require.resolve('uplot/package.json'));
  return readFileSync(path.join(root, 'dist', file), 'utf8');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that cannot end the script element it sits in. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

type Row = [string, string];

/** An object's leaves as dotted keys and printable values. */
function rows(value: unknown, prefix = ''): Row[] {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => rows(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, Array.isArray(value) ? value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ') : String(value)]];
}

function table(caption: string, body: Row[]): string {
  if (body.length === 0) return '';
  const tr = body.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  return `<table><caption>${escapeHtml(caption)}</caption>${tr}</table>`;
}

/** A table of findings shown above the plots (qualify's verdicts); a cell that reads FAIL is marked. */
export interface ReportTable {
  caption: string;
  columns: readonly string[];
  rows: readonly (readonly string[])[];
}

/** What a report leads with before its plots: a heading, lines of text (a summary) and tables. */
export interface ReportPreface {
  heading: string;
  lines: readonly string[];
  tables: readonly ReportTable[];
}

function findingsTable(t: ReportTable): string {
  const head = `<tr>${t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`;
  const body = t.rows.map((r) => `<tr>${r.map((v) => `<td${v === 'FAIL' ? ' class="fail"' : ''}>${escapeHtml(v)}</td>`).join('')}</tr>`).join('');
  return `<table class="findings"><caption>${escapeHtml(t.caption)}</caption>${head}${body}</table>`;
}

function prefaceHtml(p: ReportPreface): string {
  return `<h2>${escapeHtml(p.heading)}</h2>${p.lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}<div>${p.tables.map(findingsTable).join('')}</div>`;
}

function recorded(source: ReportSource): string {
  if (source.kind === 'probe') {
    const r = source.result;
    const counters: Row[] = [
      ['target', `${r.target.address}:${r.target.port}`],
      ['started', r.startedAt],
      ['ended', r.endedAt],
      ['sent', String(r.sent)],
      ['received', String(r.received)],
      ['lost', String(r.lost)],
      ['achieved rate (/s)', String(r.achievedRate)],
      ['stopped early', String(r.stopped)],
    ];
    const missing = Object.entries(r.missing).map(([m, why]): Row => [m, String(why)]);
    const caveats = Object.entries(r.caveats).map(([m, why]): Row => [m, String(why)]);
    return [
      table('run', counters),
      table('options', rows(r.options)),
      table('host', rows(r.host)),
      table('caps granted', rows(r.granted)),
      table('metrics not measured', missing),
      table('caveats', caveats),
    ].join('');
  }
  if (source.kind === 'lab') {
    const r = source.report;
    const status = r.topologies.map((t): Row => [t.name, t.reason ? `${t.status}: ${t.reason}` : `${t.status}, ${t.runs.length} runs`]);
    return [
      table('run', [['started', r.startedAt], ['ended', r.endedAt], ['interrupted', String(r.interrupted)], ['protocols', reportProtocols(r).join(', ')]]),
      table('settings', rows(r.settings)),
      table('topologies', status),
      table('host', rows(r.host)),
      table('caps granted (first run)', rows(r.topologies.find((t) => t.runs.length > 0)?.runs[0]?.sender.granted ?? {})),
    ].join('');
  }
  return table('budget', [['metric', source.metric], ['baseline', source.baseline], ...rows(source.budget.method)]);
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.plots { display: flex; flex-wrap: wrap; gap: 0 1.5em; }
.plot { margin: 0.6em 0; width: 560px; } .plot h3 { font-size: 0.95em; margin: 0.3em 0; min-height: 2.6em; }
.note { color: #8a4b00; }
table { border-collapse: collapse; margin: 0.5em 1em 1em 0; display: inline-table; vertical-align: top; font-size: 12px; }
caption { font-weight: bold; text-align: left; } th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; }
th { font-weight: normal; color: #555; }
.findings th { font-weight: bold; } .fail { color: #b00; font-weight: bold; }
`;

/** Draws every plot of the data element with uPlot; runs in the page. */
const DRAW = `
(function () {
  var data = JSON.parse(document.getElementById('rtt-data').textContent);
  var palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  var drawn = [];
  // Ticks at 1, 10, 100... of x = 1/(1-p) read p0, p90, p99...; the others are left bare.
  function percentiles(u, splits) {
    return splits.map(function (v) { var d = Math.log10(v); return Math.abs(d - Math.round(d)) < 1e-9 ? 'p' + +(100 - 100 / v).toFixed(6) : ''; });
  }
  function fmt(v) { return v == null ? '' : (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3)); }
  data.sections.forEach(function (section, si) {
    section.plots.forEach(function (plot, pi) {
      var el = document.getElementById('plot-' + si + '-' + pi);
      var names = function (u, splits) { return splits.map(function (v) { return Number.isInteger(v) ? (plot.x.names[v] || '') : ''; }); };
      var bars = plot.series.some(function (s) { return s.style === 'bars'; });
      var series = [{ label: plot.x.label, value: function (u, v) { return plot.x.names ? (plot.x.names[v] || '') : fmt(v); } }];
      plot.series.forEach(function (s) {
        var colour = palette[s.group % palette.length];
        var spec = { label: s.label, stroke: colour, width: 1.5, spanGaps: true, value: function (u, v) { return fmt(v); } };
        if (s.style === 'step') spec.paths = uPlot.paths.stepped({ align: 1 });
        if (s.style === 'bars') { spec.paths = uPlot.paths.bars({ size: [0.6, 80] }); spec.fill = colour + '88'; spec.points = { show: false }; }
        if (s.style === 'points') { spec.paths = function () { return null; }; spec.points = { show: true, size: 8, fill: colour }; }
        if (s.style === 'bound') { spec.width = 0.5; spec.dash = [4, 4]; }
        series.push(spec);
      });
      var opts = {
        width: 560,
        height: 300,
        series: series,
        legend: { live: false },
        scales: {
          x: plot.x.log ? { time: false, distr: 3 } : { time: false, range: plot.x.names ? [-0.5, plot.x.names.length - 0.5] : undefined },
          // Bars start at zero, or their heights mislead.
          y: plot.y.log ? { distr: 3 } : bars ? { range: function (u, min, max) { return [0, max * 1.05]; } } : {},
        },
        axes: [
          { label: plot.x.label, values: plot.x.names ? names : plot.x.percentiles ? percentiles : undefined },
          { label: plot.y.label, size: 70 },
        ],
        bands: plot.bands.map(function (b) { return { series: [b[0] + 1, b[1] + 1], fill: palette[plot.series[b[0]].group % palette.length] + '22' }; }),
      };
      if (plot.x.names) opts.axes[0].splits = function () { return plot.x.values; };
      var columns = [plot.x.values].concat(plot.series.map(function (s) { return s.values; }));
      var u = new uPlot(opts, columns, el);
      drawn.push({
        title: plot.title,
        series: plot.series.map(function (s) { return s.label; }),
        colours: plot.series.map(function (s) { return palette[s.group % palette.length]; }),
        lengths: columns.map(function (c) { return c.length; }),
        // Canvas rows of each value once drawn, so that a check can tell a series hidden under an equal later one from one not drawn.
        rows: function () { return plot.series.map(function (s) { return s.values.map(function (v) { return v == null ? null : u.valToPos(v, 'y', true); }); }); },
        canvas: u.ctx.canvas,
      });
    });
  });
  window.rttReport = { plots: drawn };
})();
`;

function sectionHtml(section: PlotSection, si: number): string {
  const notes = section.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('');
  const plots = section.plots.map((p, pi) => `<div class="plot"><h3>${escapeHtml(p.title)}</h3><div id="plot-${si}-${pi}"></div></div>`).join('');
  return `<h2>${escapeHtml(section.title)}</h2>${notes}<div class="plots">${plots}</div>`;
}

/**
 * The whole page for the sources, in the order given; a plot overlays every
 * source that has its data. A preface, when given, comes before the plots.
 */
export function htmlReport(
  sources: readonly ReportSource[],
  title = `rtt-probe report: ${sources.map((s) => s.label).join(', ')}`,
  preface: ReportPreface | null = null,
): string {
  const sections = reportPlots(sources);
  const runs = sources.map((s) => `<h3>${escapeHtml(s.label)} (${s.kind})</h3>${recorded(s)}`).join('');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${uplotAsset('uPlot.min.css')}</style><style>${STYLE}</style>`,
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    preface ? prefaceHtml(preface) : '',
    sections.map(sectionHtml).join(''),
    `<h2>What the runs recorded</h2>${runs}`,
    `<script id="rtt-data" type="application/json">${scriptJson({ sections })}</script>`,
    `<script>${uplotAsset('uPlot.iife.min.js')}</script>`,
    `<script>${DRAW}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
