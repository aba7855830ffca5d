// Reading predictions in each format: a 1e7-row Parquet file (label + two float64 scores, written with
// hyparquet-writer, uncompressed as it writes by default) read by src/io/predictions-file.ts into the
// engine's columns; target under 2 s. Arrow IPC and CSV are timed on the same rows for comparison.
// Figures are measured, never asserted. Needs a build first (out/ from `npm run build`).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { readPredictionsFile } = require(path.join(root, 'out/src/io/predictions-file.js'));
const { tableFromArrays, tableToIPC } = require('apache-arrow');
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
  console.log(`${name.padEnd(26)} ${String(N).padStart(9)} rows, ${mb.padStart(4)} MB: median ${runs[1].toFixed(0)} ms (min ${runs[0].toFixed(0)})${verdict}`);
}

console.log(`Predictions formats (label + 2 float64 scores), ${N} rows, median of 3 reads:`);
await time('Arrow IPC file', tableToIPC(tableFromArrays({ label: Int8Array.from(label), prod, cand }), 'file'), 'p.arrow');
const parquet = new Uint8Array(
  parquetWriteBuffer({
    columnData: [
      { name: 'label', data: label, type: 'INT32', nullable: false },
      { name: 'prod', data: prod, type: 'DOUBLE', nullable: false },
      { name: 'cand', data: cand, type: 'DOUBLE', nullable: false },
    ],
  }),
);
await time('Parquet (hyparquet)', parquet, 'p.parquet', PARQUET_TARGET_MS);
if (N <= 2e6 || process.env.BENCH_FORMAT_CSV === '1') {
  const lines = ['label,prod,cand'];
  for (let i = 0; i < N; i++) lines.push(`${label[i]},${prod[i]},${cand[i]}`);
  await time('CSV', new TextEncoder().encode(lines.join('\n')), 'p.csv');
} else {
  console.log('CSV: skipped above 2e6 rows (set BENCH_FORMAT_CSV=1 to time it)');
}
