// The smoke test an installed package passes on every supported platform and
// Node: a CommonJS require, a reflector and a probe on loopback, every probe
// answered. Prints what ran as one JSON line: the arch, Node, the addon file
// the process mapped, and the counters.
const { readFileSync } = require('node:fs');
const { probe, startReflector } = require('rtt-probe');

async function main() {
  const count = Number(process.argv[2] ?? 20);
  const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
  try {
    const result = await probe({ host: '127.0.0.1', port: reflector.address.port }, { count, warmup: 0, timeout: '5s' }).result;
    const addons = new Set(
      readFileSync('/proc/self/maps', 'utf8')
        .split('\n')
        .map((line) => line.split(/\s+/)[5] ?? '')
        .filter((file) => file.endsWith('.node')),
    );
    const { sent, received } = result.counters;
    console.log(JSON.stringify({ arch: process.arch, node: process.version, addons: [...addons], sent, received }));
  } finally {
    await reflector.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
