/**
 * The sender's bookkeeping against reflector doubles that misbehave on
 * purpose (duplicate, delay past the timeout, reorder, truncate, corrupt):
 * each anomaly is counted under its own name and never recorded as a sample.
 */
import { describe, expect, it } from 'vitest';
import { probe } from '../src/index';
import { replyTo, startDouble, type Behaviour } from './support/reflector-double';

async function against(behaviour: Behaviour, options: Parameters<typeof probe>[1]) {
  const double = await startDouble(behaviour);
  try {
    return await probe({ host: '127.0.0.1', port: double.port }, { warmup: 0, busyPoll: false, ...options }).result;
  } finally {
    await double.close();
  }
}

describe('sender accounting', () => {
  it('counts a second reply to the same probe as a duplicate, not a sample', async () => {
    const r = await against(
      (req, send) => {
        send(replyTo(req));
        send(replyTo(req));
      },
      { count: 50 },
    );
    expect(r.counters.received).toBe(50);
    expect(r.metrics['rtt.user']!.count).toBe(50);
    // The last probe's duplicate may arrive after the run ended.
    expect(r.counters.duplicates).toBeGreaterThanOrEqual(49);
  });

  it('counts a reply after the timeout as late and the probe as lost', async () => {
    // Each reply lands while the next probe is waiting: 70 ms after its own probe, 20 ms past its timeout.
    const r = await against((req, send) => setTimeout(() => send(replyTo(req)), 70), { count: 4, timeout: '50ms' });
    expect(r.counters).toMatchObject({ sent: 4, received: 0, lost: 4 });
    expect(r.counters.late).toBeGreaterThanOrEqual(3);
    expect(r.metrics['rtt.user']).toBeUndefined();
    expect(r.missing['rtt.user']).toBe(`no replies were received within the timeout; ${r.counters.late} came after it`);
  });

  it('counts replies that overtake earlier ones as reordered, and keeps them as samples', async () => {
    let held: Buffer | undefined;
    const r = await against(
      (req, send) => {
        // Answer in pairs, newest first.
        if (held) {
          send(replyTo(req));
          send(replyTo(held));
          held = undefined;
        } else {
          held = req;
        }
      },
      { mode: 'rate', rate: 1000, count: 100, timeout: '500ms' },
    );
    expect(r.counters.received).toBe(100);
    expect(r.counters.reordered).toBe(50);
  });

  it.each([41, 38])('measures %d-byte replies, as TWAMP-Light reflectors send them', async (size) => {
    const r = await against((req, send) => send(replyTo(req).subarray(0, size)), { count: 20 });
    expect(r.counters).toMatchObject({ received: 20, lost: 0, malformed: 0 });
    expect(r.metrics['rtt.user']!.count).toBe(20);
    expect(r.metrics.residence!.count).toBe(20);
  });

  it('counts replies shorter than 36 bytes (no room for the sender timestamp) as malformed', async () => {
    const r = await against((req, send) => send(replyTo(req).subarray(0, 35)), { count: 3, timeout: '50ms' });
    expect(r.counters).toMatchObject({ received: 0, lost: 3, malformed: 3 });
  });

  it.each([
    ['echoes a T1 the probe did not carry', (reply: Buffer) => (reply[35] ^= 0x01)],
    ['stamps T3 before T2', (reply: Buffer) => reply.writeUInt32BE(reply.readUInt32BE(16) - 1, 4)],
    ['claims a residence longer than the round trip', (reply: Buffer) => reply.writeUInt32BE(reply.readUInt32BE(16) + 10, 4)],
  ])('counts a reply that %s as corrupted, never as a sample', async (_name, corrupt) => {
    const r = await against(
      (req, send) => {
        const reply = replyTo(req);
        corrupt(reply);
        send(reply);
      },
      { count: 5, timeout: '50ms' },
    );
    expect(r.counters).toMatchObject({ received: 0, lost: 5, corrupted: 5 });
    expect(r.metrics['rtt.user']).toBeUndefined();
  });

  it('says residence and one-way delays are missing when the reflector leaves T2 and T3 empty', async () => {
    const r = await against(
      (req, send) => {
        const reply = replyTo(req);
        reply.fill(0, 4, 12); // T3
        reply.fill(0, 16, 24); // T2
        send(reply);
      },
      { count: 20 },
    );
    expect(r.counters.received).toBe(20);
    expect(r.metrics.residence).toBeUndefined();
    expect(r.missing.residence).toMatch(/T2\/T3/);
    expect(r.metrics['rtt.kernel']!.count).toBe(20);
  });
});
