/**
 * Which platforms the package ships prebuilt addons for, and what building
 * the addon from source needs elsewhere: the words of the loader's errors and
 * of the install script's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type Libc = 'glibc' | 'musl';

/** Where the addon must run: what picks a prebuild, and what a source build needs. */
export interface AddonPlatform {
  arch: string;
  libc: Libc;
}

/**
 * The C library this Node runs on. $LIBC overrides it as it does for
 * node-gyp-build, which picks the prebuild by it, so both always agree.
 */
export function detectLibc(env: NodeJS.ProcessEnv = process.env): Libc {
  if (env.LIBC === 'glibc' || env.LIBC === 'musl') return env.LIBC;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** The prebuilds' C library; every other one builds from source at install. */
export const PREBUILT_LIBC: Libc = 'glibc';

/** The architectures with a prebuilt addon: package.json's `cpu`, which also makes npm refuse the others. */
export function prebuiltArches(): readonly string[] {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { cpu?: string[] };
  return manifest.cpu ?? [];
}

/** What a source build needs on each C library, with the command that installs it. */
export const BUILD_REQUIREMENTS: Record<Libc, string> = {
  glibc: 'python3, make and a C++17 compiler (Debian, Ubuntu: apt-get install python3 make g++; Fedora, RHEL: dnf install python3 make gcc-c++)',
  musl: 'python3, make, a C++17 compiler and the Linux headers (Alpine: apk add build-base python3 linux-headers)',
};

/** Whether a prebuild exists for `target`, and if not, that it builds from source and what that needs. */
export function sourceBuildAdvice(target: AddonPlatform): string {
  const shipped = prebuiltArches().map((arch) => `linux-${arch}`);
  const prebuilt = target.libc === PREBUILT_LIBC && prebuiltArches().includes(target.arch);
  const why = prebuilt
    ? 'No prebuilt addon loaded and no local build was found.'
    : `rtt-probe ships prebuilt addons for ${shipped.join(' and ')} with ${PREBUILT_LIBC} only, ` +
      `so on linux-${target.arch} with ${target.libc} it is built from source.`;
  return (
    `${why} Building needs ${BUILD_REQUIREMENTS[target.libc]}; ` +
    'install that, then run `npm rebuild rtt-probe` (from a checkout: `npm run compile`).'
  );
}
