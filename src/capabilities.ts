/**
 * Linux capabilities this process holds, read from the effective set
 * (CapEff in /proc/self/status), for features that need privileges (the
 * lab's namespaces, the raw transport).
 */
import { readFileSync } from 'node:fs';

/** Capability bits (linux/capability.h). */
export const CAP_NET_ADMIN = 12n;
export const CAP_NET_RAW = 13n;
export const CAP_SYS_ADMIN = 21n;

/** Whether the effective set holds every capability given; `status` is the text of /proc/self/status. */
export function holdsCapabilities(capabilities: readonly bigint[], status = readFileSync('/proc/self/status', 'utf8')): boolean {
  const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (eff === undefined) return false;
  const set = BigInt(`0x${eff}`);
  return capabilities.every((cap) => ((set >> cap) & 1n) === 1n);
}
