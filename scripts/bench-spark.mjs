// Issue 23's figures: the Spark comparison SQL (src/engine/spark/sql.ts) timed on DuckDB at 10^7 rows x 3
// models (DeLong's 3 actions; the keyed Poisson resample sums; the keyed ROC AUC rank sums and average precision sums, opt in), and the local
// engine's keyed Poisson speed.
// Figures are measured, never asserted. Needs a build first (out/ from `npm run build`).
//
//   node scripts/bench-spark.mjs [--rows 10000000] [--resamples 20] [--quick]
//
// --quick: 10^6 rows. The data are generated inside DuckDB (a seeded hash of the row number), so loading
// them is not part of any figure.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const quick = argv.includes('--quick');
const N = opt('--rows', quick ? 1e6 : 1e7);
const B = opt('--resamples', 20);
const ENGINE = path.join(root, 'out/src/engine/index.js');
const SQL = path.join(root, 'out/src/engine/spark/sql.js');
if (!existsSync(ENGINE) || !existsSync(SQL)) {
  console.error('bench-spark: run `npm run build` first (needs out/src/engine)');
  process.exit(1);
}
const engine = require(ENGINE);
const sql = require(SQL);
const { DuckDBInstance } = require('@duckdb/node-api');

const load = () => os.loadavg()[0].toFixed(1);
const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;
/** CPU seconds of the whole process (DuckDB's worker threads included) since `c0`. */
const cpuSeconds = (c0) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};

const instance = await DuckDBInstance.create(':memory:');
const db = await instance.connect();
const rows = async (text) => (await db.runAndReadAll(text)).getRowObjects();

// Labels at prevalence 0.3; three correlated models; probabilities in (0, 1); distinct keys (a bijection of the row number).
await db.run(`CREATE TABLE preds AS
  SELECT (range * 2654435761) % 1099511627776 AS k, y,
         1 / (1 + exp(-(0.8 * y + z + e0))) AS s0, 1 / (1 + exp(-(0.9 * y + z + e1))) AS s1, 1 / (1 + exp(-(1.0 * y + z + e2))) AS s2
  FROM (SELECT range,
               CASE WHEN (hash(range, 1) % 1000) < 300 THEN 1 ELSE 0 END AS y,
               ((hash(range, 2) % 1000000) / 1000000.0 - 0.5) AS z,
               ((hash(range, 3) % 1000000) / 1000000.0 - 0.5) AS e0,
               ((hash(range, 4) % 1000000) / 1000000.0 - 0.5) AS e1,
               ((hash(range, 5) % 1000000) / 1000000.0 - 0.5) AS e2
        FROM range(${N}))`);
const src = { table: 'preds', key: 'k', label: 'y', scores: ['s0', 's1', 's2'] };
console.log(`bench-spark: ${N.toExponential(0)} rows x 3 models on DuckDB (${os.cpus().length} cores, load ${load()})`);

// DeLong: action 1 (cut points), 2 (bucket totals), 3 (sums).
const dlCpu = process.cpuUsage();
let t0 = process.hrtime.bigint();
const cuts = (await db.runAndReadAll(sql.renderDelongCutPointsSql('duckdb', src, 64))).getRowObjectsJson().map((r) => r.cuts.map(Number));
const t1 = seconds(t0);
t0 = process.hrtime.bigint();
const totals = (await rows(sql.renderDelongBucketTotalsSql('duckdb', src, cuts))).map((r) => ({
  m: Number(r.m),
  bk: Number(r.bk),
  pos: Number(r.pos),
  neg: Number(r.neg),
}));
const t2 = seconds(t0);
t0 = process.hrtime.bigint();
const sums = sql.delongSumsFromRows(
  (await rows(sql.renderDelongSumsSql('duckdb', src, cuts, sql.delongBucketOffsets(totals, 3)))).map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)])),
  ),
  3,
);
const t3 = seconds(t0);
const dlCpuS = cpuSeconds(dlCpu);
const d = engine.delongDifferenceFromSums(sums, 2, 0);
console.log(
  `  DeLong, 3 actions (64 buckets): ${(t1 + t2 + t3).toFixed(2)} s (cut points ${t1.toFixed(2)}, bucket totals ${t2.toFixed(2)}, sums ${t3.toFixed(2)}); ` +
    `${dlCpuS.toFixed(2)} CPU s; AUC difference s2 - s0 ${d.delta.toFixed(6)}, z ${d.z.toFixed(2)}; load ${load()}`,
);

// Keyed Poisson resample sums for the mean metrics (log loss of two models, Brier of one), B resamples.
t0 = process.hrtime.bigint();
const kCpu = process.cpuUsage();
await rows(sql.renderKeyedLossSumsSql('duckdb', src, 42, ['log_loss', 'log_loss', 'brier'], { count: B }));
const tk = seconds(t0);
const kCpuS = cpuSeconds(kCpu);
console.log(
  `  keyed Poisson sums, B = ${B}: ${tk.toFixed(2)} s, ${((tk * 1e9) / (N * B)).toFixed(1)} ns per row x resample (3 models; ${((kCpuS * 1e9) / (N * B)).toFixed(1)} ns of CPU); load ${load()}`,
);

// Keyed ROC AUC rank sums (u2 per model and resample) over DeLong's cut points, the same B; the full-data rank sums once.
t0 = process.hrtime.bigint();
const fCpu = process.cpuUsage();
const [full] = await rows(sql.renderRankTotalsSql('duckdb', src, cuts));
const tf = seconds(t0);
const fCpuS = cpuSeconds(fCpu);
t0 = process.hrtime.bigint();
const rCpu = process.cpuUsage();
await rows(sql.renderKeyedRankSumsSql('duckdb', src, 42, cuts, { count: B }));
const tr = seconds(t0);
const rCpuS = cpuSeconds(rCpu);
const auc0 = Number(full.rank0.toString()) / (2 * Number(full.positive_weight) * (Number(full.weight) - Number(full.positive_weight)));
console.log(
  `  keyed ROC AUC rank sums, B = ${B} (64 buckets): ${tr.toFixed(2)} s, ${((tr * 1e9) / (N * B)).toFixed(1)} ns per row x resample (3 models; ` +
    `${((rCpuS * 1e9) / (N * B)).toFixed(1)} ns of CPU); full-data pass ${tf.toFixed(2)} s (${fCpuS.toFixed(2)} CPU s), AUC s0 ${auc0.toFixed(6)}; load ${load()}`,
);

// Keyed average precision sums (fixed point, per model and resample) over the same cut points and B, opt in like AUC.
t0 = process.hrtime.bigint();
const aCpu = process.cpuUsage();
await rows(sql.renderKeyedApSumsSql('duckdb', src, 42, cuts, { count: B }));
const ta = seconds(t0);
const aCpuS = cpuSeconds(aCpu);
console.log(
  `  keyed average precision sums, B = ${B} (64 buckets): ${ta.toFixed(2)} s, ${((ta * 1e9) / (N * B)).toFixed(1)} ns per row x resample (3 models; ` +
    `${((aCpuS * 1e9) / (N * B)).toFixed(1)} ns of CPU); load ${load()}`,
);
db.closeSync();
instance.closeSync();

// The local engine's keyed Poisson bootstrap (one thread), on 10^6 rows.
const n = 1e6;
const labels = new Uint8Array(n);
const a = new Float64Array(n);
const b = new Float64Array(n);
const keys = new Float64Array(n);
let s = 12345;
const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 4294967296);
for (let i = 0; i < n; i++) {
  labels[i] = rnd() < 0.3 ? 1 : 0;
  a[i] = Math.min(1, Math.max(0, 0.5 * rnd() + 0.3 * labels[i]));
  b[i] = Math.min(1, Math.max(0, 0.5 * rnd() + 0.35 * labels[i]));
  keys[i] = (i * 2654435761) % 2 ** 40;
}
const preds = {
  n,
  labels,
  columns: [
    { name: 'prod', scores: a },
    { name: 'cand', scores: b },
  ],
  rowKey: { name: 'k', values: keys },
};
for (const metric of ['roc_auc', 'brier']) {
  const R = 20;
  t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  engine.runKeyedPoisson(preds, ['prod', 'cand'], metric, 42, R);
  const t = seconds(t0);
  const cpu = process.cpuUsage(cpu0);
  const cpuNs = ((cpu.user + cpu.system) * 1e3) / (n * R);
  console.log(
    `  engine keyed Poisson, ${metric}, 10^6 rows x 2 models, B = ${R}: ${((t * 1e9) / (n * R)).toFixed(1)} ns per row x resample (${cpuNs.toFixed(1)} ns of CPU); load ${load()}`,
  );
}
