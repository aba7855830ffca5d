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
 * Design (measurements in docs/engine-performance.md):
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
 *   resample (probability below 10^-500 for any n); the multinomial draw checks every increment and
 *   throws rather than wrap silently. (Eight per position, two words, was 2–3× slower for the gathering
 *   model at n = 10^6: 8 MB of counts exceed the TLB's reach, see the README.)
 * - **Exact multinomial draws by Poissonization** (`drawMultinomial`): independent Poisson(1) counts
 *   for every position in order (two per generator word, no scatter), then the total corrected to n by
 *   adding or removing uniformly chosen balls, which gives exactly the law of n uniform draws with
 *   replacement; the proof is at `drawMultinomial`. Uniform integers use Lemire's multiply-and-reject
 *   method (no modulo bias). Each resample has its own xor4096 stream, stepped inline (the generator
 *   state comes from seedrandom; see rng.ts).
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
  /**
   * Row weights in reference order (integers): when given, row r of a resample weighs count × weight
   * (the weighted passes below); absent, the unweighted passes run unchanged.
   */
  weights?: Uint32Array;
  /** Tests: when given, resample j's final multiplicities by reference position at `countsOut[j * n + pos]`. */
  countsOut?: Uint8Array;
  /** Memory for the counts (4 bytes per row, rows rounded up to even), used when large enough (else the kernel allocates its own). */
  scratch?: { buffer: ArrayBufferLike; offset: number; bytes: number };
}

/**
 * Creates the kernel function: `run(job)` draws each resample's multiplicities, redraws while
 * degenerate, and writes every model's metric. Pure apart from writing `out`, `redraws` (and `countsOut`)
 * and advancing `states`.
 */
export function createKernel(): KernelRun {
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

  // Poissonized multinomial draw (see drawMultinomial). One generator word gives the counts of two
  // positions: the pair (a, b) of independent Poisson(1) counts, by inversion of the word against the
  // joint CDF over the outcomes ordered by a + b, then a. Outcome j has probability e^-2 / (a! b!);
  // pairCdf53[j] = P(outcome <= j)·2^53 with P as the nearest double, computed from the upper tail
  // summed from the far end (accurate to about one unit in the last place, and exactly 1 at the last
  // outcome kept);
  // pairFloor[j] = floor(P(outcome <= j)·2^32), the threshold on a 32-bit word.
  const pairA: number[] = [];
  const pairB: number[] = [];
  const pairFloor: number[] = [];
  const pairCdf53: number[] = [];
  {
    const fact = [1];
    for (let c = 1; c < 40; c++) fact.push(fact[c - 1] * c);
    const probs: number[] = [];
    for (let t = 0; t < 40; t++) {
      for (let a = 0; a <= t; a++) {
        pairA.push(a);
        pairB.push(t - a);
        probs.push(Math.exp(-2) / (fact[a] * fact[t - a]));
      }
    }
    const upper: number[] = new Array<number>(probs.length).fill(0);
    for (let j = probs.length - 2; j >= 0; j--) upper[j] = upper[j + 1] + probs[j + 1];
    for (let j = 0; j < probs.length; j++) {
      const cdf = 1 - upper[j];
      if (cdf >= 1) {
        pairFloor.push(4294967296);
        pairCdf53.push(9007199254740992);
        break;
      }
      pairFloor.push(Math.floor(cdf * 4294967296));
      pairCdf53.push(cdf * 9007199254740992);
    }
    pairA.length = pairB.length = pairFloor.length;
  }
  // For each value h of a word's top 16 bits: the pair a | b << 4 when no threshold falls in that block
  // of words (a, b <= 7 there), else 255, the slow path (about 6·10^-4 of words); pairStart[h] is the first
  // outcome whose threshold is not below the block, where the slow path starts its search.
  const pairTab = new Uint8Array(65536);
  const pairStart = new Uint16Array(65536);
  // The removal's bound on every count (see fixUp) starts at 8, above any count the table gives.
  const COUNT_BOUND = 8;
  let fastMax = 0;
  for (let h = 0, j = 0; h < 65536; h++) {
    const lo = h * 65536;
    while (pairFloor[j] < lo) j++;
    pairStart[h] = j;
    if (pairFloor[j] > lo + 65535) {
      pairTab[h] = pairA[j] | (pairB[j] << 4);
      fastMax = Math.max(fastMax, pairA[j], pairB[j]);
    } else {
      pairTab[h] = 255;
    }
  }
  if (fastMax > COUNT_BOUND) throw new Error(`kernel: table count ${fastMax} above ${COUNT_BOUND}`);
  // Total of the two counts of a table entry.
  const pairSum = new Uint8Array(256);
  for (let e = 0; e < 255; e++) pairSum[e] = (e & 15) + (e >>> 4);

  /** The next word of the xor4096 state at `base`, stepped in the state array itself (slow paths). */
  function nextWord(st: Int32Array, base: number): number {
    const w = (st[base + 129] + 0x61c88647) | 0;
    st[base + 129] = w;
    const i0 = st[base + 128];
    let v = st[base + ((i0 + 34) & 127)];
    const i = (i0 + 1) & 127;
    st[base + 128] = i;
    let t = st[base + i];
    v ^= v << 13;
    t ^= t << 17;
    v ^= v >>> 15;
    t ^= t >>> 12;
    v ^= t;
    st[base + i] = v;
    return ((v + (w ^ (w >>> 16))) | 0) >>> 0;
  }

  /**
   * The outcome for the 32-bit word x, read as the top bits of a uniform U in [0, 1): the smallest j
   * with U < P(outcome <= j), searched from `from`. With `extra` < 0, returns −1 − j when x is the
   * floor of outcome j's threshold, where its 32 bits do not decide; the caller then takes 21 more bits
   * from the next word of the stream (U to 2^-53, the CDF's own resolution) and searches again from j.
   */
  function pairOutcome(x: number, from: number, extra: number): number {
    for (let j = from; ; j++) {
      const t = pairFloor[j];
      if (x < t) return j;
      if (x === t) {
        if (extra < 0) return -1 - j;
        if (x * 2097152 + extra < pairCdf53[j]) return j;
      }
    }
  }

  /**
   * Multinomial draw of resample `base / 130` into byte lane k: n balls into n positions uniformly, by
   * Poissonization. First X_r ~ Poisson(1) independently for every position, in order (sequential
   * writes, no scatter; two positions per generator word); S = ΣX_r. Given S = s, (X_r) is exactly
   * Multinomial(s; 1/n, …, 1/n). Then
   * - s < n: n − s more balls, each at a uniform position (Lemire's method): Multinomial(s) plus an
   *   independent Multinomial(n − s) is Multinomial(n);
   * - s > n: s − n balls removed one at a time, each uniform among the balls still present (a uniform
   *   position, accepted with probability X_r / M for a bound M on every count, else retried): removing
   *   balls chosen without regard to their positions leaves the other n balls iid uniform.
   * Either way the counts are exactly Multinomial(n; 1/n, …, 1/n), the classical bootstrap's law.
   * E|S − n| ≈ √(2n/π), about 800 at n = 10^6, so the fix-up costs little. The lane's positive weight
   * is left to the caller (for ROC AUC, the reference model's pass gives it for free).
   */
  function drawMultinomial(states: Int32Array, base: number, k: number, n: number, bytes: Uint8Array): void {
    const X = states.subarray(base, base + 128);
    let i = states[base + 128];
    let w = states[base + 129];
    const table = pairTab;
    const sums = pairSum;
    let s = 0;
    // M = max(8, the largest count drawn, the dropped one of an odd n included); the table's counts are <= 8.
    let max = COUNT_BOUND;
    // Pairs of positions (2q, 2q + 1); an odd n takes the first count of one more pair for its last.
    const pairs = (n + 1) >>> 1;
    for (let q = 0; q < pairs; q++) {
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
      const e = table[x >>> 16];
      const at = q * 8 + k;
      if (e !== 255) {
        bytes[at] = e & 15;
        bytes[at + 4] = e >>> 4;
        s += sums[e];
        continue;
      }
      // Slow path (about 6·10^-4 of words): an outcome's threshold falls in x's 2^16-word block.
      let j = pairOutcome(x, pairStart[x >>> 16], -1);
      if (j < 0) {
        // x is a threshold's floor (about 2^-32·#thresholds): the next word decides. The generator is
        // stepped here inline, like above, rather than through a call, so its state stays in registers.
        w = (w + 0x61c88647) | 0;
        let v2 = X[(i + 34) & 127];
        i = (i + 1) & 127;
        let t2 = X[i];
        v2 ^= v2 << 13;
        t2 ^= t2 << 17;
        v2 ^= v2 >>> 15;
        t2 ^= t2 >>> 12;
        v2 ^= t2;
        X[i] = v2;
        j = pairOutcome(x, -1 - j, (((v2 + (w ^ (w >>> 16))) | 0) >>> 0) >>> 11);
      }
      const a = pairA[j];
      const b = pairB[j];
      if (a > max) max = a;
      if (b > max) max = b;
      bytes[at] = a;
      bytes[at + 4] = b;
      s += a + b;
    }
    states[base + 128] = i;
    states[base + 129] = w;
    if (n & 1) {
      // The last pair's second count belongs to no position: take it back out.
      const c = bytes[n * 4 + k];
      s -= c;
      bytes[n * 4 + k] = 0;
    }
    fixUp(states, base, k, n, bytes, s, max);
  }

  // Fix-up tries generated ahead (see fixUp): byte offsets and acceptance draws.
  const FIX_BATCH = 64;
  const fixAt = new Int32Array(FIX_BATCH);
  const fixJ = new Int32Array(FIX_BATCH);

  /**
   * Brings lane k's total from s to exactly n (see drawMultinomial); max bounds every count. Each ball
   * touches a random count, a likely cache miss, so tries are generated a batch at a time and then
   * applied in order: the loads of a batch overlap. A batch never holds more tries than balls still
   * to place (each try places at most one), so the words consumed, the state left for a redraw and the
   * counts are exactly those of the one-at-a-time loop.
   */
  function fixUp(states: Int32Array, base: number, k: number, n: number, bytes: Uint8Array, s: number, max: number): void {
    // Lemire: a uniform integer in [0, n) is the high word of x·n, rejecting x when (x·n mod 2^32) < 2^32 mod n.
    // The high word is exact: x·n is within 2^10 of its double rounding, far below 2^31.
    const rej = 4294967296 % n;
    for (let d = n - s; d > 0;) {
      const m = d < FIX_BATCH ? d : FIX_BATCH;
      for (let q = 0; q < m;) {
        const x = nextWord(states, base);
        const lo = Math.imul(x, n) >>> 0;
        if (lo < rej) continue;
        fixAt[q++] = Math.round((x * n - lo) * 2.3283064365386963e-10) * 4 + k;
      }
      for (let q = 0; q < m; q++) {
        const at = fixAt[q];
        if (bytes[at] === 255) {
          throw new Error(`bootstrap: a row was drawn more than 255 times in resample ${base / WORDS} (count overflow); please report this`);
        }
        bytes[at]++;
      }
      d -= m;
    }
    const rejMax = 4294967296 % max;
    for (let d = s - n; d > 0;) {
      const m = d < FIX_BATCH ? d : FIX_BATCH;
      for (let q = 0; q < m;) {
        const x = nextWord(states, base);
        const lo = Math.imul(x, n) >>> 0;
        if (lo < rej) continue;
        // Accept the position with probability count / max: a uniform j in [0, max) below the count.
        let y: number;
        do y = nextWord(states, base);
        while (Math.imul(y, max) >>> 0 < rejMax);
        fixAt[q] = Math.round((x * n - lo) * 2.3283064365386963e-10) * 4 + k;
        fixJ[q++] = Math.floor(y * max * 2.3283064365386963e-10);
      }
      for (let q = 0; q < m; q++) {
        const at = fixAt[q];
        if (fixJ[q] < bytes[at]) {
          bytes[at]--;
          d--;
        }
      }
    }
  }

  /**
   * Poisson(1) draw of resample `base / 130` into byte lane k, one count per position in order; writes
   * the lane's total to tot[k] (its positive weight is left to the caller, as for drawMultinomial).
   */
  function drawPoisson(states: Int32Array, base: number, k: number, n: number, bytes: Uint8Array, tot: Float64Array): void {
    const X = states.subarray(base, base + 128);
    let i = states[base + 128];
    let w = states[base + 129];
    const table = ptab;
    let s = 0;
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
      s += c;
    }
    states[base + 128] = i;
    states[base + 129] = w;
    tot[k] = s;
  }

  /** Positive weight of the four lanes. */
  function posLanes(words: Int32Array, lab: Uint8Array, n: number, pos: Float64Array): void {
    let p0 = 0,
      p1 = 0,
      p2 = 0,
      p3 = 0;
    for (let r = 0; r < n; r++) {
      const v = words[r] & -lab[r];
      p0 += v & 255;
      p1 += (v >>> 8) & 255;
      p2 += (v >>> 16) & 255;
      p3 += v >>> 24;
    }
    pos[0] = p0;
    pos[1] = p1;
    pos[2] = p2;
    pos[3] = p3;
  }

  /** Total and positive weight of lane k. */
  function sumLane(bytes: Uint8Array, lab: Uint8Array, n: number, k: number, tot: Float64Array, pos: Float64Array): void {
    let t = 0;
    let p = 0;
    for (let r = 0; r < n; r++) {
      const c = bytes[r * 4 + k];
      t += c;
      p += c & -lab[r];
    }
    tot[k] = t;
    pos[k] = p;
  }

  /**
   * Weighted Mann–Whitney 2U of four lanes over one model's packed order, and each lane's negative
   * weight N; AUC = 2U / (2·P·N).
   * Within a tie group positives come first (bootstrap.ts orders them so), hence a positive's
   * "negatives below" are those strictly below, and a negative adds ½·(its group's positives) for the
   * tied pairs: 2U = 2·Σ_pos c·below + Σ_neg c·groupPositives. Branching on the label is cheaper than
   * branch-free masks here: in score order the labels come in long runs, which the predictor learns.
   */
  function aucPass(ord: Int32Array, words: Int32Array, n: number, tied: boolean, twoU: Float64Array, neg: Float64Array): void {
    let u0 = 0,
      u1 = 0,
      u2 = 0,
      u3 = 0;
    let b0 = 0,
      b1 = 0,
      b2 = 0,
      b3 = 0;
    let t0 = 0,
      t1 = 0,
      t2 = 0,
      t3 = 0;
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
      let g0 = 0,
        g1 = 0,
        g2 = 0,
        g3 = 0;
      for (let k = 0; k < n; k++) {
        const e = ord[k];
        const v = words[e & 0x3fffffff];
        const c0 = v & 255,
          c1 = (v >>> 8) & 255,
          c2 = (v >>> 16) & 255,
          c3 = v >>> 24;
        if (e & 0x40000000) {
          u0 += c0 * b0;
          u1 += c1 * b1;
          u2 += c2 * b2;
          u3 += c3 * b3;
          g0 += c0;
          g1 += c1;
          g2 += c2;
          g3 += c3;
        } else {
          b0 += c0;
          b1 += c1;
          b2 += c2;
          b3 += c3;
          t0 += c0 * g0;
          t1 += c1 * g1;
          t2 += c2 * g2;
          t3 += c3 * g3;
        }
        if (e >= 0) {
          g0 = 0;
          g1 = 0;
          g2 = 0;
          g3 = 0;
        }
      }
    }
    twoU[0] = 2 * u0 + t0;
    twoU[1] = 2 * u1 + t1;
    twoU[2] = 2 * u2 + t2;
    twoU[3] = 2 * u3 + t3;
    neg[0] = b0;
    neg[1] = b1;
    neg[2] = b2;
    neg[3] = b3;
  }

  /**
   * Average precision of four lanes: walk the order downwards, one precision per distinct score with
   * positives (Σ gp·TP/(TP+FP), divided by P at the end), in the same operation order as `apSums`.
   */
  function apPass(ord: Int32Array, words: Int32Array, n: number, tied: boolean, pos: Float64Array, res: Float64Array): void {
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    let tp0 = 0,
      tp1 = 0,
      tp2 = 0,
      tp3 = 0;
    let fp0 = 0,
      fp1 = 0,
      fp2 = 0,
      fp3 = 0;
    if (!tied) {
      for (let k = n - 1; k >= 0; k--) {
        const e = ord[k];
        const v = words[e & 0x3fffffff];
        const c0 = v & 255,
          c1 = (v >>> 8) & 255,
          c2 = (v >>> 16) & 255,
          c3 = v >>> 24;
        if (e & 0x40000000) {
          tp0 += c0;
          tp1 += c1;
          tp2 += c2;
          tp3 += c3;
          s0 += (c0 * tp0) / (tp0 + fp0 || 1);
          s1 += (c1 * tp1) / (tp1 + fp1 || 1);
          s2 += (c2 * tp2) / (tp2 + fp2 || 1);
          s3 += (c3 * tp3) / (tp3 + fp3 || 1);
        } else {
          fp0 += c0;
          fp1 += c1;
          fp2 += c2;
          fp3 += c3;
        }
      }
    } else {
      let p0 = 0,
        p1 = 0,
        p2 = 0,
        p3 = 0;
      let q0 = 0,
        q1 = 0,
        q2 = 0,
        q3 = 0;
      for (let k = n - 1; k >= 0; k--) {
        const e = ord[k];
        const v = words[e & 0x3fffffff];
        if (e & 0x40000000) {
          p0 += v & 255;
          p1 += (v >>> 8) & 255;
          p2 += (v >>> 16) & 255;
          p3 += v >>> 24;
        } else {
          q0 += v & 255;
          q1 += (v >>> 8) & 255;
          q2 += (v >>> 16) & 255;
          q3 += v >>> 24;
        }
        if (k === 0 || ord[k - 1] >= 0) {
          tp0 += p0;
          tp1 += p1;
          tp2 += p2;
          tp3 += p3;
          fp0 += q0;
          fp1 += q1;
          fp2 += q2;
          fp3 += q3;
          s0 += (p0 * tp0) / (tp0 + fp0 || 1);
          s1 += (p1 * tp1) / (tp1 + fp1 || 1);
          s2 += (p2 * tp2) / (tp2 + fp2 || 1);
          s3 += (p3 * tp3) / (tp3 + fp3 || 1);
          p0 = 0;
          p1 = 0;
          p2 = 0;
          p3 = 0;
          q0 = 0;
          q1 = 0;
          q2 = 0;
          q3 = 0;
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
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
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

  // Weighted passes (a weight column): the same sums with count × weight in place of the count. They are
  // separate functions so that the unweighted loops above stay exactly as fast as without weights.
  // Every product and sum is an integer; exact while the totals stay below 2^53 (see bootstrap.ts).

  /** Total and positive weight (Σ count × weight) of the four lanes. */
  function weightLanes(words: Int32Array, lab: Uint8Array, wts: Uint32Array, n: number, tot: Float64Array, pos: Float64Array): void {
    let t0 = 0,
      t1 = 0,
      t2 = 0,
      t3 = 0;
    let p0 = 0,
      p1 = 0,
      p2 = 0,
      p3 = 0;
    for (let r = 0; r < n; r++) {
      const v = words[r];
      const x = wts[r];
      const c0 = (v & 255) * x,
        c1 = ((v >>> 8) & 255) * x,
        c2 = ((v >>> 16) & 255) * x,
        c3 = (v >>> 24) * x;
      t0 += c0;
      t1 += c1;
      t2 += c2;
      t3 += c3;
      if (lab[r] === 1) {
        p0 += c0;
        p1 += c1;
        p2 += c2;
        p3 += c3;
      }
    }
    tot[0] = t0;
    tot[1] = t1;
    tot[2] = t2;
    tot[3] = t3;
    pos[0] = p0;
    pos[1] = p1;
    pos[2] = p2;
    pos[3] = p3;
  }

  /** `weightLanes` for lane k only (after a redraw). */
  function weightLane(bytes: Uint8Array, lab: Uint8Array, wts: Uint32Array, n: number, k: number, tot: Float64Array, pos: Float64Array): void {
    let t = 0;
    let p = 0;
    for (let r = 0; r < n; r++) {
      const c = bytes[r * 4 + k] * wts[r];
      t += c;
      if (lab[r] === 1) p += c;
    }
    tot[k] = t;
    pos[k] = p;
  }

  /** `aucPass` with count × weight (one loop for tied and untied orders: the tie groups cost little here). */
  function aucPassW(ord: Int32Array, words: Int32Array, wts: Uint32Array, n: number, twoU: Float64Array, neg: Float64Array): void {
    let u0 = 0,
      u1 = 0,
      u2 = 0,
      u3 = 0;
    let b0 = 0,
      b1 = 0,
      b2 = 0,
      b3 = 0;
    let t0 = 0,
      t1 = 0,
      t2 = 0,
      t3 = 0;
    let g0 = 0,
      g1 = 0,
      g2 = 0,
      g3 = 0;
    for (let k = 0; k < n; k++) {
      const e = ord[k];
      const p = e & 0x3fffffff;
      const v = words[p];
      const x = wts[p];
      const c0 = (v & 255) * x,
        c1 = ((v >>> 8) & 255) * x,
        c2 = ((v >>> 16) & 255) * x,
        c3 = (v >>> 24) * x;
      if (e & 0x40000000) {
        u0 += c0 * b0;
        u1 += c1 * b1;
        u2 += c2 * b2;
        u3 += c3 * b3;
        g0 += c0;
        g1 += c1;
        g2 += c2;
        g3 += c3;
      } else {
        b0 += c0;
        b1 += c1;
        b2 += c2;
        b3 += c3;
        t0 += c0 * g0;
        t1 += c1 * g1;
        t2 += c2 * g2;
        t3 += c3 * g3;
      }
      if (e >= 0) {
        g0 = 0;
        g1 = 0;
        g2 = 0;
        g3 = 0;
      }
    }
    twoU[0] = 2 * u0 + t0;
    twoU[1] = 2 * u1 + t1;
    twoU[2] = 2 * u2 + t2;
    twoU[3] = 2 * u3 + t3;
    neg[0] = b0;
    neg[1] = b1;
    neg[2] = b2;
    neg[3] = b3;
  }

  /** `apPass` (tied form, which also serves untied orders) with count × weight. */
  function apPassW(ord: Int32Array, words: Int32Array, wts: Uint32Array, n: number, pos: Float64Array, res: Float64Array): void {
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    let tp0 = 0,
      tp1 = 0,
      tp2 = 0,
      tp3 = 0;
    let fp0 = 0,
      fp1 = 0,
      fp2 = 0,
      fp3 = 0;
    let p0 = 0,
      p1 = 0,
      p2 = 0,
      p3 = 0;
    let q0 = 0,
      q1 = 0,
      q2 = 0,
      q3 = 0;
    for (let k = n - 1; k >= 0; k--) {
      const e = ord[k];
      const p = e & 0x3fffffff;
      const v = words[p];
      const x = wts[p];
      const c0 = (v & 255) * x,
        c1 = ((v >>> 8) & 255) * x,
        c2 = ((v >>> 16) & 255) * x,
        c3 = (v >>> 24) * x;
      if (e & 0x40000000) {
        p0 += c0;
        p1 += c1;
        p2 += c2;
        p3 += c3;
      } else {
        q0 += c0;
        q1 += c1;
        q2 += c2;
        q3 += c3;
      }
      if (k === 0 || ord[k - 1] >= 0) {
        tp0 += p0;
        tp1 += p1;
        tp2 += p2;
        tp3 += p3;
        fp0 += q0;
        fp1 += q1;
        fp2 += q2;
        fp3 += q3;
        s0 += (p0 * tp0) / (tp0 + fp0 || 1);
        s1 += (p1 * tp1) / (tp1 + fp1 || 1);
        s2 += (p2 * tp2) / (tp2 + fp2 || 1);
        s3 += (p3 * tp3) / (tp3 + fp3 || 1);
        p0 = 0;
        p1 = 0;
        p2 = 0;
        p3 = 0;
        q0 = 0;
        q1 = 0;
        q2 = 0;
        q3 = 0;
      }
    }
    res[0] = s0 / pos[0];
    res[1] = s1 / pos[1];
    res[2] = s2 / pos[2];
    res[3] = s3 / pos[3];
  }

  /** `lossPass` with count × weight. */
  function lossPassW(loss: Float64Array, words: Int32Array, wts: Uint32Array, n: number, tot: Float64Array, res: Float64Array): void {
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let r = 0; r < n; r++) {
      const v = words[r];
      const l = loss[r];
      const x = wts[r];
      s0 += (v & 255) * x * l;
      s1 += ((v >>> 8) & 255) * x * l;
      s2 += ((v >>> 16) & 255) * x * l;
      s3 += (v >>> 24) * x * l;
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

  /** `run` for weighted data (job.weights set): every statistic from count × weight. */
  function runWeighted(job: KernelJob, weights: Uint32Array): void {
    const { n, count, metric, scheme, labels, states, out, redraws } = job;
    const models = metric <= 1 ? job.orders.length : job.losses.length;
    // Counts of four resamples per position (one more position when n is odd, see drawMultinomial).
    const need = Math.ceil(n / 2) * 8;
    const sc = job.scratch;
    const mem = sc !== undefined && sc.bytes >= need ? sc.buffer : new ArrayBuffer(need);
    const at = sc !== undefined && sc.bytes >= need ? sc.offset : 0;
    const c8 = new Uint8Array(mem, at, need);
    const c32 = new Int32Array(mem, at, n);
    const tot = new Float64Array(4);
    const pos = new Float64Array(4);
    const res = new Float64Array(4);
    const twoU = new Float64Array(4);
    const neg = new Float64Array(4);
    const draw = (j: number, k: number): void => {
      if (scheme === 0) drawMultinomial(states, j * WORDS, k, n, c8);
      else drawPoisson(states, j * WORDS, k, n, c8, tot);
    };

    for (let g = 0; g < count; g += 4) {
      const lanes = Math.min(4, count - g);
      // Both draws write every position of their lane; lanes without a resample are left at zero.
      if (lanes < 4) c8.fill(0);
      for (let k = 0; k < lanes; k++) draw(g + k, k);
      // Weighted totals (Σ count × weight) replace the counts' totals for the check and the metrics.
      weightLanes(c32, labels, weights, n, tot, pos);
      for (let k = 0; k < lanes; k++) {
        const j = g + k;
        redraws[j] = 0;
        while (!(pos[k] > 0 && pos[k] < tot[k])) {
          if (++redraws[j] > MAX_REDRAWS) {
            throw new Error(`bootstrap: ${MAX_REDRAWS} consecutive draws of resample ${j} held a single class; the data are too imbalanced to bootstrap`);
          }
          draw(j, k);
          weightLane(c8, labels, weights, n, k, tot, pos);
        }
        if (job.countsOut !== undefined) {
          for (let r = 0; r < n; r++) job.countsOut[j * n + r] = c8[r * 4 + k];
        }
      }
      for (let m = 0; m < models; m++) {
        if (metric === 0) {
          aucPassW(job.orders[m], c32, weights, n, twoU, neg);
          for (let k = 0; k < 4; k++) res[k] = twoU[k] / (2 * pos[k] * (tot[k] - pos[k]));
        } else if (metric === 1) {
          apPassW(job.orders[m], c32, weights, n, pos, res);
        } else {
          lossPassW(job.losses[m], c32, weights, n, tot, res);
        }
        for (let k = 0; k < lanes; k++) out[m * count + g + k] = res[k];
      }
    }
  }

  const run = function run(job: KernelJob): void {
    // Weighted data take their own loop, so this one is exactly the unweighted kernel.
    if (job.weights !== undefined) return runWeighted(job, job.weights);
    const { n, count, metric, scheme, labels, states, out, redraws } = job;
    const models = metric <= 1 ? job.orders.length : job.losses.length;
    // Counts of four resamples per position (one more position when n is odd, see drawMultinomial).
    const need = Math.ceil(n / 2) * 8;
    const sc = job.scratch;
    const mem = sc !== undefined && sc.bytes >= need ? sc.buffer : new ArrayBuffer(need);
    const at = sc !== undefined && sc.bytes >= need ? sc.offset : 0;
    const c8 = new Uint8Array(mem, at, need);
    const c32 = new Int32Array(mem, at, n);
    const tot = new Float64Array(4);
    const pos = new Float64Array(4);
    const res = new Float64Array(4);
    const twoU = new Float64Array(4);
    const neg = new Float64Array(4);
    // Models whose scores have ties need the tie-group loops; the others take the faster ones.
    const tied = job.orders.map(hasTies);
    const draw = (j: number, k: number): void => {
      if (scheme === 0) drawMultinomial(states, j * WORDS, k, n, c8);
      else drawPoisson(states, j * WORDS, k, n, c8, tot);
    };

    for (let g = 0; g < count; g += 4) {
      const lanes = Math.min(4, count - g);
      // Both draws write every position of their lane; lanes without a resample are left at zero.
      if (lanes < 4) c8.fill(0);
      for (let k = 0; k < lanes; k++) draw(g + k, k);
      // A multinomial lane totals n, a Poisson lane what its draw reported. The positive weight P comes
      // from the reference model's AUC pass (P = total − N), whose result is then kept, or for the
      // other metrics from one pass over the counts.
      let donePass = -1;
      if (scheme === 0) tot.fill(n);
      if (metric === 0) {
        aucPass(job.orders[0], c32, n, tied[0], twoU, neg);
        for (let k = 0; k < 4; k++) pos[k] = tot[k] - neg[k];
        donePass = 0;
      } else {
        posLanes(c32, labels, n, pos);
      }
      for (let k = 0; k < lanes; k++) {
        const j = g + k;
        redraws[j] = 0;
        while (!(pos[k] > 0 && pos[k] < tot[k])) {
          if (++redraws[j] > MAX_REDRAWS) {
            throw new Error(`bootstrap: ${MAX_REDRAWS} consecutive draws of resample ${j} held a single class; the data are too imbalanced to bootstrap`);
          }
          draw(j, k);
          sumLane(c8, labels, n, k, tot, pos);
          donePass = -1;
        }
        if (job.countsOut !== undefined) {
          for (let r = 0; r < n; r++) job.countsOut[j * n + r] = c8[r * 4 + k];
        }
      }
      for (let m = 0; m < models; m++) {
        if (metric === 0) {
          if (m !== donePass) aucPass(job.orders[m], c32, n, tied[m], twoU, neg);
          for (let k = 0; k < 4; k++) res[k] = twoU[k] / (2 * pos[k] * (tot[k] - pos[k]));
        } else if (metric === 1) {
          apPass(job.orders[m], c32, n, tied[m], pos, res);
        } else {
          lossPass(job.losses[m], c32, n, tot, res);
        }
        for (let k = 0; k < lanes; k++) out[m * count + g + k] = res[k];
      }
    }
  };

  /**
   * One draw of resample `base / 130` into byte lane k of `bytes` (4 lanes per position), exactly as
   * `run` draws it: the multinomial or Poisson counts (scheme 0 or 1) from that resample's stream, whose
   * state advances in `states`. Writes the lane's total count to tot[k]. For callers that evaluate other
   * statistics on the same resamples (resample.ts).
   */
  function drawLane(states: Int32Array, base: number, k: number, n: number, bytes: Uint8Array, scheme: number, tot: Float64Array): void {
    if (scheme === 0) {
      drawMultinomial(states, base, k, n, bytes);
      tot[k] = n;
    } else {
      drawPoisson(states, base, k, n, bytes, tot);
    }
  }

  return Object.assign(run, { drawLane });
}

/** The kernel function, plus the draw of one resample lane (see `createKernel`). */
export type KernelRun = ((job: KernelJob) => void) & {
  drawLane(states: Int32Array, base: number, k: number, n: number, bytes: Uint8Array, scheme: number, tot: Float64Array): void;
};

/** The kernel of the calling thread (see `createKernel`). */
export const runKernel: KernelRun = createKernel();
