/** The Databricks client core: HTTP client, auth, errors, retries, waits and paging. */
export * from './contracts';
export * from './errors';
export {
  createApiClient,
  userAgent,
  assertSecureUrl,
  isLoopbackHost,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  DEFAULT_MAX_DOWNLOAD_BYTES,
} from './http';
export type { ApiClientOptions, ApiResponse, DatabricksApiClient } from './http';
export { withRetry, backoffDelay, DEFAULT_RETRY_POLICY } from './retry';
export type { RetryPolicy, WithRetryOptions, RetryInfo } from './retry';
export { waitUntil, DEFAULT_WAIT } from './wait';
export type { PollResult, WaitOptions } from './wait';
export { pagesByToken, paginateByToken, paginateByOffset, toArray } from './paginate';
export type { TokenPagingOptions, OffsetPagingOptions } from './paginate';
export {
  createTokenProvider,
  patTokenProvider,
  cachingTokenProvider,
  refreshMarginMs,
  AZURE_DATABRICKS_RESOURCE_ID,
  AZURE_DATABRICKS_SCOPE,
  DEFAULT_ENTRA_AUTHORITY,
  WIF_MAX_TOKEN_AGE_MS,
} from './auth';
export type { AuthConfig, TokenProviderDeps, RefreshingTokenProvider } from './auth';
export { systemClock, createFakeClock } from './clock';
export type { Clock, FakeClock } from './clock';
export { createTransport } from './proxy';
export type { ProxyConfig, Transport } from './proxy';
