#!/usr/bin/env node
// Benchmarks of the regression and multiclass metrics in the paired bootstrap (issue 20): ns per
// row x resample x model for each metric, next to ROC AUC's figure on the binary kernel, with the same
// rows, resamples and models. Target: every regression metric within 2x of ROC AUC's figure. Figures are
// measured, never asserted. Needs a build first (out/ from `npm run build`).
//
// Usage: node scripts/bench-metrics.mjs [--rows 200000] [--resamples 100] [--classes 5] [--repeat 3]
//   Each figure is the median of --repeat rounds (after one warm-up run each), CPU time of this process (and
//   wall time) on one thread; the ratio to ROC AUC uses CPU time, the steadier of the two on a shared machine.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const n = arg('--rows', 200_000);
const B = arg('--resamples', 100);
const K = arg('--classes', 5);
const repeat = Math.max(1, arg('--repeat', 3));

const ENGINE = path.join(root, 'out/src/engine/index.js');
if (!existsSync(ENGINE)) {
  console.error('bench-metrics: run `npm run build` first (needs out/src/engine)');
  process.exit(1);
}
const E = require(ENGINE);
const seedrandom = require('seedrandom');

const rng = seedrandom.xor4096('bench-metrics');
const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
const MODELS = ['prod', 'cand'];

function binary() {
  const labels = new Uint8Array(n);
  const cols = MODELS.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    labels[i] = rng() < 0.3 ? 1 : 0;
    cols.forEach((c, m) => (c[i] = 1 / (1 + Math.exp(-((0.8 + 0.2 * m) * labels[i] + gauss())))));
  }
  return { n, labels, columns: MODELS.map((name, m) => ({ name, scores: cols[m] })) };
}

function regression() {
  const target = new Float64Array(n);
  const cols = MODELS.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const s = 10 + 2 * gauss();
    target[i] = s + gauss();
    cols.forEach((c, m) => (c[i] = s + (1 - 0.3 * m) * gauss()));
  }
  return { n, target, columns: MODELS.map((name, m) => ({ name, scores: cols[m] })) };
}

function multiclass() {
  const labels = new Uint32Array(n);
  const cols = MODELS.map(() => new Float64Array(n * K));
  for (let i = 0; i < n; i++) {
    labels[i] = i < K ? i : Math.floor(rng() * K);
    cols.forEach((p, m) => {
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const e = Math.exp((k === labels[i] ? 1 + 0.4 * m : 0) + gauss());
        p[i * K + k] = e;
        sum += e;
      }
      for (let k = 0; k < K; k++) p[i * K + k] /= sum;
    });
  }
  return { n, classes: K, labels, columns: MODELS.map((name, m) => ({ name, probabilities: cols[m] })) };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** CPU milliseconds of this process (user + system): less sensitive than wall time to other processes on a shared machine. */
function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

console.log(
  `bench-metrics: n = ${n} rows, B = ${B} resamples, ${MODELS.length} models, K = ${K} classes, one thread, ` +
    `median of ${repeat} rounds (every metric once per round, in turn); node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ` +
    `load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
);
const rows = [];
const bin = binary();
for (const metric of ['roc_auc', 'log_loss']) {
  const prep = E.prepareBootstrap(bin, MODELS, metric, 'multinomial');
  rows.push({ problem: 'binary (kernel)', metric, run: () => E.runBootstrap(prep, 1, B) });
}
const reg = regression();
for (const metric of E.REGRESSION_METRICS) {
  const prep = E.prepareResampling(reg, 'regression', MODELS, [metric], 'multinomial', metric);
  rows.push({ problem: 'regression', metric, run: () => E.runResampling(prep, 1, B) });
}
const mc = multiclass();
for (const metric of E.MULTICLASS_METRICS) {
  const prep = E.prepareResampling(mc, 'multiclass', MODELS, [metric], 'multinomial', metric);
  rows.push({ problem: `multiclass K=${K}`, metric, run: () => E.runResampling(prep, 1, B) });
}
{
  // A guardrail next to the primary metric: both on one run (one draw per resample).
  const prep = E.prepareResampling(reg, 'regression', MODELS, ['rmse', 'mae'], 'multinomial', 'rmse');
  rows.push({ problem: 'regression', metric: 'rmse + mae guardrail', run: () => E.runResampling(prep, 1, B) });
}
// Prepared data are excluded; one warm-up run each, then rounds in turn so that load changes hit every metric alike.
for (const r of rows) {
  r.run();
  r.wall = [];
  r.cpu = [];
}
for (let k = 0; k < repeat; k++) {
  for (const r of rows) {
    const w0 = performance.now();
    const c0 = cpuMs();
    r.run();
    r.cpu.push(cpuMs() - c0);
    r.wall.push(performance.now() - w0);
  }
}
const perUnit = (ms) => (ms * 1e6) / (n * B * MODELS.length);
for (const r of rows) {
  r.ns = perUnit(median(r.wall));
  r.cpuNs = perUnit(median(r.cpu));
}
const auc = rows[0].cpuNs;
for (const r of rows) {
  const ratio = r.cpuNs / auc;
  const target = r.problem === 'regression' ? `  (target <= 2x ROC AUC: ${ratio <= 2 ? 'meets' : 'MISSES'})` : '';
  console.log(
    `  ${r.problem.padEnd(16)} ${r.metric.padEnd(22)} ${r.cpuNs.toFixed(2).padStart(7)} ns of CPU (${r.ns.toFixed(2)} wall) per row x resample x model   ${ratio.toFixed(2)}x ROC AUC${target}`,
  );
}
console.log(
  `bench-metrics: done, load average ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
