/**
 * Prometheus's web-config file (the exporter-toolkit format node_exporter
 * reads): TLS for the metrics endpoint and basic-auth users with bcrypt
 * hashes. Files named in it are read relative to it, when it is loaded, so
 * a wrong path fails at start and not at the first scrape.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import { RttProbeError } from '../errors';
import { isMapping, parseYaml } from '../yaml-input';

/** A web-config file that cannot be used; the message names the file, the key and the fix. */
export class WebConfigError extends RttProbeError {
  declare readonly code: 'ERR_INVALID_WEB_CONFIG';

  constructor(message: string) {
    super(message, 'ERR_INVALID_WEB_CONFIG');
    this.name = 'WebConfigError';
  }
}

/** exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType). */
export const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
type TlsVersion = (typeof TLS_VERSIONS)[keyof typeof TLS_VERSIONS];

export interface WebConfigTls {
  cert: Buffer;
  key: Buffer;
  /** CAs that verify client certificates (client_ca_file). */
  ca?: Buffer;
  clientAuth: ClientAuthType;
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
}

export interface WebConfig {
  /** The file it came from. */
  file: string;
  tls?: WebConfigTls;
  /** User name -> bcrypt hash; empty means no authentication. */
  basicAuthUsers: Map<string, string>;
  /** http_server_config.headers: added to every response. */
  headers: Record<string, string>;
}

const SECTIONS = {
  tls_server_config: ['cert_file', 'key_file', 'client_auth_type', 'client_ca_file', 'min_version', 'max_version'],
  http_server_config: ['headers'],
  basic_auth_users: null,
} as const;
const BCRYPT = /^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$/;

/** Reads and checks a web-config file; every problem is a WebConfigError naming the file and the key. */
export async function loadWebConfig(file: string): Promise<WebConfig> {
  const fail = (what: string) => new WebConfigError(`${file}: ${what}`);
  const readNamed = async (key: string, name: unknown) => {
    if (typeof name !== 'string' || name === '') throw fail(`${key} must be a file name`);
    const full = path.resolve(path.dirname(file), name);
    try {
      return await readFile(full);
    } catch (error) {
      throw fail(`${key}: cannot read ${full} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  const section = (doc: Record<string, unknown>, key: keyof typeof SECTIONS): Record<string, unknown> | undefined => {
    const value = doc[key];
    if (value === undefined || value === null) return undefined;
    if (!isMapping(value)) throw fail(`${key} must be a mapping`);
    const allowed = SECTIONS[key] as readonly string[] | null;
    const unknown = allowed ? Object.keys(value).filter((k) => !allowed.includes(k)) : [];
    if (unknown.length > 0) throw fail(`${key}.${unknown[0]} is not supported; rtt-probe reads ${allowed!.join(', ')}`);
    return value;
  };

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new WebConfigError(`cannot read web-config file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const doc = parseYaml(text, (problem) => fail(`not YAML (${problem})`)) ?? {};
  if (!isMapping(doc)) throw fail('expected a mapping with tls_server_config, http_server_config and/or basic_auth_users');
  const unknown = Object.keys(doc).filter((k) => !(k in SECTIONS));
  if (unknown.length > 0) throw fail(`unknown key "${unknown[0]}"; a web-config has ${Object.keys(SECTIONS).join(', ')}`);

  const config: WebConfig = { file, basicAuthUsers: new Map(), headers: {} };
  const tls = section(doc, 'tls_server_config');
  if (tls) config.tls = await readTls(tls, fail, readNamed);

  const users = section(doc, 'basic_auth_users');
  for (const [user, hash] of Object.entries(users ?? {})) {
    if (typeof hash !== 'string' || !BCRYPT.test(hash)) throw fail(`basic_auth_users.${user} is not a bcrypt hash; make one with \`htpasswd -nBC 10 "" | tr -d ':\\n'\``);
    config.basicAuthUsers.set(user, hash);
  }

  const headers = section(doc, 'http_server_config')?.headers;
  if (headers !== undefined && headers !== null) {
    if (!isMapping(headers) || !Object.values(headers).every((v) => typeof v === 'string')) throw fail('http_server_config.headers must map header names to strings');
    config.headers = headers as Record<string, string>;
  }
  return config;
}

async function readTls(
  tls: Record<string, unknown>,
  fail: (what: string) => WebConfigError,
  readNamed: (key: string, name: unknown) => Promise<Buffer>,
): Promise<WebConfigTls> {
  const key = 'tls_server_config';
  if (tls.cert_file === undefined || tls.key_file === undefined) throw fail(`${key} needs both cert_file and key_file`);
  const result: WebConfigTls = {
    cert: await readNamed(`${key}.cert_file`, tls.cert_file),
    key: await readNamed(`${key}.key_file`, tls.key_file),
    clientAuth: 'NoClientCert',
  };
  if (tls.client_auth_type !== undefined) {
    if (!(CLIENT_AUTH_TYPES as readonly unknown[]).includes(tls.client_auth_type)) throw fail(`${key}.client_auth_type ${JSON.stringify(tls.client_auth_type)} is not one of ${CLIENT_AUTH_TYPES.join(', ')}`);
    result.clientAuth = tls.client_auth_type as ClientAuthType;
  }
  if (tls.client_ca_file !== undefined) result.ca = await readNamed(`${key}.client_ca_file`, tls.client_ca_file);
  if (!result.ca && (result.clientAuth === 'VerifyClientCertIfGiven' || result.clientAuth === 'RequireAndVerifyClientCert')) {
    throw fail(`${key}.client_auth_type ${result.clientAuth} verifies client certificates: give client_ca_file`);
  }
  for (const bound of ['min_version', 'max_version'] as const) {
    const value = tls[bound];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !(value in TLS_VERSIONS)) throw fail(`${key}.${bound} ${JSON.stringify(value)} is not one of ${Object.keys(TLS_VERSIONS).join(', ')}`);
    result[bound === 'min_version' ? 'minVersion' : 'maxVersion'] = TLS_VERSIONS[value as keyof typeof TLS_VERSIONS];
  }
  try {
    // A certificate that does not match its key fails here, not at the first scrape.
    createSecureContext({ cert: result.cert, key: result.key, ...(result.ca ? { ca: result.ca } : {}) });
  } catch (error) {
    throw fail(`${key}: the certificate and key cannot be used (${(error as Error).message})`);
  }
  return result;
}
