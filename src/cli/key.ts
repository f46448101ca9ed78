/**
 * The CLI's authentication key: from a file (--key-file) or an environment
 * variable (--key-env, RTT_PROBE_KEY by default), never from the command
 * line, where other users could read it in the process list. Messages name
 * the file or variable, never the key.
 */
import fs from 'node:fs';
import { MAX_KEY_SIZE, MIN_KEY_SIZE } from '../options';

export const DEFAULT_KEY_VARIABLE = 'RTT_PROBE_KEY';

/** A problem with --key-file / --key-env: bad usage, exit 2. */
export class KeyError extends Error {}

export interface KeyFlags {
  keyFile?: string;
  /** true: --key-env without a name. */
  keyEnv?: string | boolean;
}

const MAKE_ONE = `(make one with: head -c 32 /dev/urandom > key; chmod 600 key)`;

function checked(key: Buffer, where: string): Buffer {
  if (key.length < MIN_KEY_SIZE || key.length > MAX_KEY_SIZE) {
    throw new KeyError(`the key in ${where} is ${key.length} bytes; it must be ${MIN_KEY_SIZE} to ${MAX_KEY_SIZE} ${MAKE_ONE}`);
  }
  return key;
}

/** The key the flags name, or undefined without --key-file / --key-env. */
export function keyFromFlags(flags: KeyFlags, env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  if (flags.keyFile !== undefined && flags.keyEnv !== undefined) {
    throw new KeyError('--key-file and --key-env both name a key: give one of them');
  }
  if (flags.keyFile !== undefined) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(flags.keyFile);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code})`;
      throw new KeyError(`--key-file ${flags.keyFile} ${why}: give the path of a file holding the shared key ${MAKE_ONE}`);
    }
    // One trailing newline is an editor's, not the key's.
    const end = bytes.at(-1) === 0x0a ? (bytes.at(-2) === 0x0d ? 2 : 1) : 0;
    return checked(bytes.subarray(0, bytes.length - end), `--key-file ${flags.keyFile}`);
  }
  if (flags.keyEnv !== undefined) {
    const name = flags.keyEnv === true ? DEFAULT_KEY_VARIABLE : String(flags.keyEnv);
    const value = env[name];
    if (!value) {
      throw new KeyError(`--key-env: the environment variable ${name} is not set or empty: export ${name}=<secret> or use --key-file`);
    }
    return checked(Buffer.from(value, 'utf8'), `the environment variable ${name}`);
  }
  return undefined;
}
