/**
 * The bootstrap's inner loop: draws resamples and evaluates every model's metric on each of them.
 *
 * `createKernel` is deliberately **self-contained** — it references nothing outside its own body (no
 * imports, no module constants) — so that `parallel.ts` can ship its source text to worker threads
 * (`createKernel.toString()`), which keeps it working after esbuild bundles the task into one file. The
 * same code runs on the main thread (`runKernel`), so single- and multi-threaded results are identical.
 * Each thread creates the kernel once: its hot loops are functions of their parameters only, created
 * once, which V8 optimises once (closures re-created per call were measured 20–50% slower).
 *
 * Design (measurements in /work/shared/reference/bootstrap-performance.md):
 * - **Sort once.** Every model's rows are pre-sorted by score (`bootstrap.ts`); a resample only changes
 *   row multiplicities, so ROC AUC is a weighted Mann–Whitney sum over the fixed order and average
 *   precision a weighted walk over it: O(n) per resample and model, no per-resample sort.
 * - **Reference positions.** Counts are indexed by a row's position in the reference order (the
 *   reference model's sorted order for ranking metrics, row order for losses). Relabelling rows by a
 *   fixed bijection does not change the distribution of a uniform draw, and it makes the reference
 *   model's pass sequential. Each other model reads its counts through one packed int32 per sorted
 *   position: `refPos | label << 30 | tieWithNext << 31`.
 * - **Four resamples per pass.** Counts are Uint8 and interleaved four per position, so one 32-bit
 *   gather feeds four resamples. A count cannot exceed 255 unless a row is drawn 256 times in one
 *   resample (probability below 10^-500 for any n); the kernel verifies every total and throws if it
 *   ever happens rather than wrap silently.
 * - **Exact multinomial draws.** Each of the n draws is a uniform integer in [0, n) by Lemire's
 *   multiply-and-reject method on a 32-bit output (no modulo bias), from the resample's own xor4096
 *   stream, stepped inline (the generator state comes from seedrandom; see rng.ts).
 * - **Bucketed increments** (large n): a draw is not added to the count array at once — random
 *   read-modify-writes over an array of several MB thrash the caches. Draws are first appended to the
 *   bucket of their 2^bucketBits-position block, then each bucket is applied while its block of counts
 *   sits in L1. Same draws, same counts (a full bucket falls back to the direct increment).
 * - **Poisson (opt-in).** Each position gets an independent Poisson(1) count by inversion of the 32-bit
 *   output against the CDF, through a 65,536-entry table on the top 16 bits (slow path ≈ 2·10^-4).
 * - **Degenerate resamples** (one class only, or nothing drawn) are redrawn from the same stream and
 *   counted per resample in `redraws`; nothing is silently replaced.
 */

/** Work handed to `runKernel`: resamples `count` of them, whose initial states are in `states`. */
export interface KernelJob {
  /** Rows. */
  n: number;
  /** 0 roc_auc, 1 average_precision, 2 log_loss, 3 brier. */
  metric: number;
  /** 0 multinomial, 1 poisson. */
  scheme: number;
  /** Labels (0/1) in reference order. */
  labels: Uint8Array;
  /** Ranking metrics: per model, packed entries `refPos | label << 30 | tieWithNext << 31` in ascending score order. */
  orders: Int32Array[];
  /** Loss metrics: per model, the per-row loss in reference order. */
  losses: Float64Array[];
  /** `count` xor4096 states of 130 words (X[0..127], i, w); advanced in place. */
  states: Int32Array;
  count: number;
  /** Output: metric of model m on resample j at `out[m * count + j]`. */
  out: Float64Array;
  /** Output: number of degenerate draws replaced for resample j. */
  redraws: Uint32Array;
  /** Multinomial only: log2 of the positions per increment bucket, or 0 to increment directly. */
  bucketBits: number;
  /** Capacity of a bucket beyond its block size (default 16 standard deviations of its draw count). */
  bucketSlack?: number;
  /** Memory for the counts and buckets, used when large enough (else the kernel allocates its own). */
  scratch?: { buffer: ArrayBufferLike; offset: number; bytes: number };
}

/**
 * Creates the kernel function: `run(job)` draws each resample's multiplicities, redraws while
 * degenerate, and writes every model's metric. Pure apart from writing `out`, `redraws` and advancing
 * `states`.
 */
export function createKernel(): (job: KernelJob) => void {
  const WORDS = 130;
  const MAX_REDRAWS = 100000;

  // Poisson(1) inversion: count = #{c : thr[c] <= x} for a uniform 32-bit x; thr ends with 2^32.
  const thrList: number[] = [];
  let pmf = Math.exp(-1);
  let cdf = pmf;
  for (let c = 1; c < 64; c++) {
    const t = Math.round(cdf * 4294967296);
    if (t >= 4294967296) break;
    thrList.push(t);
    pmf /= c;
    cdf += pmf;
  }
  thrList.push(4294967296);
  const thr = Float64Array.from(thrList);
  function poissonOf(x: number): number {
    let c = 0;
    while (x >= thr[c]) c++;
    return c;
  }
  // The count for each value of the top 16 bits, or 255 when a threshold falls inside that block.
  const ptab = new Uint8Array(65536);
  for (let h = 0; h < 65536; h++) {
    const lo = poissonOf(h * 65536);
    ptab[h] = lo === poissonOf(h * 65536 + 65535) ? lo : 255;
  }

  // Generator outputs of one block of the multinomial draw (see drawMultinomial).
  const WORD_BLOCK = 2048;
  const wordBlock = new Uint32Array(WORD_BLOCK);

  /** Buffers of one job: interleaved counts, increment buckets. */
  interface Scratch {
    c8: Uint8Array;
    c32: Int32Array;
    bits: number;
    capacity: number;
    buckets: number;
    buf: Int32Array;
    fills: Int32Array;
  }

  /**
   * Multinomial draw of resample `base / 130` into byte lane k (which must be zero): n uniform indices
   * by Lemire's method, each added to its count directly or through its bucket.
   */
  function drawMultinomial(states: Int32Array, base: number, k: number, n: number, s: Scratch): void {
    const X = states.subarray(base, base + 128);
    let i = states[base + 128];
    let w = states[base + 129];
    const bytes = s.c8;
    const bits = s.bits;
    const cap = s.capacity;
    const buf = s.buf;
    const fills = s.fills;
    // Lemire: reject a 32-bit draw x when (x·n mod 2^32) < 2^32 mod n.
    const rej = 4294967296 % n;
    const words = wordBlock;
    // Generator outputs are produced a block at a time (a tight, branch-free loop), then consumed in
    // order: a rejected word is skipped, an accepted one is a draw. A block never holds more words than
    // draws still missing, so no word is generated that the one-at-a-time loop would not have consumed
    // and the state ends exactly where it did (a degenerate resample's redraw continues from it).
    let r = 0;
    while (r < n) {
      const m = n - r < WORD_BLOCK ? n - r : WORD_BLOCK;
      for (let q = 0; q < m; q++) {
        w = (w + 0x61c88647) | 0;
        let v = X[(i + 34) & 127];
        i = (i + 1) & 127;
        let t = X[i];
        v ^= v << 13;
        t ^= t << 17;
        v ^= v >>> 15;
        t ^= t >>> 12;
        v ^= t;
        X[i] = v;
        words[q] = (v + (w ^ (w >>> 16))) | 0;
      }
      for (let q = 0; q < m; q++) {
        const x = words[q];
        const lo = Math.imul(x, n) >>> 0;
        if (lo < rej) continue;
        r++;
        // High word of x·n, exact: x·n is within 2^10 of its double rounding, far below 2^31.
        const idx = Math.round((x * n - lo) * 2.3283064365386963e-10);
        if (bits === 0) {
          bytes[idx * 4 + k]++;
        } else {
          // fills[bk] is the bucket's next write position in buf; (bk + 1) * cap its end.
          const bk = idx >>> bits;
          const p = fills[bk];
          if (p < (bk + 1) * cap) {
            buf[p] = idx;
            fills[bk] = p + 1;
          } else {
            bytes[idx * 4 + k]++;
          }
        }
      }
    }
    for (let bk = 0; bk < s.buckets; bk++) {
      const start = bk * cap;
      const end = fills[bk];
      for (let q = start; q < end; q++) bytes[buf[q] * 4 + k]++;
      fills[bk] = start;
    }
    states[base + 128] = i;
    states[base + 129] = w;
  }

  /** Poisson(1) draw of resample `base / 130` into byte lane k, one count per position in order. */
  function drawPoisson(states: Int32Array, base: number, k: number, n: number, bytes: Uint8Array): void {
    const X = states.subarray(base, base + 128);
    let i = states[base + 128];
    let w = states[base + 129];
    const table = ptab;
    for (let r = 0; r < n; r++) {
      w = (w + 0x61c88647) | 0;
      let v = X[(i + 34) & 127];
      i = (i + 1) & 127;
      let t = X[i];
      v ^= v << 13;
      t ^= t << 17;
      v ^= v >>> 15;
      t ^= t >>> 12;
      v ^= t;
      X[i] = v;
      const x = ((v + (w ^ (w >>> 16))) | 0) >>> 0;
      let c = table[x >>> 16];
      if (c === 255) c = poissonOf(x);
      bytes[r * 4 + k] = c;
    }
    states[base + 128] = i;
    states[base + 129] = w;
  }

  /** Total and positive weight of the four lanes. */
  function sumLanes(words: Int32Array, lab: Uint8Array, n: number, tot: Float64Array, pos: Float64Array): void {
    let t0 = 0, t1 = 0, t2 = 0, t3 = 0, p0 = 0, p1 = 0, p2 = 0, p3 = 0;
    for (let r = 0; r < n; r++) {
      const v = words[r];
      const vp = v & -lab[r];
      t0 += v & 255;
      t1 += (v >>> 8) & 255;
      t2 += (v >>> 16) & 255;
      t3 += v >>> 24;
      p0 += vp & 255;
      p1 += (vp >>> 8) & 255;
      p2 += (vp >>> 16) & 255;
      p3 += vp >>> 24;
    }
    tot[0] = t0; tot[1] = t1; tot[2] = t2; tot[3] = t3;
    pos[0] = p0; pos[1] = p1; pos[2] = p2; pos[3] = p3;
  }

  /** Total and positive weight of lane k. */
  function sumLane(bytes: Uint8Array, lab: Uint8Array, n: number, k: number, tot: Float64Array, pos: Float64Array): void {
    let t = 0;
    let p = 0;
    for (let r = 0; r < n; r++) {
      const c = bytes[r * 4 + k];
      t += c;
      if (lab[r] === 1) p += c;
    }
    tot[k] = t;
    pos[k] = p;
  }

  /**
   * Weighted Mann–Whitney 2U of four lanes over one model's packed order; AUC = 2U / (2·P·N).
   * Within a tie group positives come first (bootstrap.ts orders them so), hence a positive's
   * "negatives below" are those strictly below, and a negative adds ½·(its group's positives) for the
   * tied pairs: 2U = 2·Σ_pos c·below + Σ_neg c·groupPositives. Branching on the label is cheaper than
   * branch-free masks here: in score order the labels come in long runs, which the predictor learns.
   */
  function aucPass(ord: Int32Array, words: Int32Array, n: number, tied: boolean, tot: Float64Array, pos: Float64Array, res: Float64Array): void {
    let u0 = 0, u1 = 0, u2 = 0, u3 = 0;
    let b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    let t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    if (!tied) {
      for (let k = 0; k < n; k++) {
        const e = ord[k];
        const v = words[e & 0x3fffffff];
        if (e & 0x40000000) {
          u0 += (v & 255) * b0;
          u1 += ((v >>> 8) & 255) * b1;
          u2 += ((v >>> 16) & 255) * b2;
          u3 += (v >>> 24) * b3;
        } else {
          b0 += v & 255;
          b1 += (v >>> 8) & 255;
          b2 += (v >>> 16) & 255;
          b3 += v >>> 24;
        }
      }
    } else {
      let g0 = 0, g1 = 0, g2 = 0, g3 = 0;
      for (let k = 0; k < n; k++) {
        const e = ord[k];
        const v = words[e & 0x3fffffff];
        const c0 = v & 255, c1 = (v >>> 8) & 255, c2 = (v >>> 16) & 255, c3 = v >>> 24;
        if (e & 0x40000000) {
          u0 += c0 * b0; u1 += c1 * b1; u2 += c2 * b2; u3 += c3 * b3;
          g0 += c0; g1 += c1; g2 += c2; g3 += c3;
        } else {
          b0 += c0; b1 += c1; b2 += c2; b3 += c3;
          t0 += c0 * g0; t1 += c1 * g1; t2 += c2 * g2; t3 += c3 * g3;
        }
        if (e >= 0) {
          g0 = 0; g1 = 0; g2 = 0; g3 = 0;
        }
      }
    }
    res[0] = (2 * u0 + t0) / (2 * pos[0] * (tot[0] - pos[0]));
    res[1] = (2 * u1 + t1) / (2 * pos[1] * (tot[1] - pos[1]));
    res[2] = (2 * u2 + t2) / (2 * pos[2] * (tot[2] - pos[2]));
    res[3] = (2 * u3 + t3) / (2 * pos[3] * (tot[3] - pos[3]));
  }

  /**
   * Average precision of four lanes: walk the order downwards, one precision per distinct score with
   * positives (Σ gp·TP/(TP+FP), divided by P at the end), in the same operation order as `apSums`.
   */
  function apPass(ord: Int32Array, words: Int32Array, n: number, tied: boolean, pos: Float64Array, res: Float64Array): void {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let tp0 = 0, tp1 = 0, tp2 = 0, tp3 = 0;
    let fp0 = 0, fp1 = 0, fp2 = 0, fp3 = 0;
    if (!tied) {
      for (let k = n - 1; k >= 0; k--) {
        const e = ord[k];
        const v = words[e & 0x3fffffff];
        const c0 = v & 255, c1 = (v >>> 8) & 255, c2 = (v >>> 16) & 255, c3 = v >>> 24;
        if (e & 0x40000000) {
          tp0 += c0; tp1 += c1; tp2 += c2; tp3 += c3;
          s0 += (c0 * tp0) / (tp0 + fp0 || 1);
          s1 += (c1 * tp1) / (tp1 + fp1 || 1);
          s2 += (c2 * tp2) / (tp2 + fp2 || 1);
          s3 += (c3 * tp3) / (tp3 + fp3 || 1);
        } else {
          fp0 += c0; fp1 += c1; fp2 += c2; fp3 += c3;
        }
      }
    } else {
      let p0 = 0, p1 = 0, p2 = 0, p3 = 0;
      let q0 = 0, q1 = 0, q2 = 0, q3 = 0;
      for (let k = n - 1; k >= 0; k--) {
        const e = ord[k];
        const v = words[e & 0x3fffffff];
        if (e & 0x40000000) {
          p0 += v & 255; p1 += (v >>> 8) & 255; p2 += (v >>> 16) & 255; p3 += v >>> 24;
        } else {
          q0 += v & 255; q1 += (v >>> 8) & 255; q2 += (v >>> 16) & 255; q3 += v >>> 24;
        }
        if (k === 0 || ord[k - 1] >= 0) {
          tp0 += p0; tp1 += p1; tp2 += p2; tp3 += p3;
          fp0 += q0; fp1 += q1; fp2 += q2; fp3 += q3;
          s0 += (p0 * tp0) / (tp0 + fp0 || 1);
          s1 += (p1 * tp1) / (tp1 + fp1 || 1);
          s2 += (p2 * tp2) / (tp2 + fp2 || 1);
          s3 += (p3 * tp3) / (tp3 + fp3 || 1);
          p0 = 0; p1 = 0; p2 = 0; p3 = 0;
          q0 = 0; q1 = 0; q2 = 0; q3 = 0;
        }
      }
    }
    res[0] = s0 / pos[0];
    res[1] = s1 / pos[1];
    res[2] = s2 / pos[2];
    res[3] = s3 / pos[3];
  }

  /** Weighted mean of per-row losses of four lanes. */
  function lossPass(loss: Float64Array, words: Int32Array, n: number, tot: Float64Array, res: Float64Array): void {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let r = 0; r < n; r++) {
      const v = words[r];
      const l = loss[r];
      s0 += (v & 255) * l;
      s1 += ((v >>> 8) & 255) * l;
      s2 += ((v >>> 16) & 255) * l;
      s3 += (v >>> 24) * l;
    }
    res[0] = s0 / tot[0];
    res[1] = s1 / tot[1];
    res[2] = s2 / tot[2];
    res[3] = s3 / tot[3];
  }

  function hasTies(ord: Int32Array): boolean {
    for (let k = 0; k < ord.length; k++) if (ord[k] < 0) return true;
    return false;
  }

  return function run(job: KernelJob): void {
    const { n, count, metric, scheme, labels, states, out, redraws } = job;
    const models = metric <= 1 ? job.orders.length : job.losses.length;
    // Increment buckets: capacity = block size + 16 standard deviations of a bucket's draw count.
    const bits = scheme === 0 ? job.bucketBits : 0;
    const block = bits > 0 ? 2 ** bits : 0;
    const buckets = bits > 0 ? Math.ceil(n / block) : 0;
    const capacity = block + (job.bucketSlack ?? 16 * Math.ceil(Math.sqrt(block)));
    const countBytes = Math.ceil(n / 2) * 8;
    const need = countBytes + 4 * buckets * capacity + 4 * buckets;
    const sc = job.scratch;
    const mem = sc !== undefined && sc.bytes >= need ? sc.buffer : new ArrayBuffer(need);
    const at = sc !== undefined && sc.bytes >= need ? sc.offset : 0;
    const s: Scratch = {
      c8: new Uint8Array(mem, at, 4 * n),
      c32: new Int32Array(mem, at, n),
      bits,
      capacity,
      buckets,
      buf: new Int32Array(mem, at + countBytes, buckets * capacity),
      fills: new Int32Array(mem, at + countBytes + 4 * buckets * capacity, buckets),
    };
    for (let bk = 0; bk < buckets; bk++) s.fills[bk] = bk * capacity;
    const tot = new Float64Array(4);
    const pos = new Float64Array(4);
    const res = new Float64Array(4);
    // Models whose scores have ties need the tie-group loops; the others take the faster ones.
    const tied = job.orders.map(hasTies);
    const draw = (j: number, k: number): void => {
      if (scheme === 0) drawMultinomial(states, j * WORDS, k, n, s);
      else drawPoisson(states, j * WORDS, k, n, s.c8);
    };

    for (let g = 0; g < count; g += 4) {
      const lanes = Math.min(4, count - g);
      s.c32.fill(0);
      for (let k = 0; k < lanes; k++) draw(g + k, k);
      sumLanes(s.c32, labels, n, tot, pos);
      for (let k = 0; k < lanes; k++) {
        const j = g + k;
        redraws[j] = 0;
        for (;;) {
          if (scheme === 0 && tot[k] !== n) {
            throw new Error(`bootstrap: a row was drawn more than 255 times in resample ${j} (count overflow); please report this`);
          }
          if (pos[k] > 0 && pos[k] < tot[k]) break;
          if (++redraws[j] > MAX_REDRAWS) {
            throw new Error(`bootstrap: ${MAX_REDRAWS} consecutive draws of resample ${j} held a single class; the data are too imbalanced to bootstrap`);
          }
          for (let r = 0; r < n; r++) s.c8[r * 4 + k] = 0;
          draw(j, k);
          sumLane(s.c8, labels, n, k, tot, pos);
        }
      }
      for (let m = 0; m < models; m++) {
        if (metric === 0) aucPass(job.orders[m], s.c32, n, tied[m], tot, pos, res);
        else if (metric === 1) apPass(job.orders[m], s.c32, n, tied[m], pos, res);
        else lossPass(job.losses[m], s.c32, n, tot, res);
        for (let k = 0; k < lanes; k++) out[m * count + g + k] = res[k];
      }
    }
  };
}

/** The kernel of the calling thread (see `createKernel`). */
export const runKernel: (job: KernelJob) => void = createKernel();
