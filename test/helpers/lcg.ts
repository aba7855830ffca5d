/**
 * The tests' small deterministic generator (Numerical Recipes' 32-bit LCG: a = 1664525, c = 1013904223), for data
 * whose exact values do not matter but must be the same on every run. Not the engine's generator (rng.ts,
 * keyed-poisson.ts): only test data are drawn from it.
 */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
