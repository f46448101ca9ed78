// Builds the addons the package ships, so that installing needs no compiler:
// prebuilds/linux-x64/ and prebuilds/linux-arm64/, one N-API build each
// (every Node from 20 loads it), stripped, and tagged glibc so node-gyp-build
// never loads them on musl. Another architecture than the host's is built with
// Debian's cross toolchain (g++-<triplet>). Each build runs in a staging copy
// under .cache/prebuild/ so a checkout's build/ is left alone, and a prebuild
// newer than every source is kept.
//
//   npm run prebuild [-- x64 arm64] [-- --force]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { arch as hostArch } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The architectures the package ships, with the GNU triplet of their cross toolchain. */
const PREBUILD_TARGETS = [
  { arch: 'x64', triplet: 'x86_64-linux-gnu' },
  { arch: 'arm64', triplet: 'aarch64-linux-gnu' },
];
/** What a source build reads: the prebuild is stale when any of these is newer. */
const SOURCES = ['binding.gyp', 'package.json', 'native', 'scripts/lto-flags.mjs'];
const LIBC = 'glibc';

function prebuildFile(arch) {
  return path.join(root, 'prebuilds', `linux-${arch}`, `rtt-probe.${LIBC}.node`);
}

function newestMtime(file) {
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(file).map((name) => newestMtime(path.join(file, name))));
}

function upToDate(arch) {
  const file = prebuildFile(arch);
  return existsSync(file) && statSync(file).mtimeMs > Math.max(...SOURCES.map((s) => newestMtime(path.join(root, s))));
}

function stage(arch) {
  const dir = path.join(root, '.cache', 'prebuild', arch);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'scripts'), { recursive: true });
  for (const source of SOURCES) cpSync(path.join(root, source), path.join(dir, source), { recursive: true });
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function build({ arch, triplet }) {
  const cross = arch !== hostArch();
  const tool = (name) => (cross ? `${triplet}-${name}` : name);
  if (cross && spawnSync(tool('g++'), ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`building the ${arch} prebuild needs ${tool('g++')}: apt-get install g++-${triplet.replace(/_/g, '-')}`);
  }
  const cwd = stage(arch);
  const env = cross ? { ...process.env, CC: tool('gcc'), CXX: tool('g++'), LINK: tool('g++') } : process.env;
  const prebuildify = path.join(root, 'node_modules', 'prebuildify', 'bin.js');
  const args = [prebuildify, '--napi', '--strip', '--strip-bin', tool('strip'), '--tag-libc', '--target', 'node@20.0.0'];
  const r = spawnSync(process.execPath, [...args, '--arch', arch, '--out', root, '--cwd', cwd], { cwd, env, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`the ${arch} prebuild failed (prebuildify exited with ${r.status ?? r.signal})`);
  rmSync(cwd, { recursive: true, force: true });
}

const argv = process.argv.slice(2);
const force = argv.includes('--force');
const wanted = argv.filter((a) => a !== '--force');
const unknown = wanted.filter((a) => !PREBUILD_TARGETS.some((t) => t.arch === a));
if (unknown.length > 0) {
  console.error(`unknown architecture ${unknown.join(', ')}: choose from ${PREBUILD_TARGETS.map((t) => t.arch).join(', ')}`);
  process.exit(2);
}
for (const target of PREBUILD_TARGETS) {
  if (wanted.length > 0 && !wanted.includes(target.arch)) continue;
  if (!force && upToDate(target.arch)) {
    console.log(`${path.relative(root, prebuildFile(target.arch))} is up to date`);
    continue;
  }
  try {
    build(target);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
  console.log(`built ${path.relative(root, prebuildFile(target.arch))}`);
}
