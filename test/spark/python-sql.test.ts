/**
 * The notebook's SQL (tasks/DatabricksEvaluatePromoteV1/notebooks/spark_sql.py) is the engine's SQL
 * (src/engine/spark/sql.ts) character for character: many parameter sets are rendered by both and the
 * strings must be identical. The DuckDB rendering of the same templates is checked for integer equality
 * with the engine in sql.test.ts, so this ties the statements the notebook sends to Spark to the tested
 * ones. Python runs as the system python3, like the notebook tests.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import {
  delongBucketOffsets,
  fixedPointLossSql,
  keyedWeightCtes,
  renderDelongBucketTotalsSql,
  renderDelongCutPointsSql,
  renderDelongSumsSql,
  renderFingerprintSql,
  renderKeyedHashSql,
  renderKeyedLossSumsSql,
  renderKeyedRankSumsSql,
  renderKeyedApSumsSql,
  renderApTotalsSql,
  renderLossTotalsSql,
  renderRankTotalsSql,
  renderRowKeyCheckSql,
  renderRowLossesSql,
  type CutPoints,
  type GeneratorIndices,
  type SqlDialect,
  type SqlLoss,
  type SqlSource,
} from '../../src/engine/spark/sql';
import { keyedSeed64Decimal } from '../../src/engine';

const ROOT = path.resolve(__dirname, '..', '..', '..');

interface Case {
  fn: string;
  args: unknown[];
  /** The TypeScript rendering, or the message of its error. */
  want: string | { error: string };
}

function renderPython(cases: Case[]): Promise<unknown[]> {
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
    child.stdin.end(JSON.stringify(cases.map(({ fn, args }) => ({ fn, args }))));
  });
}

function attempt(f: () => string): string | { error: string } {
  try {
    return f();
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** A source as the Python side takes it (a dict with the same fields). */
const py = (s: SqlSource): Record<string, unknown> => ({ table: s.table, key: s.key, label: s.label, scores: s.scores });
const pyIndices = (i: GeneratorIndices): unknown => (Array.isArray(i) ? i : { count: i.count });

const SOURCES: SqlSource[] = [
  { table: 'mlops_eval_scores', key: 'k', label: 'y', scores: ['s0'] },
  { table: 'main.eval.preds', key: 'row_id', label: 'label', scores: ['prod', 'cand'] },
  { table: 'cat_1.Schema_2.T3', key: '_key', label: 'Is_Fraud', scores: ['m_0', 'M1', 'x_2'] },
  { table: 'v', key: 'K9', label: 'y_', scores: ['a', 'b', 'c', 'd'] },
];
const SEEDS: (string | number)[] = ['42', 42, 0, 'seed-1', '', 'sëed ✓ 🎲', 1.5, 2 ** 40 + 3, 'release-2024-05'];
const DIALECTS: SqlDialect[] = ['spark', 'duckdb'];
const INDICES: GeneratorIndices[] = [{ count: 1 }, { count: 200 }, { count: 2 ** 24 }, [0], [3, 2 ** 20 + 3, 15 * 2 ** 20 + 7], [2 ** 24 - 1, 0, 5]];
const CUTS: ((m: number) => CutPoints)[] = [
  (m) => Array.from({ length: m }, () => []),
  (m) => Array.from({ length: m }, (_, i) => [0.1 * (i + 1), 0.5, 0.5, 0.9]),
  (m) => Array.from({ length: m }, (_, i) => [-1, 2 ** -60 * (i + 1), 1 / 3, 1e21, -2.5e-7, 123456789.125]),
  (m) => Array.from({ length: m }, (_, i) => Array.from({ length: 1000 }, (__, j) => (j * 7919 + i) / 1e4 - 0.3)),
];

function lossesFor(m: number, k: number): SqlLoss[] {
  return Array.from({ length: m }, (_, i) => ((i + k) % 2 === 0 ? 'log_loss' : 'brier'));
}

function cases(): Case[] {
  const out: Case[] = [];
  const add = (fn: string, args: unknown[], f: () => string): void => void out.push({ fn, args, want: attempt(f) });
  for (const d of DIALECTS) {
    for (const seed of SEEDS) {
      add('render_keyed_hash_sql', [d, seed, 'vec'], () => renderKeyedHashSql(d, seed, 'vec'));
      add('keyed_weight_ctes', [d, seed, 'kp_rows', ['k', 'y', 'q0'], '(SELECT 1 AS b)'], () =>
        keyedWeightCtes(d, seed, 'kp_rows', ['k', 'y', 'q0'], '(SELECT 1 AS b)').join('\n--\n'),
      );
    }
    SOURCES.forEach((src, si) => {
      const M = src.scores.length;
      add('render_row_key_check_sql', [d, py(src)], () => renderRowKeyCheckSql(d, src));
      add('render_fingerprint_sql', [d, py(src)], () => renderFingerprintSql(d, src));
      for (const k of [0, 1]) {
        const losses = lossesFor(M, k);
        add('render_loss_totals_sql', [d, py(src), losses], () => renderLossTotalsSql(d, src, losses));
        add('render_row_losses_sql', [d, py(src), losses], () => renderRowLossesSql(d, src, losses));
        add('fixed_point_loss_sql', [d, losses[0], src.scores[0], src.label], () => fixedPointLossSql(d, losses[0], src.scores[0], src.label));
        INDICES.forEach((ix, ii) => {
          const seed = SEEDS[(si + ii + k) % SEEDS.length];
          add('render_keyed_loss_sums_sql', [d, py(src), seed, losses, pyIndices(ix)], () => renderKeyedLossSumsSql(d, src, seed, losses, ix));
        });
      }
      for (const buckets of [2, 3, 7, 10, 1000, 1001])
        add('render_delong_cut_points_sql', [d, py(src), buckets], () => renderDelongCutPointsSql(d, src, buckets));
      CUTS.forEach((mk, ci) => {
        const cuts = mk(M);
        add('render_delong_bucket_totals_sql', [d, py(src), cuts], () => renderDelongBucketTotalsSql(d, src, cuts));
        const totals = cuts.flatMap((c, m) => Array.from({ length: c.length + 1 }, (_, bk) => ({ m, bk, pos: (bk * 3 + ci) % 5, neg: (bk * 7 + ci) % 4 })));
        const offsets = delongBucketOffsets(totals, M);
        add('render_delong_sums_sql', [d, py(src), cuts, offsets], () => renderDelongSumsSql(d, src, cuts, offsets));
        add('render_rank_totals_sql', [d, py(src), cuts], () => renderRankTotalsSql(d, src, cuts));
        add('render_ap_totals_sql', [d, py(src), cuts], () => renderApTotalsSql(d, src, cuts));
        INDICES.forEach((ix, ii) => {
          if ((ii + ci) % 2 === 1) return;
          const seed = SEEDS[(si + ii + ci) % SEEDS.length];
          add('render_keyed_rank_sums_sql', [d, py(src), seed, cuts, pyIndices(ix)], () => renderKeyedRankSumsSql(d, src, seed, cuts, ix));
          add('render_keyed_ap_sums_sql', [d, py(src), seed, cuts, pyIndices(ix)], () => renderKeyedApSumsSql(d, src, seed, cuts, ix));
        });
      });
    });
  }
  return out;
}

/** Parameters both sides must refuse, with the same message. */
function refusals(): Case[] {
  const src = SOURCES[1];
  const out: Case[] = [];
  const add = (fn: string, args: unknown[], f: () => string): void => void out.push({ fn, args, want: attempt(f) });
  add('render_keyed_loss_sums_sql', ['spark', py({ ...src, table: 'x; DROP TABLE y' }), 1, ['brier', 'brier'], { count: 1 }], () =>
    renderKeyedLossSumsSql('spark', { ...src, table: 'x; DROP TABLE y' }, 1, ['brier', 'brier'], { count: 1 }),
  );
  add('render_fingerprint_sql', ['spark', py({ ...src, key: 'a`b' })], () => renderFingerprintSql('spark', { ...src, key: 'a`b' }));
  add('render_keyed_loss_sums_sql', ['spark', py(src), 1, ['brier', 'brier'], [2 ** 24]], () =>
    renderKeyedLossSumsSql('spark', src, 1, ['brier', 'brier'], [2 ** 24]),
  );
  add('render_keyed_loss_sums_sql', ['spark', py(src), 1, ['brier', 'brier'], { count: 0 }], () =>
    renderKeyedLossSumsSql('spark', src, 1, ['brier', 'brier'], { count: 0 }),
  );
  add('render_keyed_loss_sums_sql', ['spark', py(src), 1, ['brier'], { count: 3 }], () => renderKeyedLossSumsSql('spark', src, 1, ['brier'], { count: 3 }));
  add('render_delong_cut_points_sql', ['spark', py(src), 1002], () => renderDelongCutPointsSql('spark', src, 1002));
  add('render_delong_bucket_totals_sql', ['spark', py(src), [[]]], () => renderDelongBucketTotalsSql('spark', src, [[]]));
  add('render_loss_totals_sql', ['spark', py(src), ['brier', 'hinge']], () => renderLossTotalsSql('spark', src, ['brier', 'hinge' as SqlLoss]));
  add('render_row_key_check_sql', ['oracle', py(src)], () => renderRowKeyCheckSql('oracle' as SqlDialect, src));
  add('render_keyed_rank_sums_sql', ['spark', py(src), 1, [[0.5]], { count: 3 }], () => renderKeyedRankSumsSql('spark', src, 1, [[0.5]], { count: 3 }));
  add('render_keyed_rank_sums_sql', ['spark', py(src), 1, [[], []], [2 ** 24]], () => renderKeyedRankSumsSql('spark', src, 1, [[], []], [2 ** 24]));
  add('render_keyed_rank_sums_sql', ['duckdb', py({ ...src, label: 'a b' }), 1, [[], []], { count: 3 }], () =>
    renderKeyedRankSumsSql('duckdb', { ...src, label: 'a b' }, 1, [[], []], { count: 3 }),
  );
  add('render_rank_totals_sql', ['spark', py(src), [[], Array.from({ length: 1001 }, (_, j) => j)]], () =>
    renderRankTotalsSql('spark', src, [[], Array.from({ length: 1001 }, (_, j) => j)]),
  );
  add('render_rank_totals_sql', ['spark', py(src), [[], [], []]], () => renderRankTotalsSql('spark', src, [[], [], []]));
  add('render_keyed_ap_sums_sql', ['spark', py(src), 1, [[0.5]], { count: 3 }], () => renderKeyedApSumsSql('spark', src, 1, [[0.5]], { count: 3 }));
  add('render_keyed_ap_sums_sql', ['duckdb', py({ ...src, key: 'a"b' }), 1, [[], []], { count: 3 }], () =>
    renderKeyedApSumsSql('duckdb', { ...src, key: 'a"b' }, 1, [[], []], { count: 3 }),
  );
  add('render_ap_totals_sql', ['spark', py(src), [[], Array.from({ length: 1001 }, (_, j) => j)]], () =>
    renderApTotalsSql('spark', src, [[], Array.from({ length: 1001 }, (_, j) => j)]),
  );
  return out;
}

describe("the notebook's SQL (spark_sql.py) is the engine's SQL, string for string", function () {
  this.timeout(120_000);

  it('every renderer gives identical text in Python and TypeScript: 9 seeds (text, unicode, numbers), 1–4 models, odd names, cut points with duplicates, offsets, index lists and counts, both losses, keyed rank and AP sums, both dialects', async () => {
    const all = cases();
    assert.equal(all.length, 564);
    assert.ok(all.every((c) => typeof c.want === 'string'));
    const got = await renderPython(all);
    assert.equal(got.length, all.length);
    all.forEach((c, i) => assert.equal(got[i], c.want, `${c.fn} #${i} ${JSON.stringify(c.args).slice(0, 200)}`));
  });

  it('both refuse the same bad parameters with the same message (nothing is rendered)', async () => {
    const all = refusals();
    assert.ok(all.every((c) => typeof c.want === 'object'));
    const got = await renderPython(all);
    assert.deepEqual(
      got,
      all.map((c) => c.want),
    );
  });

  it('numbers are written as JavaScript writes them, and seed64 of a seed is keyedSeed64Decimal', async () => {
    let s = 12345;
    const rnd = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 4294967296);
    const numbers = [0, -0, 1, -1, 0.1, 1 / 3, 1e21, 1e20, 123e18, 1e-6, 1e-7, 1.5e-7, 2 ** -1074, Number.MAX_VALUE, 2 ** 53 + 2, 0.5, 100];
    for (let i = 0; i < 400; i++) numbers.push((rnd() - 0.5) * 10 ** Math.floor(rnd() * 60 - 30));
    const seeds = [...SEEDS, '-1', 'x'.repeat(300)];
    const got = await renderPython([
      ...numbers.map((x) => ({ fn: 'js_number', args: [x], want: '' })),
      ...seeds.map((x) => ({ fn: 'seed64', args: [x], want: '' })),
    ]);
    assert.deepEqual(got, [...numbers.map(String), ...seeds.map((x) => keyedSeed64Decimal(x))]);
  });
});
