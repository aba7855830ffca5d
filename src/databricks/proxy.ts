/**
 * Turns the agent's proxy and certificate settings (a plain object, filled from task-lib by
 * src/pipeline/client.ts) into the Node agents and TLS options every request of this client uses.
 *
 * Requests through a proxy always use an HTTP CONNECT tunnel (https-proxy-agent), which is what corporate
 * proxies expect for https targets; TLS is then negotiated end to end with the workspace, so the proxy
 * never sees the Authorization header. http.ts hands these agents to axios as `httpAgent`/`httpsAgent`
 * with `proxy: false` (axios' own proxy support would forward, not tunnel, and reads proxy variables
 * from the environment).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import createHttpsProxyAgent from 'https-proxy-agent';

export interface ProxyConfig {
  /** e.g. `http://proxy.contoso.com:8080`; undefined for a direct connection. */
  proxyUrl?: string;
  proxyUsername?: string;
  proxyPassword?: string;
  /**
   * URLs that bypass the proxy: regular expressions matched case-insensitively against the full request
   * URL, as the agent's `.proxybypass` file and task-lib define them.
   */
  bypass?: string[];
  /**
   * Extra trusted CA certificates, PEM (the agent's `.ca` setting). The adapter reads the file
   * (src/pipeline/client.ts, `readCaCertificate`): the client reads no files of its own.
   */
  ca?: Buffer;
  /** Skip TLS certificate validation (the agent's `--sslskipcertvalidation`). Dangerous; only for the agent setting. */
  ignoreSslErrors?: boolean;
}

/** Connection settings for one request: the agent to use and TLS options to pass to it. */
export interface ConnectionOptions {
  agent: http.Agent;
  /** Whether the request goes through the proxy. */
  viaProxy: boolean;
  tls: { ca?: Buffer; rejectUnauthorized: boolean };
}

export interface Transport {
  /** The agent and TLS options for a URL (honouring the bypass list). */
  optionsFor(url: URL): ConnectionOptions;
  /** Closes pooled connections. */
  destroy(): void;
}

function matchesBypass(url: URL, bypass: string[] | undefined): boolean {
  if (!bypass?.length) return false;
  const full = url.toString();
  return bypass.some((pattern) => {
    const p = pattern.trim();
    if (!p) return false;
    try {
      return new RegExp(p, 'i').test(full);
    } catch {
      return url.hostname.toLowerCase() === p.toLowerCase();
    }
  });
}

/** Builds the transport; throws a clear error for a malformed proxy URL. */
export function createTransport(config: ProxyConfig = {}): Transport {
  const ca = config.ca;
  const rejectUnauthorized = !config.ignoreSslErrors;
  const tls = { ca, rejectUnauthorized };

  let proxyAgent: http.Agent | undefined;
  if (config.proxyUrl) {
    let proxy: URL;
    try {
      proxy = new URL(config.proxyUrl);
    } catch {
      throw new Error('The agent proxy URL is not a valid URL.');
    }
    if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:')
      throw new Error(`The agent proxy URL must be http or https (got ${proxy.protocol.replace(':', '')}).`);
    const user = config.proxyUsername ?? decodeURIComponent(proxy.username);
    const pass = config.proxyPassword ?? decodeURIComponent(proxy.password);
    const tunnel = createHttpsProxyAgent({
      protocol: proxy.protocol,
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      auth: user ? `${user}:${pass}` : undefined,
      ca,
      rejectUnauthorized,
    });
    // https-proxy-agent negotiates TLS with the workspace through the tunnel using the options of the
    // request. axios does not pass TLS options per request, so the agent's CA and validation setting are
    // supplied here, for the workspace's certificate as for the proxy's.
    const connect = tunnel.callback.bind(tunnel);
    tunnel.callback = (req, opts) => connect(req, { ...opts, ...(ca ? { ca } : {}), rejectUnauthorized } as typeof opts);
    proxyAgent = tunnel as unknown as http.Agent;
  }
  // No keep-alive: a pooled socket the server already closed fails the next request with ECONNRESET,
  // and a non-idempotent call cannot be retried after that. The tasks make few calls; a fresh
  // connection per request costs little.
  const httpAgent = new http.Agent({ keepAlive: false });
  const httpsAgent = new https.Agent({ keepAlive: false, ca, rejectUnauthorized });

  return {
    optionsFor(url: URL): ConnectionOptions {
      if (proxyAgent && !matchesBypass(url, config.bypass)) return { agent: proxyAgent, viaProxy: true, tls };
      return { agent: url.protocol === 'https:' ? httpsAgent : httpAgent, viaProxy: false, tls };
    },
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
      proxyAgent?.destroy();
    },
  };
}
