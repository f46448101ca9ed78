/**
 * The release addon (node-gyp, binding.gyp) and the sanitizer build (cmake-js,
 * CMakeLists.txt) must compile the same sources, or the sanitizers would vouch
 * for code that is not shipped. Every .cpp under native/ is in both lists.
 */
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
