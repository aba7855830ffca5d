/**
 * Connects a task to its workspace: reads the connection inputs, registers the static secrets with the
 * agent's masker, and builds the token provider and API client with the agent's proxy and CA settings.
 */
import { readFileSync } from 'node:fs';
import * as tl from 'azure-pipelines-task-lib/task';
import { createTokenProvider } from '../databricks/auth';
import type { Clock } from '../databricks/clock';
import type { ApiClient } from '../databricks/contracts';
import { createApiClient, userAgent } from '../databricks/http';
import { version as extensionVersion } from '../../package.json';
import { createTransport, ProxyConfig, Transport } from '../databricks/proxy';
import { ConnectionConfig, readConnection, taskLibEndpointSource, EndpointSource } from './connection';
import type { TaskHost } from './host';
import type { Inputs } from './inputs';

/** What the agent says about proxies and certificates, as task-lib exposes it. */
export interface AgentNetworkSettings {
  proxy(url: string): { proxyUrl: string; proxyUsername?: string; proxyPassword?: string; proxyBypassHosts?: string[] } | null | undefined;
  cert(): { caFile?: string } | null | undefined;
  /** The agent was configured with --sslskipcertvalidation. */
  skipCertValidation(): boolean;
}

export function taskLibNetworkSettings(): AgentNetworkSettings {
  return {
    proxy: (url) => tl.getHttpProxyConfiguration(url),
    cert: () => tl.getHttpCertConfiguration(),
    skipCertValidation: () => (tl.getVariable('Agent.SkipCertValidation') ?? '').toLowerCase() === 'true',
  };
}

/** The client's proxy config plus the agent's CA file, which the adapter reads ({@link agentTransport}). */
export interface AgentProxyConfig extends Omit<ProxyConfig, 'ca'> {
  /** PEM file with extra trusted CA certificates (the agent's `.ca` setting). */
  caCertPath?: string;
}

/** Maps the agent's settings for `url` to a plain proxy config. */
export function proxyConfigFor(url: string, net: AgentNetworkSettings): AgentProxyConfig {
  const p = net.proxy(url);
  const c = net.cert();
  return {
    proxyUrl: p?.proxyUrl || undefined,
    proxyUsername: p?.proxyUsername || undefined,
    proxyPassword: p?.proxyPassword || undefined,
    bypass: p?.proxyBypassHosts ?? [],
    caCertPath: c?.caFile || undefined,
    ignoreSslErrors: net.skipCertValidation(),
  };
}

/** Reads the agent's CA certificate file; a clear error when it cannot (the client itself reads no files). */
export function readCaCertificate(caCertPath: string): Buffer {
  try {
    return readFileSync(caCertPath);
  } catch (e) {
    throw new Error(`The agent's CA certificate file ${caCertPath} could not be read (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
}

/** The client's transport for the agent's proxy settings, with the CA file read here. */
export function agentTransport(config: AgentProxyConfig): Transport {
  const { caCertPath, ...proxy } = config;
  return createTransport({ ...proxy, ca: caCertPath ? readCaCertificate(caCertPath) : undefined });
}

export interface ConnectOptions {
  taskName?: string;
  /** Defaults to the agent's endpoint variables through task-lib. */
  endpoints?: EndpointSource;
  /** Defaults to task-lib's proxy/cert configuration. */
  network?: AgentNetworkSettings;
  clock?: Clock;
  timeoutMs?: number;
}

/** Reads the connection inputs and returns a ready API client. Throws InputError for bad connection inputs. */
export function connectFromInputs(inputs: Inputs, host: TaskHost, opts: ConnectOptions = {}): { api: ApiClient; connection: ConnectionConfig } {
  const connection = readConnection(inputs, opts.endpoints ?? taskLibEndpointSource());
  const auth = connection.auth;
  // Mask static secrets before anything can print them (the token provider registers them again; harmless).
  if (auth.kind === 'pat') host.setSecret(auth.token);
  if (auth.kind === 'databricksOAuth' || auth.kind === 'entraClientSecret') host.setSecret(auth.clientSecret);
  if (auth.kind === 'workloadIdentityFederation') host.setSecret(auth.systemAccessToken);

  const net = opts.network ?? taskLibNetworkSettings();
  const proxy = proxyConfigFor(connection.host, net);
  if (proxy.proxyPassword) host.setSecret(proxy.proxyPassword);
  const transport = agentTransport(proxy);
  const log = (m: string) => host.log.debug(m);
  const tokenProvider = createTokenProvider(auth, {
    host: connection.host,
    setSecret: (v) => host.setSecret(v),
    clock: opts.clock,
    transport,
    timeoutMs: opts.timeoutMs,
    log,
    userAgent: userAgent(undefined, extensionVersion),
  });
  const api = createApiClient({
    host: connection.host,
    tokenProvider,
    clock: opts.clock,
    transport,
    userAgent: userAgent(opts.taskName, extensionVersion),
    timeoutMs: opts.timeoutMs,
    log,
  });
  return { api, connection };
}
