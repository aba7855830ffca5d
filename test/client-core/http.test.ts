import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createFakeClock, FakeClock } from '../../src/databricks/clock';
import type { TokenProvider } from '../../src/databricks/contracts';
import { CancelledError, DatabricksApiError, isNotFound, SIGN_IN_PAGE } from '../../src/databricks/errors';
import { ApiClientOptions, createApiClient, userAgent } from '../../src/databricks/http';
import { paginateByOffset, paginateByToken, toArray } from '../../src/databricks/paginate';
import { EMULATOR_DEFAULTS, Emulator, startEmulator } from '../../emulator';
import { BLOB, installTestRoutes, ITEMS } from './routes';
import { version } from '../../package.json';
import { rejects } from '../helpers/rejects';

const pat: TokenProvider = { getToken: async () => EMULATOR_DEFAULTS.pat };

interface Recorder {
  url: string;
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

async function startRecorder(): Promise<Recorder> {
  const requests: Recorder['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ landed: true }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

describe('client core: createApiClient against the emulator', () => {
  let emu: Emulator;
  let other: Recorder;
  let clock: FakeClock;
  let logs: string[];
  const client = (o: Partial<ApiClientOptions> = {}) =>
    createApiClient({ host: emu.url, tokenProvider: pat, clock, retry: { random: () => 0.5 }, log: (m) => logs.push(m), taskName: 'TestTask', ...o });

  before(async () => {
    emu = await startEmulator();
    other = await startRecorder();
    installTestRoutes(emu, { otherOrigin: other.url });
  });
  after(async () => {
    await emu.close();
    await other.close();
  });
  beforeEach(() => {
    emu.clearRequests();
    emu.faults.clear();
    other.requests.length = 0;
    clock = createFakeClock();
    logs = [];
  });

  describe('requests and responses', () => {
    it('request() sends bearer auth, the User-Agent and repeated query keys, and parses JSON', async () => {
      const body = await client().request<{ query: unknown; principal: string }>({
        method: 'GET',
        path: '/api/2.0/test/echo',
        query: { a: [1, 'two'], b: true, c: undefined },
      });
      assert.deepEqual(body, { query: { a: ['1', 'two'], b: 'true' }, principal: EMULATOR_DEFAULTS.patPrincipal });
      const [entry] = emu.callsTo('GET', '/api/2.0/test/echo');
      assert.equal(
        entry.headers?.['user-agent'],
        'databricks-mlops-azure-pipelines (task TestTask)',
        'the client reads no package.json: the version comes from the adapter',
      );
      assert.deepEqual(
        [userAgent('X', version), userAgent(undefined, version), userAgent('X'), userAgent()],
        [
          `databricks-mlops-azure-pipelines/${version} (task X)`,
          `databricks-mlops-azure-pipelines/${version}`,
          'databricks-mlops-azure-pipelines (task X)',
          'databricks-mlops-azure-pipelines',
        ],
      );
      assert.equal(entry.principal, EMULATOR_DEFAULTS.patPrincipal);
      assert.equal(emu.requests.length, 1);
    });

    it('request() returns {} for an empty 200 body', async () => {
      assert.deepEqual(await client().request({ method: 'GET', path: '/api/2.0/test/empty' }), {});
    });

    it('request() sends a JSON body with content-type application/json and a Buffer as octet-stream', async () => {
      await client().request({ method: 'POST', path: '/api/2.0/test/write', body: { x: 1 } });
      await client().request({ method: 'POST', path: '/api/2.0/test/write', body: Buffer.from([1, 2, 3]) });
      const [a, b] = emu.callsTo('POST', '/api/2.0/test/write');
      assert.deepEqual(a.body, { x: 1 });
      assert.equal(a.headers?.['content-type'], 'application/json');
      assert.equal(b.headers?.['content-type'], 'application/octet-stream');
      assert.deepEqual([...(b.rawBody ?? [])], [1, 2, 3]);
    });

    it('requestFull() exposes the response headers (x-request-id, x-databricks-org-id)', async () => {
      const res = await client().requestFull({ method: 'GET', path: '/api/2.0/test/echo' });
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-databricks-org-id'], emu.workspaceId);
      assert.equal(res.headers['x-request-id'], emu.requests[0].requestId);
    });

    it('a 200 with a non-JSON body is an INVALID_RESPONSE error, not success', async () => {
      const e = await rejects(client().request({ method: 'GET', path: '/api/2.0/test/not-json' }));
      assert.equal(e.errorCode, 'INVALID_RESPONSE');
      assert.equal(e.status, 200);
    });

    it('a JSON response above maxResponseBytes fails with RESPONSE_TOO_LARGE', async () => {
      const e = await rejects(client({ maxResponseBytes: 1000 }).request({ method: 'GET', path: '/api/2.0/test/big-json' }));
      assert.equal(e.errorCode, 'RESPONSE_TOO_LARGE');
      assert.match(e.message, /exceeds 1000 bytes/);
    });

    it('refuses an Authorization header in ApiRequest.headers', async () => {
      await assert.rejects(
        client().request({ method: 'GET', path: '/api/2.0/test/echo', headers: { Authorization: 'Bearer x' } }),
        /must not set Authorization/,
      );
      assert.equal(emu.requests.length, 0);
    });
  });

  describe('errors', () => {
    it('maps a JSON error body to DatabricksApiError with error_code, status and request id', async () => {
      const e = await rejects(client().request({ method: 'GET', path: '/api/2.0/test/missing' }));
      assert.ok(e instanceof DatabricksApiError);
      assert.equal(e.status, 404);
      assert.equal(e.errorCode, 'RESOURCE_DOES_NOT_EXIST');
      assert.equal(e.message, 'Node /Repos/x does not exist.');
      assert.equal(e.requestId, emu.requests[0].requestId);
      assert.equal(isNotFound(e), true);
      assert.equal(emu.requests.length, 1, 'a 404 is not retried');
    });

    it('maps an unknown route to ENDPOINT_NOT_FOUND', async () => {
      const e = await rejects(client().request({ method: 'DELETE', path: '/api/2.0/nothing/here' }));
      assert.deepEqual([e.status, e.errorCode, e.message], [404, 'ENDPOINT_NOT_FOUND', "No API found for 'DELETE /api/2.0/nothing/here'"]);
    });

    it('parses plain-text "CODE: message", HTML <pre>, legacy {error} and empty error bodies', async () => {
      const c = client({ retry: { maxAttempts: 1 } });
      const text = await rejects(c.request({ method: 'GET', path: '/api/2.0/test/text-error' }));
      assert.deepEqual([text.status, text.errorCode, text.message], [400, 'INVALID_STATE', 'Cluster 0101-abc is terminated.']);
      const pre = await rejects(c.request({ method: 'GET', path: '/api/2.0/test/pre-error' }));
      assert.deepEqual([pre.status, pre.errorCode, pre.message], [500, 'INTERNAL_ERROR', 'Something <bad> happened']);
      const legacy = await rejects(c.request({ method: 'GET', path: '/api/2.0/test/legacy-error' }));
      assert.deepEqual([legacy.status, legacy.errorCode, legacy.message], [400, 'BAD_REQUEST', 'Cluster is in unexpected state Terminated.']);
      const empty = await rejects(c.request({ method: 'GET', path: '/api/2.0/test/empty-error' }));
      assert.deepEqual([empty.status, empty.errorCode, empty.message], [502, 'BAD_GATEWAY', 'HTTP 502 Bad Gateway']);
    });

    it('an unexpected handler exception is a 500 INTERNAL_ERROR (not retried)', async () => {
      const e = await rejects(client().request({ method: 'GET', path: '/api/2.0/test/throw' }));
      assert.deepEqual([e.status, e.errorCode], [500, 'INTERNAL_ERROR']);
      assert.equal(emu.requests.length, 1);
    });

    it('a 200 HTML sign-in page is an error naming the likely causes, never success, and is not retried', async () => {
      emu.faults.add({ path: '/api/2.0/test/echo', kind: 'html' });
      const e = await rejects(client().request({ method: 'GET', path: '/api/2.0/test/echo' }));
      assert.equal(e.errorCode, SIGN_IN_PAGE);
      assert.equal(e.status, 200);
      assert.match(e.message, /returned an HTML sign-in page \(HTTP 200\)/);
      assert.match(e.message, /workspace URL is wrong/);
      assert.match(e.message, /private link or IP access lists/);
      assert.match(e.message, /proxy/);
      assert.equal(emu.requests.length, 1);
      assert.equal(emu.requests[0].fault, 'html');
    });

    it('a 302 to an HTML login page (302 -> 200 text/html) is the sign-in page error', async () => {
      const e = await rejects(client().request({ method: 'GET', path: '/api/2.0/test/redirect-login' }));
      assert.equal(e.errorCode, SIGN_IN_PAGE);
      assert.deepEqual(
        emu.requests.map((r) => [r.path, r.status]),
        [
          ['/api/2.0/test/redirect-login', 302],
          ['/login.html', 200],
        ],
      );
    });

    it('gateway auth failures keep the numeric error_code (403 wrong token, 401 no credential)', async () => {
      const wrong = await rejects(
        client({ tokenProvider: { getToken: async () => 'dapi-not-a-real-token' } }).request({ method: 'GET', path: '/api/2.0/test/echo' }),
      );
      assert.deepEqual([wrong.status, wrong.errorCode, wrong.message], [403, 403, 'Invalid access token.']);
      const none = await rejects(client({ tokenProvider: { getToken: async () => '' } }).request({ method: 'GET', path: '/api/2.0/test/echo' }));
      assert.deepEqual([none.status, none.errorCode], [401, 401]);
      assert.equal(emu.requests.length, 2, 'a provider without invalidate() gets no second try');
    });
  });

  describe('retries', () => {
    it('a 429 burst with Retry-After: 3 is retried exactly twice, sleeping 3 s each time', async () => {
      emu.faults.add({ path: '/api/2.0/test/echo', kind: 'status', status: 429, retryAfterSeconds: 3, times: 2 });
      const body = await client().request<{ principal: string }>({ method: 'GET', path: '/api/2.0/test/echo' });
      assert.equal(body.principal, EMULATOR_DEFAULTS.patPrincipal);
      assert.deepEqual(
        emu.requests.map((r) => r.status),
        [429, 429, 200],
      );
      assert.deepEqual(clock.sleeps, [3000, 3000]);
    });

    it('a 503 on a GET is retried with full-jitter backoff (random 0.5: 500 ms, then 1000 ms)', async () => {
      emu.faults.add({ path: '/api/2.0/test/echo', kind: 'status', status: 503, times: 2 });
      await client().request({ method: 'GET', path: '/api/2.0/test/echo' });
      assert.deepEqual(
        emu.requests.map((r) => r.status),
        [503, 503, 200],
      );
      assert.deepEqual(clock.sleeps, [500, 1000]);
    });

    it('gives up after maxAttempts and throws the last error', async () => {
      emu.faults.add({ path: '/api/2.0/test/echo', kind: 'status', status: 503, times: Infinity });
      const e = await rejects(client({ retry: { maxAttempts: 4, random: () => 0 } }).request({ method: 'GET', path: '/api/2.0/test/echo' }));
      assert.equal(e.errorCode, 'TEMPORARILY_UNAVAILABLE');
      assert.equal(emu.requests.length, 4);
      assert.deepEqual(clock.sleeps, [0, 0, 0]);
    });

    it('stops retrying when the next sleep would pass the overall deadline', async () => {
      emu.faults.add({ path: '/api/2.0/test/echo', kind: 'status', status: 429, retryAfterSeconds: 4, times: Infinity });
      await rejects(client({ retry: { deadlineMs: 10_000, maxAttempts: 100 } }).request({ method: 'GET', path: '/api/2.0/test/echo' }));
      assert.deepEqual(clock.sleeps, [4000, 4000]);
      assert.equal(emu.requests.length, 3);
    });

    it('a non-idempotent POST is NOT retried on 503', async () => {
      emu.faults.add({ path: '/api/2.0/test/write', kind: 'status', status: 503, times: 1 });
      const e = await rejects(client().request({ method: 'POST', path: '/api/2.0/test/write', body: {} }));
      assert.equal(e.status, 503);
      assert.equal(emu.callsTo('POST', '/api/2.0/test/write').length, 1);
      assert.deepEqual(clock.sleeps, []);
    });

    it('a non-idempotent POST is retried on 429 (rejected before processing)', async () => {
      emu.faults.add({ path: '/api/2.0/test/write', kind: 'status', status: 429, retryAfterSeconds: 1 });
      await client().request({ method: 'POST', path: '/api/2.0/test/write', body: {} });
      assert.deepEqual(
        emu.callsTo('POST', '/api/2.0/test/write').map((r) => r.status),
        [429, 200],
      );
      assert.deepEqual(clock.sleeps, [1000]);
    });

    it('a POST marked idempotent is retried on 503', async () => {
      emu.faults.add({ path: '/api/2.0/test/write', kind: 'status', status: 503 });
      await client().request({ method: 'POST', path: '/api/2.0/test/write', body: {}, idempotent: true });
      assert.deepEqual(
        emu.callsTo('POST', '/api/2.0/test/write').map((r) => r.status),
        [503, 200],
      );
    });

    it('a connection reset on a GET is retried; on a non-idempotent POST it is not', async () => {
      emu.faults.add({ path: '/api/2.0/test/echo', kind: 'reset' });
      await client().request({ method: 'GET', path: '/api/2.0/test/echo' });
      assert.deepEqual(
        emu.requests.map((r) => [r.status, r.fault]),
        [
          [0, 'reset'],
          [200, undefined],
        ],
      );

      emu.clearRequests();
      emu.faults.add({ path: '/api/2.0/test/write', kind: 'reset' });
      const e = await rejects(client().request({ method: 'POST', path: '/api/2.0/test/write', body: {} }));
      assert.equal(e.status, 0);
      assert.ok(['ECONNRESET', 'SOCKET_HANG_UP'].includes(String(e.errorCode)), String(e.errorCode));
      assert.equal(emu.requests.length, 1);
    });

    it('ECONNREFUSED is retried even for a non-idempotent POST (the request never left)', async () => {
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      const e = await rejects(
        createApiClient({ host: `http://127.0.0.1:${port}`, tokenProvider: pat, clock, retry: { maxAttempts: 3, random: () => 0 } }).request({
          method: 'POST',
          path: '/api/2.0/x',
          body: {},
        }),
      );
      assert.equal(e.errorCode, 'ECONNREFUSED');
      assert.equal(clock.sleeps.length, 2, 'three attempts, two sleeps');
    });

    it('a reply slower than timeoutMs fails with REQUEST_TIMEOUT; a timed-out POST is not retried although the server did the work', async () => {
      emu.faults.add({ path: '/api/2.0/test/echo', kind: 'slow', delayMs: 400 });
      const e = await rejects(client({ timeoutMs: 100, retry: { maxAttempts: 1 } }).request({ method: 'GET', path: '/api/2.0/test/echo' }));
      assert.equal(e.errorCode, 'REQUEST_TIMEOUT');
      assert.match(e.message, /timed out after 0.1 s/);

      emu.faults.add({ path: '/api/2.0/test/write', kind: 'slow', delayMs: 300 });
      const w = await rejects(client({ timeoutMs: 100 }).request({ method: 'POST', path: '/api/2.0/test/write', body: {} }));
      assert.equal(w.errorCode, 'REQUEST_TIMEOUT');
      await new Promise((r) => setTimeout(r, 400));
      assert.deepEqual(
        emu.callsTo('POST', '/api/2.0/test/write').map((r) => r.status),
        [200],
        'one attempt, processed by the server',
      );
    });

    it('a timed-out GET is retried (per-request timeoutMs overrides the default)', async () => {
      emu.faults.add({ path: '/api/2.0/test/echo', kind: 'slow', delayMs: 300 });
      await client({ timeoutMs: 5000 }).request({ method: 'GET', path: '/api/2.0/test/echo', timeoutMs: 100 });
      assert.equal(clock.sleeps.length, 1);
    });

    it('an AbortSignal cancels an in-flight request with CancelledError and no retry', async () => {
      emu.faults.add({ path: '/api/2.0/test/echo', kind: 'slow', delayMs: 500 });
      const ac = new AbortController();
      const started = Date.now();
      setTimeout(() => ac.abort(new Error('cancelled by SIGINT')), 50);
      const e = await rejects(client().request({ method: 'GET', path: '/api/2.0/test/echo', signal: ac.signal }));
      assert.ok(e instanceof CancelledError, String(e));
      assert.match(e.message, /cancelled \(cancelled by SIGINT\)/);
      assert.ok(Date.now() - started < 400);
      assert.deepEqual(clock.sleeps, []);
    });

    it('a 403 "Invalid access token." with a refreshable provider invalidates and retries exactly once', async () => {
      let invalidations = 0;
      const tokens = ['dapi-expired-token', EMULATOR_DEFAULTS.pat];
      const provider: TokenProvider = { getToken: async () => tokens[Math.min(invalidations, 1)], invalidate: () => void invalidations++ };
      await client({ tokenProvider: provider }).request({ method: 'POST', path: '/api/2.0/test/write', body: {} });
      assert.equal(invalidations, 1);
      assert.deepEqual(
        emu.requests.map((r) => r.status),
        [403, 200],
      );

      emu.clearRequests();
      const always: TokenProvider = { getToken: async () => 'dapi-bad', invalidate: () => void invalidations++ };
      const e = await rejects(client({ tokenProvider: always }).request({ method: 'GET', path: '/api/2.0/test/echo' }));
      assert.equal(e.status, 403);
      assert.deepEqual(
        emu.requests.map((r) => r.status),
        [403, 403],
      );
    });
  });

  describe('redirects and transport security', () => {
    it('a redirect to another origin does not carry the Authorization header', async () => {
      const body = await client().request({ method: 'GET', path: '/api/2.0/test/redirect-away' });
      assert.deepEqual(body, { landed: true });
      assert.equal(other.requests.length, 1);
      assert.equal(other.requests[0].headers.authorization, undefined);
      assert.equal(other.requests[0].url, '/landing');
      assert.equal(other.requests[0].headers['user-agent'], 'databricks-mlops-azure-pipelines (task TestTask)');
    });

    it('a 307 to another origin does not carry Authorization either', async () => {
      await client().request({ method: 'GET', path: '/api/2.0/test/redirect-away-307' });
      assert.equal(other.requests[0].headers.authorization, undefined);
    });

    it('a same-origin redirect keeps Authorization', async () => {
      const body = await client().request<{ query: unknown; principal: string }>({ method: 'GET', path: '/api/2.0/test/redirect-same' });
      assert.deepEqual(body, { query: { via: 'redirect' }, principal: EMULATOR_DEFAULTS.patPrincipal });
    });

    it('a redirect to http on a non-loopback host is refused', async () => {
      await assert.rejects(
        client().request({ method: 'GET', path: '/api/2.0/test/redirect-insecure' }),
        /Refusing to connect to http:\/\/adb-1\.example\.net: the redirect target must use https/,
      );
      assert.equal(emu.requests.length, 1);
    });

    it('http to a non-loopback host is refused before any request', () => {
      let asked = 0;
      const provider: TokenProvider = { getToken: async () => ((asked += 1), 'x') };
      assert.throws(
        () => createApiClient({ host: 'http://adb-123.4.azuredatabricks.net', tokenProvider: provider }),
        /must use https \(http is allowed only for loopback/,
      );
      assert.equal(asked, 0);
      assert.doesNotThrow(() => createApiClient({ host: 'http://localhost:1', tokenProvider: provider }));
      assert.doesNotThrow(() => createApiClient({ host: 'https://adb-123.4.azuredatabricks.net', tokenProvider: provider }));
    });
  });

  describe('downloads', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'dl-'));
    });

    it('download() streams the body to disk and returns the byte count and headers', async () => {
      const to = path.join(dir, 'blob.bin');
      const r = await client().download({ path: '/api/2.0/test/blob', toFile: to });
      assert.equal(r.bytes, BLOB.length);
      assert.equal(r.headers['content-type'], 'application/octet-stream');
      assert.ok(readFileSync(to).equals(BLOB));
      assert.deepEqual(readdirSync(dir), ['blob.bin'], 'no partial file left behind');
    });

    it('a download cut short (content-length larger than the body) fails clearly and leaves no file', async () => {
      emu.faults.add({ path: '/api/2.0/test/blob', kind: 'truncate', times: Infinity });
      const to = path.join(dir, 'blob.bin');
      const e = await rejects(client({ retry: { maxAttempts: 2 } }).download({ path: '/api/2.0/test/blob', toFile: to }));
      assert.equal(e.errorCode, 'RESPONSE_TRUNCATED');
      assert.match(e.message, /was cut short: received \d+ bytes of the 400000 announced/);
      assert.equal(existsSync(to), false);
      assert.deepEqual(readdirSync(dir), []);
      assert.deepEqual(
        emu.requests.map((r) => r.fault),
        ['truncate', 'truncate'],
      );
    });

    it('a truncated download is retried (GET) and then succeeds', async () => {
      emu.faults.add({ path: '/api/2.0/test/blob', kind: 'truncate' });
      const to = path.join(dir, 'blob.bin');
      const r = await client().download({ path: '/api/2.0/test/blob', toFile: to });
      assert.equal(r.bytes, BLOB.length);
      assert.ok(readFileSync(to).equals(BLOB));
      assert.equal(emu.requests.length, 2);
    });

    it('a download times out only when bytes stop arriving (idle timeout), not on total duration', async () => {
      let stall = false;
      const slow = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '8' });
        let i = 0;
        const t = setInterval(() => {
          if (stall && i === 2) return;
          res.write(Buffer.from([i]));
          if (++i === 8) {
            clearInterval(t);
            res.end();
          }
        }, 40);
        res.on('close', () => clearInterval(t));
      });
      await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
      const host = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
      try {
        const c = createApiClient({ host, tokenProvider: pat, clock, timeoutMs: 150, retry: { maxAttempts: 1 } });
        const r = await c.download({ path: '/f', toFile: path.join(dir, 'ok.bin') });
        assert.equal(r.bytes, 8, '8 chunks over ~320 ms with a 150 ms idle timeout');
        stall = true;
        const e = await rejects(c.download({ path: '/f', toFile: path.join(dir, 'stalled.bin') }));
        assert.equal(e.errorCode, 'REQUEST_TIMEOUT');
        assert.deepEqual(readdirSync(dir), ['ok.bin']);
      } finally {
        slow.closeAllConnections();
        await new Promise<void>((r) => slow.close(() => r()));
      }
    });

    it('a download larger than maxBytes fails with DOWNLOAD_TOO_LARGE and leaves no file', async () => {
      const to = path.join(dir, 'blob.bin');
      const e = await rejects(client().download({ path: '/api/2.0/test/blob', toFile: to, maxBytes: 1000 }));
      assert.equal(e.errorCode, 'DOWNLOAD_TOO_LARGE');
      assert.deepEqual(readdirSync(dir), []);
    });

    it('a download answered by an HTML sign-in page fails and leaves no file', async () => {
      emu.faults.add({ path: '/api/2.0/test/blob', kind: 'html' });
      const to = path.join(dir, 'blob.bin');
      const e = await rejects(client().download({ path: '/api/2.0/test/blob', toFile: to }));
      assert.equal(e.errorCode, SIGN_IN_PAGE);
      assert.deepEqual(readdirSync(dir), []);
    });
  });

  describe('pagination', () => {
    it('paginateByToken follows next_page_token in the query and never mutates the first request', async () => {
      const first = Object.freeze({ method: 'GET' as const, path: '/api/2.0/test/items', query: Object.freeze({ filter: 'x' }) });
      const items = await toArray(paginateByToken<{ items?: Array<{ id: number }> }, { id: number }>(client(), first, { items: (p) => p.items }));
      assert.deepEqual(items, ITEMS);
      assert.deepEqual(
        emu.requests.map((r) => r.query),
        [{ filter: 'x' }, { filter: 'x', page_token: 'tok-3' }, { filter: 'x', page_token: 'tok-6' }],
      );
      assert.deepEqual(first, { method: 'GET', path: '/api/2.0/test/items', query: { filter: 'x' } });
    });

    it('paginateByToken puts page_token in the body of a POST search', async () => {
      const first = Object.freeze({ method: 'POST' as const, path: '/api/2.0/test/search', body: Object.freeze({ max_results: 3 }), idempotent: true });
      const items = await toArray(paginateByToken<{ items?: Array<{ id: number }> }, { id: number }>(client(), first, { items: (p) => p.items }));
      assert.deepEqual(items, ITEMS);
      assert.deepEqual(
        emu.requests.map((r) => r.body),
        [{ max_results: 3 }, { max_results: 3, page_token: 'tok-3' }, { max_results: 3, page_token: 'tok-6' }],
      );
    });

    it('toArray(limit) stops fetching once it has enough', async () => {
      const items = await toArray(
        paginateByToken<{ items?: Array<{ id: number }> }, { id: number }>(client(), { method: 'GET', path: '/api/2.0/test/items' }, { items: (p) => p.items }),
        4,
      );
      assert.deepEqual(
        items.map((i) => i.id),
        [1, 2, 3, 4],
      );
      assert.equal(emu.requests.length, 2);
    });

    it('paginateByOffset advances offset by the items received while has_more is true', async () => {
      const items = await toArray(
        paginateByOffset<{ items?: Array<{ id: number }>; has_more?: boolean }, { id: number }>(
          client(),
          { method: 'GET', path: '/api/2.0/test/offset-items', query: { limit: 3 } },
          { items: (p) => p.items },
        ),
      );
      assert.deepEqual(items, ITEMS);
      assert.deepEqual(
        emu.requests.map((r) => r.query),
        [{ limit: '3' }, { limit: '3', offset: '3' }, { limit: '3', offset: '6' }],
      );
    });
  });

  describe('proxy', () => {
    interface Proxy {
      url: string;
      connects: Array<{ target: string; auth?: string }>;
      close(): Promise<void>;
    }
    async function startProxy(): Promise<Proxy> {
      const connects: Proxy['connects'] = [];
      const sockets = new Set<net.Socket>();
      const server = http.createServer((_req, res) => {
        res.writeHead(501).end('forward proxying not used by this client');
      });
      server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
        connects.push({ target: req.url ?? '', auth: req.headers['proxy-authorization'] as string | undefined });
        const [host, port] = (req.url ?? '').split(':');
        const upstream = net.connect(Number(port), host, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          if (head.length) upstream.write(head);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        sockets.add(upstream).add(client);
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        connects,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
            server.closeAllConnections();
          }),
      };
    }

    it('sends requests through the configured proxy (CONNECT tunnel) with proxy credentials', async () => {
      const proxy = await startProxy();
      try {
        const c = client({ proxy: { proxyUrl: proxy.url, proxyUsername: 'agent', proxyPassword: 'proxy-p4ssw0rd-test', bypass: [] } });
        const body = await c.request<{ principal: string }>({ method: 'GET', path: '/api/2.0/test/echo' });
        assert.equal(body.principal, EMULATOR_DEFAULTS.patPrincipal);
        const host = new URL(emu.url).host;
        assert.deepEqual(proxy.connects, [{ target: host, auth: `Basic ${Buffer.from('agent:proxy-p4ssw0rd-test').toString('base64')}` }]);
        assert.equal(emu.requests.length, 1);
      } finally {
        await proxy.close();
      }
    });

    it('a URL matching the bypass list goes direct', async () => {
      const proxy = await startProxy();
      try {
        await client({ proxy: { proxyUrl: proxy.url, bypass: ['127\\.0\\.0\\.1'] } }).request({ method: 'GET', path: '/api/2.0/test/echo' });
        assert.deepEqual(proxy.connects, []);
        assert.equal(emu.requests.length, 1);
      } finally {
        await proxy.close();
      }
    });
  });
});
