/**
 * The mesh: one native thread probing many reflectors continuously, whose
 * targets come and go while it runs. Adding or removing a target leaves the
 * others probing; no thread is made per target; blocking mode costs little
 * CPU; snapshots carry cumulative counters and Prometheus bucket counts.
 */
import { readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MESH_BUCKET_BOUNDS_NS, MeshError, OptionRangeError, OptionTypeError, startMesh, startReflector, type MeshSession, type Reflector } from '../src/index';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const threads = () => readdirSync('/proc/self/task').length;

let reflector: Reflector;
let mesh: MeshSession | undefined;

beforeEach(async () => {
  reflector = await startReflector({ bind: '127.0.0.1', port: 0, busyPoll: false });
});

afterEach(async () => {
  await mesh?.close().catch(() => undefined);
  mesh = undefined;
  await reflector.stop();
});

const target = (name: string) => ({ name, address: '127.0.0.1', port: reflector.address.port });

async function sentBy(m: MeshSession): Promise<Map<string, number>> {
  const s = await m.snapshot();
  return new Map(s.targets.map((t) => [t.target.name, t.counters.sent]));
}

describe('a mesh', () => {
  it('keeps probing the other targets while one is added and one removed', async () => {
    // b has a reflector of its own, whose counters show when its probes stop.
    const other = await startReflector({ bind: '127.0.0.1', port: 0, busyPoll: false, progressInterval: '50ms' });
    let answered = 0;
    other.on('progress', (p) => (answered = p.reflected));
    const b = { name: 'b', address: '127.0.0.1', port: other.address.port };
    mesh = startMesh({ rate: 50 });
    await mesh.add(target('a'));
    await mesh.add(b);
    await sleep(300);
    const before = await sentBy(mesh);
    expect(before.get('a')).toBeGreaterThan(0);

    expect(mesh.remove(b)).toBe(true);
    await mesh.add(target('c'));
    await sleep(200);
    const answeredAfterRemoval = answered;
    expect(answeredAfterRemoval).toBeGreaterThan(0);
    await sleep(200);
    expect(answered).toBe(answeredAfterRemoval);
    await other.stop();
    const after = await sentBy(mesh);
    expect([...after.keys()].sort()).toEqual(['a', 'c']);
    expect(after.get('a')!).toBeGreaterThan(before.get('a')! + 8);  // 50/s for 0.4 s: about 20 more
    expect(after.get('c')).toBeGreaterThan(0);
    expect(mesh.targets().map((t) => t.name).sort()).toEqual(['a', 'c']);
    expect(mesh.remove(b)).toBe(false);
  });

  it('probes 50 targets on its one thread: adding them starts no thread', async () => {
    mesh = startMesh({ rate: 5 });
    const at = threads();
    for (let i = 0; i < 50; ++i) await mesh.add(target(`t${i}`));
    await sleep(500);
    expect(threads()).toBe(at);
    const s = await mesh.snapshot();
    expect(s.targets).toHaveLength(50);
    expect(s.targets.every((t) => t.counters.sent > 0)).toBe(true);
  });

  it('blocks between probes: 20 targets at 10/s cost a small fraction of a core', async () => {
    mesh = startMesh();
    for (let i = 0; i < 20; ++i) await mesh.add(target(`t${i}`));
    await sleep(300);
    const cpu = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await sleep(3000);
    const used = process.cpuUsage(cpu);
    const share = (used.user + used.system) / (Number(process.hrtime.bigint() - t0) / 1e3);
    // The reflector in this process answers too; a busy-polling loop would show ~1.
    expect(share).toBeLessThan(0.2);
  });

  it('carries cumulative counters, bucket counts that add up, the last reply and up', async () => {
    mesh = startMesh({ rate: 100, jitter: 0.2 });
    await mesh.add(target('a'));
    await sleep(600);
    const first = (await mesh.snapshot()).targets[0]!;
    await sleep(300);
    const s = await mesh.snapshot();
    const t = s.targets[0]!;
    expect(t.counters.sent).toBeGreaterThan(first.counters.sent);
    expect(t.counters.received).toBeGreaterThan(0);
    expect(t.counters.lost).toBe(0);
    expect(t.up).toBe(true);
    expect(t.lastReplyNs).toBeGreaterThan(s.atNs - 1e9);
    expect(t.lastReplyNs).toBeLessThanOrEqual(s.atNs);
    const user = t.metrics['rtt.user']!;
    expect(user.count).toBe(t.counters.received);
    expect(user.buckets).toHaveLength(MESH_BUCKET_BOUNDS_NS.length + 1);
    expect(user.buckets[user.buckets.length - 1]).toBe(user.count);  // +Inf holds every sample
    for (let i = 1; i < user.buckets.length; ++i) expect(user.buckets[i]!).toBeGreaterThanOrEqual(user.buckets[i - 1]!);
    expect(user.sumNs / user.count).toBeGreaterThan(1000);  // loopback RTT: µs, not ns
    expect(user.sumNs / user.count).toBeLessThan(10e6);
    // 100/s jittered +-20% for 0.9 s: the mean rate holds.
    expect(t.counters.sent).toBeGreaterThan(60);
    expect(t.counters.sent).toBeLessThan(120);
  });

  it('marks a target without a reflector down, and counts its probes lost', async () => {
    mesh = startMesh({ rate: 20, timeout: '100ms' });
    await mesh.add({ name: 'nobody', address: '127.0.0.1', port: 9 });
    await sleep(800);
    const t = (await mesh.snapshot()).targets[0]!;
    expect(t.up).toBe(false);
    expect(t.lastReplyNs).toBeNull();
    expect(t.counters.received).toBe(0);
    expect(t.counters.lost).toBeGreaterThan(0);
  });

  it('refuses bad input with errors that say what to do', async () => {
    expect(() => startMesh({ jitter: 0.9 })).toThrow(OptionRangeError);
    expect(() => startMesh({ rate: -1 })).toThrow(/rate must be between/);
    expect(() => startMesh({ bucketBoundsNs: [10, 5] })).toThrow(/ascending/);
    mesh = startMesh();
    await expect(mesh.add({ name: '', address: '127.0.0.1', port: 862 })).rejects.toThrow(OptionTypeError);
    await expect(mesh.add({ name: 'a', address: '127.0.0.1', port: 0 })).rejects.toThrow(/port must be an integer from 1 to 65535/);
    await mesh.add(target('a'));
    await expect(mesh.add(target('a'))).rejects.toMatchObject({ code: 'ERR_MESH_DUPLICATE_TARGET' });
    await expect(mesh.add({ name: 'x', address: 'no-such-host.invalid', port: 862 })).rejects.toThrow(/cannot resolve mesh target "x"/);
    await mesh.close();
    await expect(mesh.add(target('b'))).rejects.toThrow(MeshError);
    await expect(mesh.snapshot()).rejects.toMatchObject({ code: 'ERR_MESH_CLOSED' });
  });
});
