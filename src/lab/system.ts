/**
 * The system commands the lab drives (ip, nft, sysctl through /proc): run
 * synchronously, so teardown also works from signal and exit handlers, and
 * a failure becomes a LabError that quotes the command and what it printed.
 */
import { execFileSync } from 'node:child_process';
import { CAP_NET_ADMIN, CAP_SYS_ADMIN, holdsCapabilities } from '../capabilities';
import { RttProbeError } from '../errors';

/** A lab step failed: a command the lab ran, the topology it built, or a measurement. */
export class LabError extends RttProbeError {
  /** What the failing command printed (or the failure itself), without the command line. */
  readonly detail: string;

  constructor(message: string, code = 'ERR_RTT_PROBE_LAB', detail = message) {
    super(message, code);
    this.name = 'LabError';
    this.detail = detail;
  }
}

/** Runs a command to completion and returns its stdout; throws a LabError with its stderr. */
export function run(command: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 30_000,
    });
  } catch (error) {
    const e = error as { stderr?: string; code?: string; message: string };
    const detail = e.code === 'ENOENT' ? `${command} not found` : (e.stderr ?? '').trim() || e.message;
    throw new LabError(`${command} ${args.join(' ')}: ${detail}`, e.code === 'ENOENT' ? 'ENOENT' : 'ERR_RTT_PROBE_LAB', detail);
  }
}

/** `ip` with the given arguments. */
export function ip(...args: string[]): string {
  return run('ip', args);
}

/** `ip` inside a namespace (`ip -n NS ...`), or in the current one when netns is null. */
export function ipIn(netns: string | null, ...args: string[]): string {
  return netns === null ? ip(...args) : ip('-n', netns, ...args);
}

/** Loads an nftables ruleset inside a namespace (or the current one). */
export function nft(netns: string | null, ruleset: string): void {
  if (netns === null) run('nft', ['-f', '-'], ruleset);
  else run('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], ruleset);
}

/** Sets a sysctl inside a namespace through /proc/sys, which shows the namespace of the process reading it (no procps needed). */
export function sysctl(netns: string, key: string, value: string): void {
  run('ip', ['netns', 'exec', netns, 'tee', `/proc/sys/${key.replace(/\./g, '/')}`], `${value}\n`);
}

/** Whether a command exists on PATH (it answers --version or -V). */
export function hasCommand(command: string, versionFlag = '--version'): boolean {
  try {
    run(command, [versionFlag]);
    return true;
  } catch (error) {
    return (error as LabError).code !== 'ENOENT';
  }
}

/** Whether this process may create network namespaces and links: CAP_NET_ADMIN (links, nftables) and CAP_SYS_ADMIN (`ip netns add` mounts). */
export function hasLabPrivileges(status: string): boolean {
  return holdsCapabilities([CAP_NET_ADMIN, CAP_SYS_ADMIN], status);
}
