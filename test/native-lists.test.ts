/**
 * Each list and constant is written once on each side of the addon: in C++
 * (native/core: counters.hpp, metrics.hpp, the choice tables next to their
 * enums, wire.hpp) and in TypeScript (src/counters.ts, src/metrics.ts,
 * src/options.ts). The addon exports its side; here the two must agree, names
 * and order, so that no counter is dropped, no choice refused on one side
 * only, and the JSON keeps its order.
 */
import { describe, expect, it } from 'vitest';
import { loadBinding, WIRE_LAYOUTS } from '../src/binding';
import { fromNative, OptionRangeError } from '../src/errors';
import { CAPTURE_COLUMNS, CAPTURE_FORMATS, CAPTURE_STATUSES } from '../src/capture';
import { REFLECTOR_COUNTERS, SENDER_COUNTERS } from '../src/counters';
import { METRIC_NAMES } from '../src/metrics';
import { CLOCK_SOURCES, MAX_PACKET_SIZE, PROBE_MODES, PROTOCOLS, TIMESTAMP_FORMATS, TIMESTAMP_SOURCES, TRANSPORTS, normalizeProbeOptions } from '../src/options';
import { ProbeResult } from '../src/result';

const native = loadBinding();

describe('the addon and the library name the same things alike', () => {
  it('metrics', () => {
    expect([...native.metricNames]).toEqual([...METRIC_NAMES]);
  });

  it('sender and reflector counters, in the order the JSON lists them', () => {
    expect([...native.counterNames.sender]).toEqual([...SENDER_COUNTERS]);
    expect([...native.counterNames.reflector]).toEqual([...REFLECTOR_COUNTERS]);
  });

  it('the choices of each option the native parsers read', () => {
    expect([...native.choices.mode]).toEqual([...PROBE_MODES]);
    expect([...native.choices.protocol]).toEqual([...PROTOCOLS]);
    expect([...native.choices.timestamps]).toEqual([...TIMESTAMP_SOURCES]);
    expect([...native.choices.timestampFormat]).toEqual([...TIMESTAMP_FORMATS]);
    expect([...native.choices.clock]).toEqual([...CLOCK_SOURCES]);
    expect([...native.choices.layout]).toEqual([...WIRE_LAYOUTS]);
    expect([...native.choices.captureFormat]).toEqual([...CAPTURE_FORMATS]);
    expect([...native.choices.transport]).toEqual([...TRANSPORTS]);
  });

  it('the per-probe capture\'s columns, in file order, and its statuses', () => {
    expect([...native.captureColumns]).toEqual([...CAPTURE_COLUMNS]);
    expect([...native.captureStatuses]).toEqual([...CAPTURE_STATUSES]);
  });

  it('the largest packet', () => {
    expect(native.wire.maxPacketSize).toBe(MAX_PACKET_SIZE);
  });
});

describe('the native parsers refuse what their table lacks, naming every choice', () => {
  const options = () => ({
    host: '127.0.0.1',
    port: 9,
    bindHost: '127.0.0.1',
    bindPort: 0,
    ...normalizeProbeOptions({ count: 1 }),
  });

  it.each([
    ['mode', 'pingpong, rate, connect'],
    ['protocol', 'udp, tcp'],
    ['timestamps', 'auto, software, hardware, none'],
    ['timestampFormat', 'ntp, ptp'],
    ['clock', 'auto, tsc, realtime'],
  ])('%s', (key, names) => {
    let error: (Error & { code?: string }) | undefined;
    try {
      new native.Sender({ ...options(), [key]: 'bogus' } as never, () => {});
    } catch (e) {
      error = e as Error & { code?: string };
    }
    expect(error).toBeInstanceOf(RangeError);
    expect(error?.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(error?.message).toBe(`${key} must be one of ${names}, got "bogus"`);
    // The library's error class keeps the addon's code.
    const wrapped = fromNative(error);
    expect(wrapped).toBeInstanceOf(OptionRangeError);
    expect((wrapped as OptionRangeError).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('a number out of its field: ssid', () => {
    expect(() => new native.Sender({ ...options(), ssid: 70000 }, () => {})).toThrow("option 'ssid' must be an integer 0..65535, got 70000");
  });
});

/** A kept `--json` result with these counters and nothing measured. */
function keptResult(counters: Record<string, number>): never {
  return {
    metrics: {},
    missing: {},
    caveats: {},
    ...counters,
    target: { address: '127.0.0.1', port: 862, family: 'IPv4' },
    local: { address: '127.0.0.1', port: 1, family: 'IPv4' },
    options: { clock: 'realtime' },
    granted: { clock: 'realtime' },
    host: {},
    cpu: { threadNs: 0, utilization: 0 },
    startedAt: '2026-11-30T00:00:00.000000000Z',
    endedAt: '2026-11-30T00:00:01.000000000Z',
  } as never;
}

describe('a result read back keeps every counter', () => {
  it('fromJSON carries each sender counter over, in list order', () => {
    const counters = Object.fromEntries(SENDER_COUNTERS.map((name, i) => [name, i + 1]));
    const result = ProbeResult.fromJSON(keptResult(counters));
    expect(Object.entries(result.counters)).toEqual(Object.entries(counters));
  });

  it('a result kept from before the per-probe capture reads back with captureDropped 0', () => {
    const { captureDropped: _, ...older } = Object.fromEntries(SENDER_COUNTERS.map((name) => [name, 5]));
    expect(ProbeResult.fromJSON(keptResult(older)).counters).toMatchObject({ sent: 5, captureDropped: 0 });
  });
});
