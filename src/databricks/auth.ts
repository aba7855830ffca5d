/**
 * Token providers for the five ways the tasks authenticate to a workspace: personal access token,
 * Databricks OAuth machine-to-machine, Microsoft Entra ID service principal with a client secret,
 * workload identity federation from an Azure DevOps service connection to Entra ID, and Databricks OAuth
 * token federation (the Azure DevOps token exchanged at the workspace itself, no Entra app and no secret).
 *
 * The token requests are small form posts written by hand rather than with @azure/msal-node: MSAL fetches
 * instance-discovery and openid-configuration documents from the authority before every first token,
 * which the offline emulator would have to imitate, and it brings its own HTTP stack that would bypass our
 * proxy, redirect and secret-masking rules. Three POSTs are easy to get right and to test.
 */
import type { TokenProvider } from './contracts';
import { systemClock, type Clock } from './clock';
import { CancelledError, DatabricksApiError, looksLikeHtml, parseRetryAfter, signInPageError } from './errors';
import { assertSecureUrl, RawResponse, sendOnce, userAgent } from './http';
import { createTransport, ProxyConfig, Transport } from './proxy';
import { RetryPolicy, withRetry } from './retry';

/** Azure Databricks' first-party application id: the resource an Entra ID token must be issued for. */
export const AZURE_DATABRICKS_RESOURCE_ID = '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d';
export const AZURE_DATABRICKS_SCOPE = `${AZURE_DATABRICKS_RESOURCE_ID}/.default`;
export const DEFAULT_ENTRA_AUTHORITY = 'https://login.microsoftonline.com';
/** The Azure DevOps OIDC request API version (as AzurePipelinesCredential and the Azure tasks use). */
export const ADO_OIDC_API_VERSION = '7.1';
/**
 * Workload identity federation: the Azure DevOps federated token lives about 10 minutes, so we request a
 * new one for every exchange and re-exchange at least this often, even if the access token lives longer.
 */
export const WIF_MAX_TOKEN_AGE_MS = 8 * 60_000;
/** RFC 8693 token exchange, as Databricks OAuth token federation expects it at `/oidc/v1/token`. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

/** Where a task gets an Azure DevOps OIDC token for one service connection (shared by both federation kinds). */
export interface AdoOidcSource {
  /** The service connection whose federated token is requested. */
  serviceConnectionId: string;
  /** `System.OidcRequestUri`. */
  oidcRequestUri: string;
  /** The job's System.AccessToken, used only to call the OIDC request URI. */
  systemAccessToken: string;
  /**
   * The service connection's `workloadIdentityFederationIssuer` / `workloadIdentityFederationSubject`
   * authorization parameters, when Azure DevOps filled them (it does for its federated connections: the
   * AzureRM endpoint type declares both as read-only inputs). Logged so a user can write the trust policy.
   */
  endpointIssuer?: string;
  endpointSubject?: string;
}

/** The claims of an Azure DevOps OIDC token a trust policy matches on; none of them is a secret. */
export interface OidcTokenClaims {
  iss: string;
  sub: string;
  aud: string;
}

/**
 * Reads `iss`, `sub` and `aud` from a JWT's payload without verifying it (the workspace or Entra ID verifies
 * it; we only report what was presented). Undefined when the token is not a JWT with those claims. Only the
 * payload segment is decoded, and only those three strings leave this function, never the token.
 */
export function oidcTokenClaims(token: string): OidcTokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.join(', ') : undefined);
    const iss = text(payload.iss);
    const sub = text(payload.sub);
    const aud = text(payload.aud);
    return iss && sub && aud ? { iss, sub, aud } : undefined;
  } catch {
    return undefined;
  }
}

/** Which credential to use (filled by src/pipeline/connection.ts from the service connection). */
export type AuthConfig =
  | { kind: 'pat'; token: string }
  | { kind: 'databricksOAuth'; clientId: string; clientSecret: string }
  | { kind: 'entraClientSecret'; tenantId: string; clientId: string; clientSecret: string; authorityHost: string }
  | ({
      kind: 'workloadIdentityFederation';
      tenantId: string;
      clientId: string;
      authorityHost: string;
    } & AdoOidcSource)
  | ({
      /**
       * Databricks OAuth token federation: the Azure DevOps OIDC token of our own Databricks service
       * connection is exchanged at `{host}/oidc/v1/token` for a workspace token. `clientId` is the Databricks
       * service principal's application id (a service-principal federation policy); absent for an
       * account-wide federation policy.
       */
      kind: 'databricksFederation';
      clientId?: string;
    } & AdoOidcSource);

export interface TokenProviderDeps {
  /** The workspace URL (needed by Databricks OAuth, whose token endpoint is on the workspace). */
  host: string;
  /** Masks a value in the log; called with every static secret at once and every token obtained. */
  setSecret: (value: string) => void;
  clock?: Clock;
  proxy?: ProxyConfig;
  /** A prepared transport, shared with the API client; built from `proxy` when absent. */
  transport?: Transport;
  timeoutMs?: number;
  retry?: Partial<Omit<RetryPolicy, 'clock'>>;
  userAgent?: string;
  log?: (message: string) => void;
}

/** A provider that also says when its current token will be refreshed (for tests and debug logs). */
export interface RefreshingTokenProvider extends TokenProvider {
  invalidate(): void;
  /** How many tokens it has fetched so far. */
  readonly fetchCount: number;
}

interface Fetched {
  token: string;
  /** Lifetime in ms as the issuer stated it. */
  lifetimeMs: number;
}

/**
 * How long before expiry to refresh: 10% of the lifetime, at least 40 s (Azure Databricks rejects tokens
 * that expire within 30 s) and at most 5 minutes, never more than half the lifetime.
 */
export function refreshMarginMs(lifetimeMs: number): number {
  const margin = Math.max(40_000, Math.min(5 * 60_000, lifetimeMs * 0.1));
  return Math.min(margin, lifetimeMs / 2);
}

/** Caches a fetched token and refreshes it before expiry; concurrent callers share one fetch. */
export function cachingTokenProvider(fetchToken: (signal?: AbortSignal) => Promise<Fetched>, clock: Clock, maxAgeMs = Infinity): RefreshingTokenProvider {
  let current: { token: string; refreshAt: number } | undefined;
  let inflight: Promise<string> | undefined;
  let count = 0;
  return {
    get fetchCount() {
      return count;
    },
    invalidate() {
      current = undefined;
    },
    async getToken(signal?: AbortSignal) {
      if (current && clock.monotonic() < current.refreshAt) return current.token;
      if (!inflight) {
        inflight = (async () => {
          try {
            const started = clock.monotonic();
            const f = await fetchToken(signal);
            count++;
            current = { token: f.token, refreshAt: started + Math.min(f.lifetimeMs - refreshMarginMs(f.lifetimeMs), maxAgeMs) };
            return f.token;
          } finally {
            inflight = undefined;
          }
        })();
      }
      return inflight;
    },
  };
}

/** Replaces every known secret in a message with `***` (token endpoints may echo what they received). */
function scrub(text: string, secrets: Array<string | undefined>): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}

interface TokenCallContext {
  what: string;
  /** What to check, from the OAuth error code, its description and the HTTP status. */
  hint: (code: string, description: string, status: number) => string;
  secrets: Array<string | undefined>;
}

/** Turns a failed token-endpoint response into a clear error that never repeats a secret. */
export function tokenEndpointError(res: RawResponse, ctx: TokenCallContext): DatabricksApiError {
  const text = res.body.toString('utf8');
  const requestId = res.headers['x-request-id'] ?? res.headers['x-ms-request-id'];
  if (looksLikeHtml(res.headers['content-type'], text)) {
    return signInPageError(res.status, { method: 'POST', path: res.url.pathname, host: res.url.host, requestId });
  }
  let code = `HTTP_${res.status}`;
  let description = '';
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    if (typeof j.error === 'string') code = j.error;
    else if (typeof j.error_code === 'string' || typeof j.error_code === 'number') code = String(j.error_code);
    else if (typeof j.typeKey === 'string') code = j.typeKey;
    description = String(j.error_description ?? j.message ?? '');
  } catch {
    description = text.slice(0, 300);
  }
  // AAD descriptions end with trace/correlation ids and timestamps; the first sentence is the useful part.
  description = description
    .split(/\r?\n|\s+Trace ID:/)[0]
    .trim()
    .slice(0, 400);
  const message = scrub(
    `${ctx.what} failed (HTTP ${res.status} ${code}${description ? `: ${description}` : ''}). ${ctx.hint(code, description, res.status)}`.trim(),
    ctx.secrets,
  );
  // Retry-After travels on the error so withRetry waits what the token endpoint asked for (429/503), as
  // it does for API calls; the system clock's wall time because an HTTP-date Retry-After is the server's real
  // wall-clock time, whatever clock the client was given (as in http.ts).
  const retryAfterMs = parseRetryAfter(res.headers['retry-after'], systemClock.now());
  return new DatabricksApiError({ status: res.status, errorCode: code, message, requestId, method: 'POST', path: res.url.pathname, retryAfterMs });
}

interface PostOptions {
  transport: Transport;
  clock: Clock;
  timeoutMs: number;
  retry?: Partial<Omit<RetryPolicy, 'clock'>>;
  userAgent: string;
  signal?: AbortSignal;
}

/**
 * POSTs to a token endpoint with retries (asking for another token is harmless to repeat). 429 and 5xx
 * are retried by the shared retry loop, honouring Retry-After within the policy's deadline and
 * maxRetryAfterMs exactly as API calls do.
 */
async function postForToken(url: URL, body: Buffer, headers: Record<string, string>, o: PostOptions, ctx: TokenCallContext): Promise<Record<string, unknown>> {
  const res = await withRetry(
    async () => {
      const r = await sendOnce(o.transport, {
        method: 'POST',
        url,
        headers: { 'user-agent': o.userAgent, accept: 'application/json', ...headers },
        body,
        timeoutMs: o.timeoutMs,
        signal: o.signal,
        maxBodyBytes: 1024 * 1024,
      });
      if (r.status === 429 || r.status >= 500) throw tokenEndpointError(r, ctx);
      return r;
    },
    { ...(o.retry ?? {}), clock: o.clock, signal: o.signal },
  ).catch((e: unknown) => {
    if (e instanceof DatabricksApiError || e instanceof CancelledError) {
      // Network errors mention only method/path/host; token-endpoint errors were scrubbed already.
      throw e;
    }
    throw new Error(`${ctx.what} failed.`);
  });
  if (res.status < 200 || res.status >= 300) throw tokenEndpointError(res, ctx);
  const text = res.body.toString('utf8');
  if (looksLikeHtml(res.headers['content-type'], text)) throw signInPageError(res.status, { method: 'POST', path: url.pathname, host: url.host });
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new DatabricksApiError({
      status: res.status,
      errorCode: 'INVALID_RESPONSE',
      method: 'POST',
      path: url.pathname,
      message: `${ctx.what} returned a response that is not JSON.`,
    });
  }
}

function form(fields: Record<string, string>): Buffer {
  return Buffer.from(new URLSearchParams(fields).toString(), 'utf8');
}

function readAccessToken(j: Record<string, unknown>, what: string): Fetched {
  const token = j.access_token;
  if (typeof token !== 'string' || token === '') throw new Error(`${what} returned no access_token.`);
  const expiresIn = Number(j.expires_in);
  // A missing or bad expires_in is treated as a short lifetime so we refresh rather than use a dead token.
  const lifetimeMs = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : 5 * 60_000;
  return { token, lifetimeMs };
}

function entraHint(code: string, description: string): string {
  if (/AADSTS90002|AADSTS900023|tenant/i.test(description) && !/AADSTS7000215/.test(description)) return 'Check the tenant id of the service connection.';
  if (/AADSTS7000215|AADSTS7000222/.test(description))
    return 'Check the client secret of the service connection: use the secret value (not its id) and make sure it has not expired.';
  if (/AADSTS700016/.test(description)) return 'Check the client (application) id and that the app is registered in this tenant.';
  if (/AADSTS7002(11|13|12|14)|AADSTS700024|AADSTS70021/.test(description)) {
    return 'Check the federated credential on the app registration: issuer, subject (sc://<org>/<project>/<service connection>) and audience api://AzureADTokenExchange must match the service connection.';
  }
  if (code === 'invalid_scope') return `The token must be requested for Azure Databricks (${AZURE_DATABRICKS_SCOPE}).`;
  if (code === 'invalid_client') return 'Check the client id and credential of the service connection.';
  return 'Check the service connection (tenant, client id and credential).';
}

/** What every provider kind shares: the masking token POST, its options, the debug log and the clock. */
interface ProviderEnv {
  deps: TokenProviderDeps;
  post: PostOptions;
  log: (message: string) => void;
  clock: Clock;
  fetchAccessToken: (url: URL, body: Buffer, headers: Record<string, string>, ctx: TokenCallContext, signal?: AbortSignal) => Promise<Fetched>;
}

type AuthOf<K extends AuthConfig['kind']> = Extract<AuthConfig, { kind: K }>;

/**
 * Builds the provider for a connection. Registers the static secrets (PAT, client secret, System.AccessToken)
 * with `deps.setSecret` immediately, and every token obtained before it is returned.
 */
export function createTokenProvider(auth: AuthConfig, deps: TokenProviderDeps): TokenProvider {
  const clock = deps.clock ?? systemClock;
  const transport = deps.transport ?? createTransport(deps.proxy);
  const post: PostOptions = { transport, clock, timeoutMs: deps.timeoutMs ?? 60_000, retry: deps.retry, userAgent: deps.userAgent ?? userAgent() };
  const log = deps.log ?? (() => undefined);
  /** Posts one token request and returns the access token, masked before anything else can see it. */
  const fetchAccessToken = async (url: URL, body: Buffer, headers: Record<string, string>, ctx: TokenCallContext, signal?: AbortSignal) => {
    const j = await postForToken(url, body, headers, { ...post, signal }, ctx);
    const f = readAccessToken(j, ctx.what);
    deps.setSecret(f.token);
    return f;
  };
  const env: ProviderEnv = { deps, post, log, clock, fetchAccessToken };

  switch (auth.kind) {
    case 'pat': {
      deps.setSecret(auth.token);
      // No invalidate: a PAT cannot be refreshed, so a 401 is final.
      return { getToken: async () => auth.token };
    }
    case 'databricksOAuth':
      return databricksOAuthProvider(auth, env);
    case 'entraClientSecret':
      return entraSecretProvider(auth, env);
    case 'workloadIdentityFederation':
      return entraFederationProvider(auth, env);
    case 'databricksFederation':
      return databricksFederationProvider(auth, env);
  }
}

function databricksOAuthProvider(auth: AuthOf<'databricksOAuth'>, { deps, log, clock, fetchAccessToken }: ProviderEnv): TokenProvider {
  deps.setSecret(auth.clientSecret);
  const base = assertSecureUrl(deps.host, 'workspace URL');
  const url = new URL('/oidc/v1/token', base);
  const basic = Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64');
  deps.setSecret(basic);
  const ctx: TokenCallContext = {
    what: `Getting a Databricks OAuth token for service principal ${auth.clientId} from ${base.host}`,
    hint: (code) =>
      code === 'invalid_client'
        ? 'Check the OAuth client id and secret of the service connection (a Databricks service principal OAuth secret; it may have expired).'
        : 'Check the OAuth client id and secret of the service connection.',
    secrets: [auth.clientSecret, basic],
  };
  return cachingTokenProvider(async (signal) => {
    log(`Requesting a Databricks OAuth token for ${auth.clientId}`);
    return fetchAccessToken(
      url,
      form({ grant_type: 'client_credentials', scope: 'all-apis' }),
      { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      ctx,
      signal,
    );
  }, clock);
}

function entraSecretProvider(auth: AuthOf<'entraClientSecret'>, { deps, log, clock, fetchAccessToken }: ProviderEnv): TokenProvider {
  deps.setSecret(auth.clientSecret);
  const url = entraTokenUrl(auth.authorityHost, auth.tenantId);
  const ctx: TokenCallContext = {
    what: `Getting a Microsoft Entra ID token for client ${auth.clientId} in tenant ${auth.tenantId}`,
    hint: entraHint,
    secrets: [auth.clientSecret],
  };
  return cachingTokenProvider(async (signal) => {
    log(`Requesting a Microsoft Entra ID token for ${auth.clientId}`);
    return fetchAccessToken(
      url,
      form({ grant_type: 'client_credentials', client_id: auth.clientId, client_secret: auth.clientSecret, scope: AZURE_DATABRICKS_SCOPE }),
      { 'content-type': 'application/x-www-form-urlencoded' },
      ctx,
      signal,
    );
  }, clock);
}

function entraFederationProvider(auth: AuthOf<'workloadIdentityFederation'>, { deps, post, log, clock, fetchAccessToken }: ProviderEnv): TokenProvider {
  const requestOidcTokenWithClaims = adoOidcTokenRequester(auth, deps, post, log);
  const requestOidcToken = async (signal?: AbortSignal) => (await requestOidcTokenWithClaims(signal)).token;
  const url = entraTokenUrl(auth.authorityHost, auth.tenantId);
  return cachingTokenProvider(
    async (signal) => {
      const oidcToken = await requestOidcToken(signal);
      const ctx: TokenCallContext = {
        what: `Exchanging the federated token for a Microsoft Entra ID token (client ${auth.clientId}, tenant ${auth.tenantId})`,
        hint: entraHint,
        secrets: [auth.systemAccessToken, oidcToken],
      };
      log(`Exchanging the federated token at Microsoft Entra ID for ${auth.clientId}`);
      return fetchAccessToken(
        url,
        form({
          grant_type: 'client_credentials',
          client_id: auth.clientId,
          scope: AZURE_DATABRICKS_SCOPE,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: oidcToken,
        }),
        { 'content-type': 'application/x-www-form-urlencoded' },
        ctx,
        signal,
      );
    },
    clock,
    WIF_MAX_TOKEN_AGE_MS,
  );
}

function databricksFederationProvider(auth: AuthOf<'databricksFederation'>, { deps, post, log, clock, fetchAccessToken }: ProviderEnv): TokenProvider {
  const requestOidcToken = adoOidcTokenRequester(auth, deps, post, log);
  const base = assertSecureUrl(deps.host, 'workspace URL');
  const url = new URL('/oidc/v1/token', base);
  const who = auth.clientId ? `service principal ${auth.clientId}` : 'an account-wide federation policy';
  return cachingTokenProvider(
    async (signal) => {
      const { token: oidcToken, claims } = await requestOidcToken(signal);
      const ctx: TokenCallContext = {
        what: `Exchanging the Azure DevOps token for a Databricks OAuth token (${who}) at ${base.host}`,
        hint: databricksFederationHint(auth.clientId, claims),
        secrets: [auth.systemAccessToken, oidcToken],
      };
      log(`Exchanging the Azure DevOps token at ${base.host} for a Databricks OAuth token (${who})`);
      // client_id is sent only for a service-principal policy: with it Databricks looks for a policy on
      // that service principal; without it, for an account-wide policy (docs/databricks-api-notes.md §8.3).
      const fields: Record<string, string> = {
        grant_type: TOKEN_EXCHANGE_GRANT,
        subject_token: oidcToken,
        subject_token_type: JWT_TOKEN_TYPE,
        scope: 'all-apis',
      };
      if (auth.clientId) fields.client_id = auth.clientId;
      return fetchAccessToken(url, form(fields), { 'content-type': 'application/x-www-form-urlencoded' }, ctx, signal);
    },
    clock,
    // The Azure DevOps token behind it lives ~10 minutes; re-exchange as often as the Entra path does.
    WIF_MAX_TOKEN_AGE_MS,
  );
}

/**
 * Returns a function that asks Azure DevOps for a fresh OIDC token for `source.serviceConnectionId`
 * (POST System.OidcRequestUri?api-version=7.1&serviceConnectionId=..., Bearer System.AccessToken) and masks
 * it before returning it with its decoded claims. Registers System.AccessToken with `setSecret` at once. Both
 * federation kinds use it.
 *
 * It logs what a trust policy must match: the token's `iss`, `sub` and `aud` claims (whenever they change;
 * the token itself never), and the service connection's issuer and subject parameters when present. Which
 * issuer the token carries depends on the connection: the Azure DevOps issuer
 * (https://vstoken.dev.azure.com/<organization id>, subject sc://<organization>/<project>/<connection>) or the
 * Microsoft Entra issuer (https://login.microsoftonline.com/<tenant id>/v2.0, subject generated by Azure
 * DevOps) that new connections use and existing ones are converted to ("Convert service connections to use
 * the Microsoft Entra issuer", learn.microsoft.com/azure/devops/pipelines/release/convert-service-connections:
 * it applies to "service connections created by extensions" too). Reading the claims from the token avoids
 * guessing which one.
 */
function adoOidcTokenRequester(
  source: AdoOidcSource,
  deps: TokenProviderDeps,
  post: PostOptions,
  log: (m: string) => void,
): (signal?: AbortSignal) => Promise<{ token: string; claims: OidcTokenClaims | undefined }> {
  deps.setSecret(source.systemAccessToken);
  const declared = [
    source.endpointIssuer ? `workloadIdentityFederationIssuer ${source.endpointIssuer}` : '',
    source.endpointSubject ? `workloadIdentityFederationSubject ${source.endpointSubject}` : '',
  ].filter(Boolean);
  if (declared.length) log(`Service connection ${source.serviceConnectionId} declares ${declared.join(', ')}`);
  let lastClaims = '';
  const oidcUrl = assertSecureUrl(source.oidcRequestUri, 'System.OidcRequestUri');
  oidcUrl.searchParams.set('api-version', ADO_OIDC_API_VERSION);
  oidcUrl.searchParams.set('serviceConnectionId', source.serviceConnectionId);
  const oidcCtx: TokenCallContext = {
    what: `Requesting an Azure DevOps federated token for service connection ${source.serviceConnectionId}`,
    hint: () => 'Check that this pipeline is authorized to use the service connection and that the job can access System.AccessToken.',
    secrets: [source.systemAccessToken],
  };
  return async (signal) => {
    log(`Requesting an Azure DevOps OIDC token for service connection ${source.serviceConnectionId}`);
    const o = await postForToken(
      oidcUrl,
      Buffer.from('{}'),
      { authorization: `Bearer ${source.systemAccessToken}`, 'content-type': 'application/json' },
      { ...post, signal },
      oidcCtx,
    );
    const oidcToken = o.oidcToken;
    if (typeof oidcToken !== 'string' || oidcToken === '') throw new Error(`${oidcCtx.what} returned no oidcToken.`);
    deps.setSecret(oidcToken);
    const claims = oidcTokenClaims(oidcToken);
    const described = claims ? `issuer ${claims.iss}, subject ${claims.sub}, audience ${claims.aud}` : 'claims that could not be read (not a JWT)';
    if (described !== lastClaims) {
      log(`The Azure DevOps OIDC token presents ${described}`);
      lastClaims = described;
    }
    return { token: oidcToken, claims };
  };
}

/**
 * What to check when Databricks refuses the exchange. Databricks answers an OAuth error body; which `error`
 * code it uses for "no policy matches" is not documented (the emulator assumes invalid_request), so every
 * refusal other than a scope or grant problem points at the federation policy.
 */
function databricksFederationHint(
  clientId: string | undefined,
  claims: OidcTokenClaims | undefined,
): (code: string, description: string, status: number) => string {
  return (code, _description, status) => {
    // Thrown only after the retries (and any Retry-After) ran out: a busy endpoint, not a policy problem.
    if (status === 429 || status >= 500) return 'The workspace token endpoint is overloaded or unavailable and retries ran out; run the pipeline again later.';
    if (code === 'invalid_scope') return 'The token must be requested with scope all-apis.';
    if (code === 'unsupported_grant_type')
      return 'This workspace does not accept OAuth token federation (token exchange); use another authentication scheme for the service connection.';
    const where = clientId
      ? `a federation policy on the Databricks service principal ${clientId} (the client id of the service connection)`
      : 'an account-wide federation policy (the service connection has no service principal client id)';
    const check = `check that ${clientId ? 'the service principal' : 'the identity it maps to'} can use this workspace.`;
    if (claims) {
      return (
        `Likely cause: no federation policy matches the Azure DevOps token, which presented issuer ${claims.iss}, subject ${claims.sub} and audience ${claims.aud}. ` +
        `Create ${where} with exactly this issuer, subject and audience, and ${check}`
      );
    }
    return (
      `Likely cause: no federation policy matches the Azure DevOps token. Create ${where} with the issuer and subject of the service connection ` +
      `(Microsoft Entra issuer https://login.microsoftonline.com/<tenant id>/v2.0 with the subject Azure DevOps shows, or Azure DevOps issuer ` +
      `https://vstoken.dev.azure.com/<organization id> with subject sc://<organization>/<project>/<service connection name>) and audience api://AzureADTokenExchange, and ${check}`
    );
  };
}

function entraTokenUrl(authorityHost: string, tenantId: string): URL {
  const base = assertSecureUrl(authorityHost, 'Microsoft Entra authority host');
  if (!/^[A-Za-z0-9.-]+$/.test(tenantId))
    throw new Error('The tenant id of the service connection contains characters that are not allowed in a tenant id or domain.');
  return new URL(`/${tenantId}/oauth2/v2.0/token`, base);
}

/** A personal access token provider (shorthand for `createTokenProvider({kind: 'pat', token}, ...)`). */
export function patTokenProvider(token: string, setSecret: (v: string) => void = () => undefined): TokenProvider {
  setSecret(token);
  return { getToken: async () => token };
}
