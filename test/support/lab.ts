/**
 * What a lab run may leave behind, looked up the way a user would: `ip netns
 * list`, `ip link`, `nft list tables`, and processes carrying the lab's
 * owner mark in their environment.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

function sh(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function hasNft(): boolean {
  try {
    sh('nft', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/** Processes a lab started (RTTP_LAB_OWNER in their environment), with that owner. */
export function labProcesses(): Array<{ pid: number; owner: number }> {
  const found: Array<{ pid: number; owner: number }> = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const mark = readFileSync(`/proc/${entry}/environ`, 'latin1')
        .split('\0')
        .find((v) => v.startsWith('RTTP_LAB_OWNER='));
      if (mark) found.push({ pid: Number(entry), owner: Number(mark.split('=')[1]) });
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** Everything named for the lab in the namespace list, and the links and nftables tables of `netns` (default: this one). */
export function labLeftovers(netns?: string): string[] {
  const inNetns = (command: string, args: string[]) => (netns ? sh('ip', ['netns', 'exec', netns, command, ...args]) : sh(command, args));
  const left = sh('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith('rttp-lab-'))
    .map((n) => `namespace ${n}`);
  for (const line of inNetns('ip', ['-o', 'link', 'show']).split('\n')) {
    const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1];
    if (name?.startsWith('rttpl')) left.push(`link ${name}`);
  }
  if (hasNft()) {
    for (const line of inNetns('nft', ['list', 'tables']).split('\n')) if (line.includes('rttp-lab-')) left.push(line.trim());
  }
  for (const { pid } of labProcesses()) left.push(`process ${pid}`);
  return left;
}

/** Waits until the processes a killed lab left have been reaped, or the limit passes; returns what is left. */
export async function settledLeftovers(netns?: string, limitMs = 5000): Promise<string[]> {
  const until = Date.now() + limitMs;
  let left = labLeftovers(netns);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    left = labLeftovers(netns);
  }
  return left;
}

/** Polls until `check` holds or the limit passes. */
export async function waitFor(check: () => boolean, limitMs = 30_000): Promise<boolean> {
  const until = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}
