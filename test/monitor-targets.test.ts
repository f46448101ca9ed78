/**
 * The monitor's targets: a JSON or YAML file checked entry by entry, watched
 * for changes (editors replace files by rename), reloaded on demand (SIGHUP),
 * and DNS names whose every A/AAAA record is a target (a Kubernetes headless
 * Service), re-resolved periodically. What changes arrives as added/removed;
 * a bad reload keeps the targets there were.
 */
import { once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { promises as dns } from 'node:dns';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TargetSource, TargetsError, parseTargets, type MonitorTarget } from '../src/monitor/targets';
import { startDnsServer, type DnsServer } from './support/dns-server';

const self = { name: 'self', address: '127.0.0.1', port: 862 };

describe('parseTargets', () => {
  it('reads JSON, and YAML, to the same targets; a missing port is the default', () => {
    const json = '{"targets":[{"name":"self","address":"127.0.0.1","port":862},{"name":"v6","address":"::1"}]}';
    const yaml = 'targets:\n  - name: self\n    address: 127.0.0.1\n    port: 862\n  - name: v6\n    address: "::1"\n';
    const expected = [self, { name: 'v6', address: '::1', port: 8620 }];
    expect(parseTargets(json, 't.json', 8620)).toEqual(expected);
    expect(parseTargets(yaml, 't.yaml', 8620)).toEqual(expected);
  });

  it('accepts an empty list: a fleet of one reflects and waits', () => {
    expect(parseTargets('targets: []', 't.yaml', 862)).toEqual([]);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['not YAML', '{"targets": [', /^t\.json: not JSON or YAML .*expected \{"targets"/],
    ['no list', '{"hosts":[]}', /^t\.json: no "targets" list/],
    ['an unknown top-level key', '{"targets":[],"interval":1}', /^t\.json: unknown key "interval" at the top/],
    ['an entry that is not an object', '{"targets":["127.0.0.1"]}', /^t\.json: targets\[0\]: not an object/],
    ['a missing name', '{"targets":[{"address":"127.0.0.1"}]}', /^t\.json: targets\[0\]: "name" is missing or empty/],
    ['a missing address', '{"targets":[{"name":"a"}]}', /^t\.json: targets\[0\] \("a"\): "address" is missing/],
    ['a host name for an address', '{"targets":[{"name":"a","address":"db.example"}]}', /"address" "db\.example" is not an IP address.*--targets-dns/],
    ['a port out of range', '{"targets":[{"name":"a","address":"127.0.0.1","port":70000}]}', /targets\[0\] \("a"\): "port" 70000 is not an integer from 1 to 65535/],
    ['a port given as text', '{"targets":[{"name":"a","address":"127.0.0.1","port":"862"}]}', /"port" "862" is not an integer/],
    ['an unknown key', '{"targets":[{"name":"a","address":"127.0.0.1","rate":5}]}', /targets\[0\] \("a"\): unknown key "rate"; a target has name, address, port/],
    [
      'a duplicate name',
      '{"targets":[{"name":"a","address":"127.0.0.1"},{"name":"a","address":"127.0.0.2"}]}',
      /targets\[1\] \("a"\): name "a" is taken by targets\[0\]/,
    ],
  ];
  for (const [what, text, message] of bad) {
    it(`refuses ${what} with a TargetsError naming the file and the entry`, () => {
      const error = (() => {
        try {
          parseTargets(text, 't.json', 862);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(TargetsError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_TARGETS', message: expect.stringMatching(message) });
    });
  }
});

describe('TargetSource', () => {
  let dir = '';
  let file = '';
  let source: TargetSource | undefined;
  const write = (targets: MonitorTarget[] | string) => writeFileSync(file, typeof targets === 'string' ? targets : JSON.stringify({ targets }));
  const names = (targets: MonitorTarget[]) => targets.map((t) => t.name);

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rtt-probe-targets-'));
    file = path.join(dir, 'targets.json');
  });
  afterEach(() => {
    source?.close();
    source = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('needs a file or a DNS name', () => {
    expect(() => new TargetSource({ dnsPort: 862, defaultPort: 862 })).toThrow(TargetsError);
  });

  it('start() gives the file\'s targets and throws on a bad initial file', async () => {
    write([self]);
    source = new TargetSource({ file, dnsPort: 862, defaultPort: 862 });
    expect(await source.start()).toEqual([self]);
    write('{"targets":[{"name":"x"}]}');
    await expect(new TargetSource({ file, dnsPort: 862, defaultPort: 862 }).start()).rejects.toThrow(/targets\.json: targets\[0\] \("x"\): "address" is missing/);
    await expect(new TargetSource({ file: path.join(dir, 'none.json'), dnsPort: 862, defaultPort: 862 }).start()).rejects.toMatchObject({
      code: 'ERR_INVALID_TARGETS',
      message: expect.stringMatching(/cannot read targets file .*none\.json \(ENOENT\)/),
    });
  });

  it('emits what was added and removed each time an editor replaces the file (write a temporary, rename over), once per save', async () => {
    write([self, { name: 'b', address: '127.0.0.2', port: 862 }]);
    source = new TargetSource({ file, dnsPort: 862, defaultPort: 862 });
    await source.start();
    const changes: Array<[string[], string[]]> = [];
    source.on('change', (added, removed) => changes.push([names(added), names(removed)]));
    // The way vim and most editors save: a new file, written in steps, renamed over the old one.
    const save = async (targets: MonitorTarget[]) => {
      const changed = once(source!, 'change');
      const temp = path.join(dir, '.targets.json.swp');
      writeFileSync(temp, '{"targets": [');
      writeFileSync(temp, JSON.stringify({ targets }));
      renameSync(temp, file);
      await changed;
      await new Promise((r) => setTimeout(r, 300));
    };
    await save([self, { name: 'c', address: '127.0.0.3', port: 862 }]);
    await save([{ name: 'c', address: '127.0.0.3', port: 862 }]);
    expect(changes).toEqual([
      [['c'], ['b']],
      [[], ['self']],
    ]);
    expect(source.targets).toEqual([{ name: 'c', address: '127.0.0.3', port: 862 }]);
  });

  it('waits for a file written in place in steps to settle: no error for the half-written file', async () => {
    write([self]);
    source = new TargetSource({ file, dnsPort: 862, defaultPort: 862 });
    await source.start();
    const errors: Error[] = [];
    source.on('error', (error) => errors.push(error));
    const changed = once(source, 'change');
    // An editor's writes a few milliseconds apart, well inside the settle time.
    const pause = () => new Promise((r) => setTimeout(r, 20));
    write('{"targets": [');
    await pause();
    write('{"targets": [{"name": "b", "address": "127.0.0.2"');
    await pause();
    write([{ name: 'b', address: '127.0.0.2', port: 862 }]);
    await changed;
    expect(errors).toEqual([]);
  });

  it('a changed port is a removal and an addition: identity is name, address and port', async () => {
    write([self]);
    source = new TargetSource({ file, dnsPort: 862, defaultPort: 862 });
    await source.start();
    const changed = once(source, 'change');
    write([{ ...self, port: 9000 }]);
    expect(await changed).toEqual([[{ ...self, port: 9000 }], [self]]);
  });

  it('reload() (what SIGHUP calls) reads the file at once, and a reload that finds nothing new emits nothing', async () => {
    write([self]);
    source = new TargetSource({ file, dnsPort: 862, defaultPort: 862 });
    await source.start();
    const events: Array<[string[], string[]]> = [];
    source.on('change', (added, removed) => events.push([names(added), names(removed)]));
    await source.reload();
    expect(events).toEqual([]);
    write([{ name: 'other', address: '127.0.0.9', port: 862 }]);
    await source.reload(); // before the watcher's settle time is up
    expect(events).toEqual([[['other'], ['self']]]);
    await new Promise((r) => setTimeout(r, 300));
    expect(events).toHaveLength(1);
  });

  it('a bad reload keeps the previous targets and emits an error naming the entry', async () => {
    write([self]);
    source = new TargetSource({ file, dnsPort: 862, defaultPort: 862 });
    await source.start();
    const changes: unknown[] = [];
    source.on('change', (...args) => changes.push(args));
    const failed = once(source, 'error');
    write('{"targets":[{"name":"self","address":"127.0.0.1","port":0}]}');
    const [error] = await failed;
    expect(error).toBeInstanceOf(TargetsError);
    expect((error as Error).message).toMatch(/targets\.json: targets\[0\] \("self"\): "port" 0/);
    expect(source.targets).toEqual([self]);
    expect(changes).toEqual([]);
  });

  describe('from DNS (a test DNS server stands in for the cluster\'s)', () => {
    let server: DnsServer;
    let resolver: dns.Resolver;
    beforeEach(async () => {
      server = await startDnsServer();
      resolver = new dns.Resolver({ timeout: 500, tries: 1 });
      resolver.setServers([server.server]);
    });
    afterEach(() => server.close());

    it('makes every A and AAAA record a target named by its address, on dnsPort', async () => {
      server.records.set('rtt-probe.fleet.svc', ['198.18.0.2', '198.18.0.1', '2001:db8::1']);
      source = new TargetSource({ dns: 'rtt-probe.fleet.svc', dnsPort: 8620, defaultPort: 862, resolver });
      expect(await source.start()).toEqual([
        { name: '198.18.0.1', address: '198.18.0.1', port: 8620 },
        { name: '198.18.0.2', address: '198.18.0.2', port: 8620 },
        { name: '2001:db8::1', address: '2001:db8::1', port: 8620 },
      ]);
    });

    it('re-resolves every dnsIntervalMs: a pod that went and one that came are a removal and an addition', async () => {
      server.records.set('rtt-probe.fleet.svc', ['198.18.0.1', '198.18.0.2']);
      source = new TargetSource({ dns: 'rtt-probe.fleet.svc', dnsPort: 862, dnsIntervalMs: 100, defaultPort: 862, resolver });
      await source.start();
      const changed = once(source, 'change');
      server.records.set('rtt-probe.fleet.svc', ['198.18.0.2', '198.18.0.3']);
      const [added, removed] = await changed;
      expect([names(added), names(removed)]).toEqual([['198.18.0.3'], ['198.18.0.1']]);
      expect(server.questions).toBeGreaterThanOrEqual(4);
    });

    it('a name with no records is no targets yet (a Service before its pods), not a failure', async () => {
      source = new TargetSource({ dns: 'rtt-probe.fleet.svc', dnsPort: 862, defaultPort: 862, resolver });
      expect(await source.start()).toEqual([]);
    });

    it('joins file and DNS targets', async () => {
      write([self]);
      server.records.set('peers.svc', ['198.18.0.1']);
      source = new TargetSource({ file, dns: 'peers.svc', dnsPort: 862, defaultPort: 862, resolver });
      expect(names(await source.start())).toEqual(['self', '198.18.0.1']);
    });

    it('an unreachable DNS server fails the start, and later keeps the targets and emits an error', async () => {
      server.records.set('peers.svc', ['198.18.0.1']);
      source = new TargetSource({ dns: 'peers.svc', dnsPort: 862, defaultPort: 862, resolver });
      await source.start();
      await server.close();
      const failed = once(source, 'error');
      void source.reload();
      expect((await failed)[0]).toMatchObject({ code: 'ERR_INVALID_TARGETS', message: expect.stringMatching(/cannot resolve peers\.svc \(E[A-Z]+\)/) });
      expect(names(source.targets)).toEqual(['198.18.0.1']);
      await expect(new TargetSource({ dns: 'peers.svc', dnsPort: 862, defaultPort: 862, resolver }).start()).rejects.toThrow(/cannot resolve peers\.svc/);
      server = await startDnsServer(); // for afterEach
    });
  });
});
