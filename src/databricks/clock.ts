/**
 * The one clock of the shipped code: the {@link Clock} interface, its real implementation and a fake. The
 * clients' retry and poll, the run lifecycle, the tasks and Evaluate's promotion claim read time and sleep
 * through it, so a test injects one fake clock through the same interface and counts every sleep without
 * waiting. (The emulator keeps its own clock of the emulated service: emulator/clock.ts.)
 */
import { performance } from 'node:perf_hooks';
import { cancelledFrom } from './errors';

/** Time, injected so waits, backoff and durations can be tested without sleeping. */
export interface Clock {
  /** Wall-clock time in ms since the epoch: timestamps, and ages compared with another machine's time. */
  now(): number;
  /**
   * Monotonic time in whole ms from an arbitrary origin: durations and deadlines measured on this machine,
   * which a wall-clock step (NTP, a changed time setting) must not shorten or stretch. Whole, like `now()`,
   * so a duration computed from it is a valid timer delay (AbortSignal.timeout rejects fractions).
   */
  monotonic(): number;
  /** Waits `ms`; rejects with CancelledError as soon as `signal` aborts (at once when it already has). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function timerSleep(ms: number, signal?: AbortSignal): Promise<void> {
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

/** Wall-clock time, `performance.now()` (whole ms) and real timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => Math.floor(performance.now()),
  sleep: timerSleep,
};

/**
 * A clock whose time only moves when something sleeps on it (or `advance` is called): wall and monotonic
 * time move together. `sleeps` records every requested delay, so a test can assert e.g. that a 429's
 * Retry-After of 3 s was honoured.
 */
export interface FakeClock extends Clock {
  readonly sleeps: number[];
  advance(ms: number): void;
}

export function createFakeClock(startMs = Date.UTC(2024, 0, 1), onAdvance?: (ms: number) => void): FakeClock {
  let elapsed = 0;
  const sleeps: number[] = [];
  const advance = (ms: number) => {
    elapsed += ms;
    onAdvance?.(ms);
  };
  return {
    sleeps,
    now: () => startMs + elapsed,
    monotonic: () => elapsed,
    advance,
    async sleep(ms: number, signal?: AbortSignal) {
      if (signal?.aborted) throw cancelledFrom(signal);
      sleeps.push(ms);
      advance(ms);
      // Yield to the event loop so concurrent work (an emulator answering, a cancel) can interleave.
      await new Promise<void>((r) => setImmediate(r));
      if (signal?.aborted) throw cancelledFrom(signal);
    },
  };
}
