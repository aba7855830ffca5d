/**
 * The contract between the HTTP core (http.ts, auth.ts, retry.ts, wait.ts, paginate.ts, errors.ts) and the
 * domain clients (jobs, repos, workspace, files, MLflow tracking and registry). Domain clients depend only
 * on these types, so they can be written and tested against any implementation of `ApiClient`.
 */

/** One REST call. `path` is absolute (`/api/2.2/jobs/runs/get`); `query` values are repeated for arrays. */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'HEAD';
  path: string;
  query?: Record<string, string | number | boolean | Array<string | number> | undefined>;
  /** JSON body (serialised by the client) or raw bytes (sent as application/octet-stream). */
  body?: unknown;
  /**
   * Whether repeating the call is harmless. GETs are idempotent by default; a POST is idempotent only
   * when it carries an idempotency token or is a pure read (runs/search). Non-idempotent calls are never
   * retried after the request may have reached the server.
   */
  idempotent?: boolean;
  /** Per-request timeout; the client has a default. */
  timeoutMs?: number;
  /** Cancels the call (pipeline cancel). */
  signal?: AbortSignal;
  /** Extra headers (never Authorization: the client owns it). */
  headers?: Record<string, string>;
}

/** A response body streamed to a file, for downloads that must not be buffered in memory. */
export interface DownloadRequest extends Omit<ApiRequest, 'body' | 'method'> {
  method?: 'GET';
  /** Absolute destination path on the agent. */
  toFile: string;
  /** Upper bound on bytes accepted; the download fails above it. */
  maxBytes?: number;
}

export interface ApiClient {
  /** The workspace base URL without a trailing slash, e.g. `https://adb-1.2.azuredatabricks.net`. */
  readonly host: string;
  /** Sends a JSON request and returns the parsed JSON body (`{}` for an empty body). Throws DatabricksApiError. */
  request<T = unknown>(req: ApiRequest): Promise<T>;
  /** Streams a response body to disk; returns the number of bytes written and the response headers. */
  download(req: DownloadRequest): Promise<{ bytes: number; headers: Record<string, string> }>;
}

/** Supplies bearer tokens; implementations cache and refresh (PAT, OAuth M2M, Entra ID, workload identity). */
export interface TokenProvider {
  /** A valid access token; obtained tokens are passed to the secret masker before they are returned. */
  getToken(signal?: AbortSignal): Promise<string>;
  /** Drops a cached token (after a 401), so the next getToken fetches a new one. */
  invalidate?(): void;
}
