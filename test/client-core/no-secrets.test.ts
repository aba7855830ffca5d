import assert from 'node:assert/strict';
import { AuthConfig, createTokenProvider } from '../../src/databricks/auth';
import type { ApiRequest } from '../../src/databricks/contracts';
import { DatabricksApiError } from '../../src/databricks/errors';
import { createApiClient } from '../../src/databricks/http';
import { EMULATOR_DEFAULTS, Emulator, startEmulator } from '../../emulator';
import { assertNoSecrets, errorText, findSecrets, registerTestSecret } from '../helpers/secrets';
import { installTestRoutes } from './routes';

const D = EMULATOR_DEFAULTS;

describe('client core: nothing the client logs or throws contains a secret', () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator();
    installTestRoutes(emu);
  });
  after(async () => {
    await emu.close();
  });

  it('findSecrets() detects a registered secret in plain, url-encoded and base64 form (the scanner can fail)', () => {
    const s = registerTestSecret('scanner self-test secret', 'self/test+secret=value');
    assert.deepEqual(findSecrets(`x ${s} y`), ['scanner self-test secret']);
    assert.deepEqual(findSecrets(encodeURIComponent(s)), ['scanner self-test secret (url-encoded)']);
    assert.deepEqual(findSecrets(Buffer.from(s).toString('base64')), ['scanner self-test secret (base64)']);
    assert.deepEqual(findSecrets('nothing here'), []);
    assert.throws(() => assertNoSecrets(`Bearer ${D.pat}`, 'sample'), /sample contains secrets: emulator PAT/);
  });

  it('every auth scheme, success and failure paths: logs, errors and error fields are clean', async () => {
    const auths: AuthConfig[] = [
      { kind: 'pat', token: D.pat },
      { kind: 'databricksOAuth', clientId: D.databricksClientId, clientSecret: D.databricksClientSecret },
      { kind: 'entraClientSecret', tenantId: D.tenantId, clientId: D.entraClientId, clientSecret: D.entraClientSecret, authorityHost: emu.url },
      {
        kind: 'workloadIdentityFederation',
        tenantId: D.tenantId,
        clientId: D.entraClientId,
        authorityHost: emu.url,
        serviceConnectionId: D.serviceConnectionId,
        oidcRequestUri: emu.oidcRequestUri,
        systemAccessToken: D.systemAccessToken,
      },
      // Wrong credentials: the token endpoints reject them.
      { kind: 'databricksOAuth', clientId: D.databricksClientId, clientSecret: registerTestSecret('wrong OAuth secret', 'dose-wrong-oauth-secret-7') },
      {
        kind: 'entraClientSecret',
        tenantId: D.tenantId,
        clientId: D.entraClientId,
        clientSecret: registerTestSecret('wrong Entra secret', 'entra~wrong~secret~7'),
        authorityHost: emu.url,
      },
      {
        kind: 'workloadIdentityFederation',
        tenantId: D.tenantId,
        clientId: D.entraClientId,
        authorityHost: emu.url,
        serviceConnectionId: D.serviceConnectionId,
        oidcRequestUri: emu.oidcRequestUri,
        systemAccessToken: registerTestSecret('wrong system token', 'ado-wrong-system-token-7'),
      },
    ];
    const logs: string[] = [];
    const thrown: string[] = [];
    const masked: string[] = [];
    const calls: ApiRequest[] = [
      { method: 'GET', path: '/api/2.0/test/echo', query: { q: 1 } },
      { method: 'GET', path: '/api/2.0/test/missing' },
      { method: 'GET', path: '/api/2.0/test/redirect-same' },
      { method: 'GET', path: '/api/2.0/test/redirect-login' },
      { method: 'POST', path: '/api/2.0/test/write', body: { a: 1 } },
      { method: 'GET', path: '/api/2.0/test/text-error' },
    ];
    emu.faults.add({ path: '/api/2.0/test/echo', kind: 'status', status: 503, times: 1 });
    emu.faults.add({ path: '/api/2.0/test/write', kind: 'reset', times: 2 });
    for (const auth of auths) {
      const log = (m: string) => void logs.push(m);
      const tokenProvider = createTokenProvider(auth, { host: emu.url, setSecret: (v) => void masked.push(v), log, retry: { baseDelayMs: 1, maxAttempts: 2 } });
      const api = createApiClient({ host: emu.url, tokenProvider, log, retry: { baseDelayMs: 1 } });
      for (const c of calls) {
        try {
          await api.request(c);
        } catch (e) {
          thrown.push(errorText(e));
          if (e instanceof DatabricksApiError) {
            // Only these safe fields exist on the error.
            const keys = Object.keys(e)
              .filter((k) => (e as unknown as Record<string, unknown>)[k] !== undefined)
              .sort();
            for (const k of keys)
              assert.ok(['errorCode', 'method', 'name', 'path', 'requestId', 'retryAfterMs', 'status'].includes(k), `unexpected field ${k}`);
          }
        }
      }
    }
    assert.ok(logs.length > 20, `logged ${logs.length} lines`);
    assert.ok(thrown.length >= 20, `caught ${thrown.length} errors`);
    assert.ok(masked.length >= 10, `masked ${masked.length} values`);
    assert.ok(
      thrown.some((t) => /AADSTS7000215/.test(t)) &&
        thrown.some((t) => /TF400813/.test(t)) &&
        thrown.some((t) => /invalid_client: Client authentication failed/.test(t)),
    );
    const everything = [...logs, ...thrown].join('\n');
    assertNoSecrets(everything, 'client logs and errors', masked);
    assert.ok(!/Bearer\s+\S{8,}/.test(everything), 'no bearer header value');
    assert.ok(!/Basic\s+\S{8,}/.test(everything), 'no basic header value');
  });
});
