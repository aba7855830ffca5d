#!/usr/bin/env node
// Benchmarks of the comparison engine (src/engine) and the mlops-eval CLI, against the targets of issue 4:
//   - paired bootstrap, n = 1e6 rows, 2 models, B = 1000: <= 8 ns per row x resample x model on one thread,
//     and both cores used when available (worker threads, results identical to one thread);
//   - end to end `mlops-eval compare` >= 50x faster than the seed's numpy + scikit-learn loop;
//   - DeLong at n = 1e7 in < 5 s;  peak memory < 3x the raw columns + a constant;
//   - reading a 1e7-row Arrow file into typed arrays in < 1 s.
// Figures are measured, never asserted. Needs a build first (out/ and dist/cli from `npm run build`).
//
// Usage: node scripts/bench-engine.mjs [--quick] [--only bootstrap,threads,e2e,delong,arrow,memory] [--seed-resamples 100] [--repeat 1]
//   --quick: B = 100 instead of 1000 for the bootstrap figures (the ns figure is per resample either way).
//   --repeat k: time the single-thread bootstrap k times and report the median (and every run with its load).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const quick = argv.includes('--quick');
const only = arg('--only', 'bootstrap,threads,e2e,delong,arrow,memory').split(',');
const seedResamples = Number(arg('--seed-resamples', '100'));
const repeat = Math.max(1, Number(arg('--repeat', '1')));

const ENGINE = path.join(root, 'out/src/engine/index.js');
const CLI = path.join(root, 'dist/cli/mlops-eval.js');
if (!existsSync(ENGINE) || !existsSync(CLI)) {
  console.error('bench-engine: run `npm run build` first (needs out/src/engine and dist/cli/mlops-eval.js)');
  process.exit(1);
}
const E = require(ENGINE);
const { tableFromArrays, tableToIPC } = require('apache-arrow');
const seedrandom = require('seedrandom');

const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'mlops-bench-'));
const results = [];

function report(name, value, target, ok) {
  const verdict = ok === undefined ? '' : ok ? '  [meets target]' : '  [MISSES target]';
  console.log(`  ${name}: ${value}${target ? `   (target: ${target})` : ''}${verdict}`);
  results.push({ name, value, target, ok });
}

function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function timed(fn) {
  const w0 = performance.now();
  const c0 = cpuMs();
  const value = fn();
  return { value, wallMs: performance.now() - w0, cpuMs: cpuMs() - c0 };
}

async function timedAsync(fn) {
  const w0 = performance.now();
  const value = await fn();
  return { value, wallMs: performance.now() - w0 };
}

/** Two correlated models (binormal, AUC ≈ 0.75 and 0.76), 30% positives, scores as probabilities. */
function simulate(n, seed = 'bench') {
  const rng = seedrandom.xor4096(seed);
  const gauss = () => {
    let u = 0;
    while (u === 0) u = rng.double();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.double());
  };
  const labels = new Uint8Array(n);
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = rng.double() < 0.3 ? 1 : 0;
    labels[i] = y;
    const z = gauss();
    a[i] = 1 / (1 + Math.exp(-(0.954 * y + Math.sqrt(0.7) * z + Math.sqrt(0.3) * gauss() - 0.5)));
    b[i] = 1 / (1 + Math.exp(-(0.996 * y + Math.sqrt(0.7) * z + Math.sqrt(0.3) * gauss() - 0.5)));
  }
  return { n, labels, a, b };
}

function writeArrow(file, d) {
  writeFileSync(file, tableToIPC(tableFromArrays({ label: d.labels, prod: d.a, cand: d.b }), 'file'));
  return file;
}

function runCli(args, extraNodeArgs = []) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...extraNodeArgs, CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`mlops-eval ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr, wallMs };
}

const fmt = (x, d = 2) => x.toFixed(d);

console.log(
  `bench-engine: ${cores} core(s) available (${os.cpus()[0]?.model ?? 'unknown CPU'}), node ${process.version}, load average ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
console.log('  (figures on a shared or loaded machine are slower and noisier; the load average above says how busy it was)');

const B = quick ? 100 : 1000;

if (only.includes('bootstrap') || only.includes('threads')) {
  const n = 1_000_000;
  console.log(`\nPaired bootstrap, n = ${n}, 2 models, B = ${B}, ROC AUC, multinomial (by Poissonization, exact):`);
  const d = simulate(n);
  const preds = {
    n,
    labels: d.labels,
    columns: [
      { name: 'prod', scores: d.a },
      { name: 'cand', scores: d.b },
    ],
  };
  const units = n * B * 2;
  const prep = timed(() => E.prepareBootstrap(preds, ['prod', 'cand'], 'roc_auc', 'multinomial', true));
  report('setup (2 radix argsorts + packing), once per evaluation', `${fmt(prep.wallMs, 0)} ms`);
  let single;
  if (only.includes('bootstrap')) {
    // --repeat k: k timed runs (the machine is shared and noisy); the figure is their median, each run is listed with the load.
    const runs = [];
    for (let r = 0; r < repeat; r++) {
      const t = timed(() => E.runBootstrap(prep.value, 42, B));
      runs.push({ ...t, load: os.loadavg()[0] });
      if (r > 0 && Buffer.compare(Buffer.from(t.value.stats.buffer), Buffer.from(runs[0].value.stats.buffer)) !== 0) throw new Error('bootstrap runs differ');
    }
    const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
    single = sorted[Math.floor((sorted.length - 1) / 2)];
    const ns = (single.wallMs * 1e6) / units;
    if (repeat > 1) {
      report('single thread, each run', runs.map((t) => `${fmt((t.wallMs * 1e6) / units)} ns (load ${fmt(t.load, 1)})`).join(', '));
    }
    report(
      `single thread, resampling loop${repeat > 1 ? `, median of ${repeat}` : ''}`,
      `${fmt(ns)} ns per row x resample x model (${fmt(single.wallMs / 1000, 1)} s wall, ${fmt((single.cpuMs * 1e6) / units)} ns of CPU time)`,
      '<= 8 ns',
      ns <= 8,
    );
    report('single thread, including setup', `${fmt(((single.wallMs + prep.wallMs) * 1e6) / units)} ns per row x resample x model`);
    const poisson = timed(() => E.runBootstrap({ ...prep.value, scheme: 'poisson' }, 42, B));
    report('single thread, Poisson scheme (opt-in), resampling loop', `${fmt((poisson.wallMs * 1e6) / units)} ns per row x resample x model`);
    // The weighted path (`mlops-eval --weight`): integer weights 0..3, count x weight in separate kernel passes.
    const weights = new Uint32Array(n);
    for (let i = 0; i < n; i++) weights[i] = (i * 2654435761) % 4;
    const wPrep = E.prepareBootstrap({ ...preds, weight: { name: 'w', values: weights } }, ['prod', 'cand'], 'roc_auc', 'multinomial', true);
    const weighted = timed(() => E.runBootstrap(wPrep, 42, B));
    report(
      'single thread, with integer row weights (--weight), resampling loop',
      `${fmt((weighted.wallMs * 1e6) / units)} ns per row x resample x model (${fmt((weighted.cpuMs * 1e6) / units)} ns of CPU time)`,
    );
  }
  if (only.includes('threads')) {
    if (cores < 2) {
      report(`worker threads`, 'skipped: one core available');
    } else {
      const par = await timedAsync(() => E.runBootstrapParallel(prep.value, 42, B, cores));
      const ns = (par.wallMs * 1e6) / units;
      const same = single ? Buffer.compare(Buffer.from(par.value.stats.buffer), Buffer.from(single.value.stats.buffer)) === 0 : undefined;
      const speedup = single ? single.wallMs / par.wallMs : undefined;
      report(
        `${cores} worker threads, resampling loop`,
        `${fmt(ns)} ns per row x resample x model of wall time (${fmt(par.wallMs / 1000, 1)} s${speedup ? `, ${fmt(speedup)}x the single thread` : ''})`,
        `all ${cores} cores used`,
        speedup === undefined ? undefined : speedup >= 0.75 * cores,
      );
      if (same !== undefined) report('worker-thread results identical to the single thread', same ? 'yes, byte for byte' : 'NO', 'identical', same);
    }
  }
}

if (only.includes('e2e')) {
  const n = 100_000;
  const Be2e = 1000;
  console.log(`\nEnd to end, n = ${n}, 2 models, B = ${Be2e}: mlops-eval compare (node startup, Arrow read, bootstrap, JSON) vs the seed's loop:`);
  const d = simulate(n, 'e2e');
  const file = writeArrow(path.join(tmp, 'e2e.arrow'), d);
  let best = Infinity;
  for (let i = 0; i < 3; i++)
    best = Math.min(best, runCli(['compare', file, '--baseline', 'prod', '--resamples', String(Be2e), '--json', '--threads', String(cores)]).wallMs);
  report(`mlops-eval compare --resamples ${Be2e} --threads ${cores}`, `${fmt(best / 1000, 2)} s wall (best of 3)`);
  const py = '/usr/bin/python3';
  const hasSklearn = existsSync(py) && spawnSync(py, ['-c', 'import numpy, sklearn'], { stdio: 'ignore' }).status === 0;
  if (!hasSklearn) {
    report("seed's numpy + scikit-learn loop", 'skipped: /usr/bin/python3 with numpy and scikit-learn not found (apt-get install python3-sklearn)');
  } else {
    writeFileSync(path.join(tmp, 'y.bin'), d.labels);
    writeFileSync(path.join(tmp, 'a.bin'), new Uint8Array(d.a.buffer));
    writeFileSync(path.join(tmp, 'b.bin'), new Uint8Array(d.b.buffer));
    // The seed's evaluate_model, once per model (its resamples are not paired), on probability scores.
    const script = `
import sys, time, numpy as np
from sklearn.metrics import roc_auc_score
d, B = sys.argv[1], int(sys.argv[2])
y = np.fromfile(d + '/y.bin', dtype=np.uint8)
t0 = time.perf_counter()
for name in ('a', 'b'):
    p = np.fromfile(d + '/' + name + '.bin', dtype=np.float64)
    rng = np.random.RandomState()
    scores, score = [], 0.5
    for i in range(B):
        idx = rng.randint(0, len(p), len(p))
        if len(np.unique(y[idx])) < 2:
            scores.append(score)
            continue
        score = roc_auc_score(y[idx], p[idx])
        scores.append(score)
print(time.perf_counter() - t0)
`;
    const pyFile = path.join(tmp, 'seed_loop.py');
    writeFileSync(pyFile, script);
    const t0 = performance.now();
    const loopS = Number(execFileSync(py, [pyFile, tmp, String(seedResamples)], { encoding: 'utf8' }).trim());
    const totalS = (performance.now() - t0) / 1000;
    const startupS = totalS - loopS;
    const scaled = (loopS * Be2e) / seedResamples + startupS;
    report(
      "seed's loop (python3, numpy + scikit-learn roc_auc_score)",
      `${fmt(loopS, 1)} s for ${seedResamples} resamples x 2 models (+${fmt(startupS, 1)} s startup)` +
        (seedResamples === Be2e ? '' : `; ${fmt(scaled, 1)} s for ${Be2e} (scaled linearly: the loop repeats identical iterations)`),
    );
    const ratio = scaled / (best / 1000);
    report('speed-up of mlops-eval over the seed, end to end', `${fmt(ratio, 0)}x`, '>= 50x', ratio >= 50);
  }
}

if (only.includes('delong') || only.includes('arrow') || only.includes('memory')) {
  const n = 10_000_000;
  console.log(`\nn = ${n} rows, 2 float64 score columns + uint8 labels (${fmt((n * 17) / 1e6, 0)} MB of raw columns):`);
  const d = simulate(n, 'big');
  const file = writeArrow(path.join(tmp, 'big.arrow'), d);
  const raw = n * 17;

  if (only.includes('arrow')) {
    // In a fresh process, so the page cache is the only thing warm.
    const code = `const {readFileSync}=require('fs');const E=require(${JSON.stringify(ENGINE)});let best=1e9,bestParse=1e9;
      for(let i=0;i<3;i++){const t0=performance.now();const b=readFileSync(${JSON.stringify(file)});const t1=performance.now();const p=E.readPredictions(b);const t2=performance.now();
      if(p.n!==${n})throw new Error('rows');best=Math.min(best,t2-t0);bestParse=Math.min(bestParse,t2-t1);}console.log(best+' '+bestParse);`;
    const [total, parse] = execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' }).trim().split(' ').map(Number);
    report(
      'read the Arrow file into typed arrays (readFileSync + readPredictions, best of 3)',
      `${fmt(total, 0)} ms (of which ${fmt(parse, 0)} ms parsing and validation)`,
      '< 1 s',
      total < 1000,
    );
  }

  if (only.includes('delong')) {
    const preds = {
      n,
      labels: d.labels,
      columns: [
        { name: 'prod', scores: d.a },
        { name: 'cand', scores: d.b },
      ],
    };
    const opts = { baseline: 'prod', metric: 'roc_auc', method: 'delong', resamples: 1, seed: 1, winRate: 0.9, minDelta: 0, confidence: 0.95 };
    let bestMs = Infinity;
    for (let i = 0; i < 2; i++) bestMs = Math.min(bestMs, timed(() => E.compareModels(preds, opts)).wallMs);
    report("DeLong's test, compareModels (2 models)", `${fmt(bestMs / 1000, 2)} s (best of 2)`, '< 5 s', bestMs < 5000);
    const cli = runCli(['compare', file, '--baseline', 'prod', '--method', 'delong', '--json']);
    report("DeLong's test end to end (mlops-eval compare --method delong)", `${fmt(cli.wallMs / 1000, 2)} s`);
  }

  if (only.includes('memory')) {
    // Peak RSS of the real CLI, reported by a preloaded exit hook; the baseline is the same process printing --help.
    // Linux only (/proc/self/status).
    const hook = path.join(tmp, 'rss.cjs');
    // VmHWM (not getrusage's maxRSS, which Linux carries over from the parent across fork + exec).
    writeFileSync(
      hook,
      "process.on('exit', () => { const m = /VmHWM:\\s+(\\d+) kB/.exec(require('fs').readFileSync('/proc/self/status', 'utf8')); process.stderr.write(`\\nMAXRSS ${m ? m[1] : 'unknown'}\\n`); });",
    );
    const rss = (args) => {
      const r = spawnSync(process.execPath, ['--require', hook, CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
      const m = /MAXRSS (\d+)/.exec(r.stderr);
      if (!m) throw new Error(`no RSS from mlops-eval ${args.join(' ')}: ${r.stderr}`);
      return Number(m[1]) * 1024;
    };
    const base = rss(['--help']);
    report('baseline (node + the CLI bundle loaded)', `${fmt(base / 1e6, 0)} MB`);
    // The constant with worker threads: the same CLI on a 1,000-row file, so the workers' own heaps count as constant.
    const tiny = writeArrow(path.join(tmp, 'tiny.arrow'), simulate(1000, 'tiny'));
    const baseThreads = cores > 1 ? rss(['compare', tiny, '--baseline', 'prod', '--json', '--resamples', '8', '--threads', String(cores)]) : base;
    if (cores > 1) report(`baseline with ${cores} worker threads (same CLI on 1,000 rows)`, `${fmt(baseThreads / 1e6, 0)} MB`);
    for (const [label, args, b] of [
      ['bootstrap, 1 thread', ['--resamples', '8', '--threads', '1'], base],
      [`bootstrap, ${cores} threads`, ['--resamples', '8', '--threads', String(cores)], baseThreads],
      ['DeLong', ['--method', 'delong'], base],
    ]) {
      const peak = rss(['compare', file, '--baseline', 'prod', '--json', '--no-distributions', ...args]);
      const ratio = (peak - b) / raw;
      report(`peak memory, ${label}`, `${fmt(peak / 1e6, 0)} MB = its baseline + ${fmt(ratio)}x the raw columns`, '< 3x raw + constant', ratio < 3);
    }
  }
}

rmSync(tmp, { recursive: true, force: true });
const missed = results.filter((r) => r.ok === false);
console.log(
  `\n${results.filter((r) => r.ok === true).length} target(s) met, ${missed.length} missed${missed.length ? `: ${missed.map((r) => r.name).join('; ')}` : ''}.`,
);
