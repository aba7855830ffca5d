/**
 * The emulator's HTTP server: routing, body parsing, the bearer check, fault injection, error bodies in
 * the Databricks shape, and the request log tests assert against.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiFault, EmulatorRequest, EmulatorResponse, RequestLogEntry, RouteHandler, Router } from './contracts';
import { EmulatorAuth, SECRET_FORM_FIELDS } from './auth';
import type { EmulatorClock } from './clock';
import { Fault, FaultRegistry, faultErrorBody, SIGN_IN_PAGE_HTML } from './faults';

interface Route {
  method: string;
  pattern: string;
  segments: string[];
  literalCount: number;
  handler: RouteHandler;
  auth: boolean;
}

/**
 * Path router. Patterns are split on `/`; a `:name` segment captures one decoded segment, a final
 * `*name` captures the rest of the path (one or more segments, decoded, joined with `/`, without a
 * leading slash). When several routes match, the one with the most literal segments wins.
 */
export class EmulatorRouter implements Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: RouteHandler, opts?: { auth?: boolean }): void {
    if (!pattern.startsWith('/')) throw new Error(`Route pattern must start with "/": ${pattern}`);
    const segments = pattern.split('/').slice(1);
    const wildcard = segments.findIndex((s) => s.startsWith('*'));
    if (wildcard !== -1 && wildcard !== segments.length - 1) throw new Error(`A *rest segment must be last: ${pattern}`);
    this.routes.push({
      method: method.toUpperCase(),
      pattern,
      segments,
      literalCount: segments.filter((s) => !s.startsWith(':') && !s.startsWith('*')).length,
      handler,
      auth: opts?.auth ?? true,
    });
  }

  /** Every route as `{method, pattern}` (the contract test checks each against the official references). */
  list(): Array<{ method: string; pattern: string }> {
    return this.routes.map((r) => ({ method: r.method, pattern: r.pattern }));
  }

  /** The best route for a request, or undefined. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    const parts = path.split('/').slice(1);
    let best: { route: Route; params: Record<string, string> } | undefined;
    for (const route of this.routes) {
      if (route.method !== method.toUpperCase()) continue;
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (!best || route.literalCount > best.route.literalCount) best = { route, params };
    }
    return best;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith('*')) {
      const rest = parts.slice(i);
      if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) return undefined;
      params[p.slice(1)] = rest.map(safeDecode).join('/');
      return params;
    }
    if (i >= parts.length) return undefined;
    if (p.startsWith(':')) {
      if (parts[i] === '') return undefined;
      params[p.slice(1)] = safeDecode(parts[i]);
    } else if (p !== parts[i]) return undefined;
  }
  return pattern.length === parts.length ? params : undefined;
}

/**
 * POSTs that only read (MLflow search and the like): excluded from `writes()`, so "no remote write"
 * assertions do not trip on them. Any other non-GET/HEAD request to `/api/` counts as a write attempt,
 * whatever its status.
 */
export const READ_ONLY_POST_PATHS: readonly string[] = [
  '/api/2.0/mlflow/runs/search',
  '/api/2.0/mlflow/experiments/search',
  '/api/2.0/mlflow/registered-models/search',
  '/api/2.0/mlflow/registered-models/get-latest-versions',
  '/api/2.0/mlflow/databricks/registered-models/get-latest-versions',
  '/api/2.0/mlflow/model-versions/search',
  '/api/2.0/mlflow/artifacts/credentials-for-read',
  '/api/2.0/mlflow/logged-models/search',
  '/api/2.0/mlflow/unity-catalog/registered-models/search',
  '/api/2.0/mlflow/unity-catalog/model-versions/search',
];

export function isWrite(entry: Pick<RequestLogEntry, 'method' | 'path'>): boolean {
  const m = entry.method.toUpperCase();
  if (m === 'GET' || m === 'HEAD' || m === 'OPTIONS') return false;
  if (!entry.path.startsWith('/api/')) return false;
  return !READ_ONLY_POST_PATHS.includes(entry.path);
}

/** Request headers safe to keep in the log (credentials removed). */
function safeHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    if (/^(authorization|proxy-authorization|cookie)$/i.test(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function redactForm(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const k of SECRET_FORM_FIELDS) if (k in copy) copy[k] = '***';
  return copy;
}

function parseQuery(url: URL): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The log entry type with the extra fields the core records (all optional in the contract). */
export type LoggedRequest = RequestLogEntry;

export interface ServerOptions {
  router: EmulatorRouter;
  auth: EmulatorAuth;
  faults: FaultRegistry;
  clock: EmulatorClock;
  workspaceId: string;
  requests: RequestLogEntry[];
}

/** One request being answered: what the handlers and the log need, and how to write the answer. */
interface Exchange {
  req: http.IncomingMessage;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  rawBody: Buffer;
  entry: RequestLogEntry;
  send: (r: EmulatorResponse, truncate?: boolean) => void;
}

/** The bytes of a response body and the content type they get when the handler set none. */
function encodePayload(body: unknown): { payload: Buffer; contentType?: string } {
  if (body === undefined) return { payload: Buffer.alloc(0) };
  if (Buffer.isBuffer(body)) return { payload: body, contentType: 'application/octet-stream' };
  if (typeof body === 'string') return { payload: Buffer.from(body, 'utf8'), contentType: 'text/plain; charset=utf-8' };
  return { payload: Buffer.from(JSON.stringify(body), 'utf8'), contentType: 'application/json' };
}

/** Writes a response (recording its status), or a truncated one: what a dropped download looks like. */
function sender(res: http.ServerResponse, entry: RequestLogEntry, baseHeaders: Record<string, string>): Exchange['send'] {
  return (r, truncate = false) => {
    const status = r.status ?? 200;
    const headers: Record<string, string> = { ...baseHeaders, ...(r.headers ?? {}) };
    const { payload, contentType } = encodePayload(r.body);
    if (contentType) headers['content-type'] ??= contentType;
    entry.status = status;
    if (entry.method === 'HEAD') {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    if (truncate) {
      // Announce more than we send, then cut the connection.
      headers['content-length'] = String(payload.length + Math.max(16, payload.length));
      res.writeHead(status, headers);
      res.write(payload.subarray(0, Math.floor(payload.length / 2)), () => res.destroy());
      return;
    }
    headers['content-length'] = String(payload.length);
    res.writeHead(status, headers);
    res.end(payload);
  };
}

function sendFault(x: Exchange, e: ApiFault): void {
  const headers: Record<string, string> = {};
  if (e.status === 403 && e.errorCode === 403) headers['x-databricks-reason-phrase'] = e.message;
  x.send({ status: e.status, body: { error_code: e.errorCode, message: e.message }, headers });
}

/** The parsed body: a form, JSON (by content type, or by its first bytes unless octet-stream), or none; 'malformed' for bad JSON. */
function parseBody(rawBody: Buffer, contentType: string): { body?: unknown } | 'malformed' {
  if (rawBody.length === 0) return {};
  if (/application\/x-www-form-urlencoded/i.test(contentType)) return { body: Object.fromEntries(new URLSearchParams(rawBody.toString('utf8'))) };
  if (/json/i.test(contentType) || (!/octet-stream/i.test(contentType) && /^\s*[{[]/.test(rawBody.subarray(0, 64).toString('utf8')))) {
    try {
      return { body: JSON.parse(rawBody.toString('utf8')) };
    } catch {
      return 'malformed';
    }
  }
  return {};
}

/** Plays an injected fault: 'answered' when it answered (or dropped) the request, else how to go on. */
async function applyFault(x: Exchange, fault: Fault, body: unknown): Promise<'answered' | 'truncate' | 'continue'> {
  x.entry.fault = fault.label;
  const logged = x.path.startsWith('/api/') ? body : redactForm(body);
  switch (fault.kind) {
    case 'reset':
      x.entry.status = 0;
      x.entry.body = logged;
      x.req.socket.destroy();
      return 'answered';
    case 'status': {
      const headers: Record<string, string> = {};
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      x.entry.body = logged;
      x.send({ status: fault.status ?? 503, body: faultErrorBody(fault), headers });
      return 'answered';
    }
    case 'html':
      x.entry.body = logged;
      x.send({ status: 200, body: SIGN_IN_PAGE_HTML, headers: { 'content-type': 'text/html; charset=utf-8' } });
      return 'answered';
    case 'slow':
      await new Promise((r) => setTimeout(r, fault.delayMs ?? 2000));
      return 'continue';
    case 'truncate':
      return 'truncate';
  }
}

/** Routes the request: the bearer check, 404 ENDPOINT_NOT_FOUND, the handler, errors in the Databricks shape. */
async function dispatch(o: ServerOptions, x: Exchange, res: http.ServerResponse, body: unknown, truncate: boolean): Promise<void> {
  const { method, path, entry } = x;
  const matched = o.router.match(method, path);
  entry.body = matched && !matched.route.auth ? redactForm(body) : body;
  try {
    if (matched?.route.auth !== false && (matched || path.startsWith('/api/'))) {
      entry.principal = o.auth.authenticate(x.req.headers.authorization);
    }
    if (!matched) throw new ApiFault(404, 'ENDPOINT_NOT_FOUND', `No API found for '${method} ${path}'`);
    const request: EmulatorRequest = {
      method,
      path,
      query: x.query,
      headers: x.req.headers,
      body,
      rawBody: x.rawBody,
      params: matched.params,
      principal: entry.principal,
    };
    const response = await matched.route.handler(request);
    // Record what the server did even when the client has gone (a 'slow' fault past its timeout).
    entry.status = response.status ?? 200;
    if (res.destroyed) return;
    x.send(response, truncate);
  } catch (e) {
    if (e instanceof ApiFault) sendFault(x, e);
    else {
      entry.error = e instanceof Error ? e.message : String(e);
      x.send({ status: 500, body: { error_code: 'INTERNAL_ERROR', message: `Emulator handler failed: ${entry.error}` } });
    }
  }
}

/** Creates (not yet listening) the HTTP server that serves the router. */
export function createEmulatorServer(o: ServerOptions): http.Server {
  let seq = 0;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = o.clock.now();
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://emulator.local');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const query = parseQuery(url);
    const rawBody = await readBody(req);
    const contentType = String(req.headers['content-type'] ?? '');
    const entry: RequestLogEntry = { seq: ++seq, method, path, query, body: undefined, status: 0, at: started, requestId, headers: safeHeaders(req.headers) };
    o.requests.push(entry);
    const x: Exchange = {
      req,
      method,
      path,
      query,
      rawBody,
      entry,
      send: sender(res, entry, { 'x-request-id': requestId, 'x-databricks-org-id': o.workspaceId }),
    };

    const parsed = parseBody(rawBody, contentType);
    if (parsed === 'malformed') {
      entry.rawBody = rawBody;
      sendFault(x, new ApiFault(400, 'MALFORMED_REQUEST', 'Invalid JSON given in the body of the request - expected a map'));
      return;
    }
    const body = parsed.body;
    if (body === undefined && rawBody.length > 0) entry.rawBody = rawBody;

    const fault: Fault | undefined = o.faults.take(method, path);
    const next = fault ? await applyFault(x, fault, body) : 'continue';
    if (next === 'answered') return;
    await dispatch(o, x, res, body, next === 'truncate');
  }

  return http.createServer((req, res) => {
    void handle(req, res).catch(() => {
      // handle() answers every error itself; this only guards against a failure while writing.
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
}

/** Starts listening on 127.0.0.1 and resolves with the base URL. */
export function listen(server: http.Server, port = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.removeListener('error', reject);
      const addr = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${addr.port}`);
    });
  });
}
