/**
 * Databricks OAuth token federation from the Azure DevOps workload identity of our own Databricks service
 * connection (scheme WorkloadIdentityFederation): connection mapping, the provider end to end against the
 * emulator, and Retry-After on every token endpoint.
 */
import assert from 'node:assert/strict';
import { AuthConfig, createTokenProvider, oidcTokenClaims, WIF_MAX_TOKEN_AGE_MS } from '../../src/databricks/auth';
import type { Clock } from '../../src/databricks/clock';
import { DatabricksApiError } from '../../src/databricks/errors';
import { createApiClient } from '../../src/databricks/http';
import { ADO_OIDC_AUDIENCE, ADO_OIDC_ISSUER, adoOidcSubject, EMULATOR_DEFAULTS, Emulator, startEmulator } from '../../emulator';
import { fakeJwt } from '../../emulator/auth';
import { EndpointSource, readConnection } from '../../src/pipeline/connection';
import { InputError, Inputs, mapInputSource } from '../../src/pipeline/inputs';
import { errorText, findSecrets } from '../helpers/secrets';
import { installTestRoutes } from './routes';
import { rejects } from '../helpers/rejects';

const D = EMULATOR_DEFAULTS;
const CONN_ID = D.serviceConnectionId;
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const OIDC_URI_MISSING =
  'System.OidcRequestUri is not set for this job: Azure DevOps (the server, not the agent) provides it to jobs that may request OIDC tokens, and workload identity federation needs it. Run the pipeline in Azure DevOps Services, or use a connection with a secret.';

function catchSync(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    return e as InputError;
  }
  assert.fail('expected a throw');
}

describe('connection: Databricks service connection with the WorkloadIdentityFederation scheme', () => {
  type Over = {
    clientId?: string;
    serviceprincipalid?: string;
    issuer?: string;
    subject?: string;
    oidc?: string | undefined;
    accessToken?: string | undefined;
    scheme?: string;
  };
  const source = (over: Over = {}): EndpointSource => ({
    url: (id) => (id === CONN_ID ? 'https://adb-1234567890123456.7.azuredatabricks.net/' : undefined),
    scheme: (id) => (id === CONN_ID ? (over.scheme ?? 'WorkloadIdentityFederation') : undefined),
    param: (id, key) => {
      if (id === 'SystemVssConnection' && key === 'AccessToken') return 'accessToken' in over ? over.accessToken : D.systemAccessToken;
      if (id === CONN_ID && key === 'clientId') return over.clientId;
      if (id === CONN_ID && key === 'serviceprincipalid') return over.serviceprincipalid;
      if (id === CONN_ID && key === 'workloadIdentityFederationIssuer') return over.issuer;
      if (id === CONN_ID && key === 'workloadIdentityFederationSubject') return over.subject;
      return undefined;
    },
    data: () => undefined,
    variable: (name) =>
      name === 'System.OidcRequestUri'
        ? 'oidc' in over
          ? over.oidc
          : 'https://dev.azure.com/contoso/p/_apis/distributedtask/hubs/build/plans/1/jobs/2/oidctoken'
        : undefined,
  });
  const read = (src: EndpointSource) => readConnection(new Inputs(mapInputSource({ databricksConnection: CONN_ID })), src);

  it('with a service principal client id: kind databricksFederation with the connection id, OIDC URI and job token', () => {
    assert.deepEqual(read(source({ clientId: ` ${D.databricksClientId} ` })), {
      host: 'https://adb-1234567890123456.7.azuredatabricks.net',
      auth: {
        kind: 'databricksFederation',
        clientId: D.databricksClientId,
        serviceConnectionId: CONN_ID,
        oidcRequestUri: 'https://dev.azure.com/contoso/p/_apis/distributedtask/hubs/build/plans/1/jobs/2/oidctoken',
        systemAccessToken: D.systemAccessToken,
      },
      description: `${CONN_ID} (Databricks OAuth token federation, service principal ${D.databricksClientId})`,
    });
  });

  it('without a client id (account-wide policy): no clientId key at all; the scheme name is matched case-insensitively', () => {
    for (const clientId of [undefined, '', '   ']) {
      const c = read(source({ clientId, scheme: 'workloadidentityfederation' }));
      assert.deepEqual(c.auth, {
        kind: 'databricksFederation',
        serviceConnectionId: CONN_ID,
        oidcRequestUri: 'https://dev.azure.com/contoso/p/_apis/distributedtask/hubs/build/plans/1/jobs/2/oidctoken',
        systemAccessToken: D.systemAccessToken,
      });
      assert.equal(c.description, `${CONN_ID} (Databricks OAuth token federation, account-wide policy)`);
    }
  });

  it("the client id falls back to the server's serviceprincipalid parameter; clientId wins when both are set", () => {
    const other = '9f8e7d6c-5b4a-4321-8fed-cba987654321';
    assert.equal((read(source({ serviceprincipalid: ` ${D.databricksClientId} ` })).auth as { clientId?: string }).clientId, D.databricksClientId);
    assert.equal((read(source({ clientId: '  ', serviceprincipalid: D.databricksClientId })).auth as { clientId?: string }).clientId, D.databricksClientId);
    assert.equal((read(source({ clientId: other, serviceprincipalid: D.databricksClientId })).auth as { clientId?: string }).clientId, other);
    assert.equal(
      read(source({ serviceprincipalid: D.databricksClientId })).description,
      `${CONN_ID} (Databricks OAuth token federation, service principal ${D.databricksClientId})`,
    );
    const e = catchSync(() => read(source({ serviceprincipalid: 'not-a-guid' })));
    assert.match(e.message, /^The service connection's service principal client id is not an application id/);
  });

  it("the connection's workloadIdentityFederationIssuer and workloadIdentityFederationSubject parameters travel to the provider when present", () => {
    const issuer = `https://login.microsoftonline.com/${D.tenantId}/v2.0`;
    const subject = '/eid1/c/pub/t/abc/a/def/sc/org/conn';
    assert.deepEqual(read(source({ clientId: D.databricksClientId, issuer: ` ${issuer} `, subject })).auth, {
      kind: 'databricksFederation',
      clientId: D.databricksClientId,
      serviceConnectionId: CONN_ID,
      oidcRequestUri: 'https://dev.azure.com/contoso/p/_apis/distributedtask/hubs/build/plans/1/jobs/2/oidctoken',
      systemAccessToken: D.systemAccessToken,
      endpointIssuer: issuer,
      endpointSubject: subject,
    });
  });

  it('missing System.OidcRequestUri: a server feature (Azure DevOps Services), not an agent version; the same error as the Entra path, against databricksConnection', () => {
    const e = catchSync(() => read(source({ oidc: undefined })));
    assert.ok(e instanceof InputError);
    assert.equal(e.input, 'databricksConnection');
    assert.equal(e.message, OIDC_URI_MISSING);
  });

  it('missing job access token: actionable error against databricksConnection', () => {
    const e = catchSync(() => read(source({ accessToken: undefined })));
    assert.ok(e instanceof InputError);
    assert.equal(e.input, 'databricksConnection');
    assert.equal(e.message, 'The job access token (System.AccessToken) is not available to this task.');
  });

  it('a client id that is not an application id is refused by name, before any request', () => {
    const e = catchSync(() => read(source({ clientId: 'my-service-principal' })));
    assert.ok(e instanceof InputError);
    assert.equal(e.input, 'databricksConnection');
    assert.match(e.message, /^The service connection's service principal client id is not an application id \(a GUID/);
    assert.match(e.message, /leave it empty for an account-wide federation policy\.$/);
  });

  it('the Azure Resource Manager WIF path still reports its own input (shared helper)', () => {
    const src: EndpointSource = {
      ...source({ oidc: undefined }),
      scheme: () => 'WorkloadIdentityFederation',
      param: (id, key) => (id === CONN_ID ? ({ tenantid: D.tenantId, serviceprincipalid: D.entraClientId } as Record<string, string>)[key] : undefined),
    };
    const e = catchSync(() =>
      readConnection(
        new Inputs(mapInputSource({ connectionType: 'azureResourceManager', azureSubscription: CONN_ID, workspaceUrl: 'https://adb-1.azuredatabricks.net' })),
        src,
      ),
    );
    assert.equal(e.input, 'azureSubscription');
    assert.equal(e.message, OIDC_URI_MISSING);
  });
});

describe('client core: Databricks OAuth token federation against the emulator', () => {
  let emu: Emulator;
  let secrets: string[];
  let logs: string[];
  let clock: Clock & { sleeps: number[] };
  const fed = (over: Partial<Extract<AuthConfig, { kind: 'databricksFederation' }>> = {}): AuthConfig => ({
    kind: 'databricksFederation',
    clientId: D.databricksClientId,
    serviceConnectionId: CONN_ID,
    oidcRequestUri: emu.oidcRequestUri,
    systemAccessToken: D.systemAccessToken,
    ...over,
  });
  const provider = (auth: AuthConfig, retry: Record<string, number> = {}) =>
    createTokenProvider(auth, {
      host: emu.url,
      setSecret: (v) => void secrets.push(v),
      clock,
      retry: { random: () => 0, ...retry },
      log: (m) => void logs.push(m),
    });
  const echo = { method: 'GET' as const, path: '/api/2.0/test/echo' };
  const exchanges = () => emu.callsTo('POST', '/oidc/v1/token');
  const oidcRequests = () => emu.requests.filter((r) => r.path.endsWith('/oidctoken'));

  beforeEach(async () => {
    emu = await startEmulator();
    installTestRoutes(emu);
    secrets = [];
    logs = [];
    clock = emu.linkedClock();
  });
  afterEach(async () => {
    await emu.close();
  });

  it('service-principal policy: ADO OIDC token (7.1, serviceConnectionId, job token) exchanged at /oidc/v1/token with client_id; acts as the service principal', async () => {
    const tp = provider(fed());
    assert.deepEqual(secrets, [D.systemAccessToken], 'the job token is masked before any request');
    const api = createApiClient({ host: emu.url, tokenProvider: tp, clock, retry: { random: () => 0 } });
    const body = await api.request<{ principal: string }>(echo);
    assert.equal(body.principal, `sp:${D.databricksClientId}`);

    const [oidc] = oidcRequests();
    assert.equal(oidc.method, 'POST');
    assert.deepEqual(oidc.query, { 'api-version': '7.1', serviceConnectionId: CONN_ID });
    const [exchange] = exchanges();
    // The request log masks subject_token; the fields are those of docs/databricks-api-notes.md §8.3, in the order auth.ts sends them.
    assert.deepEqual(Object.entries(exchange.body as Record<string, string>), [
      ['grant_type', TOKEN_EXCHANGE],
      ['subject_token', '***'],
      ['subject_token_type', JWT_TYPE],
      ['scope', 'all-apis'],
      ['client_id', D.databricksClientId],
    ]);
    assert.equal(exchange.headers?.['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(exchange.headers?.authorization, undefined, 'no client secret of any kind is sent');
    assert.deepEqual(
      emu.requests.map((r) => [r.method, r.path.endsWith('/oidctoken') ? 'oidctoken' : r.path, r.status]),
      [
        ['POST', 'oidctoken', 200],
        ['POST', '/oidc/v1/token', 200],
        ['GET', '/api/2.0/test/echo', 200],
      ],
    );
    assert.deepEqual(
      emu.auth.issued.map((i) => [i.kind, i.principal]),
      [
        ['adoOidc', adoOidcSubject(CONN_ID)],
        ['databricksFederation', `sp:${D.databricksClientId}`],
      ],
    );
    // Masked: the job token, then the OIDC token, then the workspace token; exactly the issued values.
    const issued = [
      ...(emu.auth as unknown as { oidcTokens: Map<string, unknown> }).oidcTokens.keys(),
      ...(emu.auth as unknown as { tokens: Map<string, unknown> }).tokens.keys(),
    ];
    assert.deepEqual(secrets, [D.systemAccessToken, ...issued]);
    assert.deepEqual(logs, [
      `Requesting an Azure DevOps OIDC token for service connection ${CONN_ID}`,
      `The Azure DevOps OIDC token presents issuer ${ADO_OIDC_ISSUER}, subject ${adoOidcSubject(CONN_ID)}, audience ${ADO_OIDC_AUDIENCE}`,
      `Exchanging the Azure DevOps token at ${new URL(emu.url).host} for a Databricks OAuth token (service principal ${D.databricksClientId})`,
    ]);
  });

  it('account-wide policy: no client_id in the form; acts as the federated identity', async () => {
    await emu.close();
    emu = await startEmulator({
      secrets: { federationPolicies: [{ issuer: ADO_OIDC_ISSUER, subject: adoOidcSubject(CONN_ID), audience: ADO_OIDC_AUDIENCE }] },
    });
    installTestRoutes(emu);
    clock = emu.linkedClock();
    const tp = provider(fed({ clientId: undefined }));
    const body = await createApiClient({ host: emu.url, tokenProvider: tp, clock }).request<{ principal: string }>(echo);
    assert.equal(body.principal, `federated:${adoOidcSubject(CONN_ID)}`);
    assert.deepEqual(exchanges()[0].body, { grant_type: TOKEN_EXCHANGE, subject_token: '***', subject_token_type: JWT_TYPE, scope: 'all-apis' });
    assert.equal(secrets.length, 3);
  });

  it('the token is cached, and re-exchanged with a fresh OIDC token after WIF_MAX_TOKEN_AGE_MS although it lives 1 h', async () => {
    const tp = provider(fed());
    const first = await tp.getToken();
    assert.equal(await tp.getToken(), first);
    assert.equal(exchanges().length, 1);
    // The emulated clock is real time plus an offset, so the boundary is checked with 1 s of slack.
    emu.clock.advance(WIF_MAX_TOKEN_AGE_MS - 1000);
    assert.equal(await tp.getToken(), first);
    assert.equal(exchanges().length, 1);
    emu.clock.advance(1000);
    const second = await tp.getToken();
    assert.notEqual(second, first);
    assert.equal(exchanges().length, 2);
    assert.equal(oidcRequests().length, 2, 'a new Azure DevOps token for every exchange');
    assert.deepEqual(
      emu.auth.issued.map((i) => [i.kind, Math.round((i.issuedAt - emu.auth.issued[0].issuedAt) / 1000)]),
      [
        ['adoOidc', 0],
        ['databricksFederation', 0],
        ['adoOidc', WIF_MAX_TOKEN_AGE_MS / 1000],
        ['databricksFederation', WIF_MAX_TOKEN_AGE_MS / 1000],
      ],
    );
    assert.equal(secrets.length, 5, 'job token + 2 OIDC tokens + 2 workspace tokens');
    assert.ok(secrets.includes(first) && secrets.includes(second));
  });

  it('no policy on that service principal: the exact actionable error naming the policy fields; not retried; nothing secret in it', async () => {
    const other = '9f8e7d6c-5b4a-4321-8fed-cba987654321';
    const e = await rejects(provider(fed({ clientId: other })).getToken());
    assert.ok(e instanceof DatabricksApiError);
    assert.equal(e.status, 400);
    assert.equal(e.errorCode, 'invalid_request');
    assert.equal(
      e.message,
      `Exchanging the Azure DevOps token for a Databricks OAuth token (service principal ${other}) at ${new URL(emu.url).host} failed (HTTP 400 invalid_request: ` +
        `No federation policy for service principal ${other} matches the token (issuer ${ADO_OIDC_ISSUER}, subject ${adoOidcSubject(CONN_ID)}, audience ${ADO_OIDC_AUDIENCE}).). ` +
        `Likely cause: no federation policy matches the Azure DevOps token, which presented issuer ${ADO_OIDC_ISSUER}, subject ${adoOidcSubject(CONN_ID)} and audience ${ADO_OIDC_AUDIENCE}. ` +
        `Create a federation policy on the Databricks service principal ${other} (the client id of the service connection) with exactly this issuer, subject and audience, ` +
        'and check that the service principal can use this workspace.',
    );
    assert.equal(exchanges().length, 1);
    for (const s of secrets) assert.ok(!errorText(e).includes(s));
  });

  it("logs the decoded iss/sub/aud claims and the connection's issuer/subject parameters, never the token; the secret scan finds nothing", async () => {
    const issuer = `https://login.microsoftonline.com/${D.tenantId}/v2.0`;
    const subject = '/eid1/c/pub/t/abc/a/def/sc/org/conn';
    const tp = provider(fed({ endpointIssuer: issuer, endpointSubject: subject }));
    const token = await tp.getToken();
    emu.clock.advance(WIF_MAX_TOKEN_AGE_MS);
    await tp.getToken();
    const oidcTokens = [...(emu.auth as unknown as { oidcTokens: Map<string, unknown> }).oidcTokens.keys()];
    assert.equal(oidcTokens.length, 2);
    assert.deepEqual(logs, [
      `Service connection ${CONN_ID} declares workloadIdentityFederationIssuer ${issuer}, workloadIdentityFederationSubject ${subject}`,
      `Requesting an Azure DevOps OIDC token for service connection ${CONN_ID}`,
      `The Azure DevOps OIDC token presents issuer ${ADO_OIDC_ISSUER}, subject ${adoOidcSubject(CONN_ID)}, audience ${ADO_OIDC_AUDIENCE}`,
      `Exchanging the Azure DevOps token at ${new URL(emu.url).host} for a Databricks OAuth token (service principal ${D.databricksClientId})`,
      // The second token carries the same claims: they are not repeated.
      `Requesting an Azure DevOps OIDC token for service connection ${CONN_ID}`,
      `Exchanging the Azure DevOps token at ${new URL(emu.url).host} for a Databricks OAuth token (service principal ${D.databricksClientId})`,
    ]);
    const text = logs.join('\n');
    for (const t of oidcTokens) {
      assert.ok(!text.includes(t), 'the OIDC token is not logged');
      for (const segment of t.split('.')) assert.ok(!text.includes(segment), 'no segment of the OIDC token is logged');
    }
    assert.deepEqual(findSecrets(text, [...oidcTokens, token]), []);
    assert.ok(
      oidcTokens.every((t) => secrets.includes(t)),
      'every OIDC token is masked',
    );
  });

  it('oidcTokenClaims reads iss/sub/aud (an aud list joined) and gives up on anything that is not such a JWT', () => {
    assert.deepEqual(
      oidcTokenClaims(fakeJwt({ iss: 'https://login.microsoftonline.com/t/v2.0', sub: '/eid1/c/pub/x', aud: 'api://AzureADTokenExchange', exp: 1 })),
      {
        iss: 'https://login.microsoftonline.com/t/v2.0',
        sub: '/eid1/c/pub/x',
        aud: 'api://AzureADTokenExchange',
      },
    );
    assert.equal(oidcTokenClaims(fakeJwt({ iss: 'i', sub: 's', aud: ['a', 'b'] }))?.aud, 'a, b');
    for (const bad of ['', 'opaque-token', 'a.b', 'a.!!!.c', fakeJwt({ iss: 'i', sub: 's' }), fakeJwt({ iss: 1, sub: 's', aud: 'a' })])
      assert.equal(oidcTokenClaims(bad), undefined, bad);
  });

  it('a token without readable claims: the exchange error falls back to both issuers, the log says the claims could not be read', async () => {
    const opaque = 'not-a-jwt-but-a-long-opaque-oidc-token-value';
    emu.router.add('POST', '/opaque/_apis/distributedtask/hubs/build/plans/1/jobs/2/oidctoken', () => ({ body: { oidcToken: opaque } }), { auth: false });
    const e = await rejects(provider(fed({ oidcRequestUri: `${emu.url}/opaque/_apis/distributedtask/hubs/build/plans/1/jobs/2/oidctoken` })).getToken());
    assert.ok(logs.includes('The Azure DevOps OIDC token presents claims that could not be read (not a JWT)'));
    assert.match(
      e.message,
      /Create a federation policy on the Databricks service principal .* with the issuer and subject of the service connection \(Microsoft Entra issuer https:\/\/login\.microsoftonline\.com\/<tenant id>\/v2\.0 with the subject Azure DevOps shows, or Azure DevOps issuer https:\/\/vstoken\.dev\.azure\.com\/<organization id> with subject sc:\/\/<organization>\/<project>\/<service connection name>\) and audience api:\/\/AzureADTokenExchange/,
    );
    assert.ok(!errorText(e).includes(opaque));
    assert.ok(secrets.includes(opaque));
  });

  it('a token of another service connection (subject mismatch), and an account-wide request without such a policy, are refused', async () => {
    const otherConn = '9c1e9a50-7f6b-4d1c-9b0e-5a2c4f8e6d19';
    const e1 = await rejects(provider(fed({ serviceConnectionId: otherConn })).getToken());
    assert.equal(e1.status, 400);
    assert.match(
      e1.message,
      new RegExp(
        `No federation policy for service principal ${D.databricksClientId} matches the token \\(issuer [^,]+, subject sc://contoso/mlops/${otherConn},`,
      ),
    );
    const e2 = await rejects(provider(fed({ clientId: undefined })).getToken());
    assert.match(
      e2.message,
      /^Exchanging the Azure DevOps token for a Databricks OAuth token \(an account-wide federation policy\) at .* failed \(HTTP 400 invalid_request: No federation policy for the account matches/,
    );
    assert.match(
      e2.message,
      /Create an account-wide federation policy \(the service connection has no service principal client id\) with exactly this issuer, subject and audience, and check that the identity it maps to can use this workspace\.$/,
    );
  });

  it('an expired Azure DevOps token is refused by the emulator', async () => {
    emu.auth.secrets.oidcTokenLifetimeSeconds = 0;
    const e = await rejects(provider(fed()).getToken());
    assert.match(e.message, /failed \(HTTP 400 invalid_request: The subject token has expired\.\)/);
  });

  it('https is required for the workspace and System.OidcRequestUri, except loopback', () => {
    assert.throws(() => createTokenProvider(fed(), { host: 'http://adb-1.azuredatabricks.net', setSecret: () => undefined }), /workspace URL must use https/);
    assert.throws(
      () => createTokenProvider(fed({ oidcRequestUri: 'http://dev.azure.com/contoso/_apis/oidctoken' }), { host: emu.url, setSecret: () => undefined }),
      /System\.OidcRequestUri must use https/,
    );
    assert.equal(emu.requests.length, 0);
  });

  describe('Retry-After on token endpoints', () => {
    const entra = (): AuthConfig => ({
      kind: 'entraClientSecret',
      tenantId: D.tenantId,
      clientId: D.entraClientId,
      clientSecret: D.entraClientSecret,
      authorityHost: emu.url,
    });

    it('/oidc/v1/token answering 429 with Retry-After: 3 twice: waits exactly 3 s each time, then succeeds', async () => {
      emu.faults.add({ path: '/oidc/v1/token', kind: 'status', status: 429, retryAfterSeconds: 3, times: 2 });
      await provider(fed()).getToken();
      assert.deepEqual(
        exchanges().map((r) => r.status),
        [429, 429, 200],
      );
      assert.deepEqual(clock.sleeps, [3000, 3000]);
    });

    it('Databricks OAuth M2M on /oidc/v1/token: 503 with Retry-After: 5 waits 5 s (not the jittered backoff)', async () => {
      emu.faults.add({ path: '/oidc/v1/token', kind: 'status', status: 503, retryAfterSeconds: 5 });
      await provider({ kind: 'databricksOAuth', clientId: D.databricksClientId, clientSecret: D.databricksClientSecret }).getToken();
      assert.deepEqual(
        exchanges().map((r) => r.status),
        [503, 200],
      );
      assert.deepEqual(clock.sleeps, [5000]);
    });

    it('the Entra token endpoint: 429 with Retry-After: 2 waits 2 s; without Retry-After the jittered backoff (random 0: 0 ms)', async () => {
      const path = `/${D.tenantId}/oauth2/v2.0/token`;
      emu.faults.add({ path, kind: 'status', status: 429, retryAfterSeconds: 2 });
      emu.faults.add({ path, kind: 'status', status: 503, afterCalls: 1 });
      await provider(entra()).getToken();
      assert.deepEqual(
        emu.callsTo('POST', path).map((r) => r.status),
        [429, 503, 200],
      );
      assert.deepEqual(clock.sleeps, [2000, 0]);
    });

    it('the Azure DevOps OIDC request endpoint: 429 with Retry-After: 1 waits 1 s', async () => {
      emu.faults.add({ path: /\/oidctoken$/, kind: 'status', status: 429, retryAfterSeconds: 1 });
      await provider(fed()).getToken();
      assert.deepEqual(
        oidcRequests().map((r) => r.status),
        [429, 200],
      );
      assert.deepEqual(clock.sleeps, [1000]);
    });

    it('bounded by the deadline: Retry-After 4 s forever with a 10 s deadline sleeps twice and throws the 429', async () => {
      emu.faults.add({ path: '/oidc/v1/token', kind: 'status', status: 429, retryAfterSeconds: 4, times: Infinity });
      const e = await rejects(provider(fed(), { deadlineMs: 10_000, maxAttempts: 100 }).getToken());
      assert.equal(e.status, 429);
      assert.equal(e.retryAfterMs, 4000);
      assert.match(
        e.message,
        /failed \(HTTP 429 REQUEST_LIMIT_EXCEEDED: .*\)\. The workspace token endpoint is overloaded or unavailable and retries ran out; run the pipeline again later\.$/,
      );
      assert.deepEqual(clock.sleeps, [4000, 4000]);
      assert.equal(exchanges().length, 3);
    });

    it('a Retry-After above maxRetryAfterMs gives up at once rather than block the pipeline', async () => {
      emu.faults.add({ path: `/${D.tenantId}/oauth2/v2.0/token`, kind: 'status', status: 503, retryAfterSeconds: 600, times: Infinity });
      const e = await rejects(provider(entra()).getToken());
      assert.equal(e.status, 503);
      assert.deepEqual(clock.sleeps, []);
      assert.equal(emu.callsTo('POST', `/${D.tenantId}/oauth2/v2.0/token`).length, 1);
    });
  });
});
