import assert from 'node:assert/strict';
import {
  InvalidOptionsError,
  compareModels,
  compareModelsParallel,
  runBootstrapParallel,
  type CompareOptions,
  type PreparedBootstrap,
  type Predictions,
} from '../../src/engine';
import { simulateModels } from './simulate';

describe('worker threads (compareModelsParallel)', function () {
  this.timeout(60000);
  const { labels, scores } = simulateModels({ n: 5000, aucs: [0.74, 0.75, 0.76], rho: 0.7, prevalence: 0.25, seed: 'parallel' });
  const preds: Predictions = { n: 5000, labels, columns: ['prod', 'c1', 'c2'].map((name, i) => ({ name, scores: scores[i] })) };
  const probs: Predictions = { ...preds, columns: preds.columns.map((c) => ({ name: c.name, scores: c.scores.map((x) => 1 / (1 + Math.exp(-x))) })) };
  const OPTS: CompareOptions = {
    baseline: 'prod',
    metric: 'roc_auc',
    method: 'bootstrap',
    resamples: 203,
    seed: 'threads',
    winRate: 0.9,
    minDelta: 0,
    confidence: 0.95,
  };

  for (const [metric, scheme] of [
    ['roc_auc', 'multinomial'],
    ['average_precision', 'poisson'],
    ['log_loss', 'multinomial'],
    ['brier', 'poisson'],
  ] as const) {
    it(`${metric}/${scheme}: 2 and 3 threads give byte-identical JSON to the single-threaded run`, async () => {
      const data = metric === 'log_loss' || metric === 'brier' ? probs : preds;
      const opts = { ...OPTS, metric, bootstrap: scheme };
      const single = JSON.stringify(compareModels(data, opts));
      assert.equal(JSON.stringify(await compareModelsParallel(data, { ...opts, threads: 2 })), single);
      assert.equal(JSON.stringify(await compareModelsParallel(data, { ...opts, threads: 3 })), single);
    });
  }

  it('threads: 1 and DeLong run on the calling thread with the same result', async () => {
    assert.equal(JSON.stringify(await compareModelsParallel(preds, { ...OPTS, threads: 1 })), JSON.stringify(compareModels(preds, OPTS)));
    const delong = { ...OPTS, method: 'delong' as const };
    assert.equal(JSON.stringify(await compareModelsParallel(preds, { ...delong, threads: 2 })), JSON.stringify(compareModels(preds, delong)));
  });

  it('rejects an invalid thread count', async () => {
    await assert.rejects(compareModelsParallel(preds, { ...OPTS, threads: 0 }), InvalidOptionsError);
    await assert.rejects(compareModelsParallel(preds, { ...OPTS, threads: 1.5 }), /threads must be an integer/);
  });

  it('an error thrown by the kernel in a worker rejects the promise with its message', async () => {
    // Labels with no positive at all (which validation never lets through): every draw is degenerate,
    // so the kernel gives up after its redraw limit and throws inside the worker.
    const shared = <T>(C: new (b: SharedArrayBuffer) => T, bytes: number): T => new C(new SharedArrayBuffer(bytes));
    const prep: PreparedBootstrap = {
      n: 4,
      metric: 'roc_auc',
      scheme: 'multinomial',
      models: ['a'],
      estimates: [0.5],
      labels: shared(Uint8Array, 4),
      orders: [shared(Int32Array, 16)],
      losses: [],
    };
    await assert.rejects(runBootstrapParallel(prep, 1, 8, 2), /consecutive draws of resample \d held a single class/);
  });
});
