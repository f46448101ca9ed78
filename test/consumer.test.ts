/**
 * The published types as a strict TypeScript consumer sees them: the built
 * package (dist/ through package.json's exports, resolved as `rtt-probe`)
 * compiles against test/consumer/consumer.ts under node16 and bundler
 * resolution with strict, exactOptionalPropertyTypes and
 * noUncheckedIndexedAccess; every type named in a public signature is
 * exported; internal members stay out of the .d.ts.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
let dir = '';

beforeAll(() => {
  execFileSync('npm', ['run', 'build:ts'], { cwd: root, stdio: 'pipe' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'rtt-probe-consumer-'));
  mkdirSync(path.join(dir, 'node_modules/@types'), { recursive: true });
  symlinkSync(root, path.join(dir, 'node_modules/rtt-probe'));
  symlinkSync(path.join(root, 'node_modules/@types/node'), path.join(dir, 'node_modules/@types/node'));
  copyFileSync(path.join(__dirname, 'consumer/consumer.ts'), path.join(dir, 'consumer.mts'));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function compile(resolution: 'node16' | 'bundler'): string {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022', 'esnext.disposable'],
      module: resolution === 'node16' ? 'node16' : 'esnext',
      moduleResolution: resolution,
      types: ['node'],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
    },
    files: ['consumer.mts'],
  };
  writeFileSync(path.join(dir, `tsconfig.${resolution}.json`), JSON.stringify(config));
  try {
    execFileSync(process.execPath, [tsc, '-p', `tsconfig.${resolution}.json`], { cwd: dir, encoding: 'utf8' });
    return '';
  } catch (error) {
    return (error as { stdout: string }).stdout;
  }
}

describe('a strict TypeScript consumer', () => {
  it.each(['node16', 'bundler'] as const)('compiles with %s resolution, naming every public type without a cast', (resolution) => {
    expect(compile(resolution)).toBe('');
  }, 60_000);

  it('finds every type that a public signature names exported from the package', () => {
    const entry = path.join(root, 'dist/index.d.ts');
    const program = ts.createProgram([entry], { strict: true, types: ['node'] });
    const checker = program.getTypeChecker();
    const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
    const resolve = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
    const exported = new Set(checker.getExportsOfModule(moduleSymbol).map(resolve));
    const ours = (d: ts.Declaration) => d.getSourceFile().fileName.startsWith(path.join(root, 'dist'));
    const unexported = new Set<string>();
    const seen = new Set<ts.Symbol>();
    const visit = (node: ts.Node): void => {
      if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node) || ts.isTypeQueryNode(node)) {
        const name = ts.isTypeReferenceNode(node) ? node.typeName : ts.isTypeQueryNode(node) ? node.exprName : node.expression;
        const symbol = checker.getSymbolAtLocation(name);
        if (symbol) walk(resolve(symbol));
      }
      // Private members are not part of the public surface.
      if (ts.canHaveModifiers(node) && ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return;
      ts.forEachChild(node, visit);
    };
    const walk = (symbol: ts.Symbol): void => {
      if (seen.has(symbol)) return;
      seen.add(symbol);
      const declarations = (symbol.declarations ?? []).filter(ours);
      if (declarations.length === 0) return;
      const named = declarations.some(
        (d) => ts.isInterfaceDeclaration(d) || ts.isTypeAliasDeclaration(d) || ts.isClassDeclaration(d) || ts.isEnumDeclaration(d),
      );
      if (named && !exported.has(symbol)) unexported.add(symbol.getName());
      for (const d of declarations) visit(d);
    };
    for (const symbol of exported) walk(symbol);
    expect([...unexported].sort()).toEqual([]);
  });

  it('keeps internal members out of the published .d.ts', () => {
    const result = readFileSync(path.join(root, 'dist/result.d.ts'), 'utf8');
    const session = readFileSync(path.join(root, 'dist/session.d.ts'), 'utf8');
    expect(result).not.toMatch(/fromNative/);
    expect(session).not.toMatch(/static start/);
    expect(session).toMatch(/private constructor\(\);/);
  });
});
