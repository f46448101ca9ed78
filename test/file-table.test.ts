/**
 * Each session's loop thread runs with a file table of its own that holds only
 * stdio and the session's sockets. Its socket system calls then skip the file
 * reference counting a shared table costs, and a file the rest of the process
 * closes meanwhile is really closed, not kept open by the session.
 */
import fs from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { probe, startReflector } from '../src/index';

/** `read()`, or null when what it reads is gone (listing a table opens and closes a descriptor; threads end). */
function gone<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

/** The descriptors of each thread of this process named `name`, with what they are. */
function threadTables(name: string): Array<Map<number, string>> {
  const tables: Array<Map<number, string>> = [];
  for (const tid of fs.readdirSync('/proc/self/task')) {
    const dir = `/proc/self/task/${tid}`;
    if (gone(() => fs.readFileSync(`${dir}/comm`, 'utf8').trim()) !== name) continue;
    const table = new Map<number, string>();
    for (const fd of gone(() => fs.readdirSync(`${dir}/fd`)) ?? []) {
      const what = gone(() => fs.readlinkSync(`${dir}/fd/${fd}`));
      if (what !== null) table.set(Number(fd), what);
    }
    tables.push(table);
  }
  return tables;
}

/** A loop thread's table: the process's stdio and one socket, which the process's own table holds too. */
function expectOnlyStdioAndSocket(table: Map<number, string>): void {
  const fds = [...table.keys()].sort((a, b) => a - b);
  const socket = fds.filter((fd) => fd > 2);
  for (const fd of [0, 1, 2]) expect(table.get(fd) ?? null, `fd ${fd}`).toBe(gone(() => fs.readlinkSync(`/proc/self/fd/${fd}`)));
  expect(socket).toHaveLength(1);
  expect(table.get(socket[0]!)).toMatch(/^socket:\[\d+\]$/);
  expect(fs.readlinkSync(`/proc/self/fd/${socket[0]}`)).toBe(table.get(socket[0]!));
}

const until = async (condition: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
};

describe('the loop thread file table', () => {
  it('holds only stdio and the socket, for a reflector and for a probe', async () => {
    expect(fs.readdirSync('/proc/self/fd').length).toBeGreaterThan(6);
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
    const session = probe({ host: '127.0.0.1', port: reflector.address.port }, { duration: '2s' });
    try {
      await until(() => threadTables('rtt-probe loop').length === 2);
      const tables = threadTables('rtt-probe loop');
      expect(tables).toHaveLength(2);
      for (const table of tables) expectOnlyStdioAndSocket(table);
      // The relay, which wakes the event loop, shares the process's table.
      const relays = threadTables('rtt-probe relay');
      expect(relays).toHaveLength(2);
      for (const relay of relays) for (const [fd, what] of tables[0]!) expect(relay.get(fd)).toBe(what);
      for (const relay of relays) expect(relay.size).toBeGreaterThan(6);
    } finally {
      session.stop();
      await reflector.stop();
    }
    const [probed, reflected] = [await session.result, await reflector.result];
    expect(probed.granted.privateFileTable).toBe(true);
    expect(reflected.granted.privateFileTable).toBe(true);
    // Both threads of each session end (a joined thread can linger in /proc for a moment).
    await until(() => threadTables('rtt-probe loop').length + threadTables('rtt-probe relay').length === 0);
    expect(threadTables('rtt-probe loop')).toEqual([]);
    expect(threadTables('rtt-probe relay')).toEqual([]);
  });

  it('lets a listening socket the process closes during a session be bound again', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0 });
    const session = probe({ host: '127.0.0.1', port: reflector.address.port }, { duration: '2s' });
    try {
      await until(() => threadTables('rtt-probe loop').length === 2);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // A copy of the whole table would hold the listening socket open: EADDRINUSE.
      const again = net.createServer();
      await new Promise<void>((resolve, reject) => {
        again.once('error', reject);
        again.listen(port, '127.0.0.1', resolve);
      });
      await new Promise<void>((resolve) => again.close(() => resolve()));
    } finally {
      session.stop();
      await reflector.stop();
    }
  });

  it('passes progress on from the loop thread while it runs', async () => {
    const reflector = await startReflector({ bind: '127.0.0.1', port: 0, progressInterval: '20ms' });
    try {
      const session = probe({ host: '127.0.0.1', port: reflector.address.port }, { duration: '300ms', progressInterval: '20ms' });
      const sent: number[] = [];
      session.on('progress', (p) => sent.push(p.sent));
      const reflected: number[] = [];
      reflector.on('progress', (p) => reflected.push(p.reflected));
      const result = await session.result;
      expect(sent.length).toBeGreaterThanOrEqual(5);
      expect(sent.at(-1)).toBeGreaterThan(sent[0]!);
      expect(reflected.length).toBeGreaterThanOrEqual(5);
      expect(result.counters.received).toBeGreaterThan(0);
    } finally {
      await reflector.stop();
    }
  });
});
