/**
 * The notebook's keyed regression SQL (the regression section of tasks/DatabricksEvaluatePromoteV1/notebooks/
 * spark_sql.py) is the engine's (src/engine/spark/regression-sql.ts) character for character, and its scale rule
 * (`regression_scale_bits`, from math.frexp) gives the engine's `regressionScaleBits` on every kind of double.
 * Rendered through test/spark/python/render_sql.py with the system python3, as python-sql.test.ts does.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import {
  regressionLossSql,
  renderKeyedRegressionSumsSql,
  renderRegressionFingerprintMaxSql,
  renderRegressionFingerprintSql,
  renderRegressionLossTotalsSql,
  renderRegressionMaxLossSql,
  renderRegressionRowLossesSql,
  scaledFixedPointSql,
  truncatedFixedPointSql,
  type SqlRegressionLoss,
} from '../../src/engine/spark/regression-sql';
import type { GeneratorIndices, SqlDialect, SqlSource } from '../../src/engine/spark/sql';
import { regressionScaleBits } from '../../src/engine';

const ROOT = path.resolve(__dirname, '..', '..', '..');

interface Case {
  fn: string;
  args: unknown[];
  want: string | { error: string };
}

function renderPython(cases: { fn: string; args: unknown[] }[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', [path.join(ROOT, 'test', 'spark', 'python', 'render_sql.py')], {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as unknown[]) : reject(new Error(`python3 exited ${String(code)}: ${err}`))));
    child.stdin.end(JSON.stringify(cases));
  });
}

function attempt(f: () => string): string | { error: string } {
  try {
    return f();
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const py = (s: SqlSource): Record<string, unknown> => ({ table: s.table, key: s.key, label: s.label, scores: s.scores });
const pyIndices = (i: GeneratorIndices): unknown => (Array.isArray(i) ? i : { count: i.count });

const SOURCES: SqlSource[] = [
  { table: 'mlops_eval_scores', key: 'k', label: 'y', scores: ['s0'] },
  { table: 'main.eval.preds', key: 'row_id', label: 'label', scores: ['prod', 'cand'] },
  { table: 'cat_1.Schema_2.T3', key: '_key', label: 'Target_2', scores: ['m_0', 'M1', 'x_2'] },
];
const SCALES = [0, 1, 52, 61, 62, 63, 124, 125, 1022, -1, -62, -63, -944, -971];
const DIALECTS: SqlDialect[] = ['spark', 'duckdb'];
const LOSSES: SqlRegressionLoss[] = ['rmse', 'mae'];
const INDICES: GeneratorIndices[] = [{ count: 1 }, { count: 200 }, [3, 2 ** 20 + 3, 15 * 2 ** 20 + 7]];

function cases(): Case[] {
  const out: Case[] = [];
  const add = (fn: string, args: unknown[], f: () => string): void => void out.push({ fn, args, want: attempt(f) });
  for (const s of SCALES) {
    add('scaled_fixed_point_sql', ['x', s], () => scaledFixedPointSql('x', s));
    add('truncated_fixed_point_sql', ['CAST(`v` AS DOUBLE)', s], () => truncatedFixedPointSql('CAST(`v` AS DOUBLE)', s));
  }
  for (const d of DIALECTS) {
    SOURCES.forEach((src, si) => {
      const M = src.scores.length;
      const scales = (k: number): number[] => Array.from({ length: M }, (_, m) => SCALES[(m * 5 + k + si) % SCALES.length]);
      add('render_regression_fingerprint_max_sql', [d, py(src)], () => renderRegressionFingerprintMaxSql(d, src));
      add('render_regression_fingerprint_sql', [d, py(src), -900, scales(3)], () => renderRegressionFingerprintSql(d, src, -900, scales(3)));
      for (const loss of LOSSES) {
        add('regression_loss_sql', [d, loss, src.scores[0], src.label], () => regressionLossSql(d, loss, src.scores[0], src.label));
        add('render_regression_max_loss_sql', [d, py(src), loss], () => renderRegressionMaxLossSql(d, src, loss));
        add('render_regression_row_losses_sql', [d, py(src), loss, scales(1)], () => renderRegressionRowLossesSql(d, src, loss, scales(1)));
        add('render_regression_loss_totals_sql', [d, py(src), loss, scales(2)], () => renderRegressionLossTotalsSql(d, src, loss, scales(2)));
        INDICES.forEach((ix, ii) => {
          const seed = ['42', 7, 'sëed ✓'][ii];
          add('render_keyed_regression_sums_sql', [d, py(src), seed, loss, scales(ii), pyIndices(ix)], () =>
            renderKeyedRegressionSumsSql(d, src, seed, loss, scales(ii), ix),
          );
        });
      }
    });
  }
  return out;
}

function refusals(): Case[] {
  const src = SOURCES[1];
  const out: Case[] = [];
  const add = (fn: string, args: unknown[], f: () => string): void => void out.push({ fn, args, want: attempt(f) });
  add('scaled_fixed_point_sql', ['x', 1023], () => scaledFixedPointSql('x', 1023));
  add('scaled_fixed_point_sql', ['x', 1.5], () => scaledFixedPointSql('x', 1.5));
  add('render_regression_max_loss_sql', ['spark', py(src), 'r2'], () => renderRegressionMaxLossSql('spark', src, 'r2' as SqlRegressionLoss));
  add('render_keyed_regression_sums_sql', ['spark', py(src), 1, 'rmse', [1], { count: 1 }], () =>
    renderKeyedRegressionSumsSql('spark', src, 1, 'rmse', [1], { count: 1 }),
  );
  add('render_keyed_regression_sums_sql', ['spark', py(src), 1, 'rmse', [1, 2], [2 ** 24]], () =>
    renderKeyedRegressionSumsSql('spark', src, 1, 'rmse', [1, 2], [2 ** 24]),
  );
  add('render_regression_loss_totals_sql', ['spark', py({ ...src, table: 'x; DROP TABLE y' }), 'mae', [1, 2]], () =>
    renderRegressionLossTotalsSql('spark', { ...src, table: 'x; DROP TABLE y' }, 'mae', [1, 2]),
  );
  add('render_regression_fingerprint_max_sql', ['oracle', py(src)], () => renderRegressionFingerprintMaxSql('oracle' as SqlDialect, src));
  return out;
}

describe("the notebook's keyed regression SQL (spark_sql.py) is the engine's, string for string", function () {
  this.timeout(120_000);

  it('every regression renderer gives identical text in Python and TypeScript: scales from -971 to 1022, 1–3 models, both losses and dialects', async () => {
    const all = cases();
    assert.ok(all.length > 100, `${all.length} cases`);
    assert.ok(all.every((c) => typeof c.want === 'string'));
    const got = await renderPython(all);
    all.forEach((c, i) => assert.equal(got[i], c.want, `${c.fn} #${i} ${JSON.stringify(c.args).slice(0, 200)}`));
  });

  it('both refuse the same bad parameters with the same message', async () => {
    const all = refusals();
    assert.ok(all.every((c) => typeof c.want === 'object'));
    assert.deepEqual(
      await renderPython(all),
      all.map((c) => c.want),
    );
  });

  it('regression_scale_bits (math.frexp) is regressionScaleBits on powers of two, their neighbours, subnormals and the extremes', async () => {
    const xs = [0, 1, 2, 3, 4, 0.25, 1e300, Number.MAX_VALUE, 5e-324, 2 ** -1022, 2 ** -1030 * 3, 1e-300, 123456.789];
    for (let e = -1074; e <= 1023; e += 37) {
      const p = 2 ** e;
      xs.push(p, p * (1 + 2 ** -52), p * (1 - 2 ** -53));
    }
    const finite = xs.filter((x) => x < Infinity);
    const got = await renderPython([...finite.map((x) => ({ fn: 'regression_scale_bits', args: [x] })), { fn: 'regression_scale_bits', args: ['Infinity'] }]);
    assert.deepEqual(got.slice(0, -1), finite.map(regressionScaleBits));
    // An overflowed maximum (Spark's +Infinity, passed as text since JSON has no infinity) is refused with the engine's message.
    assert.deepEqual(
      got[got.length - 1],
      attempt(() => String(regressionScaleBits(Infinity))),
    );
  });
});
