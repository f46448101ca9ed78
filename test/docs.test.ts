/**
 * The documentation stays true to the code it describes: README.md stays a
 * short front door, every link between the documents leads somewhere, and
 * docs/cli.md is what the commands' own --help says today.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from './support/cli';
import { anchors, relativeLinks, slug } from './support/markdown';

const root = path.join(__dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const documents = ['README.md', 'CHANGELOG.md', 'bench/README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The links of one document that lead nowhere: a missing file, or an anchor its target lacks. */
function brokenLinks(file: string, text: string, readTarget: (file: string) => string | null): string[] {
  return relativeLinks(text).filter((link) => {
    const [target, anchor] = link.split('#') as [string, string | undefined];
    const resolved = target === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
    const content = resolved === file ? text : readTarget(resolved);
    if (content === null) return true;
    return anchor !== undefined && !anchors(content).has(anchor);
  });
}

function readInRepository(file: string): string | null {
  const full = path.join(root, file);
  if (!existsSync(full)) return null;
  return statSync(full).isDirectory() ? '' : readFileSync(full, 'utf8');
}

describe('the documentation', () => {
  it('keeps README.md a front door of at most 250 lines, opening with the two commands', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(firstBlock).toContain('npm install && npx rtt-probe');
    expect(firstBlock).toContain('npm test');
  });

  it.each(documents)('%s links only to files and headings that exist', (file) => {
    expect(brokenLinks(file, read(file), readInRepository)).toEqual([]);
  });

  it('links README.md to every document in docs/', () => {
    const linked = new Set(relativeLinks(read('README.md')).map((l) => l.split('#')[0]));
    const missing = documents.filter((d) => d.startsWith('docs/') && !linked.has(d));
    expect(missing).toEqual([]);
  });

  it('has every section the code cites as docs/<file>.md#<anchor>', () => {
    const sources = execFileSync('git', ['ls-files', 'src', 'native', 'test', 'bench', 'scripts'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
    const cited = sources.flatMap((file) => [...read(file).matchAll(/docs\/([\w-]+\.md)#([\w-]+)/g)].map((m) => ({ file, doc: `docs/${m[1]}`, anchor: m[2]! })));
    expect(cited.length).toBeGreaterThan(0);
    expect(cited.filter(({ doc, anchor }) => !existsSync(path.join(root, doc)) || !anchors(read(doc)).has(anchor))).toEqual([]);
  });

  it('has the section on what each reflector mode protects against under its agreed heading', () => {
    expect(anchors(read('docs/reflector.md')).has(slug('What each mode protects against'))).toBe(true);
  });

  it('has docs/cli.md as scripts/cli-docs.mjs generates it from the current --help (run `npm run docs:cli`)', () => {
    expect(existsSync(CLI), 'dist/cli/main.js is missing: run npm run build:ts').toBe(true);
    const generated = execFileSync(process.execPath, [path.join(root, 'scripts', 'cli-docs.mjs'), '--stdout'], { encoding: 'utf8' });
    expect(read('docs/cli.md')).toBe(generated);
    for (const command of ['probe', 'reflect', 'lab', 'budget', 'report', 'compare', 'caps']) expect(generated).toContain(`### rtt-probe ${command}\n`);
  });
});

describe('the link check', () => {
  const docs: Record<string, string> = { 'docs/b.md': '# Title\n\n## Same\n\n## Same\n\n```sh\n# not a heading\n```\n' };
  const check = (text: string) => brokenLinks('docs/a.md', text, (f) => docs[f] ?? null);

  it('accepts links to existing files and headings, GitHub-numbered repeats included', () => {
    expect(check('[b](b.md) [t](b.md#title) [s](b.md#same) [s1](b.md#same-1) [web](https://example.com/x.md)')).toEqual([]);
  });

  it('reports a missing file, a missing heading, and a heading that sits in a code block', () => {
    expect(check('[c](c.md) [x](b.md#nothing) [n](b.md#not-a-heading) `[code](ignored.md)`')).toEqual(['c.md', 'b.md#nothing', 'b.md#not-a-heading']);
  });

  it('makes anchors as GitHub does: punctuation and code marks dropped', () => {
    expect(slug('What a host can do: `rtt-probe caps`')).toBe('what-a-host-can-do-rtt-probe-caps');
    expect(slug('Lab: container networking on one host')).toBe('lab-container-networking-on-one-host');
  });
});
