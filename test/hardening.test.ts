/**
 * A reflector on a production host must not be a tool for others: it never
 * answers with more bytes than it received, never answers a reflector's
 * reply (no reflector-to-reflector loops), answers only allowed sources at
 * bounded rates, keeps bounded, expiring state in stateful mode, and counts
 * every request it leaves unanswered under the reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startReflector, wire, type Reflector, type ReflectorOptions, type ReflectorProgress } from '../src/index';
import { burst, client, exchange } from './support/udp';

const reflectors: Reflector[] = [];
afterEach(async () => {
  await Promise.all(reflectors.splice(0).map((r) => r.stop()));
});

async function reflector(options: ReflectorOptions = {}): Promise<Reflector> {
  const r = await startReflector({ bind: '127.0.0.1', port: 0, busyPoll: false, progressInterval: '20ms', ...options });
  reflectors.push(r);
  return r;
}

function counters(r: Reflector): Promise<ReflectorProgress> {
  return new Promise((resolve) => r.once('progress', resolve));
}

const request = (seq: number, size = 44, ssid = 0) =>
  wire.encodeSender({ seq, timestamp: wire.encodeTimestamp(BigInt(Date.now()) * 1_000_000n), errorEstimate: 1, ssid }, size);

describe('no amplification', () => {
  it.each([44, 45, 100, 1472])('answers a %d-byte request with exactly that many bytes', async (size) => {
    const r = await reflector();
    expect(await exchange(r.address.port, '127.0.0.1', request(1, size))).toHaveLength(size);
  });

  it.each([14, 20, 43])('leaves a %d-byte request unanswered and counts it as malformed (TWAMP-Light off)', async (size) => {
    const r = await reflector();
    expect(await exchange(r.address.port, '127.0.0.1', request(1).subarray(0, size), 150)).toBeNull();
    expect((await counters(r)).malformed).toBe(1);
  });

  it('with --twamp-light answers a 14-byte TWAMP-Light request with the 41-byte reflector packet, still allow-listed', async () => {
    const r = await reflector({ twampLight: true, allow: '127.0.0.0/8' });
    const reply = await exchange(r.address.port, '127.0.0.1', request(9).subarray(0, 14));
    expect(reply).toHaveLength(41);
    expect(wire.decodeReflector(reply!)).toMatchObject({ seq: 9, senderSeq: 9, ssid: 0, senderTtl: 64 });
    // A request longer than 41 bytes gets a reply of its own length.
    expect(await exchange(r.address.port, '127.0.0.1', request(10).subarray(0, 42))).toHaveLength(42);
    const denied = await reflector({ twampLight: true, allow: '198.18.0.0/15' });
    expect(await exchange(denied.address.port, '127.0.0.1', request(9).subarray(0, 14), 150)).toBeNull();
    expect((await counters(denied)).denied).toBe(1);
  });
});

describe('no reflector-to-reflector loops', () => {
  it("leaves a reflector's reply unanswered and counts it as a loop", async () => {
    const a = await reflector();
    const reply = await exchange(a.address.port, '127.0.0.1', request(5));
    expect(wire.decodeReflector(reply!)!.receiveTimestamp).not.toBe(0n);
    // The reply, sent on to a reflector (this one or another), goes no further.
    expect(await exchange(a.address.port, '127.0.0.1', reply!, 150)).toBeNull();
    expect((await counters(a)).loops).toBe(1);
  });

  it('a TWAMP-Light reflector reply (41 bytes) is a loop too', async () => {
    const a = await reflector({ twampLight: true });
    const reply = await exchange(a.address.port, '127.0.0.1', request(5).subarray(0, 14));
    expect(await exchange(a.address.port, '127.0.0.1', reply!, 150)).toBeNull();
    expect((await counters(a)).loops).toBe(1);
  });
});

describe('source allow-list', () => {
  it.each([
    [['127.0.0.0/8'], '127.0.0.1', true],
    [['198.18.0.0/15', '127.0.0.1'], '127.0.0.1', true],
    [['198.18.0.0/15'], '127.0.0.1', false],
    [['::1/128'], '::1', true],
    [['2001:2::/48'], '::1', false],
  ])('%j: a request from %s is answered: %s', async (allow, host, answered) => {
    const r = await reflector({ bind: '::', allow });
    const reply = await exchange(r.address.port, host, request(1), 150);
    expect(reply !== null).toBe(answered);
    const c = await counters(r);
    expect(c.denied).toBe(answered ? 0 : 1);
  });
});

describe('reply-rate limits', () => {
  const requests = (n: number) => Array.from({ length: n }, (_, i) => request(i));
  const replies = async (port: number, host: string, n: number) => (await burst(port, host, requests(n))).length;
  /** At 100/s a back-to-back burst gets about 10 replies (a tenth of a second), plus one per 10 ms it lasts. */
  const expectOneBudget = (answered: number) => {
    expect(answered).toBeGreaterThanOrEqual(10);
    expect(answered).toBeLessThan(40);
  };
  /** Every request that arrived was either answered or counted under `counter`. */
  const expectRestCountedAs = async (r: Reflector, answered: number, counter: 'rateLimited' | 'globalRateLimited') => {
    const c = await counters(r);
    expect(c.reflected).toBe(answered);
    expect(c[counter]).toBe(c.received - c.reflected);
    expect(c[counter]).toBeGreaterThan(200);
    return c;
  };

  it('per source: a burst gets a tenth of a second of the rate, the rest is counted as rate limited', async () => {
    const r = await reflector({ rateLimit: 100 });
    // Two sockets, one source address (127.0.0.1): one budget.
    const [a, b] = await Promise.all([replies(r.address.port, '127.0.0.1', 200), replies(r.address.port, '127.0.0.1', 200)]);
    expectOneBudget(a + b);
    await expectRestCountedAs(r, a + b, 'rateLimited');
  });

  it('per source: separate sources have separate budgets', async () => {
    const r = await reflector({ bind: '::', rateLimit: 100 });
    const [v4, v6] = await Promise.all([replies(r.address.port, '127.0.0.1', 100), replies(r.address.port, '::1', 100)]);
    expectOneBudget(v4);
    expectOneBudget(v6);
  });

  it('global: all sources together stay within the global rate', async () => {
    const r = await reflector({ bind: '::', globalRateLimit: 100 });
    const [v4, v6] = await Promise.all([replies(r.address.port, '127.0.0.1', 150), replies(r.address.port, '::1', 150)]);
    expectOneBudget(v4 + v6);
    expect((await expectRestCountedAs(r, v4 + v6, 'globalRateLimited')).rateLimited).toBe(0);
  });

  it('a rate limit too small to be one is refused, not taken as no limit', async () => {
    await expect(reflector({ rateLimit: 1e-10 })).rejects.toThrow(/rateLimit must be from 0.001/);
    await expect(reflector({ globalRateLimit: 1e-10 })).rejects.toThrow(/globalRateLimit must be from 0.001/);
  });
});

describe('stateful mode', () => {
  it('numbers replies per session (address, port, SSID) and answers each sender sequence number once', async () => {
    const r = await reflector({ stateful: true });
    const one = await client(r.address.port);
    const two = await client(r.address.port);
    try {
      const seqs = async (c: typeof one, ssid: number, from: number) => {
        const out: number[] = [];
        for (let i = from; i < from + 3; i++) out.push(wire.decodeReflector((await c.exchange(request(i, 44, ssid)))!)!.seq);
        return out;
      };
      expect(await seqs(one, 1, 500)).toEqual([0, 1, 2]);
      expect(await seqs(two, 1, 500)).toEqual([0, 1, 2]); // another port: another session
      expect(await seqs(one, 2, 900)).toEqual([0, 1, 2]); // another SSID: another session
      expect(await seqs(one, 1, 503)).toEqual([3, 4, 5]);
      expect(await one.exchange(request(501, 44, 1), 150)).toBeNull(); // a duplicate of an answered request
      const c = await counters(r);
      expect(c).toMatchObject({ replayed: 1, activeSessions: 3 });
    } finally {
      one.close();
      two.close();
    }
  });

  it('refuses new sessions beyond maxSessions once all have proved themselves, and forgets idle ones after sessionTimeout', async () => {
    const r = await reflector({ stateful: true, maxSessions: 2, sessionTimeout: '100ms' });
    const clients = await Promise.all([0, 1, 2].map(() => client(r.address.port)));
    try {
      // Two answered requests each: proven sessions, which no newcomer displaces.
      for (const c of clients.slice(0, 2)) {
        expect(await c.exchange(request(1))).not.toBeNull();
        expect(await c.exchange(request(2))).not.toBeNull();
      }
      expect(await clients[2]!.exchange(request(1), 150)).toBeNull();
      expect(await counters(r)).toMatchObject({ sessionsRefused: 1, activeSessions: 2 });
      // Sessions are swept once a second; idle ones are then gone and make room.
      await new Promise((resolve) => setTimeout(resolve, 1300));
      expect((await counters(r)).activeSessions).toBe(0);
      expect(await clients[2]!.exchange(request(1))).not.toBeNull();
    } finally {
      for (const c of clients) c.close();
    }
  });

  it("one request far ahead with the session's address, port and SSID (a spoofer's) does not mute the session", async () => {
    const r = await reflector({ stateful: true });
    const sender = await client(r.address.port);
    try {
      const answered = async (from: number, to: number) => {
        let n = 0;
        for (let seq = from; seq < to; seq++) n += (await sender.exchange(request(seq, 44, 3), 150)) ? 1 : 0;
        return n;
      };
      expect(await answered(0, 100)).toBe(100);
      expect(await sender.exchange(request(0x40000000, 44, 3), 150)).toBeNull();
      expect(await answered(100, 400)).toBe(300);
      expect(await counters(r)).toMatchObject({ replayed: 0, outOfWindow: 1 });
    } finally {
      sender.close();
    }
  });

  it('one captured request replayed from many ports cannot lock real senders out of a full session table', async () => {
    const r = await reflector({ stateful: true, maxSessions: 4 });
    const [real, late, ...replayers] = await Promise.all(Array.from({ length: 22 }, () => client(r.address.port)));
    try {
      const captured = request(7);
      expect(await real!.exchange(captured)).not.toBeNull();
      expect(await real!.exchange(request(8))).not.toBeNull();
      for (const replayer of replayers) await replayer.exchange(captured, 20);
      // The proven session goes on, and a sender that comes later gets in and stays.
      for (const [c, seq] of [[real, 9], [late, 1], [late, 2], [real, 10]] as const) expect(await c!.exchange(request(seq))).not.toBeNull();
      const c = await counters(r);
      expect(c.sessionsEvicted).toBeGreaterThan(0);
      expect(c.activeSessions).toBeLessThanOrEqual(4);
    } finally {
      for (const c of [real, late, ...replayers]) c!.close();
    }
  });
});
