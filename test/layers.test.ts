/**
 * The layout's arrows point down only (docs/design.md): src/cli -> src/monitor,
 * src/lab, src/report -> the library (src/*.ts) -> the addon. Nothing
 * imports anything above it, no modules import each other round in a
 * circle, and only src/binding.ts loads the addon.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cycles, readGraph, upwardImports, type ImportGraph } from './support/imports';

const SRC = path.join(__dirname, '..', 'src');
const graph = readGraph(SRC);

describe('the import graph of src/', () => {
  it('is read from every module, with the imports the layout is about', () => {
    expect(graph.get('cli/main')).toContain('cli/program');
    expect(graph.get('cli/program')).toContain('cli/commands/probe');
    expect(graph.get('caps')).toContain('binding');
    // Type-only imports count: a knot of types is still a knot.
    expect(graph.get('lab/report')).toContain('lab/ends');
  });

  it('has no import that points up the layers', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it('has no cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('no command file imports the program that assembles them', () => {
    const commands = [...graph].filter(([from]) => from.startsWith('cli/commands/'));
    expect(commands.length).toBeGreaterThanOrEqual(6);
    expect(commands.filter(([, targets]) => targets.includes('cli/program') || targets.includes('cli/main'))).toEqual([]);
  });

  it('only src/binding.ts loads the addon', () => {
    // What loads an addon: node-gyp-build itself, or a require of a .node file.
    const loads = /require\('node-gyp-build'\)|from 'node-gyp-build'|\.node'\)/;
    const loaders = [...graph.keys()].filter((m) => loads.test(readFileSync(path.join(SRC, `${m}.ts`), 'utf8')));
    expect(loaders).toEqual(['binding']);
  });
});

describe('the checks themselves', () => {
  const g = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

  it('find an import from the library or the lab up into the CLI', () => {
    expect(upwardImports(g({ caps: ['lab/features'], 'lab/ends': ['cli/exit-codes'], 'cli/main': ['lab/run', 'errors'] }))).toEqual([
      'caps -> lab/features',
      'lab/ends -> cli/exit-codes',
    ]);
  });

  it('find a module in a folder no layer names', () => {
    expect(upwardImports(g({ 'cli/main': ['tools/x'] }))).toEqual(['cli/main -> tools/x']);
  });

  it('find a cycle, however long, and a module importing itself', () => {
    expect(cycles(g({ 'cli/program': ['cli/caps'], 'cli/caps': ['cli/io'], 'cli/io': ['cli/program'], errors: [] }))).toEqual([
      'cli/caps, cli/io, cli/program',
    ]);
    expect(cycles(g({ a: ['a'] }))).toEqual(['a']);
    expect(cycles(g({ a: ['b'], b: [] }))).toEqual([]);
  });
});
