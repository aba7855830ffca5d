/**
 * The built `mlops-eval` command, run as a child process on Arrow files written here. The bundle is
 * rebuilt from src/cli/mlops-eval.ts first (same esbuild options as scripts/build.mjs), so the test
 * always exercises the current sources through the bundled, single-file form users install.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { PARALLEL_MIN_WORK, compareModels, readPredictions, rocAuc, suggestedThreads, type Decision } from '../../src/engine';
import { parseArgs } from '../../src/cli/main';
import { simulateModels } from './simulate';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/cli/mlops-eval.js');

function run(args: string[], script = CLI): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 60000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mlops-eval (built CLI, child process)', function () {
  this.timeout(120000);
  let dir: string;
  let file: string;
  let stream: string;
  const { labels, scores } = simulateModels({ n: 3000, aucs: [0.72, 0.78, 0.7], rho: 0.6, prevalence: 0.3, seed: 'cli' });
  const sig = (x: number) => 1 / (1 + Math.exp(-x));
  const prod = scores[0].map(sig);
  const cand = scores[1].map(sig);
  const weak = Float32Array.from(scores[2].map(sig));

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
    dir = mkdtempSync(path.join(tmpdir(), 'mlops-eval-'));
    file = path.join(dir, 'predictions.arrow');
    stream = path.join(dir, 'predictions.arrows');
    const table = tableFromArrays({ label: labels, prod, cand, weak });
    writeFileSync(file, tableToIPC(table, 'file'));
    writeFileSync(stream, tableToIPC(table, 'stream'));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('compare --baseline prod --json prints the decision object, exit code 0', () => {
    const r = run(['compare', file, '--baseline', 'prod', '--json', '--resamples', '500', '--seed', '7']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const d: Decision = JSON.parse(r.stdout);
    assert.equal(d.decision, 'promote');
    assert.equal(d.best, 'cand');
    assert.equal(d.baseline, 'prod');
    assert.equal(d.metric, 'roc_auc');
    assert.equal(d.method, 'bootstrap');
    assert.equal(d.seed, 7);
    assert.equal(d.resamples, 500);
    assert.equal(d.winRateThreshold, 0.95);
    assert.equal(d.minDelta, 0.001);
    assert.equal(d.n, 3000);
    assert.deepEqual(
      d.models.map((m) => m.name),
      ['prod', 'cand', 'weak'],
    );
    assert.equal(d.models[0].estimate, rocAuc(labels, prod));
    assert.equal(d.models[1].estimate, rocAuc(labels, cand));
    assert.equal(d.models[2].estimate, rocAuc(labels, weak));
    assert.equal(d.distributions!.cand.length, 500);
    assert.ok(d.models[1].vsBaseline!.winRate >= 0.95);
  });

  it('prints exactly the JSON of compareModels on the same data, with 1 or 2 threads, file or stream format', () => {
    const args = ['--baseline', 'prod', '--json', '--resamples', '300', '--seed', 'abc', '--metric', 'average_precision'];
    const one = run(['compare', file, ...args, '--threads', '1']);
    const two = run(['compare', file, ...args, '--threads', '2']);
    const fromStream = run(['compare', stream, ...args, '--threads', '2']);
    assert.equal(one.code, 0, one.stderr);
    const preds = readPredictions(tableToIPC(tableFromArrays({ label: labels, prod, cand, weak })));
    const expected = JSON.stringify(
      compareModels(preds, {
        baseline: 'prod',
        metric: 'average_precision',
        method: 'bootstrap',
        resamples: 300,
        seed: 'abc',
        winRate: 0.95,
        minDelta: 0.001,
        confidence: 0.95,
        bootstrap: 'multinomial',
      }),
    );
    assert.equal(one.stdout, `${expected}\n`);
    assert.equal(two.stdout, one.stdout);
    assert.equal(fromStream.stdout, one.stdout);
  });

  it('without --baseline every column is a candidate and there is no production model', () => {
    const r = run(['compare', file, '--json', '--resamples', '100', '--no-distributions']);
    assert.equal(r.code, 0, r.stderr);
    const d: Decision = JSON.parse(r.stdout);
    assert.equal(d.baseline, undefined);
    assert.equal(d.best, 'cand');
    assert.equal(d.decision, 'promote');
    assert.ok(d.models.every((m) => !m.isBaseline));
    assert.equal(d.distributions, undefined);
    assert.match(d.reason, /no production model/);
  });

  it('--method delong reports the test; keep and none decisions also exit 0', () => {
    const delong = JSON.parse(run(['compare', file, '--baseline', 'prod', '--method', 'delong', '--json']).stdout) as Decision;
    assert.equal(delong.method, 'delong');
    assert.ok(delong.models[1].vsBaseline!.pValue! < 0.05);
    const keep = run(['compare', file, '--baseline', 'prod', '--min-delta', '0.5', '--json', '--resamples', '100']);
    assert.equal(keep.code, 0);
    assert.equal(JSON.parse(keep.stdout).decision, 'keep');
    const onlyProd = path.join(dir, 'only-prod.arrow');
    writeFileSync(onlyProd, tableToIPC(tableFromArrays({ label: labels, prod })));
    const none = run(['compare', onlyProd, '--baseline', 'prod', '--json']);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(JSON.parse(none.stdout).decision, 'none');
  });

  it('prints a readable table without --json', () => {
    const r = run(['compare', file, '--baseline', 'prod', '--resamples', '200']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0], /^ROC AUC \(higher is better\), paired bootstrap \(multinomial\), 200 resamples, seed 42; 3,000 rows, \d+ positive$/);
    assert.equal(lines[1], 'Compared columns: prod (baseline), cand, weak');
    assert.equal(lines[2], 'Improvement = candidate − baseline (positive = better); a win is an improvement above 0.0010 (ties are not wins)');
    assert.match(
      r.stdout,
      /^model +role +estimate +mean +95% CI +improvement \(positive = better\) +95% CI of improvement +lower 95\.0% bound \(gate\) +win rate$/m,
    );
    assert.match(r.stdout, /^cand +best +0\.\d{4} +0\.\d{4} +\[0\.\d{4}, 0\.\d{4}\] +\+0\.\d{4} /m);
    assert.match(r.stdout, /^Decision: PROMOTE 'cand'\. Promote 'cand': /m);
    // Lower-is-better metrics: the same column, oriented, and said so.
    const loss = run(['compare', file, '--baseline', 'prod', '--resamples', '200', '--metric', 'log_loss']);
    assert.equal(loss.code, 0, loss.stderr);
    assert.ok(
      loss.stdout.split('\n').includes('Improvement = baseline − candidate (positive = better); a win is an improvement above 0.0010 (ties are not wins)'),
    );
    assert.match(loss.stdout, /^model +role +estimate +mean +95% CI +improvement \(positive = better\) /m);
  });

  it('--models picks the compared columns; without it every numeric column but the label is a model (a weight column too), and the table says which', () => {
    const extra = path.join(dir, 'extra.arrow');
    const weight = Int32Array.from(labels, (_, i) => 1 + (i % 3));
    writeFileSync(extra, tableToIPC(tableFromArrays({ label: labels, prod, cand, weak, weight, id: Array.from(labels, (_, i) => `row-${i}`) })));
    const all = run(['compare', extra, '--baseline', 'prod', '--resamples', '50']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout.split('\n')[1], 'Compared columns: prod (baseline), cand, weak, weight');
    const chosen = run(['compare', extra, '--models', 'cand,weak', '--baseline', 'prod', '--resamples', '50', '--json']);
    assert.equal(chosen.code, 0, chosen.stderr);
    assert.deepEqual(
      (JSON.parse(chosen.stdout) as Decision).models.map((m) => m.name),
      ['prod', 'cand', 'weak'],
    );
    const withBaseline = run(['compare', extra, '--models=prod,cand', '--baseline', 'prod', '--resamples', '50', '--json']);
    assert.deepEqual(
      (JSON.parse(withBaseline.stdout) as Decision).models.map((m) => m.name),
      ['prod', 'cand'],
    );
    const unknown = run(['compare', extra, '--models', 'cand,nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /there is no score column 'nope'/);
    const text = run(['compare', extra, '--models', 'cand,id']);
    assert.equal(text.code, 2);
    assert.match(text.stderr, /column 'id' has type .*; a score column must be numeric/);
  });

  describe('--weight <column>', () => {
    let weighted: string;
    // Integer weights 0..3 (weight 0 rows included) and a float64 copy of the same whole numbers.
    const weight = Int32Array.from(labels, (_, i) => (i * 7) % 4);
    const total = weight.reduce((a, b) => a + b, 0);
    const positive = weight.reduce((a, b, i) => a + b * labels[i], 0);
    before(() => {
      weighted = path.join(dir, 'weighted.arrow');
      writeFileSync(weighted, tableToIPC(tableFromArrays({ label: labels, prod, cand, weak, weight })));
    });
    const opts = {
      baseline: 'prod',
      metric: 'roc_auc' as const,
      method: 'bootstrap' as const,
      resamples: 200,
      seed: 5,
      winRate: 0.95,
      minDelta: 0.001,
      confidence: 0.95,
      bootstrap: 'multinomial' as const,
    };

    it('prints exactly the JSON of compareModels with the weights (1 or 2 threads); the weight column is never a model', () => {
      const args = ['compare', weighted, '--weight', 'weight', '--baseline', 'prod', '--resamples', '200', '--seed', '5', '--json'];
      const one = run([...args, '--threads', '1']);
      assert.equal(one.code, 0, one.stderr);
      const expected = compareModels(
        {
          n: labels.length,
          labels,
          columns: [
            { name: 'prod', scores: Float64Array.from(prod) },
            { name: 'cand', scores: Float64Array.from(cand) },
            { name: 'weak', scores: weak },
          ],
          weight: { name: 'weight', values: Uint32Array.from(weight) },
        },
        opts,
      );
      assert.equal(one.stdout, `${JSON.stringify(expected)}\n`);
      const d = JSON.parse(one.stdout) as Decision;
      assert.deepEqual(
        d.models.map((m) => m.name),
        ['prod', 'cand', 'weak'],
      );
      assert.deepEqual(d.weight, { column: 'weight', total, positive });
      // The full-data estimate is the weighted ROC AUC (scikit-learn's sample_weight), not the plain one.
      assert.equal(d.models[1].estimate, rocAuc(labels, cand, weight));
      assert.notEqual(d.models[1].estimate, rocAuc(labels, cand));
      assert.equal(run([...args, '--threads', '2']).stdout, one.stdout);
    });

    it("the table lists the weight in the 'Compared columns' line, also with --models", () => {
      const table = run(['compare', weighted, '--weight', 'weight', '--baseline', 'prod', '--resamples', '50']);
      assert.equal(table.code, 0, table.stderr);
      assert.equal(table.stdout.split('\n')[1], `Compared columns: prod (baseline), cand, weak; weight: weight (total ${total}, positive ${positive})`);
      const chosen = run(['compare', weighted, '--models', 'cand', '--weight=weight', '--baseline', 'prod', '--resamples', '50']);
      assert.equal(chosen.code, 0, chosen.stderr);
      assert.equal(chosen.stdout.split('\n')[1], `Compared columns: prod (baseline), cand; weight: weight (total ${total}, positive ${positive})`);
    });

    it('weights all 1 (as float64 whole numbers) give the unweighted decision byte for byte, apart from the weight record', () => {
      const ones = path.join(dir, 'ones.arrow');
      writeFileSync(ones, tableToIPC(tableFromArrays({ label: labels, prod, cand, weak, w: new Float64Array(labels.length).fill(1) })));
      const args = ['--baseline', 'prod', '--models', 'cand,weak', '--resamples', '200', '--seed', '5', '--json'];
      const w = run(['compare', ones, '--weight', 'w', ...args]);
      const plain = run(['compare', file, ...args]);
      assert.equal(w.code, 0, w.stderr);
      const d = JSON.parse(w.stdout) as Decision;
      assert.deepEqual(d.weight, { column: 'w', total: labels.length, positive: labels.reduce((a, b) => a + b, 0) });
      delete d.weight;
      assert.equal(`${JSON.stringify(d)}\n`, plain.stdout);
    });

    const REFUSED: [string, string[], string, string?][] = [
      [
        '--method delong',
        ['--weight', 'weight', '--method', 'delong'],
        "mlops-eval: --weight cannot be used with --method delong: DeLong's test in mlops-eval takes no row weights; use --method bootstrap (the default) or leave out --weight\nRun 'mlops-eval --help' for the options.\n",
      ],
      [
        'the weight column in --models',
        ['--weight', 'weight', '--models', 'cand,weight'],
        "mlops-eval: --models lists the weight column 'weight'; the weight column is never a model\nRun 'mlops-eval --help' for the options.\n",
      ],
      [
        'the weight column as the baseline',
        ['--weight', 'weight', '--baseline', 'weight'],
        "mlops-eval: --weight and --baseline name the same column 'weight'; the weight column is never a model\nRun 'mlops-eval --help' for the options.\n",
      ],
      ['the label as the weight', ['--weight', 'label'], "mlops-eval: --weight names the label column 'label'\nRun 'mlops-eval --help' for the options.\n"],
      ['an unknown weight column', ['--weight', 'nope'], "mlops-eval: there is no weight column 'nope' (columns: label, prod, cand, weak, weight)\n"],
      [
        'a negative weight',
        ['--weight', 'neg'],
        "mlops-eval: the weight column 'neg' has -2 at row 4 (negative); weights must be whole numbers from 0 to 4294967295\n",
        'neg',
      ],
      [
        'a fractional weight',
        ['--weight', 'frac'],
        "mlops-eval: the weight column 'frac' has 0.5 at row 2 (not a whole number); weights must be whole numbers from 0 to 4294967295\n",
        'frac',
      ],
    ];
    for (const [what, args, stderr, extra] of REFUSED) {
      it(`exits 2 for ${what}, naming the column (and the row)`, () => {
        let target = weighted;
        if (extra !== undefined) {
          target = path.join(dir, `${extra}.arrow`);
          const values = Float64Array.from(weight);
          values[extra === 'neg' ? 4 : 2] = extra === 'neg' ? -2 : 0.5;
          writeFileSync(target, tableToIPC(tableFromArrays({ label: labels, prod, cand, [extra]: values })));
        }
        assert.deepEqual(run(['compare', target, ...args]), { code: 2, stdout: '', stderr });
      });
    }

    it('compare --help documents --weight', () => {
      const help = run(['compare', '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /\n {2}--weight <column> {7}column of integer row weights, 0 or more/);
      assert.match(help.stdout, /Not with --method delong/);
    });
  });

  it('--fail-on-keep exits 3 when the decision is keep or none, 0 on promote (1 stays internal error, 2 bad input)', () => {
    assert.equal(run(['compare', file, '--baseline', 'prod', '--resamples', '100', '--fail-on-keep']).code, 0);
    const keep = run(['compare', file, '--baseline', 'prod', '--min-delta', '0.5', '--resamples', '100', '--fail-on-keep', '--json']);
    assert.equal(keep.code, 3, keep.stderr);
    assert.equal(JSON.parse(keep.stdout).decision, 'keep');
    const onlyProd = path.join(dir, 'only-prod-3.arrow');
    writeFileSync(onlyProd, tableToIPC(tableFromArrays({ label: labels, prod })));
    assert.equal(run(['compare', onlyProd, '--baseline', 'prod', '--fail-on-keep']).code, 3);
    assert.equal(run(['compare', path.join(dir, 'nope.arrow'), '--fail-on-keep']).code, 2);
  });

  it('compare --help prints the options (exit 0); --version prints the package version', () => {
    for (const args of [['compare', '--help'], ['compare', file, '-h'], ['--help'], ['help']]) {
      const r = run(args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, /^Usage: mlops-eval compare <predictions file> \[options\]\n/);
      assert.match(r.stdout, /--fail-on-keep {10}exit with code 3 when the decision is keep or none/);
    }
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.deepEqual(run(['--version']), { code: 0, stdout: `mlops-eval ${pkg.version}\n`, stderr: '' });
    assert.deepEqual(run(['--version'], path.join(ROOT, 'bin/mlops-eval.js')), { code: 0, stdout: `mlops-eval ${pkg.version}\n`, stderr: '' });
  });

  const BAD: [string, string[], RegExp][] = [
    ['non-numeric resamples', ['--resamples', 'ten'], /^mlops-eval: --resamples must be an integer from 1 to 100000, got 'ten'\n/],
    ['zero resamples', ['--resamples', '0'], /--resamples must be an integer from 1 to 100000, got '0'/],
    ['more resamples than the task allows', ['--resamples', '10000000'], /--resamples must be an integer from 1 to 100000, got '10000000'/],
    [
      'a negative minimum improvement',
      ['--min-delta', '-0.01'],
      /--min-delta must be 0 or more \(the improvement is oriented: positive = better\), got -0\.01/,
    ],
    ['a metric floor above 1', ['--min-metric', '1.5'], /--min-metric for roc_auc must be between 0 and 1, got 1\.5/],
    ['a single-dash option', ['-m', 'roc_auc'], /^mlops-eval: unknown option '-m': options are spelled with two dashes \(did you mean --metric\?\)\n/],
    ['an option without its value', ['--baseline', '--json'], /--baseline needs a value, got the option '--json'/],
    ['--models listing the label', ['--models', 'label,cand'], /--models lists the label column 'label'/],
    ['--models with only the baseline', ['--models', 'prod', '--baseline', 'prod'], /--models names no candidate besides the baseline/],
    ['win rate 0', ['--win-rate', '0'], /--win-rate must be in \(0, 1\], got 0/],
    ['win rate above 1', ['--win-rate', '1.2'], /--win-rate must be in \(0, 1\], got 1\.2/],
    ['non-numeric win rate', ['--win-rate', 'high'], /--win-rate must be a number, got 'high'/],
    ['confidence 1', ['--confidence', '1'], /--confidence must be in \(0, 1\), got 1/],
    ['confidence 0', ['--confidence', '0'], /--confidence must be in \(0, 1\), got 0/],
    ['unknown metric', ['--metric', 'f1'], /--metric must be one of roc_auc, average_precision, log_loss, brier, got 'f1'/],
    ['unknown method', ['--method', 'magic'], /--method must be one of bootstrap, delong, got 'magic'/],
    ['delong with brier', ['--method', 'delong', '--metric', 'brier'], /--method delong applies to roc_auc only, not to brier/],
    ['unknown option', ['--resample', '10'], /unknown option '--resample'/],
    ['missing value', ['--baseline'], /--baseline needs a value/],
    ['unknown baseline column', ['--baseline', 'nope'], /baseline column 'nope' is not in the predictions \(columns: prod, cand, weak\)/],
  ];
  for (const [what, args, message] of BAD) {
    it(`exits 2 with a clear message on stderr for ${what}`, () => {
      const r = run(['compare', file, ...args]);
      assert.equal(r.code, 2, r.stdout);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
    });
  }

  it('exits 2 on bad data: missing file, truncated Arrow file, labels other than 0/1, NaN scores', () => {
    const missing = run(['compare', path.join(dir, 'nope.arrow')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^mlops-eval: cannot read '.*nope\.arrow': ENOENT/);
    const bytes = tableToIPC(tableFromArrays({ label: labels, prod }), 'file');
    const truncated = path.join(dir, 'truncated.arrow');
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    assert.deepEqual(run(['compare', truncated]), {
      code: 2,
      stdout: '',
      stderr: 'mlops-eval: the Arrow file is truncated: it does not end with the Arrow footer and magic\n',
    });
    const badLabels = Int32Array.from(labels);
    badLabels[3] = 2;
    const labelsFile = path.join(dir, 'labels.arrow');
    writeFileSync(labelsFile, tableToIPC(tableFromArrays({ label: badLabels, prod })));
    assert.deepEqual(run(['compare', labelsFile]), {
      code: 2,
      stdout: '',
      stderr: "mlops-eval: the label column 'label' has 1 value other than 0 and 1 (first at row 3: 2)\n",
    });
    const nan = Float64Array.from(prod);
    nan[10] = NaN;
    const nanFile = path.join(dir, 'nan.arrow');
    writeFileSync(nanFile, tableToIPC(tableFromArrays({ label: labels, prod, cand: nan })));
    assert.deepEqual(run(['compare', nanFile, '--baseline', 'prod']), {
      code: 2,
      stdout: '',
      stderr: "mlops-eval: column 'cand' has 1 NaN or infinite score (first at row 10: NaN)\n",
    });
  });

  it('the package bin shim (bin/mlops-eval.js) runs the built CLI', () => {
    const help = run(['--help'], path.join(ROOT, 'bin/mlops-eval.js'));
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: mlops-eval compare <predictions file> \[options\]/);
    const r = run(['compare', file, '--baseline', 'prod', '--json', '--resamples', '50'], path.join(ROOT, 'bin/mlops-eval.js'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).best, 'cand');
    assert.equal(run([], path.join(ROOT, 'bin/mlops-eval.js')).code, 2);
  });
});

describe('mlops-eval argument parsing (parseArgs)', () => {
  it('applies the documented defaults', () => {
    const p = parseArgs(['compare', 'p.arrow']);
    assert.deepEqual(p, {
      file: 'p.arrow',
      label: 'label',
      json: false,
      failOnKeep: false,
      opts: {
        metric: 'roc_auc',
        method: 'bootstrap',
        resamples: 1000,
        seed: 42,
        winRate: 0.95,
        minDelta: 0.001,
        confidence: 0.95,
        bootstrap: 'multinomial',
        includeDistributions: true,
      },
    });
    assert.deepEqual(
      ['roc_auc', 'average_precision', 'log_loss', 'brier'].map((m) => parseArgs(['compare', 'p', '--metric', m]).opts.minDelta),
      [0.001, 0.001, 0.001, 0.0003],
    );
    assert.equal(parseArgs(['compare', 'p', '--min-delta', '0']).opts.minDelta, 0);
    assert.equal(parseArgs(['compare', 'p.arrow', '--threads', '3']).threads, 3);
  });

  it('without --threads, uses every CPU only for a bootstrap large enough to gain from it (suggestedThreads)', () => {
    assert.equal(suggestedThreads(1_000_000, 1000, 2, 4), 4);
    assert.equal(suggestedThreads(5000, 1000, 2, 4), 1);
    assert.equal(suggestedThreads(PARALLEL_MIN_WORK / 2, 1, 2, 2), 2);
    assert.equal(suggestedThreads(1_000_000, 1000, 2, 0), 1);
  });

  it('accepts --flag=value, keeps non-numeric seeds as strings and reads --min-metric', () => {
    const p = parseArgs(['compare', '--seed=run-17', 'p.arrow', '--min-metric=0.8', '--min-delta', '0.01', '--label', 'y', '--json']);
    assert.equal(p.opts.seed, 'run-17');
    assert.equal(p.opts.minMetric, 0.8);
    assert.equal(p.opts.minDelta, 0.01);
    assert.equal(p.label, 'y');
    assert.equal(p.json, true);
    assert.equal(parseArgs(['compare', 'p', '--seed', '007']).opts.seed, '007');
  });

  it('rejects a second file, a repeated flag and an unknown command', () => {
    assert.throws(() => parseArgs(['compare', 'a', 'b']), /expected one predictions file, got 2: a b \(an option's value goes right after its --option\)/);
    assert.throws(
      () => parseArgs(['--metric', 'roc_auc', 'compare', 'a']),
      /^UsageError: the command comes first: mlops-eval compare <predictions file> --metric <value> \.\.\.$/,
    );
    assert.throws(() => parseArgs(['compare', 'a', '--version']), /--version is an option of mlops-eval itself/);
    assert.throws(() => parseArgs(['compare', 'a', '--seed', '1', '--seed', '2']), /--seed is given twice/);
    assert.throws(() => parseArgs(['evaluate', 'a']), /unknown command 'evaluate'/);
    assert.throws(() => parseArgs(['compare', 'a', '--min-metric', '0.8x']), /--min-metric must be a number, got '0\.8x'/);
  });
});
