/**
 * Strict readers of the Spark sums JSON (docs/scale-out.md, "The sums JSON"), shared by the binary finisher
 * (spark-sums.ts) and the regression finisher (spark-sums-regression.ts): every big integer is a decimal string,
 * every list has its exact length, and anything else fails with `SparkSumsError`, naming the field, before any
 * number is used.
 */

/** A sums JSON that does not match what was asked for, or is malformed: the comparison is not finished. */
export class SparkSumsError extends Error {
  override name = 'SparkSumsError';
}

export function bad(message: string): never {
  throw new SparkSumsError(`The Spark sums are not usable: ${message}`);
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const SIGNED_DECIMAL = /^(0|-?[1-9][0-9]*)$/;

/** An integer written as a decimal string (non-negative unless `signed`). */
export function decimal(x: unknown, what: string, signed = false): bigint {
  if (typeof x !== 'string' || !(signed ? SIGNED_DECIMAL : DECIMAL).test(x)) {
    bad(`${what} must be a ${signed ? '' : 'non-negative '}integer as a decimal string, got ${JSON.stringify(x)?.slice(0, 40)}`);
  }
  return BigInt(x);
}

/** A decimal string that is a count (below 2^53). */
export function count(x: unknown, what: string): number {
  const v = decimal(x, what);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) bad(`${what} is ${v}, above 2^53 - 1`);
  return Number(v);
}

/** A list of exactly `length` items. */
export function list(x: unknown, length: number, what: string): unknown[] {
  if (!Array.isArray(x) || x.length !== length) bad(`${what} must be a list of ${length} items, got ${Array.isArray(x) ? `${x.length} items` : typeof x}`);
  return x;
}

/** A list of exactly `length` decimal strings. */
export function decimals(x: unknown, length: number, what: string, signed = false): bigint[] {
  if (!Array.isArray(x) || x.length !== length)
    bad(`${what} must be a list of ${length} decimal strings, got ${Array.isArray(x) ? `${x.length} items` : typeof x}`);
  return x.map((v, i) => decimal(v, `${what}[${i}]`, signed));
}

/** A JSON object (not null, not a list). */
export function object(x: unknown, what: string): Record<string, unknown> {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) bad(`${what} must be an object`);
  return x as Record<string, unknown>;
}
