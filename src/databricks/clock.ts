/**
 * Real and fake implementations of {@link Clock}. The client, retry and wait code take a Clock so tests
 * can count attempts and sleeps exactly without waiting.
 */
import type { Clock } from './contracts';
import { cancelledFrom } from './errors';

/** Sleeps for `ms`, rejecting with CancelledError as soon as `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(cancelledFrom(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelledFrom(signal));
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Wall-clock time and real timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => abortableSleep(ms, signal),
};

/**
 * A clock whose time only moves when something sleeps on it (or `advance` is called). `sleeps` records
 * every requested delay, so a test can assert e.g. that a 429's Retry-After of 3 s was honoured.
 */
export interface FakeClock extends Clock {
  readonly sleeps: number[];
  advance(ms: number): void;
}

export function createFakeClock(startMs = Date.UTC(2024, 0, 1), onAdvance?: (ms: number) => void): FakeClock {
  let now = startMs;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    advance(ms: number) {
      now += ms;
      onAdvance?.(ms);
    },
    async sleep(ms: number, signal?: AbortSignal) {
      if (signal?.aborted) throw cancelledFrom(signal);
      sleeps.push(ms);
      now += ms;
      onAdvance?.(ms);
      // Yield to the event loop so concurrent work (an emulator answering, a cancel) can interleave.
      await new Promise<void>((r) => setImmediate(r));
      if (signal?.aborted) throw cancelledFrom(signal);
    },
  };
}
