import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createFakeClock } from '../../src/databricks/clock';
import { DatabricksApiError } from '../../src/databricks/errors';
import { createApiClient } from '../../src/databricks/http';
import { createTransport } from '../../src/databricks/proxy';
import { agentTransport, readCaCertificate } from '../../src/pipeline/client';
import { rejects } from '../helpers/rejects';

// Self-signed test certificate for 127.0.0.1 (test-only key, valid for 100 years).
const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'client-core', 'fixtures');
const CERT = path.join(FIXTURES, 'localhost-cert.pem');
const KEY = path.join(FIXTURES, 'localhost-key.pem');

describe('client core: TLS, agent CA certificate and proxy tunnel', () => {
  let server: https.Server;
  let url: string;
  const seen: Array<{ auth?: string; path?: string }> = [];
  let tcpConnections = 0;
  let proxy: http.Server;
  let proxyUrl: string;
  const connects: Array<{ target: string; auth?: string }> = [];
  const sockets = new Set<net.Socket>();

  before(async () => {
    server = https.createServer({ cert: readFileSync(CERT), key: readFileSync(KEY) }, (req, res) => {
      seen.push({ auth: req.headers.authorization, path: req.url });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    server.on('connection', () => void tcpConnections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

    proxy = http.createServer((_q, s) => s.writeHead(501).end());
    proxy.on('connect', (req: http.IncomingMessage, client: net.Socket) => {
      const auth = req.headers['proxy-authorization'] as string | undefined;
      connects.push({ target: req.url ?? '', auth });
      if (auth !== `Basic ${Buffer.from('agent:proxy-p4ssw0rd-test').toString('base64')}`) {
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client);
        client.pipe(upstream);
      });
      sockets.add(upstream).add(client);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => proxy.close(() => r()));
  });
  beforeEach(() => {
    seen.length = 0;
    connects.length = 0;
    tcpConnections = 0;
  });

  const tokenProvider = { getToken: async () => 'dapi-tls-test-token' };
  const opts = { tokenProvider, clock: createFakeClock(), retry: { maxAttempts: 1 } };

  it('an untrusted certificate fails with a clear TLS message (not retried)', async () => {
    const e = await rejects(createApiClient({ host: url, ...opts, retry: {} }).request({ method: 'GET', path: '/api/2.0/x' }));
    assert.equal(e.status, 0);
    assert.match(String(e.errorCode), /SELF_SIGNED|UNABLE_TO_VERIFY/);
    assert.match(e.message, /TLS certificate was not accepted; .* configure the agent's CA certificate \(Agent\.CAInfo\)/);
    assert.equal(seen.length, 0);
    assert.equal(tcpConnections, 1, 'a certificate error is not retried');
  });

  it("the agent's CA certificate (ca, read by the adapter) makes it trusted", async () => {
    const body = await createApiClient({ host: url, ...opts, proxy: { ca: readFileSync(CERT) } }).request({ method: 'GET', path: '/api/2.0/x' });
    assert.deepEqual(body, { ok: true });
    assert.deepEqual(seen, [{ auth: 'Bearer dapi-tls-test-token', path: '/api/2.0/x' }]);
  });

  it('ignoreSslErrors (the agent setting) skips validation', async () => {
    assert.deepEqual(await createApiClient({ host: url, ...opts, proxy: { ignoreSslErrors: true } }).request({ method: 'GET', path: '/api/2.0/x' }), {
      ok: true,
    });
  });

  it('https through the proxy: CONNECT tunnel with proxy credentials, TLS end to end (the proxy never sees Authorization)', async () => {
    const body = await createApiClient({
      host: url,
      ...opts,
      proxy: { proxyUrl, proxyUsername: 'agent', proxyPassword: 'proxy-p4ssw0rd-test', ca: readFileSync(CERT) },
    }).request({ method: 'GET', path: '/api/2.0/x' });
    assert.deepEqual(body, { ok: true });
    assert.deepEqual(
      connects.map((c) => c.target),
      [new URL(url).host],
    );
    assert.deepEqual(seen, [{ auth: 'Bearer dapi-tls-test-token', path: '/api/2.0/x' }]);
  });

  it('a proxy that refuses the credentials gives a 407 error', async () => {
    const e = await rejects(
      createApiClient({
        host: url,
        ...opts,
        proxy: { proxyUrl, proxyUsername: 'agent', proxyPassword: 'wrong-proxy-password', ca: readFileSync(CERT) },
      }).request({ method: 'GET', path: '/api/2.0/x' }),
    );
    assert.ok(e instanceof DatabricksApiError, String(e));
    assert.deepEqual([e.status, e.errorCode], [407, 'PROXY_AUTHENTICATION_REQUIRED']);
    assert.equal(
      e.message,
      "The agent's proxy refused GET /api/2.0/x (HTTP 407 Proxy Authentication Required): check the proxy user name and password configured on the agent.",
    );
    assert.ok(!e.message.includes('wrong-proxy-password'));
    assert.equal(seen.length, 0);
  });

  it('createTransport: an unreadable CA file (read by the adapter) or a bad proxy URL is a clear error', () => {
    assert.throws(
      () => agentTransport({ caCertPath: '/nonexistent/ca.pem' }),
      /The agent's CA certificate file \/nonexistent\/ca\.pem could not be read \(ENOENT\)/,
    );
    assert.deepEqual(readCaCertificate(CERT), readFileSync(CERT));
    assert.throws(() => createTransport({ proxyUrl: 'not a url' }), /proxy URL is not a valid URL/);
    assert.throws(() => createTransport({ proxyUrl: 'socks5://p:1080' }), /must be http or https \(got socks5\)/);
  });
});
