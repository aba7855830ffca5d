/**
 * `mlops-eval compare --bootstrap keyed-poisson --row-key <column>`: the built CLI (dist/cli, from
 * `npm run build`) on Arrow files with a 64-bit key column; the decision is the engine's, and a shuffled
 * file gives the same output byte for byte.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { compareModels, readPredictions } from '../../src/engine';
import { parseArgs } from '../../src/cli/main';
import { simulateModels } from './simulate';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/cli/mlops-eval.js');

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mlops-eval --bootstrap keyed-poisson --row-key', function () {
  this.timeout(120000);
  let dir: string;
  const n = 2000;
  const { labels, scores } = simulateModels({ n, aucs: [0.72, 0.76], rho: 0.6, prevalence: 0.3, seed: 'keyed-cli' });
  const sig = (x: number): number => 1 / (1 + Math.exp(-x));
  const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 2654435761 + 5) % 2 ** 40));
  const write = (name: string, order: number[], idValues: BigInt64Array = ids): string => {
    const file = path.join(dir, name);
    const table = tableFromArrays({
      label: Int32Array.from(order, (i) => labels[i]),
      prod: Float64Array.from(order, (i) => sig(scores[0][i])),
      cand: Float64Array.from(order, (i) => sig(scores[1][i])),
      id: BigInt64Array.from(order, (i) => idValues[i]),
    });
    writeFileSync(file, tableToIPC(table, 'file'));
    return file;
  };
  const ARGS = ['--baseline', 'prod', '--bootstrap', 'keyed-poisson', '--row-key', 'id', '--resamples', '200', '--seed', 'cli-seed', '--json'];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mlops-eval-keyed-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the engine decision (keyedPoisson, the id column not a model), the same for a shuffled file', () => {
    const order = [...Array(n).keys()];
    const file = write('in-order.arrow', order);
    const r = run(['compare', file, ...ARGS]);
    assert.equal(r.code, 0, r.stderr);
    const preds = readPredictions(new Uint8Array(readFileSync(file)), { rowKeyColumn: 'id' });
    assert.deepEqual(
      preds.columns.map((c) => c.name),
      ['prod', 'cand'],
    );
    assert.ok(preds.rowKey!.values instanceof BigInt64Array);
    const expected = compareModels(preds, {
      baseline: 'prod',
      metric: 'roc_auc',
      method: 'bootstrap',
      bootstrap: 'keyedPoisson',
      resamples: 200,
      seed: 'cli-seed',
      winRate: 0.95,
      minDelta: 0.001,
      confidence: 0.95,
    });
    assert.equal(r.stdout, `${JSON.stringify(expected)}\n`);
    assert.equal(expected.bootstrap, 'keyedPoisson');
    const reversed = run(['compare', write('reversed.arrow', order.reverse()), ...ARGS]);
    assert.equal(reversed.code, 0, reversed.stderr);
    assert.equal(reversed.stdout, r.stdout);
  });

  it('refuses a missing or misplaced --row-key and bad keys, exit code 2, with the fix', () => {
    const file = write('keys.arrow', [...Array(n).keys()]);
    const bad = (args: string[], re: RegExp): void => {
      const r = run(['compare', file, ...args]);
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, re);
    };
    bad(['--bootstrap', 'keyed-poisson'], /--bootstrap keyed-poisson needs --row-key <column>/);
    bad(['--row-key', 'id'], /--row-key applies to --bootstrap keyed-poisson only/);
    bad(['--bootstrap', 'keyed-poisson', '--row-key', 'nope'], /there is no row key column 'nope'/);
    bad(['--bootstrap', 'keyed-poisson', '--row-key', 'id', '--models', 'prod,id'], /--models lists the row key column 'id'/);
    bad(['--bootstrap', 'keyed-poisson', '--row-key', 'label'], /--row-key names the label column 'label'/);
    const dup = BigInt64Array.from(ids);
    dup[9] = dup[4];
    const dupFile = write('dup.arrow', [...Array(n).keys()], dup);
    const r = run(['compare', dupFile, '--bootstrap', 'keyed-poisson', '--row-key', 'id']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`row key column 'id' has the key ${dup[4]} more than once`));
    const big = BigInt64Array.from(ids);
    big[3] = 2n ** 40n;
    const bigFile = write('big.arrow', [...Array(n).keys()], big);
    const r2 = run(['compare', bigFile, '--bootstrap', 'keyed-poisson', '--row-key', 'id']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /row key column 'id' has 1099511627776 at row 3; row keys must be integers from 0 to 2\^40 - 1/);
  });

  it('parseArgs maps keyed-poisson to the engine scheme and keeps the row key out of the options', () => {
    const p = parseArgs(['compare', 'f.arrow', '--bootstrap', 'keyed-poisson', '--row-key', 'id']);
    assert.equal(p.opts.bootstrap, 'keyedPoisson');
    assert.equal((p as { rowKey?: string }).rowKey, 'id');
    assert.throws(
      () => parseArgs(['compare', 'f.arrow', '--bootstrap', 'keyed-poisson', '--row-key', 'id', '--method', 'delong']),
      /applies to --method bootstrap, not delong/,
    );
  });
});
