// The paths the benchmark measures: loopback, and (as root) lab topologies
// between two namespaces: veth (one veth pair) and vxlan (an overlay over
// one), whose longer round trip shows how the tools' fixed per-packet costs
// weigh on a slower path. The lab's sandbox names, tracks and removes what it
// builds, also what a killed earlier run left.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const LOOPBACK = { name: 'loopback', address: '127.0.0.1', serverNs: null, clientNs: null };

/** Builds a lab topology as a path; returns null with the reason when it cannot. */
export function createLabPath(name) {
  if (process.getuid?.() !== 0) return { path: null, reason: 'needs root for network namespaces' };
  const { Sandbox, removeLeftovers } = require('../../dist/lab/sandbox.js');
  const { topology } = require('../../dist/lab/topologies.js');
  removeLeftovers();
  const sandbox = new Sandbox(`bench-${name}`);
  const remove = () => sandbox.destroy();
  try {
    const built = topology(name, null).build(sandbox);
    process.on('exit', remove);
    return {
      path: { name, address: built.sender.target.address, serverNs: built.reflector.netns, clientNs: built.sender.netns },
      reason: null,
      remove,
    };
  } catch (error) {
    remove();
    return { path: null, reason: `could not build ${name} namespaces: ${error.message}` };
  }
}
