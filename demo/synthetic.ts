/**
 * Honest synthetic models for the demo and the end-to-end tests: a data set drawn from a known logistic
 * process, and logistic-regression "training" that sees only some of the features. A candidate that
 * sees more of the informative features is better for a real reason, not because a number was typed in.
 */
import seedrandom from 'seedrandom';

/** The generating process: P(y=1 | x) = sigmoid(bias + Σ w_j x_j), x_j ~ N(0, 1). */
export const TRUE_WEIGHTS = [1.4, -1.1, 0.9, 0.6, -0.4, 0.25];
export const TRUE_BIAS = -0.3;

export interface Dataset {
  n: number;
  /** Row-major features, n × TRUE_WEIGHTS.length. */
  x: Float64Array;
  labels: Uint8Array;
}

export interface LogisticModel {
  /** Indices of the features the model may use. */
  features: number[];
  weights: number[];
  bias: number;
}

function gaussian(rng: () => number): number {
  // Box–Muller; 1 - u keeps log away from 0.
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Draws n rows from the generating process with the given seed. */
export function generateDataset(n: number, seed: string): Dataset {
  const rng = seedrandom.xor4096(seed);
  const d = TRUE_WEIGHTS.length;
  const x = new Float64Array(n * d);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let z = TRUE_BIAS;
    for (let j = 0; j < d; j++) {
      const v = gaussian(rng);
      x[i * d + j] = v;
      z += TRUE_WEIGHTS[j] * v;
    }
    labels[i] = rng() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { n, x, labels };
}

/** Fits a logistic regression on the allowed features by full-batch gradient descent. */
export function trainLogistic(data: Dataset, features: number[], opts: { epochs?: number; learningRate?: number } = {}): LogisticModel {
  const epochs = opts.epochs ?? 200;
  const lr = opts.learningRate ?? 0.5;
  const d = TRUE_WEIGHTS.length;
  const w = new Array(features.length).fill(0);
  let b = 0;
  for (let e = 0; e < epochs; e++) {
    const gw = new Array(features.length).fill(0);
    let gb = 0;
    for (let i = 0; i < data.n; i++) {
      let z = b;
      for (let k = 0; k < features.length; k++) z += w[k] * data.x[i * d + features[k]];
      const err = 1 / (1 + Math.exp(-z)) - data.labels[i];
      gb += err;
      for (let k = 0; k < features.length; k++) gw[k] += err * data.x[i * d + features[k]];
    }
    b -= (lr * gb) / data.n;
    for (let k = 0; k < features.length; k++) w[k] -= (lr * gw[k]) / data.n;
  }
  return { features: [...features], weights: w, bias: b };
}

/** Class-1 probabilities of a model on a data set. */
export function predictProba(model: LogisticModel, data: Dataset): Float64Array {
  const d = TRUE_WEIGHTS.length;
  const out = new Float64Array(data.n);
  for (let i = 0; i < data.n; i++) {
    let z = model.bias;
    for (let k = 0; k < model.features.length; k++) z += model.weights[k] * data.x[i * d + model.features[k]];
    out[i] = 1 / (1 + Math.exp(-z));
  }
  return out;
}
