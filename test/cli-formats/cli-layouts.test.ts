/**
 * `mlops-eval compare` run in-process (src/cli/main.ts `main` with in-memory files) on every problem
 * type, with guardrails and slices (issue 20): exact stdout, stderr and exit codes; the JSON is the
 * engine's Decision on the same data, the table its text form; slice, weight and excluded columns are
 * never models; multiclass from CSV is refused.
 */
import assert from 'node:assert/strict';
import { main, parseArgs, type CliIo } from '../../src/cli/main';
import { formatTable } from '../../src/cli/table';
import { compareModels, readAnyPredictionsFromTable, type AnyMetric, type CompareOptions, type Decision } from '../../src/engine';
import { simulateModels } from '../engine/simulate';
import { CLASSES, arrowBytes, arrowTable, csvBytes, multiclassColumns, parquetBytes, regressionColumns, type FixtureColumn } from './layouts-fixtures';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], files: Record<string, Uint8Array>): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readFile: (p) => {
      if (!(p in files)) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return files[p];
    },
    cpus: 1,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/** Binary: cand ranks better than prod; cubed has cand's ranking with badly calibrated probabilities (p³). */
function binaryColumns(): FixtureColumn[] {
  const n = 3000;
  const { labels, scores } = simulateModels({ n, aucs: [0.7, 0.76], rho: 0.5, prevalence: 0.3, seed: 'cli-guardrail' });
  const toP = (x: number): number => 1 / (1 + Math.exp(-(x - 1)));
  const cand = Array.from(scores[1], toP);
  return [
    { name: 'label', kind: 'int', values: Array.from(labels) },
    { name: 'prod', kind: 'double', values: Array.from(scores[0], toP) },
    { name: 'cubed', kind: 'double', values: cand.map((p) => p * p * p) },
    { name: 'segment', kind: 'dictionary', values: Array.from(labels, (_, i) => (i % 3 === 0 ? 'online' : 'branch')) },
  ];
}

const BIN = binaryColumns();
const REG = regressionColumns();
const MC = multiclassColumns();
const FILES: Record<string, Uint8Array> = {
  'bin.arrow': arrowBytes(BIN, 'file'),
  'reg.arrow': arrowBytes(REG, 'file'),
  'reg.parquet': parquetBytes(REG),
  'reg.csv': csvBytes(REG),
  'mc.arrow': arrowBytes(MC, 'stream', { 'mlops.classes': CLASSES }),
  'mc.parquet': parquetBytes(MC, { 'mlops.classes': CLASSES }),
  'mc.csv': csvBytes(MC.filter((c) => c.kind !== 'probabilities')),
};

/** The engine's decision on the same columns, read from the Arrow table directly. */
function expected(
  columns: FixtureColumn[],
  metadata: Record<string, string>,
  read: Parameters<typeof readAnyPredictionsFromTable>[1],
  o: Partial<CompareOptions<AnyMetric>>,
): Decision<AnyMetric> {
  const { predictions, slices } = readAnyPredictionsFromTable(arrowTable(columns, metadata), read);
  const opts = {
    method: 'bootstrap',
    resamples: 200,
    seed: 5,
    winRate: 0.95,
    confidence: 0.95,
    bootstrap: 'multinomial',
    includeDistributions: true,
    ...(slices.length > 0 ? { slices } : {}),
    ...o,
  } as CompareOptions<AnyMetric>;
  return compareModels(predictions, opts);
}

describe('mlops-eval compare: guardrails, slices, regression and multiclass (in-process)', function () {
  this.timeout(120000);

  it('a guardrail that blocks: exit 0 (3 with --fail-on-keep), the table shows it failing and the reason names it', async () => {
    const args = ['compare', 'bin.arrow', '--baseline', 'prod', '--guardrail', 'brier:0.002', '--resamples', '200', '--seed', '5'];
    const d = expected(
      BIN,
      {},
      { numericOnly: true, exclude: ['segment'] },
      { baseline: 'prod', metric: 'roc_auc', minDelta: 0.001, guardrails: [{ metric: 'brier', maxWorsening: 0.002 }] },
    );
    assert.equal(d.decision, 'keep');
    const g = d.guardrails![0];
    assert.equal(g.passed, false);
    // 'segment' is a dictionary column: not numeric, so not a model even without --exclude.
    const r = await cli(args, FILES);
    assert.deepEqual([r.code, r.stderr], [0, '']);
    assert.equal(r.stdout, formatTable(d));
    const lines = r.stdout.split('\n');
    assert.equal(lines[1], 'Compared columns: prod (baseline), cubed');
    const at = lines.findIndex((l) => l.startsWith('Guardrails: '));
    assert.equal(lines[at], "Guardrails: 'cubed' against 'prod' on the same 200 resamples (change: positive = better)");
    assert.match(lines[at + 1], /^guardrail\s+max worsening\s+baseline\s+candidate\s+mean change\s+95% CI of change\s+resamples over it\s+allowed\s+verdict$/);
    // Changes as the report writes them: 4 decimals, a sign, U+2212 for negatives (the regex escapes the plus).
    const signed = (x: number): string => (x < 0 ? `\u2212${(-x).toFixed(4)}` : `\\+${x.toFixed(4)}`);
    assert.match(
      lines[at + 2],
      new RegExp(
        `^Brier score \\(lower is better\\)\\s+0\\.0020\\s+${g.baselineEstimate.toFixed(4)}\\s+${g.candidateEstimate.toFixed(4)}\\s+${signed(g.meanDelta)}\\s+\\[${signed(g.deltaCi[0])}, ${signed(g.deltaCi[1])}\\]\\s+100\\.0% \\(200\\)\\s+< 5\\.0%\\s+FAIL$`,
      ),
    );
    assert.equal(lines[lines.length - 2], `Decision: KEEP. ${d.reason}`);
    assert.match(
      d.reason,
      /^Keep 'prod': the best candidate 'cubed' passes the ROC AUC gate but fails the guardrail on Brier score: it worsens by more than 0\.0020 in 100\.0% of 200 paired resamples \(allowed: fewer than 5\.0%; mean change \u22120\.0188\)\.$/,
    );
    const json = await cli([...args, '--json'], FILES);
    assert.deepEqual([json.code, json.stderr, json.stdout], [0, '', `${JSON.stringify(d)}\n`]);
    assert.equal((await cli([...args, '--fail-on-keep'], FILES)).code, 3);
  });

  it('a guardrail that passes: the promotion goes through and the table says pass', async () => {
    const args = [
      'compare',
      'bin.arrow',
      '--baseline',
      'prod',
      '--guardrail',
      'brier:0.5',
      '--guardrail',
      'log_loss:2',
      '--resamples',
      '200',
      '--seed',
      '5',
      '--fail-on-keep',
    ];
    const d = expected(
      BIN,
      {},
      { numericOnly: true },
      {
        baseline: 'prod',
        metric: 'roc_auc',
        minDelta: 0.001,
        guardrails: [
          { metric: 'brier', maxWorsening: 0.5 },
          { metric: 'log_loss', maxWorsening: 2 },
        ],
      },
    );
    assert.equal(d.decision, 'promote');
    const r = await cli(args, FILES);
    assert.deepEqual([r.code, r.stderr, r.stdout], [0, '', formatTable(d)]);
    assert.deepEqual(
      r.stdout
        .split('\n')
        .filter((l) => /^(Brier score|log loss) \(lower is better\)/.test(l))
        .map((l) => l.split(/\s{2,}/).pop()),
      ['pass', 'pass'],
    );
    assert.equal(r.stdout.split('\n').at(-2), `Decision: PROMOTE 'cubed'. ${d.reason}`);
  });

  it('a slice that blocks (regression, Arrow, Parquet and CSV alike): the slice table lists it worst first, the small slices as not judged', async () => {
    const base = [
      '--problem',
      'regression',
      '--baseline',
      'prod',
      '--slice',
      'region',
      '--slice',
      'tier',
      '--exclude',
      'row_id',
      '--resamples',
      '200',
      '--seed',
      '5',
    ];
    const d = expected(
      REG,
      {},
      { problemType: 'regression', numericOnly: true, sliceColumns: ['region', 'tier'], exclude: ['row_id'] },
      {
        problemType: 'regression',
        baseline: 'prod',
        metric: 'rmse',
        minDelta: 0,
      },
    );
    assert.equal(d.decision, 'keep');
    const outs = new Set<string>();
    for (const file of ['reg.arrow', 'reg.parquet', 'reg.csv']) {
      const r = await cli(['compare', file, ...base], FILES);
      assert.deepEqual([r.code, r.stderr], [0, ''], file);
      outs.add(r.stdout);
    }
    assert.deepEqual([...outs], [formatTable(d)]);
    const lines = formatTable(d).split('\n');
    assert.equal(lines[0], 'RMSE (lower is better), paired bootstrap (multinomial), 200 resamples, seed 5; 6,000 rows');
    assert.equal(lines[1], 'Compared columns: prod (baseline), cand');
    const region = lines.findIndex((l) => l.startsWith("Slices of 'region'"));
    assert.equal(
      lines[region],
      "Slices of 'region': 'cand' against 'prod' on RMSE, 3 judged (at least 1,000 rows); a slice fails when its worsening exceeds 0.0000 in at least 95.0% of its resamples",
    );
    assert.deepEqual(
      lines.slice(region + 2, region + 5).map((l) => [l.split(/\s+/)[0], l.split(/\s+/)[1], l.split(/\s{2,}/).pop()]),
      [
        ['north', '1,200', 'FAIL'],
        ['south', '2,400', 'pass'],
        ['east', '2,400', 'pass'],
      ],
    );
    assert.ok(lines.some((l) => l.startsWith("Slices of 'tier': 'cand' against 'prod' on RMSE, 2 judged")));
    assert.match(
      lines.at(-2)!,
      /^Decision: KEEP\. Keep 'prod': the best candidate 'cand' passes the RMSE gate but fails on slice 'north' of 'region' \(1,200 rows\)/,
    );
    // --min-slice-rows above every slice: nothing judged, so nothing blocks; the slices are listed as not judged.
    const lax = await cli(['compare', 'reg.arrow', ...base, '--min-slice-rows', '5000'], FILES);
    assert.equal(lax.code, 0);
    assert.match(lax.stdout, /^north\s+1,200\s+not judged: fewer than 5,000 rows$/m);
    assert.match(lax.stdout, /^Decision: PROMOTE 'cand'\./m);
    const json = JSON.parse((await cli(['compare', 'reg.csv', ...base, '--json', '--no-distributions'], FILES)).stdout) as Decision<AnyMetric>;
    assert.deepEqual(
      json.slices!.map((s) => [s.column, s.judged, s.passed]),
      [
        ['region', 3, false],
        ['tier', 2, true],
      ],
    );
    assert.equal(json.problemType, 'regression');
    assert.equal('distributions' in json, false);
  });

  it('multiclass from Arrow and Parquet: the same output, class names from mlops.classes; CSV refused (exit 2)', async () => {
    const args = [
      '--problem',
      'multiclass',
      '--baseline',
      'prod',
      '--metric',
      'log_loss',
      '--guardrail',
      'accuracy:0.1',
      '--slice',
      'segment',
      '--min-slice-rows',
      '100',
      '--resamples',
      '200',
      '--seed',
      '5',
    ];
    const d = expected(
      MC,
      { 'mlops.classes': CLASSES },
      { problemType: 'multiclass', numericOnly: true, sliceColumns: ['segment'] },
      {
        problemType: 'multiclass',
        baseline: 'prod',
        metric: 'log_loss',
        minDelta: 0.001,
        guardrails: [{ metric: 'accuracy', maxWorsening: 0.1 }],
        minSliceRows: 100,
      },
    );
    assert.equal(d.decision, 'promote');
    assert.deepEqual(d.classNames, ['bronze', 'silver', '10']);
    for (const file of ['mc.arrow', 'mc.parquet']) {
      const r = await cli(['compare', file, ...args], FILES);
      assert.deepEqual([r.code, r.stderr, r.stdout], [0, '', formatTable(d)], file);
      const j = await cli(['compare', file, ...args, '--json'], FILES);
      assert.equal(j.stdout, `${JSON.stringify(d)}\n`, file);
    }
    const counts = d.classCounts!;
    assert.equal(
      formatTable(d).split('\n')[0],
      `log loss (lower is better), paired bootstrap (multinomial), 200 resamples, seed 5; 900 rows, 3 classes (bronze ${counts[0]}, silver ${counts[1]}, 10 ${counts[2]})`,
    );
    const csv = await cli(['compare', 'mc.csv', ...args], FILES);
    assert.deepEqual(
      [csv.code, csv.stdout, csv.stderr],
      [
        2,
        '',
        "mlops-eval: multiclass predictions cannot be read from CSV: each model needs a list of class probabilities per row, which CSV cannot hold. Write them as Parquet (df.to_parquet('predictions.parquet')) or Arrow IPC (pyarrow.feather.write_feather(table, 'predictions.arrow')), one list column per model, the label as class indices 0..K-1 and the class values in the schema metadata 'mlops.classes' (a JSON list)\n",
      ],
    );
  });

  it('slice, weight and excluded columns are never models; without --exclude an integer row key would be one', async () => {
    const withWeight: FixtureColumn[] = [...REG, { name: 'w', kind: 'int', values: REG[0].values.map((_, i) => 1 + (i % 2)) }];
    const files = { 'w.parquet': parquetBytes(withWeight) };
    const args = ['compare', 'w.parquet', '--problem', 'regression', '--baseline', 'prod', '--weight', 'w', '--slice', 'tier', '--resamples', '50'];
    const r = await cli([...args, '--exclude', 'row_id', '--slice', 'region'], files);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[1], 'Compared columns: prod (baseline), cand; weight: w (total 9000)');
    const keyTaken = await cli(args, files);
    assert.equal(keyTaken.stdout.split('\n')[1], 'Compared columns: prod (baseline), row_id, cand; weight: w (total 9000)');
  });

  it('--markdown: the model table with the report decimals, then the guardrails and slices as the build summary of the task writes them (checksMarkdown)', async () => {
    const written: Record<string, string> = {};
    let stderr = '';
    const code = await main(
      [
        'compare',
        'reg.arrow',
        '--problem',
        'regression',
        '--baseline',
        'prod',
        '--models',
        'cand',
        '--guardrail',
        'mae:0.01',
        '--slice',
        'region',
        '--resamples',
        '100',
        '--markdown',
        'r.md',
      ],
      { stdout: () => undefined, stderr: (t) => (stderr += t), readFile: (p) => FILES[p], writeFile: (p, t) => (written[p] = t), cpus: 1 },
    );
    assert.deepEqual([code, stderr], [0, '']);
    const d = expected(
      REG,
      {},
      { problemType: 'regression', scoreColumns: ['prod', 'cand'], sliceColumns: ['region'] },
      {
        problemType: 'regression',
        baseline: 'prod',
        candidates: ['cand'],
        metric: 'rmse',
        minDelta: 0,
        resamples: 100,
        seed: 42,
        guardrails: [{ metric: 'mae', maxWorsening: 0.01 }],
      },
    );
    const md = written['r.md'].split('\n');
    const g = d.guardrails![0];
    const [north, south, east] = d.slices![0].slices;
    const [prod, cand] = d.models;
    // The task's renderer (checksMarkdown): plain ASCII numbers; RMSE and MAE values (between 1 and 10) with 3 decimals,
    // their differences (below 1) with 4, shares with one decimal; the verdicts in words.
    const v3 = (x: number): string => x.toFixed(3);
    const s4 = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
    const slice = (s: typeof north, verdict: string) =>
      `| ${s.name} | ${s.rows} | ${v3(s.baselineEstimate!)} | ${v3(s.candidateEstimate!)} | ${s4(s.meanDelta!)} | [${s4(s.deltaCi![0])}, ${s4(s.deltaCi![1])}] | ${(100 * s.worseShare!).toFixed(1)}% | ${verdict} |`;
    assert.equal(north.name, 'north');
    assert.deepEqual(
      md.slice(
        md.indexOf(
          '| Model | Role | RMSE | 95% interval | Improvement (positive = better) | 95% interval of improvement | Lower 95.0% bound (gate) | Win rate |',
        ),
      ),
      [
        '| Model | Role | RMSE | 95% interval | Improvement (positive = better) | 95% interval of improvement | Lower 95.0% bound (gate) | Win rate |',
        '|---|---|---|---|---|---|---|---|',
        `| prod | baseline | ${v3(prod.estimate)} | [${v3(prod.ci![0])}, ${v3(prod.ci![1])}] | – | – | – | – |`,
        `| cand | best | ${v3(cand.estimate)} | [${v3(cand.ci![0])}, ${v3(cand.ci![1])}] | ${s4(cand.vsBaseline!.meanDelta)} | [${s4(cand.vsBaseline!.deltaCi[0])}, ${s4(cand.vsBaseline!.deltaCi[1])}] | ${s4(cand.vsBaseline!.gateBound!)} | 100.0% |`,
        '',
        'Checks of cand beyond the RMSE gate: the guardrail on MAE passes, slices of region fail (north).',
        '',
        'Guardrail on MAE (lower is better): may worsen by at most 0.0100 in fewer than 5.0% of the resamples.',
        '',
        '| Candidate | Production | Candidate value | Mean improvement | Improvement 95% interval | Resamples over the allowance | Allowed | Verdict |',
        '|---|---|---|---|---|---|---|---|',
        `| cand | ${v3(g.baselineEstimate)} | ${v3(g.candidateEstimate)} | ${s4(g.meanDelta)} | [${s4(g.deltaCi[0])}, ${s4(g.deltaCi[1])}] | 0.0% (0) | < 5.0% | passes |`,
        '',
        'Slices of region: **fails**; 3 of 3 slices judged (at least 1000 rows, at most the 50 largest, tolerance 0.0000).',
        '',
        '| Slice | Rows | Production | Candidate | Mean improvement | Improvement 95% interval | Resamples worse | Verdict |',
        '|---|---|---|---|---|---|---|---|',
        slice(north, '**fails**'),
        slice(south, 'passes'),
        slice(east, 'passes'),
        '',
        '',
      ],
    );
    assert.ok(md.includes('RMSE (lower is better) on 6000 rows, paired bootstrap (multinomial), 100 resamples, seed 42; 95% intervals.'));
  });

  it('bad flags exit 2 with the exact message', async () => {
    const cases: [string[], string][] = [
      [['--guardrail', 'rmse:0.1'], "--guardrail metric must be one of roc_auc, average_precision, log_loss, brier (--problem binary), got 'rmse'"],
      [['--guardrail', 'brier'], "--guardrail must be <metric>:<max worsening>, e.g. brier:0.002, got 'brier'"],
      [['--guardrail', 'brier:-1'], "--guardrail brier needs a max worsening of 0 or more (in the metric's units), got -1"],
      [['--guardrail', 'brier:0.1', '--guardrail', 'brier:0.2'], '--guardrail lists brier twice'],
      [['--problem', 'ordinal'], "--problem must be one of binary, regression, multiclass, got 'ordinal'"],
      [['--problem', 'regression', '--metric', 'roc_auc'], "--metric (--problem regression) must be one of rmse, mae, r2, mape, got 'roc_auc'"],
      [['--problem', 'regression', '--method', 'delong'], '--method delong applies to binary roc_auc only, not to regression'],
      [['--min-slice-rows', '10'], '--min-slice-rows applies to slices: give the slice columns with --slice <column>'],
      [['--slice', 'segment', '--slice-tolerance', '-0.1'], "--slice-tolerance must be 0 or more (in the metric's units), got -0.1"],
      [['--slice', 'segment', '--slice', 'segment'], "--slice lists 'segment' twice"],
      [['--slice', 'label'], "--slice names the label column 'label'"],
      [['--slice', 'prod', '--baseline', 'prod'], "--slice and --baseline name the same column 'prod'; a slice column is never a model"],
      [['--slice', 'segment', '--models', 'prod,segment'], "--models lists the slice column 'segment'; a slice column is never a model"],
      [['--exclude', 'cubed', '--models', 'prod,cubed'], "--models lists 'cubed', which --exclude leaves out"],
    ];
    for (const [extra, message] of cases) {
      const r = await cli(['compare', 'bin.arrow', ...extra], FILES);
      assert.deepEqual([r.code, r.stdout, r.stderr], [2, '', `mlops-eval: ${message}\nRun 'mlops-eval --help' for the options.\n`], extra.join(' '));
    }
    // A slice column missing from the file is a data error (no --help hint).
    const missing = await cli(['compare', 'bin.arrow', '--slice', 'country'], FILES);
    assert.deepEqual([missing.code, missing.stderr], [2, "mlops-eval: there is no slice column 'country' (columns: label, prod, cubed, segment)\n"]);
  });

  it('parses the new flags into the engine options; binary defaults are unchanged', () => {
    const p = parseArgs([
      'compare',
      'p.parquet',
      '--problem',
      'multiclass',
      '--guardrail=log_loss:0.01',
      '--slice',
      'a',
      '--slice',
      'b',
      '--min-slice-rows',
      '200',
      '--slice-tolerance',
      '0.02',
    ]);
    assert.deepEqual(
      [p.opts.problemType, p.opts.metric, p.opts.minDelta, p.opts.guardrails, p.slices, p.opts.minSliceRows, p.opts.sliceTolerance],
      ['multiclass', 'roc_auc_ovr', 0, [{ metric: 'log_loss', maxWorsening: 0.01 }], ['a', 'b'], 200, 0.02],
    );
    assert.equal(parseArgs(['compare', 'p', '--problem', 'regression']).opts.metric, 'rmse');
    assert.equal('problemType' in parseArgs(['compare', 'p', '--problem', 'binary']).opts, false);
  });
});
