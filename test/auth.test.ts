/**
 * Authenticated STAMP (RFC 8762 4.4): 112-byte packets whose last 16 bytes
 * are HMAC-SHA-256 over the rest, with a key shared by sender and reflector.
 * The engine's HMAC (OpenSSL, through Node) is checked against node:crypto;
 * anything that does not verify is refused and counted, never measured.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe, startReflector, wire, type Reflector, type ReflectorProgress } from '../src/index';
import { runCli, startCliReflector } from './support/cli';
import { replyTo, sign, startDouble, verifies, type Behaviour } from './support/reflector-double';
import { client, exchange } from './support/udp';

const key = crypto.randomBytes(32);
const otherKey = crypto.randomBytes(32);

/** A signed Session-Sender packet, as another STAMP implementation would send it. */
function request(seq: number, signingKey = key, ssid = 7): Buffer {
  const t = wire.encodeTimestamp(BigInt(Date.now()) * 1_000_000n);
  return sign(wire.encodeSender({ seq, timestamp: t, errorEstimate: 0x0001, ssid }, 112, 'authenticated'), signingKey);
}

/** The reflector's counters at its next progress snapshot. */
function counters(reflector: Reflector): Promise<ReflectorProgress> {
  return new Promise((resolve) => reflector.once('progress', resolve));
}

describe('sender and reflector sharing a key', () => {
  it('measure every probe with 112-byte authenticated packets', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0, key });
    try {
      const r = await probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 500, key }).result;
      expect(r.counters).toMatchObject({ sent: 500, received: 500, lost: 0, authFailures: 0, malformed: 0 });
      expect(r.options).toMatchObject({ size: 112, authenticated: true });
      expect(r.metrics['rtt.kernel']!.count).toBe(500);
      expect(r.metrics.residence!.count).toBe(500);
    } finally {
      const done = await reflector.stop();
      expect(done).toMatchObject({ reflected: 510, authFailures: 0 });
      expect(done.options.authenticated).toBe(true);
      expect(JSON.stringify(done)).not.toContain(key.toString('hex'));
      expect(done.options).not.toHaveProperty('key');
    }
  });

  it("sign exactly what node:crypto's HMAC-SHA-256 computes, both ways", async () => {
    const seen: Buffer[] = [];
    const double = await startDouble((req, send) => {
      seen.push(req);
      if (verifies(req, key)) send(replyTo(req, key));
    });
    try {
      const r = await probe({ host: '127.0.0.1', port: double.port }, { count: 20, warmup: 0, key, busyPoll: false }).result;
      expect(r.counters.received).toBe(20);
      expect(seen.every((p) => p.length === 112 && verifies(p, key))).toBe(true);
    } finally {
      await double.close();
    }
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0, key, busyPoll: false });
    try {
      const reply = await exchange(reflector.address.port, '127.0.0.1', request(1));
      expect(reply).toHaveLength(112);
      expect(verifies(reply!, key)).toBe(true);
      expect(wire.decodeReflector(reply!, 'authenticated')).toMatchObject({ senderSeq: 1, ssid: 7, senderTtl: 64 });
    } finally {
      await reflector.stop();
    }
  });
});

describe('padding after the HMAC (bytes past 112)', () => {
  it('works with --size above 112, and is not covered by the HMAC, as RFC 8762 defines it', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0, key, busyPoll: false });
    try {
      const r = await probe({ host: '127.0.0.1', port: reflector.address.port }, { count: 50, warmup: 0, key, size: 300, busyPoll: false }).result;
      expect(r.counters).toMatchObject({ received: 50, authFailures: 0 });
      // Anyone on the path may change the padding: the request still verifies, and the padding comes back as changed.
      const padded = Buffer.concat([request(1), Buffer.alloc(88, 0xee)]);
      const reply = await exchange(reflector.address.port, '127.0.0.1', padded);
      expect(reply).toHaveLength(200);
      expect(verifies(reply!, key)).toBe(true);
      expect(reply!.subarray(112).every((b) => b === 0xee)).toBe(true);
    } finally {
      await reflector.stop();
    }
  });
});

describe('a reflector with a key', () => {
  let reflector: Reflector;
  beforeAll(async () => {
    reflector = await startReflector({ bind: '127.0.0.1', port: 0, key, busyPoll: false, progressInterval: '20ms' });
  });
  afterAll(async () => {
    await reflector.stop();
  });

  it.each([
    ['signed with another key', () => request(1, otherKey), 'authFailures'],
    ['with a flipped bit', () => { const p = request(2); p[20] ^= 0x10; return p; }, 'authFailures'],
    ['with a flipped HMAC bit', () => { const p = request(3); p[111] ^= 0x01; return p; }, 'authFailures'],
    ['truncated to 111 bytes', () => request(4).subarray(0, 111), 'malformed'],
    ['unauthenticated (44 bytes)', () => wire.encodeSender({ seq: 5, timestamp: 1n, errorEstimate: 1, ssid: 0 }), 'malformed'],
  ] as const)('refuses a request %s and counts it under %s', async (_name, make, counter) => {
    const before = (await counters(reflector))[counter];
    expect(await exchange(reflector.address.port, '127.0.0.1', make(), 150)).toBeNull();
    const after = await counters(reflector);
    expect(after[counter]).toBe(before + 1);
  });
});

describe('a sender with a key', () => {
  async function against(behaviour: Behaviour) {
    const double = await startDouble(behaviour);
    try {
      return await probe({ host: '127.0.0.1', port: double.port }, { count: 10, warmup: 0, key, timeout: '50ms', busyPoll: false }).result;
    } finally {
      await double.close();
    }
  }

  it('discards and counts replies signed with another key', async () => {
    const r = await against((req, send) => send(replyTo(req, otherKey)));
    expect(r.counters).toMatchObject({ received: 0, lost: 10, authFailures: 10 });
    expect(r.metrics['rtt.user']).toBeUndefined();
  });

  it('discards and counts replies with flipped bits', async () => {
    const r = await against((req, send) => {
      const reply = replyTo(req, key);
      reply[40] ^= 0x80; // inside T2
      send(reply);
    });
    expect(r.counters).toMatchObject({ received: 0, authFailures: 10 });
  });

  it('counts truncated replies as malformed', async () => {
    const r = await against((req, send) => send(replyTo(req, key).subarray(0, 100)));
    expect(r.counters).toMatchObject({ received: 0, malformed: 10, authFailures: 0 });
  });

  it('counts a replayed reply as a duplicate, not a second sample', async () => {
    const r = await against((req, send) => {
      const reply = replyTo(req, key);
      send(reply);
      send(Buffer.from(reply));
    });
    expect(r.counters.received).toBe(10);
    expect(r.metrics['rtt.user']!.count).toBe(10);
    expect(r.counters.duplicates).toBeGreaterThanOrEqual(9);
  });
});

describe('a stateful reflector with a key', () => {
  it('answers each sender sequence number once and counts replayed requests', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0, key, stateful: true, busyPoll: false });
    const c = await client(reflector.address.port);
    try {
      const first = request(100);
      const answered = await c.exchange(first);
      expect(wire.decodeReflector(answered!, 'authenticated')).toMatchObject({ seq: 0, senderSeq: 100 });
      expect(await c.exchange(first, 150)).toBeNull(); // the same bytes again: a replay
      const next = await c.exchange(request(101));
      expect(wire.decodeReflector(next!, 'authenticated')).toMatchObject({ seq: 1, senderSeq: 101 });
      expect(await c.exchange(request(100), 150)).toBeNull(); // re-signed, but a sequence number already answered
    } finally {
      c.close();
      const done = await reflector.stop();
      expect(done).toMatchObject({ reflected: 2, replayed: 2 });
    }
  });
});

describe('the CLI with a key', () => {
  it('takes it from a file (reflect) and the environment (probe), and never prints it', async () => {
    const secret = `not-for-print-${crypto.randomBytes(12).toString('hex')}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtt-probe-key-'));
    const file = path.join(dir, 'key');
    fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    process.env.RTT_PROBE_KEY = Buffer.from(secret).toString('hex'); // the same key, as text a shell can carry
    const reflector = await startCliReflector('127.0.0.1:0', { extra: ['--key-file', file, '--stateful'] });
    try {
      const run = await runCli(['probe', `127.0.0.1:${reflector.listening.port}`, '--key-env', '--count', '200', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const r = JSON.parse(run.stdout);
      expect(r).toMatchObject({ received: 200, authFailures: 0, options: { authenticated: true, size: 112 } });
      expect(run.stdout + run.stderr).not.toContain(secret);
      expect(run.stdout + run.stderr).not.toContain(Buffer.from(secret).toString('hex'));
    } finally {
      delete process.env.RTT_PROBE_KEY;
      reflector.child.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const done = await reflector.done;
    expect(done.code).toBe(143);
    expect(JSON.parse(done.stdout.trim().split('\n').at(-1)!)).toMatchObject({ reflected: 210, options: { authenticated: true } });
    expect(done.stdout + done.stderr).not.toContain(secret);
  });
});
