/**
 * A streaming reader of comma-separated predictions (RFC 4180, https://www.rfc-editor.org/rfc/rfc4180:
 * header line, optional "quoted" fields with "" escapes, LF or CRLF, optional UTF-8 BOM) into float64
 * columns. The text is fed in chunks and never held whole: a chunk is parsed up to its last complete record
 * and only the incomplete tail is kept for the next one, so memory is the columns plus about one chunk.
 *
 * Cells: empty cells are missing values (pandas writes NaN as an empty cell), `nan`/`inf`/`true`/`false`
 * (any case) are numbers. A column whose first non-empty cell is text (an id, a name) is marked as text;
 * every column remembers its first non-numeric cell with its row and line for the error message.
 *
 * Hand-written rather than a CSV library (csv-parse and the like hand out one array of strings per record):
 * every cell goes straight into a typed array, the errors need the row and the physical line, and the task
 * bundles that include this file stay small.
 */
import { PredictionsError } from '../engine';

/** A float64 column of a CSV file, with its validity and its first non-numeric cell. */
export interface CsvColumn {
  out: Float64Array;
  valid: Uint8Array;
  nulls: number;
  bad?: { row: number; line: number; text: string };
  /** The first non-empty cell was text: an id or name column, not a score (left out unless asked for). */
  text?: boolean;
  /** Columns read as text (slice columns): a code per row into `names`, the distinct values in order of first appearance. */
  strings?: { codes: Int32Array; names: string[]; index: Map<string, number> };
}

export interface CsvColumns {
  names: string[];
  columns: CsvColumn[];
  /** Rows read (the columns' arrays are exactly this long). */
  n: number;
}

const CSV_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const CSV_SPECIAL: Record<string, number> = {
  nan: NaN,
  inf: Infinity,
  '+inf': Infinity,
  '-inf': -Infinity,
  infinity: Infinity,
  '+infinity': Infinity,
  '-infinity': -Infinity,
  true: 1,
  false: 0,
};
const utf8 = new TextDecoder();
const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** Thrown inside the parser when a record runs past the bytes at hand: wait for the next chunk. */
const NEED_MORE = Symbol('need more bytes');

/**
 * Reads a CSV from its chunks (any sizes; a quoted field, a multi-byte character or a CRLF may span two).
 *
 * @param sizeHint the file's size in bytes, when known: the columns are then allocated once at about the
 *   right length (estimated from the first rows) instead of growing by doubling.
 * @throws PredictionsError for a malformed file, with its line (and row).
 */
export function readCsvColumns(chunks: Iterable<Uint8Array>, sizeHint?: number, textColumns: string[] = []): CsvColumns {
  const reader = new CsvReader(sizeHint, textColumns);
  for (const chunk of chunks) reader.push(chunk);
  return reader.end();
}

export class CsvReader {
  private names: string[] | undefined;
  private columns: CsvColumn[] = [];
  private n = 0;
  private capacity = 0;
  /** Physical line of the next record (1-based). */
  private line = 1;
  /** Bytes of complete records consumed so far, for the row-length estimate. */
  private consumed = 0;
  private started = false;
  /** The incomplete tail of the data so far, in a buffer grown by doubling. */
  private pending = new Uint8Array(0);
  private pendingLength = 0;
  /** After an attempt that completed no record, wait for this much pending data before trying again. */
  private retryAt = 0;
  /** The raw fields of the record being parsed, committed to the columns once the record is complete. */
  private fields: string[] = [];
  /** Set by {@link quotedField}: the position after the closing quote, and the line breaks inside the quotes. */
  private quotedEnd = 0;
  private quotedLines = 0;

  /** @param textColumns columns kept as text (slice columns), each cell's trimmed text coded by its value. */
  constructor(
    private readonly sizeHint?: number,
    private readonly textColumns: string[] = [],
  ) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.pendingLength === 0) {
      const used = this.parse(chunk, false);
      if (used < chunk.length) this.keep(chunk.subarray(used), used === 0 ? chunk.length : 0);
      return;
    }
    this.append(chunk);
    if (this.pendingLength < this.retryAt) return;
    const data = this.pending.subarray(0, this.pendingLength);
    const used = this.parse(data, false);
    this.pending.copyWithin(0, used, this.pendingLength);
    this.pendingLength -= used;
    // No record completed: one record is longer than all we have; try again when the data has doubled, so
    // a very long record (or a quote never closed) costs linear time, not quadratic.
    this.retryAt = used === 0 ? this.pendingLength * 2 : 0;
  }

  end(): CsvColumns {
    const data = this.pending.subarray(0, this.pendingLength);
    this.parse(data, true);
    this.pending = new Uint8Array(0);
    this.pendingLength = 0;
    if (this.names === undefined) throw new PredictionsError('the CSV is empty: it has no header line');
    const n = this.n;
    const columns = this.columns.map((c) => ({
      ...c,
      out: c.out.subarray(0, n),
      valid: c.valid.subarray(0, Math.ceil(n / 8)),
      ...(c.strings ? { strings: { ...c.strings, codes: c.strings.codes.subarray(0, n) } } : {}),
    }));
    return { names: this.names, columns, n };
  }

  private keep(tail: Uint8Array, attempted: number): void {
    this.append(tail);
    this.retryAt = attempted > 0 ? attempted * 2 : 0;
  }

  private append(bytes: Uint8Array): void {
    const need = this.pendingLength + bytes.length;
    if (need > this.pending.length) {
      const grown = new Uint8Array(Math.max(need, this.pending.length * 2, 1 << 16));
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
    }
    this.pending.set(bytes, this.pendingLength);
    this.pendingLength = need;
  }

  /**
   * Parses the complete records of `bytes` (all of them when `final`); returns the bytes consumed. State
   * changes only when a record is complete, so an incomplete one is parsed again with more bytes.
   */
  private parse(bytes: Uint8Array, final: boolean): number {
    const len = bytes.length;
    let pos = 0;
    if (!this.started) {
      if (len < 3 && !final && bytes[0] === 0xef) return 0;
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) pos = 3;
      this.started = true;
    }
    let line = this.line;
    // A Buffer view decoded as latin1: one native call per unquoted field, no intermediate objects (the
    // numbers are ASCII; a field with other bytes is decoded again as UTF-8).
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    /** Set by `field()`: the field just read ended its record. */
    let ended = false;
    const field = (): string => {
      let text: string;
      if (bytes[pos] === QUOTE) {
        text = this.quotedField(bytes, pos, final, line);
        pos = this.quotedEnd;
        line += this.quotedLines;
        if (pos < len && bytes[pos] !== COMMA && bytes[pos] !== LF && bytes[pos] !== CR) {
          throw new PredictionsError(`the CSV has text after a closing quote on line ${line}`);
        }
      } else {
        const s = pos;
        while (pos < len && bytes[pos] !== COMMA && bytes[pos] !== LF && bytes[pos] !== CR) pos++;
        if (pos >= len && !final) throw NEED_MORE;
        text = buf.toString('latin1', s, pos);
        if (/[\x80-\xff]/.test(text)) text = utf8.decode(bytes.subarray(s, pos));
      }
      if (pos < len && bytes[pos] === COMMA) {
        pos++;
        ended = false;
        return text;
      }
      if (bytes[pos] === CR) {
        pos++;
        if (pos >= len && !final) throw NEED_MORE;
      }
      if (bytes[pos] === LF) pos++;
      ended = true;
      return text;
    };
    const fields = this.fields;
    let done = pos;
    try {
      while (pos < len) {
        if (this.names !== undefined && (bytes[pos] === LF || bytes[pos] === CR)) {
          // An empty line: skipped (a trailing newline, or blank lines at the end).
          if (bytes[pos] === CR && pos + 1 >= len && !final) throw NEED_MORE;
          if (bytes[pos] === CR) pos++;
          if (bytes[pos] === LF) pos++;
          line++;
          done = pos;
          this.line = line;
          continue;
        }
        const startLine = line;
        fields.length = 0;
        for (;;) {
          fields.push(field());
          if (ended) break;
        }
        line++;
        if (this.names === undefined) this.header(fields);
        else this.commit(fields, startLine);
        this.consumed += pos - done;
        done = pos;
        this.line = line;
      }
    } catch (e) {
      if (e !== NEED_MORE) throw e;
    }
    return done;
  }

  /**
   * The quoted field opening at `bytes[start]`, unescaped; sets {@link quotedEnd} and {@link quotedLines}.
   * Throws NEED_MORE when the closing quote (or the byte after it) is not in `bytes` yet and more may come.
   */
  private quotedField(bytes: Uint8Array, start: number, final: boolean, opened: number): string {
    const len = bytes.length;
    let pos = start;
    let lines = 0;
    let s = ++pos;
    const parts: string[] = [];
    for (;;) {
      if (pos >= len) {
        if (!final) throw NEED_MORE;
        throw new PredictionsError(`the CSV has a quoted field that is never closed (opened on line ${opened})`);
      }
      if (bytes[pos] === QUOTE) {
        if (pos + 1 >= len && !final) throw NEED_MORE;
        parts.push(utf8.decode(bytes.subarray(s, pos)));
        if (bytes[pos + 1] === QUOTE) {
          parts.push('"');
          pos += 2;
          s = pos;
          continue;
        }
        pos++;
        break;
      }
      if (bytes[pos] === LF) lines++;
      pos++;
    }
    this.quotedEnd = pos;
    this.quotedLines = lines;
    return parts.join('');
  }

  private header(fields: string[]): void {
    const names = fields.map((f) => f.trim());
    const twice = names.find((name, k) => names.indexOf(name) !== k);
    if (twice !== undefined) throw new PredictionsError(`column '${twice}' appears twice`, twice);
    this.names = names;
    this.capacity = 1024;
    this.columns = names.map((name) => ({
      out: new Float64Array(this.textColumns.includes(name) ? 0 : this.capacity),
      valid: new Uint8Array(this.capacity / 8).fill(0xff),
      nulls: 0,
      ...(this.textColumns.includes(name) ? { strings: { codes: new Int32Array(this.capacity), names: [], index: new Map<string, number>() } } : {}),
    }));
  }

  /** Grows the columns: to the rows the file size suggests (2% margin) when known, else by doubling. */
  private grow(): void {
    let capacity = this.capacity * 2;
    if (this.sizeHint !== undefined && this.n > 0) {
      const estimate = Math.ceil(((this.sizeHint / (this.consumed / this.n)) * 1.02) / 8) * 8 + 1024;
      if (estimate > this.capacity) capacity = estimate;
    }
    for (const c of this.columns) {
      if (c.strings) {
        const codes = new Int32Array(capacity);
        codes.set(c.strings.codes);
        c.strings.codes = codes;
      } else {
        const out = new Float64Array(capacity);
        out.set(c.out);
        c.out = out;
      }
      const valid = new Uint8Array(Math.ceil(capacity / 8)).fill(0xff);
      valid.set(c.valid);
      c.valid = valid;
    }
    this.capacity = capacity;
  }

  private commit(fields: string[], startLine: number): void {
    const names = this.names!;
    const width = names.length;
    const n = this.n;
    if (fields.length !== width) {
      throw new PredictionsError(
        `line ${startLine} of the CSV (row ${n}) has ${fields.length} field${fields.length > 1 ? 's' : ''} but the header has ${width} (${names.join(', ')})`,
      );
    }
    if (n === this.capacity) this.grow();
    for (let k = 0; k < width; k++) {
      const c = this.columns[k];
      const t = fields[k].trim();
      if (t === '') {
        c.valid[n >> 3] &= ~(1 << (n & 7));
        c.nulls++;
      } else if (c.strings) {
        let code = c.strings.index.get(t);
        if (code === undefined) {
          code = c.strings.names.length;
          c.strings.index.set(t, code);
          c.strings.names.push(t);
        }
        c.strings.codes[n] = code;
      } else if (CSV_NUMBER.test(t)) {
        c.out[n] = Number(t);
        c.text ??= false;
      } else {
        const special = CSV_SPECIAL[t.toLowerCase()];
        if (special !== undefined) {
          c.out[n] = special;
          c.text ??= false;
        } else {
          c.text ??= true;
          if (c.bad === undefined) c.bad = { row: n, line: startLine, text: t.length > 40 ? `${t.slice(0, 40)}…` : t };
        }
      }
    }
    this.n = n + 1;
  }
}
