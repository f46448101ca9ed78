/**
 * The release addon (node-gyp, binding.gyp) and the sanitizer build (cmake-js,
 * CMakeLists.txt) must compile the same sources, or the sanitizers would vouch
 * for code that is not shipped. Every .cpp under native/ is in both lists.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');

function gypSources(): string[] {
  const gyp = JSON.parse(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8')) as {
    targets: Array<{ conditions: Array<[string, { sources?: string[] }]> }>;
  };
  return gyp.targets[0]!.conditions.flatMap(([, body]) => body.sources ?? []);
}

function cmakeSources(): string[] {
  const text = fs.readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8');
  const block = /set\(RTT_PROBE_SOURCES\s+([^)]*)\)/.exec(text);
  expect(block, 'CMakeLists.txt sets RTT_PROBE_SOURCES').not.toBeNull();
  return block![1]!.split(/\s+/).filter(Boolean);
}

function nativeSources(): string[] {
  return ['core', 'addon'].flatMap((dir) =>
    fs
      .readdirSync(path.join(root, 'native', dir))
      .filter((f) => f.endsWith('.cpp'))
      .map((f) => `native/${dir}/${f}`),
  );
}

describe('native source lists', () => {
  it('binding.gyp and CMakeLists.txt list the same sources', () => {
    expect([...cmakeSources()].sort()).toEqual([...gypSources()].sort());
  });

  it('both list every .cpp under native/', () => {
    expect([...gypSources()].sort()).toEqual(nativeSources().sort());
  });
});

describe('the release build', () => {
  const gypText = () => fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8');

  it('ships every script binding.gyp runs, so a build from the npm package can configure', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[] };
    const scripts = [...gypText().matchAll(/<!@?\(node ([^)\s]+)\)/g)].map((m) => m[1]!);
    expect(scripts).toContain('scripts/lto-flags.mjs');
    for (const script of scripts) {
      expect(pkg.files.some((f) => script === f || (f.endsWith('/') && script.startsWith(f))), script).toBe(true);
    }
  });

  it('asks for link-time optimisation where the compiler can link with it, and for nothing where it cannot', () => {
    const flags = (cxx: string) =>
      execFileSync(process.execPath, [path.join(root, 'scripts', 'lto-flags.mjs')], { env: { ...process.env, CXX: cxx }, encoding: 'utf8' }).trim();
    expect(flags('g++')).toBe('-flto=auto');
    // `false` stands for a toolchain that fails the trial link (clang without its linker plugin).
    expect(flags('false')).toBe('');
  });

  it('exports only the N-API entry points from the addon (hidden visibility lets the loops inline the core)', () => {
    const dynamic = execFileSync('nm', ['-D', '--defined-only', path.join(root, 'build', 'Release', 'rtt_probe.node')], { encoding: 'utf8' });
    const exported = dynamic
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[1] === 'T')
      .map((f) => f[2]);
    expect(exported.sort()).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
  });
});
