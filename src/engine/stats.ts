/**
 * Small numerical helpers: mean, percentile of a distribution, and the standard normal distribution
 * (CDF, upper tail and quantile) at close to full double precision. Pure functions.
 */

/** Arithmetic mean of an array (NaN when empty). */
export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}

/**
 * Quantile `q` in [0, 1] of already **ascending-sorted** values, by linear interpolation between the
 * closest ranks — the definition numpy's `np.percentile` uses by default (Hyndman & Fan type 7).
 *
 * @example
 * quantileSorted(new Float64Array([1, 2, 3, 4]), 0.5); // 2.5
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const frac = h - lo;
  return frac === 0 ? sorted[lo] : sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

/**
 * Two-sided percentile interval at `confidence` (e.g. 0.95 → the 2.5th and 97.5th percentiles) of
 * a distribution. The input is not modified.
 */
export function percentileInterval(values: ArrayLike<number>, confidence: number): [number, number] {
  const sorted = Float64Array.from(values).sort();
  const alpha = (1 - confidence) / 2;
  return [quantileSorted(sorted, alpha), quantileSorted(sorted, 1 - alpha)];
}

const SQRT_PI = Math.sqrt(Math.PI);

/**
 * Complementary error function erfc(x) = 1 − erf(x), relative error below about 1e-14 on the real
 * line (tested against scipy.special.erfc).
 *
 * Method: for |x| < 2 the everywhere-positive series erf(x) = 2/√π · e^{−x²} · Σ (2x²)^k · x / (2k+1)!!
 * (Abramowitz & Stegun 7.1.6); beyond, the continued fraction of A&S 7.1.14 evaluated by Lentz's
 * method, which keeps full relative precision far into the tail.
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let k = 1; k < 200; k++) {
      term *= (2 * x2) / (2 * k + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return 1 - (2 / SQRT_PI) * Math.exp(-x2) * sum;
  }
  if (x > 27.3) return 0; // below the smallest subnormal
  // erfc(x) = e^{-x²}/√π · 1 / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))).
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 5000; k++) {
    const a = k / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    d = 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / SQRT_PI / f;
}

/** Standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** Standard normal upper tail 1 − Φ(z), accurate in the far tail (no cancellation). */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** Standard normal density φ(z). */
export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}

/**
 * Standard normal quantile Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation (relative error
 * 1.15e-9) refined by Newton steps on `normalCdf`, to about full double precision.
 *
 * @example
 * normalQuantile(0.975); // 1.959963984540054
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return NaN;
  }
  if (p > 0.5) return -normalQuantile(1 - p) || 0;
  if (p === 0.5) return 0;
  // Acklam (2003), lower region and central region (p <= 0.5 here).
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  let x: number;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  for (let i = 0; i < 3; i++) {
    const pdf = normalPdf(x);
    if (pdf === 0) break;
    const step = (normalCdf(x) - p) / pdf;
    x -= step;
    if (Math.abs(step) <= 1e-16 * Math.abs(x)) break;
  }
  return x;
}
