// The package's install step: node-gyp-build keeps the prebuilt addon when it
// loads here, else builds one from source. When that build fails (no compiler,
// as on a bare Alpine image) this says which platform it was and what to
// install, after node-gyp's own output.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const r = spawnSync(process.execPath, [require.resolve('node-gyp-build/bin.js')], { stdio: 'inherit' });
if (r.status !== 0) {
  let advice = '';
  // The package always has dist/; a checkout before its first build does not.
  try {
    const { detectLibc, sourceBuildAdvice } = require('../dist/platform.js');
    advice = `This is linux-${process.arch}, ${detectLibc()}, Node ${process.version}. ` + sourceBuildAdvice({ arch: process.arch, libc: detectLibc() });
  } catch {}
  console.error(`\nrtt-probe: building the native addon from source failed (see above). ${advice}`);
  process.exit(r.status ?? 1);
}
