import assert from 'node:assert/strict';
import { erfc, normalCdf, normalQuantile, normalSf, percentileInterval, quantileSorted } from '../../src/engine';

// Reference values: scipy 1.10.1 (scipy.special.erfc, scipy.stats.norm.ppf / norm.cdf), printed with repr().
const ERFC: [number, number][] = [
  [0, 1.0],
  [0.1, 0.8875370839817152],
  [0.5, 0.4795001221869535],
  [1, 0.15729920705028516],
  [1.5, 0.03389485352468927],
  [2, 0.004677734981047266],
  [2.5, 0.00040695201744495886],
  [3, 2.2090496998585445e-5],
  [4, 1.541725790028002e-8],
  [5, 1.5374597944280347e-12],
  [6, 2.1519736712498913e-17],
  [8, 1.1224297172982928e-29],
  [10, 2.0884875837625446e-45],
  [20, 5.395865611607901e-176],
];
const PPF: [number, number][] = [
  [0.5, 0],
  [0.6, 0.2533471031357997],
  [0.9, 1.2815515655446004],
  [0.95, 1.6448536269514722],
  [0.975, 1.959963984540054],
  [0.995, 2.5758293035489004],
  [0.9995, 3.2905267314919255],
  [1e-10, -6.361340902404056],
  [0.02425, -1.972961051311885],
  [0.97575, 1.972961051311885],
];

const rel = (a: number, b: number): number => (b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b));

describe('normal distribution helpers against scipy', () => {
  for (const [x, want] of ERFC) {
    it(`erfc(${x}) = ${want} to 1e-13 relative (and erfc(-x) = 2 - erfc(x))`, () => {
      assert.ok(rel(erfc(x), want) < 1e-13, `erfc(${x}) = ${erfc(x)}`);
      assert.ok(Math.abs(erfc(-x) - (2 - want)) < 1e-15);
    });
  }
  for (const [p, want] of PPF) {
    it(`normalQuantile(${p}) = ${want} to 1e-14 relative`, () => {
      assert.ok(rel(normalQuantile(p), want) < 1e-14 || Math.abs(normalQuantile(p) - want) < 1e-15, `${normalQuantile(p)}`);
    });
  }
  it('normalCdf and normalSf match scipy in the centre and the tails', () => {
    assert.ok(rel(normalCdf(-3), 0.0013498980316300933) < 1e-13);
    assert.ok(rel(normalCdf(1.96), 0.9750021048517795) < 1e-15);
    assert.ok(rel(normalCdf(-8.5), 9.47953482220325e-18) < 1e-12);
    assert.ok(rel(normalSf(8.5), 9.47953482220325e-18) < 1e-12);
    assert.ok(rel(normalCdf(-30), 4.906713927147908e-198) < 1e-11);
    assert.ok(Math.abs(normalCdf(-1.2815515655446004) - 0.1) < 1e-15);
  });
});

describe('percentiles (numpy default, linear interpolation)', () => {
  it('quantileSorted matches np.percentile on small arrays', () => {
    const x = new Float64Array([1, 2, 3, 4]);
    assert.equal(quantileSorted(x, 0.5), 2.5);
    assert.equal(quantileSorted(x, 0), 1);
    assert.equal(quantileSorted(x, 1), 4);
    assert.equal(quantileSorted(x, 0.025), 1.075); // np.percentile([1,2,3,4], 2.5)
    assert.ok(Math.abs(quantileSorted(x, 0.975) - 3.925) < 1e-15);
  });
  it('percentileInterval(values, 0.9) does not sort its input', () => {
    const v = [5, 1, 4, 2, 3];
    assert.deepEqual(percentileInterval(v, 0.9), [1.2, 4.8]);
    assert.deepEqual(v, [5, 1, 4, 2, 3]);
  });
});
