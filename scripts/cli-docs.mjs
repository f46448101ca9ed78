// Writes docs/cli.md from the commands' own --help, so the reference cannot
// drift from the flags: the commands are discovered from the "Commands:"
// section of each help (subcommands included), and each gets a section with
// its help verbatim. The hand-written part (intro, exit statuses, examples)
// is scripts/cli-docs.template.md; the sections replace its COMMANDS marker.
//
//   npm run docs:cli            rewrite docs/cli.md (after npm run build:ts)
//   node scripts/cli-docs.mjs --stdout   print it instead (the docs test compares)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(root, 'dist', 'cli', 'main.js');
const TEMPLATE = path.join(root, 'scripts', 'cli-docs.template.md');
const OUTPUT = path.join(root, 'docs', 'cli.md');
const MARKER = '<!-- COMMANDS -->';

// Help wraps at 80 columns when stdout is not a terminal; no colour either way.
const env = { ...process.env, NO_COLOR: '1' };
delete env.FORCE_COLOR;
delete env.CLICOLOR_FORCE;

function help(words) {
  return execFileSync(process.execPath, [CLI, ...words, '--help'], { encoding: 'utf8', env }).trimEnd();
}

/** The command names listed under "Commands:" (commander's layout: two spaces, the name, its arguments). */
export function commandNames(text) {
  const names = [];
  let inside = false;
  for (const line of text.split('\n')) {
    if (/^Commands:/.test(line)) inside = true;
    else if (/^\S/.test(line)) inside = false;
    else if (inside) {
      const name = /^ {2}([a-z][\w-]*)/.exec(line)?.[1];
      if (name && name !== 'help') names.push(name);
    }
  }
  return names;
}

/** Every command path, depth first, each with its help: [] (the top level), ['probe'], ... */
function collect(words = []) {
  const text = help(words);
  return [{ words, text }, ...commandNames(text).flatMap((name) => collect([...words, name]))];
}

export function generate() {
  const commands = collect();
  const title = (words) => ['rtt-probe', ...words].join(' ');
  const slug = (words) => title(words).replace(/ /g, '-');
  const contents = commands.map(({ words }) => `- [${title(words)}](#${slug(words)})`);
  const sections = commands.map(({ words, text }) => `### ${title(words)}\n\n\`\`\`text\n${text}\n\`\`\``);
  const template = readFileSync(TEMPLATE, 'utf8');
  if (!template.includes(MARKER)) throw new Error(`${path.relative(root, TEMPLATE)} has no ${MARKER} line to put the commands at`);
  return template.replace(MARKER, [contents.join('\n'), ...sections].join('\n\n'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const markdown = generate();
  if (process.argv.includes('--stdout')) process.stdout.write(markdown);
  else {
    writeFileSync(OUTPUT, markdown);
    console.error(`wrote ${path.relative(root, OUTPUT)}`);
  }
}
