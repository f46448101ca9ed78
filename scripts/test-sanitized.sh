#!/usr/bin/env bash
# Runs the integration tests against the AddressSanitizer + UndefinedBehaviorSanitizer
# build of the addon (CMakeLists.txt via cmake-js, clang). Node itself is not
# instrumented: the ASan runtime is preloaded so it owns malloc from the start,
# and leak detection is off because Node's own allocations at exit are not ours
# to judge. Any ASan or UBSan report aborts the process that hit it and is also
# written under build-sanitize/reports/, which must stay empty.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run build:sanitize
reports="$PWD/build-sanitize/reports"
rm -rf "$reports" && mkdir -p "$reports"

export RTT_PROBE_ADDON="$PWD/build-sanitize/Release/rtt_probe.node"
export LD_PRELOAD="$(clang++ -print-file-name=libclang_rt.asan-x86_64.so)"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$reports/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"

# The loader must really pick the sanitizer build.
node -e "require('./dist/binding.js').binding(); process.exit(require.cache[process.env.RTT_PROBE_ADDON] ? 0 : 1)"

# One file at a time: the instrumented loops are slower, and timing tests should not also share the CPUs.
# Arguments go to vitest (reporters, -t filters).
status=0
npx vitest run --no-file-parallelism test/loopback.test.ts test/reflector.test.ts test/accounting.test.ts test/auth.test.ts \
  test/hardening.test.ts test/lifecycle.test.ts test/cli.test.ts test/faults.test.ts test/tcp-faults.test.ts "$@" || status=$?
if compgen -G "$reports/*" >/dev/null; then
  echo "sanitizer reports:" && cat "$reports"/*
  status=1
fi
exit "$status"
