/**
 * The STAMP codec against byte vectors written out by hand from the RFC 8762
 * section 4 layouts (unauthenticated and authenticated sender and reflector
 * packets, SSID from RFC 8972), TWAMP-Light's shorter replies (RFC 5357) and
 * the RFC 4656 / RFC 8762 timestamp and error-estimate formats.
 */
import { describe, expect, it } from 'vitest';
import { wire } from '../src/index';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('Session-Sender packet (44 bytes)', () => {
  // seq | T1 | error estimate | SSID | 28 MBZ
  const bytes = hex(`
    01020304
    1122334455667788
    850a
    beef
    ${'00'.repeat(28)}`);
  const fields = { seq: 0x01020304, timestamp: 0x1122334455667788n, errorEstimate: 0x850a, ssid: 0xbeef };

  it('encodes each field at its RFC offset, big-endian, MBZ zeroed', () => {
    expect(wire.encodeSender(fields)).toEqual(bytes);
  });

  it('decodes the same bytes back to the fields', () => {
    expect(wire.decodeSender(bytes)).toEqual(fields);
  });

  it('pads to the requested size with zeros', () => {
    const padded = wire.encodeSender(fields, 128);
    expect(padded.length).toBe(128);
    expect(padded.subarray(0, 44)).toEqual(bytes);
    expect(padded.subarray(44).every((b) => b === 0)).toBe(true);
  });

  it('refuses packets shorter than 44 bytes', () => {
    expect(wire.decodeSender(bytes.subarray(0, 43))).toBeNull();
  });
});

const reflectorFields = {
  seq: 42,
  timestamp: 0x83aa7e8180000000n,
  errorEstimate: 0x0001,
  ssid: 0x0102,
  receiveTimestamp: 0x83aa7e8140000000n,
  senderSeq: 41,
  senderTimestamp: 0x83aa7e8100000000n,
  senderErrorEstimate: 0x8000,
  senderTtl: 64,
};

describe('Session-Reflector packet (44 bytes)', () => {
  // seq | T3 | error estimate | SSID | T2 | sender seq | T1 | sender error estimate | MBZ(2) | TTL | MBZ(3)
  const bytes = hex(`
    0000002a
    83aa7e8180000000
    0001
    0102
    83aa7e8140000000
    00000029
    83aa7e8100000000
    8000
    0000
    40
    000000`);
  const fields = reflectorFields;

  it('encodes each field at its RFC offset', () => {
    expect(wire.encodeReflector(fields)).toEqual(bytes);
  });

  it('decodes the same bytes back to the fields', () => {
    expect(wire.decodeReflector(bytes)).toEqual(fields);
  });

  it('reads TWAMP-Light replies shorter than 44 bytes down to the sender timestamp (36 bytes)', () => {
    // RFC 5357 reflectors may stop after the sender TTL (41 bytes) or earlier; a sender needs only bytes 0..35.
    expect(wire.decodeReflector(bytes.subarray(0, 41))).toEqual(fields);
    expect(wire.decodeReflector(bytes.subarray(0, 38))).toEqual({ ...fields, senderTtl: 0 });
    expect(wire.decodeReflector(bytes.subarray(0, 36))).toEqual({ ...fields, senderErrorEstimate: 0, senderTtl: 0 });
    expect(wire.replyMinSize).toBe(36);
  });

  it('refuses replies shorter than 36 bytes', () => {
    expect(wire.decodeReflector(bytes.subarray(0, 35))).toBeNull();
  });
});

describe('authenticated packets (112 bytes, RFC 8762 4.2.2 and 4.3.2)', () => {
  const hmac = '00'.repeat(16); // the codec leaves the HMAC to the signer

  it('Session-Sender: seq | MBZ(12) | T1 | error estimate | SSID | MBZ(68) | HMAC(16)', () => {
    const bytes = hex(`01020304 ${'00'.repeat(12)} 1122334455667788 850a beef ${'00'.repeat(68)} ${hmac}`);
    const fields = { seq: 0x01020304, timestamp: 0x1122334455667788n, errorEstimate: 0x850a, ssid: 0xbeef };
    expect(wire.authPacketSize).toBe(112);
    expect(wire.encodeSender(fields, undefined, 'authenticated')).toEqual(bytes);
    expect(wire.decodeSender(bytes, 'authenticated')).toEqual(fields);
    expect(wire.decodeSender(bytes.subarray(0, 111), 'authenticated')).toBeNull();
  });

  it('Session-Reflector: seq | MBZ(12) | T3 | error estimate | SSID | MBZ(4) | T2 | MBZ(8) | sender seq | MBZ(12) | T1 | sender error estimate | MBZ(6) | TTL | MBZ(15) | HMAC(16)', () => {
    const bytes = hex(`
      0000002a ${'00'.repeat(12)}
      83aa7e8180000000 0001 0102 ${'00'.repeat(4)}
      83aa7e8140000000 ${'00'.repeat(8)}
      00000029 ${'00'.repeat(12)}
      83aa7e8100000000 8000 ${'00'.repeat(6)}
      40 ${'00'.repeat(15)}
      ${hmac}`);
    // The same fields as the unauthenticated vector, at the authenticated offsets.
    expect(wire.encodeReflector(reflectorFields, undefined, 'authenticated')).toEqual(bytes);
    expect(wire.decodeReflector(bytes, 'authenticated')).toEqual(reflectorFields);
    // A reply in the authenticated layout must carry its HMAC: no short form.
    expect(wire.decodeReflector(bytes.subarray(0, 96), 'authenticated')).toBeNull();
  });

  it('refuses sizes below 112 and unknown layouts', () => {
    const fields = { seq: 1, timestamp: 1n, errorEstimate: 1, ssid: 0 };
    expect(() => wire.encodeSender(fields, 100, 'authenticated')).toThrow(/size must be an integer 112\.\.65507, got 100/);
    // @ts-expect-error: a layout WireLayout does not name, as from JavaScript, to check the addon refuses it.
    expect(() => wire.encodeSender(fields, 44, 'signed')).toThrow('layout must be one of unauthenticated, authenticated, got "signed"');
  });
});

describe('timestamps', () => {
  it('NTP: seconds since 1900 in the high word, 2^-32 s fraction in the low word', () => {
    // The Unix epoch is 2208988800 s = 0x83AA7E80 after the NTP epoch.
    expect(wire.encodeTimestamp(0n, 'ntp')).toBe(0x83aa7e8000000000n);
    expect(wire.encodeTimestamp(1_500_000_000n, 'ntp')).toBe(0x83aa7e8180000000n);
    expect(wire.decodeTimestamp(0x83aa7e8180000000n, 'ntp')).toBe(1_500_000_000n);
  });

  it('NTP round-trips to the nanosecond', () => {
    for (const ns of [1_795_000_000_123_456_789n, 1n, 999_999_999n, 1_700_000_000_000_000_001n]) {
      expect(wire.decodeTimestamp(wire.encodeTimestamp(ns, 'ntp'), 'ntp')).toBe(ns);
    }
  });

  it('NTP reads seconds past the 2036 era rollover as era 1', () => {
    const y2040 = 2_208_988_800n * 1_000_000_000n; // 2040-01-01T00:00:00Z in Unix ns: NTP seconds 4417977600 - 2^32 = 0x0754FD00
    const encoded = wire.encodeTimestamp(y2040, 'ntp');
    expect(encoded >> 32n).toBe(0x0754fd00n);
    expect(wire.decodeTimestamp(encoded, 'ntp')).toBe(y2040);
  });

  it('PTPv2 truncated: 32-bit seconds and 32-bit nanoseconds', () => {
    expect(wire.encodeTimestamp(1_500_000_000n, 'ptp')).toBe(0x000000011dcd6500n);
    expect(wire.decodeTimestamp(0x000000011dcd6500n, 'ptp')).toBe(1_500_000_000n);
  });
});

describe('error estimate: S(1) Z(1) Scale(6) Multiplier(8)', () => {
  it('packs the bits in RFC order', () => {
    expect(wire.encodeErrorEstimate({ synchronized: true, format: 'ntp', scale: 5, multiplier: 10 })).toBe(0x850a);
    expect(wire.encodeErrorEstimate({ synchronized: false, format: 'ptp', scale: 0x3f, multiplier: 1 })).toBe(0x7f01);
  });

  it('unpacks them', () => {
    expect(wire.decodeErrorEstimate(0xc203)).toEqual({ synchronized: true, format: 'ptp', scale: 2, multiplier: 3 });
  });
});

/** The error a call throws, for checking its class, code and message together. */
function thrown(call: () => unknown): Error & { code?: string } {
  try {
    call();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the call to throw');
}

describe('argument checks: a bad argument is refused, never converted into other bytes', () => {
  const sender = { seq: 1, timestamp: 1n, errorEstimate: 1, ssid: 0 };
  const reflector = { ...sender, receiveTimestamp: 2n, senderSeq: 1, senderTimestamp: 1n, senderErrorEstimate: 1, senderTtl: 64 };

  it('a value of the wrong type is a TypeError with ERR_INVALID_ARG_TYPE, naming the field and what it got', () => {
    const e = thrown(() => wire.encodeSender({ ...sender, seq: '7' as never }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(e.message).toBe("field 'seq' must be a number, got a string");
    expect(thrown(() => wire.encodeSender({ ...sender, timestamp: 1 as never })).message).toBe("field 'timestamp' must be a bigint, got a number");
    expect(thrown(() => wire.encodeSender({ seq: 1, timestamp: 1n, errorEstimate: 1 } as never)).message).toBe("field 'ssid' must be a number, got undefined");
    expect(thrown(() => wire.encodeSender(sender, '64' as never)).message).toBe('size must be a number, got a string');
    expect(thrown(() => wire.encodeTimestamp(5 as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(thrown(() => wire.decodeTimestamp(5n, 1 as never)).message).toBe('timestamp format must be a string, got a number');
    expect(thrown(() => wire.decodeSender('bytes' as never)).message).toBe('packet must be a Buffer, got a string');
    expect(thrown(() => wire.decodeErrorEstimate('1' as never)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(thrown(() => wire.encodeErrorEstimate({ synchronized: 1 as never, format: 'ntp', scale: 0, multiplier: 1 })).code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it('a number that does not fit its field is a RangeError with ERR_OUT_OF_RANGE, not a truncated field', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => wire.encodeSender({ ...sender, ssid: 0x10000 }), "field 'ssid' must be an integer 0..65535, got 65536"],
      [() => wire.encodeSender({ ...sender, seq: 2 ** 32 }), "field 'seq' must be an integer 0..4294967295, got 4294967296"],
      [() => wire.encodeSender({ ...sender, seq: -1 }), "field 'seq' must be an integer 0..4294967295, got -1"],
      [() => wire.encodeSender({ ...sender, seq: 1.5 }), "field 'seq' must be an integer 0..4294967295, got 1.5"],
      [() => wire.encodeSender({ ...sender, errorEstimate: 70000 }), "field 'errorEstimate' must be an integer 0..65535, got 70000"],
      [() => wire.encodeReflector({ ...reflector, senderTtl: 256 }), "field 'senderTtl' must be an integer 0..255, got 256"],
      [() => wire.encodeReflector({ ...reflector, senderErrorEstimate: NaN }), "field 'senderErrorEstimate' must be an integer 0..65535, got NaN"],
      [() => wire.encodeSender(sender, 65508), 'size must be an integer 44..65507, got 65508'],
      [() => wire.decodeErrorEstimate(0x10000), 'error estimate must be an integer 0..65535, got 65536'],
      [() => wire.encodeErrorEstimate({ synchronized: true, format: 'ntp', scale: 64, multiplier: 1 }), "field 'scale' must be an integer 0..63, got 64"],
    ];
    for (const [call, message] of cases) {
      const e = thrown(call);
      expect(e, message).toBeInstanceOf(RangeError);
      expect(e.code, message).toBe('ERR_OUT_OF_RANGE');
      expect(e.message).toBe(message);
    }
    // The edges themselves fit.
    expect(wire.decodeSender(wire.encodeSender({ ...sender, seq: 2 ** 32 - 1, ssid: 0xffff }, wire.maxPacketSize))).toMatchObject({ seq: 2 ** 32 - 1, ssid: 0xffff });
  });

  it('a bigint that does not fit in 64 bits is refused rather than wrapped', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => wire.encodeSender({ ...sender, timestamp: 2n ** 64n }), "field 'timestamp' must fit in an unsigned 64-bit integer, got 18446744073709551616n"],
      [() => wire.encodeSender({ ...sender, timestamp: -1n }), "field 'timestamp' must fit in an unsigned 64-bit integer, got -1n"],
      [() => wire.encodeReflector({ ...reflector, receiveTimestamp: 2n ** 70n }), "field 'receiveTimestamp' must fit in an unsigned 64-bit integer, got 1180591620717411303424n"],
      [() => wire.decodeTimestamp(2n ** 64n), 'wire timestamp must fit in an unsigned 64-bit integer, got 18446744073709551616n'],
      [() => wire.encodeTimestamp(2n ** 63n), 'unixNs must fit in a signed 64-bit integer, got 9223372036854775808n'],
    ];
    for (const [call, message] of cases) {
      const e = thrown(call);
      expect(e, message).toBeInstanceOf(RangeError);
      expect(e.code, message).toBe('ERR_OUT_OF_RANGE');
      expect(e.message).toBe(message);
    }
    expect(wire.decodeSender(wire.encodeSender({ ...sender, timestamp: 2n ** 64n - 1n }))?.timestamp).toBe(2n ** 64n - 1n);
  });

  it('an unknown name is a RangeError with ERR_INVALID_ARG_VALUE listing the names it accepts', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => wire.encodeTimestamp(1n, 'gps' as never), 'timestamp format must be one of ntp, ptp, got "gps"'],
      [() => wire.decodeSender(Buffer.alloc(44), 'hmac' as never), 'layout must be one of unauthenticated, authenticated, got "hmac"'],
      [() => wire.encodeErrorEstimate({ synchronized: true, format: 'gps' as never, scale: 0, multiplier: 1 }), 'field \'format\' must be one of ntp, ptp, got "gps"'],
    ];
    for (const [call, message] of cases) {
      const e = thrown(call);
      expect(e, message).toBeInstanceOf(RangeError);
      expect(e.code, message).toBe('ERR_INVALID_ARG_VALUE');
      expect(e.message).toBe(message);
    }
  });
});
