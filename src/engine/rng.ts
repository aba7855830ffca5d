/**
 * Seeding of the bootstrap's random streams.
 *
 * Generator: Richard Brent's **xor4096** (xorgens, period 2^4096 − 1, combined with a Weyl sequence),
 * as implemented by `seedrandom` (`seedrandom.xor4096`). It is the fastest of seedrandom's generators
 * for our use (≈4.5 ns per `int32()`, versus 2–3.5× more for the default ARC4; see
 * docs/engine-performance.md §6) and passes the usual statistical batteries.
 *
 * Every resample b has its own stream, seeded by seedrandom from the string `resampleKey(seed, b)`. Any
 * resample can therefore be regenerated on its own, and splitting resamples among worker threads gives
 * exactly the single-threaded result. The hot loop does not call seedrandom's closure: it takes the
 * generator state seedrandom produced (128 words, index, Weyl word) and steps the identical recurrence
 * inline — a test checks the inline stream equals `seedrandom.xor4096(key).int32()` word for word.
 */
import seedrandom from 'seedrandom';

/** Int32 words of one xor4096 state: X[0..127], then i, then w. */
export const XOR4096_STATE_WORDS = 130;

/**
 * The seedrandom key of resample `b` under `seed`. Seeds are used through `String(seed)`, so `42` and
 * `'42'` give the same resamples.
 */
export function resampleKey(seed: string | number, b: number): string {
  return `mlops-eval:${String(seed)}:${b}`;
}

/**
 * Writes the initial xor4096 state seedrandom derives from `key` into `out` at `offset`
 * (`XOR4096_STATE_WORDS` words).
 */
export function writeXor4096State(key: string, out: Int32Array, offset: number): void {
  const st = seedrandom.xor4096(key, { state: true }).state();
  for (let j = 0; j < 128; j++) out[offset + j] = st.X[j];
  out[offset + 128] = st.i;
  out[offset + 129] = st.w;
}

/**
 * Initial states of resamples `first .. first + count − 1` under `seed`, packed one after another.
 *
 * @example
 * const states = resampleStates(42, 0, 4); // Int32Array(4 * 130)
 */
export function resampleStates(seed: string | number, first: number, count: number, shared = false): Int32Array {
  const bytes = count * XOR4096_STATE_WORDS * 4;
  const out = new Int32Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  for (let j = 0; j < count; j++) writeXor4096State(resampleKey(seed, first + j), out, j * XOR4096_STATE_WORDS);
  return out;
}

/**
 * xor4096 stepped from a state written by `writeXor4096State`; `next()` returns the same signed 32-bit
 * words as seedrandom's `int32()`. The bootstrap kernel inlines this recurrence; this class is the
 * readable reference for it (and what the tests compare against seedrandom).
 */
export class Xor4096 {
  private readonly X: Int32Array;
  private i: number;
  private w: number;

  constructor(state: Int32Array, offset = 0) {
    this.X = state.slice(offset, offset + 128);
    this.i = state[offset + 128];
    this.w = state[offset + 129];
  }

  /** Next signed 32-bit output. */
  next(): number {
    const X = this.X;
    const w = (this.w = (this.w + 0x61c88647) | 0);
    let v = X[(this.i + 34) & 127];
    const i = (this.i = (this.i + 1) & 127);
    let t = X[i];
    v ^= v << 13;
    t ^= t << 17;
    v ^= v >>> 15;
    t ^= t >>> 12;
    v = X[i] = v ^ t;
    return (v + (w ^ (w >>> 16))) | 0;
  }
}
