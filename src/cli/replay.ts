/**
 * `mlops-eval compare <file> --spark-sums <sums.json> --row-key <column>`: replays a comparison made on Spark
 * (issue 23; docs/scale-out.md, "Replaying a Spark evaluation"). The sums the notebook returned are compared with
 * those the engine computes from the file (`sparkSumsOf` for binary classifiers: DeLong, the keyed bootstrap of log
 * loss, Brier or ROC AUC; `sparkRegressionSumsOf` for regression RMSE or MAE, with `--problem regression`): the
 * fingerprint first, then every other field (`firstSumsDifference`, src/engine/spark-replay.ts). The first
 * difference is named on stderr, exit code 4 when it is in the fingerprint (the file does not hold the rows and
 * predictions Spark compared), 5 otherwise. When everything is equal, the decision printed is `finishFromSums` (or
 * `finishRegressionFromSums`) of the Spark sums: the one the task took.
 */
import {
  finishFromSums,
  finishRegressionFromSums,
  PredictionsError,
  sparkRegressionSumsOf,
  sparkSumsOf,
  SparkSumsError,
  type AnyMetric,
  type CompareOptions,
  type Decision,
  type KeyedRegressionMetric,
  type Predictions,
  type RegressionPredictions,
} from '../engine';
import {
  firstSumsDifference,
  problemOfSums,
  replayOptionMismatch,
  SparkReplayError,
  sumsOfReplayInput,
  type ReplayInput,
  type ReplayOptionMismatch,
  type SumsDifference,
} from '../engine/spark-replay';
import { formatInteger } from '../engine/format';
import { readAnyPredictionsChunked, type ChunkedFile } from '../io/predictions-file';
import type { CliIo, Parsed } from './main';
import { writeReports } from './report-files';
import { formatTable } from './table';
import { EXIT, UsageError } from './usage';

/** Errors of the replay that are bad input (exit code 2). */
export function isReplayInputError(e: unknown): e is Error {
  return e instanceof SparkReplayError || e instanceof SparkSumsError;
}

/** Options of `compare` that a comparison on Spark has no counterpart for (the models come from the sums). */
const NOT_WITH_REPLAY: Record<string, string> = {
  '--models': "the models are the sums' models list, matched to the file's columns by name",
  '--weight': 'a comparison on Spark takes no row weights',
  '--slice': 'a comparison on Spark has no slices',
  '--guardrail': 'a comparison on Spark has no guardrails',
  '--exclude': "only the sums' models are read",
  '--threads': 'a replay runs no bootstrap of its own',
  '--min-slice-rows': 'a comparison on Spark has no slices',
  '--slice-tolerance': 'a comparison on Spark has no slices',
};

/** Refuses, before anything is read, the options that do not apply to --spark-sums. */
export function checkReplayFlags(values: Map<string, string>, lists: Map<string, string[]>): void {
  for (const [flag, why] of Object.entries(NOT_WITH_REPLAY)) {
    if (values.has(flag) || lists.has(flag)) throw new UsageError(`${flag} does not apply to --spark-sums: ${why}`);
  }
  const problem = values.get('--problem');
  if (problem !== undefined && problem !== 'binary' && problem !== 'regression') {
    throw new UsageError(`--problem ${problem} does not apply to --spark-sums: a comparison on Spark compares binary classifiers or regression models`);
  }
  const metric = values.get('--metric');
  if (problem === undefined && (metric === 'rmse' || metric === 'mae')) {
    throw new UsageError(`--metric ${metric} is a regression metric: to replay regression sums add --problem regression`);
  }
}

/** Reads and parses the --spark-sums file and finds the sums in it. */
function readInput(file: string, io: CliIo): ReplayInput {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(io.readFile(file));
  } catch (e) {
    throw new UsageError(`cannot read '${file}' (--spark-sums): ${(e as Error).message}`, false);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`'${file}' (--spark-sums) is not JSON: ${(e as Error).message}`, false);
  }
  return sumsOfReplayInput(json, `'${file}'`);
}

/** The message for an option the sums were not computed with; the problem says which kind of sums were given. */
function mismatchMessage(m: ReplayOptionMismatch): string {
  if (m.option === 'problem') {
    return m.spark === 'regression'
      ? 'the Spark sums are of regression models ("problem": "regression"): add --problem regression (with the evaluation\'s --metric rmse or mae)'
      : 'the Spark sums are of binary classifiers (they have no "problem": "regression"): leave out --problem regression';
  }
  return (
    `--${m.option} is ${m.given}, but the Spark sums were computed with ${m.option} ${m.spark} (${m.field}): ` +
    `give the options of the evaluation that made them (--${m.option} ${m.spark})`
  );
}

/** The evaluation's options as the sums record them; a difference names the option to change. */
function checkOptions(input: ReplayInput, parsed: Parsed): void {
  const o = parsed.opts;
  const seed = o.seed ?? 42;
  const problem = o.problemType === 'regression' ? 'regression' : 'binary';
  const mismatch = replayOptionMismatch(input.sums, { problem, method: o.method ?? 'bootstrap', metric: o.metric, seed, resamples: o.resamples ?? 1000 });
  if (mismatch !== undefined) throw new UsageError(mismatchMessage(mismatch));
  if (o.method !== 'delong' && o.bootstrap !== 'keyedPoisson') {
    throw new UsageError('the Spark sums are of the keyed Poisson bootstrap: add --bootstrap keyed-poisson');
  }
  if (o.baseline !== undefined && !input.models.includes(o.baseline)) {
    throw new UsageError(`--baseline '${o.baseline}' is not among the Spark sums' models (${input.models.join(', ')})`);
  }
}

function wholeFile(bytes: Uint8Array): ChunkedFile {
  return { size: bytes.length, head: bytes, chunks: () => [bytes], whole: () => bytes };
}

/** The file's label (the target for regression), the sums' models (by name, in their order) and the row key. */
async function readFile(parsed: Parsed, models: string[], io: CliIo): Promise<Predictions | RegressionPredictions> {
  let file: ChunkedFile;
  try {
    file = io.openFile ? io.openFile(parsed.file) : wholeFile(io.readFile(parsed.file));
  } catch (e) {
    throw new UsageError(`cannot read '${parsed.file}': ${(e as Error).message}`, false);
  }
  try {
    const problem = parsed.opts.problemType === 'regression' ? { problemType: 'regression' as const } : {};
    const opts = { labelColumn: parsed.label, scoreColumns: models, rowKeyColumn: parsed.rowKey!, ...problem };
    // Binary predictions unless --problem regression (checked against the sums' problem before this).
    return (await readAnyPredictionsChunked(file, opts, parsed.file)).predictions as Predictions | RegressionPredictions;
  } catch (e) {
    if (e instanceof PredictionsError && e.column !== undefined && models.includes(e.column)) {
      throw new PredictionsError(`the Spark sums' models (${models.join(', ')}; s0 first) are the file's columns of the same names: ${e.message}`, e.column);
    }
    throw e;
  }
}

function differenceMessage(d: SumsDifference, regression: boolean): string {
  const what = regression ? 'rows and predictions' : 'rows and scores';
  const how = regression ? 'its loss scale or a loss' : 'for log loss, its ln';
  const why = d.inFingerprint
    ? `the file does not hold the ${what} Spark compared`
    : `the file holds the ${what} Spark compared (the fingerprint is equal), but this sum differs from the engine's: Spark computed it otherwise (${how}) or the sums were changed`;
  return `${d.field}: Spark ${d.spark}, this file ${d.local}: ${why}`;
}

function exactLine(input: ReplayInput, parsed: Parsed): string {
  const s = input.sums;
  const b = s.bootstrap as { resamples: number; draws: unknown[] } | null;
  const what =
    b === null ? "DeLong's sums" : `the keyed Poisson bootstrap's sums, ${formatInteger(b.resamples)} resamples in ${formatInteger(b.draws.length)} draws`;
  const positives = s.positives === undefined ? '' : `${formatInteger(Number(s.positives))} positives, `;
  return (
    `Replayed exactly: '${parsed.file}' gives the Spark evaluation's fingerprint (${formatInteger(Number(s.rows))} rows, ` +
    `${positives}models ${input.models.join(', ')}) and every sum (${what}).`
  );
}

/** The sums the engine computes from the file, as parsed JSON, and the decision finished from the Spark sums. */
function localSums(preds: Predictions | RegressionPredictions, input: ReplayInput, opts: CompareOptions<AnyMetric>): Record<string, unknown> {
  const sums =
    opts.problemType === 'regression'
      ? sparkRegressionSumsOf(preds as RegressionPredictions, input.models, { ...opts, metric: opts.metric as KeyedRegressionMetric })
      : sparkSumsOf(preds as Predictions, input.models, opts as CompareOptions);
  return JSON.parse(JSON.stringify(sums)) as Record<string, unknown>;
}

function finished(input: ReplayInput, opts: CompareOptions<AnyMetric>): Decision<AnyMetric> {
  return opts.problemType === 'regression'
    ? finishRegressionFromSums(input.sums, input.models, opts)
    : (finishFromSums(input.sums, input.models, opts as CompareOptions) as Decision<AnyMetric>);
}

/** Runs the replay; resolves to the exit code. Errors are thrown to `main`, which prints them (exit code 2). */
export async function replaySparkSums(parsed: Parsed, io: CliIo): Promise<number> {
  const input = readInput(parsed.sparkSums!, io);
  const readLine = `Read '${parsed.sparkSums}': ${input.description}.`;
  checkOptions(input, parsed);
  const preds = await readFile(parsed, input.models, io);
  const opts = parsed.opts as CompareOptions<AnyMetric>;
  const diff = firstSumsDifference(input.sums, localSums(preds, input, opts));
  if (diff !== undefined) {
    io.stderr(`mlops-eval: ${readLine}\nmlops-eval: not replayed: ${differenceMessage(diff, problemOfSums(input.sums) === 'regression')}\n`);
    return diff.inFingerprint ? EXIT.notSameRows : EXIT.sumsDiffer;
  }
  const decision = finished(input, opts);
  const lines = `${readLine}\n${exactLine(input, parsed)}\n`;
  if (parsed.json) {
    io.stderr(lines);
    io.stdout(`${JSON.stringify(decision)}\n`);
  } else {
    io.stdout(`${lines}\n${formatTable(decision)}`);
  }
  if (parsed.reports) writeReports(decision, parsed.file, parsed.reports, io);
  return parsed.failOnKeep && decision.decision !== 'promote' ? EXIT.kept : EXIT.ok;
}
