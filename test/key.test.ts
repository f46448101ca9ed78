/**
 * The CLI's key, from a file or the environment, as an attacker or a hurried
 * operator would hand it over. A key in the environment is text (hex, or
 * base64 after "base64:"), because a shell cannot carry the NUL bytes of a
 * random binary key; a key file must be a regular file that others cannot
 * read or change, and no more than the longest key is ever read from it.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyError, keyFromFlags } from '../src/cli/key';
import { MAX_KEY_SIZE } from '../src/options';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtt-probe-key-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let files = 0;
function keyFile(bytes: Buffer, mode = 0o600): string {
  const file = path.join(dir, `key${files++}`);
  fs.writeFileSync(file, bytes, { mode });
  fs.chmodSync(file, mode); // past the umask
  return file;
}

/** What a shell puts into RTT_PROBE_KEY with this recipe, the key file being $KEY. */
function shell(recipe: string, file: string): string {
  return execFileSync('bash', ['-c', `RTT_PROBE_KEY=${recipe}; printf %s "$RTT_PROBE_KEY"`], { env: { KEY: file, PATH: process.env.PATH } }).toString();
}

const fromEnv = (value: string) => keyFromFlags({ keyEnv: true }, { RTT_PROBE_KEY: value });

describe('a key in the environment', () => {
  // Random binary keys: NUL bytes, bytes that are not UTF-8, a trailing newline byte.
  const keys = [...Array.from({ length: 20 }, () => crypto.randomBytes(32)), Buffer.from([0, 0xff, ...crypto.randomBytes(13), 0x0a]), crypto.randomBytes(MAX_KEY_SIZE)];

  it.each([
    ['hex', '$(xxd -p -c 256 "$KEY")'],
    ['base64', 'base64:$(base64 -w0 "$KEY")'],
  ])('as %s, the documented recipe carries random binary keys byte for byte', (_name, recipe) => {
    for (const key of keys) expect(fromEnv(shell(recipe, keyFile(key)))).toEqual(key);
  });

  it('as raw bytes ("$(cat stamp.key)", which drops NUL bytes) is refused with the recipe that works', () => {
    const key = Buffer.concat([Buffer.from([0x41, 0, 0x80]), crypto.randomBytes(29)]);
    expect(() => fromEnv(shell('"$(cat "$KEY")"', keyFile(key)))).toThrow(
      /RTT_PROBE_KEY is neither hex nor base64:.*RTT_PROBE_KEY=\$\(xxd -p -c 256 stamp.key\)/,
    );
  });

  it.each([
    ['odd-length hex', 'abc'.repeat(11)],
    ['hex with a stray letter', `${'ab'.repeat(16)}xz`],
    ['base64 with a character outside the alphabet', `base64:${crypto.randomBytes(32).toString('base64').slice(0, -4)}*AA=`],
    ['base64 without its prefix', crypto.randomBytes(32).toString('base64')],
    ['a passphrase', 'correct horse battery staple'],
  ])('as %s is refused', (_name, value) => {
    expect(() => fromEnv(value)).toThrow(KeyError);
  });

  it.each([
    ['hex', crypto.randomBytes(8).toString('hex')],
    ['base64', `base64:${crypto.randomBytes(8).toString('base64')}`],
  ])('too short in %s is refused, saying the length and never the key', (_name, value) => {
    expect(() => fromEnv(value)).toThrow(/is 8 bytes; it must be 16 to 4096/);
    try {
      fromEnv(value);
    } catch (error) {
      expect((error as Error).message).not.toContain(value.replace('base64:', ''));
    }
  });
});

describe('a key file', () => {
  const key = crypto.randomBytes(32);

  it.each(['600', '400', '640'])('with mode %s is read', (mode) => {
    expect(keyFromFlags({ keyFile: keyFile(key, parseInt(mode, 8)) })).toEqual(key);
  });

  it.each([
    ['644', 'readable by every user'],
    ['604', 'readable by every user'],
    ['620', 'writable by its group'],
    ['602', 'writable by every user'],
  ])('with mode %s is refused as %s, unless insecureKeyFile says to take it', (mode, why) => {
    const file = keyFile(key, parseInt(mode, 8));
    expect(() => keyFromFlags({ keyFile: file })).toThrow(new RegExp(`${why}: chmod 600 .*or pass --insecure-key-file`));
    expect(keyFromFlags({ keyFile: file, insecureKeyFile: true })).toEqual(key);
  });

  it('that never ends (/dev/zero) is refused at once, not read', () => {
    const started = Date.now();
    expect(() => keyFromFlags({ keyFile: '/dev/zero' })).toThrow(/--key-file \/dev\/zero is a character device, not a regular file/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('that is a FIFO is refused at once instead of waiting for a writer', () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    expect(() => keyFromFlags({ keyFile: fifo })).toThrow(/is a FIFO, not a regular file/);
  });

  it('longer than the longest key is refused, naming its length', () => {
    const file = keyFile(crypto.randomBytes(3 * 1024 * 1024));
    expect(() => keyFromFlags({ keyFile: file })).toThrow(/is 3145728 bytes; it must be 16 to 4096/);
  });
});
