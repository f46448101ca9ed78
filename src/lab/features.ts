/**
 * What this kernel and host can build, found by trying: each link type is
 * created once in a scratch namespace (modules load on demand, and a kernel
 * with them built in has no /proc/modules to read), a TUN device is created
 * and proxy ARP switched on there, and an nftables NAT table is loaded. A
 * missing feature is a reason, never an error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Sandbox } from './sandbox';
import { LabError, hasCommand, hasLabPrivileges, ipIn, nft, sysctl } from './system';

export const FEATURES = ['veth', 'bridge', 'macvlan', 'ipvlan-l2', 'ipvlan-l3', 'vxlan', 'ipip', 'proxy-arp', 'tun', 'nftables'] as const;
export type Feature = (typeof FEATURES)[number];

/** For each feature: null when available, otherwise why not. */
export type FeatureSupport = Record<Feature, string | null>;

type LinkFeature = Exclude<Feature, 'proxy-arp' | 'tun' | 'nftables'>;

const LINK_TRIALS: Record<LinkFeature, { kind: string; args: string[] }> = {
  veth: { kind: 'veth', args: ['t-veth0', 'type', 'veth', 'peer', 'name', 't-veth1'] },
  bridge: { kind: 'bridge', args: ['t-br', 'type', 'bridge'] },
  macvlan: { kind: 'macvlan', args: ['t-mv', 'link', 't-veth0', 'type', 'macvlan', 'mode', 'bridge'] },
  'ipvlan-l2': { kind: 'ipvlan', args: ['t-ipvl', 'link', 't-veth0', 'type', 'ipvlan', 'mode', 'l2'] },
  'ipvlan-l3': { kind: 'ipvlan', args: ['t-ipvl', 'link', 't-veth0', 'type', 'ipvlan', 'mode', 'l3'] },
  vxlan: { kind: 'vxlan', args: ['t-vx', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'dev', 't-veth0'] },
  ipip: { kind: 'ipip', args: ['t-ipip', 'type', 'ipip', 'local', '198.18.255.1', 'remote', '198.18.255.2'] },
};

const NAT_TRIAL = `table ip trial {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    udp dport 8862 dnat to 198.18.255.2:862
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 198.18.255.0/24 masquerade
  }
}
`;

function reasonFor(kind: string, error: LabError): string {
  return /Unknown device type|not supported/i.test(error.detail)
    ? `kernel lacks ${kind} (ip link add type ${kind}: ${error.detail})`
    : `cannot create a ${kind} link here (${error.message})`;
}

/** Proxy ARP on the veth left by the link trials, as calico sets it on each pod's host-side veth. */
function proxyArpSupport(netns: string, veth: string | null): string | null {
  if (veth !== null) return `needs a veth link to answer ARP on, and ${veth}`;
  try {
    sysctl(netns, 'net.ipv4.conf.t-veth0.proxy_arp', '1');
    return null;
  } catch (error) {
    return `cannot switch on proxy ARP (net.ipv4.conf.<link>.proxy_arp: ${(error as LabError).detail})`;
  }
}

/** A TUN device created in the namespace, as the lab's forwarder creates one. */
function tunSupport(netns: string): string | null {
  if (!existsSync('/dev/net/tun')) return 'kernel lacks tun: there is no /dev/net/tun (load the module: modprobe tun)';
  try {
    ipIn(netns, 'tuntap', 'add', 'dev', 't-tun', 'mode', 'tun');
    ipIn(netns, 'link', 'delete', 't-tun');
    return null;
  } catch (error) {
    return `cannot create a TUN device here (${(error as LabError).message})`;
  }
}

function nftablesSupport(netns: string): string | null {
  if (!hasCommand('nft')) return 'needs nftables: the nft command is not installed (apt-get install nftables)';
  try {
    nft(netns, NAT_TRIAL);
    return null;
  } catch (error) {
    return `kernel lacks nftables NAT (${(error as LabError).detail})`;
  }
}

/** Tries every feature in a scratch namespace that is removed afterwards. */
export function detectFeatures(owner = process.pid): FeatureSupport {
  const sandbox = new Sandbox('detect', owner);
  try {
    const netns = sandbox.namespace('scratch');
    const support = {} as FeatureSupport;
    for (const [feature, trial] of Object.entries(LINK_TRIALS) as Array<[LinkFeature, { kind: string; args: string[] }]>) {
      if (feature !== 'veth' && support.veth !== null && trial.args.includes('t-veth0')) {
        support[feature] = `needs a veth parent link, and ${support.veth}`;
        continue;
      }
      try {
        ipIn(netns, 'link', 'add', ...trial.args);
        support[feature] = null;
        // The veth pair stays as the parent of later trials; everything else goes, so modes cannot clash.
        if (feature !== 'veth') ipIn(netns, 'link', 'delete', trial.args[0]!);
      } catch (error) {
        support[feature] = reasonFor(trial.kind, error as LabError);
      }
    }
    support['proxy-arp'] = proxyArpSupport(netns, support.veth);
    support.tun = tunSupport(netns);
    support.nftables = nftablesSupport(netns);
    return support;
  } finally {
    sandbox.destroy();
  }
}

/** What the lab can build here, as `rtt-probe caps` reports it: null features with the reason when they were not detected. */
export interface LabFeatures {
  features: FeatureSupport | null;
  featuresUnavailable: string | null;
}

/** Detects the features where this process may create a namespace (root), and says why not elsewhere. */
export function labFeatures(): LabFeatures {
  if (!hasLabPrivileges(readFileSync('/proc/self/status', 'utf8'))) {
    return { features: null, featuresUnavailable: 'needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to try each link type in a scratch namespace' };
  }
  try {
    return { features: detectFeatures(), featuresUnavailable: null };
  } catch (error) {
    return { features: null, featuresUnavailable: (error as Error).message };
  }
}
