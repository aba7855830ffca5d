import assert from 'node:assert/strict';
import { AuthConfig, createTokenProvider, refreshMarginMs, WIF_MAX_TOKEN_AGE_MS } from '../../src/databricks/auth';
import type { Clock } from '../../src/databricks/clock';
import type { TokenProvider } from '../../src/databricks/contracts';
import { createApiClient } from '../../src/databricks/http';
import { waitUntil } from '../../src/databricks/wait';
import { EMULATOR_DEFAULTS, Emulator, startEmulator } from '../../emulator';
import { connectFromInputs, AgentNetworkSettings, proxyConfigFor } from '../../src/pipeline/client';
import type { EndpointSource } from '../../src/pipeline/connection';
import type { TaskHost } from '../../src/pipeline/host';
import { Inputs, mapInputSource } from '../../src/pipeline/inputs';
import { assertNoSecrets, errorText } from '../helpers/secrets';
import { installTestRoutes } from './routes';
import { rejects } from '../helpers/rejects';
import { version as extensionVersion } from '../../package.json';

const D = EMULATOR_DEFAULTS;

describe('client core: authentication end to end against the emulator', () => {
  let emu: Emulator;
  let secrets: string[];
  let clock: Clock & { sleeps: number[] };
  const setSecret = (v: string) => void secrets.push(v);
  const entraSecret = (): AuthConfig => ({
    kind: 'entraClientSecret',
    tenantId: D.tenantId,
    clientId: D.entraClientId,
    clientSecret: D.entraClientSecret,
    authorityHost: emu.url,
  });
  const wif = (over: Partial<Extract<AuthConfig, { kind: 'workloadIdentityFederation' }>> = {}): AuthConfig => ({
    kind: 'workloadIdentityFederation',
    tenantId: D.tenantId,
    clientId: D.entraClientId,
    authorityHost: emu.url,
    serviceConnectionId: D.serviceConnectionId,
    oidcRequestUri: emu.oidcRequestUri,
    systemAccessToken: D.systemAccessToken,
    ...over,
  });
  const provider = (auth: AuthConfig) => createTokenProvider(auth, { host: emu.url, setSecret, clock, retry: { random: () => 0 } });
  const apiWith = (tp: TokenProvider) => createApiClient({ host: emu.url, tokenProvider: tp, clock, retry: { random: () => 0 } });
  const echo = { method: 'GET' as const, path: '/api/2.0/test/echo' };

  beforeEach(async () => {
    emu = await startEmulator();
    installTestRoutes(emu);
    secrets = [];
    clock = emu.linkedClock();
  });
  afterEach(async () => {
    await emu.close();
  });

  it('PAT: registers the token as a secret and authenticates as the PAT user', async () => {
    const tp = provider({ kind: 'pat', token: D.pat });
    assert.deepEqual(secrets, [D.pat]);
    const body = await apiWith(tp).request<{ principal: string }>(echo);
    assert.equal(body.principal, D.patPrincipal);
    assert.equal(tp.invalidate, undefined);
  });

  it('Databricks OAuth M2M: Basic client auth + client_credentials/all-apis form, token cached and refreshed before expiry', async () => {
    const tp = provider({ kind: 'databricksOAuth', clientId: D.databricksClientId, clientSecret: D.databricksClientSecret });
    const api = apiWith(tp);
    assert.equal((await api.request<{ principal: string }>(echo)).principal, `sp:${D.databricksClientId}`);
    await api.request(echo);
    const tokenCalls = emu.callsTo('POST', '/oidc/v1/token');
    assert.equal(tokenCalls.length, 1, 'second call uses the cached token');
    assert.deepEqual(tokenCalls[0].body, { grant_type: 'client_credentials', scope: 'all-apis' });
    assert.equal(tokenCalls[0].headers?.['content-type'], 'application/x-www-form-urlencoded');
    // 1 h token: refreshed 5 min before expiry.
    assert.equal(refreshMarginMs(3600_000), 300_000);
    emu.clock.advance(3600_000 - 300_000 - 1000);
    await api.request(echo);
    assert.equal(emu.callsTo('POST', '/oidc/v1/token').length, 1);
    emu.clock.advance(2000);
    await api.request(echo);
    assert.equal(emu.callsTo('POST', '/oidc/v1/token').length, 2);
    assert.ok(secrets.includes(D.databricksClientSecret));
    assert.equal(emu.auth.issued.filter((i) => i.kind === 'databricksOAuth').length, 2);
    assert.equal(emu.requests.filter((r) => r.status === 403).length, 0);
  });

  it('Entra client secret: form post to /<tenant>/oauth2/v2.0/token with the Azure Databricks scope; the token is masked before use', async () => {
    const tp = provider(entraSecret());
    const token = await tp.getToken();
    assert.ok(secrets.includes(token), 'token passed to setSecret');
    assert.ok(secrets.includes(D.entraClientSecret));
    const [call] = emu.callsTo('POST', `/${D.tenantId}/oauth2/v2.0/token`);
    assert.deepEqual(call.body, {
      grant_type: 'client_credentials',
      client_id: D.entraClientId,
      client_secret: '***',
      scope: '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default',
    });
    assert.equal((await apiWith(tp).request<{ principal: string }>(echo)).principal, `entra:${D.entraClientId}`);
    assert.equal(emu.auth.issued[0].via, 'secret');
  });

  it('Entra client secret: a 30-minute wait with 10-minute tokens refreshes before expiry and never sends an expired token', async () => {
    emu.auth.setAccessTokenLifetime(600);
    const api = apiWith(provider(entraSecret()));
    const start = clock.now();
    const polls = await waitUntil<number, { n: number }>(
      async (n) => {
        await api.request(echo);
        return clock.now() - start >= 30 * 60_000 ? { done: n } : { pending: { n } };
      },
      { timeoutMs: 40 * 60_000, clock, initialIntervalMs: 2000, maxIntervalMs: 30_000 },
    );
    assert.ok(polls > 60);
    // margin for 600 s = 60 s: a new token at 0, 540, 1080 and 1620 s.
    const issued = emu.auth.issued.filter((i) => i.kind === 'entra').map((i) => Math.round((i.issuedAt - start) / 1000));
    assert.equal(issued.length, 4, `issued at ${issued.join(', ')} s`);
    for (let i = 1; i < issued.length; i++) assert.ok(issued[i] >= i * 540 && issued[i] < i * 540 + 31, `token ${i} at ${issued[i]} s`);
    assert.deepEqual(
      emu.requests.filter((r) => r.status !== 200),
      [],
    );
  });

  it('Entra: an expired token is refreshed once on 403 when the clock jumps past expiry', async () => {
    const tp = provider(entraSecret());
    const api = apiWith(tp);
    await api.request(echo);
    emu.auth.revokeIssuedTokens();
    await api.request(echo);
    assert.deepEqual(
      emu.callsTo('GET', '/api/2.0/test/echo').map((r) => r.status),
      [200, 403, 200],
    );
    assert.equal(emu.auth.issued.length, 2);
  });

  it('workload identity federation: OIDC token from Azure DevOps (api-version 7.1, serviceConnectionId, System.AccessToken) exchanged as a client assertion', async () => {
    const tp = provider(wif());
    assert.deepEqual(secrets, [D.systemAccessToken]);
    const body = await apiWith(tp).request<{ principal: string }>(echo);
    assert.equal(body.principal, `entra:${D.entraClientId}`);
    const [oidc] = emu.requests.filter((r) => r.path.endsWith('/oidctoken'));
    assert.equal(oidc.method, 'POST');
    assert.deepEqual(oidc.query, { 'api-version': '7.1', serviceConnectionId: D.serviceConnectionId });
    assert.deepEqual(oidc.body, {});
    const [exchange] = emu.callsTo('POST', `/${D.tenantId}/oauth2/v2.0/token`);
    assert.deepEqual(exchange.body, {
      grant_type: 'client_credentials',
      client_id: D.entraClientId,
      scope: '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: '***',
    });
    assert.deepEqual(
      emu.auth.issued.map((i) => [i.kind, i.via]),
      [
        ['adoOidc', undefined],
        ['entra', 'assertion'],
      ],
    );
    assert.equal(secrets.length, 3, 'system token, OIDC token and access token masked');
  });

  it('workload identity federation: during a 30-minute wait a fresh OIDC token is requested for every exchange, at least every 8 minutes', async () => {
    const api = apiWith(provider(wif()));
    const start = clock.now();
    await waitUntil(
      async () => {
        await api.request(echo);
        return clock.now() - start >= 30 * 60_000 ? { done: true } : { pending: 'waiting' };
      },
      { timeoutMs: 40 * 60_000, clock, initialIntervalMs: 30_000, maxIntervalMs: 30_000 },
    );
    const kinds = emu.auth.issued.map((i) => i.kind);
    assert.deepEqual(kinds, ['adoOidc', 'entra', 'adoOidc', 'entra', 'adoOidc', 'entra', 'adoOidc', 'entra']);
    const entraAt = emu.auth.issued.filter((i) => i.kind === 'entra').map((i) => Math.round((i.issuedAt - start) / 60_000));
    assert.deepEqual(entraAt, [0, WIF_MAX_TOKEN_AGE_MS / 60_000, 16, 24]);
    assert.deepEqual(
      emu.requests.filter((r) => r.status !== 200),
      [],
    );
  });

  it('concurrent getToken() calls share one token request', async () => {
    const tp = provider(entraSecret());
    const tokens = await Promise.all([tp.getToken(), tp.getToken(), tp.getToken()]);
    assert.equal(new Set(tokens).size, 1);
    assert.equal(emu.callsTo('POST', `/${D.tenantId}/oauth2/v2.0/token`).length, 1);
  });

  it('a cancelled signal stops the token request with CancelledError', async () => {
    emu.faults.add({ path: `/${D.tenantId}/oauth2/v2.0/token`, kind: 'slow', delayMs: 500 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('cancelled by SIGINT')), 50);
    const e = await rejects(apiWith(provider(entraSecret())).request({ ...echo, signal: ac.signal }));
    assert.equal((e as Error).name, 'CancelledError');
    assert.equal(emu.callsTo('GET', '/api/2.0/test/echo').length, 0);
  });

  describe('token endpoint failures give clear messages without secrets', () => {
    it('wrong Entra client secret', async () => {
      const e = await rejects(provider({ ...entraSecret(), clientSecret: 'wrong-secret-value-123' } as AuthConfig).getToken());
      assert.equal(e.status, 401);
      assert.equal(e.errorCode, 'invalid_client');
      assert.match(
        e.message,
        /^Getting a Microsoft Entra ID token for client 11111111-2222-4333-8444-555555555555 in tenant 72f988bf-86f1-41af-91ab-2d7cd011db47 failed \(HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided/,
      );
      assert.match(e.message, /Check the client secret of the service connection/);
      assert.ok(!errorText(e).includes('wrong-secret-value-123'));
      assert.equal(emu.callsTo('POST', `/${D.tenantId}/oauth2/v2.0/token`).length, 1, 'a 401 from the token endpoint is not retried');
    });

    it('wrong tenant', async () => {
      const e = await rejects(provider({ ...entraSecret(), tenantId: '00000000-0000-0000-0000-000000000000' } as AuthConfig).getToken());
      assert.equal(e.status, 400);
      assert.match(e.message, /AADSTS90002: Tenant '00000000-0000-0000-0000-000000000000' not found/);
      assert.match(e.message, /Check the tenant id/);
    });

    it('unknown client id', async () => {
      const e = await rejects(provider({ ...entraSecret(), clientId: '99999999-2222-4333-8444-555555555555' } as AuthConfig).getToken());
      assert.match(e.message, /AADSTS700016/);
      assert.match(e.message, /Check the client \(application\) id/);
    });

    it('wrong Databricks OAuth secret', async () => {
      const e = await rejects(provider({ kind: 'databricksOAuth', clientId: D.databricksClientId, clientSecret: 'dose-wrong-secret-999' }).getToken());
      assert.equal(e.status, 401);
      assert.match(
        e.message,
        /^Getting a Databricks OAuth token for service principal .* failed \(HTTP 401 invalid_client: Client authentication failed\)\. Check the OAuth client id and secret/,
      );
      assertNoSecrets(errorText(e), 'error', ['dose-wrong-secret-999']);
    });

    it('a service connection without a federated credential on the app', async () => {
      const e = await rejects(provider(wif({ serviceConnectionId: '9c1e9a50-7f6b-4d1c-9b0e-5a2c4f8e6d19' })).getToken());
      assert.match(e.message, /AADSTS700213/);
      assert.match(e.message, /Check the federated credential on the app registration/);
    });

    it('a System.AccessToken Azure DevOps rejects', async () => {
      const e = await rejects(provider(wif({ systemAccessToken: 'not-the-right-system-token' })).getToken());
      assert.equal(e.status, 401);
      assert.match(e.message, /^Requesting an Azure DevOps federated token for service connection .* failed \(HTTP 401 UnauthorizedRequestException: TF400813/);
      assert.match(e.message, /authorized to use the service connection/);
      assert.ok(!errorText(e).includes('not-the-right-system-token'));
    });

    it('an expired federated token is refused by Entra (AADSTS700024)', async () => {
      // Azure DevOps OIDC tokens that are already expired when exchanged.
      emu.auth.secrets.oidcTokenLifetimeSeconds = 0;
      const e = await rejects(provider(wif()).getToken());
      assert.match(e.message, /AADSTS700024: Client assertion is not within its valid time range/);
      assert.match(e.message, /Check the federated credential/);
    });

    it('a token endpoint answering 503 is retried; an https-only authority is enforced', async () => {
      emu.faults.add({ path: `/${D.tenantId}/oauth2/v2.0/token`, kind: 'status', status: 503, times: 2 });
      await provider(entraSecret()).getToken();
      assert.deepEqual(
        emu.callsTo('POST', `/${D.tenantId}/oauth2/v2.0/token`).map((r) => r.status),
        [503, 503, 200],
      );
      assert.throws(() => provider({ ...entraSecret(), authorityHost: 'http://login.example.com' } as AuthConfig), /must use https/);
    });
  });

  describe('connectFromInputs', () => {
    function fakeHost(): TaskHost & { secrets: string[]; debug: string[] } {
      const s: string[] = [];
      const debug: string[] = [];
      return {
        secrets: s,
        debug,
        log: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: (m) => void debug.push(m) },
        setOutput: () => undefined,
        setSecret: (v) => void s.push(v),
        setProgress: () => undefined,
        uploadSummary: () => undefined,
        addAttachment: () => undefined,
        tempDir: '/tmp',
        signal: new AbortController().signal,
        onCancel: () => undefined,
      };
    }
    const noProxy: AgentNetworkSettings = { proxy: () => null, cert: () => null, skipCertValidation: () => false };

    it('a Databricks PAT connection: masks the PAT, uses the agent settings, and talks to the workspace', async () => {
      const endpoints: EndpointSource = {
        url: (id) => (id === 'conn-1' ? `${emu.url}/` : undefined),
        scheme: () => 'Token',
        param: (_id, key) => (key === 'apitoken' ? D.pat : undefined),
        data: () => undefined,
        variable: () => undefined,
      };
      const host = fakeHost();
      let askedProxyFor = '';
      const { api, connection } = connectFromInputs(new Inputs(mapInputSource({ databricksConnection: 'conn-1' })), host, {
        endpoints,
        network: { ...noProxy, proxy: (u) => ((askedProxyFor = u), null) },
        taskName: 'DatabricksTrainV1',
      });
      assert.equal(connection.host, emu.url);
      assert.equal(askedProxyFor, emu.url);
      assert.deepEqual(host.secrets.slice(0, 1), [D.pat]);
      const body = await api.request<{ principal: string }>(echo);
      assert.equal(body.principal, D.patPrincipal);
      assert.equal(
        emu.requests[0].headers?.['user-agent'],
        `databricks-mlops-azure-pipelines/${extensionVersion} (task DatabricksTrainV1)`,
        'the adapter passes the version from package.json',
      );
      assert.equal(host.debug.length, 1);
      assert.match(host.debug[0], /^GET \/api\/2\.0\/test\/echo -> 200 \(\d+ ms, attempt 1\)$/);
    });

    it("maps the agent's proxy and certificate settings and masks the proxy password", async () => {
      const endpoints: EndpointSource = {
        url: () => `${emu.url}/`,
        scheme: () => 'Token',
        param: () => D.pat,
        data: () => undefined,
        variable: () => undefined,
      };
      const host = fakeHost();
      const network: AgentNetworkSettings = {
        proxy: () => ({ proxyUrl: 'http://127.0.0.1:9', proxyUsername: 'agent', proxyPassword: 'proxy-p4ssw0rd-test', proxyBypassHosts: ['127\\.0\\.0\\.1'] }),
        cert: () => ({ caFile: undefined }),
        skipCertValidation: () => false,
      };
      const { api } = connectFromInputs(new Inputs(mapInputSource({ databricksConnection: 'c' })), host, { endpoints, network });
      assert.ok(host.secrets.includes('proxy-p4ssw0rd-test'));
      // The bypass list sends loopback direct, so the (dead) proxy at port 9 is never used.
      assert.equal((await api.request<{ principal: string }>(echo)).principal, D.patPrincipal);
      assert.deepEqual(proxyConfigFor('https://adb-1.net', network), {
        proxyUrl: 'http://127.0.0.1:9',
        proxyUsername: 'agent',
        proxyPassword: 'proxy-p4ssw0rd-test',
        bypass: ['127\\.0\\.0\\.1'],
        caCertPath: undefined,
        ignoreSslErrors: false,
      });
    });

    it('an Azure Resource Manager connection with workload identity federation', async () => {
      const id = D.serviceConnectionId;
      const endpoints: EndpointSource = {
        url: () => undefined,
        scheme: (e) => (e === id ? 'WorkloadIdentityFederation' : undefined),
        param: (e, key) =>
          e === 'SystemVssConnection' && key === 'AccessToken'
            ? D.systemAccessToken
            : e === id
              ? ({ tenantid: D.tenantId, serviceprincipalid: D.entraClientId } as Record<string, string>)[key]
              : undefined,
        data: (_e, key) => (key === 'activeDirectoryAuthority' ? emu.url : undefined),
        variable: (name) => (name === 'System.OidcRequestUri' ? emu.oidcRequestUri : undefined),
      };
      const host = fakeHost();
      const { api, connection } = connectFromInputs(
        new Inputs(mapInputSource({ connectionType: 'azureResourceManager', azureSubscription: id, workspaceUrl: emu.url })),
        host,
        { endpoints, network: noProxy },
      );
      assert.equal(connection.auth.kind, 'workloadIdentityFederation');
      const body = await api.request<{ principal: string }>(echo);
      assert.equal(body.principal, `entra:${D.entraClientId}`);
      assert.equal(host.secrets[0], D.systemAccessToken);
      assert.equal(host.secrets.length, 4, 'system token (twice: adapter and provider), OIDC token, access token');
      assertNoSecrets(host.debug.join('\n'), 'debug log', host.secrets);
    });
  });
});
