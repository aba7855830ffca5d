/**
 * A builder for MLflow `runs/search` filter strings that cannot be turned into grammar by the values
 * put in it.
 *
 * The MLflow filter language (mlflow/utils/search_utils.py; Databricks documents the same syntax) is
 * a conjunction of `<type>.<key> <op> <value>` terms joined by `AND`. There is no `OR`, no grouping and
 * no escape sequence inside quoted strings: the server strips the outer quotes and compares what is
 * left. So the only way to keep a value literal is to wrap it in a quote character it does not
 * contain. This builder therefore:
 * - wraps every tag/param/metric key in backticks and rejects keys containing a backtick;
 * - wraps string values in single quotes, or in double quotes when the value contains a single quote
 *   (the OSS parser accepts both), and rejects values containing both quote characters;
 * - rejects control characters (a newline would end the term for some tokenizers) and a trailing
 *   backslash (SQL tokenizers read `\'` as an escaped quote, which would swallow the closing quote);
 * - accepts only finite numbers for metric and numeric attribute comparisons;
 * - accepts only the documented attribute names and, per kind, only the documented operators.
 *
 * A value such as `x' OR '1'='1` is therefore sent as the literal string `"x' OR '1'='1"`.
 *
 * @example
 * filter().tag('candidate', '=', 'true').attribute('status', '=', 'FINISHED').metric('auc', '>', 0.8).toString()
 * // => "tags.`candidate` = 'true' AND attributes.status = 'FINISHED' AND metrics.`auc` > 0.8"
 */

/** Thrown when a key, value or operator cannot be expressed safely in the filter language. */
export class FilterError extends Error {
  override name = 'FilterError';
}

export type NumericOperator = '=' | '!=' | '>' | '>=' | '<' | '<=';
export type StringOperator = '=' | '!=' | 'LIKE' | 'ILIKE';

/** Run attributes compared as strings. */
export const STRING_ATTRIBUTES = ['run_id', 'run_name', 'status', 'user_id', 'artifact_uri'] as const;
/** Run attributes compared as numbers (epoch milliseconds). */
export const NUMERIC_ATTRIBUTES = ['start_time', 'end_time'] as const;

export type StringAttribute = (typeof STRING_ATTRIBUTES)[number];
export type NumericAttribute = (typeof NUMERIC_ATTRIBUTES)[number];

const NUMERIC_OPERATORS: readonly string[] = ['=', '!=', '>', '>=', '<', '<='];
const STRING_OPERATORS: readonly string[] = ['=', '!=', 'LIKE', 'ILIKE'];
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Immutable filter builder; every method returns a new builder. */
export class RunFilter {
  private constructor(private readonly terms: readonly string[]) {}

  /** An empty filter (matches every run). */
  static empty(): RunFilter {
    return new RunFilter([]);
  }

  /** `tags.\`key\` <op> '<value>'`. */
  tag(key: string, op: StringOperator, value: string): RunFilter {
    return this.with(`tags.${quoteKey(key, 'tag')} ${checkOp(op, STRING_OPERATORS, 'tag')} ${quoteValue(value, `tag '${key}'`)}`);
  }

  /** `params.\`key\` <op> '<value>'`. */
  param(key: string, op: StringOperator, value: string): RunFilter {
    return this.with(`params.${quoteKey(key, 'param')} ${checkOp(op, STRING_OPERATORS, 'param')} ${quoteValue(value, `param '${key}'`)}`);
  }

  /** `metrics.\`key\` <op> <number>`. */
  metric(key: string, op: NumericOperator, value: number): RunFilter {
    return this.with(`metrics.${quoteKey(key, 'metric')} ${checkOp(op, NUMERIC_OPERATORS, 'metric')} ${formatNumber(value, `metric '${key}'`)}`);
  }

  /**
   * `attributes.<name> <op> <value>`: string attributes (`status`, `run_name`, ...) take a string and
   * `=`, `!=`, `LIKE`, `ILIKE`; numeric ones (`start_time`, `end_time`) take a number and comparisons.
   */
  attribute(name: StringAttribute, op: StringOperator, value: string): RunFilter;
  attribute(name: NumericAttribute, op: NumericOperator, value: number): RunFilter;
  attribute(name: StringAttribute | NumericAttribute, op: string, value: string | number): RunFilter {
    if ((STRING_ATTRIBUTES as readonly string[]).includes(name)) {
      if (typeof value !== 'string') throw new FilterError(`Attribute '${name}' takes a string value.`);
      return this.with(`attributes.${name} ${checkOp(op, STRING_OPERATORS, `attribute '${name}'`)} ${quoteValue(value, `attribute '${name}'`)}`);
    }
    if ((NUMERIC_ATTRIBUTES as readonly string[]).includes(name)) {
      if (typeof value !== 'number') throw new FilterError(`Attribute '${name}' takes a numeric value.`);
      return this.with(`attributes.${name} ${checkOp(op, NUMERIC_OPERATORS, `attribute '${name}'`)} ${formatNumber(value, `attribute '${name}'`)}`);
    }
    throw new FilterError(`Unknown run attribute '${String(name)}'; expected one of ${[...STRING_ATTRIBUTES, ...NUMERIC_ATTRIBUTES].join(', ')}.`);
  }

  /** `attributes.run_id IN ('a', 'b')` (the only attribute MLflow allows `IN` on). */
  runIdIn(runIds: readonly string[]): RunFilter {
    if (runIds.length === 0) throw new FilterError('runIdIn needs at least one run id.');
    return this.with(`attributes.run_id IN (${runIds.map((id) => quoteValue(id, 'run_id')).join(', ')})`);
  }

  /** Whether no term was added. */
  isEmpty(): boolean {
    return this.terms.length === 0;
  }

  /** The filter string (`''` when empty), terms joined by `AND`. */
  toString(): string {
    return this.terms.join(' AND ');
  }

  private with(term: string): RunFilter {
    return new RunFilter([...this.terms, term]);
  }
}

/** Starts a filter: `filter().tag('candidate', '=', 'true').toString()`. */
export function filter(): RunFilter {
  return RunFilter.empty();
}

/** Wraps a tag/param/metric key in backticks, rejecting what backticks cannot carry. */
export function quoteKey(key: string, kind: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new FilterError(`The ${kind} key must be a non-empty string.`);
  if (key.includes('`')) {
    throw new FilterError(`The ${kind} key ${JSON.stringify(key)} contains a backtick, which the MLflow filter language cannot quote.`);
  }
  if (CONTROL_CHARS.test(key)) {
    throw new FilterError(`The ${kind} key ${JSON.stringify(key)} contains a control character (e.g. a newline), which is not allowed in a filter.`);
  }
  return '`' + key + '`';
}

/**
 * Quotes a string value so the server reads it back verbatim: single quotes, or double quotes when the
 * value holds a single quote. MLflow has no escape sequences, so a value with both quote characters
 * cannot be expressed and is rejected.
 */
export function quoteValue(value: string, what: string): string {
  if (typeof value !== 'string') throw new FilterError(`The value for ${what} must be a string.`);
  if (CONTROL_CHARS.test(value)) {
    throw new FilterError(`The value for ${what} contains a control character (e.g. a newline), which is not allowed in a filter.`);
  }
  if (value.endsWith('\\')) {
    throw new FilterError(`The value for ${what} ends with a backslash, which the server could read as an escaped closing quote.`);
  }
  const hasSingle = value.includes("'");
  const hasDouble = value.includes('"');
  if (hasSingle && hasDouble) {
    throw new FilterError(`The value for ${what} contains both ' and ", which the MLflow filter language cannot quote (it has no escape sequences).`);
  }
  return hasSingle ? `"${value}"` : `'${value}'`;
}

function checkOp(op: string, allowed: readonly string[], what: string): string {
  if (!allowed.includes(op)) throw new FilterError(`Operator ${JSON.stringify(op)} is not allowed for ${what}; use one of ${allowed.join(', ')}.`);
  return op;
}

function formatNumber(value: number, what: string): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new FilterError(`The value for ${what} must be a finite number.`);
  // String() never produces grammar characters for a finite number (digits, '.', '-', 'e', '+').
  return String(value);
}
