/**
 * The loader is the one way into the addon: it checks the exports and, when
 * loading fails, names the platform and says how to rebuild.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBinding } from '../src/binding';
import { BindingLoadError } from '../src/errors';
import { METRIC_NAMES } from '../src/metrics';
import { detectLibc } from '../src/platform';

const root = path.join(__dirname, '..');

describe('loadBinding', () => {
  it('loads the addon with every export the facade uses', () => {
    const b = loadBinding();
    expect(typeof b.Sender).toBe('function');
    expect(typeof b.Reflector).toBe('function');
    expect(b.wire.packetSize).toBe(44);
  });

  it('uses the same metric names as the native engine', () => {
    expect([...loadBinding().metricNames]).toEqual([...METRIC_NAMES]);
  });

  it('on another platform throws a clear error naming it', () => {
    const call = () => loadBinding({ platform: 'darwin', arch: 'arm64' });
    expect(call).toThrow(BindingLoadError);
    expect(call).toThrow(/runs on Linux only.*darwin-arm64/);
  });

  it('when no binary loads, names platform, arch and libc and how to rebuild', () => {
    const call = () =>
      loadBinding({
        load: () => {
          throw new Error('No native build was found');
        },
      });
    expect(call).toThrow(BindingLoadError);
    expect(call).toThrow(expect.objectContaining({ code: 'ERR_RTT_PROBE_BINDING' }));
    expect(call).toThrow(/linux-x64, (glibc|musl), Node v/);
    expect(call).toThrow(/npm rebuild rtt-probe/);
  });

  it('on musl, names it and what a source build needs there, since the prebuilds are glibc only', () => {
    const call = () =>
      loadBinding({
        arch: 'arm64',
        libc: 'musl',
        load: () => {
          throw new Error('No native build was found for platform=linux arch=arm64 libc=musl');
        },
      });
    expect(call).toThrow(/linux-arm64, musl, Node v.*\n.*prebuilt addons for linux-x64 and linux-arm64 with glibc only/);
    expect(call).toThrow(/apk add build-base python3 linux-headers.*npm rebuild rtt-probe/);
  });

  it('takes the C library from $LIBC as node-gyp-build does, so both agree on which prebuild fits', () => {
    expect(detectLibc({ LIBC: 'musl' })).toBe('musl');
    expect(detectLibc({ LIBC: 'glibc' })).toBe('glibc');
    const report = process.report.getReport() as { header: { glibcVersionRuntime?: string } };
    expect(detectLibc({})).toBe(report.header.glibcVersionRuntime ? 'glibc' : 'musl');
  });

  it('loads the addon file $RTT_PROBE_ADDON names (the sanitizer build), checked like any other', () => {
    const release = path.join(root, 'build', 'Release', 'rtt_probe.node');
    expect(loadBinding({ addonPath: release }).wire.packetSize).toBe(44);
    const relative = () => loadBinding({ addonPath: 'build/Release/rtt_probe.node' });
    expect(relative).toThrow(BindingLoadError);
    expect(relative).toThrow(/RTT_PROBE_ADDON="build\/Release\/rtt_probe.node" must be the absolute path of a .node file/);
    const missing = path.join(root, 'build-sanitize', 'missing.node');
    expect(() => loadBinding({ addonPath: missing })).toThrow(BindingLoadError);
    expect(() => loadBinding({ addonPath: missing })).toThrow(/RTT_PROBE_ADDON names .*missing\.node, which cannot be loaded.*npm run build:sanitize/);
  });

  it('refuses a stale binary that lacks exports', () => {
    const stale = () => loadBinding({ load: () => ({ Sender: () => {} }) });
    expect(stale).toThrow(BindingLoadError);
    expect(stale).toThrow(/lacks Reflector, Mesh, wire/);
  });
});

describe("openTun: the one ioctl of the lab's TUN forwarder", () => {
  it('refuses what is not a device name before opening anything, as Node refuses bad arguments', () => {
    const { openTun } = loadBinding();
    expect(() => openTun(42 as unknown as string)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    for (const name of ['', 'a-name-of-16-chr', 'no/slash']) {
      expect(() => openTun(name)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' }));
    }
    expect(() => openTun('')).toThrow(/a TUN device name has 1 to 15 characters and no '\/', got ""/);
  });
});

describe('package entry points', () => {
  // A child process sees the package exactly as a user's code does.
  const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();

  it('serves require() from the compiled build', () => {
    expect(run(['-e', "const m = require('rtt-probe'); console.log(typeof m.probe, typeof m.startReflector)"])).toBe(
      'function function',
    );
  });

  it('serves import with the same named exports', () => {
    const code = "import { probe, METRIC_NAMES } from 'rtt-probe'; console.log(typeof probe, METRIC_NAMES.includes('rtt.kernel'))";
    expect(run(['--input-type=module', '-e', code])).toBe('function true');
  });
});
