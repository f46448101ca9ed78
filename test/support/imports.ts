/**
 * The import graph of src/: which module imports which (type-only imports
 * too: a knot of types is still a knot), each module's layer, and the two
 * things the layout forbids: cycles, and imports that point up the layers.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** The layers from the top down (docs/design.md): an import may point down or stay level, never up. */
export const LAYERS = [
  { name: 'cli', folders: ['cli'] },
  { name: 'qualify', folders: ['qualify'] },
  { name: 'monitor/lab/report', folders: ['monitor', 'lab', 'report'] },
  { name: 'library', folders: [''] },
] as const;

/** Module path (relative to src, without .ts) -> the modules it imports. */
export type ImportGraph = Map<string, string[]>;

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)'(\.{1,2}\/[^']*)'/g;

/** The modules of src/ and what each imports from src/ (relative imports that resolve to a .ts file there). */
export function readGraph(srcDir: string): ImportGraph {
  const graph: ImportGraph = new Map();
  const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  for (const file of files) {
    const from = file.replace(/\.ts$/, '');
    const text = readFileSync(path.join(srcDir, file), 'utf8');
    const targets = new Set<string>();
    for (const [, spec] of text.matchAll(SPECIFIER)) {
      const resolved = path.relative(srcDir, path.resolve(path.dirname(path.join(srcDir, file)), spec!));
      if (existsSync(path.join(srcDir, `${resolved}.ts`))) targets.add(resolved);
      else if (existsSync(path.join(srcDir, resolved, 'index.ts'))) targets.add(path.join(resolved, 'index'));
    }
    graph.set(from, [...targets].sort());
  }
  return graph;
}

/** The layer index of a module (0 is the top), or -1 for a folder no layer names. */
export function layerOf(module: string): number {
  const folder = module.includes('/') ? module.split('/')[0]! : '';
  return LAYERS.findIndex((l) => (l.folders as readonly string[]).includes(folder));
}

/** "a -> b" for every import that points up, or comes from or goes to a module in no layer. */
export function upwardImports(graph: ImportGraph): string[] {
  const wrong: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const [a, b] = [layerOf(from), layerOf(to)];
      if (a < 0 || b < 0 || b < a) wrong.push(`${from} -> ${to}`);
    }
  }
  return wrong;
}

/** Every cycle, as the modules that import each other round in a circle (a strongly connected component, found by Tarjan's algorithm). */
export function cycles(graph: ImportGraph): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.unshift(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort().join(', '));
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}
