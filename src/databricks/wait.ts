/**
 * One poller for every long-running operation (a job run finishing, a repo update, a model version
 * becoming READY): backoff between polls, an overall deadline, cancellation, and transient-error tolerance.
 */
import { systemClock, type Clock } from './clock';
import { CancelledError, cancelledFrom, isRetryable, TimeoutError } from './errors';
import { POLL_DEFAULTS } from './poll-defaults';

/** What a poll returns: `{done: value}` to stop with a result, `{pending: state}` to keep waiting. Throw to halt. */
export type PollResult<T, S> = { done: T } | { pending: S };

export interface WaitOptions<S> {
  /** Overall deadline from the first poll. */
  timeoutMs: number;
  /** Delay after the first pending poll; default 2000. */
  initialIntervalMs?: number;
  /** Cap on the delay between polls; default 30 000. */
  maxIntervalMs?: number;
  /** Growth of the delay per poll; default 1.5. */
  backoffFactor?: number;
  clock?: Clock;
  signal?: AbortSignal;
  /** Called with every pending state (log progress, set the task progress). */
  onProgress?: (state: S, info: { elapsedMs: number; polls: number }) => void;
  /** Renders the last state for the timeout message, e.g. `s => "run 42 still RUNNING (Waiting for cluster)"`. */
  describe?: (state: S | undefined) => string;
  /** What is being waited for, for messages: `"run 42 to finish"`. */
  what?: string;
  /** Consecutive transient errors (see isRetryable) tolerated between successful polls; default 5. */
  maxConsecutiveErrors?: number;
  /** Called for every tolerated transient error (log its message only). */
  onTransientError?: (err: unknown, consecutive: number) => void;
}

export const DEFAULT_WAIT = { ...POLL_DEFAULTS.jobRun, backoffFactor: 1.5, maxConsecutiveErrors: 5 } as const;

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}

function defaultDescribe(state: unknown): string {
  if (state === undefined) return 'no state observed';
  try {
    const s = JSON.stringify(state);
    return s.length > 300 ? `${s.slice(0, 300)}...` : s;
  } catch {
    return String(state);
  }
}

/**
 * Polls until `poll` returns `{done}`, throws a non-transient error, the deadline passes (TimeoutError
 * carrying the last pending state) or `signal` aborts (CancelledError). Polls once more exactly at the
 * deadline, so a wait never gives up without a final look.
 */
export async function waitUntil<T, S>(poll: (pollNumber: number) => Promise<PollResult<T, S>>, opts: WaitOptions<S>): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const factor = opts.backoffFactor ?? DEFAULT_WAIT.backoffFactor;
  const maxInterval = opts.maxIntervalMs ?? DEFAULT_WAIT.maxIntervalMs;
  const maxErrors = opts.maxConsecutiveErrors ?? DEFAULT_WAIT.maxConsecutiveErrors;
  const describe = opts.describe ?? defaultDescribe;
  let interval = opts.initialIntervalMs ?? DEFAULT_WAIT.initialIntervalMs;
  const start = clock.monotonic();
  const deadline = start + opts.timeoutMs;
  let lastState: S | undefined;
  let lastError: unknown;
  let consecutiveErrors = 0;
  for (let polls = 1; ; polls++) {
    if (opts.signal?.aborted) throw cancelledFrom(opts.signal, opts.what ? `Waiting for ${opts.what}` : 'The wait');
    try {
      const r = await poll(polls);
      consecutiveErrors = 0;
      lastError = undefined;
      if ('done' in r) return r.done;
      lastState = r.pending;
      opts.onProgress?.(r.pending, { elapsedMs: clock.monotonic() - start, polls });
    } catch (err) {
      if (err instanceof CancelledError || !isRetryable(err)) throw err;
      consecutiveErrors++;
      lastError = err;
      if (consecutiveErrors > maxErrors) throw err;
      opts.onTransientError?.(err, consecutiveErrors);
    }
    const now = clock.monotonic();
    if (now >= deadline) {
      const elapsed = now - start;
      const errNote = lastError instanceof Error ? ` (last poll failed: ${lastError.message})` : '';
      throw new TimeoutError(
        `${opts.what ? `Waiting for ${opts.what}` : 'The wait'} timed out after ${seconds(elapsed)}; last state: ${describe(lastState)}${errNote}.`,
        lastState,
        elapsed,
      );
    }
    try {
      await clock.sleep(Math.min(interval, deadline - now), opts.signal);
    } catch (err) {
      if (err instanceof CancelledError && opts.signal?.aborted) throw cancelledFrom(opts.signal, opts.what ? `Waiting for ${opts.what}` : 'The wait');
      throw err;
    }
    interval = Math.min(maxInterval, interval * factor);
  }
}
