/**
 * The HTTP core: the only code that sends requests to a workspace or a token endpoint.
 *
 * Requests go through axios (its Node http adapter), used under rules that keep its known hazards out:
 * - `validateStatus: () => true`: an HTTP status never becomes an AxiosError; every answer comes back as a
 *   status and a buffered body, which {@link errorFromResponse} parses (JSON, legacy, text, HTML sign-in page).
 * - `maxRedirects: 0`: axios never follows a redirect; {@link sendFollowingRedirects} does, and drops
 *   Authorization when the target origin changes.
 * - Errors are converted at the boundary: a rejection from axios (network failure, cancellation, size limit)
 *   is turned at once, in {@link sendOnce}, into a {@link DatabricksApiError} or {@link CancelledError} built
 *   from its code alone. The AxiosError itself (whose `config`, `request` and `response` hold the
 *   Authorization header) is never thrown, logged, stringified or attached as `cause`.
 * - `proxy: false` (no environment proxy, and axios' own proxying does not tunnel https correctly): the agents
 *   built by proxy.ts (a CONNECT tunnel through https-proxy-agent when the agent has a proxy) are passed as
 *   `httpAgent`/`httpsAgent`.
 * - Headers are set explicitly (User-Agent, Accept, Accept-Encoding, Content-Type), so no axios default
 *   header is sent; request and response transforms are identities (we encode and parse bodies ourselves).
 * - One timer of our own covers the whole exchange (an idle timer for streamed downloads) and aborts axios
 *   through its `signal`; axios' `timeout` is not used, so every timeout error is ours.
 * - JSON bodies are read as buffers, decompressed, and limited by `maxContentLength` (counted after
 *   decompression); downloads are read as a stream and written to disk with a size and content-length check.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import axios, { AxiosRequestConfig, RawAxiosRequestHeaders } from 'axios';
import type { ApiClient, ApiRequest, DownloadRequest, TokenProvider } from './contracts';
import { systemClock, type Clock } from './clock';
import {
  CancelledError,
  DatabricksApiError,
  cancelledFrom,
  errorFromResponse,
  isRetryable,
  isSafeToRetryNonIdempotent,
  looksLikeHtml,
  networkError,
  parseRetryAfter,
  signInPageError,
} from './errors';
import { createTransport, ProxyConfig, Transport } from './proxy';
import { DEFAULT_RETRY_POLICY, RetryPolicy, withRetry } from './retry';

/** Default per-request timeout (whole exchange, including reading the body). */
export const DEFAULT_TIMEOUT_MS = 60_000;
/** JSON responses larger than this are refused (a misrouted download, not an API answer). */
export const DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024;
/** Downloads larger than this fail unless the caller sets `maxBytes`. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 2 * 1024 * 1024 * 1024;
const MAX_REDIRECTS = 5;

/**
 * `databricks-mlops-azure-pipelines/<version> (task <name>)`, each part only when given. The client reads no
 * files: the adapter (src/pipeline/client.ts) passes the extension's version from package.json.
 */
export function userAgent(taskName?: string, version?: string): string {
  return `databricks-mlops-azure-pipelines${version ? `/${version}` : ''}${taskName ? ` (task ${taskName})` : ''}`;
}

/** 127.0.0.0/8 in dotted-quad form (what WHATWG URL parsing turns every IPv4 spelling into), octets 0-255. */
const IPV4_LOOPBACK = /^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/**
 * The one loopback check (http is allowed only there): `localhost`, IPv6 `::1` (bracketed or not) and
 * 127.0.0.0/8 (RFC 1122 section 3.2.1.3: "127.<any>" is the loopback network), case-insensitive.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || IPV4_LOOPBACK.test(h);
}

/**
 * Rejects anything but https, except http to a loopback address (the local emulator). Called before any
 * request, so a credential is never sent in clear text.
 */
export function assertSecureUrl(raw: string | URL, what = 'URL'): URL {
  let url: URL;
  try {
    url = typeof raw === 'string' ? new URL(raw) : raw;
  } catch {
    throw new Error(`The ${what} is not a valid URL.`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw new Error(
    `Refusing to connect to ${url.protocol}//${url.host}: the ${what} must use https (http is allowed only for loopback addresses such as 127.0.0.1), so that credentials are never sent unencrypted.`,
  );
}

export interface ApiClientOptions {
  /** Workspace URL, e.g. `https://adb-1.2.azuredatabricks.net` (http only on loopback). */
  host: string;
  tokenProvider: TokenProvider;
  clock?: Clock;
  /** Overrides of the retry policy (attempts, delays, deadline, jitter source). */
  retry?: Partial<Omit<RetryPolicy, 'clock'>>;
  timeoutMs?: number;
  /** Defaults to {@link userAgent}(taskName). */
  userAgent?: string;
  taskName?: string;
  proxy?: ProxyConfig;
  /** A prepared transport (shared with the token provider); built from `proxy` when absent. */
  transport?: Transport;
  maxResponseBytes?: number;
  /** Debug log: method, path, status, timing and retries. Never headers, bodies or tokens. */
  log?: (message: string) => void;
}

/** A full response, for callers that need headers (Files API HEAD, `x-databricks-org-id`). */
export interface ApiResponse<T> {
  status: number;
  headers: Record<string, string>;
  body: T;
}

/** The ApiClient this module builds, with {@link ApiResponse}-returning `requestFull`. */
export interface DatabricksApiClient extends ApiClient {
  requestFull<T = unknown>(req: ApiRequest): Promise<ApiResponse<T>>;
}

export interface RawExchange {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
  maxBodyBytes: number;
  /** Stream a 2xx body to this file instead of buffering it. */
  toFile?: { path: string; maxBytes: number };
}

export interface RawResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  /** Buffered body (empty when streamed to a file). */
  body: Buffer;
  bytes: number;
  /** The URL that finally answered (after redirects). */
  url: URL;
}

/**
 * The axios instance every request uses. Its settings are the rules in the header comment; per-request
 * settings (agents, response type, size limit, decompression, signal) are added by {@link sendOnce}.
 */
const axiosClient = axios.create({
  adapter: 'http',
  proxy: false,
  maxRedirects: 0,
  validateStatus: () => true,
  transitional: { clarifyTimeoutError: true, silentJSONParsing: false, forcedJSONParsing: false },
  transformRequest: [(data: unknown) => data],
  transformResponse: [(data: unknown) => data],
  maxBodyLength: -1,
});

function flattenHeaders(h: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const plain =
    h && typeof (h as { toJSON?: unknown }).toJSON === 'function'
      ? (h as { toJSON(): Record<string, unknown> }).toJSON()
      : (h as Record<string, unknown> | undefined);
  for (const [k, v] of Object.entries(plain ?? {})) {
    if (v === undefined || v === null) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

function describe(method: string, url: URL): { method: string; path: string; host: string } {
  return { method, path: url.pathname, host: url.host };
}

/**
 * The axios boundary: turns whatever axios rejected with into our own error. Reads only the error's `code`,
 * whether a response had started (a body cut short) and two fixed phrases of its message; the object itself
 * is dropped here, so it can never reach a log, an error field or a `cause`.
 */
function fromAxiosFailure(failure: unknown, x: RawExchange, ctx: { method: string; path: string; host: string }): Error {
  const f = (typeof failure === 'object' && failure !== null ? failure : {}) as { code?: unknown; message?: unknown; response?: unknown };
  const code = typeof f.code === 'string' ? f.code : undefined;
  const message = typeof f.message === 'string' ? f.message : '';
  if (code === 'ERR_CANCELED' || axios.isCancel(failure)) return cancelledFrom(x.signal, `${x.method} ${ctx.path}`);
  if (/^maxContentLength size of \d+ exceeded$/.test(message)) {
    return new DatabricksApiError({
      status: 0,
      errorCode: 'RESPONSE_TOO_LARGE',
      method: x.method,
      path: ctx.path,
      message: `The response to ${x.method} ${ctx.path} exceeds ${x.maxBodyBytes} bytes; use a download for large content.`,
    });
  }
  if (f.response !== undefined && f.response !== null) {
    return new DatabricksApiError({
      status: 0,
      errorCode: 'RESPONSE_TRUNCATED',
      method: x.method,
      path: ctx.path,
      message: `The response to ${x.method} ${ctx.path} from ${ctx.host} was cut short before its end.`,
    });
  }
  return networkError({ code: code ?? 'ECONNRESET', message: /socket hang up/i.test(message) ? 'socket hang up' : '' }, ctx);
}

/** One request/response, no redirects, no retries. Rejects with DatabricksApiError or CancelledError. */
export function sendOnce(transport: Transport, x: RawExchange): Promise<RawResponse> {
  const ctx = describe(x.method, x.url);
  return new Promise<RawResponse>((resolve, reject) => {
    if (x.signal?.aborted) {
      reject(cancelledFrom(x.signal, `${x.method} ${ctx.path}`));
      return;
    }
    // Stops axios (and the socket) when our timer fires, the caller cancels, or a check below fails.
    const stop = new AbortController();
    let settled = false;
    let cleanup: (() => Promise<void>) | undefined;
    let body: Readable | undefined;
    const finish = (err: Error | undefined, res?: RawResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      x.signal?.removeEventListener('abort', onAbort);
      if (err) {
        stop.abort();
        body?.destroy();
        // Reject only once a partial download is gone, so a caller never sees a half-written file.
        void (cleanup ? cleanup() : Promise.resolve()).finally(() => reject(err));
      } else resolve(res!);
    };
    const onAbort = () => finish(cancelledFrom(x.signal, `${x.method} ${ctx.path}`));
    const timer = setTimeout(() => finish(timeoutError(x, ctx)), x.timeoutMs);
    x.signal?.addEventListener('abort', onAbort, { once: true });

    const streamed = x.toFile !== undefined;
    axiosClient.request<unknown>(axiosConfig(transport, x, stop.signal)).then(
      (response) => {
        if (settled) {
          if (streamed) (response.data as Readable).destroy();
          return;
        }
        // Copy what we need; the response object (it holds the request config) goes no further.
        const head: ResponseHead = { status: response.status, statusText: response.statusText ?? '', headers: flattenHeaders(response.headers) };
        if (!streamed) {
          const data = Buffer.isBuffer(response.data) ? response.data : Buffer.alloc(0);
          finish(undefined, { ...head, body: data, bytes: data.length, url: x.url });
          return;
        }
        body = response.data as Readable;
        receiveStream(body, head, { x, ctx, finish, timer, isSettled: () => settled, setCleanup: (c) => (cleanup = c) });
      },
      (failure: unknown) => {
        if (!settled) finish(fromAxiosFailure(failure, x, ctx));
      },
    );
  });
}

function timeoutError(x: RawExchange, ctx: { path: string; host: string }): DatabricksApiError {
  return new DatabricksApiError({
    status: 0,
    errorCode: 'REQUEST_TIMEOUT',
    method: x.method,
    path: ctx.path,
    message: `Request ${x.method} ${ctx.path} to ${ctx.host} timed out after ${Math.round(x.timeoutMs / 100) / 10} s.`,
  });
}

/** The axios request for one exchange: exactly our headers, our agent, and the body limits. */
function axiosConfig(transport: Transport, x: RawExchange, signal: AbortSignal): AxiosRequestConfig {
  const streamed = x.toFile !== undefined;
  const headers: RawAxiosRequestHeaders = {
    // A download is stored byte for byte; a JSON answer may come compressed (it is limited after decompression).
    'accept-encoding': streamed ? 'identity' : 'gzip, deflate',
    ...x.headers,
  };
  // `false` keeps axios from adding its default (application/x-www-form-urlencoded for a bodiless POST).
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['content-type'] = false;
  const agent = transport.optionsFor(x.url).agent;
  return {
    url: x.url.toString(),
    method: x.method,
    headers,
    data: x.body,
    httpAgent: agent,
    httpsAgent: agent,
    signal,
    responseType: streamed ? 'stream' : 'arraybuffer',
    // A download has its own cap (x.toFile.maxBytes), checked below as the bytes arrive.
    maxContentLength: streamed ? -1 : x.maxBodyBytes,
    decompress: !streamed,
  };
}

interface ResponseHead {
  status: number;
  statusText: string;
  headers: Record<string, string>;
}

/** What a streamed response shares with its sendOnce: the exchange, how to settle, the (idle) timer. */
interface StreamContext {
  x: RawExchange;
  ctx: { path: string; host: string };
  finish: (err: Error | undefined, res?: RawResponse) => void;
  timer: NodeJS.Timeout;
  isSettled: () => boolean;
  setCleanup: (cleanup: () => Promise<void>) => void;
}

function receiveStream(res: Readable, head: ResponseHead, sc: StreamContext): void {
  const { x, ctx, finish } = sc;
  const declared = head.headers['content-length'] !== undefined ? Number(head.headers['content-length']) : undefined;
  const seen = { bytes: 0, ended: false };
  const truncated = () =>
    new DatabricksApiError({
      status: 0,
      errorCode: 'RESPONSE_TRUNCATED',
      method: x.method,
      path: ctx.path,
      requestId: head.headers['x-request-id'],
      message: `The response to ${x.method} ${ctx.path} from ${ctx.host} was cut short: received ${seen.bytes} bytes${declared !== undefined ? ` of the ${declared} announced` : ''}.`,
    });
  res.on('end', () => {
    seen.ended = true;
  });
  // Stream errors (a connection dropped mid-body, or axios' own abort) are reported as a body cut
  // short; the error object is not looked at.
  res.on('error', () => finish(truncated()));
  res.on('close', () => {
    if (!seen.ended) finish(truncated());
  });
  if (!(head.status >= 200 && head.status < 300)) bufferErrorAnswer(res, head, sc, seen);
  else streamToFile(res, head, sc, seen, declared, truncated);
}

/** An error answer (or a redirect) on the download path: buffered, size-limited, for errorFromResponse. */
function bufferErrorAnswer(res: Readable, head: ResponseHead, { x, ctx, finish }: StreamContext, seen: { bytes: number }): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => {
    seen.bytes += chunk.length;
    if (seen.bytes > x.maxBodyBytes) {
      finish(
        new DatabricksApiError({
          status: head.status,
          errorCode: 'RESPONSE_TOO_LARGE',
          method: x.method,
          path: ctx.path,
          message: `The response to ${x.method} ${ctx.path} exceeds ${x.maxBodyBytes} bytes; use a download for large content.`,
        }),
      );
      return;
    }
    chunks.push(chunk);
  });
  res.on('end', () => finish(undefined, { ...head, body: Buffer.concat(chunks), bytes: seen.bytes, url: x.url }));
}

/** A successful download: to a `.part` file beside the target, renamed into place once complete. */
function streamToFile(
  res: Readable,
  head: ResponseHead,
  sc: StreamContext,
  seen: { bytes: number; ended: boolean },
  declared: number | undefined,
  truncated: () => DatabricksApiError,
): void {
  const { x, ctx, finish } = sc;
  const target = x.toFile!;
  const tooLarge = () =>
    new DatabricksApiError({
      status: head.status,
      errorCode: 'DOWNLOAD_TOO_LARGE',
      method: x.method,
      path: ctx.path,
      message: `The download ${ctx.path} is larger than the allowed ${target.maxBytes} bytes.`,
    });
  if (declared !== undefined && declared > target.maxBytes) {
    finish(tooLarge());
    return;
  }
  const part = `${target.path}.${randomBytes(4).toString('hex')}.part`;
  const file = createWriteStream(part);
  sc.setCleanup(async () => {
    res.destroy();
    if (!file.closed) {
      await new Promise<void>((r) => {
        file.once('close', () => r());
        file.destroy();
      });
    }
    await fsp.rm(part, { force: true }).catch(() => undefined);
  });
  res.on('data', (chunk: Buffer) => {
    seen.bytes += chunk.length;
    // For a streamed download the timeout is an idle timeout: a large file on a slow link is fine
    // as long as bytes keep arriving.
    sc.timer.refresh();
    if (seen.bytes > target.maxBytes) finish(tooLarge());
  });
  file.on('error', (e) => finish(new Error(`Could not write the download to ${target.path} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`)));
  file.on('finish', () => {
    if (sc.isSettled()) return;
    if (!seen.ended || (declared !== undefined && declared !== seen.bytes)) {
      finish(truncated());
      return;
    }
    fsp.rename(part, target.path).then(
      () => finish(undefined, { ...head, body: Buffer.alloc(0), bytes: seen.bytes, url: x.url }),
      (e) => finish(new Error(`Could not move the download into ${target.path} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`)),
    );
  });
  res.pipe(file);
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Sends a request following up to 5 redirects. Authorization is kept only while the target has the same
 * origin as the first URL; a redirect to http on a non-loopback host is refused.
 */
export async function sendFollowingRedirects(transport: Transport, x: RawExchange): Promise<RawResponse> {
  const origin = x.url.origin;
  let current = x;
  for (let hop = 0; ; hop++) {
    const res = await sendOnce(transport, current);
    const location = res.headers.location;
    if (!REDIRECT_STATUSES.has(res.status) || !location) return res;
    if (hop >= MAX_REDIRECTS) {
      throw new DatabricksApiError({
        status: res.status,
        errorCode: 'TOO_MANY_REDIRECTS',
        method: x.method,
        path: x.url.pathname,
        message: `${x.method} ${x.url.pathname} was redirected more than ${MAX_REDIRECTS} times.`,
      });
    }
    let next: URL;
    try {
      next = new URL(location, current.url);
    } catch {
      throw new DatabricksApiError({
        status: res.status,
        errorCode: 'INVALID_REDIRECT',
        method: x.method,
        path: x.url.pathname,
        message: `${x.method} ${x.url.pathname} was redirected to an invalid location.`,
      });
    }
    assertSecureUrl(next, 'redirect target');
    const headers = { ...current.headers };
    if (next.origin !== origin) {
      // Never hand our bearer token to another host (the classic redirect credential leak).
      for (const k of Object.keys(headers)) if (k.toLowerCase() === 'authorization') delete headers[k];
    }
    let method = current.method;
    let body = current.body;
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method !== 'GET' && method !== 'HEAD')) {
      method = 'GET';
      body = undefined;
      for (const k of Object.keys(headers)) if (/^content-(type|length)$/i.test(k)) delete headers[k];
    }
    current = { ...current, method, url: next, headers, body };
  }
}

/** Serialises the query: repeated keys for arrays, undefined values dropped. */
export function buildUrl(base: string, path: string, query?: ApiRequest['query']): URL {
  if (!path.startsWith('/')) throw new Error(`Request path must start with "/" (got "${path}").`);
  const url = new URL(base.replace(/\/+$/, '') + path);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) url.searchParams.append(key, String(v));
  }
  return url;
}

function encodeBody(body: unknown): { buffer?: Buffer; contentType?: string } {
  if (body === undefined) return {};
  if (Buffer.isBuffer(body)) return { buffer: body, contentType: 'application/octet-stream' };
  if (body instanceof Uint8Array) return { buffer: Buffer.from(body.buffer, body.byteOffset, body.byteLength), contentType: 'application/octet-stream' };
  return { buffer: Buffer.from(JSON.stringify(body), 'utf8'), contentType: 'application/json' };
}

/** Reads a successful response as JSON. HTML is never success; an empty body is `{}`. */
export function parseSuccessBody(res: RawResponse, ctx: { method: string; path: string; host: string }): unknown {
  const text = res.body.toString('utf8');
  const contentType = res.headers['content-type'];
  if (looksLikeHtml(contentType, text)) throw signInPageError(res.status, { ...ctx, requestId: res.headers['x-request-id'] });
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new DatabricksApiError({
      status: res.status,
      errorCode: 'INVALID_RESPONSE',
      method: ctx.method,
      path: ctx.path,
      requestId: res.headers['x-request-id'],
      message: `${ctx.method} ${ctx.path} answered HTTP ${res.status} with a body that is not JSON (content-type ${contentType ?? 'none'}).`,
    });
  }
}

/**
 * Undocumented test hooks (like DATABRICKS_MLOPS_POLL_INTERVAL_MS in the tasks): a positive integer in
 * `name` overrides a default, so the reliability tests can drive a bundled task past the per-request
 * timeout (DATABRICKS_MLOPS_REQUEST_TIMEOUT_MS) and shorten the retry backoff
 * (DATABRICKS_MLOPS_RETRY_BASE_DELAY_MS) without waiting a minute per fault. Explicit options win.
 */
function testHookMs(name: string): number | undefined {
  const raw = process.env[name];
  if (!raw || !/^\d+$/.test(raw)) return undefined;
  const ms = Number(raw);
  return ms > 0 ? ms : undefined;
}

/** Marks errors from the token provider so the request loop does not retry them a second time. */
const tokenErrors = new WeakSet<object>();

/**
 * Creates the workspace client: bearer auth from `tokenProvider`, JSON in and out, retries (idempotent
 * calls only, see {@link isRetryable} / {@link isSafeToRetryNonIdempotent}), per-request timeout and
 * cancellation, redirects without leaking Authorization, size-limited bodies and streamed downloads.
 * Throws at once if `host` is not https (or http on loopback).
 */
/** The request's headers: ours, then the caller's (lower-cased; never Authorization, which the client adds). */
function requestHeaders(req: ApiRequest, ua: string, contentType: string | undefined): Record<string, string> {
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    if (k.toLowerCase() === 'authorization') throw new Error('ApiRequest.headers must not set Authorization; the client adds it.');
    extra[k.toLowerCase()] = v;
  }
  const headers: Record<string, string> = { 'user-agent': ua, accept: 'application/json', ...extra };
  if (contentType && !headers['content-type']) headers['content-type'] = contentType;
  return headers;
}

/** The error for a final non-2xx answer: the proxy's 407, a redirect without a location, or the API's error. */
function failedResponseError(res: RawResponse, ctx: { method: string; path: string; host: string }): DatabricksApiError {
  const { method, path } = ctx;
  if (res.status === 407) {
    return new DatabricksApiError({
      status: 407,
      errorCode: 'PROXY_AUTHENTICATION_REQUIRED',
      method,
      path,
      message: `The agent's proxy refused ${method} ${path} (HTTP 407 Proxy Authentication Required): check the proxy user name and password configured on the agent.`,
    });
  }
  if (REDIRECT_STATUSES.has(res.status)) {
    return new DatabricksApiError({
      status: res.status,
      errorCode: 'INVALID_REDIRECT',
      method,
      path,
      message: `${method} ${path} answered HTTP ${res.status} without a redirect location.`,
    });
  }
  return errorFromResponse({
    status: res.status,
    statusText: res.statusText,
    contentType: res.headers['content-type'],
    body: res.body.toString('utf8'),
    requestId: res.headers['x-request-id'],
    retryAfterMs: parseRetryAfter(res.headers['retry-after'], systemClock.now()),
    ...ctx,
  });
}

/** A GET streamed to `req.toFile`; an HTML answer (a sign-in page) is removed and refused. */
async function downloadWith(
  exchange: (req: ApiRequest, toFile?: { path: string; maxBytes: number }) => Promise<RawResponse>,
  host: string,
  req: DownloadRequest,
): Promise<{ bytes: number; headers: Record<string, string> }> {
  const maxBytes = req.maxBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  const res = await exchange({ ...req, method: 'GET', headers: { accept: '*/*', ...(req.headers ?? {}) } }, { path: req.toFile, maxBytes });
  if (looksLikeHtml(res.headers['content-type'], '')) {
    await fsp.rm(req.toFile, { force: true });
    throw signInPageError(res.status, { method: 'GET', path: req.path, host, requestId: res.headers['x-request-id'] });
  }
  return { bytes: res.bytes, headers: res.headers };
}

export function createApiClient(opts: ApiClientOptions): DatabricksApiClient {
  const base = assertSecureUrl(opts.host, 'workspace URL');
  const host = `${base.protocol}//${base.host}`;
  const clock = opts.clock ?? systemClock;
  const transport = opts.transport ?? createTransport(opts.proxy);
  const timeoutMs = opts.timeoutMs ?? testHookMs('DATABRICKS_MLOPS_REQUEST_TIMEOUT_MS') ?? DEFAULT_TIMEOUT_MS;
  const retryBaseDelayMs = testHookMs('DATABRICKS_MLOPS_RETRY_BASE_DELAY_MS');
  const maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const ua = opts.userAgent ?? userAgent(opts.taskName);
  const log = opts.log ?? (() => undefined);

  async function exchange(req: ApiRequest, toFile?: { path: string; maxBytes: number }): Promise<RawResponse> {
    const method = req.method;
    const url = buildUrl(host, req.path, req.query);
    const ctx = describe(method, url);
    const idempotent = req.idempotent ?? (method === 'GET' || method === 'HEAD');
    const encoded = encodeBody(req.body);
    const headers = requestHeaders(req, ua, encoded.contentType);

    const attemptOnce = async (attempt: number): Promise<RawResponse> => {
      let refreshed = false;
      for (;;) {
        let token: string;
        try {
          token = await opts.tokenProvider.getToken(req.signal);
        } catch (e) {
          if (e && typeof e === 'object') tokenErrors.add(e);
          throw e;
        }
        const started = clock.monotonic();
        const res = await sendFollowingRedirects(transport, {
          method,
          url,
          headers: { ...headers, authorization: `Bearer ${token}` },
          body: encoded.buffer,
          timeoutMs: req.timeoutMs ?? timeoutMs,
          signal: req.signal,
          maxBodyBytes: maxResponseBytes,
          toFile,
        });
        log(`${method} ${ctx.path} -> ${res.status} (${clock.monotonic() - started} ms, attempt ${attempt})`);
        // The gateway rejected the credential before processing (401, or 403 "Invalid access token." for an
        // expired one): safe to repeat once, even for a non-idempotent call, with a freshly fetched token.
        const credentialRejected = res.status === 401 || (res.status === 403 && /Invalid access token/i.test(res.body.toString('utf8')));
        if (credentialRejected && !refreshed && opts.tokenProvider.invalidate) {
          refreshed = true;
          opts.tokenProvider.invalidate();
          log(`${method} ${ctx.path}: ${res.status}, fetching a new token and retrying once`);
          continue;
        }
        if (res.status >= 200 && res.status < 300) return res;
        throw failedResponseError(res, ctx);
      }
    };

    return withRetry(attemptOnce, {
      ...DEFAULT_RETRY_POLICY,
      ...(retryBaseDelayMs !== undefined ? { baseDelayMs: retryBaseDelayMs } : {}),
      ...(opts.retry ?? {}),
      clock,
      signal: req.signal,
      shouldRetry: (err) => !tokenErrors.has(err as object) && (idempotent ? isRetryable(err) : isSafeToRetryNonIdempotent(err)),
      onRetry: ({ attempt, delayMs, error }) => {
        const e = error as DatabricksApiError;
        log(`${method} ${ctx.path} failed (${e.status || ''} ${String(e.errorCode ?? '')}); retry ${attempt} in ${delayMs} ms`);
      },
    });
  }

  async function requestFull<T>(req: ApiRequest): Promise<ApiResponse<T>> {
    const res = await exchange(req);
    // Name the workspace and the path asked for, even if a redirect ended on a login host.
    const ctx = { method: req.method, path: req.path, host: base.host };
    const body = req.method === 'HEAD' ? {} : parseSuccessBody(res, ctx);
    return { status: res.status, headers: res.headers, body: body as T };
  }

  return {
    host,
    requestFull,
    async request<T>(req: ApiRequest): Promise<T> {
      return (await requestFull<T>(req)).body;
    },
    download: (req: DownloadRequest) => downloadWith(exchange, base.host, req),
  };
}

export { CancelledError };
