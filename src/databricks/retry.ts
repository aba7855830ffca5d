/**
 * One retry loop for every call: exponential backoff with full jitter, an overall deadline, and the
 * server's `Retry-After` honoured. Which errors are retried is decided by the caller's `shouldRetry`
 * (the HTTP client passes {@link isRetryable} for idempotent calls and
 * {@link isSafeToRetryNonIdempotent} otherwise).
 */
import { systemClock, type Clock } from './clock';
import { CancelledError, cancelledFrom, isRetryable } from './errors';

export interface RetryPolicy {
  /** Total attempts including the first. Default 6. */
  maxAttempts: number;
  /** First backoff ceiling; attempt n waits a random time in [0, base * 2^(n-1)] (full jitter). Default 1000. */
  baseDelayMs: number;
  /** Cap on one backoff. Default 30 000. */
  maxDelayMs: number;
  /** Overall budget measured from the first attempt: no retry starts after it. Default 300 000 (the SDKs' 5 min). */
  deadlineMs: number;
  /** Longest Retry-After honoured; a longer one gives up rather than block the pipeline. Default 120 000. */
  maxRetryAfterMs: number;
  clock: Clock;
  /** Uniform [0, 1) source for jitter; injectable so tests get exact delays. */
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  deadlineMs: 300_000,
  maxRetryAfterMs: 120_000,
  clock: systemClock,
  random: Math.random,
};

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface WithRetryOptions extends Partial<RetryPolicy> {
  shouldRetry?: (err: unknown, attempt: number) => boolean;
  signal?: AbortSignal;
  /** Called before each sleep (for debug logs: pass only the error's message, never the object). */
  onRetry?: (info: RetryInfo) => void;
}

/**
 * The delay before retry number `attempt` (1-based: the wait after the first failure is attempt 1).
 * `Retry-After` wins when present (the server knows best); otherwise full jitter.
 */
export function backoffDelay(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'random'>, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return retryAfterMs;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(policy.random() * ceiling);
}

/**
 * Runs `fn` until it succeeds, a non-retryable error occurs, attempts run out or the deadline passes;
 * the last error is rethrown unchanged (so its message, status and request id survive).
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: WithRetryOptions = {}): Promise<T> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...definedOnly(opts) };
  const shouldRetry = opts.shouldRetry ?? ((e: unknown) => isRetryable(e));
  const start = policy.clock.monotonic();
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw cancelledFrom(opts.signal);
    try {
      return await fn(attempt);
    } catch (err) {
      if (err instanceof CancelledError || opts.signal?.aborted) throw err instanceof CancelledError ? err : cancelledFrom(opts.signal);
      if (attempt >= policy.maxAttempts || !shouldRetry(err, attempt)) throw err;
      const retryAfter = (err as { retryAfterMs?: number }).retryAfterMs;
      if (retryAfter !== undefined && retryAfter > policy.maxRetryAfterMs) throw err;
      const delayMs = backoffDelay(attempt, policy, retryAfter);
      if (policy.clock.monotonic() + delayMs - start > policy.deadlineMs) throw err;
      opts.onRetry?.({ attempt, delayMs, error: err });
      await policy.clock.sleep(delayMs, opts.signal);
    }
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
