/**
 * `mlops-eval compare <file> --spark-sums <sums.json> --row-key <column>`: the built CLI (dist/cli, from
 * `npm run build`) run as a child process. The Spark sums are those the engine computes for the same rows
 * (`sparkSumsOf`, what the notebook is tested to return), passed through JSON text; the models are listed in
 * the task's order (candidate first), the reverse of the file's columns, so the mapping is by name.
 * Identical data replays exactly, with the decision `finishFromSums` gives and the local `compareModels` gives;
 * a changed score, a dropped row, a tampered draw or product, and wrong options are each named exactly, with
 * exit codes 4 (fingerprint), 5 (another sum) and 2 (options, input). The same for the keyed ROC AUC (rank sums)
 * and, with `--problem regression`, the regression RMSE and MAE sums (`sparkRegressionSumsOf`,
 * `finishRegressionFromSums`): a changed prediction, a tampered rank sum, loss sum or scale, sums of the other
 * problem.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import {
  compareModels,
  finishFromSums,
  finishRegressionFromSums,
  readAnyPredictions,
  readPredictions,
  sparkRegressionSumsOf,
  sparkSumsOf,
  type AnyMetric,
  type CompareOptions,
  type Decision,
  type RegressionPredictions,
} from '../../src/engine';
import { parseArgs } from '../../src/cli/main';
import { formatTable } from '../../src/cli/table';
import { simulateModels } from '../engine/simulate';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/cli/mlops-eval.js');
const HINT = "Run 'mlops-eval --help' for the options.\n";

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The sums' models in the task's order (candidates, then production): the file holds them as prod, run_abc. */
const MODELS = ['run_abc', 'prod'];
const DELONG = ['--method', 'delong', '--baseline', 'prod', '--row-key', 'id', '--json'];
const KEYED = ['--bootstrap', 'keyed-poisson', '--seed', 'replay-seed', '--resamples', '120', '--baseline', 'prod', '--row-key', 'id', '--json'];

/** The options the CLI parses from `args` (with --spark-sums, which lets --row-key go with --method delong). */
function optsOf(args: string[]): CompareOptions {
  return parseArgs(['compare', 'file.arrow', '--spark-sums', 'sums.json', ...args]).opts as CompareOptions;
}

/** The arguments without `flag` and its value. */
function without(argv: string[], flag: string): string[] {
  return argv.filter((_, i) => argv[i] !== flag && argv[i - 1] !== flag);
}

function withoutModelIntervals(d: Decision): unknown {
  return { ...d, models: d.models.map(({ ci: _ci, ...rest }) => rest) };
}

describe('mlops-eval --spark-sums: replaying a comparison made on Spark', function () {
  this.timeout(180000);
  let dir: string;
  const n = 2000;
  const { labels, scores } = simulateModels({ n, aucs: [0.72, 0.76], rho: 0.6, prevalence: 0.3, seed: 'spark-replay-cli' });
  const sig = (x: number): number => 1 / (1 + Math.exp(-x));
  const prod = Float64Array.from(scores[0], sig);
  const cand = Float64Array.from(scores[1], sig);
  const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 2654435761 + 5) % 2 ** 40));
  const inOrder = [...Array(n).keys()];

  /** An Arrow file of the rows `order`, with the candidate's scores `candScores`. */
  const writeArrow = (name: string, order: number[], candScores: Float64Array = cand): string => {
    const file = path.join(dir, name);
    const table = tableFromArrays({
      label: Int32Array.from(order, (i) => labels[i]),
      prod: Float64Array.from(order, (i) => prod[i]),
      run_abc: Float64Array.from(order, (i) => candScores[i]),
      id: BigInt64Array.from(order, (i) => ids[i]),
    });
    writeFileSync(file, tableToIPC(table, 'file'));
    return file;
  };
  const writeJson = (name: string, value: unknown): string => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(value));
    return file;
  };
  /** The sums the notebook would return for `file`, as parsed JSON. */
  const sumsOf = (file: string, args: string[]): any => {
    const preds = readPredictions(new Uint8Array(readFileSync(file)), { rowKeyColumn: 'id', scoreColumns: MODELS });
    return JSON.parse(JSON.stringify(sparkSumsOf(preds, MODELS, optsOf(args))));
  };
  const localDecision = (file: string, args: string[]): Decision => {
    const preds = readPredictions(new Uint8Array(readFileSync(file)), { rowKeyColumn: 'id', scoreColumns: MODELS });
    return compareModels(preds, { ...optsOf(args), candidates: ['run_abc'] });
  };
  const readLine = (sumsFile: string, what: string): string => `Read '${sumsFile}': ${what}.\n`;
  const SUMS = 'the sums JSON (mlopspipelines.spark-sums/v1)';
  let file: string;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mlops-eval-replay-'));
    file = writeArrow('in-order.arrow', inOrder);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('DeLong: replays exactly; the decision is finishFromSums of the sums and the local DeLong decision; a shuffled file too', () => {
    const sums = sumsOf(file, DELONG);
    const sumsFile = writeJson('delong-sums.json', sums);
    const r = run(['compare', file, '--spark-sums', sumsFile, ...DELONG]);
    assert.equal(r.code, 0, r.stderr);
    const finished = finishFromSums(sums, MODELS, optsOf(DELONG));
    assert.equal(r.stdout, `${JSON.stringify(finished)}\n`);
    assert.equal(
      r.stderr,
      readLine(sumsFile, SUMS) +
        `Replayed exactly: '${file}' gives the Spark evaluation's fingerprint (2,000 rows, ${sums.positives.replace(/(\d)(?=(\d{3})+$)/g, '$1,')} positives, models run_abc, prod) and every sum (DeLong's sums).\n`,
    );
    const local = localDecision(file, DELONG);
    assert.deepEqual(withoutModelIntervals(JSON.parse(r.stdout)), withoutModelIntervals(JSON.parse(JSON.stringify(local))));
    for (let i = 0; i < local.models.length; i++) {
      const [a, b] = [finished.models[i].ci!, local.models[i].ci!];
      assert.ok(Math.abs(a[0] - b[0]) <= 1e-12 && Math.abs(a[1] - b[1]) <= 1e-12, `${local.models[i].name}: ${a} vs ${b}`);
    }
    const reversed = run(['compare', writeArrow('reversed.arrow', [...inOrder].reverse()), '--spark-sums', sumsFile, ...DELONG]);
    assert.equal(reversed.code, 0, reversed.stderr);
    assert.equal(reversed.stdout, r.stdout);
  });

  for (const metric of ['log_loss', 'brier']) {
    it(`keyed bootstrap on ${metric}: replays exactly, the decision equal to finishFromSums and to the local keyed bootstrap, any row order`, () => {
      const args = [...KEYED, '--metric', metric];
      const sums = sumsOf(file, args);
      const sumsFile = writeJson(`${metric}-sums.json`, sums);
      const r = run(['compare', file, '--spark-sums', sumsFile, ...args]);
      assert.equal(r.code, 0, r.stderr);
      const finished = finishFromSums(sums, MODELS, optsOf(args));
      assert.equal(r.stdout, `${JSON.stringify(finished)}\n`);
      assert.deepEqual(JSON.parse(r.stdout), JSON.parse(JSON.stringify(localDecision(file, args))));
      assert.match(r.stderr, /every sum \(the keyed Poisson bootstrap's sums, 120 resamples in 120 draws\)\.\n$/);
      const shuffled = [...inOrder].sort((a, b) => ((a * 7919) % n) - ((b * 7919) % n));
      const s = run(['compare', writeArrow(`${metric}-shuffled.arrow`, shuffled), '--spark-sums', sumsFile, ...args]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal(s.stdout, r.stdout);
    });
  }

  it('the same rows as Parquet (INT64 keys) and as CSV replay exactly, with the same decision', () => {
    const args = [...KEYED, '--metric', 'log_loss'];
    const sumsFile = writeJson('formats-sums.json', sumsOf(file, args));
    const arrow = run(['compare', file, '--spark-sums', sumsFile, ...args]);
    assert.equal(arrow.code, 0, arrow.stderr);
    const parquet = path.join(dir, 'rows.parquet');
    const columnData = [
      { name: 'label', data: Int32Array.from(labels), type: 'INT32', nullable: false },
      { name: 'prod', data: prod, type: 'DOUBLE', nullable: false },
      { name: 'run_abc', data: cand, type: 'DOUBLE', nullable: false },
      { name: 'id', data: ids, type: 'INT64', nullable: false },
    ];
    writeFileSync(parquet, new Uint8Array(parquetWriteBuffer({ columnData: columnData as Parameters<typeof parquetWriteBuffer>[0]['columnData'] })));
    const csv = path.join(dir, 'rows.csv');
    writeFileSync(csv, ['label,prod,run_abc,id', ...inOrder.map((i) => `${labels[i]},${prod[i]},${cand[i]},${ids[i]}`)].join('\n') + '\n');
    for (const other of [parquet, csv]) {
      const r = run(['compare', other, '--spark-sums', sumsFile, ...args]);
      assert.equal(r.code, 0, `${other}: ${r.stderr}`);
      assert.equal(r.stdout, arrow.stdout);
      assert.equal(r.stderr, arrow.stderr.replace(`'${file}'`, `'${other}'`));
    }
  });

  it('prints the two lines and the decision table without --json, and honours --fail-on-keep', () => {
    const args = DELONG.filter((a) => a !== '--json');
    const sums = sumsOf(file, DELONG);
    const sumsFile = writeJson('table-sums.json', sums);
    const r = run(['compare', file, '--spark-sums', sumsFile, ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const finished = finishFromSums(sums, MODELS, optsOf(args));
    const [first, second] = r.stdout.split('\n');
    assert.equal(`${first}\n`, readLine(sumsFile, SUMS));
    assert.match(second, /^Replayed exactly: /);
    assert.equal(r.stdout, `${first}\n${second}\n\n${formatTable(finished)}`);
    const gate = run(['compare', file, '--spark-sums', sumsFile, ...args, '--fail-on-keep']);
    assert.equal(gate.code, finished.decision === 'promote' ? 0 : 3);
  });

  it('one score changed: names fingerprint.scoreSums[m] with the model, exit code 4', () => {
    const sums = sumsOf(file, DELONG);
    const sumsFile = writeJson('score-sums.json', sums);
    const changed = Float64Array.from(cand);
    changed[17] += 2 ** -20;
    const other = writeArrow('one-score.arrow', inOrder, changed);
    const theirs = sumsOf(other, DELONG);
    assert.notEqual(theirs.fingerprint.scoreSums[0], sums.fingerprint.scoreSums[0]);
    const r = run(['compare', other, '--spark-sums', sumsFile, ...DELONG]);
    assert.equal(r.code, 4);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `mlops-eval: ${readLine(sumsFile, SUMS)}` +
        `mlops-eval: not replayed: fingerprint.scoreSums[0] (model run_abc): Spark ${sums.fingerprint.scoreSums[0]}, this file ${theirs.fingerprint.scoreSums[0]}: the file does not hold the rows and scores Spark compared\n`,
    );
  });

  it('one row dropped: names fingerprint.rows, exit code 4', () => {
    const args = [...KEYED, '--metric', 'log_loss'];
    const sumsFile = writeJson('rows-sums.json', sumsOf(file, args));
    const r = run(['compare', writeArrow('dropped.arrow', inOrder.slice(1)), '--spark-sums', sumsFile, ...args]);
    assert.equal(r.code, 4);
    assert.equal(
      r.stderr,
      `mlops-eval: ${readLine(sumsFile, SUMS)}mlops-eval: not replayed: fingerprint.rows: Spark 2000, this file 1999: the file does not hold the rows and scores Spark compared\n`,
    );
  });

  it('a tampered draw or DeLong product: names the draw index, its b and the field, or the pair of models; exit code 5', () => {
    const args = [...KEYED, '--metric', 'brier'];
    const sums = sumsOf(file, args);
    const original = sums.bootstrap.draws[17].losses[1];
    sums.bootstrap.draws[17].losses[1] = String(BigInt(original) + 1n);
    const sumsFile = writeJson('tampered-draw.json', sums);
    const r = run(['compare', file, '--spark-sums', sumsFile, ...args]);
    assert.equal(r.code, 5);
    assert.equal(
      r.stderr,
      `mlops-eval: ${readLine(sumsFile, SUMS)}mlops-eval: not replayed: bootstrap.draws[17] (b 17).losses[1] (model prod): Spark ${sums.bootstrap.draws[17].losses[1]}, this file ${original}: ` +
        "the file holds the rows and scores Spark compared (the fingerprint is equal), but this sum differs from the engine's: Spark computed it otherwise (for log loss, its ln) or the sums were changed\n",
    );
    const delong = sumsOf(file, DELONG);
    const product = delong.delong.negativeProducts[1];
    delong.delong.negativeProducts[1] = String(BigInt(product) - 1n);
    const delongFile = writeJson('tampered-product.json', delong);
    const d = run(['compare', file, '--spark-sums', delongFile, ...DELONG]);
    assert.equal(d.code, 5);
    assert.match(
      d.stderr,
      new RegExp(
        `^mlops-eval: not replayed: delong\\.negativeProducts\\[1\\] \\(models run_abc, prod\\): Spark ${BigInt(product) - 1n}, this file ${product}: the file holds`,
        'm',
      ),
    );
  });

  it('options other than the evaluation’s: names the option and the value the sums record, exit code 2, nothing compared', () => {
    const args = [...KEYED, '--metric', 'log_loss'];
    const sumsFile = writeJson('options-sums.json', sumsOf(file, args));
    const cases: [string[], string][] = [
      [
        [...without(args, '--seed'), '--seed', '7'],
        '--seed is 7, but the Spark sums were computed with seed replay-seed (bootstrap.seed): give the options of the evaluation that made them (--seed replay-seed)',
      ],
      [
        [...without(args, '--resamples'), '--resamples', '121'],
        '--resamples is 121, but the Spark sums were computed with resamples 120 (bootstrap.resamples): give the options of the evaluation that made them (--resamples 120)',
      ],
      [
        [...KEYED, '--metric', 'brier'],
        '--metric is brier, but the Spark sums were computed with metric log_loss (bootstrap.metric): give the options of the evaluation that made them (--metric log_loss)',
      ],
      [
        ['--method', 'delong', '--baseline', 'prod', '--row-key', 'id'],
        '--method is delong, but the Spark sums were computed with method bootstrap (bootstrap is set): give the options of the evaluation that made them (--method bootstrap)',
      ],
      [without(args, '--bootstrap'), 'the Spark sums are of the keyed Poisson bootstrap: add --bootstrap keyed-poisson'],
      [[...without(args, '--baseline'), '--baseline', 'champion'], "--baseline 'champion' is not among the Spark sums' models (run_abc, prod)"],
    ];
    for (const [argv, message] of cases) {
      const r = run(['compare', file, '--spark-sums', sumsFile, ...argv]);
      assert.equal(r.code, 2, message);
      assert.equal(r.stderr, `mlops-eval: ${message}\n${HINT}`);
      assert.equal(r.stdout, '');
    }
  });

  it('refuses options a comparison on Spark has no counterpart for, a missing --row-key and a missing model column', () => {
    const sumsFile = writeJson('refusals-sums.json', sumsOf(file, DELONG));
    const refused = (argv: string[], message: string, hint = HINT): void => {
      const r = run(['compare', file, '--spark-sums', sumsFile, ...argv]);
      assert.equal(r.code, 2, message);
      assert.equal(r.stderr, `mlops-eval: ${message}\n${hint}`);
    };
    refused(
      ['--method', 'delong'],
      '--spark-sums needs --row-key <column>: the fingerprint sums the row keys, so the file must hold the key column the notebook was given',
    );
    refused(
      [...DELONG, '--models', 'prod,run_abc'],
      "--models does not apply to --spark-sums: the models are the sums' models list, matched to the file's columns by name",
    );
    refused([...DELONG, '--slice', 'region'], '--slice does not apply to --spark-sums: a comparison on Spark has no slices');
    refused(
      [...DELONG, '--problem', 'multiclass'],
      '--problem multiclass does not apply to --spark-sums: a comparison on Spark compares binary classifiers or regression models',
    );
    refused([...KEYED, '--metric', 'rmse'], '--metric rmse is a regression metric: to replay regression sums add --problem regression');
    const renamed = path.join(dir, 'renamed.arrow');
    writeFileSync(renamed, tableToIPC(tableFromArrays({ label: Int32Array.from(labels), prod: prod, run_b: cand, id: ids }), 'file'));
    const r = run(['compare', renamed, '--spark-sums', sumsFile, ...DELONG]);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      "mlops-eval: the Spark sums' models (run_abc, prod; s0 first) are the file's columns of the same names: there is no score column 'run_abc' (columns: label, prod, run_b, id)\n",
    );
  });

  it('reads the sums JSON, the notebook’s exit value and a runs/get-output response, and says which it read', () => {
    const sums = sumsOf(file, DELONG);
    const exit = { comparison: 'spark', rows: 2000, local_row_limit: 1000, result: sums };
    const shapes: [string, unknown, string][] = [
      ['spark-sums.json', sums, SUMS],
      ['exit.json', exit, 'the notebook\'s exit value (comparison "spark", 2,000 rows), its "result"'],
      [
        'get-output.json',
        { metadata: { run_id: 1 }, notebook_output: { result: JSON.stringify(exit), truncated: false } },
        'a runs/get-output response; its notebook_output.result is the notebook\'s exit value (comparison "spark", 2,000 rows), its "result"',
      ],
      ['exit-text.json', JSON.stringify(exit), 'a JSON string holding the notebook\'s exit value (comparison "spark", 2,000 rows), its "result"'],
    ];
    let stdout: string | undefined;
    for (const [name, value, what] of shapes) {
      const sumsFile = writeJson(name, value);
      const r = run(['compare', file, '--spark-sums', sumsFile, ...DELONG]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr.split('\n')[0], readLine(sumsFile, what).trimEnd());
      stdout ??= r.stdout;
      assert.equal(r.stdout, stdout);
    }
    const bad: [unknown, string][] = [
      [
        { comparison: 'spark', rows: 2000, local_row_limit: 1000, result_path: '/Volumes/c/s/v/eval/spark-sums.json' },
        `'%f' names the sums file "/Volumes/c/s/v/eval/spark-sums.json" (result_path) instead of holding them: download that file and pass it to --spark-sums`,
      ],
      [
        { comparison: 'local', output_path: '/Volumes/c/s/v/eval/predictions.arrow', rows: 10, local_row_limit: 1000 },
        `'%f' is the exit value of a comparison on the agent (comparison "local"): it holds no Spark sums; compare its predictions file with mlops-eval compare`,
      ],
      [{ ...exit, rows: 1999 }, `'%f' says 1999 rows but its result says 2000: the exit value does not add up`],
      [
        { notebook_output: { result: JSON.stringify(exit).slice(0, 100), truncated: true } },
        "'%f': notebook_output.truncated is true: the exit value was cut at 5 MB, so the sums are incomplete",
      ],
      [
        { ...sums, format: 'mlopspipelines.spark-sums/v2' },
        `'%f' is not Spark sums: its format is "mlopspipelines.spark-sums/v2", expected 'mlopspipelines.spark-sums/v1'`,
      ],
      [
        { rows: 3 },
        `'%f' is neither Spark sums (format 'mlopspipelines.spark-sums/v1'), nor the notebook's exit value (comparison "spark"), nor a runs/get-output response (notebook_output)`,
      ],
    ];
    for (const [k, [value, message]] of bad.entries()) {
      const sumsFile = writeJson(`bad-${k}.json`, value);
      const r = run(['compare', file, '--spark-sums', sumsFile, ...DELONG]);
      assert.equal(r.code, 2, message);
      assert.equal(r.stderr, `mlops-eval: ${message.replace('%f', sumsFile)}\n`);
    }
  });
  it('keyed bootstrap on roc_auc: replays exactly, the decision equal to finishFromSums and to the local keyed bootstrap, any row order', () => {
    const args = [...KEYED, '--metric', 'roc_auc'];
    const sums = sumsOf(file, args);
    assert.equal(sums.bootstrap.full.rankSums.length, 2);
    const sumsFile = writeJson('roc_auc-sums.json', sums);
    const r = run(['compare', file, '--spark-sums', sumsFile, ...args]);
    assert.equal(r.code, 0, r.stderr);
    const finished = finishFromSums(sums, MODELS, optsOf(args));
    assert.equal(r.stdout, `${JSON.stringify(finished)}\n`);
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(JSON.stringify(localDecision(file, args))));
    assert.equal(
      r.stderr,
      readLine(sumsFile, SUMS) +
        `Replayed exactly: '${file}' gives the Spark evaluation's fingerprint (2,000 rows, ${sums.positives.replace(/(\d)(?=(\d{3})+$)/g, '$1,')} positives, models run_abc, prod) and every sum (the keyed Poisson bootstrap's sums, 120 resamples in 120 draws).\n`,
    );
    const shuffled = [...inOrder].sort((a, b) => ((a * 7919) % n) - ((b * 7919) % n));
    const s = run(['compare', writeArrow('roc_auc-shuffled.arrow', shuffled), '--spark-sums', sumsFile, ...args]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, r.stdout);
  });

  it('keyed roc_auc: a tampered rank sum is named by its draw, b and model, exit code 5; a changed score by the fingerprint, exit code 4', () => {
    const args = [...KEYED, '--metric', 'roc_auc'];
    const sums = sumsOf(file, args);
    const original = sums.bootstrap.draws[42].rankSums[0];
    sums.bootstrap.draws[42].rankSums[0] = String(BigInt(original) - 2n);
    const sumsFile = writeJson('tampered-rank-sum.json', sums);
    const r = run(['compare', file, '--spark-sums', sumsFile, ...args]);
    assert.equal(r.code, 5);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `mlops-eval: ${readLine(sumsFile, SUMS)}mlops-eval: not replayed: bootstrap.draws[42] (b 42).rankSums[0] (model run_abc): Spark ${BigInt(original) - 2n}, this file ${original}: ` +
        "the file holds the rows and scores Spark compared (the fingerprint is equal), but this sum differs from the engine's: Spark computed it otherwise (for log loss, its ln) or the sums were changed\n",
    );
    const changed = Float64Array.from(cand);
    changed[3] -= 2 ** -20;
    const other = writeArrow('roc_auc-one-score.arrow', inOrder, changed);
    const theirs = sumsOf(other, args);
    const c = run(['compare', other, '--spark-sums', writeJson('roc_auc-sums-2.json', sumsOf(file, args)), ...args]);
    assert.equal(c.code, 4);
    assert.match(
      c.stderr,
      new RegExp(
        `^mlops-eval: not replayed: fingerprint\\.scoreSums\\[0\\] \\(model run_abc\\): Spark ${sums.fingerprint.scoreSums[0]}, this file ${theirs.fingerprint.scoreSums[0]}: the file does not hold the rows and scores Spark compared$`,
        'm',
      ),
    );
  });
});

describe('mlops-eval --spark-sums --problem regression: replaying an RMSE or MAE comparison made on Spark', function () {
  this.timeout(180000);
  let dir: string;
  const n = 2000;
  /** A deterministic spread in [-1, 1) per row and salt (no generator needed: the values only have to differ). */
  const spread = (i: number, salt: number): number => (((i + 1) * 2654435761 + salt * 40503) % 2 ** 32) / 2 ** 31 - 1;
  const target = Float64Array.from({ length: n }, (_, i) => 50 + 20 * spread(i, 1));
  const prod = Float64Array.from(target, (y, i) => y + 3 * spread(i, 2));
  const cand = Float64Array.from(target, (y, i) => y + 2.7 * spread(i, 3));
  const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 2654435761 + 5) % 2 ** 40));
  const inOrder = [...Array(n).keys()];
  const ARGS = ['--problem', 'regression', ...KEYED];
  const readLine = (sumsFile: string): string => `Read '${sumsFile}': the sums JSON (mlopspipelines.spark-sums/v1).\n`;

  const writeArrow = (name: string, order: number[], candPredictions: Float64Array = cand): string => {
    const file = path.join(dir, name);
    const table = tableFromArrays({
      label: Float64Array.from(order, (i) => target[i]),
      prod: Float64Array.from(order, (i) => prod[i]),
      run_abc: Float64Array.from(order, (i) => candPredictions[i]),
      id: BigInt64Array.from(order, (i) => ids[i]),
    });
    writeFileSync(file, tableToIPC(table, 'file'));
    return file;
  };
  const writeJson = (name: string, value: unknown): string => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(value));
    return file;
  };
  const optsOfArgs = (args: string[]): CompareOptions<AnyMetric> =>
    parseArgs(['compare', 'file.arrow', '--spark-sums', 'sums.json', ...args]).opts as CompareOptions<AnyMetric>;
  const predsOf = (file: string): RegressionPredictions =>
    readAnyPredictions(new Uint8Array(readFileSync(file)), { rowKeyColumn: 'id', scoreColumns: MODELS, problemType: 'regression' })
      .predictions as RegressionPredictions;
  /** The regression sums the notebook would return for `file`, as parsed JSON. */
  const sumsOf = (file: string, metric: 'rmse' | 'mae'): any =>
    JSON.parse(JSON.stringify(sparkRegressionSumsOf(predsOf(file), MODELS, { metric, seed: 'replay-seed', resamples: 120 })));
  let file: string;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mlops-eval-replay-regression-'));
    file = writeArrow('regression.arrow', inOrder);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const metric of ['rmse', 'mae'] as const) {
    it(`${metric}: replays exactly, the decision equal to finishRegressionFromSums and to the local keyed bootstrap, any row order`, () => {
      const args = [...ARGS, '--metric', metric];
      const sums = sumsOf(file, metric);
      const sumsFile = writeJson(`${metric}-sums.json`, sums);
      const r = run(['compare', file, '--spark-sums', sumsFile, ...args]);
      assert.equal(r.code, 0, r.stderr);
      const finished = finishRegressionFromSums(sums, MODELS, optsOfArgs(args));
      assert.equal(r.stdout, `${JSON.stringify(finished)}\n`);
      const local = compareModels(predsOf(file), { ...optsOfArgs(args), candidates: ['run_abc'] });
      assert.deepEqual(JSON.parse(r.stdout), JSON.parse(JSON.stringify(local)));
      assert.equal(
        r.stderr,
        readLine(sumsFile) +
          `Replayed exactly: '${file}' gives the Spark evaluation's fingerprint (2,000 rows, models run_abc, prod) and every sum (the keyed Poisson bootstrap's sums, 120 resamples in 120 draws).\n`,
      );
      const shuffled = [...inOrder].sort((a, b) => ((a * 7919) % n) - ((b * 7919) % n));
      const s = run(['compare', writeArrow(`${metric}-shuffled.arrow`, shuffled), '--spark-sums', sumsFile, ...args]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal(s.stdout, r.stdout);
    });
  }

  it('the same regression rows as Parquet (INT64 keys) and as CSV replay exactly, with the same decision', () => {
    const args = [...ARGS, '--metric', 'rmse'];
    const sumsFile = writeJson('regression-formats-sums.json', sumsOf(file, 'rmse'));
    const arrow = run(['compare', file, '--spark-sums', sumsFile, ...args]);
    assert.equal(arrow.code, 0, arrow.stderr);
    const parquet = path.join(dir, 'regression.parquet');
    const columnData = [
      { name: 'label', data: target, type: 'DOUBLE', nullable: false },
      { name: 'prod', data: prod, type: 'DOUBLE', nullable: false },
      { name: 'run_abc', data: cand, type: 'DOUBLE', nullable: false },
      { name: 'id', data: ids, type: 'INT64', nullable: false },
    ];
    writeFileSync(parquet, new Uint8Array(parquetWriteBuffer({ columnData: columnData as Parameters<typeof parquetWriteBuffer>[0]['columnData'] })));
    const csv = path.join(dir, 'regression.csv');
    writeFileSync(csv, ['label,prod,run_abc,id', ...inOrder.map((i) => `${target[i]},${prod[i]},${cand[i]},${ids[i]}`)].join('\n') + '\n');
    for (const other of [parquet, csv]) {
      const r = run(['compare', other, '--spark-sums', sumsFile, ...args]);
      assert.equal(r.code, 0, `${other}: ${r.stderr}`);
      assert.equal(r.stdout, arrow.stdout);
      assert.equal(r.stderr, arrow.stderr.replace(`'${file}'`, `'${other}'`));
    }
  });

  it('one prediction changed: names fingerprint.predictionSums[m] with the model, exit code 4', () => {
    const args = [...ARGS, '--metric', 'rmse'];
    const sums = sumsOf(file, 'rmse');
    const sumsFile = writeJson('prediction-sums.json', sums);
    const changed = Float64Array.from(cand);
    changed[17] += 2 ** -20;
    const other = writeArrow('one-prediction.arrow', inOrder, changed);
    const theirs = sumsOf(other, 'rmse');
    assert.notEqual(theirs.fingerprint.predictionSums[0], sums.fingerprint.predictionSums[0]);
    const r = run(['compare', other, '--spark-sums', sumsFile, ...args]);
    assert.equal(r.code, 4);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `mlops-eval: ${readLine(sumsFile)}` +
        `mlops-eval: not replayed: fingerprint.predictionSums[0] (model run_abc): Spark ${sums.fingerprint.predictionSums[0]}, this file ${theirs.fingerprint.predictionSums[0]}: the file does not hold the rows and predictions Spark compared\n`,
    );
  });

  it('a tampered loss sum, loss scale or largest loss: names the field, the draw and the model, exit code 5', () => {
    const why =
      "the file holds the rows and predictions Spark compared (the fingerprint is equal), but this sum differs from the engine's: Spark computed it otherwise (its loss scale or a loss) or the sums were changed\n";
    const args = [...ARGS, '--metric', 'mae'];
    const sums = sumsOf(file, 'mae');
    const loss = sums.bootstrap.draws[9].losses[1];
    const scale = sums.bootstrap.lossScaleBits[0];
    const max = sums.bootstrap.maxLosses[1];
    const cases: [string, (s: any) => void, string][] = [
      [
        'loss',
        (s) => (s.bootstrap.draws[9].losses[1] = String(BigInt(loss) + 1n)),
        `bootstrap.draws[9] (b 9).losses[1] (model prod): Spark ${BigInt(loss) + 1n}, this file ${loss}`,
      ],
      ['scale', (s) => (s.bootstrap.lossScaleBits[0] = scale - 1), `bootstrap.lossScaleBits[0] (model run_abc): Spark ${scale - 1}, this file ${scale}`],
      ['max', (s) => (s.bootstrap.maxLosses[1] = String(BigInt(max) - 1n)), `bootstrap.maxLosses[1] (model prod): Spark ${BigInt(max) - 1n}, this file ${max}`],
    ];
    for (const [name, edit, named] of cases) {
      const tampered = JSON.parse(JSON.stringify(sums));
      edit(tampered);
      const sumsFile = writeJson(`tampered-${name}.json`, tampered);
      const r = run(['compare', file, '--spark-sums', sumsFile, ...args]);
      assert.equal(r.code, 5, name);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `mlops-eval: ${readLine(sumsFile)}mlops-eval: not replayed: ${named}: ${why}`);
    }
  });

  it('--help documents the regression replay', () => {
    const help = run(['compare', '--help']);
    assert.equal(help.code, 0);
    assert.match(
      help.stdout,
      /and --problem regression for regression sums \(RMSE, MAE; the label column holds\n {26}the target\)\. DeLong, the keyed log loss, Brier and ROC AUC, and regression RMSE\n/,
    );
    assert.match(help.stdout, /--guardrail, --exclude, --threads or --problem multiclass\n/);
  });

  it('sums of the other problem are refused, saying which: regression sums without --problem regression, binary sums with it; exit code 2', () => {
    const regressionSums = writeJson('regression-sums.json', sumsOf(file, 'rmse'));
    const r = run(['compare', file, '--spark-sums', regressionSums, ...KEYED]);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      `mlops-eval: the Spark sums are of regression models ("problem": "regression"): add --problem regression (with the evaluation's --metric rmse or mae)\n${HINT}`,
    );
    const binaryPreds = {
      n,
      labels: Uint8Array.from(target, (y) => (y > 50 ? 1 : 0)),
      columns: MODELS.map((name) => ({ name, scores: Float64Array.from(target, (_, i) => 0.5 + 0.4 * spread(i, name.length)) })),
      rowKey: { name: 'id', values: Float64Array.from(ids, Number) },
    };
    const binarySums = writeJson(
      'binary-sums.json',
      sparkSumsOf(binaryPreds, MODELS, { metric: 'log_loss', method: 'bootstrap', seed: 'replay-seed', resamples: 120 }),
    );
    const b = run(['compare', file, '--spark-sums', binarySums, ...ARGS, '--metric', 'rmse']);
    assert.equal(b.code, 2);
    assert.equal(
      b.stderr,
      `mlops-eval: the Spark sums are of binary classifiers (they have no "problem": "regression"): leave out --problem regression\n${HINT}`,
    );
    const options = run(['compare', file, '--spark-sums', regressionSums, ...without(ARGS, '--seed'), '--seed', '7', '--metric', 'rmse']);
    assert.equal(options.code, 2);
    assert.equal(
      options.stderr,
      `mlops-eval: --seed is 7, but the Spark sums were computed with seed replay-seed (bootstrap.seed): give the options of the evaluation that made them (--seed replay-seed)\n${HINT}`,
    );
  });
});
