/**
 * Honest synthetic models for the demo and the end-to-end tests: a data set drawn from a known logistic
 * process, and logistic-regression "training" that sees only some of the features. A candidate that
 * sees more of the informative features is better for a real reason, not because a number was typed in.
 */
import seedrandom from 'seedrandom';

/** The generating process: P(y=1 | x) = sigmoid(bias + Σ w_j x_j), x_j ~ N(0, 1). */
export const TRUE_WEIGHTS = [1.4, -1.1, 0.9, 0.6, -0.4, 0.25];
export const TRUE_BIAS = -0.3;

/**
 * The regional process (`generateDataset(..., { regions: true })`, the demo's data): every row also has a
 * region, drawn with these shares from its own random stream (so the features and the label draws stay those
 * of the plain process); the region shifts the log-odds, and in the south feature 1 has no effect. A model
 * that sees the region ranks better overall; one fitted without southern rows gets the south wrong.
 */
export const REGIONS = ['north', 'east', 'south', 'west'] as const;
export const REGION_SHARES = [0.3, 0.3, 0.15, 0.25];
export const REGION_SHIFT = [-0.8, 0, 1, 0.8];
const SOUTH = REGIONS.indexOf('south');
const SOUTH_WEIGHTS = TRUE_WEIGHTS.map((w, j) => (j === 1 ? 0 : w));

export interface Dataset {
  n: number;
  /** Row-major features, n × TRUE_WEIGHTS.length. */
  x: Float64Array;
  labels: Uint8Array;
  /** The regional process only: each row's index into REGIONS. */
  regions?: Uint8Array;
}

export interface LogisticModel {
  /** Indices of the features the model may use. */
  features: number[];
  weights: number[];
  bias: number;
  /** A model that uses the region: one log-odds term per REGIONS entry (0 for a region it never saw). */
  regionWeights?: number[];
}

export interface TrainOptions {
  epochs?: number;
  learningRate?: number;
  /** Also fit one term per region (the data set must be regional). */
  useRegion?: boolean;
  /** Fit on the rows of these regions only (default: every row). */
  trainingRegions?: string[];
  /** The weight of a positive row in the loss (class rebalancing; 1: none). */
  positiveWeight?: number;
}

function gaussian(rng: () => number): number {
  // Box–Muller; 1 - u keeps log away from 0.
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function drawRegion(rng: () => number): number {
  const u = rng();
  let acc = 0;
  for (let r = 0; r < REGION_SHARES.length - 1; r++) if (u < (acc += REGION_SHARES[r])) return r;
  return REGION_SHARES.length - 1;
}

/** Draws n rows from the generating process (or, with `regions`, the regional process) with the given seed. */
export function generateDataset(n: number, seed: string, opts: { regions?: boolean } = {}): Dataset {
  const rng = seedrandom.xor4096(seed);
  const regionRng = opts.regions ? seedrandom.xor4096(`${seed}:region`) : undefined;
  const d = TRUE_WEIGHTS.length;
  const x = new Float64Array(n * d);
  const labels = new Uint8Array(n);
  const regions = regionRng ? new Uint8Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    let z = TRUE_BIAS;
    let weights = TRUE_WEIGHTS;
    if (regions && regionRng) {
      regions[i] = drawRegion(regionRng);
      z += REGION_SHIFT[regions[i]];
      if (regions[i] === SOUTH) weights = SOUTH_WEIGHTS;
    }
    for (let j = 0; j < d; j++) {
      const v = gaussian(rng);
      x[i * d + j] = v;
      z += weights[j] * v;
    }
    labels[i] = rng() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return regions ? { n, x, labels, regions } : { n, x, labels };
}

/** The region names of a regional data set's rows. */
export function regionNames(data: Dataset): string[] {
  if (!data.regions) throw new Error('the data set has no regions (generateDataset with { regions: true })');
  return Array.from(data.regions, (r) => REGIONS[r]);
}

/** The rows a fit uses: every row, or those of the named regions. */
function trainingRows(data: Dataset, trainingRegions: string[] | undefined): number[] {
  const all = Array.from({ length: data.n }, (_, i) => i);
  if (!trainingRegions) return all;
  const regions = data.regions;
  if (!regions) throw new Error('trainingRegions needs a regional data set');
  const keep = new Set(trainingRegions.map((r) => REGIONS.indexOf(r as (typeof REGIONS)[number])));
  if (keep.has(-1)) throw new Error(`unknown region in ${trainingRegions.join(',')}; the regions are ${REGIONS.join(', ')}`);
  return all.filter((i) => keep.has(regions[i]));
}

/** Fits a logistic regression on the allowed features (and, with useRegion, the region) by full-batch gradient descent. */
export function trainLogistic(data: Dataset, features: number[], opts: TrainOptions = {}): LogisticModel {
  const epochs = opts.epochs ?? 200;
  const lr = opts.learningRate ?? 0.5;
  const positiveWeight = opts.positiveWeight ?? 1;
  const d = TRUE_WEIGHTS.length;
  const regions = opts.useRegion ? data.regions : undefined;
  if (opts.useRegion && !regions) throw new Error('useRegion needs a regional data set');
  const rows = trainingRows(data, opts.trainingRegions);
  // The loss is the weighted mean over the rows used (with no options: the plain mean over every row).
  const total = rows.reduce((t, i) => t + (data.labels[i] ? positiveWeight : 1), 0);
  const w = new Array(features.length).fill(0);
  const rw = new Array(REGIONS.length).fill(0);
  let b = 0;
  for (let e = 0; e < epochs; e++) {
    const gw = new Array(features.length).fill(0);
    const grw = new Array(REGIONS.length).fill(0);
    let gb = 0;
    for (const i of rows) {
      let z = b + (regions ? rw[regions[i]] : 0);
      for (let k = 0; k < features.length; k++) z += w[k] * data.x[i * d + features[k]];
      const err = (1 / (1 + Math.exp(-z)) - data.labels[i]) * (data.labels[i] ? positiveWeight : 1);
      gb += err;
      if (regions) grw[regions[i]] += err;
      for (let k = 0; k < features.length; k++) gw[k] += err * data.x[i * d + features[k]];
    }
    b -= (lr * gb) / total;
    for (let k = 0; k < features.length; k++) w[k] -= (lr * gw[k]) / total;
    for (let r = 0; r < REGIONS.length; r++) rw[r] -= (lr * grw[r]) / total;
  }
  return { features: [...features], weights: w, bias: b, ...(regions ? { regionWeights: rw } : {}) };
}

/** Class-1 probabilities of a model on a data set. */
export function predictProba(model: LogisticModel, data: Dataset): Float64Array {
  const d = TRUE_WEIGHTS.length;
  const out = new Float64Array(data.n);
  const regions = model.regionWeights ? data.regions : undefined;
  if (model.regionWeights && !regions) throw new Error('the model uses the region: score it on a regional data set');
  for (let i = 0; i < data.n; i++) {
    let z = model.bias + (regions ? model.regionWeights![regions[i]] : 0);
    for (let k = 0; k < model.features.length; k++) z += model.weights[k] * data.x[i * d + model.features[k]];
    out[i] = 1 / (1 + Math.exp(-z));
  }
  return out;
}
