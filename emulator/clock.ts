/**
 * Emulated wall clock: real time plus an offset that tests move forward with `advance(ms)`, so a run
 * that "takes" ten minutes or a token that "expires" in an hour costs no real time.
 */
export interface EmulatorClock {
  now(): number;
  advance(ms: number): void;
  /** Total emulated time added so far. */
  readonly offsetMs: number;
}

export function createEmulatorClock(base: () => number = () => Date.now()): EmulatorClock {
  let offset = 0;
  return {
    now: () => base() + offset,
    advance(ms: number) {
      if (!(ms >= 0)) throw new Error(`clock.advance(ms) needs a non-negative number (got ${ms}).`);
      offset += ms;
    },
    get offsetMs() {
      return offset;
    },
  };
}
