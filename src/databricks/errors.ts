/**
 * The one error type the client throws for anything that went wrong talking to a workspace (HTTP error
 * status, unexpected HTML, a network failure, a timeout), plus the predicates callers use to classify it.
 *
 * Only safe, copied fields live on these errors: never the request configuration, headers or the socket
 * error object, because those can carry the `Authorization` header.
 */

/** Network-level failures are reported with `status: 0` and one of these codes as `errorCode`. */
export const NETWORK_ERROR_CODES = [
  'ECONNRESET',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'SOCKET_HANG_UP',
  'REQUEST_TIMEOUT',
  'RESPONSE_TRUNCATED',
] as const;

/** errorCode used when the workspace answered with an HTML page (usually a sign-in page) instead of JSON. */
export const SIGN_IN_PAGE = 'SIGN_IN_PAGE';

export interface DatabricksApiErrorInit {
  status: number;
  errorCode: string | number;
  message: string;
  requestId?: string;
  method?: string;
  path?: string;
  /** Delay the server asked for with `Retry-After`, in ms. */
  retryAfterMs?: number;
}

/**
 * An error answer from a Databricks (or token) endpoint, or a failure to get one.
 *
 * `status` is the HTTP status (0 for network failures), `errorCode` the API's `error_code` (a string such
 * as `RESOURCE_DOES_NOT_EXIST`, or a number for gateway auth failures: 401/403), and `requestId` the
 * `x-request-id` header or the `[ReqId: ...]` in the message, to quote to Databricks support.
 */
export class DatabricksApiError extends Error {
  override name = 'DatabricksApiError';
  readonly status: number;
  readonly errorCode: string | number;
  readonly requestId?: string;
  readonly method?: string;
  readonly path?: string;
  readonly retryAfterMs?: number;

  constructor(init: DatabricksApiErrorInit) {
    super(init.message);
    this.status = init.status;
    this.errorCode = init.errorCode;
    this.requestId = init.requestId;
    this.method = init.method;
    this.path = init.path;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** Whether an idempotent call failing with this error may be repeated (see {@link isRetryable}). */
  get retryable(): boolean {
    return isRetryable(this);
  }
}

/** A wait (run to finish, repo to sync) did not reach its goal in time; carries the last state seen. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
  constructor(
    message: string,
    /** The last pending state the poller reported (e.g. `{life_cycle_state: 'RUNNING'}`). */
    readonly lastState: unknown,
    readonly elapsedMs: number,
  ) {
    super(message);
  }
}

/** The operation was cancelled through its AbortSignal (pipeline cancel). Never retried. */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor(message = 'The operation was cancelled.') {
    super(message);
  }
}

/**
 * An error's message for a log line or a task result: the message (the name when it is empty) of an Error,
 * else the value as a string. Never the error object itself, whose fields can carry request headers.
 */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/** Builds a {@link CancelledError} describing why a signal was aborted, without copying the reason object. */
export function cancelledFrom(signal: AbortSignal | undefined, what = 'The operation'): CancelledError {
  const reason = signal?.reason;
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : '';
  return new CancelledError(`${what} was cancelled${why ? ` (${why})` : ''}.`);
}

/**
 * The error-code table, after databricks-sdk-go's `apierr` package: an error is classified by its
 * `error_code` (a string) first and by its HTTP status only when the body carries no code
 * (apierr/errors.go, `APIError.Unwrap`: the override, then `errorCodeMapping[ErrorCode]`, then
 * `statusCodeMapping[StatusCode]`; the tables are in apierr/error_mapping.go). Some services answer a
 * missing resource with another code; the SDK rewrites those with an override table matched on method,
 * path, code and message (apierr/error_override.go, generated entries in apierr/error_overrides.go), and
 * so does {@link ERROR_OVERRIDES} here.
 */
export interface ErrorOverride {
  method: string;
  path: RegExp;
  errorCode: string;
  message: RegExp;
  /** The code the error is classified as when every matcher above matches. */
  classifyAs: string;
}

const RESOURCE_DOES_NOT_EXIST = 'RESOURCE_DOES_NOT_EXIST';

/**
 * databricks-sdk-go apierr/error_overrides.go, "Jobs InvalidParameterValue=>ResourceDoesNotExist":
 * `GET jobs/get` answers a missing job with 400 `INVALID_PARAMETER_VALUE` "Job ... does not exist", which
 * means RESOURCE_DOES_NOT_EXIST. (The SDK's other entry, for `GET clusters/get`, is left out: no client
 * here calls that API.)
 */
export const ERROR_OVERRIDES: readonly ErrorOverride[] = [
  {
    method: 'GET',
    path: /^\/api\/2\.\d\/jobs\/get/,
    errorCode: 'INVALID_PARAMETER_VALUE',
    message: /Job .* does not exist/,
    classifyAs: RESOURCE_DOES_NOT_EXIST,
  },
];

/**
 * The `error_code` an error is classified by: the override's code when one matches, else the body's
 * string code, else the canonical code of the status ({@link codeForStatus}; numeric gateway codes too).
 */
export function classifiedErrorCode(err: DatabricksApiError): string {
  const override = ERROR_OVERRIDES.find(
    (o) => o.method === err.method && o.path.test(err.path ?? '') && o.errorCode === err.errorCode && o.message.test(err.message),
  );
  if (override) return override.classifyAs;
  return typeof err.errorCode === 'string' && err.errorCode !== '' ? err.errorCode : codeForStatus(err.status);
}

/**
 * "This resource does not exist" (`RESOURCE_DOES_NOT_EXIST`, after the overrides), whatever the status
 * unless `opts.status` narrows it. The only answer that may mean "absent" where absence is a valid outcome
 * (no experiment, no model, no workspace object); an outage, a 403, an unknown API route or a sign-in page
 * is never "missing", so lookups fail closed.
 */
export function isResourceDoesNotExist(err: unknown, opts: { status?: number } = {}): boolean {
  if (!(err instanceof DatabricksApiError)) return false;
  if (opts.status !== undefined && err.status !== opts.status) return false;
  return classifiedErrorCode(err) === RESOURCE_DOES_NOT_EXIST;
}

/** 404 codes that name something other than the resource asked for: an unknown API route, a disabled feature, a sign-in page. */
const NOT_A_MISSING_RESOURCE = new Set<string | number>(['ENDPOINT_NOT_FOUND', 'FEATURE_DISABLED', SIGN_IN_PAGE]);

/**
 * databricks-sdk-go's `ErrNotFound` family: {@link isResourceDoesNotExist}, or an HTTP 404 (a HEAD has no
 * body to carry a code; the Files API documents "404 Not Found" for a missing file) unless its code names
 * a missing API route, a disabled feature or a sign-in page (fail closed).
 */
export function isNotFound(err: unknown): boolean {
  if (!(err instanceof DatabricksApiError)) return false;
  if (isResourceDoesNotExist(err)) return true;
  return err.status === 404 && !NOT_A_MISSING_RESOURCE.has(err.errorCode);
}

const ALREADY_EXISTS_CODES = new Set(['RESOURCE_ALREADY_EXISTS', 'ALREADY_EXISTS', 'RESOURCE_CONFLICT']);
const RATE_LIMIT_CODES = new Set(['REQUEST_LIMIT_EXCEEDED', 'RESOURCE_EXHAUSTED', 'TOO_MANY_REQUESTS']);
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);
const RETRYABLE_NETWORK_CODES = new Set<string>([
  'ECONNRESET',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'EPIPE',
  'EAI_AGAIN',
  'SOCKET_HANG_UP',
  'REQUEST_TIMEOUT',
  'RESPONSE_TRUNCATED',
]);
/** Messages the Databricks SDKs treat as transient whatever the status (docs/databricks-api-notes.md §7.4). */
const TRANSIENT_MESSAGES = [
  'ClusterNotReadyException',
  'does not have any associated worker environments',
  'Unknown worker environment',
  'Timed out after',
  'deadline exceeded',
  'Please try again later or try a faster operation.',
  'RPC token bucket limit has been exceeded',
];

/** A create that collided with an existing resource; matched on `error_code` (status varies per service) and 409. */
export function isAlreadyExists(err: unknown): boolean {
  if (!(err instanceof DatabricksApiError)) return false;
  if (typeof err.errorCode === 'string' && (ALREADY_EXISTS_CODES.has(err.errorCode) || /_ALREADY_EXISTS$/.test(err.errorCode))) return true;
  return err.status === 409;
}

export function isRateLimited(err: unknown): boolean {
  if (!(err instanceof DatabricksApiError)) return false;
  return err.status === 429 || (typeof err.errorCode === 'string' && RATE_LIMIT_CODES.has(err.errorCode));
}

/**
 * Whether an *idempotent* call that failed with `err` may be repeated: 429, 502, 503, 504, connection
 * resets/refusals/timeouts, a response cut short, and the platform's known transient messages.
 * Cancellation, timeouts of a whole wait, HTML sign-in pages and other 4xx/5xx are not retryable.
 * `ENOTFOUND` is deliberately not retried: it almost always means a misspelt workspace URL.
 * Pure: depends only on the error's fields.
 */
export function isRetryable(err: unknown): boolean {
  if (!(err instanceof DatabricksApiError)) return false;
  if (err.errorCode === SIGN_IN_PAGE) return false;
  if (err.status === 0) return typeof err.errorCode === 'string' && RETRYABLE_NETWORK_CODES.has(err.errorCode);
  if (RETRYABLE_STATUSES.has(err.status)) return true;
  if (isRateLimited(err)) return true;
  if (err.status >= 400 && err.status !== 401 && err.status !== 403 && err.status !== 404) {
    return TRANSIENT_MESSAGES.some((m) => err.message.includes(m));
  }
  return false;
}

/**
 * Whether a *non-idempotent* call may be repeated: only when the server certainly did not process it.
 * - `ECONNREFUSED`: the connection was never established, so the request never left the agent.
 * - 429: Databricks' rate limiter rejects the request before it reaches the service (docs/databricks-api-notes.md §7.4 lists
 *   "429/503-before-processing" as safe; the Databricks SDKs retry 429 on every method).
 * A 503, a reset or a timeout are NOT safe: the request may have been applied (a DBFS delete answers 503
 * after partial work), so the caller must reconcile instead of blindly repeating.
 */
export function isSafeToRetryNonIdempotent(err: unknown): boolean {
  if (!(err instanceof DatabricksApiError)) return false;
  if (err.status === 0) return err.errorCode === 'ECONNREFUSED';
  return err.status === 429;
}

const HTML_ENTITIES: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&#39;': "'", '&#x27;': "'", '&nbsp;': ' ' };

function decodeEntities(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|#39|#x27|nbsp);/g, (m) => HTML_ENTITIES[m] ?? m);
}

function firstLine(s: string, max = 300): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length <= max ? t : `${t.slice(0, max)}...`;
}

export function looksLikeHtml(contentType: string | undefined, body: string): boolean {
  if (contentType && /text\/html|application\/xhtml/i.test(contentType)) return true;
  return /^\s*(<!doctype html|<html[\s>])/i.test(body);
}

/**
 * The error for an HTML page where JSON was expected. With a 2xx/3xx status (or no `<pre>` message)
 * this is almost always a sign-in page: the URL is not a workspace API endpoint the agent can reach with
 * this credential.
 */
export function signInPageError(status: number, ctx: { method?: string; path?: string; host?: string; requestId?: string }): DatabricksApiError {
  const where = ctx.host ? ` at ${ctx.host}` : '';
  return new DatabricksApiError({
    status,
    errorCode: SIGN_IN_PAGE,
    requestId: ctx.requestId,
    method: ctx.method,
    path: ctx.path,
    message:
      `The workspace${where} returned an HTML sign-in page (HTTP ${status}) instead of an API response for ${ctx.method ?? 'the request'} ${ctx.path ?? ''}`.trimEnd() +
      '. Likely causes: the workspace URL is wrong (use the per-workspace URL, e.g. https://adb-<id>.<n>.azuredatabricks.net), ' +
      'private link or IP access lists block this agent (network restrictions), or a proxy intercepts the request.',
  });
}

/** Parses `Retry-After` (seconds or an HTTP date) into ms; undefined when absent or invalid. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v.trim()) * 1000);
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

export interface ErrorResponseParts {
  status: number;
  statusText?: string;
  contentType?: string;
  body: string;
  requestId?: string;
  retryAfterMs?: number;
  method?: string;
  path?: string;
  host?: string;
}

/**
 * Builds the error for an HTTP error response, trying the shapes the platform sends in order:
 * JSON `{error_code, message}`, legacy JSON `{error}` (and OAuth `{error, error_description}`, SCIM
 * `{detail}`), plain `ERROR_CODE: message` text, HTML with the message in `<pre>`, and finally the status.
 */
export function errorFromResponse(p: ErrorResponseParts): DatabricksApiError {
  const base = { status: p.status, method: p.method, path: p.path, retryAfterMs: p.retryAfterMs };
  const withReq = (errorCode: string | number, message: string) => {
    const requestId = p.requestId ?? /\[ReqId: ([^\]\s]+)\]/.exec(message)?.[1];
    return new DatabricksApiError({ ...base, errorCode, message: firstLine(message, 2000), requestId });
  };
  const text = p.body ?? '';
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const j = JSON.parse(trimmed) as Record<string, unknown>;
      const code = j.error_code;
      const message = typeof j.message === 'string' ? j.message : undefined;
      if ((typeof code === 'string' || typeof code === 'number') && code !== '') {
        return withReq(code, message ?? statusMessage(p));
      }
      if (typeof j.error === 'string') {
        const desc = typeof j.error_description === 'string' ? j.error_description : message;
        return withReq(oauthOrLegacyCode(j.error, p.status), desc ? `${j.error}: ${desc}` : j.error);
      }
      if (typeof j.detail === 'string') return withReq(codeForStatus(p.status), j.detail);
      if (message) return withReq(codeForStatus(p.status), message);
    } catch {
      // Not JSON after all; fall through to the text forms.
    }
  }
  if (looksLikeHtml(p.contentType, trimmed)) {
    const pre = /<pre[^>]*>([\s\S]*?)<\/pre>/i.exec(trimmed);
    if (pre && p.status >= 400) return fromCodeText(decodeEntities(pre[1].replace(/<[^>]+>/g, '')), p, withReq);
    if (p.status >= 400 && p.status !== 401 && p.status !== 403) {
      const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(trimmed)?.[1];
      if (title && !/sign[\s-]?in|log[\s-]?in/i.test(title))
        return withReq(codeForStatus(p.status), `${statusMessage(p)}: ${decodeEntities(firstLine(title))}`);
    }
    return signInPageError(p.status, p);
  }
  if (trimmed !== '') return fromCodeText(trimmed, p, withReq);
  return withReq(codeForStatus(p.status), statusMessage(p));
}

function fromCodeText(text: string, p: ErrorResponseParts, withReq: (c: string | number, m: string) => DatabricksApiError): DatabricksApiError {
  const m = /^([A-Z][A-Z0-9_]{2,}):\s*([\s\S]*)$/.exec(text.trim());
  if (m) return withReq(m[1], m[2] || m[1]);
  return withReq(codeForStatus(p.status), text.trim() ? firstLine(text) : statusMessage(p));
}

function oauthOrLegacyCode(error: string, status: number): string {
  // OAuth endpoints answer `{"error":"invalid_client"}`; keep that code. A legacy 1.2 API message is prose.
  return /^[a-z_]+$/.test(error) ? error : codeForStatus(status);
}

function statusMessage(p: ErrorResponseParts): string {
  return `HTTP ${p.status}${p.statusText ? ` ${p.statusText}` : ''}`;
}

/** The canonical Databricks error_code for a status, used when the body carries none. */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 407:
      return 'PROXY_AUTHENTICATION_REQUIRED';
    case 409:
      return 'RESOURCE_CONFLICT';
    case 429:
      return 'REQUEST_LIMIT_EXCEEDED';
    case 499:
      return 'CANCELLED';
    case 501:
      return 'NOT_IMPLEMENTED';
    case 502:
      return 'BAD_GATEWAY';
    case 503:
      return 'TEMPORARILY_UNAVAILABLE';
    case 504:
      return 'DEADLINE_EXCEEDED';
    default:
      return status >= 500 ? 'INTERNAL_ERROR' : 'UNKNOWN';
  }
}

/**
 * Maps a socket error (or the `{code, message}` the axios boundary in http.ts extracts) to a network
 * DatabricksApiError, copying only the code (never the error object, whose fields can include the request
 * options); the message is read only to recognise "socket hang up".
 */
export function networkError(err: unknown, ctx: { method?: string; path?: string; host?: string }): DatabricksApiError {
  const rawCode = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : undefined;
  const rawMessage = typeof (err as { message?: unknown })?.message === 'string' ? (err as { message: string }).message : '';
  let code: string = rawCode ?? 'ECONNRESET';
  if (/socket hang up/i.test(rawMessage)) code = 'SOCKET_HANG_UP';
  if (rawCode === 'ECONNABORTED') code = 'REQUEST_TIMEOUT';
  const what = `${ctx.method ?? ''} ${ctx.path ?? ''}`.trim();
  const to = ctx.host ? ` to ${ctx.host}` : '';
  const explain: Record<string, string> = {
    ECONNREFUSED: 'the connection was refused',
    ECONNRESET: 'the connection was reset',
    SOCKET_HANG_UP: 'the server closed the connection without answering',
    ETIMEDOUT: 'the connection timed out',
    ENOTFOUND: 'the host name could not be resolved; check the workspace URL',
    EAI_AGAIN: 'the host name could not be resolved (temporary DNS failure)',
    EHOSTUNREACH: 'the host is unreachable',
    ENETUNREACH: 'the network is unreachable',
    EPIPE: 'the connection was closed while sending',
    REQUEST_TIMEOUT: 'the request timed out',
  };
  const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL/.test(code);
  const detail = tls
    ? `the server's TLS certificate was not accepted; if the agent reaches the workspace through a TLS-inspecting proxy, configure the agent's CA certificate (Agent.CAInfo)`
    : (explain[code] ?? `network error ${code}`);
  return new DatabricksApiError({
    status: 0,
    errorCode: code,
    method: ctx.method,
    path: ctx.path,
    message: `Request ${what}${to} failed: ${detail} (${code}).`,
  });
}
