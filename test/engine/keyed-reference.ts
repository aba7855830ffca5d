/**
 * The keyed Poisson generator by its definition, in BigInt (docs/keyed-poisson.md): the reference the
 * engine's 32-bit-limb implementation, the published vectors, the notebook's numpy twin and the SQL are
 * checked against. Deliberately written from the definition, not from keyed-poisson.ts.
 */
const MASK = (1n << 64n) - 1n;

export function mix64Ref(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
  return z ^ (z >> 31n);
}

export function seed64Ref(seed: string | number): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(`mlops-eval:keyed-poisson:v1:${String(seed)}`, 'utf8')) {
    h = ((h ^ BigInt(byte)) * 0x100000001b3n) & MASK;
  }
  return mix64Ref(h);
}

export function hashRef(seed64: bigint, key: bigint, b: bigint): bigint {
  return mix64Ref((seed64 + (key + (b << 40n)) * 0x9e3779b97f4a7c15n) & MASK);
}

/** ⌊F(k)·2^53⌋ for the Poisson(1) CDF F, from rational bounds on e^-1 (the alternating series brackets it). */
export function thresholdsRef(): bigint[] {
  // e^-1 = Σ (-1)^j / j!; with 60 terms the truncation error is below 1/60! < 2^-270. Scale by 2^400.
  const S = 400n;
  let fact = 1n;
  let lo = 0n;
  for (let j = 0n; j < 60n; j++) {
    if (j > 0n) fact *= j;
    const term = (1n << S) / fact;
    lo += j % 2n === 0n ? term : -term;
  }
  const out: bigint[] = [];
  let partial = 0n;
  fact = 1n;
  for (let k = 0n; ; k++) {
    if (k > 0n) fact *= k;
    partial += (1n << S) / fact;
    // F(k)·2^53 ≈ lo·partial·2^53 / 2^(2S); the per-term floor errors (< 2^-390 relative) cannot move an integer part
    // unless F(k)·2^53 were within 2^-300 of an integer, which none is (checked by the +-slack below).
    const scaled = (lo * partial) << 53n;
    const t = scaled >> (2n * S);
    const slack = 1n << (2n * S - 300n);
    if ((scaled + slack) >> (2n * S) !== t || (scaled - slack) >> (2n * S) !== t) throw new Error(`threshold ${k} is too close to an integer`);
    out.push(t);
    if (t === (1n << 53n) - 1n) return out;
  }
}

export function weightRef(seed64: bigint, key: bigint, b: bigint, thresholds: bigint[]): number {
  const u = hashRef(seed64, key, b) >> 11n;
  return thresholds.filter((t) => t <= u).length;
}
