/**
 * The monitor's HTTP endpoint: GET /metrics (the Prometheus text format) and
 * GET /healthz, over HTTP or, from a web-config, HTTPS with basic auth.
 * /healthz needs no password, so a kubelet probe can reach it without one.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import bcrypt from 'bcryptjs';
import { RttProbeError } from '../errors';
import type { WebConfig } from './web-config';

export interface MetricsServerOptions {
  host: string;
  port: number;
  webConfig?: WebConfig;
  metrics: () => Promise<{ contentType: string; body: string }>;
  health: () => { ok: boolean; detail: string };
}

export interface MetricsServer {
  /** Where it listens (the port the OS chose when asked for 0). */
  address: { host: string; port: number };
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

const ROUTES = ['/metrics', '/healthz'];
/** Compared against when the user is unknown, so a wrong name costs as long as a wrong password. */
const DUMMY_HASH = '$2b$10$CwTycUXWue0Thq9StjUM0uJ8JqKzIaZ6nmbFfHqXDRi5xdHHnlbOu';
/** bcrypt is slow on purpose; a scraper sends the same header every time, so remember recent verdicts. */
const VERDICTS_KEPT = 64;

/** Starts serving; rejects with an RttProbeError whose code is the errno name (EADDRINUSE, EACCES, ...) when it cannot listen. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { webConfig } = options;
  const authorized = basicAuth(webConfig?.basicAuthUsers ?? new Map());
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    for (const [name, value] of Object.entries(webConfig?.headers ?? {})) res.setHeader(name, value);
    void respond(req, res, options, authorized).catch((error: Error) => reply(res, 500, `metrics failed: ${error.message}\n`));
  };
  const tls = webConfig?.tls;
  const server: http.Server = tls
    ? https.createServer(
        {
          cert: tls.cert,
          key: tls.key,
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(tls.minVersion ? { minVersion: tls.minVersion } : {}),
          ...(tls.maxVersion ? { maxVersion: tls.maxVersion } : {}),
          requestCert: tls.clientAuth !== 'NoClientCert',
          rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert',
        },
        (req, res) => {
          if (clientCertRefused(req.socket as TLSSocket, tls.clientAuth)) {
            req.socket.destroy();
            return;
          }
          handler(req, res);
        },
      )
    : http.createServer(handler);

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? 'ERR_RTT_PROBE';
      reject(new RttProbeError(`cannot serve metrics on ${options.host}:${options.port} (${code}): ${error.message}; choose another --metrics address`, code, error.errno));
    });
    server.listen(options.port, options.host, resolve);
  });
  const bound = server.address();
  return {
    address: { host: options.host, port: typeof bound === 'object' && bound ? bound.port : options.port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper's keep-alive connection would hold close() open until it idles out.
        server.closeAllConnections();
      }),
  };
}

async function respond(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  options: MetricsServerOptions,
  authorized: (header: string | undefined) => Promise<boolean>,
): Promise<void> {
  const route = new URL(req.url ?? '/', 'http://monitor').pathname;
  if (!ROUTES.includes(route)) return reply(res, 404, `not found: ${route}; this server serves ${ROUTES.join(' and ')}\n`);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return reply(res, 405, `${req.method} is not allowed; use GET\n`);
  }
  if (route === '/healthz') {
    const { ok, detail } = options.health();
    return reply(res, ok ? 200 : 503, `${detail}\n`);
  }
  if (!(await authorized(req.headers.authorization))) {
    res.setHeader('WWW-Authenticate', 'Basic realm="rtt-probe", charset="UTF-8"');
    return reply(res, 401, 'unauthorized: give a user and password from the web-config file\n');
  }
  const { contentType, body } = await options.metrics();
  reply(res, 200, body, contentType);
}

function reply(res: http.ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** exporter-toolkit's client_auth_type, for the modes Node's requestCert/rejectUnauthorized alone do not enforce. */
function clientCertRefused(socket: TLSSocket, mode: string): boolean {
  const given = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
  if (mode === 'RequireAnyClientCert') return !given;
  if (mode === 'VerifyClientCertIfGiven') return given && !socket.authorized;
  return false;
}

/** A check of an Authorization header against the users; with no users everyone is let in. */
function basicAuth(users: Map<string, string>): (header: string | undefined) => Promise<boolean> {
  const verdicts = new Map<string, boolean>();
  return async (header) => {
    if (users.size === 0) return true;
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
    if (!match) return false;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const key = createHash('sha256').update(decoded).digest('hex');
    const known = verdicts.get(key);
    if (known !== undefined) return known;
    const hash = users.get(decoded.slice(0, colon));
    const ok = (await bcrypt.compare(decoded.slice(colon + 1), hash ?? DUMMY_HASH)) && hash !== undefined;
    if (verdicts.size >= VERDICTS_KEPT) verdicts.delete(verdicts.keys().next().value!);
    verdicts.set(key, ok);
    return ok;
  };
}
