/**
 * Bad input, table-driven, through the CLI and the API: wrong types,
 * out-of-range values, malformed addresses, unknown interfaces, missing or
 * unusable key files, conflicting flags. Each is refused before any packet
 * is sent, with a message that names the problem and says what to give
 * instead; the CLI exits 2 and prints no stack trace.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError, UsageError, exitFor } from '../src/cli/errors';
import { EXIT } from '../src/cli/exit-codes';
import { KeyError } from '../src/cli/key';
import { main } from '../src/cli/main';
import { InputError } from '../src/lab/budget-input';
import { OptionRangeError, OptionTypeError, RttProbeError, probe, startReflector } from '../src/index';
import { runCli } from './support/cli';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtt-probe-bad-input-'));
const goodKey = path.join(dir, 'key');
const shortKey = path.join(dir, 'short-key');
const openKey = path.join(dir, 'open-key');
fs.writeFileSync(goodKey, `${'k'.repeat(32)}\n`, { mode: 0o600 });
fs.writeFileSync(shortKey, 'short', { mode: 0o600 });
fs.writeFileSync(openKey, 'k'.repeat(32));
fs.chmodSync(openKey, 0o644);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const NO_STACK = /^\s+at /m;

/** The CLI in this process, as main.ts runs it (exit code and both streams). */
async function cli(args: string[], env: Record<string, string> = {}) {
  const out = { stdout: '', stderr: '' };
  const sink = (name: keyof typeof out) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        out[name] += chunk;
        done();
      },
    });
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await main(args, { stdout: sink('stdout'), stderr: sink('stderr') });
    return { code, ...out };
  } finally {
    process.env = saved;
  }
}

const T = '127.0.0.1:9';

describe('the CLI refuses bad input with exit 2, the problem and the fix', () => {
  it.each<[string, string[], RegExp, Record<string, string>?]>([
    // wrong types
    ['count not a number', ['probe', T, '--count', 'ten'], /--count.*'ten' is invalid.*give a whole number from 1 to 4000000000/s],
    ['rate not a number', ['probe', T, '--mode', 'rate', '--rate', 'fast'], /--rate.*give a positive number/s],
    ['warmup negative', ['probe', T, '--warmup', '-1'], /--warmup.*give a whole number from 0 to 1000000/s],
    ['cpu not a number', ['probe', T, '--cpu', 'first'], /--cpu.*give a whole number from 0 to 1023/s],
    ['duration without unit', ['probe', T, '--duration', '10'], /--duration.*give a number with a unit, e\.g\. 10s/s],
    ['session timeout without unit', ['reflect', '--stateful', '--session-timeout', '5'], /--session-timeout.*give a number with a unit/s],
    // out of range
    ['count zero', ['probe', T, '--count', '0'], /--count.*from 1 to 4000000000/s],
    ['size below a STAMP packet', ['probe', T, '--size', '20'], /--size.*from 44 to 65507/s],
    ['ssid above 16 bits', ['probe', T, '--ssid', '70000'], /--ssid.*from 0 to 65535/s],
    ['rt priority 100', ['probe', T, '--rt-priority', '100'], /--rt-priority.*from 1 to 99/s],
    ['socket busy poll 0', ['probe', T, '--socket-busy-poll', '0'], /--socket-busy-poll.*from 1 to 1000000/s],
    ['timeout too long', ['probe', T, '--timeout', '2h'], /timeout must be between 1us and 60s \(e\.g\. "100ms"\)/],
    ['too many probes in flight', ['probe', T, '--mode', 'rate', '--rate', '5000000'], /keeps up to 5000000 probes in flight.*lower the rate or the timeout/],
    ['mode unknown', ['probe', T, '--mode', 'burst'], /--mode.*Allowed choices are pingpong, rate/s],
    ['timestamps unknown', ['probe', T, '--ts', 'nic'], /--ts.*Allowed choices are auto, software, hardware, none/s],
    ['timestamp format unknown', ['probe', T, '--timestamp-format', 'iso'], /--timestamp-format.*Allowed choices are ntp, ptp/s],
    ['clock unknown', ['reflect', '--clock', 'hpet'], /--clock.*Allowed choices are auto, tsc, realtime/s],
    ['reflector rate limit zero', ['reflect', '--rate-limit', '0'], /--rate-limit.*give replies per second from 0.001 to 10000000/s],
    ['reflector rate limit too small to be one', ['reflect', '--rate-limit', '1e-10'], /--rate-limit.*'1e-10' is invalid.*from 0.001 to 10000000 \(leave the option out for no limit\)/s],
    ['global rate limit too small to be one', ['reflect', '--global-rate-limit', '0.0001'], /--global-rate-limit.*from 0.001/s],
    ['reflector duration zero', ['reflect', '--bind', '127.0.0.1:0', '--duration', '0s'], /duration must be longer than 0 \(leave it out to run until stopped\)/],
    ['global rate limit negative', ['reflect', '--global-rate-limit', '-5'], /--global-rate-limit.*give replies per second from 0.001/s],
    ['max sessions zero', ['reflect', '--stateful', '--max-sessions', '0'], /--max-sessions.*from 1 to 65536/s],
    ['session timeout too long', ['reflect', '--stateful', '--session-timeout', '2h'], /sessionTimeout must be between 1ms and 1h/],
    // malformed addresses
    ['target port out of range', ['probe', '127.0.0.1:99999'], /port in target "127\.0\.0\.1:99999" must be 1-65535/],
    ['target ambiguous', ['probe', 'a:b:c'], /target "a:b:c" is ambiguous: write an IPv6 address with a port as \[addr\]:port/],
    ['bind not an address', ['probe', T, '--bind', 'eth0'], /bind "eth0" is not an IPv4 or IPv6 address \(e\.g\. 127\.0\.0\.1 or ::1\)/],
    ['bind of another family', ['probe', T, '--bind', '::1'], /bind address ::1 and target 127\.0\.0\.1 are of different IP families/],
    ['reflector bind malformed', ['reflect', '--bind', 'nowhere:x'], /--bind.*give ADDR, ADDR:PORT, \[IPv6\]:PORT or :PORT/s],
    ['allow-list prefix too long', ['reflect', '--allow', '198.18.0.0/33'], /allow\[0\] "198\.18\.0\.0\/33" is not an address or CIDR prefix: give e\.g\. 198\.18\.0\.0\/15/],
    ['allow-list empty entry', ['reflect', '--allow', '127.0.0.1,'], /--allow.*give CIDR prefixes separated by commas/s],
    // unknown interfaces
    ['target zone names no interface', ['probe', '[fe80::1%nosuchif0]:9'], /unknown interface 'nosuchif0'.*name an interface of this host \(see `ip link`\)/],
    ['reflector zone names no interface', ['reflect', '--bind', '[fe80::1%nosuchif0]:0'], /unknown interface 'nosuchif0'.*see `ip link`/],
    // missing and unusable files
    ['key file missing', ['probe', T, '--key-file', path.join(dir, 'nope')], /--key-file .*nope does not exist: give the path of a file holding the shared key \(make one with: head -c 32/],
    ['key file a directory', ['reflect', '--key-file', dir], /--key-file .* is a directory, not a regular file: give a file holding the shared key/],
    ['key too short', ['probe', T, '--key-file', shortKey], /the key in --key-file .*short-key is 5 bytes; it must be 16 to 4096/],
    ['key variable unset', ['probe', T, '--key-env', 'RTT_PROBE_TEST_UNSET'], /the environment variable RTT_PROBE_TEST_UNSET is not set or empty: RTT_PROBE_TEST_UNSET=\$\(xxd -p -c 256 stamp.key\), or .* or use --key-file/],
    ['default key variable unset', ['reflect', '--key-env'], /the environment variable RTT_PROBE_KEY is not set or empty/, { RTT_PROBE_KEY: '' }],
    // conflicting flags
    ['rate without rate mode', ['probe', T, '--rate', '5'], /--rate needs --mode rate/],
    ['key file others can read', ['probe', T, '--key-file', openKey], /--key-file .*open-key is readable by every user: chmod 600 .*open-key \(or pass --insecure-key-file to use it anyway\)/],
    ['key variable of raw bytes', ['probe', T, '--key-env'], /RTT_PROBE_KEY is neither hex nor base64: .*RTT_PROBE_KEY=\$\(xxd -p -c 256 stamp.key\)/, { RTT_PROBE_KEY: 'k\u00e9y-with-bytes-\u00ff\u00fe' }],
    ['two key sources', ['probe', T, '--key-file', goodKey, '--key-env'], /--key-file and --key-env both name a key: give one of them/],
    ['packets too small for a key', ['probe', T, '--key-file', goodKey, '--size', '100'], /size must be at least 112 with a key/],
    ['max sessions without stateful', ['reflect', '--max-sessions', '5'], /maxSessions applies to stateful mode only: add stateful: true \(--stateful\)/],
    ['TWAMP-Light with a key', ['reflect', '--twamp-light', '--key-file', goodKey], /twampLight answers unauthenticated TWAMP-Light senders: leave out either twampLight or the key/],
    // never a key on the command line
    ['a key as an argument', ['probe', T, '--key', 'secret'], /unknown option '--key'/],
    ['unknown option', ['probe', T, '--frobnicate'], /unknown option '--frobnicate'/],
    ['unknown command', ['fly'], /unknown command 'fly' \(the commands are probe, reflect, monitor, lab, budget, report, compare, caps, qualify; with none, rtt-probe probes loopback\)/],
    ['an extra argument after a command', ['probe', T, 'extra'], /too many arguments for 'probe'/],
    ['missing target', ['probe'], /missing required argument 'target'/],
  ])('%s', async (_name, args, message, env) => {
    const run = await cli(args, env);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/run with --help for usage/);
    expect(run.stderr).not.toMatch(NO_STACK);
    expect(run.stdout).toBe('');
  });

  it('the same holds for the installed command in its own process', async () => {
    const run = await runCli(['probe', T, '--key-file', path.join(dir, 'nope')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/does not exist: give the path of a file holding the shared key/);
    expect(run.stderr).not.toMatch(NO_STACK);
  });
});

describe('the exit status comes from the error', () => {
  it.each<[string, unknown, { exitCode: number; hint: boolean }]>([
    ['a CLI error carries its own', new CliError('a check failed', 'ERR_CHECK', EXIT.check), { exitCode: EXIT.check, hint: false }],
    ['a usage error: 2, and where the help is', new UsageError('--rate needs --mode rate'), { exitCode: EXIT.usage, hint: true }],
    ['an option out of range: 2', new OptionRangeError('size must be at least 44'), { exitCode: EXIT.usage, hint: true }],
    ['an option of the wrong type: 2', new OptionTypeError('count must be a number'), { exitCode: EXIT.usage, hint: true }],
    ['an unusable key: 2', new KeyError('the key is 5 bytes'), { exitCode: EXIT.usage, hint: true }],
    ['an unusable input file: 2, no help hint (the file is wrong, not the options)', new InputError('x.json is not JSON'), { exitCode: EXIT.usage, hint: false }],
    ['a system failure: 1', new RttProbeError('address in use', 'EADDRINUSE'), { exitCode: EXIT.failure, hint: false }],
    ['anything else: 1', new Error('unexpected'), { exitCode: EXIT.failure, hint: false }],
  ])('%s', (_name, error, status) => {
    expect(exitFor(error)).toEqual(status);
  });
});

describe('the API refuses bad options with a TypeError or RangeError that has a code', () => {
  const key = Buffer.alloc(32, 1);
  // Rows marked @ts-expect-error pass a type the option refuses, as JavaScript callers can, to check the run-time TypeError.
  it.each<[string, () => unknown, typeof OptionTypeError | typeof OptionRangeError, RegExp]>([
    // @ts-expect-error: a wrong type on purpose
    ['probe key as a string', () => probe(T, { key: 'secret' }), OptionTypeError, /key must be a Buffer or Uint8Array of secret bytes, got string/],
    ['probe key too short', () => probe(T, { key: Buffer.alloc(8) }), OptionRangeError, /key must be 16 to 4096 bytes, got 8 \(e\.g\. 32 random bytes/],
    ['probe size below the authenticated layout', () => probe(T, { key, size: 44 }), OptionRangeError, /size must be at least 112 with a key/],
    // @ts-expect-error: a wrong type on purpose
    ['reflector allow not a list', () => startReflector({ allow: 5 }), OptionTypeError, /allow must be a CIDR string or an array of them/],
    // @ts-expect-error: a wrong type on purpose
    ['reflector allow entry of a wrong type', () => startReflector({ allow: [5] }), OptionTypeError, /allow\[0\] must be a string/],
    ['reflector allow entry malformed', () => startReflector({ allow: ['2001:2::/129'] }), OptionRangeError, /allow\[0\] "2001:2::\/129" is not an address or CIDR prefix/],
    ['reflector allow-list too long', () => startReflector({ allow: Array(300).fill('127.0.0.1') }), OptionRangeError, /allow has 300 entries; at most 256 \(use wider prefixes\)/],
    // @ts-expect-error: a wrong type on purpose
    ['reflector rate limit as a string', () => startReflector({ rateLimit: '100' }), OptionTypeError, /rateLimit must be a number of replies per second/],
    ['reflector rate limit zero', () => startReflector({ rateLimit: 0 }), OptionRangeError, /rateLimit must be from 0.001 to 10000000 replies per second, got 0 \(leave it out for no limit\)/],
    ['reflector rate limit too small to be one', () => startReflector({ rateLimit: 1e-10 }), OptionRangeError, /rateLimit must be from 0.001 to 10000000 replies per second, got 1e-10/],
    ['reflector global rate limit too small to be one', () => startReflector({ globalRateLimit: 1e-10 }), OptionRangeError, /globalRateLimit must be from 0.001/],
    // @ts-expect-error: a wrong type on purpose
    ['reflector stateful not a boolean', () => startReflector({ stateful: 'yes' }), OptionTypeError, /stateful must be true or false/],
    ['reflector sessions without stateful', () => startReflector({ sessionTimeout: '1s' }), OptionRangeError, /sessionTimeout applies to stateful mode only/],
    ['reflector too many sessions', () => startReflector({ stateful: true, maxSessions: 70_000 }), OptionRangeError, /maxSessions must be an integer from 1 to 65536/],
    ['reflector TWAMP-Light with a key', () => startReflector({ twampLight: true, key }), OptionRangeError, /leave out either twampLight or the key/],
  ])('%s', async (_name, call, type, message) => {
    let error: unknown;
    try {
      await call();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(message);
    expect((error as { code: string }).code).toBe(type === OptionTypeError ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE');
  });

  it('an unknown interface in an address rejects with a RangeError naming it', async () => {
    await expect(probe('[fe80::1%nosuchif0]:9', { count: 1 }).result).rejects.toThrow(OptionRangeError);
    await expect(startReflector({ bind: 'fe80::1%nosuchif0', port: 0 })).rejects.toThrow(/unknown interface 'nosuchif0'/);
  });
});
