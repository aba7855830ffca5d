/**
 * `mlops-eval`: compare models scored elsewhere, from a file of predictions (Parquet, Arrow IPC or CSV).
 *
 *   mlops-eval compare <predictions file> [--problem binary|regression|multiclass] [--models a,b,c]
 *     [--baseline <column>] [--metric <name>] [--method bootstrap|delong] [--resamples 1000]
 *     [--seed 42] [--win-rate 0.95] [--min-delta <metric default>] [--min-metric X] [--confidence 0.95]
 *     [--guardrail <metric>:<max worsening>]... [--slice <column>]... [--min-slice-rows 1000] [--slice-tolerance 0]
 *     [--bootstrap multinomial|poisson|keyed-poisson] [--row-key <column>] [--label label] [--weight <column>] [--exclude <column>]... [--threads N]
 *     [--no-distributions] [--json] [--fail-on-keep]
 *   mlops-eval compare <predictions file> --spark-sums <sums.json> --row-key <column> [options]   (replay.ts)
 *   mlops-eval --version | --help | compare --help
 *
 * Exit codes: 0 done (whatever the decision, unless --fail-on-keep); 1 internal error; 2 bad input
 * (flags, file, data) with the message on stderr; 3 with --fail-on-keep when the decision is keep or none;
 * with --spark-sums, 4 when the fingerprint differs and 5 when another sum differs.
 */
import {
  DEFAULT_MIN_SLICE_ROWS,
  DEFAULT_WIN_RATE,
  InvalidOptionsError,
  METHODS,
  PredictionsError,
  compareModelsParallel,
  defaultMinDelta,
  metricsOf,
  suggestedThreads,
  type AnyMetric,
  type BootstrapScheme,
  type Guardrail,
  type Method,
  type ParallelCompareOptions,
  type ProblemType,
  type ReadAnyOptions,
} from '../engine';
import { readAnyPredictionsChunked, type ChunkedFile } from '../io/predictions-file';
import { formatTable } from './table';
import { ReportWriteError, writeReports, type ReportFiles } from './report-files';
import { checkReplayFlags, isReplayInputError, replaySparkSums } from './replay';
import { EXIT, UsageError } from './usage';

/** What the CLI needs from its environment (injected so tests can run it in-process). */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string) => Uint8Array;
  /** Opens the predictions file for reading in chunks (so CSV streams); without it, `readFile` reads it whole. */
  openFile?: (path: string) => ChunkedFile;
  /** Writes --html and --markdown files. */
  writeFile?: (path: string, text: string) => void;
  cpus: number;
  /** The package version, for --version. */
  version?: string;
}

export { EXIT, UsageError };

/** Limits shared with the Evaluate & Promote task's inputs (src/tasks/evaluate/inputs.ts). */
export const MAX_RESAMPLES = 100_000;

export const USAGE = `Usage: mlops-eval compare <predictions file> [options]
       mlops-eval --version
       mlops-eval compare --help

Compares models scored on the same rows and decides whether to promote the best candidate.
The file (Parquet, Arrow IPC file or stream, or CSV with a header line; CSV is read as a stream)
holds a label column and one column per model:
  binary      label 0/1 (integers, booleans, or floats exactly 0.0/1.0), one numeric score per model
  regression  label a finite number (float64), one numeric prediction per model
  multiclass  label a class index 0..K-1, per model a list of K class probabilities (Arrow
              FixedSizeList<Float64>[K] or a Parquet list; not CSV), class values in the schema
              metadata 'mlops.classes' (a JSON list)

Options (after the command and the file, in any order; each takes its value after it, or as --flag=value):
  --problem <type>        binary (default), regression or multiclass
  --models <a,b,c>        the model columns to compare (with or without the baseline); default every
                          numeric column (multiclass: every list column) except the label, weight,
                          slice and --exclude columns, and the compared columns are printed
  --baseline <column>     column of the production model; without it every model is a candidate
  --metric <name>         binary: roc_auc (default), average_precision, log_loss or brier;
                          regression: rmse (default), mae, r2 or mape;
                          multiclass: roc_auc_ovr (default), roc_auc_ovr_weighted, log_loss, accuracy or f1_macro
  --guardrail <m>:<x>     a second metric the best candidate must not worsen by more than x (its units),
                          e.g. brier:0.002; it passes when the worsening exceeds x in fewer than
                          (1 - win rate) of the same bootstrap resamples. Repeat for several
  --slice <column>        a column whose values define slices (strings, a dictionary or integers; never a
                          model): the candidate fails when, in a slice of at least --min-slice-rows rows,
                          its primary metric worsens by more than --slice-tolerance in at least the win
                          rate of that slice's resamples. Repeat for several columns (each judged alone;
                          the 50 largest slices of each)
  --min-slice-rows <n>    smallest slice judged, 1 or more (default ${DEFAULT_MIN_SLICE_ROWS}); smaller ones are listed as not judged
  --slice-tolerance <x>   largest allowed worsening of the primary metric in a slice, 0 or more (default 0)
  --method <name>         bootstrap (default) or delong (binary roc_auc only)
  --resamples <n>         bootstrap resamples, 1 to ${MAX_RESAMPLES} (default 1000)
  --seed <seed>           seed of the resamples (default 42)
  --win-rate <r>          promote if the candidate improves by more than the minimum improvement in at
                          least this share of resamples, (0, 1] (default ${DEFAULT_WIN_RATE}); ties are not wins
  --min-delta <d>         the minimum improvement, 0 or more (default 0.001 for roc_auc,
                          average_precision and log_loss, 0.0003 for brier, 0 for the others); positive = better
                          for every metric
  --min-metric <x>        ... and its metric reaches x (a ceiling for the lower-is-better metrics: log_loss,
                          brier, rmse, mae, mape)
  --confidence <c>        level of the reported intervals, (0, 1) (default 0.95)
  --bootstrap <scheme>    multinomial (default), poisson, or keyed-poisson (Poisson weights keyed by
                          --row-key: the same result whatever the row order; see docs/keyed-poisson.md)
  --row-key <column>      with --bootstrap keyed-poisson: distinct integer row keys from 0 to 2^40 - 1;
                          never a model
  --label <column>        label column (default label)
  --weight <column>       column of integer row weights, 0 or more (Arrow integers, or floats holding
                          whole numbers): a row of weight k counts k times in every metric and in
                          every bootstrap resample (count x weight); weight 0 leaves a row out. Never
                          a model. Not with --method delong (DeLong's test takes no weights)
  --exclude <column>      a column that is not a model (a row key, an id); repeat for several
  --threads <n>           worker threads for the bootstrap, 1 to 256 (default: the number of CPUs when
                          the bootstrap is large enough to gain from them, else 1)
  --no-distributions      leave the per-resample distributions out of --json
  --json                  print the decision as JSON instead of a table (fields in the README)
  --html <file>           also write the self-contained HTML report (the task's report, light and dark)
  --markdown <file>       also write a Markdown summary of the decision
  --fail-on-keep          exit with code 3 when the decision is keep or none (for a CI gate)
  --help, -h              this help
  --version               the version of mlops-eval

Replaying a comparison made on Spark (the scoring notebook above its local row limit; docs/scale-out.md):
  mlops-eval compare <predictions file> --spark-sums <sums.json> --row-key <column> [options]
  --spark-sums <file>     the sums the notebook returned: the sums JSON (spark-sums.json, or the exit
                          value's result), the notebook's whole exit value, or a runs/get-output response.
                          The file must hold the rows Spark compared, a column per model of the sums'
                          models list (by name) and the row key column the notebook was given; repeat the
                          evaluation's --method, --metric, --seed, --resamples and --bootstrap keyed-poisson,
                          and --problem regression for regression sums (RMSE, MAE; the label column holds
                          the target). DeLong, the keyed log loss, Brier and ROC AUC, and regression RMSE
                          and MAE replay. Compares the fingerprint (rows, positives or the target's sum, key
                          sums, score or prediction sums per model), then every other sum, with the file's
                          and names the first difference; when all are equal, prints "Replayed exactly" and
                          the decision finished from the sums. Not with --models, --weight, --slice,
                          --guardrail, --exclude, --threads or --problem multiclass

Exit codes: 0 done (whatever the decision, unless --fail-on-keep), 1 internal error, 2 bad input,
3 with --fail-on-keep when the decision is keep or none; with --spark-sums, 4 when the fingerprint
differs (the file does not hold the rows and scores Spark compared), 5 when it matches but another
sum differs.`;

export interface Parsed {
  file: string;
  label: string;
  json: boolean;
  failOnKeep: boolean;
  /** Columns given with --models (undefined: every numeric column but the label). */
  models?: string[];
  /** Column given with --weight. */
  weight?: string;
  /** Columns given with --slice, in order. */
  slices?: string[];
  /** Columns given with --exclude. */
  exclude?: string[];
  /** Column given with --row-key (with --bootstrap keyed-poisson or --spark-sums). */
  rowKey?: string;
  /** File given with --spark-sums: replay a comparison made on Spark against the predictions file. */
  sparkSums?: string;
  /** Threads given with --threads; undefined: decided from the size of the bootstrap (`suggestedThreads`). */
  threads?: number;
  opts: ParallelCompareOptions<AnyMetric>;
  /** Files given with --html and --markdown. */
  reports?: ReportFiles;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function number(flag: string, raw: string): number {
  if (!NUMBER.test(raw)) throw new UsageError(`${flag} must be a number, got '${raw}'`);
  return Number(raw);
}

function integer(flag: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return Number(raw);
}

function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, got '${raw}'`);
  return raw as T;
}

const VALUE_FLAGS = [
  '--models',
  '--baseline',
  '--metric',
  '--method',
  '--resamples',
  '--seed',
  '--win-rate',
  '--min-delta',
  '--min-metric',
  '--confidence',
  '--bootstrap',
  '--label',
  '--weight',
  '--row-key',
  '--threads',
  '--html',
  '--markdown',
  '--problem',
  '--min-slice-rows',
  '--slice-tolerance',
  '--spark-sums',
];
/** Options that may be given several times; their values are kept in order. */
const REPEATED_FLAGS = ['--guardrail', '--slice', '--exclude'];
const BOOLEAN_FLAGS = ['--json', '--no-distributions', '--fail-on-keep'];

/** Short spellings people try, mapped to the option they probably meant (for the error message only). */
const SHORT_GUESS: Record<string, string> = {
  '-m': '--metric',
  '-b': '--baseline',
  '-r': '--resamples',
  '-s': '--seed',
  '-l': '--label',
  '-t': '--threads',
  '-v': '--version',
};

/** True when the arguments ask for help (`--help` or `-h` anywhere). */
function wantsHelp(argv: string[]): boolean {
  return argv.some((a) => a === '--help' || a === '-h');
}

/** Splits the arguments after the command into option values, flags and positionals; strict (see parseArgs). */
function tokenize(rest: string[]): { values: Map<string, string>; lists: Map<string, string[]>; flags: Set<string>; positional: string[] } {
  const values = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--version') throw new UsageError('--version is an option of mlops-eval itself: mlops-eval --version');
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1 && !NUMBER.test(arg)) {
        const guess = SHORT_GUESS[arg];
        throw new UsageError(`unknown option '${arg}': options are spelled with two dashes${guess ? ` (did you mean ${guess}?)` : ''}`);
      }
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (BOOLEAN_FLAGS.includes(name)) {
      if (eq >= 0) throw new UsageError(`${name} takes no value`);
      flags.add(name);
    } else if (VALUE_FLAGS.includes(name) || REPEATED_FLAGS.includes(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : rest[++i];
      if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
      if (eq < 0 && value.startsWith('--')) throw new UsageError(`${name} needs a value, got the option '${value}'`);
      if (REPEATED_FLAGS.includes(name)) {
        lists.set(name, [...(lists.get(name) ?? []), value]);
        continue;
      }
      if (values.has(name)) throw new UsageError(`${name} is given twice`);
      values.set(name, value);
    } else {
      throw new UsageError(`unknown option '${name}'`);
    }
  }
  if (positional.length !== 1) {
    throw new UsageError(
      positional.length === 0
        ? 'missing the predictions file'
        : `expected one predictions file, got ${positional.length}: ${positional.join(' ')} (an option's value goes right after its --option)`,
    );
  }
  return { values, lists, flags, positional };
}

/** `--models a,b`: the listed columns (no blanks, no repeats, never the label, the weight, a slice or an excluded column); sets opts.candidates. */
function parseModels(list: string, label: string, weight: string | undefined, notModels: NotModels, opts: ParallelCompareOptions<AnyMetric>): string[] {
  const models = list.split(',').map((m) => m.trim());
  if (models.some((m) => m === '')) throw new UsageError(`--models must be a comma-separated list of column names, got '${list}'`);
  const dup = models.find((m, k) => models.indexOf(m) !== k);
  if (dup !== undefined) throw new UsageError(`--models lists '${dup}' twice`);
  if (models.includes(label)) throw new UsageError(`--models lists the label column '${label}'`);
  if (weight !== undefined && models.includes(weight)) throw new UsageError(`--models lists the weight column '${weight}'; the weight column is never a model`);
  const slice = models.find((m) => notModels.slices.includes(m));
  if (slice !== undefined) throw new UsageError(`--models lists the slice column '${slice}'; a slice column is never a model`);
  const excluded = models.find((m) => notModels.exclude.includes(m));
  if (excluded !== undefined) throw new UsageError(`--models lists '${excluded}', which --exclude leaves out`);
  if (models.length === (opts.baseline !== undefined && models.includes(opts.baseline) ? 1 : 0)) {
    throw new UsageError('--models names no candidate besides the baseline');
  }
  opts.candidates = models.filter((m) => m !== opts.baseline);
  return models;
}

/** Columns that are never models: the slice columns and those given with --exclude. */
interface NotModels {
  slices: string[];
  exclude: string[];
}

const PROBLEMS: Record<string, ProblemType> = { binary: 'binaryClassification', regression: 'regression', multiclass: 'multiclass' };
const DEFAULT_METRIC: Record<ProblemType, AnyMetric> = { binaryClassification: 'roc_auc', regression: 'rmse', multiclass: 'roc_auc_ovr' };

/** `--guardrail <metric>:<max worsening>`, each metric of the problem type once. */
function parseGuardrails(raw: string[], problem: ProblemType, problemFlag: string): Guardrail[] {
  const allowed = metricsOf(problem);
  const out: Guardrail[] = [];
  for (const g of raw) {
    const at = g.lastIndexOf(':');
    if (at < 0) throw new UsageError(`--guardrail must be <metric>:<max worsening>, e.g. ${allowed[allowed.length - 1]}:0.002, got '${g}'`);
    const metric = g.slice(0, at).trim();
    if (!(allowed as readonly string[]).includes(metric)) {
      throw new UsageError(`--guardrail metric must be one of ${allowed.join(', ')} (--problem ${problemFlag}), got '${metric}'`);
    }
    const x = number(`--guardrail ${metric}`, g.slice(at + 1).trim());
    if (!(x >= 0)) throw new UsageError(`--guardrail ${metric} needs a max worsening of 0 or more (in the metric's units), got ${g.slice(at + 1)}`);
    if (out.some((o) => o.metric === metric)) throw new UsageError(`--guardrail lists ${metric} twice`);
    out.push({ metric: metric as AnyMetric, maxWorsening: x });
  }
  return out;
}

/** `--slice` columns: each once, never the label, the weight or the baseline. */
function parseSlices(raw: string[], label: string, weight: string | undefined, baseline: string | undefined): string[] {
  for (const [k, c] of raw.entries()) {
    if (raw.indexOf(c) !== k) throw new UsageError(`--slice lists '${c}' twice`);
    if (c === label) throw new UsageError(`--slice names the label column '${label}'`);
    if (c === weight) throw new UsageError(`--slice and --weight name the same column '${c}'`);
    if (c === baseline) throw new UsageError(`--slice and --baseline name the same column '${c}'; a slice column is never a model`);
  }
  return raw;
}

/** `--min-metric`: a number the metric can reach (scores between 0 and 1, losses and errors 0 or more, R² at most 1). */
function parseMinMetric(raw: string, metric: AnyMetric): number {
  const x = number('--min-metric', raw);
  const range: [number, number] =
    metric === 'r2' ? [-Infinity, 1] : metric === 'log_loss' || metric === 'rmse' || metric === 'mae' || metric === 'mape' ? [0, Infinity] : [0, 1];
  if (x < range[0] || x > range[1]) {
    const words = range[0] === -Infinity ? '1 or less' : range[1] === Infinity ? '0 or more' : 'between 0 and 1';
    throw new UsageError(`--min-metric for ${metric} must be ${words}, got ${raw}`);
  }
  return x;
}

/** The options of the comparison common to every problem type: gate, intervals, resampling. */
function gateOptions(get: (flag: string) => string | undefined, metric: AnyMetric, method: Method): ParallelCompareOptions<AnyMetric> {
  const winRate = number('--win-rate', get('--win-rate') ?? String(DEFAULT_WIN_RATE));
  if (!(winRate > 0 && winRate <= 1)) throw new UsageError(`--win-rate must be in (0, 1], got ${get('--win-rate')}`);
  const confidence = number('--confidence', get('--confidence') ?? '0.95');
  if (!(confidence > 0 && confidence < 1)) throw new UsageError(`--confidence must be in (0, 1), got ${get('--confidence')}`);
  const minDeltaRaw = get('--min-delta');
  const minDelta = minDeltaRaw === undefined ? defaultMinDelta(metric) : number('--min-delta', minDeltaRaw);
  if (!(minDelta >= 0)) throw new UsageError(`--min-delta must be 0 or more (the improvement is oriented: positive = better), got ${minDeltaRaw}`);
  const rawSeed = get('--seed') ?? '42';
  return {
    metric,
    method,
    resamples: integer('--resamples', get('--resamples') ?? '1000', 1, MAX_RESAMPLES),
    // A canonical integer seed stays a number in the JSON; anything else is a string seed.
    seed: /^(0|[1-9]\d{0,14})$/.test(rawSeed) ? Number(rawSeed) : rawSeed,
    winRate,
    minDelta,
    confidence,
    bootstrap: bootstrapScheme(get('--bootstrap')),
    includeDistributions: true,
  };
}

/** --slice, --min-slice-rows and --slice-tolerance (the last two need the first). */
function sliceOptions(
  lists: Map<string, string[]>,
  get: (flag: string) => string | undefined,
  label: string,
  weight: string | undefined,
  opts: ParallelCompareOptions<AnyMetric>,
): string[] {
  const slices = parseSlices(lists.get('--slice') ?? [], label, weight, opts.baseline);
  for (const flag of ['--min-slice-rows', '--slice-tolerance']) {
    if (get(flag) !== undefined && slices.length === 0) throw new UsageError(`${flag} applies to slices: give the slice columns with --slice <column>`);
  }
  if (get('--min-slice-rows') !== undefined) opts.minSliceRows = integer('--min-slice-rows', get('--min-slice-rows')!, 1, 1_000_000_000);
  if (get('--slice-tolerance') !== undefined) {
    const x = number('--slice-tolerance', get('--slice-tolerance')!);
    if (!(x >= 0)) throw new UsageError(`--slice-tolerance must be 0 or more (in the metric's units), got ${get('--slice-tolerance')}`);
    opts.sliceTolerance = x;
  }
  return slices;
}

/** --problem and --metric (whose names and default depend on the problem) and --method. */
function metricOptions(get: (flag: string) => string | undefined): { problem: ProblemType; problemFlag: string; metric: AnyMetric; method: Method } {
  const problemFlag = oneOf('--problem', get('--problem') ?? 'binary', Object.keys(PROBLEMS));
  const problem = PROBLEMS[problemFlag];
  const metric = oneOf<AnyMetric>(
    get('--problem') === undefined ? '--metric' : `--metric (--problem ${problemFlag})`,
    get('--metric') ?? DEFAULT_METRIC[problem],
    metricsOf(problem),
  );
  const method = oneOf<Method>('--method', get('--method') ?? 'bootstrap', METHODS);
  if (method === 'delong' && metric !== 'roc_auc') {
    throw new UsageError(
      problem === 'binaryClassification'
        ? `--method delong applies to roc_auc only, not to ${metric}`
        : `--method delong applies to binary roc_auc only, not to ${problemFlag}`,
    );
  }
  return { problem, problemFlag, metric, method };
}

/**
 * Parses and validates the arguments after the program name. Strict on purpose: an unknown option, a
 * repeated one, a misplaced one or a malformed number is an error (exit 2), never silently ignored or
 * defaulted.
 */
export function parseArgs(argv: string[]): Parsed {
  const [command, ...rest] = argv;
  if (command !== 'compare') {
    if (command === undefined) throw new UsageError('missing command');
    if (command.startsWith('-')) {
      throw new UsageError(
        `the command comes first: mlops-eval compare <predictions file> ${command}${VALUE_FLAGS.includes(command.split('=')[0]) ? ' <value>' : ''} ...`,
      );
    }
    throw new UsageError(`unknown command '${command}' (expected 'compare')`);
  }
  const { values, lists, flags, positional } = tokenize(rest);
  const get = (flag: string): string | undefined => values.get(flag);
  if (get('--spark-sums') !== undefined) checkReplayFlags(values, lists);
  const { problem, problemFlag, metric, method } = metricOptions(get);
  const weight = get('--weight');
  const label = get('--label') ?? 'label';
  if (weight !== undefined) {
    if (method === 'delong') {
      throw new UsageError(
        `--weight cannot be used with --method delong: DeLong's test in mlops-eval takes no row weights; use --method bootstrap (the default) or leave out --weight`,
      );
    }
    if (weight === label) throw new UsageError(`--weight names the label column '${label}'`);
    if (get('--baseline') === weight) throw new UsageError(`--weight and --baseline name the same column '${weight}'; the weight column is never a model`);
  }
  const opts = gateOptions(get, metric, method);
  opts.includeDistributions = !flags.has('--no-distributions');
  if (problem !== 'binaryClassification') opts.problemType = problem;
  if (get('--baseline') !== undefined) opts.baseline = get('--baseline');
  if (get('--min-metric') !== undefined) opts.minMetric = parseMinMetric(get('--min-metric')!, metric);
  const guardrails = parseGuardrails(lists.get('--guardrail') ?? [], problem, problemFlag);
  if (guardrails.length > 0) opts.guardrails = guardrails;
  const slices = sliceOptions(lists, get, label, weight, opts);
  const exclude = lists.get('--exclude') ?? [];
  if (opts.baseline !== undefined && exclude.includes(opts.baseline)) throw new UsageError(`--exclude and --baseline name the same column '${opts.baseline}'`);
  const rowKey = parseRowKey(get, opts.bootstrap ?? 'multinomial', label, weight);
  if (rowKey !== undefined && (problem === 'multiclass' || guardrails.length > 0 || slices.length > 0)) {
    throw new UsageError(
      '--bootstrap keyed-poisson compares binary classifiers or regression models on one metric for now; leave out --guardrail and --slice with it',
    );
  }
  if (rowKey !== undefined && problem === 'regression' && metric !== 'rmse' && metric !== 'mae') {
    throw new UsageError(`--bootstrap keyed-poisson compares regression models on rmse or mae, not ${metric} (see docs/keyed-poisson.md)`);
  }
  if (rowKey !== undefined && (slices.includes(rowKey) || exclude.includes(rowKey)))
    throw new UsageError(`--row-key names the column '${rowKey}' that --slice or --exclude names too`);
  const models = get('--models') === undefined ? undefined : parseModels(get('--models')!, label, weight, { slices, exclude }, opts);
  if (rowKey !== undefined && models?.includes(rowKey)) throw new UsageError(`--models lists the row key column '${rowKey}'; the row key is never a model`);
  const threads = get('--threads') === undefined ? undefined : integer('--threads', get('--threads')!, 1, 256);
  return {
    file: positional[0],
    label,
    json: flags.has('--json'),
    failOnKeep: flags.has('--fail-on-keep'),
    ...(models !== undefined ? { models } : {}),
    ...(weight !== undefined ? { weight } : {}),
    ...(slices.length > 0 ? { slices } : {}),
    ...(exclude.length > 0 ? { exclude } : {}),
    ...(rowKey !== undefined ? { rowKey } : {}),
    ...(get('--spark-sums') !== undefined ? { sparkSums: get('--spark-sums') } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(get('--html') !== undefined || get('--markdown') !== undefined ? { reports: { html: get('--html'), markdown: get('--markdown') } } : {}),
    opts,
  };
}

/** What to read from the file: the label, the models (named, or every column of the model type), weight, slices, excluded columns. */
function readOptions(parsed: Parsed): ReadAnyOptions {
  const b = parsed.opts.baseline;
  return {
    labelColumn: parsed.label,
    ...(parsed.models !== undefined
      ? { scoreColumns: b !== undefined && !parsed.models.includes(b) ? [b, ...parsed.models] : parsed.models }
      : { numericOnly: true }),
    ...(parsed.weight !== undefined ? { weightColumn: parsed.weight } : {}),
    ...(parsed.rowKey !== undefined ? { rowKeyColumn: parsed.rowKey } : {}),
    ...(parsed.opts.problemType !== undefined ? { problemType: parsed.opts.problemType } : {}),
    ...(parsed.slices !== undefined ? { sliceColumns: parsed.slices } : {}),
    ...(parsed.exclude !== undefined ? { exclude: parsed.exclude } : {}),
  };
}

/** `--bootstrap`: the CLI spells the keyed scheme `keyed-poisson`. */
function bootstrapScheme(value: string | undefined): BootstrapScheme {
  const scheme = oneOf<string>('--bootstrap', value ?? 'multinomial', ['multinomial', 'poisson', 'keyed-poisson']);
  return scheme === 'keyed-poisson' ? 'keyedPoisson' : (scheme as BootstrapScheme);
}

/**
 * `--row-key`: required by, and only by, `--bootstrap keyed-poisson` and `--spark-sums` (whose fingerprint sums
 * the keys, with either method); never the label, the weight or the baseline.
 */
function parseRowKey(get: (flag: string) => string | undefined, scheme: BootstrapScheme, label: string, weight: string | undefined): string | undefined {
  const rowKey = get('--row-key');
  if (get('--spark-sums') !== undefined) {
    if (rowKey === undefined)
      throw new UsageError(
        '--spark-sums needs --row-key <column>: the fingerprint sums the row keys, so the file must hold the key column the notebook was given',
      );
  } else if (scheme !== 'keyedPoisson') {
    if (rowKey !== undefined) throw new UsageError('--row-key applies to --bootstrap keyed-poisson only');
    return undefined;
  }
  if (rowKey === undefined) throw new UsageError('--bootstrap keyed-poisson needs --row-key <column> (distinct integer row keys)');
  if (scheme === 'keyedPoisson' && get('--method') === 'delong') throw new UsageError('--bootstrap keyed-poisson applies to --method bootstrap, not delong');
  if (rowKey === label || rowKey === weight || rowKey === get('--baseline')) {
    throw new UsageError(
      `--row-key names the ${rowKey === label ? 'label' : rowKey === weight ? 'weight' : 'baseline'} column '${rowKey}'; the row key is its own column`,
    );
  }
  return rowKey;
}

function wholeFile(bytes: Uint8Array): ChunkedFile {
  return { size: bytes.length, head: bytes, chunks: () => [bytes], whole: () => bytes };
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0) {
    io.stderr(`${USAGE}\n`);
    return EXIT.badInput;
  }
  if (argv[0] === 'help' || wantsHelp(argv)) {
    io.stdout(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (argv[0] === '--version') {
    if (argv.length > 1) {
      io.stderr(`mlops-eval: --version takes no other argument\n`);
      return EXIT.badInput;
    }
    io.stdout(`mlops-eval ${io.version ?? 'unknown'}\n`);
    return EXIT.ok;
  }
  try {
    const parsed = parseArgs(argv);
    if (parsed.sparkSums !== undefined) return await replaySparkSums(parsed, io);
    let file: ChunkedFile;
    try {
      file = io.openFile ? io.openFile(parsed.file) : wholeFile(io.readFile(parsed.file));
    } catch (e) {
      throw new UsageError(`cannot read '${parsed.file}': ${(e as Error).message}`, false);
    }
    const { predictions: preds, slices } = await readAnyPredictionsChunked(file, readOptions(parsed), parsed.file);
    const threads = parsed.threads ?? suggestedThreads(preds.n, parsed.opts.resamples, preds.columns.length, io.cpus);
    const decision = await compareModelsParallel(preds, { ...parsed.opts, ...(slices.length > 0 ? { slices } : {}), threads });
    io.stdout(parsed.json ? `${JSON.stringify(decision)}\n` : formatTable(decision));
    if (parsed.reports) writeReports(decision, parsed.file, parsed.reports, io);
    return parsed.failOnKeep && decision.decision !== 'promote' ? EXIT.kept : EXIT.ok;
  } catch (e) {
    if (
      e instanceof UsageError ||
      e instanceof PredictionsError ||
      e instanceof InvalidOptionsError ||
      e instanceof ReportWriteError ||
      isReplayInputError(e)
    ) {
      io.stderr(`mlops-eval: ${e.message}\n${e instanceof UsageError && e.hint ? "Run 'mlops-eval --help' for the options.\n" : ''}`);
      return EXIT.badInput;
    }
    io.stderr(`mlops-eval: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.internal;
  }
}

export { formatTable };
