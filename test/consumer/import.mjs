// An ES module consumer: named imports and the default import come from the
// same module instance as require('rtt-probe'), so both share one addon.
import { createRequire } from 'node:module';
import rtt, { probe, startReflector, wire, METRIC_NAMES } from 'rtt-probe';

const cjs = createRequire(import.meta.url)('rtt-probe');
console.log(
  JSON.stringify({
    sameInstance: probe === cjs.probe && startReflector === cjs.startReflector && wire === cjs.wire && rtt === cjs,
    packetSize: wire.packetSize,
    metrics: METRIC_NAMES.length,
  }),
);
