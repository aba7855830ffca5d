import assert from 'node:assert/strict';
import * as net from 'node:net';
import { ApiFault } from '../../emulator/contracts';
import { EMULATOR_DEFAULTS, Emulator, isWrite, startEmulator } from '../../emulator';

const D = EMULATOR_DEFAULTS;
const bearer = { authorization: `Bearer ${D.pat}` };

describe('emulator core', () => {
  let emu: Emulator;
  const get = (path: string, headers: Record<string, string> = bearer) => fetch(emu.url + path, { headers, redirect: 'manual' });
  const post = (path: string, body: unknown, headers: Record<string, string> = bearer) =>
    fetch(emu.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const form = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(emu.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    });

  beforeEach(async () => {
    emu = await startEmulator({ workspaceId: '9876543210' });
    emu.router.add('GET', '/api/2.0/t/items/:id', (req) => ({ body: { id: req.params.id, route: 'param' } }));
    emu.router.add('GET', '/api/2.0/t/items/special', () => ({ body: { route: 'literal' } }));
    emu.router.add('PUT', '/api/2.0/t/files/*path', (req) => ({ body: { path: req.params.path, bytes: req.rawBody.length } }));
    emu.router.add('POST', '/api/2.0/t/echo', (req) => ({ body: { got: req.body, principal: req.principal } }));
    emu.router.add('GET', '/api/2.0/t/fail', () => {
      throw new ApiFault(400, 'INVALID_PARAMETER_VALUE', 'Job 5 does not exist.');
    });
    emu.router.add('GET', '/api/2.0/t/bug', () => {
      throw new TypeError('cannot read x of undefined');
    });
    emu.router.add('GET', '/public/ping', () => ({ body: 'pong' }), { auth: false });
  });
  afterEach(async () => {
    await emu.close();
  });

  describe('router', () => {
    it('captures :params (decoded) and prefers the route with more literal segments', async () => {
      assert.deepEqual(await (await get('/api/2.0/t/items/a%2Fb')).json(), { id: 'a/b', route: 'param' });
      assert.deepEqual(await (await get('/api/2.0/t/items/special')).json(), { route: 'literal' });
    });

    it('captures a trailing *rest (decoded, without the leading slash) and raw bytes', async () => {
      const r = await fetch(`${emu.url}/api/2.0/t/files/Volumes/main/ml/my%20file.arrow`, {
        method: 'PUT',
        headers: { ...bearer, 'content-type': 'application/octet-stream' },
        body: Buffer.from([1, 2, 3, 4]),
      });
      assert.deepEqual(await r.json(), { path: 'Volumes/main/ml/my file.arrow', bytes: 4 });
      assert.deepEqual([...(emu.requests[0].rawBody ?? [])], [1, 2, 3, 4]);
      assert.equal(emu.requests[0].body, undefined);
    });

    it('answers an unknown route (or wrong method) with 404 ENDPOINT_NOT_FOUND', async () => {
      const r = await fetch(`${emu.url}/api/2.0/t/items/x`, { method: 'DELETE', headers: bearer });
      assert.equal(r.status, 404);
      assert.deepEqual(await r.json(), { error_code: 'ENDPOINT_NOT_FOUND', message: "No API found for 'DELETE /api/2.0/t/items/x'" });
    });

    it('turns ApiFault into the Databricks error body and an unexpected exception into 500 INTERNAL_ERROR', async () => {
      const a = await get('/api/2.0/t/fail');
      assert.equal(a.status, 400);
      assert.deepEqual(await a.json(), { error_code: 'INVALID_PARAMETER_VALUE', message: 'Job 5 does not exist.' });
      const b = await get('/api/2.0/t/bug');
      assert.equal(b.status, 500);
      assert.deepEqual(await b.json(), { error_code: 'INTERNAL_ERROR', message: 'Emulator handler failed: cannot read x of undefined' });
      assert.equal(emu.requests[1].error, 'cannot read x of undefined');
    });

    it('answers malformed JSON with 400 MALFORMED_REQUEST', async () => {
      const r = await post('/api/2.0/t/echo', '{"a":');
      assert.equal(r.status, 400);
      assert.equal(((await r.json()) as { error_code: string }).error_code, 'MALFORMED_REQUEST');
    });

    it('sends x-request-id (unique) and x-databricks-org-id on every response, errors included', async () => {
      const a = await get('/api/2.0/t/items/1');
      const b = await get('/nowhere', {});
      assert.equal(a.headers.get('x-databricks-org-id'), '9876543210');
      assert.equal(b.headers.get('x-databricks-org-id'), '9876543210');
      assert.match(a.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
      assert.deepEqual(
        emu.requests.map((r) => r.requestId),
        [a.headers.get('x-request-id'), b.headers.get('x-request-id')],
      );
    });
  });

  describe('auth', () => {
    it('401 with the numeric error_code when no credential or a non-bearer one is sent', async () => {
      for (const headers of [{}, { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` }] as Array<Record<string, string>>) {
        const r = await get('/api/2.0/t/items/1', headers);
        assert.equal(r.status, 401);
        assert.deepEqual(await r.json(), { error_code: 401, message: 'Credential was not sent or was of an unsupported type for this API.' });
      }
      assert.equal((await get('/api/2.0/not/a/route', {})).status, 401, 'the gateway checks credentials before routing');
    });

    it('403 "Invalid access token." for a wrong token, with the reason-phrase header', async () => {
      const r = await get('/api/2.0/t/items/1', { authorization: 'Bearer dapi-wrong' });
      assert.equal(r.status, 403);
      assert.equal(r.headers.get('x-databricks-reason-phrase'), 'Invalid access token.');
      assert.deepEqual(await r.json(), { error_code: 403, message: 'Invalid access token.' });
    });

    it('records the principal, never the token or the Authorization header', async () => {
      await post('/api/2.0/t/echo', { a: 1 });
      assert.equal(emu.requests[0].principal, D.patPrincipal);
      assert.equal(emu.requests[0].headers?.authorization, undefined);
      assert.ok(!JSON.stringify(emu.requests).includes(D.pat));
    });

    it('routes registered with auth:false need no credential', async () => {
      const r = await get('/public/ping', {});
      assert.equal(await r.text(), 'pong');
      assert.equal(emu.requests[0].principal, undefined);
    });

    it('custom secrets replace the defaults', async () => {
      const other = await startEmulator({ secrets: { pats: { 'dapi-custom-123': 'alice@example.com' } } });
      try {
        other.router.add('GET', '/api/2.0/who', (req) => ({ body: { p: req.principal } }));
        const ok = await fetch(`${other.url}/api/2.0/who`, { headers: { authorization: 'Bearer dapi-custom-123' } });
        assert.deepEqual(await ok.json(), { p: 'alice@example.com' });
        const old = await fetch(`${other.url}/api/2.0/who`, { headers: bearer });
        assert.equal(old.status, 403);
      } finally {
        await other.close();
      }
    });

    it('an issued token works until it expires in emulated time, then gets 403', async () => {
      emu.auth.setAccessTokenLifetime(120);
      const t = await form(
        '/oidc/v1/token',
        { grant_type: 'client_credentials', scope: 'all-apis' },
        { authorization: `Basic ${Buffer.from(`${D.databricksClientId}:${D.databricksClientSecret}`).toString('base64')}` },
      );
      const body = (await t.json()) as { access_token: string; token_type: string; expires_in: number; scope: string };
      assert.deepEqual([body.token_type, body.expires_in, body.scope], ['Bearer', 120, 'all-apis']);
      const auth = { authorization: `Bearer ${body.access_token}` };
      assert.equal((await get('/api/2.0/t/items/1', auth)).status, 200);
      emu.clock.advance(119_000);
      assert.equal((await get('/api/2.0/t/items/1', auth)).status, 200);
      emu.clock.advance(1_000);
      assert.equal((await get('/api/2.0/t/items/1', auth)).status, 403);
      assert.deepEqual(
        emu.requests.slice(1).map((r) => r.principal),
        [`sp:${D.databricksClientId}`, `sp:${D.databricksClientId}`, undefined],
      );
      assert.deepEqual(emu.requests[0].body, { grant_type: 'client_credentials', scope: 'all-apis' });
    });

    it('token endpoints: OAuth-shaped errors for a bad grant, scope or client, and secrets redacted from the log', async () => {
      const bad = await form(`/${D.tenantId}/oauth2/v2.0/token`, {
        grant_type: 'client_credentials',
        client_id: D.entraClientId,
        client_secret: D.entraClientSecret,
        scope: 'https://management.azure.com/.default',
      });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { error: string }).error, 'invalid_scope');
      const grant = await form('/oidc/v1/token', {
        grant_type: 'password',
        client_id: D.databricksClientId,
        client_secret: D.databricksClientSecret,
        scope: 'all-apis',
      });
      assert.equal(((await grant.json()) as { error: string }).error, 'unsupported_grant_type');
      const none = await form(`/${D.tenantId}/oauth2/v2.0/token`, {
        grant_type: 'client_credentials',
        client_id: D.entraClientId,
        scope: '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default',
      });
      assert.match(((await none.json()) as { error_description: string }).error_description, /AADSTS7000218/);
      assert.equal(emu.requests[0].body.client_secret, '***');
      assert.ok(!JSON.stringify(emu.requests).includes(D.entraClientSecret));
      assert.ok(!JSON.stringify(emu.requests).includes(D.databricksClientSecret));
    });

    it('Azure DevOps OIDC endpoint: needs the System.AccessToken, api-version 7.x and a serviceConnectionId; issues a JWT-shaped token', async () => {
      const uri = new URL(emu.oidcRequestUri);
      const call = (q: string, token: string = D.systemAccessToken) =>
        fetch(`${uri.origin}${uri.pathname}${q}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: '{}',
        });
      assert.equal((await call(`?api-version=7.1&serviceConnectionId=${D.serviceConnectionId}`, 'wrong-token')).status, 401);
      assert.equal((await call(`?api-version=7.1`)).status, 400);
      assert.equal((await call(`?api-version=6.0&serviceConnectionId=${D.serviceConnectionId}`)).status, 400);
      const ok = await call(`?api-version=7.1&serviceConnectionId=${D.serviceConnectionId}`);
      const { oidcToken } = (await ok.json()) as { oidcToken: string };
      const claims = JSON.parse(Buffer.from(oidcToken.split('.')[1], 'base64url').toString('utf8'));
      assert.equal(claims.aud, 'api://AzureADTokenExchange');
      assert.equal(claims.sub, `sc://contoso/mlops/${D.serviceConnectionId}`);
      assert.equal(claims.exp - claims.iat, 600);
      assert.deepEqual(
        emu.auth.issued.map((i) => i.kind),
        ['adoOidc'],
      );
    });
  });

  describe('request log', () => {
    it('callsTo(method, path|RegExp) and writes(): non-GET /api calls except read-only POSTs and token endpoints', async () => {
      emu.router.add('POST', '/api/2.0/mlflow/runs/search', () => ({ body: {} }));
      await get('/api/2.0/t/items/1');
      await post('/api/2.0/t/echo', { x: 1 });
      await post('/api/2.0/mlflow/runs/search', { experiment_ids: ['1'] });
      await form('/oidc/v1/token', { grant_type: 'client_credentials', scope: 'all-apis' });
      await fetch(`${emu.url}/api/2.0/t/items/1`, { method: 'DELETE', headers: bearer });
      assert.deepEqual(
        emu.writes().map((r) => [r.method, r.path, r.status]),
        [
          ['POST', '/api/2.0/t/echo', 200],
          ['DELETE', '/api/2.0/t/items/1', 404],
        ],
      );
      assert.equal(emu.callsTo('GET', /^\/api\/2\.0\/t\/items\//).length, 1);
      assert.deepEqual(
        emu.callsTo('post', '/api/2.0/t/echo').map((r) => r.body),
        [{ x: 1 }],
      );
      assert.deepEqual(
        emu.requests.map((r) => r.seq),
        [1, 2, 3, 4, 5],
      );
      assert.equal(isWrite({ method: 'PUT', path: '/api/2.0/fs/files/x' }), true);
      assert.equal(isWrite({ method: 'POST', path: '/api/2.0/mlflow/experiments/search' }), false);
    });

    it('records query parameters (repeated keys as arrays) and the emulated arrival time', async () => {
      emu.clock.advance(3_600_000);
      const before = Date.now() + 3_600_000;
      await get('/api/2.0/t/items/1?order_by=a&order_by=b&max=5');
      assert.deepEqual(emu.requests[0].query, { order_by: ['a', 'b'], max: '5' });
      assert.ok(emu.requests[0].at >= before && emu.requests[0].at < before + 5000);
    });
  });

  describe('faults', () => {
    it('status: answers the status with a Databricks body and Retry-After, `times` times, and logs the fault', async () => {
      const f = emu.faults.add({ path: '/api/2.0/t/items/1', kind: 'status', status: 429, retryAfterSeconds: 2, times: 2 });
      const r1 = await get('/api/2.0/t/items/1');
      assert.equal(r1.status, 429);
      assert.equal(r1.headers.get('retry-after'), '2');
      assert.deepEqual(await r1.json(), {
        error_code: 'REQUEST_LIMIT_EXCEEDED',
        message: 'The service is receiving too many requests. Please retry after some time.',
      });
      assert.equal((await get('/api/2.0/t/items/1')).status, 429);
      assert.equal((await get('/api/2.0/t/items/1')).status, 200);
      assert.deepEqual(
        emu.requests.map((r) => [r.status, r.fault]),
        [
          [429, 'status:429'],
          [429, 'status:429'],
          [200, undefined],
        ],
      );
      assert.deepEqual([f.hits, f.seen], [2, 3]);
    });

    it('afterCalls lets requests through first; method and RegExp narrow the match; Infinity never stops', async () => {
      emu.faults.add({ method: 'POST', path: /^\/api\/2\.0\/t\//, kind: 'status', status: 503, afterCalls: 1, times: Infinity });
      assert.equal((await post('/api/2.0/t/echo', {})).status, 200);
      assert.equal((await get('/api/2.0/t/items/1')).status, 200);
      for (let i = 0; i < 3; i++) assert.equal((await post('/api/2.0/t/echo', {})).status, 503);
      emu.faults.clear();
      assert.equal((await post('/api/2.0/t/echo', {})).status, 200);
    });

    it('reset destroys the socket without an answer', async () => {
      emu.faults.add({ path: '/api/2.0/t/items/1', kind: 'reset' });
      await assert.rejects(get('/api/2.0/t/items/1'));
      assert.deepEqual([emu.requests[0].status, emu.requests[0].fault], [0, 'reset']);
    });

    it('html answers 200 text/html with a sign-in page', async () => {
      emu.faults.add({ path: '/api/2.0/t/items/1', kind: 'html' });
      const r = await get('/api/2.0/t/items/1');
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await r.text(), /<title>Sign in to your account<\/title>/);
    });

    it('truncate announces more bytes than it sends and closes the connection', async () => {
      emu.faults.add({ path: '/api/2.0/t/items/1', kind: 'truncate' });
      const raw = await new Promise<string>((resolve) => {
        const u = new URL(emu.url);
        const s = net.connect(Number(u.port), u.hostname, () =>
          s.write(`GET /api/2.0/t/items/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${D.pat}\r\n\r\n`),
        );
        let data = '';
        s.on('data', (d) => (data += d.toString('latin1')));
        s.on('close', () => resolve(data));
      });
      const [head, body] = raw.split('\r\n\r\n');
      const declared = Number(/content-length: (\d+)/i.exec(head)?.[1]);
      assert.ok(body.length < declared, `${body.length} < ${declared}`);
      assert.equal(emu.requests[0].fault, 'truncate');
    });

    it('slow delays the answer by delayMs and then handles the request', async () => {
      emu.faults.add({ path: '/api/2.0/t/items/1', kind: 'slow', delayMs: 150 });
      const t0 = Date.now();
      assert.equal((await get('/api/2.0/t/items/1')).status, 200);
      assert.ok(Date.now() - t0 >= 140);
    });

    it('rejects a status fault with a non-error status', () => {
      assert.throws(() => emu.faults.add({ path: '/x', kind: 'status', status: 200 }), /4xx\/5xx/);
    });
  });

  describe('linkedClock()', () => {
    it('sleep(ms) advances emulated time instantly and records the delay', async () => {
      const c = emu.linkedClock();
      const t0 = c.now();
      const real = Date.now();
      await c.sleep(600_000);
      assert.ok(c.now() - t0 >= 600_000 && c.now() - t0 < 605_000);
      assert.ok(Date.now() - real < 1000);
      assert.deepEqual(c.sleeps, [600_000]);
      assert.equal(emu.clock.offsetMs, 600_000);
    });
  });
});
