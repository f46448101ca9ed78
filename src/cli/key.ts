/**
 * The CLI's authentication key: from a file (--key-file) or an environment
 * variable (--key-env, RTT_PROBE_KEY by default), never from the command
 * line, where other users could read it in the process list. Messages name
 * the file or variable, never the key.
 *
 * A key file holds the key's bytes. It must be a regular file (a FIFO would
 * block, /dev/zero never end) that every user cannot read and that only its
 * owner can change, as ssh asks of private keys (a group may read it, for a
 * service's group); no more than the longest key is read from it.
 * An environment variable holds text, since a shell cannot carry NUL bytes:
 * hex, or base64 after "base64:".
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { MAX_KEY_SIZE, MIN_KEY_SIZE } from '../options';

export const DEFAULT_KEY_VARIABLE = 'RTT_PROBE_KEY';

/** A problem with --key-file / --key-env: bad usage, exit 2. */
export class KeyError extends Error {}

export interface KeyFlags {
  keyFile?: string;
  /** true: --key-env without a name. */
  keyEnv?: string | boolean;
  /** Take a key file that other users can read or change. */
  insecureKeyFile?: boolean;
}

/** The flags that name a key: --key-file, --key-env, --insecure-key-file. */
export function keyOptions(cmd: Command): Command {
  return cmd
    .option('--key-file <path>', 'authenticated STAMP: read the shared key (16-4096 bytes) from this file')
    .option('--key-env [name]', `authenticated STAMP: read the shared key, as hex or base64:..., from this environment variable (${DEFAULT_KEY_VARIABLE})`)
    .option('--insecure-key-file', 'take a --key-file that every user can read, or that its group or every user can change (refused otherwise, as ssh does)');
}

const MAKE_ONE = `(make one with: head -c 32 /dev/urandom > stamp.key; chmod 600 stamp.key)`;
const PUT_IN_ENV = (name: string) => `${name}=$(xxd -p -c 256 stamp.key), or ${name}=base64:$(base64 -w0 stamp.key)`;
/** One trailing newline is an editor's, not the key's: a file may hold up to two bytes more. */
const MAX_FILE_SIZE = MAX_KEY_SIZE + 2;

function wrongSize(length: number, where: string): KeyError {
  return new KeyError(`the key in ${where} is ${length} bytes; it must be ${MIN_KEY_SIZE} to ${MAX_KEY_SIZE} ${MAKE_ONE}`);
}

function checked(key: Buffer, where: string): Buffer {
  if (key.length < MIN_KEY_SIZE || key.length > MAX_KEY_SIZE) throw wrongSize(key.length, where);
  return key;
}

function kind(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a plain file';
}

/** Why other users could learn or change the key, or null. */
function exposure(mode: number): string | null {
  if (mode & 0o004) return 'readable by every user';
  if (mode & 0o002) return 'writable by every user';
  if (mode & 0o020) return 'writable by its group';
  return null;
}

function readKeyFile(file: string, insecure: boolean): Buffer {
  const where = `--key-file ${file}`;
  let fd: number;
  try {
    // Non-blocking, so opening a FIFO returns instead of waiting for a writer.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : `cannot be opened (${code})`;
    throw new KeyError(`${where} ${why}: give the path of a file holding the shared key ${MAKE_ONE}`);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new KeyError(`${where} is ${kind(stat)}, not a regular file: give a file holding the shared key ${MAKE_ONE}`);
    const exposed = exposure(stat.mode);
    if (exposed && !insecure) {
      throw new KeyError(`${where} is ${exposed}: chmod 600 ${file} (or pass --insecure-key-file to use it anyway)`);
    }
    if (stat.size > MAX_FILE_SIZE) throw wrongSize(stat.size, where);
    const buffer = Buffer.alloc(MAX_FILE_SIZE + 1);
    let length = 0;
    for (let n; length < buffer.length && (n = fs.readSync(fd, buffer, length, buffer.length - length, null)) > 0; ) length += n;
    const bytes = buffer.subarray(0, length);
    const end = bytes.at(-1) === 0x0a ? (bytes.at(-2) === 0x0d ? 2 : 1) : 0;
    return checked(bytes.subarray(0, length - end), where);
  } finally {
    fs.closeSync(fd);
  }
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeKeyText(value: string, name: string): Buffer {
  const where = `the environment variable ${name}`;
  // Whitespace is layout (xxd breaks long keys into lines), never key material.
  const text = value.replace(/\s+/g, '');
  if (text.startsWith('base64:')) {
    const b64 = text.slice('base64:'.length);
    if (!BASE64.test(b64)) throw new KeyError(`${where} starts with base64: but the rest is not base64: ${PUT_IN_ENV(name)}`);
    return checked(Buffer.from(b64, 'base64'), where);
  }
  if (!HEX.test(text)) {
    throw new KeyError(`${where} is neither hex nor base64: (a key in the environment is text; raw bytes lose their NUL bytes): ${PUT_IN_ENV(name)}`);
  }
  return checked(Buffer.from(text, 'hex'), where);
}

/** The key the flags name, or undefined without --key-file / --key-env. */
export function keyFromFlags(flags: KeyFlags, env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  if (flags.keyFile !== undefined && flags.keyEnv !== undefined) {
    throw new KeyError('--key-file and --key-env both name a key: give one of them');
  }
  if (flags.keyFile !== undefined) return readKeyFile(flags.keyFile, flags.insecureKeyFile ?? false);
  if (flags.keyEnv !== undefined) {
    const name = flags.keyEnv === true ? DEFAULT_KEY_VARIABLE : String(flags.keyEnv);
    const value = env[name];
    if (!value) {
      throw new KeyError(`--key-env: the environment variable ${name} is not set or empty: ${PUT_IN_ENV(name)}, or use --key-file`);
    }
    return decodeKeyText(value, name);
  }
  return undefined;
}
