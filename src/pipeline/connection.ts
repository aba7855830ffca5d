/**
 * Turns the connection inputs shared by all three tasks into an `AuthConfig` (which credential to use
 * against which workspace). Reading the agent's endpoint variables happens here and nowhere else; the
 * token exchange itself lives in src/databricks/auth.ts.
 */
import * as tlInternal from 'azure-pipelines-task-lib/internal';
import * as tl from 'azure-pipelines-task-lib/task';
import { isLoopbackHost } from '../databricks/http';
import { InputError, Inputs } from './inputs';

// The credential union lives with the code that uses it (src/databricks/auth.ts); re-exported here so
// the adapter's callers keep importing it from the connection module.
import type { AuthConfig } from '../databricks/auth';
export type { AuthConfig };
export { AZURE_DATABRICKS_RESOURCE_ID, DEFAULT_ENTRA_AUTHORITY } from '../databricks/auth';
import { DEFAULT_ENTRA_AUTHORITY } from '../databricks/auth';

export interface ConnectionConfig {
  /** Workspace URL, https (or http on loopback), no trailing slash. */
  host: string;
  auth: AuthConfig;
  /** A name for logs: the connection id and scheme, never a credential. */
  description: string;
}

/** What the agent exposes about one service connection (task-lib's endpoint accessors). */
export interface EndpointSource {
  url(id: string): string | undefined;
  scheme(id: string): string | undefined;
  param(id: string, key: string): string | undefined;
  data(id: string, key: string): string | undefined;
  variable(name: string): string | undefined;
}

/**
 * The agent's endpoint values, read from the same places task-lib's accessors read them but without
 * their debug echo. In azure-pipelines-task-lib (node/task.ts, pinned to one exact version here):
 * `getEndpointUrl` reads `process.env['ENDPOINT_URL_' + id]` and then calls `debug(id + '=' + urlval)`,
 * which would write a URL with user info (refused below) to a `##vso[task.debug]` line the agent does not
 * mask; `getEndpointAuthorizationScheme` / `getEndpointAuthorizationParameter` read
 * `_vault.retrieveSecret('ENDPOINT_AUTH_SCHEME_' + id)` / `('ENDPOINT_AUTH_PARAMETER_' + id + '_' +
 * key.toUpperCase())` and echo the value (a client secret included) with `debug(id + ' auth param ' + key +
 * ' = ' + authParam)`; `getEndpointDataParameter` reads `process.env['ENDPOINT_DATA_' + id + '_' +
 * key.toUpperCase()]` and echoes it too. task-lib's `_loadData` (node/internal.ts) moves every
 * `ENDPOINT_AUTH_*` variable into the vault when it loads and leaves `ENDPOINT_URL_*` and `ENDPOINT_DATA_*`
 * in the environment. The foundation tests run every bundle, so a change in this surface fails loudly.
 */
export function taskLibEndpointSource(): EndpointSource {
  const env = (name: string) => process.env[name] || undefined;
  const vault = (name: string) => tlInternal._vault.retrieveSecret(name) || undefined;
  return {
    url: (id) => env(`ENDPOINT_URL_${id}`),
    scheme: (id) => vault(`ENDPOINT_AUTH_SCHEME_${id}`),
    param: (id, key) => vault(`ENDPOINT_AUTH_PARAMETER_${id}_${key.toUpperCase()}`),
    data: (id, key) => env(`ENDPOINT_DATA_${id}_${key.toUpperCase()}`),
    variable: (name) => tl.getVariable(name),
  };
}

/**
 * Validates a workspace URL: https only (http is allowed for loopback, which is how tests and the demo
 * reach the local emulator), no credentials, no path beyond `/`.
 */
export function normalizeWorkspaceUrl(raw: string, inputName: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new InputError(inputName, `${inputName} is not a valid URL. Use the workspace URL, e.g. https://adb-1234567890123456.7.azuredatabricks.net.`);
  }
  if (url.username || url.password) {
    throw new InputError(inputName, `${inputName} must not contain credentials; put them in the service connection.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new InputError(inputName, `${inputName} must use https (got ${url.protocol.replace(':', '')}); http is accepted only for a workspace on loopback.`);
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new InputError(inputName, `${inputName} must be the workspace root URL without a path (got path ${url.pathname}).`);
  }
  if (url.search || url.hash) {
    // A "?o=<workspace-id>" copied from the browser is harmless; drop it rather than fail.
    url.search = '';
    url.hash = '';
  }
  return `${url.protocol}//${url.host}`;
}

/** `input` is the input that names the connection: databricksConnection, or azureSubscription on the ARM path. */
function requiredParam(src: EndpointSource, id: string, key: string, what: string, input = 'databricksConnection'): string {
  const v = src.param(id, key);
  if (!v) throw new InputError(input, `The service connection (${input}) has no ${what} (${key}). Edit the service connection and fill it in.`);
  return v;
}

/**
 * System.OidcRequestUri and the job access token, which both federation schemes need to ask Azure DevOps
 * for the service connection's OIDC token; missing ones are reported against `inputName`.
 */
function adoOidcSource(src: EndpointSource, inputName: string): { oidcRequestUri: string; systemAccessToken: string } {
  const oidcRequestUri = src.variable('System.OidcRequestUri');
  if (!oidcRequestUri) {
    throw new InputError(
      inputName,
      'System.OidcRequestUri is not set for this job: Azure DevOps (the server, not the agent) provides it to jobs that may request OIDC tokens, and workload identity federation needs it. Run the pipeline in Azure DevOps Services, or use a connection with a secret.',
    );
  }
  const systemAccessToken = src.param('SystemVssConnection', 'AccessToken');
  if (!systemAccessToken) throw new InputError(inputName, 'The job access token (System.AccessToken) is not available to this task.');
  return { oidcRequestUri, systemAccessToken };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function authorityFrom(raw: string | undefined): string {
  const v = (raw ?? '').trim() || DEFAULT_ENTRA_AUTHORITY;
  return normalizeWorkspaceUrl(v, 'authorityHost');
}

/** Reads connectionType, databricksConnection, azureSubscription and workspaceUrl. */
export function readConnection(inputs: Inputs, src: EndpointSource): ConnectionConfig {
  const type = inputs.oneOf('connectionType', ['databricks', 'azureResourceManager'] as const, 'databricks');
  return type === 'databricks' ? readDatabricksConnection(inputs, src) : readArmConnection(inputs, src);
}

/** A connection of this extension's own type (databricksConnection): PAT, Databricks OAuth, Entra secret or federation. */
function readDatabricksConnection(inputs: Inputs, src: EndpointSource): ConnectionConfig {
  const id = inputs.required('databricksConnection', 'the Databricks service connection');
  const url = src.url(id);
  if (!url)
    throw new InputError(
      'databricksConnection',
      `Service connection ${id} (databricksConnection) was not found or has no URL. Check that the pipeline is authorized to use it.`,
    );
  const host = normalizeWorkspaceUrl(url, 'databricksConnection');
  const scheme = (src.scheme(id) ?? '').toLowerCase();
  if (scheme === 'token') {
    return { host, auth: { kind: 'pat', token: requiredParam(src, id, 'apitoken', 'personal access token') }, description: `${id} (personal access token)` };
  }
  if (scheme === 'none') {
    return {
      host,
      auth: {
        kind: 'databricksOAuth',
        clientId: requiredParam(src, id, 'clientId', 'client id'),
        clientSecret: requiredParam(src, id, 'clientSecret', 'OAuth secret'),
      },
      description: `${id} (Databricks OAuth machine-to-machine)`,
    };
  }
  if (scheme === 'serviceprincipal') {
    return {
      host,
      auth: {
        kind: 'entraClientSecret',
        tenantId: requiredParam(src, id, 'tenantId', 'tenant id'),
        clientId: requiredParam(src, id, 'clientId', 'client id'),
        clientSecret: requiredParam(src, id, 'clientSecret', 'client secret'),
        authorityHost: authorityFrom(src.data(id, 'authorityHost')),
      },
      description: `${id} (Microsoft Entra ID service principal)`,
    };
  }
  // ms.vss-endpoint.endpoint-auth-scheme-workload-identity-federation. The agent passes the scheme's
  // EndpointAuthorizationSchemes name, "WorkloadIdentityFederation": that constant is in the decompiled
  // Azure DevOps Server 2022 WebApi and is what Azure Resource Manager connections of this kind show
  // (docs/databricks-api-notes.md §8.3). That a custom endpoint type with this scheme reports the same string is inferred
  // from the other schemes (service-principal -> ServicePrincipal), NOT confirmed in a real organisation.
  if (scheme === 'workloadidentityfederation') return readDatabricksFederation(src, id, host);
  throw new InputError(
    'databricksConnection',
    `Service connection ${id} (databricksConnection) uses an authentication scheme this task does not support (${scheme || 'none given'}).`,
  );
}

/** Databricks OAuth token federation with the Azure DevOps OIDC token of the connection `id`. */
function readDatabricksFederation(src: EndpointSource, id: string, host: string): ConnectionConfig {
  // clientId is this type's own input; serviceprincipalid is the server's parameter for federated
  // connections (the AzureRM type's "Application (client) ID"), filled when the connection was set up that way.
  const clientId = src.param(id, 'clientId')?.trim() || src.param(id, 'serviceprincipalid')?.trim() || '';
  if (clientId && !GUID.test(clientId)) {
    throw new InputError(
      'databricksConnection',
      `The service connection's service principal client id is not an application id (a GUID such as 0b8e3f1a-4c2d-4e5f-8a9b-1c2d3e4f5a6b). Edit the service connection: use the Databricks service principal's application id, or leave it empty for an account-wide federation policy.`,
    );
  }
  const ado = adoOidcSource(src, 'databricksConnection');
  const endpointIssuer = src.param(id, 'workloadIdentityFederationIssuer')?.trim();
  const endpointSubject = src.param(id, 'workloadIdentityFederationSubject')?.trim();
  return {
    host,
    auth: {
      kind: 'databricksFederation',
      ...(clientId ? { clientId } : {}),
      serviceConnectionId: id,
      ...ado,
      ...(endpointIssuer ? { endpointIssuer } : {}),
      ...(endpointSubject ? { endpointSubject } : {}),
    },
    description: `${id} (Databricks OAuth token federation, ${clientId ? `service principal ${clientId}` : 'account-wide policy'})`,
  };
}

/** An Azure Resource Manager connection (azureSubscription) plus workspaceUrl: federation or a client secret. */
function readArmConnection(inputs: Inputs, src: EndpointSource): ConnectionConfig {
  const id = inputs.required('azureSubscription', 'an Azure Resource Manager service connection');
  const host = normalizeWorkspaceUrl(
    inputs.required('workspaceUrl', 'the Databricks workspace URL, required with an Azure Resource Manager connection'),
    'workspaceUrl',
  );
  const scheme = (src.scheme(id) ?? '').toLowerCase();
  const tenantId = requiredParam(src, id, 'tenantid', 'tenant id', 'azureSubscription');
  const clientId = requiredParam(src, id, 'serviceprincipalid', 'service principal id', 'azureSubscription');
  const authorityHost = authorityFrom(src.data(id, 'activeDirectoryAuthority'));
  if (scheme === 'workloadidentityfederation') {
    const { oidcRequestUri, systemAccessToken } = adoOidcSource(src, 'azureSubscription');
    return {
      host,
      auth: { kind: 'workloadIdentityFederation', tenantId, clientId, authorityHost, serviceConnectionId: id, oidcRequestUri, systemAccessToken },
      description: `${id} (Azure Resource Manager, workload identity federation)`,
    };
  }
  if (scheme === 'serviceprincipal') {
    const authType = (src.param(id, 'authenticationType') ?? 'spnKey').toLowerCase();
    if (authType !== 'spnkey') {
      throw new InputError(
        'azureSubscription',
        'Azure Resource Manager connections with a certificate are not supported; use workload identity federation or a client secret.',
      );
    }
    return {
      host,
      auth: {
        kind: 'entraClientSecret',
        tenantId,
        clientId,
        clientSecret: requiredParam(src, id, 'serviceprincipalkey', 'client secret', 'azureSubscription'),
        authorityHost,
      },
      description: `${id} (Azure Resource Manager, service principal)`,
    };
  }
  throw new InputError(
    'azureSubscription',
    `Azure Resource Manager connection ${id} uses scheme ${scheme || 'none'}; use workload identity federation or a service principal with a secret.`,
  );
}
