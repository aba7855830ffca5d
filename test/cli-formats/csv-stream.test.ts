/**
 * CSV read as a stream (src/io/csv.ts, src/io/file-chunks.ts): whatever the chunk boundaries — inside a
 * quoted field, between a "" escape's two quotes, between CR and LF, inside a UTF-8 character or the BOM —
 * the columns are exactly those of the whole text, and the errors are the same, naming line and row.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PredictionsError } from '../../src/engine';
import { readCsvColumns, type CsvColumns } from '../../src/io/csv';
import { openChunkedFile } from '../../src/io/file-chunks';
import { readPredictionsChunked, readPredictionsFile } from '../../src/io/predictions-file';

const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The text cut into chunks at the given offsets. */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const edges = [0, ...at, bytes.length];
  return edges.slice(1).map((end, i) => bytes.slice(edges[i], end));
}

function every(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

/** The columns as plain values: numbers, null for a missing cell; text columns by their first bad cell. */
function plain(c: CsvColumns): unknown {
  return {
    names: c.names,
    n: c.n,
    columns: c.columns.map((col) => ({
      length: col.out.length,
      values: Array.from(col.out, (v, i) => ((col.valid[i >> 3] >> (i & 7)) & 1 ? v : null)),
      nulls: col.nulls,
      text: col.text,
      bad: col.bad,
    })),
  };
}

function throwsExactly(chunks: Uint8Array[], message: string): void {
  assert.throws(
    () => readCsvColumns(chunks),
    (e: unknown) => {
      assert.ok(e instanceof PredictionsError, String(e));
      assert.equal(e.message, message);
      return true;
    },
  );
}

// Everything at a boundary somewhere: BOM, quoted header, "" escapes, a comma and a CRLF inside quotes,
// a two- and a four-byte UTF-8 character, empty cells, nan/inf/true, CRLF and LF endings, blank lines.
const TRICKY =
  '\ufeff"id","label",prod,"c""and"\r\n' +
  '"a, ""first""",0,0.25,"0.5"\r\n' +
  '"multi\r\nline é",1,,1e-3\n' +
  'plain 😀,1,-.5,+2\r\n' +
  '"",0,nan,true\r\n' +
  'z,1,0.125,inf\r\n' +
  '\r\n\n';

describe('CSV read as a stream (src/io/csv.ts)', () => {
  const whole = bytesOf(TRICKY);
  const expected = plain(readCsvColumns([whole]));

  it('the whole text reads as expected', () => {
    const c = readCsvColumns([whole]);
    assert.deepEqual(c.names, ['id', 'label', 'prod', 'c"and']);
    assert.equal(c.n, 5);
    assert.deepEqual(Array.from(c.columns[1].out), [0, 1, 1, 0, 1]);
    assert.deepEqual((plain(c) as { columns: { values: unknown[] }[] }).columns[2].values, [0.25, null, -0.5, NaN, 0.125]);
    assert.deepEqual(Array.from(c.columns[3].out), [0.5, 0.001, 2, 1, Infinity]);
    assert.equal(c.columns[0].text, true);
    assert.deepEqual(c.columns[0].bad, { row: 0, line: 2, text: 'a, "first"' });
  });

  it('cut in two at every byte, the columns are identical', () => {
    for (let at = 0; at <= whole.length; at++) assert.deepEqual(plain(readCsvColumns(cut(whole, [at]))), expected, `cut at byte ${at}`);
  });

  it('in chunks of 1, 2, 3, 5 and 7 bytes, and with empty chunks, the columns are identical', () => {
    for (const size of [1, 2, 3, 5, 7]) assert.deepEqual(plain(readCsvColumns(every(whole, size))), expected, `chunks of ${size}`);
    assert.deepEqual(plain(readCsvColumns([new Uint8Array(0), ...every(whole, 4), new Uint8Array(0)])), expected);
  });

  it('a CRLF split between two chunks ends one record (no empty row, the next line counted once)', () => {
    const text = bytesOf('label,a\r\n0,0.5\r\n1,x\r\n');
    const at = text.indexOf(0x0a, 10); // the LF after "0,0.5\r"
    const c = readCsvColumns(cut(text, [at]));
    assert.equal(c.n, 2);
    assert.deepEqual(c.columns[1].bad, { row: 1, line: 3, text: 'x' });
  });

  it('a quoted field longer than many chunks, with "" escapes at chunk edges, is read whole', () => {
    const long = `${'ab""'.repeat(5000)}`;
    const text = bytesOf(`id,label\n"${long}",1\n"${long}",0\n`);
    for (const size of [3, 64, 1000]) {
      const c = readCsvColumns(every(text, size));
      assert.equal(c.n, 2);
      assert.deepEqual(Array.from(c.columns[1].out), [1, 0]);
      assert.equal(c.columns[0].bad?.text, `${'ab"'.repeat(13)}a…`);
    }
  });

  it('errors are exact whatever the chunks', () => {
    for (const chunks of [(b: Uint8Array) => [b], (b: Uint8Array) => every(b, 1), (b: Uint8Array) => every(b, 7)]) {
      throwsExactly(chunks(bytesOf('label,prod,cand\n0,0.1,0.2\n1,0.7\n')), 'line 3 of the CSV (row 1) has 2 fields but the header has 3 (label, prod, cand)');
      throwsExactly(
        chunks(bytesOf('label,prod,cand\n0,0.1,0.2\n1,0.7,0.3,9\n')),
        'line 3 of the CSV (row 1) has 4 fields but the header has 3 (label, prod, cand)',
      );
      throwsExactly(chunks(bytesOf('label,prod\n0,"0.1\n1,0.7\n')), 'the CSV has a quoted field that is never closed (opened on line 2)');
      throwsExactly(chunks(bytesOf('label,prod\n"a\nb",0.1\n1,"0.7"x\n')), 'the CSV has text after a closing quote on line 4');
      throwsExactly(chunks(bytesOf('label,prod,label\n0,0.1,0\n')), "column 'label' appears twice");
      throwsExactly(chunks(new Uint8Array(0)), 'the CSV is empty: it has no header line');
      throwsExactly(chunks(bytesOf('\ufeff')), 'the CSV is empty: it has no header line');
    }
  });
});

describe('CSV files larger than one read chunk (src/io/file-chunks.ts)', function () {
  this.timeout(60000);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'mlops-eval-csv-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** 60,000 rows (about 2.4 MB: more than two 1 MiB chunks) with quoted ids and CRLF. */
  function bigCsv(bad?: { row: number; text: string }): string {
    const lines = ['"id",label,prod,cand'];
    for (let i = 0; i < 60000; i++) {
      const y = i % 3 === 0 ? 1 : 0;
      const cand = bad?.row === i ? bad.text : String(((i * 7919) % 10007) / 10007);
      lines.push(`"row ""${i}"", batch ${i % 13}",${y},${((i * 104729) % 10009) / 10009},${cand}`);
    }
    return `${lines.join('\r\n')}\r\n`;
  }

  it('streams a 2.4 MB file in 1 MiB and in 4 KiB chunks to the same predictions as the whole bytes', async () => {
    const text = bigCsv();
    const file = path.join(dir, 'big.csv');
    writeFileSync(file, text);
    const opts = { labelColumn: 'label', numericOnly: true };
    const reference = await readPredictionsFile(bytesOf(text), opts, 'big.csv');
    assert.equal(reference.n, 60000);
    assert.ok(text.length > 2 * 1024 * 1024);
    for (const chunk of [undefined, 4096]) {
      const opened = openChunkedFile(file, chunk);
      assert.equal(opened.size, text.length);
      assert.equal(opened.head.length, 64 * 1024);
      const preds = await readPredictionsChunked(opened, opts, file);
      assert.deepEqual(
        preds.columns.map((c) => c.name),
        ['prod', 'cand'],
      );
      assert.deepEqual(preds.labels, reference.labels);
      assert.deepEqual(preds.columns[0].scores, reference.columns[0].scores);
      assert.deepEqual(preds.columns[1].scores, reference.columns[1].scores);
    }
  });

  it('a bad cell in a later chunk is reported with its row and line', async () => {
    const file = path.join(dir, 'bad.csv');
    writeFileSync(file, bigCsv({ row: 51234, text: 'oops' }));
    await assert.rejects(readPredictionsChunked(openChunkedFile(file), { labelColumn: 'label', scoreColumns: ['prod', 'cand'] }, file), (e: unknown) => {
      assert.ok(e instanceof PredictionsError);
      assert.equal(e.message, "column 'cand' has a value that is not a number at row 51234 (line 51236 of the CSV): 'oops'");
      return true;
    });
  });

  it('a missing file fails when opened, before any parsing', () => {
    assert.throws(() => openChunkedFile(path.join(dir, 'nope.csv')), /ENOENT/);
  });
});
