/**
 * Predictions in every supported format (Arrow IPC file and stream, Parquet, CSV) give the same
 * decision; bad files give exact, actionable errors; `mlops-eval compare --html/--markdown` writes
 * self-contained files. Parquet fixtures are written here with hyparquet-writer (a devDependency), so the
 * tests need no network and no Python.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { makeVector, Table, tableFromArrays, tableToIPC, vectorFromArray, Float64 } from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { compareModels, PredictionsError, type ReadPredictionsOptions } from '../../src/engine';
import { detectFormat, readPredictionsFile } from '../../src/io/predictions-file';
import { simulateModels } from '../engine/simulate';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/cli/mlops-eval.js');
const HOW =
  "Write the predictions as Parquet (pandas: df.to_parquet('predictions.parquet'); Spark: df.toPandas().to_parquet(...)), " +
  "Arrow IPC (pyarrow.feather.write_feather(df, 'predictions.arrow')) or CSV (df.to_csv('predictions.csv', index=False)).";

const { labels, scores } = simulateModels({ n: 2000, aucs: [0.72, 0.78], rho: 0.6, prevalence: 0.3, seed: 'formats' });
const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const prod = Float64Array.from(scores[0].map(sig));
const cand = Float64Array.from(scores[1].map(sig));
const label = Int32Array.from(labels);
const ids = Array.from(labels, (_, i) => `customer-${i}`);

function arrowBytes(kind: 'file' | 'stream'): Uint8Array {
  return tableToIPC(tableFromArrays({ id: ids, label: Int8Array.from(labels), prod, cand }), kind);
}

function parquetBytes(columns: { name: string; data: unknown; type: string; nullable?: boolean }[]): Uint8Array {
  return new Uint8Array(parquetWriteBuffer({ columnData: columns as Parameters<typeof parquetWriteBuffer>[0]['columnData'] }));
}

function goodParquet(): Uint8Array {
  return parquetBytes([
    { name: 'id', data: ids, type: 'STRING' },
    { name: 'label', data: label, type: 'INT32', nullable: false },
    { name: 'prod', data: prod, type: 'DOUBLE' },
    { name: 'cand', data: cand, type: 'DOUBLE', nullable: false },
  ]);
}

function csvText(): string {
  const lines = ['id,label,prod,cand'];
  for (let i = 0; i < labels.length; i++) lines.push(`"${ids[i]}",${labels[i]},${prod[i]},${cand[i]}`);
  return `${lines.join('\r\n')}\r\n`;
}

const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);

async function rejects(
  bytes: Uint8Array,
  message: string,
  opts: ReadPredictionsOptions = { labelColumn: 'label', scoreColumns: ['prod', 'cand'] },
  name?: string,
): Promise<void> {
  await assert.rejects(readPredictionsFile(bytes, opts, name), (e: unknown) => {
    assert.ok(e instanceof PredictionsError, String(e));
    assert.equal(e.message, message);
    return true;
  });
}

describe('predictions formats (Arrow, Parquet, CSV)', () => {
  it('detects the format by magic bytes first, then by extension', () => {
    assert.equal(detectFormat(arrowBytes('file'), 'x.csv'), 'arrow-file');
    assert.equal(detectFormat(arrowBytes('stream'), 'x.csv'), 'arrow-stream');
    assert.equal(detectFormat(goodParquet(), 'predictions.arrow'), 'parquet');
    assert.equal(detectFormat(bytesOf('label,a\n1,0.5\n'), 'predictions.csv'), 'csv');
    assert.equal(detectFormat(bytesOf('label,a\n1,0.5\n')), 'csv');
    assert.equal(detectFormat(bytesOf('label;a\n1;0.5\n'), 'p.arrow'), 'arrow-stream');
  });

  it('the same predictions as Arrow file, Arrow stream, Parquet and CSV give identical decisions', async () => {
    const opts = { labelColumn: 'label', numericOnly: true };
    const inputs: [string, Uint8Array][] = [
      ['predictions.arrow', arrowBytes('file')],
      ['predictions.arrows', arrowBytes('stream')],
      ['predictions.parquet', goodParquet()],
      ['predictions.csv', bytesOf(csvText())],
    ];
    const decisions: string[] = [];
    for (const [name, bytes] of inputs) {
      const preds = await readPredictionsFile(bytes, opts, name);
      assert.deepEqual(
        preds.columns.map((c) => c.name),
        ['prod', 'cand'],
        name,
      );
      assert.equal(preds.n, 2000, name);
      assert.deepEqual(Array.from(preds.labels), Array.from(labels), name);
      assert.deepEqual(Array.from(preds.columns[1].scores), Array.from(cand), name);
      decisions.push(
        JSON.stringify(
          compareModels(preds, {
            baseline: 'prod',
            metric: 'roc_auc',
            method: 'bootstrap',
            resamples: 200,
            seed: 7,
            winRate: 0.95,
            minDelta: 0.001,
            confidence: 0.95,
            bootstrap: 'multinomial',
          }),
        ),
      );
    }
    assert.equal(new Set(decisions).size, 1);
    assert.equal(JSON.parse(decisions[0]).decision, 'promote');
  });

  it('Parquet booleans, float32 and int64 columns are read as numbers', async () => {
    const bytes = parquetBytes([
      { name: 'label', data: Array.from(labels, (y) => y === 1), type: 'BOOLEAN', nullable: false },
      { name: 'prod', data: Float32Array.from(prod), type: 'FLOAT', nullable: false },
      { name: 'cand', data: BigInt64Array.from(labels, (_, i) => BigInt(Math.round(cand[i] * 1000))), type: 'INT64', nullable: false },
    ]);
    const preds = await readPredictionsFile(bytes, { labelColumn: 'label' }, 'p.parquet');
    assert.deepEqual(Array.from(preds.labels), Array.from(labels));
    assert.deepEqual(Array.from(preds.columns[0].scores), Array.from(Float32Array.from(prod), Number));
    assert.equal(preds.columns[1].scores[5], Math.round(cand[5] * 1000));
  });

  it('a truncated Parquet file fails with the exact error', async () => {
    const good = goodParquet();
    await rejects(good.subarray(0, good.length - 100), "the Parquet file is truncated: it does not end with the Parquet footer and magic 'PAR1'");
  });

  it('a Parquet file with a codec that cannot be read says how to write it', async () => {
    const gz = new Uint8Array(
      parquetWriteBuffer({
        codec: 'GZIP',
        compressors: { GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)) },
        columnData: [
          { name: 'label', data: label, type: 'INT32', nullable: false },
          { name: 'prod', data: prod, type: 'DOUBLE', nullable: false },
          { name: 'cand', data: cand, type: 'DOUBLE', nullable: false },
        ],
      }),
    );
    await rejects(
      gz,
      "the Parquet file is compressed with GZIP, which cannot be read here; write it uncompressed or with Snappy (pandas: df.to_parquet('predictions.parquet', compression='snappy'), the default)",
    );
  });

  it('a Parquet file whose footer is intact but whose data is cut fails as corrupt', async () => {
    const good = goodParquet();
    const cut = new Uint8Array(good.length - 4000);
    cut.set(good.subarray(0, 1000));
    cut.set(good.subarray(good.length - (cut.length - 1000)), 1000);
    await assert.rejects(readPredictionsFile(cut, { labelColumn: 'label' }), (e: unknown) => {
      assert.ok(e instanceof PredictionsError);
      assert.match(e.message, /^the Parquet file cannot be read \(truncated or corrupt\?\): /);
      return true;
    });
  });

  it('a Parquet file with a missing score gives the same error as Arrow', async () => {
    const withNull = Array.from(cand) as (number | null)[];
    withNull[17] = null;
    const pq = parquetBytes([
      { name: 'label', data: label, type: 'INT32', nullable: false },
      { name: 'prod', data: prod, type: 'DOUBLE', nullable: false },
      { name: 'cand', data: withNull, type: 'DOUBLE' },
    ]);
    const arrow = tableToIPC(
      new Table({ label: makeVector(Int8Array.from(labels)), prod: makeVector(prod), cand: vectorFromArray(withNull, new Float64()) }),
      'file',
    );
    const message = "column 'cand' has 1 missing (null) value (first at row 17)";
    await rejects(pq, message);
    await rejects(arrow, message);
    await rejects(bytesOf(csvText().replace(`,${cand[17]}\r\n`, ',\r\n')), message);
  });

  it('a Parquet text column asked for as a score is rejected by type', async () => {
    await rejects(goodParquet(), "column 'id' has type Utf8; a score column must be numeric (float64, float32 or integer)", {
      labelColumn: 'label',
      scoreColumns: ['prod', 'id'],
    });
  });

  it('a CSV with a non-numeric score names the column, row and line', async () => {
    const text = 'label,prod,cand\n0,0.1,0.2\n1,0.7,0.9\n0,0.3,abc\n1,0.8,0.6\n';
    await rejects(bytesOf(text), "column 'cand' has a value that is not a number at row 2 (line 4 of the CSV): 'abc'", undefined, 'p.csv');
  });

  it('a CSV text column not compared is left out (numericOnly), a numeric one with a text cell is not', async () => {
    const preds = await readPredictionsFile(bytesOf('id,label,prod\na,0,0.1\n7,1,0.7\n'), { labelColumn: 'label', numericOnly: true }, 'p.csv');
    assert.deepEqual(
      preds.columns.map((c) => c.name),
      ['prod'],
    );
    await rejects(bytesOf('id,label,prod\na,0,0.1\nb,1,n/a\n'), "column 'prod' has a value that is not a number at row 1 (line 3 of the CSV): 'n/a'", {
      labelColumn: 'label',
      numericOnly: true,
    });
  });

  it('a CSV NaN and infinite scores get the engine error', async () => {
    await rejects(bytesOf('label,prod,cand\n0,0.1,0.2\n1,0.7,NaN\n0,0.3,inf\n'), "column 'cand' has 2 NaN or infinite scores (first at row 1: NaN)");
  });

  it('a CSV without a score column, or with a short row, fails with the exact error', async () => {
    await rejects(bytesOf('label,prod\n0,0.1\n1,0.7\n'), "there is no score column 'cand' (columns: label, prod)");
    await rejects(bytesOf('prod,cand\n0.1,0.2\n0.7,0.9\n'), "there is no label column 'label' (columns: prod, cand)");
    await rejects(bytesOf('label,prod,cand\n0,0.1,0.2\n1,0.7\n'), 'line 3 of the CSV (row 1) has 2 fields but the header has 3 (label, prod, cand)');
  });

  it('a CSV with quoted fields, a BOM, a duplicate or an unclosed quote', async () => {
    const preds = await readPredictionsFile(bytesOf('\ufeff"label","prod","cand"\n"0","0.1","0.2"\n1,0.7,"0.9"\n'), { labelColumn: 'label' });
    assert.deepEqual(Array.from(preds.columns[1].scores), [0.2, 0.9]);
    await rejects(bytesOf('label,prod,prod\n0,0.1,0.2\n1,0.7,0.9\n'), "column 'prod' appears twice");
    await rejects(bytesOf('label,prod,cand\n0,"0.1,0.2\n'), 'the CSV has a quoted field that is never closed (opened on line 2)');
  });

  it('a file in another format names the format and how to convert it', async () => {
    const READABLE = 'Predictions are read from Parquet, Arrow IPC (Feather v2) or CSV.';
    const cannot = (what: string, how: string): string => `the predictions are in a format that cannot be read (${what}). ${how}. ${READABLE}`;
    const decompress = (tool: string): string =>
      `Decompress it first (${tool}), or write Parquet, which compresses its columns itself: df.to_parquet('predictions.parquet')`;
    await rejects(
      bytesOf('{"label": [0, 1]}'),
      cannot(
        'JSON text, extension .json',
        "Convert it with pandas: pd.read_json('predictions.json').to_parquet('predictions.parquet') (JSON Lines: pd.read_json(..., lines=True))",
      ),
      undefined,
      'predictions.json',
    );
    await rejects(
      bytesOf('  [{"label": 0}]'),
      cannot(
        'JSON text',
        "Convert it with pandas: pd.read_json('predictions.json').to_parquet('predictions.parquet') (JSON Lines: pd.read_json(..., lines=True))",
      ),
    );
    await rejects(
      new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0]),
      cannot('gzip-compressed data, extension .gz', decompress('gunzip predictions.csv.gz')),
      undefined,
      'out/predictions.csv.gz',
    );
    // A compressed file named .csv is still named for what it is, not parsed as text.
    await rejects(
      new Uint8Array([0x42, 0x5a, 0x68, 0x39, 0x31]),
      cannot('bzip2-compressed data, extension .csv', decompress('bunzip2 p.csv')),
      undefined,
      'p.csv',
    );
    await rejects(new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, 0]), cannot('zstd-compressed data', decompress('unzstd the file')));
    await rejects(
      new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]),
      cannot(
        'an Excel workbook (.xlsx), extension .xlsx',
        "Save the sheet as CSV (File > Save As > CSV), or with pandas: pd.read_excel('predictions.xlsx').to_parquet('predictions.parquet')",
      ),
      undefined,
      'p.xlsx',
    );
    await rejects(
      new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]),
      cannot(
        'a ZIP archive (an Excel .xlsx workbook or a zipped file?), extension .zip',
        "Unzip it first; for an Excel workbook save the sheet as CSV, or with pandas: pd.read_excel(...).to_parquet('predictions.parquet')",
      ),
      undefined,
      'p.zip',
    );
    await rejects(
      new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]),
      cannot(
        'an Excel 97-2003 workbook (.xls) or another OLE2 compound file, extension .xls',
        "Save the sheet as CSV, or with pandas: pd.read_excel('predictions.xls').to_parquet('predictions.parquet')",
      ),
      undefined,
      'p.xls',
    );
    // Feather v1 starts and ends with FEA1; named .feather it must not reach the Arrow reader.
    await rejects(
      bytesOf('FEA1\0\0\0\0FEA1'),
      cannot(
        'Feather version 1 (the format before Arrow IPC), extension .feather',
        "Rewrite it as Feather version 2, which is Arrow IPC: pyarrow.feather.write_feather(pyarrow.feather.read_table('old.feather'), 'predictions.arrow')",
      ),
      undefined,
      'p.feather',
    );
    await rejects(bytesOf('ORC\0\0'), cannot('ORC', "Convert it with pandas: pd.read_orc('predictions.orc').to_parquet('predictions.parquet')"));
    await rejects(bytesOf('PARE\0\0\0\0PARE'), cannot('an encrypted Parquet file (Parquet modular encryption)', 'Write the predictions without encryption'));
    await rejects(
      bytesOf('label\tprod\n0\t0.1\n'),
      cannot(
        'tab-separated text, extension .tsv',
        "Write it comma-separated: df.to_csv('predictions.csv', index=False), or convert it: pd.read_csv('predictions.tsv', sep='\\t').to_parquet('predictions.parquet')",
      ),
      undefined,
      'p.tsv',
    );
    await rejects(
      bytesOf('label;prod\n0;0,1\n'),
      cannot(
        'semicolon-separated text, extension .txt',
        "Write it comma-separated with a dot as decimal mark: df.to_csv('predictions.csv', index=False), or convert it: pd.read_csv('predictions.csv', sep=';', decimal=',').to_parquet('predictions.parquet')",
      ),
      undefined,
      'p.txt',
    );
    await rejects(
      bytesOf('label,a\n1,0.5\n'),
      `the predictions file ends in .parquet but is not Parquet data (it does not start with the Parquet magic 'PAR1'). ${HOW}`,
      undefined,
      'p.parquet',
    );
    await rejects(
      bytesOf('{"a": 1}'),
      `the predictions file ends in .parquet but is not Parquet data (it does not start with the Parquet magic 'PAR1'; it looks like JSON text). ${HOW}`,
      undefined,
      'p.parquet',
    );
    await rejects(new Uint8Array([1, 2, 3, 4, 5]), `the predictions are in a format that cannot be read (not Arrow IPC, Parquet or CSV). ${HOW}`);
  });
});

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Any reference the page would fetch: src/href to a URL or protocol-relative path, CSS url() or @import. */
const EXTERNAL = /(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\/|url\(\s*["']?\s*(?:https?:)?\/\/|@import/i;

describe('mlops-eval compare with Parquet/CSV and --html/--markdown (built CLI, child process)', function () {
  this.timeout(120000);
  let dir: string;

  before(() => {
    esbuild.buildSync({
      absWorkingDir: ROOT,
      entryPoints: [path.join(ROOT, 'src/cli/mlops-eval.ts')],
      outfile: CLI,
      bundle: true,
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
      platform: 'node',
      target: 'node20',
      format: 'cjs',
    });
    dir = mkdtempSync(path.join(tmpdir(), 'mlops-eval-formats-'));
    writeFileSync(path.join(dir, 'p.arrow'), arrowBytes('file'));
    writeFileSync(path.join(dir, 'p.parquet'), goodParquet());
    writeFileSync(path.join(dir, 'p.csv'), csvText());
    writeFileSync(path.join(dir, 'bad.csv'), 'label,prod,cand\n0,0.1,0.2\n1,0.7,x1\n');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the same decision for Arrow, Parquet and CSV', () => {
    const outs = ['p.arrow', 'p.parquet', 'p.csv'].map((f) => run(['compare', path.join(dir, f), '--baseline', 'prod', '--resamples', '200', '--json']));
    for (const o of outs) assert.equal(o.code, 0, o.stderr);
    assert.equal(outs[1].stdout, outs[0].stdout);
    assert.equal(outs[2].stdout, outs[0].stdout);
    assert.equal(JSON.parse(outs[0].stdout).decision, 'promote');
  });

  it('a bad CSV exits 2 with the column, row and line', () => {
    const r = run(['compare', path.join(dir, 'bad.csv'), '--baseline', 'prod']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "mlops-eval: column 'cand' has a value that is not a number at row 1 (line 3 of the CSV): 'x1'\n");
  });

  it('--html and --markdown write self-contained files with the decision and the models', () => {
    const html = path.join(dir, 'report.html');
    const md = path.join(dir, 'summary.md');
    const r = run(['compare', path.join(dir, 'p.parquet'), '--baseline', 'prod', '--resamples', '200', '--html', html, `--markdown=${md}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(html) && existsSync(md));
    const page = readFileSync(html, 'utf8');
    assert.match(page, /^<!DOCTYPE html>/i);
    assert.match(page, /Promote/i);
    assert.ok(page.includes('prod') && page.includes('cand'));
    assert.equal(EXTERNAL.exec(page), null, `external reference: ${EXTERNAL.exec(page)?.[0]}`);
    assert.match(page, /<svg/);
    const summary = readFileSync(md, 'utf8');
    assert.match(summary, /^### mlops-eval compare: .*p\.parquet\n\n\*\*Decision: PROMOTE cand\.\*\* /);
    assert.match(summary, /\n\| prod \| baseline \| \d\.\d{4} \| \[/);
    assert.match(summary, /\n\| cand \| best \| \d\.\d{4} \| \[.*\| \+0\.\d{4} \| /);
    assert.equal(EXTERNAL.exec(summary), null);
    assert.ok(!/https?:\/\//.test(summary));
  });

  it('--html to a folder that does not exist exits 2 naming the file', () => {
    const bad = path.join(dir, 'missing-folder', 'r.html');
    const r = run(['compare', path.join(dir, 'p.csv'), '--baseline', 'prod', '--resamples', '50', '--html', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^mlops-eval: cannot write '${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}': ENOENT`));
  });
});
