/**
 * The bootstrap's inner loop: draws resamples and evaluates every model's metric on each of them.
 *
 * `runKernel` is deliberately **self-contained** — it references nothing outside its own body (no
 * imports, no module constants) — so that `parallel.ts` can ship its source text to worker threads
 * (`runKernel.toString()`), which keeps it working after esbuild bundles the task into one file. The
 * same function object runs on the main thread, so single- and multi-threaded results are identical.
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
}

/**
 * Runs the job: for each resample, draw multiplicities, redraw while degenerate, and write every
 * model's metric. Pure apart from writing `out`, `redraws` and advancing `states`.
 */
export function runKernel(job: KernelJob): void {
  const n = job.n;
  const count = job.count;
  const metric = job.metric;
  const scheme = job.scheme;
  const labels = job.labels;
  const states = job.states;
  const out = job.out;
  const redraws = job.redraws;
  const models = metric <= 1 ? job.orders.length : job.losses.length;
  const WORDS = 130;
  const MAX_REDRAWS = 100000;
  const buffer = new ArrayBuffer(n * 4);
  const c8 = new Uint8Array(buffer);
  const c32 = new Int32Array(buffer);
  // Lemire: reject a 32-bit draw x when (x·n mod 2^32) < 2^32 mod n.
  const reject = 4294967296 % n;

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
  const poissonOf = (x: number): number => {
    let c = 0;
    while (x >= thr[c]) c++;
    return c;
  };
  const ptab = new Uint8Array(65536);
  if (scheme === 1) {
    for (let h = 0; h < 65536; h++) {
      const lo = poissonOf(h * 65536);
      ptab[h] = lo === poissonOf(h * 65536 + 65535) ? lo : 255;
    }
  }

  /** Draws resample j's multiplicities into byte lane k (lane must be zero for multinomial). */
  const drawLane = (j: number, k: number): void => {
    const base = j * WORDS;
    const X = states.subarray(base, base + 128);
    let i = states[base + 128];
    let w = states[base + 129];
    const bytes = c8;
    const nn = n;
    if (scheme === 0) {
      const rej = reject;
      for (let r = 0; r < nn; r++) {
        let x = 0;
        let lo = 0;
        do {
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
          x = ((v + (w ^ (w >>> 16))) | 0) >>> 0;
          lo = Math.imul(x, nn) >>> 0;
        } while (lo < rej);
        // High word of x·n, exact: x·n is within 2^10 of its double rounding, far below 2^31.
        const idx = Math.round((x * nn - lo) * 2.3283064365386963e-10);
        bytes[idx * 4 + k]++;
      }
    } else {
      const table = ptab;
      for (let r = 0; r < nn; r++) {
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
    }
    states[base + 128] = i;
    states[base + 129] = w;
  };

  // Per lane: total weight and positive weight of the current resamples.
  const tot = new Float64Array(4);
  const pos = new Float64Array(4);

  const sumLanes = (): void => {
    const words = c32;
    const lab = labels;
    const nn = n;
    let t0 = 0, t1 = 0, t2 = 0, t3 = 0, p0 = 0, p1 = 0, p2 = 0, p3 = 0;
    for (let r = 0; r < nn; r++) {
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
  };

  const sumLane = (k: number): void => {
    let t = 0;
    let p = 0;
    for (let r = 0; r < n; r++) {
      const c = c8[r * 4 + k];
      t += c;
      if (labels[r] === 1) p += c;
    }
    tot[k] = t;
    pos[k] = p;
  };

  const clearLane = (k: number): void => {
    for (let r = 0; r < n; r++) c8[r * 4 + k] = 0;
  };

  const res = new Float64Array(4);

  /** Weighted Mann–Whitney 2U of four lanes over one model's packed order; AUC = 2U / (2·P·N). */
  const aucPass = (ord: Int32Array): void => {
    const words = c32;
    const nn = n;
    let u0 = 0, u1 = 0, u2 = 0, u3 = 0;
    let b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    let p0 = 0, p1 = 0, p2 = 0, p3 = 0;
    let q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    for (let k = 0; k < nn; k++) {
      const e = ord[k];
      const v = words[e & 0x3fffffff];
      const m = -((e >>> 30) & 1);
      const vp = v & m;
      const vn = v & ~m;
      p0 += vp & 255;
      p1 += (vp >>> 8) & 255;
      p2 += (vp >>> 16) & 255;
      p3 += vp >>> 24;
      q0 += vn & 255;
      q1 += (vn >>> 8) & 255;
      q2 += (vn >>> 16) & 255;
      q3 += vn >>> 24;
      if (e >= 0) {
        // End of a tie group: its positives beat the negatives below and tie with its own negatives.
        u0 += p0 * (2 * b0 + q0);
        u1 += p1 * (2 * b1 + q1);
        u2 += p2 * (2 * b2 + q2);
        u3 += p3 * (2 * b3 + q3);
        b0 += q0; b1 += q1; b2 += q2; b3 += q3;
        p0 = 0; p1 = 0; p2 = 0; p3 = 0;
        q0 = 0; q1 = 0; q2 = 0; q3 = 0;
      }
    }
    res[0] = u0 / (2 * pos[0] * (tot[0] - pos[0]));
    res[1] = u1 / (2 * pos[1] * (tot[1] - pos[1]));
    res[2] = u2 / (2 * pos[2] * (tot[2] - pos[2]));
    res[3] = u3 / (2 * pos[3] * (tot[3] - pos[3]));
  };

  /** Average precision of four lanes: walk the order downwards, one precision per distinct score. */
  const apPass = (ord: Int32Array): void => {
    const words = c32;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let tp0 = 0, tp1 = 0, tp2 = 0, tp3 = 0;
    let fp0 = 0, fp1 = 0, fp2 = 0, fp3 = 0;
    let p0 = 0, p1 = 0, p2 = 0, p3 = 0;
    let q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    for (let k = n - 1; k >= 0; k--) {
      const e = ord[k];
      const v = words[e & 0x3fffffff];
      const m = -((e >>> 30) & 1);
      const vp = v & m;
      const vn = v & ~m;
      p0 += vp & 255;
      p1 += (vp >>> 8) & 255;
      p2 += (vp >>> 16) & 255;
      p3 += vp >>> 24;
      q0 += vn & 255;
      q1 += (vn >>> 8) & 255;
      q2 += (vn >>> 16) & 255;
      q3 += vn >>> 24;
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
    res[0] = s0 / pos[0];
    res[1] = s1 / pos[1];
    res[2] = s2 / pos[2];
    res[3] = s3 / pos[3];
  };

  /** Weighted mean of per-row losses of four lanes. */
  const lossPass = (loss: Float64Array): void => {
    const words = c32;
    const nn = n;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let r = 0; r < nn; r++) {
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
  };

  for (let g = 0; g < count; g += 4) {
    const lanes = Math.min(4, count - g);
    c32.fill(0);
    for (let k = 0; k < lanes; k++) drawLane(g + k, k);
    sumLanes();
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
        clearLane(k);
        drawLane(j, k);
        sumLane(k);
      }
    }
    for (let m = 0; m < models; m++) {
      if (metric === 0) aucPass(job.orders[m]);
      else if (metric === 1) apPass(job.orders[m]);
      else lossPass(job.losses[m]);
      for (let k = 0; k < lanes; k++) out[m * count + g + k] = res[k];
    }
  }
}
