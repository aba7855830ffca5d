/**
 * Replaying a comparison made on Spark (issue 23) against a local predictions file, pure: no I/O.
 *
 * The notebook returns the sums JSON `mlopspipelines.spark-sums/v1` (docs/spark-notebook.md); `sparkSumsOf`
 * (spark-sums.ts: DeLong, the keyed bootstrap of log loss, Brier or ROC AUC) and `sparkRegressionSumsOf`
 * (spark-sums-regression.ts: RMSE or MAE, `"problem": "regression"`) compute the same JSON from a file with the
 * engine's own functions. A replay compares the two: the fingerprint first (binary: n, positives, Σ key,
 * Σ key·y, Σ ⌊s·2^40⌋ per model; regression: n, Σ key, the target's and each model's scale and scaled sum: if any
 * differs, the file does not hold the rows and predictions Spark compared), then every other field. The walk is generic (every field of either
 * JSON is compared, including fields added after this module), with two pieces of knowledge: the arrays indexed
 * by model are named by model, and `draws`-like lists (objects carrying a generator index `b`) are compared by
 * `b`, since the notebook lists the indices 0 … B−1 before the redraws while `sparkSumsOf` lists each index's
 * redraws right after it.
 *
 * `sumsOfReplayInput` accepts what a user has at hand: the sums JSON (a `spark-sums.json` file, or the exit
 * value's `result`), the notebook's whole exit value, or the Jobs API's `runs/get-output` response whose
 * `notebook_output.result` is the exit value as text (`NotebookOutput.result`, "the value passed to
 * dbutils.notebook.exit()", databricks-sdk-py `service/jobs.py`).
 */
import { SPARK_SUMS_FORMAT } from './spark-sums';

/** The input of a replay is not a usable sums JSON (wrong shape, a comparison on the agent, truncated). */
export class SparkReplayError extends Error {
  override name = 'SparkReplayError';
}

/** The sums found in a replay input, and which shape held them (for the user: "say which was read"). */
export interface ReplayInput {
  sums: Record<string, unknown>;
  /** `sums`: the sums JSON itself; `exit`: the notebook's exit value; `runOutput`: a `runs/get-output` response. */
  shape: 'sums' | 'exit' | 'runOutput';
  /** The shape in words, e.g. `the notebook's exit value (comparison "spark", 2,000 rows), its "result"`. */
  description: string;
  /** The model keys in the sums' order (s0 first). */
  models: string[];
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The sums JSON: its format and a list of distinct model keys (what a replay needs to read the file). */
function checkedSums(x: unknown, where: string): { sums: Record<string, unknown>; models: string[] } {
  if (!isObject(x)) throw new SparkReplayError(`${where} is not a JSON object`);
  if (x.format !== SPARK_SUMS_FORMAT) {
    throw new SparkReplayError(
      `${where} is not Spark sums: its format is ${JSON.stringify(x.format)?.slice(0, 60) ?? 'missing'}, expected '${SPARK_SUMS_FORMAT}'`,
    );
  }
  const models = x.models;
  if (!Array.isArray(models) || models.length === 0 || models.some((m) => typeof m !== 'string' || m === '')) {
    throw new SparkReplayError(`${where}: models must be a non-empty list of model keys`);
  }
  const dup = models.find((m, i) => models.indexOf(m) !== i);
  if (dup !== undefined) throw new SparkReplayError(`${where}: models lists '${String(dup)}' twice`);
  return { sums: x, models: models as string[] };
}

/** The notebook's exit value: `{"comparison": "spark", "rows", "local_row_limit", "result"}`. */
function fromExitValue(x: Record<string, unknown>, where: string): { sums: Record<string, unknown>; models: string[]; description: string } {
  if (x.comparison !== 'spark') {
    throw new SparkReplayError(
      `${where} is the exit value of a comparison on the agent (comparison ${JSON.stringify(x.comparison)?.slice(0, 40)}): it holds no Spark sums; compare its predictions file with mlops-eval compare`,
    );
  }
  if (x.result === undefined) {
    if (typeof x.result_path === 'string') {
      throw new SparkReplayError(
        `${where} names the sums file ${JSON.stringify(x.result_path).slice(0, 300)} (result_path) instead of holding them: download that file and pass it to --spark-sums`,
      );
    }
    throw new SparkReplayError(`${where} is an exit value with comparison "spark" but no result`);
  }
  const { sums, models } = checkedSums(x.result, `${where}'s result`);
  if (!(typeof x.rows === 'number' && String(x.rows) === sums.rows)) {
    throw new SparkReplayError(`${where} says ${String(x.rows)} rows but its result says ${String(sums.rows)}: the exit value does not add up`);
  }
  return { sums, models, description: `the notebook's exit value (comparison "spark", ${thousands(x.rows)} rows), its "result"` };
}

function parsedText(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SparkReplayError(`${where} is not JSON: ${(e as Error).message}`);
  }
}

/**
 * The sums in a replay input (parsed JSON), from any of its shapes; `where` names the input in messages.
 *
 * @throws SparkReplayError when the input holds no usable sums, saying why and what to pass instead.
 * @example
 * const { sums, models, description } = sumsOfReplayInput(JSON.parse(text), "'exit.json'");
 */
export function sumsOfReplayInput(json: unknown, where: string): ReplayInput {
  if (typeof json === 'string') {
    // The exit value as a JSON string literal (e.g. notebook_output.result copied with its quotes).
    const inner = sumsOfReplayInput(parsedText(json, `${where} (a JSON string)`), `${where} (a JSON string)`);
    return { ...inner, description: `a JSON string holding ${inner.description}` };
  }
  if (!isObject(json)) throw new SparkReplayError(`${where} is not a JSON object`);
  if (json.format !== undefined) return { ...checkedSums(json, where), shape: 'sums', description: `the sums JSON (${SPARK_SUMS_FORMAT})` };
  if (json.comparison !== undefined) return { ...fromExitValue(json, where), shape: 'exit' };
  const out = json.notebook_output;
  if (isObject(out)) {
    if (out.truncated === true)
      throw new SparkReplayError(`${where}: notebook_output.truncated is true: the exit value was cut at 5 MB, so the sums are incomplete`);
    if (typeof out.result !== 'string') throw new SparkReplayError(`${where}: notebook_output.result must be the exit value as text`);
    const exit = parsedText(out.result, `${where}'s notebook_output.result`);
    if (!isObject(exit)) throw new SparkReplayError(`${where}'s notebook_output.result is not a JSON object`);
    const inner = fromExitValue(exit, `${where}'s notebook_output.result`);
    return { ...inner, shape: 'runOutput', description: `a runs/get-output response; its notebook_output.result is ${inner.description}` };
  }
  throw new SparkReplayError(
    `${where} is neither Spark sums (format '${SPARK_SUMS_FORMAT}'), nor the notebook's exit value (comparison "spark"), nor a runs/get-output response (notebook_output)`,
  );
}

/** The options of the evaluation recorded in the sums, as a replay must repeat them. */
export interface ReplayOptions {
  /** `regression` for regression models (the sums say `"problem": "regression"`), `binary` for binary classifiers. */
  problem: 'binary' | 'regression';
  method: string;
  metric: string;
  seed: string | number;
  resamples: number;
}

/** An option of the replay that differs from the one the sums were computed with. */
export interface ReplayOptionMismatch {
  option: keyof ReplayOptions;
  /** The value the sums record (as text). */
  spark: string;
  /** The value given (as text). */
  given: string;
  /** The field of the sums that records it. */
  field: string;
}

/** The problem the sums are of: regression sums say `"problem": "regression"`, binary sums have no `problem` field. */
export function problemOfSums(sums: Record<string, unknown>): 'binary' | 'regression' {
  if (sums.problem === undefined) return 'binary';
  if (sums.problem === 'regression') return 'regression';
  throw new SparkReplayError(
    `the sums' problem is ${JSON.stringify(sums.problem)?.slice(0, 40)}: Spark sums are of binary classifiers (no problem) or "regression"`,
  );
}

/**
 * The first option of `opts` that the sums were not computed with: the problem (regression or binary), the method
 * (which of `delong` and `bootstrap` is set), then the bootstrap's metric, seed and resamples; undefined when they
 * agree. DeLong's sums record no metric (DeLong is ROC AUC), seed or resamples.
 */
export function replayOptionMismatch(sums: Record<string, unknown>, opts: ReplayOptions): ReplayOptionMismatch | undefined {
  const problem = problemOfSums(sums);
  if (opts.problem !== problem)
    return { option: 'problem', spark: problem, given: opts.problem, field: problem === 'regression' ? 'problem' : 'no problem field' };
  const method = sums.delong !== null && sums.delong !== undefined ? 'delong' : isObject(sums.bootstrap) ? 'bootstrap' : undefined;
  if (method === undefined) throw new SparkReplayError('the sums hold neither delong nor bootstrap sums');
  if (opts.method !== method) return { option: 'method', spark: method, given: opts.method, field: `${method} is set` };
  if (method === 'delong') return undefined;
  const b = sums.bootstrap as Record<string, unknown>;
  if (b.metric !== opts.metric) return { option: 'metric', spark: String(b.metric), given: opts.metric, field: 'bootstrap.metric' };
  if (b.seed !== String(opts.seed)) return { option: 'seed', spark: String(b.seed), given: String(opts.seed), field: 'bootstrap.seed' };
  if (b.resamples !== opts.resamples) return { option: 'resamples', spark: String(b.resamples), given: String(opts.resamples), field: 'bootstrap.resamples' };
  return undefined;
}

/** The first field where the Spark sums and the file's sums differ. */
export interface SumsDifference {
  /** The field, e.g. `fingerprint.scoreSums[1] (model run_abc)` or `bootstrap.draws[17] (b 17).losses[0] (model prod)`. */
  field: string;
  /** The value in the Spark sums, as text (a decimal string as its digits). */
  spark: string;
  /** The value in the file's sums, as text. */
  local: string;
  /** True when the field is in the fingerprint: the file does not hold the rows and scores Spark compared. */
  inFingerprint: boolean;
}

/**
 * Arrays indexed by model (s0 first): the fingerprint's score sums (binary) and prediction scales and sums
 * (regression), DeLong's component sums, a draw's loss sums, ROC AUC rank sums or average precision sums, the regression bootstrap's
 * per-model fixed-point scales and largest losses; and those indexed by a pair of models (r·M + s).
 */
const PER_MODEL = new Set([
  'scoreSums',
  'predictionScaleBits',
  'predictionSums',
  'positiveSums',
  'negativeSums',
  'losses',
  'rankSums',
  'apSums',
  'lossScaleBits',
  'maxLosses',
]);
const PER_PAIR = new Set(['positiveProducts', 'negativeProducts']);

function shown(x: unknown): string {
  if (typeof x === 'string') return /^-?[0-9]+$/.test(x) ? x : JSON.stringify(x);
  if (x === undefined) return 'nothing';
  if (Array.isArray(x)) return `a list of ${x.length}`;
  if (isObject(x)) return 'an object';
  return JSON.stringify(x);
}

/** A list whose items all carry an integer generator index `b` (the keyed bootstrap's draws). */
function isDrawList(x: unknown): x is Record<string, unknown>[] {
  return Array.isArray(x) && x.length > 0 && x.every((d) => isObject(d) && Number.isInteger(d.b));
}

interface Walk {
  models: string[];
  inFingerprint: boolean;
}

function itemLabel(key: string, i: number, length: number, w: Walk): string {
  const M = w.models.length;
  if (PER_MODEL.has(key) && length === M) return `[${i}] (model ${w.models[i]})`;
  if (PER_PAIR.has(key) && length === M * M) return `[${i}] (models ${w.models[Math.floor(i / M)]}, ${w.models[i % M]})`;
  return `[${i}]`;
}

/** Draws matched by `b` (both sorted by it); the label names the draw's position in the Spark list and its b. */
function drawsDifference(field: string, spark: Record<string, unknown>[], local: Record<string, unknown>[], w: Walk): SumsDifference | undefined {
  const order = (list: Record<string, unknown>[]) => list.map((d, i) => ({ d, i, b: d.b as number })).sort((x, y) => x.b - y.b);
  const [s, l] = [order(spark), order(local)];
  for (let k = 0; k < Math.max(s.length, l.length); k++) {
    if (s[k]?.b !== l[k]?.b) {
      const b = Math.min(s[k]?.b ?? Infinity, l[k]?.b ?? Infinity);
      const has = (x: { b: number } | undefined) => (x?.b === b ? 'a draw' : 'no draw');
      return { field: `${field} (b ${b})`, spark: has(s[k]), local: has(l[k]), inFingerprint: w.inFingerprint };
    }
    const diff = difference(`${field}[${s[k].i}] (b ${s[k].b})`, '', s[k].d, l[k].d, w);
    if (diff !== undefined) return diff;
  }
  return undefined;
}

function difference(field: string, key: string, spark: unknown, local: unknown, w: Walk): SumsDifference | undefined {
  if (isDrawList(spark) && isDrawList(local)) return drawsDifference(field, spark, local, w);
  if (Array.isArray(spark) && Array.isArray(local)) {
    for (let i = 0; i < Math.min(spark.length, local.length); i++) {
      const diff = difference(`${field}${itemLabel(key, i, spark.length, w)}`, '', spark[i], local[i], w);
      if (diff !== undefined) return diff;
    }
    return spark.length === local.length ? undefined : { field, spark: shown(spark), local: shown(local), inFingerprint: w.inFingerprint };
  }
  if (isObject(spark) && isObject(local)) {
    const keys = [...Object.keys(local), ...Object.keys(spark).filter((k) => !(k in local))];
    for (const k of keys) {
      const diff = difference(field === '' ? k : `${field}.${k}`, k, spark[k], local[k], w);
      if (diff !== undefined) return diff;
    }
    return undefined;
  }
  return spark === local ? undefined : { field, spark: shown(spark), local: shown(local), inFingerprint: w.inFingerprint };
}

/**
 * The first difference between the Spark sums and the sums `sparkSumsOf` computes from a file (both as parsed
 * JSON), or undefined when they are identical: the fingerprint's fields first, then every other field, in the
 * order of the file's sums (fields only Spark's JSON has come last).
 */
export function firstSumsDifference(spark: Record<string, unknown>, local: Record<string, unknown>): SumsDifference | undefined {
  const models = Array.isArray(spark.models) ? spark.models.map(String) : [];
  const fingerprint = difference('fingerprint', 'fingerprint', spark.fingerprint, local.fingerprint, { models, inFingerprint: true });
  if (fingerprint !== undefined) return fingerprint;
  const { fingerprint: _s, ...sparkRest } = spark;
  const { fingerprint: _l, ...localRest } = local;
  return difference('', '', sparkRest, localRest, { models, inFingerprint: false });
}
