// The paths the benchmark measures: loopback, and (as root) the lab's veth
// topology, two namespaces joined by one veth pair. The lab's sandbox names,
// tracks and removes what it builds, also what a killed earlier run left.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const LOOPBACK = { name: 'loopback', address: '127.0.0.1', serverNs: null, clientNs: null };

/** Builds the veth path; returns null with the reason when it cannot. */
export function createVethPath() {
  if (process.getuid?.() !== 0) return { path: null, reason: 'needs root for network namespaces' };
  const { Sandbox, removeLeftovers } = require('../../dist/lab/sandbox.js');
  const { topology } = require('../../dist/lab/topologies.js');
  removeLeftovers();
  const sandbox = new Sandbox('bench');
  const remove = () => sandbox.destroy();
  try {
    const built = topology('veth', null).build(sandbox);
    process.on('exit', remove);
    return {
      path: { name: 'veth', address: built.sender.target.address, serverNs: built.reflector.netns, clientNs: built.sender.netns },
      reason: null,
      remove,
    };
  } catch (error) {
    remove();
    return { path: null, reason: `could not build veth namespaces: ${error.message}` };
  }
}
