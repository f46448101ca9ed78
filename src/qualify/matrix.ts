/**
 * The matrix of a qualification: transports × timestamp sources × sizes ×
 * (ping-pong + one cell per rate), in that order; which cells this host
 * cannot run (and why), which metrics a cell can have, and how long the
 * matrix takes.
 */
import type { MetricName } from '../metrics';
import type { ProbeMode, TimestampSource, Transport } from '../options';
import type { QualifyProfile } from './profile';

/** One run of the matrix. */
export interface Cell {
  /** `udp-software-64-pingpong`, `udp-auto-1472-rate10000`: also the name of its result file. */
  id: string;
  transport: Transport;
  timestamps: TimestampSource;
  size: number;
  mode: ProbeMode;
  /** Probes per second of a rate cell; null in ping-pong. */
  rate: number | null;
}

export function buildMatrix(profile: Pick<QualifyProfile, 'transports' | 'timestamps' | 'sizes' | 'modes' | 'rates'>): Cell[] {
  const runs = [
    ...(profile.modes.includes('pingpong') ? [{ mode: 'pingpong' as const, rate: null }] : []),
    ...(profile.modes.includes('rate') ? profile.rates.map((rate) => ({ mode: 'rate' as const, rate })) : []),
  ];
  return profile.transports.flatMap((transport) =>
    profile.timestamps.flatMap((timestamps) =>
      profile.sizes.flatMap((size) =>
        runs.map(({ mode, rate }) => ({ id: `${transport}-${timestamps}-${size}-${mode}${rate ?? ''}`, transport, timestamps, size, mode, rate })),
      ),
    ),
  );
}

/** What decides whether a cell can run here: the route's interface and its timestamping. */
export interface PathFacts {
  /** The interface the route to the target leaves by; null where it could not be found. */
  interface: string | null;
  /** Its driver reports hardware timestamping (ethtool -T). */
  hardwareTimestamping: boolean;
  /** This process holds CAP_NET_RAW, which the raw transport's AF_PACKET socket needs. */
  netRaw: boolean;
}

/**
 * Why this host cannot run a transport, or null. Keyed by every transport,
 * so a new one (raw: CAP_NET_RAW) cannot be added without saying when it runs.
 */
const TRANSPORT_UNAVAILABLE: Record<Transport, (path: PathFacts) => string | null> = {
  udp: () => null,
  raw: (path) =>
    path.netRaw ? null : 'the raw transport needs CAP_NET_RAW: run as root, or `sudo setcap cap_net_raw+ep $(readlink -f $(which node))`',
};

/** Why the cell cannot run on this host (it is skipped, not failed), or null. */
export function skipReason(cell: Cell, path: PathFacts): string | null {
  const transport = TRANSPORT_UNAVAILABLE[cell.transport](path);
  if (transport !== null) return transport;
  if (cell.timestamps === 'hardware' && !path.hardwareTimestamping) {
    return path.interface === null
      ? 'no interface found for the route to the target, so no hardware timestamping'
      : `${path.interface} has no hardware timestamping (ethtool -T ${path.interface})`;
  }
  return null;
}

/**
 * Whether a cell can have a metric at all: NIC stamps only where hardware
 * was asked for (or auto found it), kernel stamps unless timestamps are
 * none, send.error in rate mode only. A rule about a metric applies only to
 * the cells that can have it.
 */
export function cellCanMeasure(cell: Cell, metric: MetricName, path: PathFacts): boolean {
  switch (metric) {
    case 'rtt.hw':
      return cell.timestamps === 'hardware' || (cell.timestamps === 'auto' && path.hardwareTimestamping);
    case 'rtt.kernel':
    case 'stack.tx':
    case 'stack.rx':
      return cell.timestamps !== 'none';
    case 'send.error':
      return cell.mode === 'rate';
    default:
      return true;
  }
}

/** What a session adds to each cell besides its probes: warm-up probes, as the probe command sends them. */
export const CELL_WARMUP = 10;

/**
 * How long the cells take, in ns: a rate cell count / rate, a ping-pong
 * cell count round trips of `roundTripNs` each, and every cell `sessionNs`
 * besides (both measured by the caller).
 */
export function estimateNs(cells: readonly Cell[], count: number, roundTripNs: number, sessionNs: number): number {
  return cells.reduce((sum, c) => sum + sessionNs + (count + CELL_WARMUP) * (c.rate === null ? roundTripNs : 1e9 / c.rate), 0);
}
