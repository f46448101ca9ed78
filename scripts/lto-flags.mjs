// Prints the link-time optimisation flags for binding.gyp, or nothing where
// the C++ toolchain cannot use them (clang without its linker plugin, an old
// compiler): LTO inlines the core's small functions (the wire codec, the
// timestamp parser, the transport's calls) into the per-packet loops, and a
// build that cannot have it must still build.
//
//   node scripts/lto-flags.mjs     run by node-gyp through binding.gyp
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const FLAGS = ['-flto=auto'];

// The compiler make uses for the addon: $CXX, else make's default.
const compiler = (process.env.CXX || 'g++').split(/\s+/).filter(Boolean);
const dir = mkdtempSync(path.join(tmpdir(), 'rtt-probe-lto-'));
try {
  const source = path.join(dir, 'probe.cpp');
  writeFileSync(source, 'int twice(int x) { return 2 * x; }\n');
  const r = spawnSync(compiler[0], [...compiler.slice(1), ...FLAGS, '-O2', '-fPIC', '-shared', '-o', path.join(dir, 'probe.so'), source], {
    stdio: 'ignore',
    timeout: 60_000,
  });
  if (r.status === 0) console.log(FLAGS.join(' '));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
