import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { createFakeClock } from '../../src/databricks/clock';
import type { TokenProvider } from '../../src/databricks/contracts';
import { CancelledError, DatabricksApiError } from '../../src/databricks/errors';
import { ApiClientOptions, createApiClient } from '../../src/databricks/http';
import type { Transport } from '../../src/databricks/proxy';
import { registerTestSecret } from '../helpers/secrets';

// The client's axios boundary: whatever goes wrong, what comes out is our own error with copied fields only,
// and what goes on the wire is exactly the headers we set.

const TOKEN = registerTestSecret('axios boundary test token', 'dapi-axios-boundary-0123456789abcdef');
const tokenProvider: TokenProvider = { getToken: async () => TOKEN };
const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'client-core', 'fixtures');

/** The only own properties our errors may carry; every value must be a primitive (no config, request, response, cause). */
const SAFE_FIELDS = new Set(['stack', 'message', 'name', 'status', 'errorCode', 'requestId', 'method', 'path', 'retryAfterMs']);

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  assert.fail('expected a rejection');
}

/** Asserts the error is ours and holds nothing from axios: no object-valued field, no token, no header name. */
function assertClean(e: Error, what: string): void {
  assert.ok(e instanceof DatabricksApiError || e instanceof CancelledError, `${what}: ${inspect(e)}`);
  assert.equal(Object.getPrototypeOf(e).constructor.name === 'AxiosError', false, what);
  for (const key of Reflect.ownKeys(e)) {
    assert.equal(typeof key, 'string', `${what}: symbol-keyed own property`);
    assert.ok(SAFE_FIELDS.has(key as string), `${what}: unexpected own property ${String(key)}`);
    const value = (e as unknown as Record<string, unknown>)[key as string];
    assert.ok(value === undefined || ['string', 'number'].includes(typeof value), `${what}: ${String(key)} is a ${typeof value}`);
  }
  assert.equal('cause' in e, false, `${what}: has a cause`);
  for (const [form, text] of [
    ['JSON.stringify', JSON.stringify(e, Object.getOwnPropertyNames(e))],
    ['JSON.stringify (enumerable)', JSON.stringify(e)],
    ['util.inspect', inspect(e, { showHidden: true, depth: null })],
    ['String', String(e)],
  ] as const) {
    assert.ok(!text.includes(TOKEN), `${what}: ${form} contains the token`);
    assert.ok(!/authorization/i.test(text), `${what}: ${form} mentions Authorization`);
  }
  // The stack may pass through axios' frames (our error is built in its promise callback); nothing else may name it.
  const fields = Object.getOwnPropertyNames(e)
    .filter((k) => k !== 'stack')
    .map((k) => String((e as unknown as Record<string, unknown>)[k]));
  assert.ok(!fields.some((v) => /axios/i.test(v)), `${what}: a field mentions axios`);
}

/** A transport whose connections fail at once with `code` (and a message that, if copied, would leak). */
function failingTransport(code: string): Transport {
  class FailingAgent extends http.Agent {
    override createConnection(): net.Socket {
      const socket = new net.Socket();
      process.nextTick(() => socket.destroy(Object.assign(new Error(`${code} while sending Authorization: Bearer ${TOKEN}`), { code })));
      return socket;
    }
  }
  const agent = new FailingAgent({ keepAlive: false });
  return { optionsFor: () => ({ agent, viaProxy: false, tls: { rejectUnauthorized: true } }), destroy: () => agent.destroy() };
}

interface Raw {
  url: string;
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; rawHeaderNames: string[] }>;
  close(): Promise<void>;
}

async function startRaw(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Raw> {
  const requests: Raw['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaderNames: req.rawHeaders
        .filter((_, i) => i % 2 === 0)
        .map((h) => h.toLowerCase())
        .sort(),
    });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('client core: the axios boundary (errors converted, nothing leaks, explicit headers)', () => {
  let raw: Raw;
  let logs: string[];
  const client = (o: Partial<ApiClientOptions> = {}) =>
    createApiClient({
      host: raw.url,
      tokenProvider,
      clock: createFakeClock(),
      retry: { maxAttempts: 1 },
      log: (m) => logs.push(m),
      taskName: 'BoundaryTest',
      ...o,
    });

  before(async () => {
    raw = await startRaw((req, res) => {
      const route = (req.url ?? '').split('?')[0];
      req.resume();
      switch (route) {
        case '/hang-up':
          req.socket.destroy();
          return;
        case '/cut-json':
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
          res.write('{"partial":', () => res.destroy());
          return;
        case '/slow':
          setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 500);
          return;
        case '/big':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ pad: 'x'.repeat(10_000) }));
          return;
        case '/gzip':
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(JSON.stringify({ zipped: true, n: 42 })));
          return;
        case '/gzip-bomb':
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(JSON.stringify({ pad: '0'.repeat(200_000) })));
          return;
        case '/teapot':
          res.writeHead(418, { 'content-type': 'text/plain' }).end('I_AM_A_TEAPOT: short and stout');
          return;
        case '/file':
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '5' }).end('hello');
          return;
        default:
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }
    });
  });
  after(async () => {
    await raw.close();
  });
  beforeEach(() => {
    raw.requests.length = 0;
    logs = [];
  });
  afterEach(() => {
    for (const line of logs) {
      assert.ok(!line.includes(TOKEN) && !/authorization/i.test(line), `log line leaks: ${line}`);
    }
  });

  describe('every network failure kind becomes our error with safe fields only', () => {
    it('ECONNREFUSED (nothing listens): DatabricksApiError status 0, message names method and path', async () => {
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      const e = (await failure(
        client({ host: `http://127.0.0.1:${port}` }).request({ method: 'POST', path: '/api/2.0/refused', body: { a: 1 } }),
      )) as DatabricksApiError;
      assertClean(e, 'ECONNREFUSED');
      assert.deepEqual([e.status, e.errorCode, e.method, e.path], [0, 'ECONNREFUSED', 'POST', '/api/2.0/refused']);
      assert.equal(e.message, `Request POST /api/2.0/refused to 127.0.0.1:${port} failed: the connection was refused (ECONNREFUSED).`);
    });

    it('a connection closed before the answer (ECONNRESET, socket hang up) is SOCKET_HANG_UP', async () => {
      const e = (await failure(client().request({ method: 'GET', path: '/hang-up' }))) as DatabricksApiError;
      assertClean(e, 'socket hang up');
      assert.deepEqual([e.status, e.errorCode], [0, 'SOCKET_HANG_UP']);
      assert.match(e.message, /^Request GET \/hang-up to 127\.0\.0\.1:\d+ failed: the server closed the connection without answering \(SOCKET_HANG_UP\)\.$/);
    });

    it('a JSON body cut short after the headers (ECONNRESET "aborted") is RESPONSE_TRUNCATED', async () => {
      const e = (await failure(client().request({ method: 'GET', path: '/cut-json' }))) as DatabricksApiError;
      assertClean(e, 'truncated JSON');
      assert.deepEqual([e.status, e.errorCode], [0, 'RESPONSE_TRUNCATED']);
      assert.match(e.message, /^The response to GET \/cut-json from 127\.0\.0\.1:\d+ was cut short before its end\.$/);
    });

    for (const [code, expectedCode, detail] of [
      ['ETIMEDOUT', 'ETIMEDOUT', 'the connection timed out'],
      ['ECONNRESET', 'ECONNRESET', 'the connection was reset'],
      ['ECONNABORTED', 'REQUEST_TIMEOUT', 'the request timed out'],
      ['EHOSTUNREACH', 'EHOSTUNREACH', 'the host is unreachable'],
      ['ENETUNREACH', 'ENETUNREACH', 'the network is unreachable'],
      ['ENOTFOUND', 'ENOTFOUND', 'the host name could not be resolved; check the workspace URL'],
      ['EAI_AGAIN', 'EAI_AGAIN', 'the host name could not be resolved (temporary DNS failure)'],
      ['EPIPE', 'EPIPE', 'the connection was closed while sending'],
    ] as const) {
      it(`a socket failing with ${code} (message carrying the token) is ${expectedCode}; only the code is copied`, async () => {
        const e = (await failure(client({ transport: failingTransport(code) }).request({ method: 'GET', path: '/api/2.0/x' }))) as DatabricksApiError;
        assertClean(e, code);
        assert.deepEqual([e.status, e.errorCode], [0, expectedCode]);
        assert.equal(e.message, `Request GET /api/2.0/x to ${new URL(raw.url).host} failed: ${detail} (${expectedCode}).`);
        assert.equal(raw.requests.length, 0);
      });
    }

    it('our timer (not axios) times the exchange out: REQUEST_TIMEOUT with our message', async () => {
      const e = (await failure(client({ timeoutMs: 100 }).request({ method: 'GET', path: '/slow' }))) as DatabricksApiError;
      assertClean(e, 'timeout');
      assert.deepEqual([e.status, e.errorCode], [0, 'REQUEST_TIMEOUT']);
      assert.match(e.message, /^Request GET \/slow to 127\.0\.0\.1:\d+ timed out after 0\.1 s\.$/);
    });

    it('cancellation (axios ERR_CANCELED underneath) is a CancelledError naming the request', async () => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('pipeline cancelled')), 50);
      const e = await failure(client().request({ method: 'GET', path: '/slow', signal: ac.signal }));
      assertClean(e, 'cancel');
      assert.ok(e instanceof CancelledError);
      assert.equal(e.message, 'GET /slow was cancelled (pipeline cancelled).');
    });

    it('a JSON answer over the limit (axios maxContentLength) is RESPONSE_TOO_LARGE', async () => {
      const e = (await failure(client({ maxResponseBytes: 1000 }).request({ method: 'GET', path: '/big' }))) as DatabricksApiError;
      assertClean(e, 'too large');
      assert.equal(e.errorCode, 'RESPONSE_TOO_LARGE');
      assert.equal(e.message, 'The response to GET /big exceeds 1000 bytes; use a download for large content.');
    });

    it('a TLS certificate failure is our error with the TLS hint', async () => {
      const server = https.createServer(
        { cert: readFileSync(path.join(FIXTURES, 'localhost-cert.pem')), key: readFileSync(path.join(FIXTURES, 'localhost-key.pem')) },
        (_q, s) => s.end('{}'),
      );
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const e = (await failure(
          client({ host: `https://127.0.0.1:${(server.address() as AddressInfo).port}` }).request({ method: 'GET', path: '/api/2.0/tls' }),
        )) as DatabricksApiError;
        assertClean(e, 'TLS');
        assert.match(String(e.errorCode), /SELF_SIGNED|UNABLE_TO_VERIFY/);
        assert.match(e.message, /^Request GET \/api\/2\.0\/tls to 127\.0\.0\.1:\d+ failed: the server's TLS certificate was not accepted; /);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
    });

    it('an HTTP error status is never an axios error: the body is parsed by errorFromResponse', async () => {
      const e = (await failure(client().request({ method: 'GET', path: '/teapot' }))) as DatabricksApiError;
      assertClean(e, '418');
      assert.deepEqual([e.status, e.errorCode, e.message], [418, 'I_AM_A_TEAPOT', 'short and stout']);
    });

    it('download failures (connection refused, body cut short) are clean too and leave no file', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'axios-boundary-'));
      const e1 = await failure(client({ transport: failingTransport('ECONNRESET') }).download({ path: '/file', toFile: path.join(dir, 'f') }));
      assertClean(e1, 'download reset');
      const e2 = (await failure(client().download({ path: '/cut-json', toFile: path.join(dir, 'g') }))) as DatabricksApiError;
      assertClean(e2, 'download truncated');
      assert.equal(e2.errorCode, 'RESPONSE_TRUNCATED');
      assert.match(e2.message, /received 11 bytes of the 100 announced/);
      assert.deepEqual(readdirSync(dir), []);
    });
  });

  describe('what goes on the wire', () => {
    const base = ['accept', 'accept-encoding', 'authorization', 'connection', 'host', 'user-agent'];

    it('exactly our headers: no axios User-Agent, Accept or form Content-Type', async () => {
      const c = client();
      await c.request({ method: 'GET', path: '/ok' });
      await c.request({ method: 'POST', path: '/ok', body: { a: 1 } });
      await c.request({ method: 'POST', path: '/ok' });
      await c.download({ path: '/file', toFile: path.join(mkdtempSync(path.join(tmpdir(), 'axios-hdr-')), 'f') });
      assert.deepEqual(
        raw.requests.map((r) => r.rawHeaderNames),
        [base, [...base, 'content-length', 'content-type'].sort(), [...base, 'content-length'].sort(), base],
      );
      const [get, post, bare, dl] = raw.requests;
      assert.deepEqual(
        [get.headers.accept, get.headers['accept-encoding'], get.headers.authorization],
        ['application/json', 'gzip, deflate', `Bearer ${TOKEN}`],
      );
      assert.match(String(get.headers['user-agent']), /^databricks-mlops-azure-pipelines \(task BoundaryTest\)$/);
      assert.deepEqual([post.headers['content-type'], post.headers['content-length']], ['application/json', '7']);
      assert.equal(bare.headers['content-length'], '0', 'a bodiless POST has no form content-type');
      assert.deepEqual([dl.headers.accept, dl.headers['accept-encoding']], ['*/*', 'identity']);
    });

    it('a gzip JSON answer is decompressed; the size limit counts decompressed bytes (a zip bomb is refused)', async () => {
      assert.deepEqual(await client().request({ method: 'GET', path: '/gzip' }), { zipped: true, n: 42 });
      const e = (await failure(client({ maxResponseBytes: 50_000 }).request({ method: 'GET', path: '/gzip-bomb' }))) as DatabricksApiError;
      assert.equal(e.errorCode, 'RESPONSE_TOO_LARGE');
    });

    it('HTTP_PROXY/HTTPS_PROXY in the environment are ignored (proxy: false): only the agent settings choose a proxy', async () => {
      const envProxy = await startRaw((_q, s) => s.writeHead(502).end());
      const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
      process.env.HTTP_PROXY = process.env.http_proxy = envProxy.url;
      delete process.env.NO_PROXY;
      delete process.env.no_proxy;
      try {
        assert.deepEqual(await client().request({ method: 'GET', path: '/ok' }), { ok: true });
        assert.equal(envProxy.requests.length, 0);
        assert.equal(raw.requests.length, 1);
      } finally {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
        await envProxy.close();
      }
    });
  });
});
