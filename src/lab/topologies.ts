/**
 * The ways containers are networked, rebuilt as network namespaces on this
 * host: each topology puts a reflector and a sender in their own places and
 * says where the sender aims. Addresses come from 198.18.0.0/15 (RFC 2544),
 * one /24 per topology, so they never collide with a real network.
 */
import path from 'node:path';
import type { Feature } from './features';
import type { Sandbox } from './sandbox';
import { ipIn, nft, sysctl } from './system';

/** The STAMP port reflectors listen on inside the lab's own namespaces (fresh ones: nothing else binds there). */
export const LAB_PORT = 862;
/** The host port bridge-nat maps to the container's reflector, UDP and TCP, as `docker run -p 8862:862/udp -p 8862:862/tcp` would. */
export const MAPPED_PORT = 8862;
/** The UDP port tun-udp's forwarders exchange packets on: flannel's UDP backend's default. */
export const TUN_UDP_PORT = 8285;
/** tun-udp's forwarder, run with node in each host namespace. */
const TUN_FORWARDER = path.join(__dirname, 'tun-forwarder.js');

export interface Endpoint {
  address: string;
  port: number;
}

/** Where each end runs: a namespace, or null for the namespace the lab itself runs in (this host's own network). */
export interface BuiltTopology {
  /** Where to start the reflector and what it binds; null when it runs on a remote host. */
  reflector: { netns: string; bind: Endpoint } | null;
  /** Where the sender runs, and the address and port it probes. */
  sender: { netns: string | null; target: Endpoint };
}

export interface RemoteTarget {
  host: string;
  /** The host's address as resolved once at the start. */
  address: string;
  port: number;
}

export interface Topology {
  name: string;
  description: string;
  /** Where the sender and the reflector sit, in the study's terms (the CSV's from / to). */
  from: string;
  to: string;
  needs: Feature[];
  /** Builds it; asynchronous where it starts helpers (tun-udp's forwarders) and waits until they are ready. */
  build(sandbox: Sandbox): BuiltTopology | Promise<BuiltTopology>;
}

/** Every topology the lab knows: those with both ends on this host, then 'host', the baseline against a remote reflector. */
export const TOPOLOGY_NAMES = [
  'loopback',
  'veth',
  'bridge',
  'bridge-nat',
  'macvlan',
  'ipvlan-l2',
  'ipvlan-l3',
  'routed',
  'vxlan',
  'ipip',
  'tun-udp',
  'host',
] as const;
export type TopologyName = (typeof TOPOLOGY_NAMES)[number];
/** What can run against a remote reflector: the sender on this host, directly or from a container. */
export const REMOTE_TOPOLOGIES = ['host', 'bridge-nat'] as const satisfies readonly TopologyName[];
type RemoteTopologyName = (typeof REMOTE_TOPOLOGIES)[number];
type LocalTopologyName = Exclude<TopologyName, 'host'>;
export const LOCAL_TOPOLOGIES = TOPOLOGY_NAMES.filter((n): n is LocalTopologyName => n !== 'host');

function up(netns: string | null, dev: string): void {
  ipIn(netns, 'link', 'set', dev, 'up');
}

function address(netns: string | null, dev: string, cidr: string): void {
  ipIn(netns, 'addr', 'add', cidr, 'dev', dev);
  up(netns, dev);
}

/** A veth pair with one end in each namespace (null: the current one). */
function veth(aNetns: string | null, aDev: string, bNetns: string | null, bDev: string, mtu?: number): void {
  const a = aNetns === null ? [aDev] : [aDev, 'netns', aNetns];
  const b = bNetns === null ? [bDev] : [bDev, 'netns', bNetns];
  ipIn(null, 'link', 'add', ...a, ...(mtu ? ['mtu', String(mtu)] : []), 'type', 'veth', 'peer', 'name', ...b, ...(mtu ? ['mtu', String(mtu)] : []));
  up(aNetns, aDev);
  up(bNetns, bDev);
}

function bridge(netns: string | null, dev: string): void {
  ipIn(netns, 'link', 'add', dev, 'type', 'bridge');
  up(netns, dev);
}

function enslave(netns: string | null, dev: string, master: string): void {
  ipIn(netns, 'link', 'set', dev, 'master', master);
  up(netns, dev);
}

/**
 * A container as Docker attaches one: a bridge in the host (SUBNET.1, the
 * container's gateway) and a veth from it to the container's eth0 (SUBNET.2).
 */
function behindBridge(host: string | null, br: string, port: string, container: string, subnet: string): void {
  bridge(host, br);
  address(host, br, `${subnet}.1/24`);
  veth(container, 'eth0', host, port);
  enslave(host, port, br);
  address(container, 'eth0', `${subnet}.2/24`);
  ipIn(container, 'route', 'add', 'default', 'via', `${subnet}.1`);
}

function router(netns: string): void {
  sysctl(netns, 'net.ipv4.ip_forward', '1');
}

function ends(reflectorNetns: string, reflectorAddress: string, senderNetns: string, target = reflectorAddress, port = LAB_PORT): BuiltTopology {
  return {
    reflector: { netns: reflectorNetns, bind: { address: reflectorAddress, port: LAB_PORT } },
    sender: { netns: senderNetns, target: { address: target, port } },
  };
}

/**
 * A host namespace with each end's eth0 joined to it by a veth (host side
 * veth-r, veth-s): `setup` prepares the host first, `attach` then wires up
 * each end (its address octet: reflector 1, sender 2).
 */
function endsOnHost(
  sandbox: Sandbox,
  setup: (host: string) => void,
  attach: (host: string, netns: string, port: string, octet: number) => void,
): { reflector: string; sender: string } {
  const host = sandbox.namespace('host');
  const reflector = sandbox.namespace('reflector');
  const sender = sandbox.namespace('sender');
  setup(host);
  for (const [netns, port, octet] of [
    [reflector, 'veth-r', 1],
    [sender, 'veth-s', 2],
  ] as const) {
    veth(netns, 'eth0', host, port);
    attach(host, netns, port, octet);
  }
  return { reflector, sender };
}

/** Reflector and sender each in a namespace holding one slave link (`slave`: its type arguments) on a shared veth parent. */
function sharedParent(sandbox: Sandbox, subnet: string, slave: string[]): BuiltTopology {
  const host = sandbox.namespace('host');
  const reflector = sandbox.namespace('reflector');
  const sender = sandbox.namespace('sender');
  veth(host, 'parent0', host, 'parent1');
  for (const [netns, dev, octet] of [
    [reflector, 'slave-r', 1],
    [sender, 'slave-s', 2],
  ] as const) {
    ipIn(host, 'link', 'add', dev, 'link', 'parent0', ...slave);
    ipIn(host, 'link', 'set', dev, 'netns', netns);
    address(netns, dev, `${subnet}.${octet}/24`);
  }
  return ends(reflector, `${subnet}.1`, sender);
}

/** The topology of each end on a slave link (macvlan, ipvlan) of one veth parent; its name is also the feature it needs. */
function onSharedParent(name: 'macvlan' | 'ipvlan-l2' | 'ipvlan-l3', kind: string, mode: string, subnet: string): Topology {
  return {
    name,
    description: `each end on a ${kind} (${mode} mode) of one veth parent`,
    from: 'container',
    to: 'container',
    needs: ['veth', name],
    build: (sandbox) => sharedParent(sandbox, subnet, ['type', kind, 'mode', mode]),
  };
}

/** Two "hosts" joined by a veth underlay, each with one endpoint namespace behind it. */
function twoHosts(sandbox: Sandbox, underlay: string) {
  const host1 = sandbox.namespace('host1');
  const host2 = sandbox.namespace('host2');
  const reflector = sandbox.namespace('reflector');
  const sender = sandbox.namespace('sender');
  veth(host1, 'underlay', host2, 'underlay');
  address(host1, 'underlay', `${underlay}.1/24`);
  address(host2, 'underlay', `${underlay}.2/24`);
  return { host1, host2, reflector, sender };
}

/**
 * An endpoint namespace its host routes to: a veth with the host at
 * SUBNET.1 and the endpoint at SUBNET.2 (MTU `mtu`, what the tunnel leaves),
 * and the peer host's endpoint subnet sent into the tunnel device.
 */
function routedEndpoint(host: string, netns: string, own: string, peer: string, tunnel: string, mtu: number): void {
  veth(netns, 'eth0', host, 'veth-e', mtu);
  address(host, 'veth-e', `${own}.1/24`);
  address(netns, 'eth0', `${own}.2/24`);
  ipIn(netns, 'route', 'add', 'default', 'via', `${own}.1`);
  ipIn(host, 'route', 'add', `${peer}.0/24`, 'dev', tunnel);
  router(host);
}

const TOPOLOGIES: Record<LocalTopologyName, Topology> = {
  loopback: {
    name: 'loopback',
    description: 'both ends in one namespace over lo: the floor',
    from: 'host',
    to: 'host',
    needs: [],
    build(sandbox) {
      const host = sandbox.namespace('host');
      return ends(host, '127.0.0.1', host);
    },
  },
  veth: {
    name: 'veth',
    description: 'two namespaces joined by one veth pair: the bare link ("bare metal" here)',
    from: 'host',
    to: 'host',
    needs: ['veth'],
    build(sandbox) {
      const reflector = sandbox.namespace('reflector');
      const sender = sandbox.namespace('sender');
      veth(reflector, 'eth0', sender, 'eth0');
      address(reflector, 'eth0', '198.18.1.1/24');
      address(sender, 'eth0', '198.18.1.2/24');
      return ends(reflector, '198.18.1.1', sender);
    },
  },
  bridge: {
    name: 'bridge',
    description: "each end's veth on a Linux bridge in a host namespace",
    from: 'container',
    to: 'container',
    needs: ['veth', 'bridge'],
    build(sandbox) {
      const { reflector, sender } = endsOnHost(
        sandbox,
        (host) => bridge(host, 'br0'),
        (host, netns, port, octet) => {
          enslave(host, port, 'br0');
          address(netns, 'eth0', `198.18.2.${octet}/24`);
        },
      );
      return ends(reflector, '198.18.2.1', sender);
    },
  },
  'bridge-nat': {
    name: 'bridge-nat',
    description:
      "Docker's default: the reflector in a container behind a bridge, reached from a client through a DNAT port mapping on the host (nftables, with masquerade)",
    from: 'client',
    to: 'container',
    needs: ['veth', 'bridge', 'nftables'],
    build(sandbox) {
      const host = sandbox.namespace('host');
      const container = sandbox.namespace('container');
      const client = sandbox.namespace('client');
      behindBridge(host, 'br0', 'veth-c', container, '198.18.3');
      veth(client, 'eth0', host, 'uplink');
      address(host, 'uplink', '198.18.4.1/24');
      address(client, 'eth0', '198.18.4.2/24');
      router(host);
      nft(
        host,
        `table ip ${sandbox.tableName} {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "uplink" meta l4proto { udp, tcp } th dport ${MAPPED_PORT} dnat to 198.18.3.2:${LAB_PORT}
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 198.18.3.0/24 oifname != "br0" masquerade
  }
}
`,
      );
      return ends(container, '198.18.3.2', client, '198.18.4.1', MAPPED_PORT);
    },
  },
  macvlan: onSharedParent('macvlan', 'macvlan', 'bridge', '198.18.5'),
  'ipvlan-l2': onSharedParent('ipvlan-l2', 'ipvlan', 'l2', '198.18.12'),
  'ipvlan-l3': onSharedParent('ipvlan-l3', 'ipvlan', 'l3', '198.18.13'),
  routed: {
    name: 'routed',
    description:
      "calico's native routing: each end's veth goes straight to a host namespace with no bridge; the host routes each end's /32 to its veth and answers ARP for the other end (proxy ARP)",
    from: 'container',
    to: 'container',
    needs: ['veth', 'proxy-arp'],
    build(sandbox) {
      const { reflector, sender } = endsOnHost(sandbox, router, (host, netns, port, octet) => {
        address(netns, 'eth0', `198.18.14.${octet}/32`);
        // Every destination on-link, so the end ARPs for its peer and the host answers with its own veth's MAC.
        ipIn(netns, 'route', 'add', 'default', 'dev', 'eth0');
        // As calico sets them: answer at once rather than after a random delay of up to 0.8 s.
        sysctl(host, `net.ipv4.conf.${port}.proxy_arp`, '1');
        sysctl(host, `net.ipv4.neigh.${port}.proxy_delay`, '0');
        ipIn(host, 'route', 'add', `198.18.14.${octet}/32`, 'dev', port);
      });
      return ends(reflector, '198.18.14.1', sender);
    },
  },
  vxlan: {
    name: 'vxlan',
    description:
      'overlay (flannel-vxlan / Docker overlay datapath): two host namespaces on a veth underlay, each with a vxlan device and a bridge, endpoints behind them',
    from: 'container',
    to: 'container',
    needs: ['veth', 'bridge', 'vxlan'],
    build(sandbox) {
      const { host1, host2, reflector, sender } = twoHosts(sandbox, '198.18.6');
      // The 50-byte VXLAN header leaves 1450 bytes: the endpoints get that MTU, as Docker gives its containers.
      for (const [host, local, remote, netns, octet] of [
        [host1, '198.18.6.1', '198.18.6.2', reflector, 1],
        [host2, '198.18.6.2', '198.18.6.1', sender, 2],
      ] as const) {
        ipIn(host, 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '42', 'local', local, 'remote', remote, 'dstport', '4789', 'dev', 'underlay');
        bridge(host, 'br0');
        enslave(host, 'vx0', 'br0');
        veth(netns, 'eth0', host, 'veth-e', 1450);
        enslave(host, 'veth-e', 'br0');
        address(netns, 'eth0', `198.18.7.${octet}/24`);
      }
      return ends(reflector, '198.18.7.1', sender);
    },
  },
  ipip: {
    name: 'ipip',
    description:
      'IP-in-IP (Calico IPIP datapath): two host namespaces on a veth underlay joined by an ipip tunnel, each routing to one endpoint namespace',
    from: 'container',
    to: 'container',
    needs: ['veth', 'ipip'],
    build(sandbox) {
      const { host1, host2, reflector, sender } = twoHosts(sandbox, '198.18.8');
      // The 20-byte outer header leaves 1480 bytes on the tunnel; endpoints get that MTU.
      for (const [host, local, remote, netns, own, peer] of [
        [host1, '198.18.8.1', '198.18.8.2', reflector, '198.18.9', '198.18.10'],
        [host2, '198.18.8.2', '198.18.8.1', sender, '198.18.10', '198.18.9'],
      ] as const) {
        ipIn(host, 'link', 'add', 'tun0', 'type', 'ipip', 'local', local, 'remote', remote, 'dev', 'underlay');
        up(host, 'tun0');
        routedEndpoint(host, netns, own, peer, 'tun0', 1480);
      }
      return ends(reflector, '198.18.9.2', sender);
    },
  },
  'tun-udp': {
    name: 'tun-udp',
    description:
      "flannel's UDP backend: two host namespaces on a veth underlay, each with a TUN device whose packets a user-space forwarder carries inside UDP to the other host, each routing to one endpoint namespace",
    from: 'container',
    to: 'container',
    needs: ['veth', 'tun'],
    async build(sandbox) {
      const { host1, host2, reflector, sender } = twoHosts(sandbox, '198.18.15');
      // The 28-byte outer IP and UDP headers leave 1472 bytes, the MTU flannel gives its TUN device and pods.
      for (const [host, local, remote, netns, own, peer] of [
        [host1, '198.18.15.1', '198.18.15.2', reflector, '198.18.16', '198.18.17'],
        [host2, '198.18.15.2', '198.18.15.1', sender, '198.18.17', '198.18.16'],
      ] as const) {
        const forwarder = [process.execPath, TUN_FORWARDER, 'tun0', `${local}:${TUN_UDP_PORT}`, `${remote}:${TUN_UDP_PORT}`];
        await sandbox.helper(host, forwarder, `the TUN forwarder in ${host}`);
        ipIn(host, 'link', 'set', 'tun0', 'mtu', '1472');
        up(host, 'tun0');
        routedEndpoint(host, netns, own, peer, 'tun0', 1472);
      }
      return ends(reflector, '198.18.16.2', sender);
    },
  },
};

/** The container subnet bridge-nat uses on this host in --remote runs. */
const REMOTE_NAT_SUBNET = '198.18.20';

function remoteTopologies(remote: RemoteTarget): Record<RemoteTopologyName, Topology> {
  const target: Endpoint = { address: remote.address, port: remote.port };
  return {
    host: {
      name: 'host',
      description: "the sender on this host's own network (host networking): the baseline against a remote reflector",
      from: 'host',
      to: 'host',
      needs: [],
      build: () => ({ reflector: null, sender: { netns: null, target } }),
    },
    'bridge-nat': {
      name: 'bridge-nat',
      description: "Docker's default outbound path: the sender in a container behind a bridge on this host, masqueraded by nftables",
      from: 'container',
      to: 'host',
      needs: ['veth', 'bridge', 'nftables'],
      build(sandbox) {
        const container = sandbox.namespace('container');
        const br = sandbox.hostLink('br');
        behindBridge(null, br, sandbox.hostLink('c'), container, REMOTE_NAT_SUBNET);
        sandbox.hostTable(
          'ip',
          `  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${REMOTE_NAT_SUBNET}.0/24 oifname != "${br}" masquerade
  }`,
        );
        return { reflector: null, sender: { netns: container, target } };
      },
    },
  };
}

/** The topology of that name, local or against a remote reflector. */
export function topology(name: TopologyName, remote: RemoteTarget | null): Topology {
  if (remote) return remoteTopologies(remote)[name as RemoteTopologyName];
  return TOPOLOGIES[name as LocalTopologyName];
}
