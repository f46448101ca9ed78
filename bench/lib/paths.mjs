// The paths the benchmark measures: loopback, and (as root) a veth pair
// between two namespaces addressed from 198.18.0.0/15. The namespaces are
// removed afterwards, also when the run is interrupted.
import { execFileSync } from 'node:child_process';

const PREFIX = 'rttp-bench-';
const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });

function removeNamespaces() {
  const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    if (name?.startsWith(PREFIX)) ip('netns', 'delete', name);
  }
}

export const LOOPBACK = { name: 'loopback', address: '127.0.0.1', serverNs: null, clientNs: null };

/** Builds the veth path; returns null with the reason when it cannot. */
export function createVethPath() {
  if (process.getuid?.() !== 0) return { path: null, reason: 'needs root for network namespaces' };
  removeNamespaces();
  const a = `${PREFIX}a`;
  const b = `${PREFIX}b`;
  try {
    ip('netns', 'add', a);
    ip('netns', 'add', b);
    ip('link', 'add', 'veth-bench', 'netns', a, 'type', 'veth', 'peer', 'name', 'veth-bench', 'netns', b);
    for (const [ns, address] of [
      [a, '198.18.0.1/30'],
      [b, '198.18.0.2/30'],
    ]) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'addr', 'add', address, 'dev', 'veth-bench');
      ip('-n', ns, 'link', 'set', 'veth-bench', 'up');
    }
  } catch (error) {
    removeNamespaces();
    return { path: null, reason: `could not build veth namespaces: ${error.message}` };
  }
  process.on('exit', removeNamespaces);
  return { path: { name: 'veth', address: '198.18.0.1', serverNs: a, clientNs: b }, reason: null, remove: removeNamespaces };
}
