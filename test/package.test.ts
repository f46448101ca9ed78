/**
 * The package as users install it. `npm pack` holds the prebuilt addons
 * (linux-x64 and linux-arm64, glibc), dist/, the native sources for a source
 * build and the documents, nothing else. Its tarball installs with no compiler
 * on PATH, and the installed package passes its smoke test (a reflector and a
 * probe on loopback) under Node 20, 22 and 24, and on arm64 under qemu-user;
 * ES module and CommonJS consumers share one module; arethetypeswrong finds
 * no problem in its types; and a musl install without a compiler says what
 * to install.
 *
 * Node binaries come from the npm registry (node-linux-<arch>@<major>) and are
 * kept under .cache/node/, so only a first run fetches them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; cpu: string[] };
const nodeCache = path.join(root, '.cache', 'node');
const npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
const qemu = spawnSync('sh', ['-c', 'command -v qemu-aarch64-static'], { encoding: 'utf8' }).stdout.trim();
const NODE_MAJORS = [20, 22, 24];

let dir = '';
let tarball = '';
let packed: string[] = [];
/** The consumer project the tarball is installed into. */
let app = '';
/** A PATH with node and sh only: no compiler, make or python, so nothing can be built. */
let bareBin = '';

/** A Node binary of `major` for `arch`: this one when it matches, else fetched once from the npm registry. */
function nodeBinary(arch: string, major: number): string {
  if (arch === process.arch && Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const unpacked = path.join(nodeCache, `node-linux-${arch}-${major}`);
  const binary = path.join(unpacked, 'bin', 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(unpacked, { recursive: true });
  const [info] = JSON.parse(
    execFileSync(process.execPath, [npmCli, 'pack', `node-linux-${arch}@${major}`, '--json', '--pack-destination', nodeCache], {
      encoding: 'utf8',
      timeout: 300_000,
    }),
  ) as [{ filename: string }];
  const file = path.join(nodeCache, info.filename);
  execFileSync('tar', ['xzf', file, '-C', unpacked, '--strip-components=1', 'package/bin/node']);
  rmSync(file);
  return binary;
}

function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [npmCli, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 300_000,
    env: { HOME: process.env.HOME, PATH: bareBin, npm_config_build_from_source: 'false', ...env },
  });
}

beforeAll(() => {
  // Builds whichever prebuild is older than its sources (both, the first time). Not prepack's
  // build:ts: dist/ is npm test's own build, and rewriting it would pull it from under the
  // test files running beside this one.
  execFileSync(process.execPath, [npmCli, 'run', 'prebuild'], { cwd: root, stdio: 'pipe', timeout: 1_500_000 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'rtt-probe-package-'));
  const [info] = JSON.parse(
    execFileSync(process.execPath, [npmCli, 'pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }),
  ) as [{ filename: string; files: { path: string }[] }];
  tarball = path.join(dir, info.filename);
  packed = info.files.map((f) => f.path).sort();
  bareBin = path.join(dir, 'bin');
  mkdirSync(bareBin);
  symlinkSync(process.execPath, path.join(bareBin, 'node'));
  symlinkSync('/bin/sh', path.join(bareBin, 'sh'));
  app = path.join(dir, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  for (const file of ['smoke.cjs', 'import.mjs']) copyFileSync(path.join(__dirname, 'consumer', file), path.join(app, file));
}, 1_600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('holds the prebuilds, dist, the native sources, the install script and the documents', () => {
    for (const arch of manifest.cpu) expect(packed).toContain(`prebuilds/linux-${arch}/rtt-probe.glibc.node`);
    expect(packed).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'LICENSE',
        'CHANGELOG.md',
        'docs/install.md',
        'binding.gyp',
        'scripts/install.mjs',
        'scripts/lto-flags.mjs',
        'native/core/wire.cpp',
        'native/addon/addon.cpp',
        'dist/index.js',
        'dist/index.mjs',
        'dist/index.d.ts',
        'dist/index.d.mts',
        'dist/cli/main.js',
      ]),
    );
  });

  it('holds no tests, fuzz corpora, benchmark output or build leftovers', () => {
    // report/package.json points resolvers without `exports` (node10) at rtt-probe/report.
    const top = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'binding.gyp', 'report/package.json', 'schema/result.schema.json'];
    const folders = ['prebuilds/', 'dist/', 'native/', 'docs/', 'scripts/'];
    const stray = packed.filter((f) => !top.includes(f) && !folders.some((d) => f.startsWith(d)));
    expect(stray).toEqual([]);
    expect(packed.filter((f) => /(^|\/)(test|fuzz|bench|build|\.cache)\//.test(f) || f.endsWith('.tgz'))).toEqual([]);
    expect(packed.filter((f) => f.startsWith('scripts/'))).toEqual(['scripts/install.mjs', 'scripts/lto-flags.mjs']);
  });

  it('has prebuilds that need no newer glibc and libstdc++ than docs/install.md promises', () => {
    const docs = readFileSync(path.join(root, 'docs/install.md'), 'utf8');
    const promised = { GLIBC: /glibc (\d+\.\d+) or later/.exec(docs)?.[1], GLIBCXX: /GLIBCXX_([\d.]+)/.exec(docs)?.[1] };
    const newest = (kind: 'GLIBC' | 'GLIBCXX') =>
      manifest.cpu
        .flatMap((arch) => {
          const symbols = execFileSync('readelf', ['-W', '--dyn-syms', path.join(root, 'prebuilds', `linux-${arch}`, 'rtt-probe.glibc.node')], { encoding: 'utf8' });
          return [...symbols.matchAll(new RegExp(`@${kind}_([\\d.]+)`, 'g'))].map((m) => m[1]!);
        })
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
        .at(-1);
    expect(newest('GLIBC')).toBe(promised.GLIBC);
    expect(newest('GLIBCXX')).toBe(promised.GLIBCXX);
  });

  it('names the platforms npm installs it on: Linux, the prebuilt architectures, Node 20 and later', () => {
    const json = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(json.os).toEqual(['linux']);
    expect(json.cpu).toEqual(['x64', 'arm64']);
    expect(json.engines).toEqual({ node: '>=20' });
  });

  it('has types that arethetypeswrong finds no problem with, for node10, node16 (CJS and ESM) and bundlers', () => {
    const attw = path.join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js');
    const r = spawnSync(process.execPath, [attw, tarball, '--format', 'json'], { encoding: 'utf8', timeout: 120_000 });
    const report = JSON.parse(r.stdout) as { analysis: { problems: unknown[] } };
    expect(report.analysis.problems).toEqual([]);
    expect(r.status).toBe(0);
  }, 180_000);
});

describe('the tarball installed with no compiler on PATH', () => {
  const installed = () => path.join(app, 'node_modules', 'rtt-probe');
  const prebuild = (arch: string) => path.join(installed(), 'prebuilds', `linux-${arch}`, 'rtt-probe.glibc.node');

  beforeAll(() => {
    const r = npm(['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], app);
    expect(r.stderr + r.stdout).not.toMatch(/gyp|rebuild/i);
    expect(r.status).toBe(0);
  }, 300_000);

  it('keeps the prebuild: no build folder, nothing compiled', () => {
    expect(existsSync(prebuild(process.arch))).toBe(true);
    expect(existsSync(path.join(installed(), 'build'))).toBe(false);
  });

  it('serves an ES module import and a CommonJS require from one module instance', () => {
    const out = execFileSync(process.execPath, ['import.mjs'], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ sameInstance: true, packetSize: 44, metrics: expect.any(Number) });
  });

  it.each(NODE_MAJORS)('passes the smoke test under Node %i on x64 with the one N-API prebuild', (major) => {
    const node = nodeBinary('x64', major);
    const out = execFileSync(node, ['smoke.cjs', '20'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    const smoke = JSON.parse(out) as { arch: string; node: string; addons: string[]; sent: number; received: number };
    expect(smoke.node).toMatch(new RegExp(`^v${major}\\.`));
    expect(smoke.addons).toEqual([realpathSync(prebuild('x64'))]);
    expect(smoke).toMatchObject({ arch: 'x64', sent: 20, received: 20 });
  }, 400_000);

  it.skipIf(!qemu)('passes the smoke test on arm64 under qemu-user with the arm64 prebuild', () => {
    const node = nodeBinary('arm64', 20);
    // Busy polling is slow under emulation: a handful of probes, each given 5s.
    const out = execFileSync(qemu, ['-L', '/usr/aarch64-linux-gnu', node, 'smoke.cjs', '3'], {
      cwd: app,
      encoding: 'utf8',
      timeout: 240_000,
    });
    const smoke = JSON.parse(out) as { arch: string; addons: string[]; sent: number; received: number };
    expect(smoke.addons).toEqual([realpathSync(prebuild('arm64'))]);
    expect(smoke).toMatchObject({ arch: 'arm64', sent: 3, received: 3 });
  }, 600_000);

  it('on musl, where no prebuild matches, the loader says what to install to build it', () => {
    const r = spawnSync(process.execPath, ['smoke.cjs', '1'], { cwd: app, encoding: 'utf8', env: { PATH: bareBin, LIBC: 'musl' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/BindingLoadError: cannot load the rtt-probe native addon for linux-x64, musl/);
    expect(r.stderr).toMatch(/prebuilt addons for linux-x64 and linux-arm64 with glibc only/);
    expect(r.stderr).toContain('apk add build-base python3 linux-headers');
  });

  it('on musl without a compiler, installing fails naming the platform and what to install', () => {
    const r = npm(['rebuild', 'rtt-probe', '--foreground-scripts'], app, { LIBC: 'musl' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/building the native addon from source failed.*This is linux-x64, musl, Node v/);
    expect(r.stderr).toContain('apk add build-base python3 linux-headers');
  }, 300_000);
});
