/**
 * The MLflow search grammar as the emulator understands it (docs/databricks-api-notes.md §5.3, after the OSS
 * `SearchUtils`): a conjunction of `<type>.<key> <op> <value>` terms joined by `AND`.
 * - `OR`, parentheses grouping and anything else unexpected are rejected with 400 INVALID_PARAMETER_VALUE.
 * - Keys may be bare (`tags.mlflow.runName`, split at the first '.'), backticked or double-quoted.
 * - Values are single- or double-quoted strings with no escape processing (the outer quotes are
 *   stripped, nothing else), unquoted numbers, or a parenthesised string list for `IN` / `NOT IN`.
 */
import { ApiFault } from '../../contracts';

export type TermType = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';
export type TermValue = { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'list'; value: string[] };

export interface Term {
  type: TermType;
  key: string;
  /** Upper-cased: `=`, `!=`, `>`, `>=`, `<`, `<=`, `LIKE`, `ILIKE`, `IN`, `NOT IN`. */
  op: string;
  value: TermValue;
}

type Token =
  | { t: 'word'; v: string }
  | { t: 'bq'; v: string } // backticked
  | { t: 'dq'; v: string } // double-quoted
  | { t: 'sq'; v: string } // single-quoted
  | { t: 'num'; v: number; raw: string }
  | { t: 'op'; v: string }
  | { t: 'punct'; v: '(' | ')' | ',' | '.' };

export function invalid(message: string): ApiFault {
  return new ApiFault(400, 'INVALID_PARAMETER_VALUE', message);
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '`' || c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw invalid(`Invalid filter '${text}': unterminated quoted string starting at position ${i}.`);
      const v = text.slice(i + 1, end);
      out.push({ t: c === '`' ? 'bq' : c === '"' ? 'dq' : 'sq', v });
      i = end + 1;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '!=' || two === '>=' || two === '<=' || two === '<>') {
      out.push({ t: 'op', v: two === '<>' ? '!=' : two });
      i += 2;
      continue;
    }
    if (c === '=' || c === '>' || c === '<') {
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === '.') {
      // A '.' directly followed by a digit belongs to a number (".5"); otherwise it joins type and key.
      if (!(c === '.' && /\d/.test(text[i + 1] ?? ''))) {
        out.push({ t: 'punct', v: c });
        i++;
        continue;
      }
    }
    const num = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(text.slice(i));
    if (num && (c === '-' || c === '+' || c === '.' || /\d/.test(c))) {
      out.push({ t: 'num', v: Number(num[0]), raw: num[0] });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
    if (word) {
      out.push({ t: 'word', v: word[0] });
      i += word[0].length;
      continue;
    }
    throw invalid(`Invalid filter '${text}': unexpected character '${c}' at position ${i}.`);
  }
  return out;
}

const TYPE_ALIASES: Record<string, TermType> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

function typeOf(raw: string, text: string): TermType {
  const t = TYPE_ALIASES[raw.toLowerCase()];
  if (!t) {
    throw invalid(`Invalid filter '${text}'. Invalid entity type '${raw}'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset'].`);
  }
  return t;
}

class Cursor {
  i = 0;
  constructor(
    readonly tokens: Token[],
    readonly text: string,
  ) {}
  peek(o = 0): Token | undefined {
    return this.tokens[this.i + o];
  }
  next(): Token | undefined {
    return this.tokens[this.i++];
  }
  fail(what: string): never {
    throw invalid(`Invalid filter '${this.text}': ${what}.`);
  }
}

function isWord(tok: Token | undefined, w: string): boolean {
  return tok?.t === 'word' && tok.v.toUpperCase() === w;
}

/** Reads `<type>.<key>` (or a bare attribute) at the cursor. */
function readIdentifier(c: Cursor): { type: TermType; key: string } {
  const tok = c.next();
  if (!tok) c.fail('expected an identifier');
  if (tok.t === 'word') {
    if (['AND', 'OR', 'NOT', 'LIKE', 'ILIKE', 'IN'].includes(tok.v.toUpperCase())) c.fail(`expected an identifier, got '${tok.v}'`);
    const dot = tok.v.indexOf('.');
    if (dot < 0) {
      // `tags`.`x` style: a bare type word followed by '.' and a quoted key.
      if (c.peek()?.t === 'punct' && (c.peek() as { v: string }).v === '.') {
        c.next();
        return { type: typeOf(tok.v, c.text), key: readQuotedKey(c) };
      }
      return { type: 'attribute', key: tok.v };
    }
    const type = typeOf(tok.v.slice(0, dot), c.text);
    const rest = tok.v.slice(dot + 1);
    if (rest !== '') return { type, key: rest };
    return { type, key: readQuotedKey(c) };
  }
  if (tok.t === 'bq' || tok.t === 'dq') {
    if (c.peek()?.t === 'punct' && (c.peek() as { v: string }).v === '.') {
      c.next();
      return { type: typeOf(tok.v, c.text), key: readQuotedKey(c) };
    }
    return { type: 'attribute', key: tok.v };
  }
  return c.fail(`expected an identifier, got ${describe(tok)}`);
}

function readQuotedKey(c: Cursor): string {
  const tok = c.next();
  if (tok?.t === 'bq' || tok?.t === 'dq') return tok.v;
  if (tok?.t === 'word') return tok.v;
  return c.fail('expected a key after the entity type');
}

function describe(tok: Token): string {
  switch (tok.t) {
    case 'num':
      return `'${tok.raw}'`;
    case 'sq':
      return `'${tok.v}'`;
    default:
      return `'${String(tok.v)}'`;
  }
}

function readOperator(c: Cursor): string {
  const tok = c.next();
  if (!tok) c.fail('expected a comparison operator');
  if (tok.t === 'op') return tok.v;
  if (tok.t === 'word') {
    const w = tok.v.toUpperCase();
    if (w === 'LIKE' || w === 'ILIKE' || w === 'IN') return w;
    if (w === 'NOT' && isWord(c.peek(), 'IN')) {
      c.next();
      return 'NOT IN';
    }
  }
  return c.fail(`expected a comparison operator, got ${describe(tok)}`);
}

function readValue(c: Cursor, op: string): TermValue {
  if (op === 'IN' || op === 'NOT IN') {
    const open = c.next();
    if (open?.t !== 'punct' || open.v !== '(') c.fail(`${op} needs a parenthesised list of quoted strings`);
    const items: string[] = [];
    for (;;) {
      const v = c.next();
      if (v?.t !== 'sq' && v?.t !== 'dq') c.fail(`${op} list items must be quoted strings`);
      items.push(v.v);
      const sep = c.next();
      if (sep?.t === 'punct' && sep.v === ')') break;
      if (sep?.t !== 'punct' || sep.v !== ',') c.fail(`${op} list items must be separated by ','`);
    }
    return { kind: 'list', value: items };
  }
  const tok = c.next();
  if (!tok) c.fail('expected a value');
  if (tok.t === 'sq' || tok.t === 'dq') return { kind: 'string', value: tok.v };
  if (tok.t === 'num') return { kind: 'number', value: tok.v };
  return c.fail(`expected a quoted string or a number, got ${describe(tok)}`);
}

/** Parses a filter into terms; `''`/undefined is the empty conjunction. Throws ApiFault 400 on bad syntax. */
export function parseFilter(text: string | undefined): Term[] {
  if (text === undefined || text.trim() === '') return [];
  const c = new Cursor(tokenize(text), text);
  const terms: Term[] = [];
  for (;;) {
    const first = c.peek();
    if (first?.t === 'punct' && first.v === '(') c.fail('parentheses are not supported; only AND-joined comparisons are');
    const id = readIdentifier(c);
    const op = readOperator(c);
    const value = readValue(c, op);
    terms.push({ ...id, op, value });
    const sep = c.next();
    if (sep === undefined) return terms;
    if (isWord(sep, 'AND')) continue;
    if (isWord(sep, 'OR')) c.fail("'OR' is not supported; MLflow search filters only support AND");
    c.fail(`expected 'AND' or the end of the filter, got ${describe(sep)}`);
  }
}

/** SQL LIKE (`%`, `_`) as an anchored regular expression; case-insensitive for ILIKE. */
export function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '%') re += '.*';
    else if (ch === '_') re += '.';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, caseInsensitive ? 'is' : 's');
}

/** Compares a string with the term's operator; `undefined` (missing key) never matches. */
export function matchString(actual: string | undefined, term: Term): boolean {
  if (actual === undefined) return false;
  const v = term.value;
  switch (term.op) {
    case '=':
      return v.kind === 'string' && actual === v.value;
    case '!=':
      return v.kind === 'string' && actual !== v.value;
    case 'LIKE':
      return v.kind === 'string' && likeToRegExp(v.value, false).test(actual);
    case 'ILIKE':
      return v.kind === 'string' && likeToRegExp(v.value, true).test(actual);
    case 'IN':
      return v.kind === 'list' && v.value.includes(actual);
    case 'NOT IN':
      return v.kind === 'list' && !v.value.includes(actual);
    default:
      return false;
  }
}

/** Compares a number with the term's operator; `undefined` never matches. */
export function matchNumber(actual: number | undefined, term: Term): boolean {
  if (actual === undefined || term.value.kind !== 'number') return false;
  const v = term.value.value;
  switch (term.op) {
    case '=':
      return actual === v;
    case '!=':
      return actual !== v;
    case '>':
      return actual > v;
    case '>=':
      return actual >= v;
    case '<':
      return actual < v;
    case '<=':
      return actual <= v;
    default:
      return false;
  }
}

export const NUMERIC_OPS = ['=', '!=', '>', '>=', '<', '<='];
export const STRING_OPS = ['=', '!=', 'LIKE', 'ILIKE'];

/** Checks a term's operator and value kind; throws 400 INVALID_PARAMETER_VALUE naming the problem. */
export function requireShape(term: Term, ops: string[], kind: 'string' | 'number' | 'list', what: string, text: string): void {
  if (!ops.includes(term.op)) {
    throw invalid(`Invalid filter '${text}': operator '${term.op}' is not supported for ${what}; use one of ${ops.join(', ')}.`);
  }
  const expected = term.op === 'IN' || term.op === 'NOT IN' ? 'list' : kind;
  if (term.value.kind !== expected) {
    const need = expected === 'number' ? 'a number' : expected === 'list' ? 'a list of quoted strings' : 'a quoted string';
    throw invalid(`Invalid filter '${text}': the value for ${what} must be ${need}.`);
  }
}

export interface OrderKey {
  type: TermType;
  key: string;
  ascending: boolean;
}

/** Parses one `order_by` clause: `<identifier> [ASC|DESC]`. */
export function parseOrderBy(clause: string): OrderKey {
  let tokens: Token[];
  try {
    tokens = tokenize(clause);
  } catch {
    throw invalid(`Invalid order_by clause '${clause}'.`);
  }
  const c = new Cursor(tokens, clause);
  let id: { type: TermType; key: string };
  try {
    id = readIdentifier(c);
  } catch {
    throw invalid(`Invalid order_by clause '${clause}'.`);
  }
  let ascending = true;
  const dir = c.next();
  if (dir) {
    if (isWord(dir, 'ASC')) ascending = true;
    else if (isWord(dir, 'DESC')) ascending = false;
    else throw invalid(`Invalid order_by clause '${clause}': expected ASC or DESC after the key.`);
    if (c.next()) throw invalid(`Invalid order_by clause '${clause}'.`);
  }
  return { ...id, ascending };
}

/** Offset page tokens (OSS style: base64 JSON `{"offset": N}`). */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64');
}

export function decodePageToken(token: unknown): number {
  if (token === undefined || token === '') return 0;
  if (typeof token !== 'string') throw invalid('Invalid page token.');
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && Number.isInteger(parsed.offset) && parsed.offset >= 0) return parsed.offset;
  } catch {
    // fall through
  }
  throw invalid(`Invalid page token '${token}'.`);
}

/** Parses `max_results` (number or numeric string); default when absent; 400 outside [1, max]. */
export function parseMaxResults(raw: unknown, def: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw invalid(`Invalid value ${String(raw)} for parameter 'max_results' supplied. It must be a positive integer at most ${max}.`);
  }
  return n;
}
