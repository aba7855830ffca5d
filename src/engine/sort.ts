/**
 * Stable ascending argsort of a score column by LSD radix sort on the numbers' bit patterns, with tie
 * groups marked (and, on request, each row's label carried along). Every metric and both comparison
 * methods start from this order.
 *
 * Why radix: on the float64 bit pattern (sign-flip transform) it is several times faster than a
 * comparator sort (see docs/engine-performance.md §7), and it is stable, so the
 * order — hence every downstream sum — is deterministic.
 *
 * Memory: float64 scores use 24 bytes per row of scratch (two buffers of [low word, high word, row]
 * records, so that no pass has to gather keys at random), 32-bit types 16 bytes per row (callers may
 * pass the scratch in and reuse it); 4 bytes per row for the result.
 */
import type { ScoreArray } from './types';

/** Bit 31 of an order entry: the element ties with the next one in sorted order. */
export const TIE_WITH_NEXT = 0x80000000;
/** Bit 30 of an order entry, when labels were given: the row is a positive. */
export const LABEL_BIT = 0x40000000;
/** Low 30 bits of an order entry: the row index. */
export const ROW_MASK = 0x3fffffff;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reusable buffers for `sortOrder`. */
export interface SortOptions {
  /** Scratch of at least `sortScratchBytes(n)` bytes, overwritten. */
  scratch?: ArrayBufferLike;
  /** Array of n entries to write the order into (returned). */
  into?: Uint32Array;
  /**
   * Values to carry in place of the row indices (each below 2^30): entry `k` of the result then holds
   * `rowWords[row]` instead of `row`, so a caller that only needs one per-row value in sorted order
   * reads it sequentially instead of gathering it at random.
   */
  rowWords?: Uint32Array;
}

/** Bytes of scratch `sortOrder` needs for n rows of any score type (it allocates them if not given). */
export function sortScratchBytes(n: number): number {
  return 24 * n;
}

/**
 * Sorts row indices by ascending score, stable, and marks ties.
 *
 * Entry `k` of the result is `row | (label << 30) | (tieWithNext << 31)`, where `row` is the row at
 * sorted position `k`, `label` its label when `labels` is given (0 otherwise), and `tieWithNext` is 1
 * when the score of that row equals the score of the row at position `k + 1`. `-0` and `+0` tie, as in
 * scikit-learn. Scores must not be NaN (the reader rejects them); `±Infinity` sort at the ends. The
 * inputs are not modified. At most 2^30 − 1 rows.
 *
 * `opts.scratch` (at least `sortScratchBytes(n)` bytes) lets callers sorting several columns reuse one
 * buffer instead of leaving a garbage buffer per sort for the collector, and `opts.into` receives the
 * result (e.g. in a SharedArrayBuffer): both bound peak memory.
 *
 * @example
 * const order = sortOrder(new Float64Array([0.3, 0.1, 0.3]));
 * // rows 1, 0, 2; row 0 ties with row 2:
 * // [1, 0 | TIE_WITH_NEXT, 2]
 */
export function sortOrder(scores: ScoreArray, labels?: Uint8Array, opts: SortOptions = {}): Uint32Array {
  const n = scores.length;
  if (n > ROW_MASK) throw new RangeError(`sortOrder: ${n} rows is more than the supported ${ROW_MASK}`);
  if (labels !== undefined && labels.length !== n) throw new RangeError(`sortOrder: ${n} scores but ${labels.length} labels`);
  // Records [key words..., row | label bit], ping-ponged between two halves of the scratch.
  const words = scores instanceof Float64Array ? 3 : 2;
  const bytes = 2 * words * 4 * n;
  const { scratch, into, rowWords } = opts;
  if (rowWords !== undefined && rowWords.length !== n) throw new RangeError(`sortOrder: 'rowWords' has ${rowWords.length} entries, expected ${n}`);
  const buffer = scratch !== undefined && scratch.byteLength >= bytes ? scratch : new ArrayBuffer(bytes);
  let src = new Uint32Array(buffer, 0, words * n);
  let dst = new Uint32Array(buffer, words * 4 * n, words * n);
  const hist = new Uint32Array(words === 3 ? 8 * 256 : 4 * 256);
  if (words === 3) writeRecords64(scores as Float64Array, labels, rowWords, src, hist);
  else writeRecords32(scores, labels, rowWords, src, hist);
  // LSD passes over the key bytes (low word first), skipping bytes on which every key agrees.
  for (let d = 0; d < hist.length / 256; d++) {
    const offsets = prefixOffsets(hist, d * 256, n);
    if (offsets === null) continue;
    const word = d >> 2;
    const shift = (d & 3) * 8;
    if (words === 3) scatter3(src, dst, word, shift, offsets, n);
    else scatter2(src, dst, shift, offsets, n);
    const t = src;
    src = dst;
    dst = t;
  }
  if (into !== undefined && into.length !== n) throw new RangeError(`sortOrder: 'into' has ${into.length} entries, expected ${n}`);
  const perm = into ?? new Uint32Array(n);
  if (words === 3) finish3(src, perm, n);
  else finish2(src, perm, n);
  return perm;
}

/** Row words of sorted [lo, hi, row] records, with the tie mark where the next key is equal. */
function finish3(src: Uint32Array, perm: Uint32Array, n: number): void {
  for (let k = 0, r = 0; k < n; k++, r += 3) {
    const tie = k + 1 < n && src[r] === src[r + 3] && src[r + 1] === src[r + 4];
    perm[k] = tie ? (src[r + 2] | TIE_WITH_NEXT) >>> 0 : src[r + 2];
  }
}

/** Row words of sorted [key, row] records, with the tie mark where the next key is equal. */
function finish2(src: Uint32Array, perm: Uint32Array, n: number): void {
  for (let k = 0, r = 0; k < n; k++, r += 2) {
    const tie = k + 1 < n && src[r] === src[r + 2];
    perm[k] = tie ? (src[r + 1] | TIE_WITH_NEXT) >>> 0 : src[r + 1];
  }
}

/** The row word of a record: the row (or its carried value), with the label bit when labels are given. */
function rowWord(i: number, labels: Uint8Array | undefined, rowWords: Uint32Array | undefined): number {
  const w = rowWords === undefined ? i : rowWords[i];
  return labels !== undefined && labels[i] === 1 ? (w | LABEL_BIT) >>> 0 : w;
}

/**
 * Float64 keys: 64-bit order-preserving transform (flip all bits of negatives, the sign bit of
 * positives; -0 mapped to +0) written as records [lo, hi, row] with the 8 byte histograms. Carrying the
 * key with the row makes every pass read sequentially and write to 256 streams: no random gathers,
 * which at 10^7 rows cost more than the passes themselves.
 */
function writeRecords64(scores: Float64Array, labels: Uint8Array | undefined, rowWords: Uint32Array | undefined, out: Uint32Array, hist: Uint32Array): void {
  const n = scores.length;
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, 2 * n);
  const HI = LITTLE_ENDIAN ? 1 : 0;
  const LO = 1 - HI;
  for (let i = 0, r = 0; i < n; i++, r += 3) {
    let h = bits[2 * i + HI];
    let l = bits[2 * i + LO];
    if (h === 0x80000000 && l === 0) h = 0; // -0 ties with +0
    if (h & 0x80000000) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else {
      h = (h | 0x80000000) >>> 0;
    }
    out[r] = l;
    out[r + 1] = h;
    out[r + 2] = rowWord(i, labels, rowWords);
    hist[l & 255]++;
    hist[256 + ((l >>> 8) & 255)]++;
    hist[512 + ((l >>> 16) & 255)]++;
    hist[768 + (l >>> 24)]++;
    hist[1024 + (h & 255)]++;
    hist[1280 + ((h >>> 8) & 255)]++;
    hist[1536 + ((h >>> 16) & 255)]++;
    hist[1792 + (h >>> 24)]++;
  }
}

/** 32-bit keys (float32 with the sign transform, integers offset to unsigned order) as records [key, row]. */
function writeRecords32(scores: ScoreArray, labels: Uint8Array | undefined, rowWords: Uint32Array | undefined, out: Uint32Array, hist: Uint32Array): void {
  const n = scores.length;
  const put = (i: number, key: number): void => {
    out[2 * i] = key;
    out[2 * i + 1] = rowWord(i, labels, rowWords);
    hist[key & 255]++;
    hist[256 + ((key >>> 8) & 255)]++;
    hist[512 + ((key >>> 16) & 255)]++;
    hist[768 + (key >>> 24)]++;
  };
  if (scores instanceof Float32Array) {
    const bits = new Uint32Array(scores.buffer, scores.byteOffset, n);
    for (let i = 0; i < n; i++) {
      let h = bits[i];
      if (h === 0x80000000) h = 0; // -0 ties with +0
      put(i, h & 0x80000000 ? ~h >>> 0 : (h | 0x80000000) >>> 0);
    }
  } else if (scores instanceof Int32Array || scores instanceof Int16Array || scores instanceof Int8Array) {
    for (let i = 0; i < n; i++) put(i, (scores[i] ^ 0x80000000) >>> 0);
  } else {
    for (let i = 0; i < n; i++) put(i, scores[i]); // unsigned: the value is the key
  }
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

function scatter3(src: Uint32Array, dst: Uint32Array, word: number, shift: number, offsets: Uint32Array, n: number): void {
  for (let r = 0; r < 3 * n; r += 3) {
    const at = 3 * offsets[(src[r + word] >>> shift) & 255]++;
    dst[at] = src[r];
    dst[at + 1] = src[r + 1];
    dst[at + 2] = src[r + 2];
  }
}

function scatter2(src: Uint32Array, dst: Uint32Array, shift: number, offsets: Uint32Array, n: number): void {
  for (let r = 0; r < 2 * n; r += 2) {
    const at = 2 * offsets[(src[r] >>> shift) & 255]++;
    dst[at] = src[r];
    dst[at + 1] = src[r + 1];
  }
}
