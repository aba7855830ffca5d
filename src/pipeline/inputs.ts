/**
 * Reading task inputs into typed values. Task-specific parsers (src/tasks/<task>/inputs.ts) take an
 * `InputSource`, so they are pure and unit-testable; `taskLibInputSource()` (task-lib-inputs.ts, the
 * adapter) is the agent's implementation.
 */
import { clip } from './output';

/** A bad or missing input. The message names the input and says what to change; nothing remote happened. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(message);
  }
}

export interface InputSource {
  /** The raw value, or undefined when unset or blank. */
  get(name: string): string | undefined;
  /** A pipeline variable (`Build.BuildId`), or undefined. */
  variable(name: string): string | undefined;
}

/** An InputSource over plain maps, for unit tests and the demo. */
export function mapInputSource(inputs: Record<string, string | undefined>, variables: Record<string, string | undefined> = {}): InputSource {
  return {
    get: (name) => {
      const v = inputs[name];
      return v === undefined || v.trim() === '' ? undefined : v;
    },
    variable: (name) => variables[name],
  };
}

/** Typed accessors that throw `InputError` naming the input. */
export class Inputs {
  constructor(readonly source: InputSource) {}

  optional(name: string): string | undefined {
    const v = this.source.get(name);
    return v === undefined ? undefined : v.trim();
  }

  required(name: string, why?: string): string {
    const v = this.optional(name);
    if (v === undefined) throw new InputError(name, `Input required: ${name}${why ? ` (${why})` : ''}.`);
    return v;
  }

  bool(name: string, defaultValue: boolean): boolean {
    const v = this.optional(name);
    if (v === undefined) return defaultValue;
    const lower = v.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    throw new InputError(name, `Input ${name} must be true or false, got "${truncate(v)}".`);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], defaultValue: T): T {
    const v = this.optional(name);
    if (v === undefined) return defaultValue;
    const match = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
    if (!match) throw new InputError(name, `Input ${name} must be one of ${allowed.join(', ')}; got "${truncate(v)}".`);
    return match;
  }

  /** A finite number in [min, max] (inclusive unless stated), integer when asked. */
  number(name: string, opts: { default?: number; min?: number; max?: number; minExclusive?: boolean; integer?: boolean } = {}): number | undefined {
    const v = this.optional(name);
    if (v === undefined) return opts.default;
    if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(v)) {
      throw new InputError(name, `Input ${name} must be a number, got "${truncate(v)}".`);
    }
    const n = Number(v);
    if (!Number.isFinite(n)) throw new InputError(name, `Input ${name} must be a finite number, got "${truncate(v)}".`);
    if (opts.integer && !Number.isInteger(n)) throw new InputError(name, `Input ${name} must be a whole number, got "${truncate(v)}".`);
    const lowOk = opts.min === undefined || (opts.minExclusive ? n > opts.min : n >= opts.min);
    const highOk = opts.max === undefined || n <= opts.max;
    if (!lowOk || !highOk) {
      const lo = opts.min === undefined ? '' : `${opts.minExclusive ? '>' : '>='} ${opts.min}`;
      const hi = opts.max === undefined ? '' : `<= ${opts.max}`;
      throw new InputError(name, `Input ${name} must be ${[lo, hi].filter(Boolean).join(' and ')}; got ${v}.`);
    }
    return n;
  }

  /** Non-empty, trimmed lines; `#` comments allowed. */
  lines(name: string): string[] {
    const v = this.source.get(name);
    if (v === undefined) return [];
    return v
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
  }

  variable(name: string): string | undefined {
    return this.source.variable(name);
  }
}

/** An echoed input value, cut to 200 characters with a count of the rest: `abc…(1234 more)`. */
export function truncate(s: string, max = 200): string {
  return clip(s, max);
}

/** C0 and C1 control characters (a tab or line break has no place in a workspace path or name). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A workspace path input (notebook, experiment, folder): absolute, no control characters, no `.`, `..` or
 * empty segments, checked before any request and worded like repoPath's checks. Returns it unchanged.
 */
export function checkWorkspacePath(input: string, p: string, example: string): string {
  if (CONTROL_CHARS.test(p)) throw new InputError(input, `${input} must not contain control characters.`);
  if (!p.startsWith('/')) throw new InputError(input, `${input} must be an absolute workspace path such as ${example}; got "${truncate(p)}".`);
  const segments = p.slice(1).split('/');
  if (segments.some((s) => s === '.' || s === '..')) throw new InputError(input, `${input} must not contain "." or ".." segments; got "${truncate(p)}".`);
  if (segments.slice(0, -1).some((s) => s === '')) throw new InputError(input, `${input} must not contain empty segments ("//"); got "${truncate(p)}".`);
  return p;
}
