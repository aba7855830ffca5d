/**
 * The emulator's identity side: which credentials the workspace accepts, the token endpoints that issue
 * access tokens (Databricks OAuth M2M and token federation, Microsoft Entra ID, the Azure DevOps OIDC
 * request endpoint used by workload identity federation), and the bearer check every API route runs.
 *
 * Issued tokens expire in emulated time, so tests force a refresh with `clock.advance()`.
 */
import { randomBytes } from 'node:crypto';
import { ApiFault, EmulatorRequest, EmulatorResponse, Router } from './contracts';
import type { EmulatorClock } from './clock';

export const AZURE_DATABRICKS_SCOPE = '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default';
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
/** Claims of the Azure DevOps OIDC tokens this emulator issues (the shapes public setup scripts show). */
export const ADO_OIDC_ISSUER = 'https://vstoken.dev.azure.com/00000000-0000-0000-0000-000000000000';
export const ADO_OIDC_AUDIENCE = 'api://AzureADTokenExchange';
export function adoOidcSubject(serviceConnectionId: string): string {
  return `sc://contoso/mlops/${serviceConnectionId}`;
}

/**
 * A Databricks OAuth token federation policy: which external tokens `/oidc/v1/token` exchanges.
 * With `clientId`, a service-principal policy (the request must send that client_id, and the token acts as
 * `sp:<clientId>`, the same principal as OAuth M2M); without, an account-wide policy (the request sends no
 * client_id; the token acts as `federated:<subject>`).
 */
export interface FederationPolicy {
  clientId?: string;
  issuer: string;
  subject: string;
  audience: string;
}

export interface EntraApp {
  tenantId: string;
  clientId: string;
  /** Accepted client secret; absent when the app only trusts federated credentials. */
  clientSecret?: string;
  /** Azure DevOps service connection ids whose OIDC tokens this app trusts (federated credentials). */
  federatedServiceConnectionIds?: string[];
}

export interface EmulatorSecrets {
  /** Accepted personal access tokens: token -> principal name. */
  pats?: Record<string, string>;
  /** Databricks OAuth service principals: client id -> secret. */
  databricksOAuthClients?: Record<string, string>;
  entraApps?: EntraApp[];
  /** Azure DevOps System.AccessToken values the OIDC request endpoint accepts. */
  systemAccessTokens?: string[];
  /**
   * Databricks OAuth token federation policies; default: one service-principal policy for the default
   * Databricks client id trusting the default service connection's Azure DevOps tokens.
   */
  federationPolicies?: FederationPolicy[];
  /** Lifetime of issued access tokens (s); default 3600. */
  accessTokenLifetimeSeconds?: number;
  /** Lifetime of Azure DevOps OIDC tokens (s); default 600, as Azure DevOps issues them. */
  oidcTokenLifetimeSeconds?: number;
}

/** The credentials an emulator accepts when the test does not say otherwise. */
export const EMULATOR_DEFAULTS = {
  pat: 'dapi-emulator-pat',
  patPrincipal: 'emulator-user@example.com',
  databricksClientId: '0b8e3f1a-4c2d-4e5f-8a9b-1c2d3e4f5a6b',
  databricksClientSecret: 'dose-emulator-oauth-secret-0001',
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  entraClientId: '11111111-2222-4333-8444-555555555555',
  entraClientSecret: 'entra-emulator-client-secret~0001',
  serviceConnectionId: '3c1e9a50-7f6b-4d1c-9b0e-5a2c4f8e6d10',
  systemAccessToken: 'ado-emulator-system-access-token-0001',
} as const;

export function defaultSecrets(): Required<EmulatorSecrets> {
  const d = EMULATOR_DEFAULTS;
  return {
    pats: { [d.pat]: d.patPrincipal },
    databricksOAuthClients: { [d.databricksClientId]: d.databricksClientSecret },
    entraApps: [{ tenantId: d.tenantId, clientId: d.entraClientId, clientSecret: d.entraClientSecret, federatedServiceConnectionIds: [d.serviceConnectionId] }],
    systemAccessTokens: [d.systemAccessToken],
    federationPolicies: [
      { clientId: d.databricksClientId, issuer: ADO_OIDC_ISSUER, subject: adoOidcSubject(d.serviceConnectionId), audience: ADO_OIDC_AUDIENCE },
    ],
    accessTokenLifetimeSeconds: 3600,
    oidcTokenLifetimeSeconds: 600,
  };
}

export type IssuedKind = 'databricksOAuth' | 'databricksFederation' | 'entra' | 'adoOidc';

/** What the emulator issued (never the token value), for assertions like "refreshed twice". */
export interface IssuedRecord {
  kind: IssuedKind;
  principal: string;
  issuedAt: number;
  expiresAt: number;
  /** For Entra tokens: how the client authenticated. */
  via?: 'secret' | 'assertion';
}

interface Issued {
  principal: string;
  expiresAt: number;
  serviceConnectionId?: string;
  /** For Azure DevOps OIDC tokens: the claims a federation policy is matched against. */
  claims?: { iss: string; sub: string; aud: string };
}

function b64url(v: string | Buffer): string {
  return Buffer.from(v).toString('base64url');
}

/** A JWT-shaped string (not signed with anything meaningful): clients must treat tokens as opaque. */
export function fakeJwt(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'emulator' }))}.${b64url(JSON.stringify(claims))}.${b64url(randomBytes(32))}`;
}

function oauthError(status: number, error: string, description: string): EmulatorResponse {
  return { status, body: { error, error_description: description, error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)].filter(Boolean) } };
}

export class EmulatorAuth {
  readonly secrets: Required<EmulatorSecrets>;
  readonly issued: IssuedRecord[] = [];
  private readonly tokens = new Map<string, Issued>();
  private readonly oidcTokens = new Map<string, Issued>();

  constructor(
    secrets: EmulatorSecrets | undefined,
    private readonly clock: EmulatorClock,
  ) {
    const d = defaultSecrets();
    this.secrets = {
      pats: secrets?.pats ?? d.pats,
      databricksOAuthClients: secrets?.databricksOAuthClients ?? d.databricksOAuthClients,
      entraApps: secrets?.entraApps ?? d.entraApps,
      systemAccessTokens: secrets?.systemAccessTokens ?? d.systemAccessTokens,
      federationPolicies: secrets?.federationPolicies ?? d.federationPolicies,
      accessTokenLifetimeSeconds: secrets?.accessTokenLifetimeSeconds ?? d.accessTokenLifetimeSeconds,
      oidcTokenLifetimeSeconds: secrets?.oidcTokenLifetimeSeconds ?? d.oidcTokenLifetimeSeconds,
    };
  }

  /** Changes the lifetime of tokens issued from now on (seconds). */
  setAccessTokenLifetime(seconds: number): void {
    this.secrets.accessTokenLifetimeSeconds = seconds;
  }

  /** Forgets every issued access token, so the next API call with one gets 403. */
  revokeIssuedTokens(): void {
    this.tokens.clear();
  }

  /**
   * The bearer check for API routes: returns the principal, or throws the gateway's errors
   * (401 numeric code with no/unsupported credentials, 403 with a wrong or expired token).
   */
  authenticate(authorization: string | undefined): string {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) throw new ApiFault(401, 401, 'Credential was not sent or was of an unsupported type for this API.');
    const token = m[1];
    const pat = this.secrets.pats[token];
    if (pat !== undefined) return pat;
    const issued = this.tokens.get(token);
    if (issued && issued.expiresAt > this.clock.now()) return issued.principal;
    throw new ApiFault(403, 403, 'Invalid access token.');
  }

  private issue(kind: IssuedKind, principal: string, via?: 'secret' | 'assertion'): { token: string; expiresIn: number } {
    const now = this.clock.now();
    const expiresIn = this.secrets.accessTokenLifetimeSeconds;
    const token =
      kind === 'databricksOAuth' || kind === 'databricksFederation'
        ? `dose${randomBytes(24).toString('hex')}`
        : fakeJwt({
            aud: '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d',
            sub: principal,
            iat: Math.floor(now / 1000),
            exp: Math.floor(now / 1000) + expiresIn,
            jti: randomBytes(8).toString('hex'),
          });
    this.tokens.set(token, { principal, expiresAt: now + expiresIn * 1000 });
    this.issued.push({ kind, principal, issuedAt: now, expiresAt: now + expiresIn * 1000, via });
    return { token, expiresIn };
  }

  /** Registers the token endpoints (no bearer auth on them). */
  install(router: Router): void {
    router.add('POST', '/oidc/v1/token', (req) => this.databricksToken(req), { auth: false });
    router.add('POST', '/:tenant/oauth2/v2.0/token', (req) => this.entraToken(req), { auth: false });
    const oidc = (req: EmulatorRequest) => this.adoOidcToken(req);
    router.add('POST', '/_apis/distributedtask/hubs/:hub/plans/:plan/jobs/:job/oidctoken', oidc, { auth: false });
    router.add('POST', '/:project/_apis/distributedtask/hubs/:hub/plans/:plan/jobs/:job/oidctoken', oidc, { auth: false });
    router.add('POST', '/:org/:project/_apis/distributedtask/hubs/:hub/plans/:plan/jobs/:job/oidctoken', oidc, { auth: false });
  }

  private databricksToken(req: EmulatorRequest): EmulatorResponse {
    const form = (req.body ?? {}) as Record<string, string>;
    let clientId = form.client_id;
    let secret = form.client_secret;
    const basic = /^Basic\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      clientId = decodeURIComponent(decoded.slice(0, i));
      secret = decodeURIComponent(decoded.slice(i + 1));
    }
    if (form.grant_type === TOKEN_EXCHANGE_GRANT && !basic) return this.federationExchange(form);
    if (form.grant_type !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', `Unsupported grant_type '${form.grant_type ?? ''}'.`);
    if (!clientId || !secret || this.secrets.databricksOAuthClients[clientId] !== secret) {
      return oauthError(401, 'invalid_client', 'Client authentication failed');
    }
    if (form.scope !== 'all-apis') return oauthError(400, 'invalid_scope', `Invalid scope '${form.scope ?? ''}'; expected all-apis.`);
    const { token, expiresIn } = this.issue('databricksOAuth', `sp:${clientId}`);
    return { body: { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: 'all-apis' } };
  }

  /**
   * Databricks OAuth token federation (RFC 8693 token exchange). The subject token must be an Azure DevOps
   * OIDC token this emulator issued and has not expired, and a federation policy must match its issuer,
   * subject and audience for the requested client_id (or account-wide without one).
   *
   * ASSUMPTION (not documented by Databricks, not observed): every refusal is HTTP 400
   * {"error":"invalid_request","error_description":...} with the descriptions below; the real wording differs.
   */
  private federationExchange(form: Record<string, string>): EmulatorResponse {
    if (form.subject_token_type !== JWT_TOKEN_TYPE) {
      return oauthError(400, 'invalid_request', `Unsupported subject_token_type '${form.subject_token_type ?? ''}'; expected ${JWT_TOKEN_TYPE}.`);
    }
    if (form.scope !== 'all-apis') return oauthError(400, 'invalid_scope', `Invalid scope '${form.scope ?? ''}'; expected all-apis.`);
    const oidc = form.subject_token ? this.oidcTokens.get(form.subject_token) : undefined;
    if (!oidc?.claims) return oauthError(400, 'invalid_request', 'The subject token is not a valid JWT from a trusted issuer.');
    if (oidc.expiresAt <= this.clock.now()) return oauthError(400, 'invalid_request', 'The subject token has expired.');
    const clientId = form.client_id || undefined;
    const { iss, sub, aud } = oidc.claims;
    const policy = this.secrets.federationPolicies.find((p) => p.clientId === clientId && p.issuer === iss && p.subject === sub && p.audience === aud);
    if (!policy) {
      return oauthError(
        400,
        'invalid_request',
        `No federation policy${clientId ? ` for service principal ${clientId}` : ' for the account'} matches the token (issuer ${iss}, subject ${sub}, audience ${aud}).`,
      );
    }
    const { token, expiresIn } = this.issue('databricksFederation', clientId ? `sp:${clientId}` : `federated:${sub}`);
    return { body: { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: 'all-apis' } };
  }

  private entraToken(req: EmulatorRequest): EmulatorResponse {
    const tenant = req.params.tenant;
    const form = (req.body ?? {}) as Record<string, string>;
    const apps = this.secrets.entraApps.filter((a) => a.tenantId === tenant);
    if (apps.length === 0) {
      return oauthError(
        400,
        'invalid_request',
        `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    if (form.grant_type !== 'client_credentials')
      return oauthError(400, 'unsupported_grant_type', `AADSTS70003: The app requested an unsupported grant type '${form.grant_type ?? ''}'.`);
    const app = apps.find((a) => a.clientId === form.client_id);
    if (!app) {
      return oauthError(
        400,
        'unauthorized_client',
        `AADSTS700016: Application with identifier '${form.client_id ?? ''}' was not found in the directory '${tenant}'.`,
      );
    }
    if (form.scope !== AZURE_DATABRICKS_SCOPE) {
      return oauthError(
        400,
        'invalid_scope',
        `AADSTS70011: The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${form.scope ?? ''} is not valid.`,
      );
    }
    let via: 'secret' | 'assertion';
    if (form.client_secret !== undefined) {
      if (!app.clientSecret || form.client_secret !== app.clientSecret) {
        return oauthError(
          401,
          'invalid_client',
          `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
        );
      }
      via = 'secret';
    } else if (form.client_assertion !== undefined) {
      if (form.client_assertion_type !== JWT_BEARER_ASSERTION) {
        return oauthError(400, 'invalid_request', `AADSTS50027: Invalid client_assertion_type '${form.client_assertion_type ?? ''}'.`);
      }
      const oidc = this.oidcTokens.get(form.client_assertion);
      if (!oidc) return oauthError(400, 'invalid_client', 'AADSTS700211: No matching federated identity record found for presented assertion issuer.');
      if (oidc.expiresAt <= this.clock.now()) return oauthError(400, 'invalid_client', 'AADSTS700024: Client assertion is not within its valid time range.');
      if (!app.federatedServiceConnectionIds?.includes(oidc.serviceConnectionId ?? '')) {
        return oauthError(
          400,
          'invalid_client',
          `AADSTS700213: No matching federated identity record found for presented assertion subject '${oidc.principal}'.`,
        );
      }
      via = 'assertion';
    } else {
      return oauthError(400, 'invalid_client', "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    const { token, expiresIn } = this.issue('entra', `entra:${app.clientId}`, via);
    return { body: { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token } };
  }

  private adoOidcToken(req: EmulatorRequest): EmulatorResponse {
    const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    if (!m || !this.secrets.systemAccessTokens.includes(m[1])) {
      return {
        status: 401,
        body: {
          $id: '1',
          innerException: null,
          message: 'TF400813: The user is not authorized to access this resource.',
          typeName: 'Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException',
          typeKey: 'UnauthorizedRequestException',
          errorCode: 0,
          eventId: 3000,
        },
      };
    }
    const apiVersion = String(req.query['api-version'] ?? '');
    const serviceConnectionId = String(req.query.serviceConnectionId ?? '');
    if (!apiVersion.startsWith('7.')) {
      return { status: 400, body: { message: `The api-version '${apiVersion}' is not supported for this request.`, typeKey: 'VssVersionOutOfRangeException' } };
    }
    if (!/^[0-9a-f-]{36}$/i.test(serviceConnectionId)) {
      return { status: 400, body: { message: 'The serviceConnectionId query parameter is missing or not a GUID.', typeKey: 'ArgumentException' } };
    }
    const now = this.clock.now();
    const lifetime = this.secrets.oidcTokenLifetimeSeconds;
    const subject = adoOidcSubject(serviceConnectionId);
    const oidcToken = fakeJwt({
      iss: ADO_OIDC_ISSUER,
      sub: subject,
      aud: ADO_OIDC_AUDIENCE,
      iat: Math.floor(now / 1000),
      exp: Math.floor(now / 1000) + lifetime,
      jti: randomBytes(8).toString('hex'),
    });
    this.oidcTokens.set(oidcToken, {
      principal: subject,
      expiresAt: now + lifetime * 1000,
      serviceConnectionId,
      claims: { iss: ADO_OIDC_ISSUER, sub: subject, aud: ADO_OIDC_AUDIENCE },
    });
    this.issued.push({ kind: 'adoOidc', principal: subject, issuedAt: now, expiresAt: now + lifetime * 1000 });
    return { body: { oidcToken } };
  }
}

/** Form fields the request log must never keep (token endpoint credentials). */
export const SECRET_FORM_FIELDS = ['client_secret', 'client_assertion', 'assertion', 'subject_token', 'password', 'refresh_token'];
