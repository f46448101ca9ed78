/**
 * The reflector as a STAMP peer sees it, probed with plain UDP sockets: replies
 * built from the request (sequence echoed in stateless mode, sender fields
 * copied, TTL, T2 <= T3), never larger than the request, and nothing for
 * packets too short to be STAMP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReflector, wire, type Reflector } from '../src/index';
import { exchange } from './support/udp';

describe('reflector', () => {
  let reflector: Reflector;
  beforeAll(async () => {
    reflector = await startReflector({ bind: '::', port: 0, busyPoll: false });
  });
  afterAll(async () => {
    await reflector.stop();
  });

  const request = (size: number) =>
    wire.encodeSender({ seq: 7, timestamp: wire.encodeTimestamp(BigInt(Date.now()) * 1_000_000n), errorEstimate: 0x8001, ssid: 0x1234 }, size);

  it.each([
    ['IPv4 (v4-mapped on a wildcard IPv6 socket)', '127.0.0.1'],
    ['IPv6', '::1'],
  ])('answers %s with the request fields, TTL and T2 <= T3', async (_name, host) => {
    const sent = request(44);
    const before = BigInt(Date.now() - 1) * 1_000_000n;
    const reply = await exchange(reflector.address.port, host, sent);
    expect(reply).not.toBeNull();
    const r = wire.decodeReflector(reply!)!;
    const s = wire.decodeSender(sent)!;
    expect(r).toMatchObject({ seq: 7, senderSeq: 7, ssid: 0x1234, senderTimestamp: s.timestamp, senderErrorEstimate: 0x8001 });
    expect(r.senderTtl).toBe(64);
    const t2 = wire.decodeTimestamp(r.receiveTimestamp);
    const t3 = wire.decodeTimestamp(r.timestamp);
    expect(t2).toBeGreaterThanOrEqual(before);
    expect(t3).toBeGreaterThanOrEqual(t2);
    expect(wire.decodeErrorEstimate(r.errorEstimate).multiplier).toBeGreaterThan(0);
  });

  it('answers a padded request with a reply of the same length, echoing the padding', async () => {
    const sent = request(300);
    sent.fill(0xab, 44);
    const reply = await exchange(reflector.address.port, '127.0.0.1', sent);
    expect(reply!.length).toBe(300);
    expect(reply!.subarray(44).every((b) => b === 0xab)).toBe(true);
  });

  it('drops and counts packets shorter than 44 bytes without answering', async () => {
    const reply = await exchange(reflector.address.port, '127.0.0.1', request(44).subarray(0, 43));
    expect(reply).toBeNull();
    const counters = await new Promise<{ malformed: number }>((resolve) => reflector.once('progress', resolve));
    expect(counters.malformed).toBeGreaterThanOrEqual(1);
  });
});
