// Reading predictions in each format: a 1e7-row Parquet file (label + two float64 scores) read by
// src/io/predictions-file.ts (flat columns decoded page by page, src/io/parquet.ts) into the engine's columns;
// target under 2 s for each Parquet layout: uncompressed, Snappy (hyparquet-writer's default codec, as
// pyarrow's), and pandas-like (Snappy, OPTIONAL columns as pandas/pyarrow write them, an INT64 label,
// row groups of 1Mi rows as pyarrow's default). Arrow IPC and CSV are timed on the same rows for comparison.
// The machine's 1-minute load average is printed beside the figures: on a shared machine they are only
// comparable at a similar load.
// Then the memory of CSV read as a stream: a 1e7-row CSV file (BENCH_CSV_MEMORY_ROWS) written to a temporary
// folder and read by a fresh process as mlops-eval reads it (src/io/file-chunks.ts, 1 MiB chunks), its peak
// RSS set against the file's size and against reading the whole text first (what streaming avoids).
// Then the other layouts of issue 20 read by readAnyPredictionsFile (BENCH_LAYOUT_ROWS rows, default 1e6):
// regression with a string slice column (Arrow dictionary, Parquet UTF8) and multiclass with K = 5 class
// probabilities per model (Arrow FixedSizeList<Float64>[5], Parquet LIST of doubles).
// Figures are measured, never asserted. Needs a build first (out/ from `npm run build`).
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { readAnyPredictionsFile, readPredictionsFile } = require(path.join(root, 'out/src/io/predictions-file.js'));
const arrow = require('apache-arrow');
const { tableFromArrays, tableToIPC } = arrow;
const { parquetWriteBuffer } = await import('hyparquet-writer');

const N = Number(process.env.BENCH_FORMAT_ROWS ?? 1e7);
const PARQUET_TARGET_MS = 2000;

let seed = 1;
const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const label = new Int32Array(N);
const prod = new Float64Array(N);
const cand = new Float64Array(N);
for (let i = 0; i < N; i++) {
  label[i] = rand() < 0.3 ? 1 : 0;
  prod[i] = 0.4 * label[i] + 0.6 * rand();
  cand[i] = 0.5 * label[i] + 0.5 * rand();
}

function intLabel(nullable) {
  return { name: 'label', data: label, type: 'INT32', nullable };
}
function int64Label() {
  return { name: 'label', data: BigInt64Array.from(label, BigInt), type: 'INT64', nullable: true };
}
function double(name, nullable) {
  return { name, data: name === 'prod' ? prod : cand, type: 'DOUBLE', nullable };
}

async function time(name, bytes, fileName, target) {
  const opts = { labelColumn: 'label', scoreColumns: ['prod', 'cand'] };
  const runs = [];
  for (let k = 0; k < 3; k++) {
    const t0 = process.hrtime.bigint();
    const preds = await readPredictionsFile(bytes, opts, fileName);
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (preds.n !== N) throw new Error(`${name}: read ${preds.n} rows, expected ${N}`);
  }
  runs.sort((a, b) => a - b);
  const mb = (bytes.byteLength / 1e6).toFixed(0);
  const verdict = target === undefined ? '' : runs[1] < target ? `  (target < ${target} ms: met)` : `  (target < ${target} ms: MISSED)`;
  const load = os.loadavg()[0].toFixed(1);
  console.log(
    `${name.padEnd(26)} ${String(N).padStart(9)} rows, ${mb.padStart(4)} MB: median ${runs[1].toFixed(0)} ms (min ${runs[0].toFixed(0)})${verdict}, load ${load}`,
  );
}

console.log(`Predictions formats (label + 2 float64 scores), ${N} rows, median of 3 reads:`);
await time('Arrow IPC file', tableToIPC(tableFromArrays({ label: Int8Array.from(label), prod, cand }), 'file'), 'p.arrow');
const parquetCases = [
  ['Parquet uncompressed', { codec: 'UNCOMPRESSED', columnData: [intLabel(false), double('prod', false), double('cand', false)] }],
  ['Parquet Snappy', { columnData: [intLabel(false), double('prod', false), double('cand', false)] }],
  ['Parquet pandas-like', { columnData: [int64Label(), double('prod', true), double('cand', true)], rowGroupSize: 1024 * 1024 }],
];
for (const [name, options] of parquetCases) await time(name, new Uint8Array(parquetWriteBuffer(options)), 'p.parquet', PARQUET_TARGET_MS);
if (N <= 2e6 || process.env.BENCH_FORMAT_CSV === '1') {
  const lines = ['label,prod,cand'];
  for (let i = 0; i < N; i++) lines.push(`${label[i]},${prod[i]},${cand[i]}`);
  await time('CSV', new TextEncoder().encode(lines.join('\n')), 'p.csv');
} else {
  console.log('CSV: skipped above 2e6 rows (set BENCH_FORMAT_CSV=1 to time it)');
}

// ------------------------------------------------------------------------ other layouts (readAnyPredictionsFile)

const LAYOUT_ROWS = Number(process.env.BENCH_LAYOUT_ROWS ?? 1e6);

async function timeAny(name, bytes, fileName, opts) {
  const runs = [];
  for (let k = 0; k < 3; k++) {
    const t0 = process.hrtime.bigint();
    const { predictions } = await readAnyPredictionsFile(bytes, opts, fileName);
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (predictions.n !== LAYOUT_ROWS) throw new Error(`${name}: read ${predictions.n} rows, expected ${LAYOUT_ROWS}`);
  }
  runs.sort((a, b) => a - b);
  const mb = (bytes.byteLength / 1e6).toFixed(0);
  console.log(`${name.padEnd(40)} ${String(LAYOUT_ROWS).padStart(9)} rows, ${mb.padStart(4)} MB: median ${runs[1].toFixed(0)} ms (min ${runs[0].toFixed(0)})`);
}

{
  const M = LAYOUT_ROWS;
  const K = 5;
  const regions = ['north', 'south', 'east', 'west'];
  const y = Float64Array.from({ length: M }, (_, i) => prod[i % N] * 10);
  const a = Float64Array.from({ length: M }, (_, i) => y[i] + prod[(i + 1) % N]);
  const b = Float64Array.from({ length: M }, (_, i) => y[i] + cand[(i + 1) % N]);
  const region = Array.from({ length: M }, (_, i) => regions[i % 4]);
  const classes = Int32Array.from({ length: M }, (_, i) => i % K);
  const probs = (shift) => {
    const flat = new Float64Array(M * K);
    for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) flat[i * K + k] = k === (i + shift) % K ? 0.6 : 0.1;
    return flat;
  };
  const listData = (flat) =>
    arrow.makeData({
      type: new arrow.FixedSizeList(K, new arrow.Field('item', new arrow.Float64(), false)),
      length: M,
      nullCount: 0,
      child: arrow.makeData({ type: new arrow.Float64(), length: M * K, nullCount: 0, data: flat }),
    });
  const pa = probs(0);
  const pb = probs(1);
  console.log(`Other layouts (readAnyPredictionsFile), ${M} rows, median of 3 reads:`);
  const regOpts = { problemType: 'regression', scoreColumns: ['a', 'b'], sliceColumns: ['region'] };
  const regTable = tableFromArrays({ label: y, a, b });
  const regArrow = new arrow.Table({
    label: regTable.getChild('label'),
    a: regTable.getChild('a'),
    b: regTable.getChild('b'),
    region: arrow.vectorFromArray(region, new arrow.Dictionary(new arrow.Utf8(), new arrow.Int8())),
  });
  await timeAny('regression + slice, Arrow IPC file', tableToIPC(regArrow, 'file'), 'r.arrow', regOpts);
  const regParquet = new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'label', data: y, type: 'DOUBLE', nullable: false },
        { name: 'a', data: a, type: 'DOUBLE', nullable: false },
        { name: 'b', data: b, type: 'DOUBLE', nullable: false },
        { name: 'region', data: region, type: 'STRING', nullable: false },
      ],
    }),
  );
  await timeAny('regression + slice, Parquet', regParquet, 'r.parquet', regOpts);
  const mcOpts = { problemType: 'multiclass', scoreColumns: ['a', 'b'] };
  const mcTable = new arrow.Table({
    label: arrow.makeVector(classes),
    a: new arrow.Vector([listData(pa)]),
    b: new arrow.Vector([listData(pb)]),
  });
  await timeAny('multiclass K=5, Arrow IPC file', tableToIPC(mcTable, 'file'), 'm.arrow', mcOpts);
  const rows = (flat) => Array.from({ length: M }, (_, i) => Array.from(flat.subarray(i * K, i * K + K)));
  const mcParquet = new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'label', data: classes },
        { name: 'a', data: rows(pa) },
        { name: 'b', data: rows(pb) },
      ],
      schema: [
        { name: 'root', num_children: 3 },
        { name: 'label', type: 'INT32', repetition_type: 'REQUIRED' },
        ...['a', 'b'].flatMap((name) => [
          { name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST', logical_type: { type: 'LIST' } },
          { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
          { name: 'element', type: 'DOUBLE', repetition_type: 'REQUIRED' },
        ]),
      ],
    }),
  );
  await timeAny('multiclass K=5, Parquet (LIST)', mcParquet, 'm.parquet', mcOpts);
}

// ------------------------------------------------------------------------------ CSV streaming: peak memory

const MEMORY_ROWS = Number(process.env.BENCH_CSV_MEMORY_ROWS ?? 1e7);
/** Run in a fresh process: reads the CSV (mode stream, whole, or baseline = load the modules only), prints JSON. */
const CHILD = `
const [mode, file, outDir] = process.argv.slice(1);
const { readFileSync } = require('node:fs');
const { openChunkedFile } = require(outDir + '/src/io/file-chunks.js');
const { readPredictionsChunked, readPredictionsFile } = require(outDir + '/src/io/predictions-file.js');
const opts = { labelColumn: 'label', scoreColumns: ['prod', 'cand'] };
const t0 = process.hrtime.bigint();
const done = (n) => console.log(JSON.stringify({ n, ms: Number(process.hrtime.bigint() - t0) / 1e6, maxRssKiB: process.resourceUsage().maxRSS }));
if (mode === 'baseline') done(0);
else if (mode === 'stream') readPredictionsChunked(openChunkedFile(file), opts, file).then((p) => done(p.n));
else readPredictionsFile(readFileSync(file), opts, file).then((p) => done(p.n));
`;

function measure(mode, file) {
  const r = spawnSync(process.execPath, ['-e', CHILD, mode, file, path.join(root, 'out')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`CSV memory (${mode}) failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-csv-'));
try {
  const file = path.join(dir, 'predictions.csv');
  const fd = openSync(file, 'w');
  writeSync(fd, 'label,prod,cand\n');
  let batch = [];
  for (let i = 0; i < MEMORY_ROWS; i++) {
    const y = rand() < 0.3 ? 1 : 0;
    batch.push(`${y},${0.4 * y + 0.6 * rand()},${0.5 * y + 0.5 * rand()}`);
    if (batch.length === 100_000) {
      writeSync(fd, `${batch.join('\n')}\n`);
      batch = [];
    }
  }
  if (batch.length > 0) writeSync(fd, `${batch.join('\n')}\n`);
  closeSync(fd);
  const size = statSync(file).size;
  const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  const columns = MEMORY_ROWS * 3 * 8;
  console.log(`CSV memory, ${MEMORY_ROWS} rows (label + 2 scores), file ${mib(size)}; the 3 float64 columns alone are ${mib(columns)}:`);
  const base = measure('baseline', file);
  console.log(`  modules loaded, nothing read:  peak RSS ${mib(base.maxRssKiB * 1024)}`);
  for (const [mode, label] of [
    ['stream', 'streamed (mlops-eval)'],
    ['whole', 'whole text read first'],
  ]) {
    const m = measure(mode, file);
    if (m.n !== MEMORY_ROWS) throw new Error(`CSV memory (${mode}): read ${m.n} rows, expected ${MEMORY_ROWS}`);
    const extra = m.maxRssKiB * 1024 - base.maxRssKiB * 1024;
    console.log(
      `  ${label.padEnd(30)} peak RSS ${mib(m.maxRssKiB * 1024)} (+${mib(extra)} over the baseline = ${(extra / size).toFixed(2)} x the file size), ${(m.ms / 1000).toFixed(1)} s`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
