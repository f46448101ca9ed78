// One mesh probing many targets at a low rate, as a fleet monitor does: the
// process's CPU time per second and RSS per target while steady, the cost of
// one Prometheus scrape, then RSS sampled while 10% of the targets are
// replaced every few seconds (it must stay flat). Run by bench/run.mjs's
// `monitor` section inside a namespace whose reflector answers on every
// address given; prints one JSON line.
//
//   node bench/mesh-scale.mjs --addresses 198.18.4.1,... --rate 10 --steady 10 --churn 30
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { startMesh } = require('../dist/index.js');
const { MeshExporter } = require('../dist/monitor/exporter.js');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const addresses = option('--addresses', '127.0.0.1').split(',');
const rate = Number(option('--rate', 10));
const steadyS = Number(option('--steady', 10));
const churnS = Number(option('--churn', 30));
const churnEveryS = 3;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const cpuS = (u) => (u.user + u.system) / 1e6;

const rssBefore = process.memoryUsage().rss;
const mesh = startMesh({ rate });
const exporter = new MeshExporter({ mesh, source: 'bench' });
let generation = 0;
const targetAt = (i) => ({ name: `t${i}-g${generation}`, address: addresses[i], port: 862 });
const live = addresses.map((_, i) => targetAt(i));
for (const t of live) await mesh.add(t);
await sleep(3000);  // every target started and settled

const rssSteadyStart = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
await sleep(steadyS * 1000);
const cpuPerS = cpuS(process.cpuUsage(cpu0)) / (Number(process.hrtime.bigint() - t0) / 1e9);
const rssSteady = process.memoryUsage().rss;

const scrapes = [];
let seriesBytes = 0;
for (let i = 0; i < 5; ++i) {
  const s = process.hrtime.bigint();
  seriesBytes = (await exporter.metrics()).body.length;
  scrapes.push(Number(process.hrtime.bigint() - s) / 1e6);
}
const steady = await mesh.snapshot();
const sum = (k) => steady.targets.reduce((a, t) => a + t.counters[k], 0);

// Churn: every few seconds, 10% of the targets go and as many new ones come.
const rss = [];
const churnStart = Date.now();
let replaced = 0;
while (Date.now() - churnStart < churnS * 1000) {
  ++generation;
  const n = Math.ceil(live.length / 10);
  for (let k = 0; k < n; ++k) {
    const i = Math.floor(Math.random() * live.length);
    mesh.remove(live[i]);
    live[i] = targetAt(i);
    await mesh.add(live[i]);
    ++replaced;
  }
  await exporter.metrics();  // scraped as Prometheus would, so removed series are dropped too
  await sleep(churnEveryS * 1000);
  rss.push(process.memoryUsage().rss);
}
const result = await mesh.close();
console.log(
  JSON.stringify({
    targets: addresses.length,
    rate,
    steadySeconds: steadyS,
    cpuCoresTotal: cpuPerS,
    meshThreadCpuNs: result.cpuNs,
    cpuPerTargetPercent: (cpuPerS * 100) / addresses.length,
    rssBeforeBytes: rssBefore,
    rssSteadyStartBytes: rssSteadyStart,
    rssSteadyBytes: rssSteady,
    rssPerTargetBytes: (rssSteady - rssBefore) / addresses.length,
    scrapeMsMedian: scrapes.sort((a, b) => a - b)[2],
    scrapeBytes: seriesBytes,
    sent: sum('sent'),
    received: sum('received'),
    lost: sum('lost'),
    churnSeconds: churnS,
    replaced,
    churnRss: rss,
  }),
);
process.exit(0);
