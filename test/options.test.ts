/**
 * Options are checked before anything native runs: a wrong type is a
 * TypeError, an out-of-range value a RangeError, both with a `code` and a
 * message that names the option and what to give instead.
 */
import { describe, expect, it } from 'vitest';
import { OptionRangeError, OptionTypeError, ProbeResult, ResultFormatError, RttProbeError, parseDuration, parseTarget, probe, startReflector, type ProbeOptions } from '../src/index';
import { normalizeProbeOptions } from '../src/options';

/** Values out of range, each with the message it gets; three lie outside their type's choices, as JavaScript callers can pass them. */
const outOfRange: Array<[ProbeOptions, RegExp]> = [
  [{ count: 0 }, /count must be an integer from 1/],
  [{ size: 43 }, /size must be an integer from 44 to 65507.*at least 44 bytes/],
  [{ size: 70000 }, /size must be an integer from 44/],
  [{ mode: 'rate', rate: -5 }, /rate must be between/],
  [{ rate: 500 }, /rate applies to rate mode only: add mode: 'rate'/],
  [{ bind: '::1' }, /bind address ::1 and target 127.0.0.1 are of different IP families/],
  [{ timeout: '0ms' }, /timeout must be between 1us and 60s/],
  [{ duration: '10 parsecs' }, /is not a duration: give a number with a unit/],
  // @ts-expect-error: not one of the type's choices, on purpose
  [{ mode: 'burst' }, /mode must be one of pingpong, rate, connect/],
  // @ts-expect-error: not one of the type's choices, on purpose
  [{ protocol: 'sctp' }, /protocol must be one of udp, tcp/],
  [{ protocol: 'tcp', mode: 'rate', port: 8620 }, /rate mode is for UDP; with protocol 'tcp' use mode 'pingpong'.*or 'connect'/],
  [{ mode: 'connect' }, /connect mode opens a TCP connection per probe: add protocol: 'tcp'/],
  [{ protocol: 'tcp', transport: 'raw', port: 8620 }, /the raw transport carries UDP only: leave out transport: 'raw'/],
  [{ protocol: 'tcp' }, /names no port, and TCP has none by default \(862\/TCP is TWAMP-Control's\)/],
  // @ts-expect-error: not one of the type's choices, on purpose
  [{ timestamps: 'nic' }, /timestamps must be one of auto, software, hardware, none/],
  // @ts-expect-error: not one of the type's choices, on purpose
  [{ clock: 'rdtsc' }, /clock must be one of auto, tsc, realtime/],
  [{ rtPriority: 100 }, /rtPriority must be an integer from 0 to 99/],
  [{ cpu: -1 }, /cpu must be an integer from 0/],
  [{ bind: 'localhost' }, /bind "localhost" is not an IPv4 or IPv6 address/],
  [{ progressInterval: '1ms' }, /progressInterval must be at least 10ms/],
  [{ mode: 'rate', rate: 5_000_000, timeout: '1s' }, /5000000 probes in flight.*lower the rate or the timeout/],
  // @ts-expect-error: not one of the type's choices, on purpose
  [{ transport: 'tcp' }, /transport must be one of udp, raw/],
  [{ interface: 'eth0' }, /interface applies to the raw transport only: add transport: 'raw' \(--transport raw\)/],
  [{ vlan: 5 }, /vlan applies to the raw transport only/],
  [{ dstMac: '02:00:00:00:00:01' }, /dstMac applies to the raw transport only/],
  [{ transport: 'raw', vlan: 4095 }, /vlan must be an integer from 1 to 4094/],
  [{ transport: 'raw', interface: 'eth0/1' }, /interface "eth0\/1" is not an interface name/],
  [{ transport: 'raw', interface: 'a-very-long-name0' }, /is not an interface name \(1-15 characters/],
  [{ transport: 'raw', dstMac: '02:00:00:00:01' }, /dstMac "02:00:00:00:01" is not a MAC address: write six hex bytes with colons/],
  [{ dscp: 64 }, /dscp must be an integer from 0 to 63/],
  [{ ttl: 0 }, /ttl must be an integer from 1 to 255/],
];

describe('probe options', () => {
  it('defaults to ping-pong for 10 s with 10 warm-up probes of 44 bytes', () => {
    const o = normalizeProbeOptions({});
    expect(o).toMatchObject({ mode: 'pingpong', durationNs: 10e9, count: 0, warmup: 10, size: 44, timeoutNs: 1e9 });
    expect(o).toMatchObject({ busyPoll: true, timestamps: 'auto', timestampFormat: 'ntp', clock: 'auto', cpu: -1, rtPriority: 0 });
  });

  it.each([
    [{ count: '10' }, /count must be a number/],
    [{ busyPoll: 'yes' }, /busyPoll must be true or false/],
    [{ size: null }, /size must be a number/],
    [{ duration: {} }, /duration must be a duration/],
    [{ signal: 'stop' }, /signal must be an AbortSignal/],
    [{ mode: 1 }, /mode must be a string/],
  ])('%j is an OptionTypeError, one of the library\'s RttProbeErrors', (options, message) => {
    // @ts-expect-error: each row passes an option of a type ProbeOptions refuses, as JavaScript callers can
    const call = () => probe('127.0.0.1', options);
    expect(call).toThrow(RttProbeError);
    expect(call).toThrow(OptionTypeError);
    expect(call).toThrow(message);
    expect(call).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it.each(outOfRange)('%j is an OptionRangeError, thrown by probe() itself', (options, message) => {
    const call = () => probe('127.0.0.1', options);
    expect(call).toThrow(RttProbeError);
    expect(call).toThrow(OptionRangeError);
    expect(call).toThrow(message);
    expect(call).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('takes the raw transport\'s options, a MAC lower-cased, and leaves the path defaults as null', () => {
    expect(normalizeProbeOptions({ transport: 'raw', interface: 'eth1', vlan: 42, dstMac: '02:AB:00:00:00:01', dscp: 46, ttl: 7 })).toMatchObject({
      transport: 'raw',
      interface: 'eth1',
      vlan: 42,
      dstMac: '02:ab:00:00:00:01',
      dscp: 46,
      ttl: 7,
    });
    expect(normalizeProbeOptions({})).toMatchObject({ transport: 'udp', interface: null, vlan: null, dstMac: null, dscp: 0, ttl: null });
  });

  it('rejects reflector options the same way, before binding', async () => {
    await expect(startReflector({ transport: 'raw' })).rejects.toThrow(
      'a raw reflector bound to the wildcard address :: needs an interface: give interface (--interface IF) or bind to one of its addresses (--bind ADDR)',
    );
    await expect(startReflector({ transport: 'raw', bind: '0.0.0.0' })).rejects.toBeInstanceOf(OptionRangeError);
    await expect(startReflector({ port: 70000 })).rejects.toThrow(/port must be an integer from 0 to 65535/);
    await expect(startReflector({ bind: 'nowhere' })).rejects.toBeInstanceOf(OptionRangeError);
    // Zero would read as "no duration": run until stopped.
    await expect(startReflector({ port: 0, duration: '0s' })).rejects.toThrow('duration must be longer than 0 (leave it out to run until stopped)');
  });

  it.each([
    [{ protocols: 'tcp' }, /TCP has no default port \(862\/TCP is TWAMP-Control's\): give port/],
    [{ port: 0, protocols: [] }, /protocols must be 'udp', 'tcp' or a list of them/],
    [{ port: 0, protocols: ['udp', 'quic'] }, /protocols\[1\] must be one of udp, tcp, got "quic"/],
    [{ port: 0, maxConnections: 10 }, /maxConnections applies to TCP only/],
    [{ port: 0, protocols: 'tcp', maxConnections: 0 }, /maxConnections must be an integer from 1 to 65536/],
    [{ port: 0, protocols: ['udp', 'tcp'], twampLight: true }, /TWAMP-Light test packets, which come over UDP only/],
    [{ port: 0, protocols: ['udp', 'tcp'], transport: 'raw', interface: 'lo' }, /the raw transport carries UDP only: serve 'tcp' without/],
  ])('refuses the reflector protocol options %j, naming what to give', async (options, message) => {
    // @ts-expect-error: some rows pass values outside the types, as JavaScript callers can
    await expect(startReflector(options)).rejects.toThrow(message);
  });
});

describe('parseDuration', () => {
  it.each([
    ['250ns', 250],
    ['50us', 50_000],
    ['50µs', 50_000],
    ['1.5ms', 1_500_000],
    ['10s', 10e9],
    ['2m', 120e9],
    [100, 100e6],
  ])('%s is %d ns', (text, ns) => {
    expect(parseDuration(text, 'duration')).toBe(ns);
  });

  it('wants a unit on strings', () => {
    expect(() => parseDuration('10', 'timeout')).toThrow(/timeout "10" is not a duration/);
  });
});

describe('parseTarget', () => {
  it.each([
    ['198.18.0.1', { host: '198.18.0.1', port: 862 }],
    ['198.18.0.1:9000', { host: '198.18.0.1', port: 9000 }],
    ['localhost:4000', { host: 'localhost', port: 4000 }],
    ['::1', { host: '::1', port: 862 }],
    ['[::1]:9000', { host: '::1', port: 9000 }],
    ['[fe80::1%lo]:9000', { host: 'fe80::1%lo', port: 9000 }],
  ])('%s', (text, target) => {
    expect(parseTarget(text)).toEqual(target);
  });

  it('rejects bad ports and ambiguous IPv6', () => {
    expect(() => parseTarget('host:0')).toThrow(/port in target "host:0" must be 1-65535/);
    expect(() => parseTarget('host:http')).toThrow(OptionRangeError);
    expect(() => parseTarget('')).toThrow(OptionTypeError);
  });
});

describe('ProbeResult.fromJSON', () => {
  it.each([
    [{}, /the given object is not an rtt-probe result \(no "metrics"\): expected a probe result/],
    [null, /the given object is not an rtt-probe result \(it is null\)/],
    [[], /the given object is not an rtt-probe result \(it is an array\)/],
  ])('rejects %j with a ResultFormatError naming what is wrong', (json, message) => {
    // @ts-expect-error: none of these is a result, on purpose (JSON.parse gives callers any shape)
    const call = () => ProbeResult.fromJSON(json);
    expect(call).toThrow(RttProbeError);
    expect(call).toThrow(ResultFormatError);
    expect(call).toThrow(message);
    expect(call).toThrow(expect.objectContaining({ code: 'ERR_RTT_PROBE_RESULT_FORMAT' }));
  });
});
