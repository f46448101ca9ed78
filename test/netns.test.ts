/**
 * The same checks as on loopback, across two network namespaces joined by a
 * veth pair: reflector in one, sender in the other, each a CLI process.
 * Needs root; the namespaces are removed afterwards, also on failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCliReflector } from './support/cli';
import { createVethPair, namespaceExists, netnsUnavailable, removeLeftovers, type VethPair } from './support/netns';

const skip = netnsUnavailable();
if (skip) console.warn(`netns tests skipped: ${skip}`);

describe.skipIf(skip !== null)('across two namespaces joined by veth', () => {
  let net: VethPair;
  beforeAll(() => {
    removeLeftovers();
    net = createVethPair('veth');
  });
  afterAll(() => {
    net?.remove();
    expect(namespaceExists(net.a)).toBe(false);
    expect(namespaceExists(net.b)).toBe(false);
  });

  it.each([
    ['IPv4 ping-pong', () => net.addressA, ['--count', '2000']],
    ['IPv4 rate', () => net.addressA, ['--mode', 'rate', '--rate', '5000', '--count', '2000']],
    ['IPv6 ping-pong', () => net.address6A, ['--count', '2000']],
  ])('%s: kernel-stamped metrics present and consistent', async (_name, address, args) => {
    const host = address();
    const bracketed = host.includes(':') ? `[${host}]` : host;
    const reflector = await startCliReflector(`${bracketed}:0`, { netns: net.a });
    try {
      const run = await runCli(['probe', `${bracketed}:${reflector.listening.port}`, '--json', ...args], { netns: net.b });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const r = JSON.parse(run.stdout);
      expect(r.sent).toBe(2000);
      expect(r.received).toBeGreaterThan(1980);
      expect(r.local.address).toBe(host === net.addressA ? net.addressB : net.address6B);
      const user = r.metrics['rtt.user'].percentiles;
      const kernel = r.metrics['rtt.kernel'].percentiles;
      const netOnly = r.metrics['rtt.net'].percentiles;
      for (const p of ['50', '90', '99', '99.9', '99.99']) {
        expect(kernel[p]).toBeLessThanOrEqual(user[p]);
        expect(netOnly[p]).toBeLessThan(user[p]);
      }
      expect(r.metrics.residence.min).toBeGreaterThan(0);
      expect(r.metrics['owd.fwd'].count).toBe(r.received);
    } finally {
      reflector.child.kill('SIGTERM');
      expect((await reflector.done).code).toBe(143);
    }
  });
});
