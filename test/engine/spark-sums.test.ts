/**
 * The finisher from Spark sums (src/engine/spark-sums.ts): fed the sums the engine's own functions compute
 * (`sparkSumsOf`: delongSumsOf, keyedLossSums), passed through JSON text as the notebook returns them, it gives
 * the decision the local `compareModels` gives on the same rows. Keyed bootstrap: the whole decision deepEqual.
 * DeLong: every field deepEqual except the models' own intervals (`models[].ci`), which come from the
 * covariance matrix (exact numerators rounded once versus centred double sums) and are compared within 1e-12;
 * the AUCs, the AUC difference, its variance, z, p, share, gate bound, delta interval, decision and reason are
 * identical. Then every validation error, exactly.
 */
import assert from 'node:assert/strict';
import {
  aucSums,
  compareModels,
  exactRankSum,
  finishFromSums,
  sortOrder,
  sparkMethodOf,
  sparkSumsOf,
  SparkSumsError,
  type CompareOptions,
  type Decision,
  type Predictions,
} from '../../src/engine';
import { lcg } from '../helpers/lcg';

/** n rows, prevalence `p`, three probability models (production, a better and a worse candidate), with ties and sparse keys. */
function predictions(n: number, seed: number, p = 0.3): Predictions {
  const rnd = lcg(seed);
  const labels = new Uint8Array(n);
  const cols = [new Float64Array(n), new Float64Array(n), new Float32Array(n)];
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = rnd() < p ? 1 : 0;
    cols[0][i] = Math.round((0.6 * rnd() + 0.2 * labels[i] + 0.1) * 100) / 100;
    cols[1][i] = Math.min(0.999, (0.5 * rnd() + 0.35 * labels[i] + 0.05) * 1.0);
    cols[2][i] = 0.7 * rnd() + 0.1 * labels[i] + 0.1;
    keys[i] = (2654435761 * i + 977) % 2 ** 40;
  }
  return {
    n,
    labels,
    columns: [
      { name: 'run_b', scores: cols[2] },
      { name: 'production', scores: cols[0] },
      { name: 'run_a', scores: cols[1] },
    ],
    rowKey: { name: 'id', values: keys },
  };
}

/** The models in the order the task sends them: candidates (run-id order), then production. */
const MODELS = ['run_a', 'run_b', 'production'];

const BASE: Omit<CompareOptions, 'metric' | 'method'> = {
  baseline: 'production',
  candidates: ['run_a', 'run_b'],
  resamples: 200,
  seed: 7,
  winRate: 0.9,
  minDelta: 0,
  confidence: 0.95,
};

/** The sums as the notebook returns them: JSON text, every big integer a decimal string. */
function sumsText(preds: Predictions, opts: CompareOptions): unknown {
  return JSON.parse(JSON.stringify(sparkSumsOf(preds, MODELS, opts)));
}

function withoutModelIntervals(d: Decision): unknown {
  return { ...d, models: d.models.map(({ ci: _ci, ...rest }) => rest) };
}

function assertDelongSame(preds: Predictions, opts: CompareOptions): Decision {
  const local = compareModels(preds, opts);
  const finished = finishFromSums(sumsText(preds, opts), MODELS, opts);
  assert.deepEqual(withoutModelIntervals(finished), withoutModelIntervals(local));
  for (let i = 0; i < local.models.length; i++) {
    const [a, b] = [finished.models[i].ci, local.models[i].ci];
    if (a === undefined || b === undefined) {
      assert.equal(a, b);
      continue;
    }
    assert.ok(Math.abs(a[0] - b[0]) <= 1e-12 && Math.abs(a[1] - b[1]) <= 1e-12, `${local.models[i].name}: ${a} vs ${b}`);
  }
  return local;
}

describe('finishing a comparison from Spark sums (spark-sums.ts)', () => {
  it('DeLong, 3 models with a baseline: the same AUCs, difference, variance, z, p and decision as the local path', () => {
    const preds = predictions(3000, 11);
    const local = assertDelongSame(preds, { ...BASE, metric: 'roc_auc', method: 'delong' });
    assert.equal(local.decision, 'promote');
    assert.equal(local.best, 'run_a');
    assert.ok(local.models[1].vsBaseline!.z! > 5);
  });

  it('keyed bootstrap of roc_auc on ties only and one positive: deepEqual; the sums carry rankSums (u2 = twice U), not losses', () => {
    const tied = predictions(400, 31);
    for (const c of tied.columns) c.scores = Float64Array.from(c.scores, (x) => Math.round(x * 3) / 3);
    const opts: CompareOptions = { ...BASE, metric: 'roc_auc', method: 'bootstrap', bootstrap: 'keyedPoisson', resamples: 100 };
    assert.deepEqual(finishFromSums(sumsText(tied, opts), MODELS, opts), compareModels(tied, opts));
    const one = predictions(50, 32);
    one.labels.fill(0);
    one.labels[20] = 1;
    const local = compareModels(one, opts);
    assert.ok(local.degenerateResamples > 10);
    assert.deepEqual(finishFromSums(sumsText(one, opts), MODELS, opts), local);
    const s = sumsText(one, opts) as any;
    assert.deepEqual(Object.keys(s.bootstrap.draws[0]), ['b', 'weight', 'positiveWeight', 'rankSums']);
    assert.deepEqual(Object.keys(s.bootstrap.full), ['weight', 'positiveWeight', 'rankSums']);
    // The full data: u2 = 2U; with one positive, twice the negatives below it plus the tied ones.
    const names = ['run_a', 'run_b', 'production'];
    assert.deepEqual(
      s.bootstrap.full.rankSums,
      names.map((name) => {
        const col = one.columns.find((c) => c.name === name)!.scores;
        let u2 = 0;
        for (let r = 0; r < 50; r++) if (one.labels[r] === 0) u2 += col[r] < col[20] ? 2 : col[r] === col[20] ? 1 : 0;
        return String(u2);
      }),
    );
  });

  it('keyed bootstrap of average_precision on ties only and one positive: deepEqual; the sums carry apSums (exactApSum), not rankSums or losses', () => {
    const tied = predictions(400, 31);
    for (const c of tied.columns) c.scores = Float64Array.from(c.scores, (x) => Math.round(x * 3) / 3);
    const opts: CompareOptions = { ...BASE, metric: 'average_precision', method: 'bootstrap', bootstrap: 'keyedPoisson', resamples: 100 };
    assert.deepEqual(finishFromSums(sumsText(tied, opts), MODELS, opts), compareModels(tied, opts));
    const one = predictions(50, 32);
    one.labels.fill(0);
    one.labels[20] = 1;
    const local = compareModels(one, opts);
    assert.ok(local.degenerateResamples > 10);
    assert.deepEqual(finishFromSums(sumsText(one, opts), MODELS, opts), local);
    const s = sumsText(one, opts) as any;
    assert.deepEqual(Object.keys(s.bootstrap.draws[0]), ['b', 'weight', 'positiveWeight', 'apSums']);
    assert.deepEqual(Object.keys(s.bootstrap.full), ['weight', 'positiveWeight', 'apSums']);
    // The full data with one positive: ⌊2^56 / (rows scored at or above it)⌋.
    assert.deepEqual(
      s.bootstrap.full.apSums,
      MODELS.map((name) => {
        const col = one.columns.find((c) => c.name === name)!.scores;
        let atOrAbove = 0;
        for (let r = 0; r < 50; r++) if (col[r] >= col[20]) atOrAbove++;
        return String(2n ** 56n / BigInt(atOrAbove));
      }),
    );
  });

  it('exactRankSum is aucSums u2 below 2^53 and exact beyond (BigInt), where aucSums rounds', () => {
    // Two rows, one positive above one negative, weights 2^27 each: u2 = 2·2^54 per pair ... one group term of 2^55.
    const order = sortOrder(Float64Array.of(0.1, 0.9), Uint8Array.of(0, 1));
    assert.equal(exactRankSum(order, [2 ** 27, 2 ** 28 + 1]), 2n * BigInt(2 ** 27) * BigInt(2 ** 28 + 1));
    const preds = predictions(3000, 41);
    const w = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) % 5);
    for (const c of preds.columns) {
      const o = sortOrder(c.scores, preds.labels);
      assert.equal(exactRankSum(o, w), BigInt(aucSums(o, null, w).u2));
    }
    // Many groups whose running total passes 2^52: the BigInt flush keeps every unit.
    const n = 4000;
    const scores = Float64Array.from({ length: n }, (_, i) => i);
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 2);
    const big = Float64Array.from({ length: n }, () => 2 ** 24 + 1);
    let want = 0n;
    let negBelow = 0n;
    for (let i = 0; i < n; i++) {
      if (labels[i] === 1) want += BigInt(2 ** 24 + 1) * 2n * negBelow;
      else negBelow += BigInt(2 ** 24 + 1);
    }
    assert.ok(want > 2n ** 53n);
    assert.equal(exactRankSum(sortOrder(scores, labels), big), want);
  });

  it('DeLong without a baseline (candidates in the caller order) and with one positive (undetermined variance)', () => {
    const preds = predictions(500, 12);
    assertDelongSame(preds, { ...BASE, baseline: undefined, candidates: ['run_b', 'production', 'run_a'], metric: 'roc_auc', method: 'delong' });
    const one = predictions(40, 13);
    one.labels.fill(0);
    one.labels[5] = 1;
    const d = assertDelongSame(one, { ...BASE, metric: 'roc_auc', method: 'delong' });
    assert.equal(d.decision, 'keep');
    assert.match(d.models[1].vsBaseline!.undetermined!, /1 positive and 39 negatives/);
  });

  for (const metric of ['brier', 'log_loss', 'roc_auc', 'average_precision'] as const) {
    it(`keyed Poisson bootstrap of ${metric}: the whole decision deepEqual to the local keyed path`, () => {
      const preds = predictions(2000, 21);
      const opts: CompareOptions = { ...BASE, metric, method: 'bootstrap', bootstrap: 'keyedPoisson' };
      const local = compareModels(preds, opts);
      assert.deepEqual(finishFromSums(sumsText(preds, opts), MODELS, opts), local);
      assert.equal(local.decision, 'promote');
      assert.equal(local.best, 'run_a');
    });
  }

  for (const metric of ['brier', 'roc_auc', 'average_precision'] as const)
    it(`keyed bootstrap of ${metric} with redraws (12 rows, 2 positives) and without a baseline: deepEqual, redraws counted alike`, () => {
      const preds = predictions(12, 5, 0.2);
      preds.labels.fill(0);
      preds.labels[3] = 1;
      preds.labels[9] = 1;
      const opts: CompareOptions = { ...BASE, metric, method: 'bootstrap', bootstrap: 'keyedPoisson', resamples: 300 };
      const local = compareModels(preds, opts);
      assert.ok(local.degenerateResamples > 10, `redraws: ${local.degenerateResamples}`);
      assert.deepEqual(finishFromSums(sumsText(preds, opts), MODELS, opts), local);
      const noBase: CompareOptions = { ...opts, baseline: undefined, candidates: ['run_b', 'run_a', 'production'] };
      assert.deepEqual(finishFromSums(sumsText(preds, noBase), MODELS, noBase), compareModels(preds, noBase));
    });

  describe('validation (fail closed, exact messages)', () => {
    const preds = predictions(60, 3);
    const boot: CompareOptions = { ...BASE, metric: 'brier', method: 'bootstrap', bootstrap: 'keyedPoisson', resamples: 5 };
    const delong: CompareOptions = { ...BASE, metric: 'roc_auc', method: 'delong' };
    const auc: CompareOptions = { ...boot, metric: 'roc_auc' };
    const ap: CompareOptions = { ...boot, metric: 'average_precision' };
    const W0 = Number((sumsText(preds, auc) as any).bootstrap.draws[0].weight);
    const P = String(preds.labels.reduce((a, y) => a + y, 0));

    function rejects(opts: CompareOptions, edit: (s: any) => void, message: string, models = MODELS): void {
      const s = sumsText(preds, opts) as any;
      edit(s);
      assert.throws(
        () => finishFromSums(s, models, opts),
        (e: Error) => {
          assert.ok(e instanceof SparkSumsError, String(e));
          assert.equal(e.message, `The Spark sums are not usable: ${message}`);
          return true;
        },
      );
    }

    const cases: Array<[string, CompareOptions, (s: any) => void, string]> = [
      ['format', boot, (s) => (s.format = 'x/v2'), `format must be 'mlopspipelines.spark-sums/v1', got "x/v2"`],
      ['generator', boot, (s) => (s.generator = 2), "generator must be 1 (the keyed Poisson generator's version), got 2"],
      ['lossScaleBits', boot, (s) => (s.lossScaleBits = 32), 'lossScaleBits must be 40, got 32'],
      ['rows not a string', boot, (s) => (s.rows = 60), 'rows must be a non-negative integer as a decimal string, got 60'],
      ['rows with a sign', boot, (s) => (s.rows = '+60'), 'rows must be a non-negative integer as a decimal string, got "+60"'],
      ['one class', boot, (s) => (s.positives = '0'), 'the rows hold only one class (0 positives in 60 rows); a comparison needs both'],
      [
        'models order',
        boot,
        (s) => (s.models = ['run_b', 'run_a', 'production']),
        'models must be ["run_a","run_b","production"] (the keys sent, in their order), got ["run_b","run_a","production"]',
      ],
      ['fingerprint rows', boot, (s) => (s.fingerprint.rows = '61'), 'fingerprint.rows and fingerprint.positives must equal rows and positives'],
      ['fingerprint scoreSums', boot, (s) => s.fingerprint.scoreSums.pop(), 'fingerprint.scoreSums must be a list of 3 decimal strings, got 2 items'],
      ['fingerprint keySum', boot, (s) => (s.fingerprint.keySum = '1.5'), 'fingerprint.keySum must be a non-negative integer as a decimal string, got "1.5"'],
      ['metric', boot, (s) => (s.bootstrap.metric = 'log_loss'), 'bootstrap.metric is "log_loss", but the comparison is on brier'],
      ['seed', boot, (s) => (s.bootstrap.seed = '8'), 'bootstrap.seed is "8", but the comparison\'s seed is "7"'],
      ['seed64', boot, (s) => (s.bootstrap.seed64 = '1'), 'bootstrap.seed64 is "1", not the generator\'s 16036580565902201040 for seed "7"'],
      ['resamples', boot, (s) => (s.bootstrap.resamples = 6), 'bootstrap.resamples is 6, but the comparison asks for 5'],
      ['full', boot, (s) => (s.bootstrap.full.weight = '59'), 'bootstrap.full must have weight 60 and positiveWeight ' + P + ' (every row once)'],
      ['a draw missing', boot, (s) => s.bootstrap.draws.splice(2, 1), 'bootstrap.draws has no draw 2 (resample 2, attempt 0)'],
      ['a draw twice', boot, (s) => s.bootstrap.draws.push({ ...s.bootstrap.draws[0] }), 'bootstrap.draws holds the generator index 0 twice'],
      [
        'an unused draw',
        boot,
        (s) => s.bootstrap.draws.push({ ...s.bootstrap.draws[0], b: 2 ** 20 }),
        'bootstrap.draws holds 1 draw(s) no resample uses (first index 1048576)',
      ],
      ['a bad index', boot, (s) => (s.bootstrap.draws[0].b = -1), 'bootstrap.draws[0].b must be a generator index, got -1'],
      [
        'a loss as a number',
        boot,
        (s) => (s.bootstrap.draws[1].losses[0] = 5),
        'bootstrap.draws[1].losses[0] must be a non-negative integer as a decimal string, got 5',
      ],
      ['losses too short', boot, (s) => s.bootstrap.draws[1].losses.pop(), 'bootstrap.draws[1].losses must be a list of 3 decimal strings, got 2 items'],
      [
        'rankSums in a loss draw',
        boot,
        (s) => (s.bootstrap.draws[1].rankSums = ['0', '0', '0']),
        'bootstrap.draws[1].rankSums is not part of a brier draw (its sums are losses)',
      ],
      [
        'losses in an AUC draw',
        auc,
        (s) => (s.bootstrap.draws[2].losses = ['0', '0', '0']),
        'bootstrap.draws[2].losses is not part of a roc_auc draw (its sums are rankSums)',
      ],
      ['rankSums missing', auc, (s) => delete s.bootstrap.draws[0].rankSums, 'bootstrap.draws[0].rankSums must be a list of 3 decimal strings, got undefined'],
      ['rankSums too long', auc, (s) => s.bootstrap.full.rankSums.push('1'), 'bootstrap.full.rankSums must be a list of 3 decimal strings, got 4 items'],
      [
        'rankSums a number',
        auc,
        (s) => (s.bootstrap.draws[3].rankSums[2] = 12),
        'bootstrap.draws[3].rankSums[2] must be a non-negative integer as a decimal string, got 12',
      ],
      [
        'rankSums above 2·PosW·NegW',
        auc,
        (s) => (s.bootstrap.full.rankSums[1] = String(2 * Number(P) * (60 - Number(P)) + 1)),
        `bootstrap.full.rankSums[1] is ${2 * Number(P) * (60 - Number(P)) + 1}, above 2·positiveWeight·negativeWeight = ${2 * Number(P) * (60 - Number(P))}`,
      ],
      [
        'positiveWeight above weight',
        auc,
        (s) => (s.bootstrap.draws[0].positiveWeight = String(Number(s.bootstrap.draws[0].weight) + 1)),
        `bootstrap.draws[0].positiveWeight ${W0 + 1} is above its weight ${W0}`,
      ],
      [
        'rankSums in an AP draw',
        ap,
        (s) => (s.bootstrap.draws[1].rankSums = ['0', '0', '0']),
        'bootstrap.draws[1].rankSums is not part of a average_precision draw (its sums are apSums)',
      ],
      ['apSums missing', ap, (s) => delete s.bootstrap.full.apSums, 'bootstrap.full.apSums must be a list of 3 decimal strings, got undefined'],
      [
        'apSums above positiveWeight·2^56',
        ap,
        (s) => (s.bootstrap.full.apSums[2] = String(BigInt(P) * 2n ** 56n + 1n)),
        `bootstrap.full.apSums[2] is ${BigInt(P) * 2n ** 56n + 1n}, above positiveWeight·2^56 = ${BigInt(P) * 2n ** 56n}`,
      ],
      [
        'AP positiveWeight above weight',
        ap,
        (s) => (s.bootstrap.draws[0].positiveWeight = String(Number(s.bootstrap.draws[0].weight) + 1)),
        `bootstrap.draws[0].positiveWeight ${W0 + 1} is above its weight ${W0}`,
      ],
      [
        'apSums negative',
        ap,
        (s) => (s.bootstrap.draws[2].apSums[0] = '-1'),
        'bootstrap.draws[2].apSums[0] must be a non-negative integer as a decimal string, got "-1"',
      ],
      ['an AUC draw missing', auc, (s) => s.bootstrap.draws.splice(4, 1), 'bootstrap.draws has no draw 4 (resample 4, attempt 0)'],
      ['metric of AUC sums', auc, (s) => (s.bootstrap.metric = 'brier'), 'bootstrap.metric is "brier", but the comparison is on roc_auc'],
      ['delong present', boot, (s) => (s.delong = {}), 'delong must be null for a bootstrap comparison'],
      ['bootstrap missing', boot, (s) => (s.bootstrap = null), 'bootstrap must be an object'],
      ['bootstrap present', delong, (s) => (s.bootstrap = {}), 'bootstrap must be null for a DeLong comparison'],
      [
        'delong counts',
        delong,
        (s) => (s.delong.positives += 1),
        `delong.positives and delong.negatives must be ${P} and ${60 - Number(P)}, got ${Number(P) + 1} and ${60 - Number(P)}`,
      ],
      ['delong products', delong, (s) => s.delong.positiveProducts.pop(), 'delong.positiveProducts must be a list of 9 decimal strings, got 8 items'],
      [
        'delong sum negative',
        delong,
        (s) => (s.delong.positiveSums[0] = '-4'),
        'delong.positiveSums[0] must be a non-negative integer as a decimal string, got "-4"',
      ],
      ['not an object', delong, (s) => (s.fingerprint = []), 'fingerprint must be an object'],
    ];
    for (const [name, opts, edit, message] of cases) it(name, () => rejects(opts, edit, message));

    it('models sent that the sums do not name, a multinomial bootstrap, and what sparkMethodOf admits (every binary metric by the bootstrap, DeLong on ROC AUC)', () => {
      rejects(boot, () => undefined, 'models must be ["run_a","production"] (the keys sent, in their order), got ["run_a","run_b","production"]', [
        'run_a',
        'production',
      ]);
      rejects(
        { ...boot, bootstrap: 'multinomial' },
        () => undefined,
        "the bootstrap from Spark sums is the keyed Poisson bootstrap; set bootstrap 'keyedPoisson'",
      );
      assert.deepEqual(
        (['roc_auc', 'average_precision', 'log_loss', 'brier'] as const).flatMap((metric) =>
          (['delong', 'bootstrap'] as const).map((method) => sparkMethodOf({ metric, method }) ?? null),
        ),
        ['delong', 'bootstrap', null, 'bootstrap', null, 'bootstrap', null, 'bootstrap'],
      );
    });

    it('DeLong sums whose class sums disagree (both must be 2U)', () => {
      const s = sumsText(preds, delong) as any;
      const [a, b] = [s.delong.positiveSums[0], String(BigInt(s.delong.negativeSums[0]) + 1n)];
      rejects(
        delong,
        (x) => (x.delong.negativeSums[0] = b),
        `delong: the positive and negative component sums of 'run_a' differ (${a} vs ${b}); both must be twice its Mann-Whitney U`,
      );
    });
  });
});
