/**
 * Test hosts as network namespaces joined by a veth pair, addressed from the
 * benchmarking ranges (198.18.0.0/15, 2001:2::/48) so they never collide with
 * a real network. Everything is named with one prefix and removed afterwards,
 * and leftovers of a killed earlier run are removed first.
 */
import { execFileSync } from 'node:child_process';
import { isAlive } from '../../src/lab/sandbox';

export const PREFIX = 'rttp-test-';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why namespace tests cannot run here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces (CI runs as root)';
  try {
    ip('-V');
  } catch {
    return 'needs iproute2 (`ip`); .ci/run installs it';
  }
  return null;
}

/** Why tests that filter with nftables inside namespaces cannot run here, or null when they can. */
export function nftUnavailable(): string | null {
  const netns = netnsUnavailable();
  if (netns) return netns;
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'needs nftables (`nft`); .ci/run installs it';
  }
}

/**
 * Removes namespaces of test processes that no longer exist: names are
 * `<prefix><pid>-...`, and test files running at the same time keep theirs.
 */
export function removeLeftovers(prefix = PREFIX): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const owner = new RegExp(`^${prefix}(\\d+)-`).exec(name)?.[1];
    if (name.startsWith(prefix) && (owner === undefined || !isAlive(Number(owner)))) ip('netns', 'delete', name);
  }
}

export interface VethPair {
  a: string;
  b: string;
  addressA: string;
  addressB: string;
  address6A: string;
  address6B: string;
  remove(): void;
}

/** Two namespaces, a and b, joined by one veth pair, IPv4 and IPv6 addressed; named for this process and `tag`. */
export function createVethPair(tag: string, prefix = PREFIX): VethPair {
  const a = `${prefix}${process.pid}-${tag}-a`;
  const b = `${prefix}${process.pid}-${tag}-b`;
  const pair: VethPair = {
    a,
    b,
    addressA: '198.18.0.1',
    addressB: '198.18.0.2',
    address6A: '2001:2::1',
    address6B: '2001:2::2',
    remove() {
      for (const ns of [a, b]) {
        try {
          ip('netns', 'delete', ns);
        } catch {
          // already gone
        }
      }
    },
  };
  try {
    ip('netns', 'add', a);
    ip('netns', 'add', b);
    ip('link', 'add', 'veth-rttp', 'netns', a, 'type', 'veth', 'peer', 'name', 'veth-rttp', 'netns', b);
    for (const [ns, v4, v6] of [
      [a, pair.addressA, pair.address6A],
      [b, pair.addressB, pair.address6B],
    ] as const) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'addr', 'add', `${v4}/30`, 'dev', 'veth-rttp');
      ip('-n', ns, 'addr', 'add', `${v6}/64`, 'dev', 'veth-rttp', 'nodad');
      ip('-n', ns, 'link', 'set', 'veth-rttp', 'up');
    }
  } catch (error) {
    pair.remove();
    throw error;
  }
  return pair;
}

export function namespaceExists(name: string): boolean {
  return ip('netns', 'list').split('\n').some((l) => l.split(' ')[0] === name);
}
