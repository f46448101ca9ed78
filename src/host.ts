/** Identification of the host a result was measured on, so saved reports can be compared. */
import os from 'node:os';

export interface HostInfo {
  hostname: string;
  platform: string;
  arch: string;
  kernel: string;
  kernelVersion: string;
  cpuModel: string;
  cpus: number;
  node: string;
  rttProbe: string;
}

export const VERSION: string = (require('../package.json') as { version: string }).version;

export function hostInfo(): HostInfo {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    platform: os.platform(),
    arch: os.arch(),
    kernel: os.release(),
    kernelVersion: os.version(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    node: process.version,
    rttProbe: VERSION,
  };
}
