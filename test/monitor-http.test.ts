/**
 * The monitor's HTTP endpoint: /metrics and /healthz, 404 and 405 for the
 * rest, on the host it is given; from a Prometheus web-config file, basic
 * auth with bcrypt hashes and TLS (a self-signed certificate made here with
 * openssl); a web-config that cannot serve is refused at load with the key
 * that is wrong. And the same through `rtt-probe monitor --web-config`.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMetricsServer, type MetricsServer, type MetricsServerOptions } from '../src/monitor/http-server';
import { WebConfigError, loadWebConfig } from '../src/monitor/web-config';
import { runCli, spawnCli } from './support/cli';

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const BODY = '# TYPE rtt_probe_target_up gauge\nrtt_probe_target_up{source="a",target="b",address="127.0.0.1"} 1\n';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(url: string, options: https.RequestOptions = {}): Promise<Reply> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, { agent: false, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

let dir = '';
let server: MetricsServer | undefined;
let healthy = true;
const options = (extra: Partial<MetricsServerOptions> = {}): MetricsServerOptions => ({
  host: '127.0.0.1',
  port: 0,
  metrics: async () => ({ contentType: CONTENT_TYPE, body: BODY }),
  health: () => ({ ok: healthy, detail: healthy ? 'ok: 3 targets' : 'engine stopped' }),
  ...extra,
});
const url = (route: string, scheme = 'http') => `${scheme}://127.0.0.1:${server!.address.port}${route}`;
const webConfig = (text: string) => {
  const file = path.join(dir, `web-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, text);
  return file;
};

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rtt-probe-http-'));
  for (const name of ['server', 'other']) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, `${name}.key`), '-out', path.join(dir, `${name}.crt`)], { stdio: 'pipe' });
  }
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  healthy = true;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startMetricsServer over HTTP', () => {
  it('serves /metrics with the exporter\'s content type and body', async () => {
    server = await startMetricsServer(options());
    const reply = await request(url('/metrics'));
    expect(reply).toMatchObject({ status: 200, body: BODY });
    expect(reply.headers['content-type']).toBe(CONTENT_TYPE);
  });

  it('serves /healthz: 200 with the detail when healthy, 503 when not', async () => {
    server = await startMetricsServer(options());
    expect(await request(url('/healthz'))).toMatchObject({ status: 200, body: 'ok: 3 targets\n' });
    healthy = false;
    expect(await request(url('/healthz'))).toMatchObject({ status: 503, body: 'engine stopped\n' });
  });

  it('answers 404 for other paths and 405 (with Allow) for other methods', async () => {
    server = await startMetricsServer(options());
    expect(await request(url('/'))).toMatchObject({ status: 404, body: expect.stringContaining('/metrics and /healthz') });
    const post = await request(url('/metrics'), { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(await request(url('/metrics?x=1'))).toMatchObject({ status: 200 });
  });

  it('answers 500 with the reason when the metrics cannot be gathered', async () => {
    server = await startMetricsServer(options({ metrics: () => Promise.reject(new Error('registry gone')) }));
    expect(await request(url('/metrics'))).toMatchObject({ status: 500, body: expect.stringContaining('registry gone') });
  });

  it('binds to the host it is given, and not to the others', async () => {
    server = await startMetricsServer(options());
    expect(server.address).toEqual({ host: '127.0.0.1', port: expect.any(Number) });
    await expect(request(`http://127.0.0.2:${server.address.port}/metrics`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses an address in use with its errno name as code', async () => {
    server = await startMetricsServer(options());
    await expect(startMetricsServer(options({ port: server.address.port }))).rejects.toMatchObject({
      code: 'EADDRINUSE',
      message: expect.stringMatching(/cannot serve metrics on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/),
    });
  });

  it('close() ends a scraper\'s keep-alive connection instead of waiting for it', async () => {
    server = await startMetricsServer(options());
    const agent = new http.Agent({ keepAlive: true });
    await request(url('/metrics'), { agent });
    const started = Date.now();
    await server.close();
    server = undefined;
    expect(Date.now() - started).toBeLessThan(1000);
    agent.destroy();
  });
});

describe('a Prometheus web-config file', () => {
  it('with basic_auth_users: 401 and WWW-Authenticate without a password or with a wrong one, 200 with the right one; /healthz stays open', async () => {
    const hash = bcrypt.hashSync('s3cret', 4);
    server = await startMetricsServer(options({ webConfig: await loadWebConfig(webConfig(`basic_auth_users:\n  prometheus: ${hash}\n`)) }));
    const none = await request(url('/metrics'));
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm="rtt-probe"/);
    expect(none.body).not.toContain('rtt_probe');
    expect((await request(url('/metrics'), { headers: basic('prometheus', 'wrong') })).status).toBe(401);
    expect((await request(url('/metrics'), { headers: basic('nobody', 's3cret') })).status).toBe(401);
    expect(await request(url('/metrics'), { headers: basic('prometheus', 's3cret') })).toMatchObject({ status: 200, body: BODY });
    // Again: the remembered verdict, and still the same answers.
    expect((await request(url('/metrics'), { headers: basic('prometheus', 's3cret') })).status).toBe(200);
    expect((await request(url('/metrics'), { headers: basic('prometheus', 'wrong') })).status).toBe(401);
    expect((await request(url('/healthz'))).status).toBe(200);
  });

  it('with tls_server_config: serves HTTPS that a client trusting the certificate reads, and no plain HTTP', async () => {
    const config = await loadWebConfig(webConfig('tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n'));
    server = await startMetricsServer(options({ webConfig: config }));
    const ca = config.tls!.cert;
    expect(await request(url('/metrics', 'https'), { ca })).toMatchObject({ status: 200, body: BODY });
    await expect(request(url('/metrics', 'https'))).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    await expect(request(url('/metrics'))).rejects.toThrow();
  });

  it('with RequireAndVerifyClientCert: only a client with a certificate the CA signed gets through', async () => {
    const config = await loadWebConfig(
      webConfig('tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: other.crt\n'),
    );
    server = await startMetricsServer(options({ webConfig: config }));
    const ca = config.tls!.cert;
    const read = (name: string) => readFileSync(path.join(dir, name));
    expect(await request(url('/metrics', 'https'), { ca, cert: read('other.crt'), key: read('other.key') })).toMatchObject({ status: 200 });
    await expect(request(url('/metrics', 'https'), { ca })).rejects.toThrow();
    // A certificate the client CA did not sign.
    await expect(request(url('/metrics', 'https'), { ca, cert: ca, key: read('server.key') })).rejects.toThrow();
  });

  const bad: Array<[string, string, RegExp]> = [
    ['an unknown key', 'tls_config:\n  cert_file: a\n', /unknown key "tls_config"; a web-config has tls_server_config, http_server_config, basic_auth_users/],
    ['an unknown TLS key', 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cert: inline\n', /tls_server_config\.cert is not supported; rtt-probe reads cert_file/],
    ['a missing key file', 'tls_server_config:\n  cert_file: server.crt\n', /tls_server_config needs both cert_file and key_file/],
    ['an unreadable certificate', 'tls_server_config:\n  cert_file: nope.crt\n  key_file: server.key\n', /tls_server_config\.cert_file: cannot read .*nope\.crt \(ENOENT\)/],
    ['a key that is not the certificate\'s', 'tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n', /the certificate and key cannot be used/],
    ['a client_auth_type Go does not know', 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: Always\n', /client_auth_type "Always" is not one of NoClientCert/],
    ['client verification without a CA', 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n', /give client_ca_file/],
    ['a TLS version Go does not name', 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLSv1.2\n', /min_version "TLSv1\.2" is not one of TLS10, TLS11, TLS12, TLS13/],
    ['a plain-text password', 'basic_auth_users:\n  prometheus: s3cret\n', /basic_auth_users\.prometheus is not a bcrypt hash; make one with `htpasswd -nBC 10/],
    ['a list for a mapping', 'basic_auth_users:\n  - prometheus\n', /basic_auth_users must be a mapping/],
  ];
  for (const [what, text, message] of bad) {
    it(`is refused at load for ${what}, naming the file and the key`, async () => {
      const file = webConfig(text);
      const error = await loadWebConfig(file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WebConfigError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_WEB_CONFIG', message: expect.stringMatching(message) });
      expect((error as Error).message.startsWith(`${file}: `)).toBe(true);
    });
  }

  it('that cannot be read is refused with its errno name', async () => {
    await expect(loadWebConfig(path.join(dir, 'none.yml'))).rejects.toMatchObject({ code: 'ERR_INVALID_WEB_CONFIG', message: expect.stringMatching(/none\.yml \(ENOENT\)/) });
  });

  it('adds http_server_config.headers to every reply', async () => {
    server = await startMetricsServer(options({ webConfig: await loadWebConfig(webConfig('http_server_config:\n  headers:\n    X-Frame-Options: deny\n')) }));
    expect((await request(url('/metrics'))).headers['x-frame-options']).toBe('deny');
    expect((await request(url('/nope'))).headers['x-frame-options']).toBe('deny');
  });
});

describe('rtt-probe monitor --web-config', () => {
  it('serves its mesh over HTTPS to the user with the password, and ends with exit 0 on SIGTERM', async () => {
    const hash = bcrypt.hashSync('s3cret', 4);
    const config = webConfig(`tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: ${hash}\n`);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const targets = path.join(dir, 'targets.yaml');
    writeFileSync(targets, `targets:\n  - name: self\n    address: 127.0.0.1\n    port: ${port}\n`);
    const run = spawnCli(['monitor', '--name', 'e2e', '--targets', targets, '--reflect', `127.0.0.1:${port}`, '--metrics', '127.0.0.1:0', '--web-config', config]);
    try {
      let stderr = '';
      run.child.stderr!.on('data', (d) => (stderr += d));
      const started = Date.now();
      while (!/metrics on 127\.0\.0\.1:\d+/.test(stderr) && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 50));
      const metricsPort = Number(/metrics on 127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]);
      expect(metricsPort, stderr).toBeGreaterThan(0);
      const ca = readFileSync(path.join(dir, 'server.crt'));
      const metrics = `https://127.0.0.1:${metricsPort}/metrics`;
      expect((await request(metrics, { ca })).status).toBe(401);
      let body = '';
      for (let i = 0; i < 40 && !body.includes('rtt_probe_target_up{source="e2e",target="self",address="127.0.0.1"} 1'); i++) {
        await new Promise((r) => setTimeout(r, 250));
        body = (await request(metrics, { ca, headers: basic('prometheus', 's3cret') })).body;
      }
      expect(body).toContain('rtt_probe_target_up{source="e2e",target="self",address="127.0.0.1"} 1');
      expect((await request(`https://127.0.0.1:${metricsPort}/healthz`, { ca })).status).toBe(200);
    } finally {
      run.child.kill('SIGTERM');
    }
    expect((await run.done).code).toBe(0);
  });

  it('refuses a web-config it cannot serve before it starts, naming the file and the key', async () => {
    const config = webConfig('tls_server_config:\n  cert_file: server.crt\n');
    const targets = path.join(dir, 'targets.json');
    writeFileSync(targets, '{"targets":[]}');
    const port = 20000 + Math.floor(Math.random() * 20000);
    const run = await runCli(['monitor', '--targets', targets, '--reflect', `127.0.0.1:${port}`, '--metrics', '127.0.0.1:0', '--web-config', config], { timeoutMs: 20_000 });
    expect(run.code).not.toBe(0);
    expect(run.signal).toBeNull();
    expect(run.stderr).toContain(`${config}: tls_server_config needs both cert_file and key_file`);
  });
});
