/**
 * Stable ascending argsort of a score column by LSD radix sort on the numbers' bit patterns, with tie
 * groups marked (and, on request, each row's label carried along). Every metric and both comparison
 * methods start from this order.
 *
 * Why radix: on the float64 bit pattern (sign-flip transform) it is several times faster than a
 * comparator sort (see /work/shared/reference/bootstrap-performance.md §7), and it is stable, so the
 * order — hence every downstream sum — is deterministic.
 *
 * Memory: float64 scores use 24 bytes per row of scratch (two buffers of [low word, high word, row]
 * records, so that no pass has to gather keys at random), 32-bit types 16 bytes per row; 4 bytes per
 * row for the result.
 */
import type { ScoreArray } from './types';

/** Bit 31 of an order entry: the element ties with the next one in sorted order. */
export const TIE_WITH_NEXT = 0x80000000;
/** Bit 30 of an order entry, when labels were given: the row is a positive. */
export const LABEL_BIT = 0x40000000;
/** Low 30 bits of an order entry: the row index. */
export const ROW_MASK = 0x3fffffff;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Sorts row indices by ascending score, stable, and marks ties.
 *
 * Entry `k` of the result is `row | (label << 30) | (tieWithNext << 31)`, where `row` is the row at
 * sorted position `k`, `label` its label when `labels` is given (0 otherwise), and `tieWithNext` is 1
 * when the score of that row equals the score of the row at position `k + 1`. `-0` and `+0` tie, as in
 * scikit-learn. Scores must not be NaN (the reader rejects them); `±Infinity` sort at the ends. The
 * inputs are not modified. At most 2^30 − 1 rows.
 *
 * @example
 * const order = sortOrder(new Float64Array([0.3, 0.1, 0.3]));
 * // rows 1, 0, 2; row 0 ties with row 2:
 * // [1, 0 | TIE_WITH_NEXT, 2]
 */
export function sortOrder(scores: ScoreArray, labels?: Uint8Array): Uint32Array {
  const n = scores.length;
  if (n > ROW_MASK) throw new RangeError(`sortOrder: ${n} rows is more than the supported ${ROW_MASK}`);
  if (labels !== undefined && labels.length !== n) throw new RangeError(`sortOrder: ${n} scores but ${labels.length} labels`);
  if (scores instanceof Float64Array) return sortFloat64(scores, labels);
  const keys = new Uint32Array(n);
  if (scores instanceof Float32Array) {
    const bits = new Uint32Array(scores.buffer, scores.byteOffset, n);
    for (let i = 0; i < n; i++) {
      let h = bits[i];
      if (h === 0x80000000) h = 0; // -0 ties with +0
      keys[i] = h & 0x80000000 ? ~h >>> 0 : (h | 0x80000000) >>> 0;
    }
  } else if (scores instanceof Int32Array || scores instanceof Int16Array || scores instanceof Int8Array) {
    for (let i = 0; i < n; i++) keys[i] = (scores[i] ^ 0x80000000) >>> 0;
  } else {
    keys.set(scores); // Uint32Array, Uint16Array, Uint8Array: the value is the key
  }
  let rows: Uint32Array | null = null;
  if (labels !== undefined) {
    rows = new Uint32Array(n);
    for (let i = 0; i < n; i++) rows[i] = labels[i] === 1 ? (i | LABEL_BIT) >>> 0 : i;
  }
  const { perm, sortedKeys } = radixSort32(keys, rows, n);
  for (let k = 0; k + 1 < n; k++) {
    if (sortedKeys[k] === sortedKeys[k + 1]) perm[k] = (perm[k] | TIE_WITH_NEXT) >>> 0;
  }
  return perm;
}

/**
 * LSD radix sort of 32-bit keys with 8-bit digits, carrying row indices. Digits on which every key
 * agrees are skipped. `keys` is consumed (used as scratch); `perm` null means the identity.
 */
function radixSort32(keys: Uint32Array, perm: Uint32Array | null, n: number): { perm: Uint32Array; sortedKeys: Uint32Array } {
  const hist = new Uint32Array(4 * 256);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    hist[k & 255]++;
    hist[256 + ((k >>> 8) & 255)]++;
    hist[512 + ((k >>> 16) & 255)]++;
    hist[768 + (k >>> 24)]++;
  }
  let kIn = keys;
  let kOut: Uint32Array = new Uint32Array(n);
  let pIn = perm;
  let pOut: Uint32Array = new Uint32Array(n);
  for (let d = 0; d < 4; d++) {
    const offsets = prefixOffsets(hist, d * 256, n);
    if (offsets === null) continue;
    scatterPass(kIn, pIn, kOut, pOut, d * 8, offsets, n);
    const tk = kIn;
    kIn = kOut;
    kOut = tk;
    const tp = pIn;
    pIn = pOut;
    pOut = tp ?? new Uint32Array(n);
  }
  if (pIn === null) {
    pIn = new Uint32Array(n);
    for (let i = 0; i < n; i++) pIn[i] = i;
  }
  return { perm: pIn, sortedKeys: kIn };
}

/** Exclusive prefix sums of one 256-bucket histogram, or null when all n keys fall in one bucket. */
function prefixOffsets(hist: Uint32Array, base: number, n: number): Uint32Array | null {
  const offsets = new Uint32Array(256);
  let sum = 0;
  for (let b = 0; b < 256; b++) {
    const c = hist[base + b];
    if (c === n) return null;
    offsets[b] = sum;
    sum += c;
  }
  return offsets;
}

function scatterPass(
  kIn: Uint32Array,
  pIn: Uint32Array | null,
  kOut: Uint32Array,
  pOut: Uint32Array,
  shift: number,
  offsets: Uint32Array,
  n: number,
): void {
  if (pIn === null) {
    for (let i = 0; i < n; i++) {
      const k = kIn[i];
      const dst = offsets[(k >>> shift) & 255]++;
      kOut[dst] = k;
      pOut[dst] = i;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const k = kIn[i];
      const dst = offsets[(k >>> shift) & 255]++;
      kOut[dst] = k;
      pOut[dst] = pIn[i];
    }
  }
}

/**
 * Float64 keys: 64-bit order-preserving transform (flip all bits of negatives, the sign bit of
 * positives; -0 mapped to +0), LSD radix over the 8 bytes with records [lo, hi, row] carried together,
 * so every pass reads sequentially and writes to 256 streams — no random gathers, which at 10^7 rows
 * cost more than the passes themselves.
 */
function sortFloat64(scores: Float64Array, labels: Uint8Array | undefined): Uint32Array {
  const n = scores.length;
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, 2 * n);
  const HI = LITTLE_ENDIAN ? 1 : 0;
  const LO = 1 - HI;
  const hist = new Uint32Array(8 * 256);
  for (let i = 0; i < n; i++) {
    let h = bits[2 * i + HI];
    let l = bits[2 * i + LO];
    if (h === 0x80000000 && l === 0) h = 0; // -0 ties with +0
    if (h & 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else {
      h = (h | 0x80000000) >>> 0;
    }
    hist[l & 255]++;
    hist[256 + ((l >>> 8) & 255)]++;
    hist[512 + ((l >>> 16) & 255)]++;
    hist[768 + (l >>> 24)]++;
    hist[1024 + (h & 255)]++;
    hist[1280 + ((h >>> 8) & 255)]++;
    hist[1536 + ((h >>> 16) & 255)]++;
    hist[1792 + (h >>> 24)]++;
  }
  let src: Uint32Array | null = null;
  let dst: Uint32Array | null = null;
  for (let d = 0; d < 8; d++) {
    const offsets = prefixOffsets(hist, d * 256, n);
    if (offsets === null) continue;
    const word = d < 4 ? 0 : 1;
    const shift = (d & 3) * 8;
    if (src === null) {
      // First pass: read the scores, transform, scatter records.
      dst = new Uint32Array(3 * n);
      for (let i = 0; i < n; i++) {
        let h = bits[2 * i + HI];
        let l = bits[2 * i + LO];
        if (h === 0x80000000 && l === 0) h = 0;
        if (h & 0x80000000) {
          h = ~h >>> 0;
          l = ~l >>> 0;
        } else {
          h = (h | 0x80000000) >>> 0;
        }
        const at = 3 * offsets[((word === 0 ? l : h) >>> shift) & 255]++;
        dst[at] = l;
        dst[at + 1] = h;
        dst[at + 2] = labels !== undefined && labels[i] === 1 ? (i | LABEL_BIT) >>> 0 : i;
      }
      src = dst;
      dst = new Uint32Array(3 * n);
    } else {
      const out: Uint32Array = dst!;
      for (let r = 0; r < 3 * n; r += 3) {
        const at = 3 * offsets[(src[r + word] >>> shift) & 255]++;
        out[at] = src[r];
        out[at + 1] = src[r + 1];
        out[at + 2] = src[r + 2];
      }
      dst = src;
      src = out;
    }
  }
  const perm = new Uint32Array(n);
  if (src === null) {
    // Every key is equal: identity order, all tied.
    for (let k = 0; k < n; k++) {
      const row = labels !== undefined && labels[k] === 1 ? k | LABEL_BIT : k;
      perm[k] = (k + 1 < n ? row | TIE_WITH_NEXT : row) >>> 0;
    }
    return perm;
  }
  dst = null;
  for (let k = 0, r = 0; k < n; k++, r += 3) {
    const tie = k + 1 < n && src[r] === src[r + 3] && src[r + 1] === src[r + 4];
    perm[k] = tie ? (src[r + 2] | TIE_WITH_NEXT) >>> 0 : src[r + 2];
  }
  return perm;
}
