/**
 * `mlops-eval`: compare models scored elsewhere, from a file of predictions (Parquet, Arrow IPC or CSV).
 *
 *   mlops-eval compare <predictions file> [--models a,b,c] [--baseline <column>]
 *     [--metric roc_auc|average_precision|log_loss|brier] [--method bootstrap|delong] [--resamples 1000]
 *     [--seed 42] [--win-rate 0.95] [--min-delta <metric default>] [--min-metric X] [--confidence 0.95]
 *     [--bootstrap multinomial|poisson|keyed-poisson] [--row-key <column>] [--label label] [--weight <column>] [--threads N] [--no-distributions] [--json]
 *     [--fail-on-keep]
 *   mlops-eval --version | --help | compare --help
 *
 * Exit codes: 0 done (whatever the decision, unless --fail-on-keep); 1 internal error; 2 bad input
 * (flags, file, data) with the message on stderr; 3 with --fail-on-keep when the decision is keep or none.
 */
import {
  DEFAULT_WIN_RATE,
  InvalidOptionsError,
  METHODS,
  METRICS,
  PredictionsError,
  compareModelsParallel,
  defaultMinDelta,
  suggestedThreads,
  type BootstrapScheme,
  type Decision,
  type Method,
  type Metric,
  type ParallelCompareOptions,
} from '../engine';
import { readPredictionsChunked, type ChunkedFile } from '../io/predictions-file';
import { ReportWriteError, writeReports, type ReportFiles } from './report-files';

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

/** A usage or input error: printed on stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';

  /** `hint`: also point to --help (for flag errors, not for an unreadable file). */
  constructor(
    message: string,
    readonly hint = true,
  ) {
    super(message);
  }
}

/** Exit codes a CI step can test. */
export const EXIT = { ok: 0, internal: 1, badInput: 2, kept: 3 } as const;

/** Limits shared with the Evaluate & Promote task's inputs (src/tasks/evaluate/inputs.ts). */
export const MAX_RESAMPLES = 100_000;

export const USAGE = `Usage: mlops-eval compare <predictions file> [options]
       mlops-eval --version
       mlops-eval compare --help

Compares models scored on the same rows and decides whether to promote the best candidate.
The file (Parquet, Arrow IPC file or stream, or CSV with a header line; CSV is read as a stream)
holds a label column (0/1 integers, booleans, or floats exactly 0.0/1.0) and one numeric score
column per model.

Options (after the command and the file, in any order; each takes its value after it, or as --flag=value):
  --models <a,b,c>        the model columns to compare (with or without the baseline); default every
                          numeric column except the label, and the compared columns are printed
  --baseline <column>     column of the production model; without it every model is a candidate
  --metric <name>         roc_auc (default), average_precision, log_loss or brier
  --method <name>         bootstrap (default) or delong (roc_auc only)
  --resamples <n>         bootstrap resamples, 1 to ${MAX_RESAMPLES} (default 1000)
  --seed <seed>           seed of the resamples (default 42)
  --win-rate <r>          promote if the candidate improves by more than the minimum improvement in at
                          least this share of resamples, (0, 1] (default ${DEFAULT_WIN_RATE}); ties are not wins
  --min-delta <d>         the minimum improvement, 0 or more (default 0.001 for roc_auc,
                          average_precision and log_loss, 0.0003 for brier); positive = better for every metric
  --min-metric <x>        ... and its metric reaches x (a ceiling for log_loss and brier; 0 to 1, log_loss 0 or more)
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
  --threads <n>           worker threads for the bootstrap, 1 to 256 (default: the number of CPUs when
                          the bootstrap is large enough to gain from them, else 1)
  --no-distributions      leave the per-resample distributions out of --json
  --json                  print the decision as JSON instead of a table
  --html <file>           also write the self-contained HTML report (the task's report, light and dark)
  --markdown <file>       also write a Markdown summary of the decision
  --fail-on-keep          exit with code 3 when the decision is keep or none (for a CI gate)
  --help, -h              this help
  --version               the version of mlops-eval

Exit codes: 0 done (whatever the decision, unless --fail-on-keep), 1 internal error, 2 bad input,
3 with --fail-on-keep when the decision is keep or none.`;

interface Parsed {
  file: string;
  label: string;
  json: boolean;
  failOnKeep: boolean;
  /** Columns given with --models (undefined: every numeric column but the label). */
  models?: string[];
  /** Column given with --weight. */
  weight?: string;
  /** Column given with --row-key (with --bootstrap keyed-poisson). */
  rowKey?: string;
  /** Threads given with --threads; undefined: decided from the size of the bootstrap (`suggestedThreads`). */
  threads?: number;
  opts: ParallelCompareOptions;
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
];
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
function tokenize(rest: string[]): { values: Map<string, string>; flags: Set<string>; positional: string[] } {
  const values = new Map<string, string>();
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
    } else if (VALUE_FLAGS.includes(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : rest[++i];
      if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
      if (eq < 0 && value.startsWith('--')) throw new UsageError(`${name} needs a value, got the option '${value}'`);
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
  return { values, flags, positional };
}

/** `--models a,b`: the listed columns (no blanks, no repeats, never the label or the weight); sets opts.candidates. */
function parseModels(list: string, label: string, weight: string | undefined, opts: ParallelCompareOptions): string[] {
  const models = list.split(',').map((m) => m.trim());
  if (models.some((m) => m === '')) throw new UsageError(`--models must be a comma-separated list of column names, got '${list}'`);
  const dup = models.find((m, k) => models.indexOf(m) !== k);
  if (dup !== undefined) throw new UsageError(`--models lists '${dup}' twice`);
  if (models.includes(label)) throw new UsageError(`--models lists the label column '${label}'`);
  if (weight !== undefined && models.includes(weight)) throw new UsageError(`--models lists the weight column '${weight}'; the weight column is never a model`);
  if (models.length === (opts.baseline !== undefined && models.includes(opts.baseline) ? 1 : 0)) {
    throw new UsageError('--models names no candidate besides the baseline');
  }
  opts.candidates = models.filter((m) => m !== opts.baseline);
  return models;
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
  const { values, flags, positional } = tokenize(rest);
  const get = (flag: string): string | undefined => values.get(flag);
  const metric = oneOf<Metric>('--metric', get('--metric') ?? 'roc_auc', METRICS);
  const method = oneOf<Method>('--method', get('--method') ?? 'bootstrap', METHODS);
  if (method === 'delong' && metric !== 'roc_auc') throw new UsageError(`--method delong applies to roc_auc only, not to ${metric}`);
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
  const winRate = number('--win-rate', get('--win-rate') ?? String(DEFAULT_WIN_RATE));
  if (!(winRate > 0 && winRate <= 1)) throw new UsageError(`--win-rate must be in (0, 1], got ${get('--win-rate')}`);
  const confidence = number('--confidence', get('--confidence') ?? '0.95');
  if (!(confidence > 0 && confidence < 1)) throw new UsageError(`--confidence must be in (0, 1), got ${get('--confidence')}`);
  const minDeltaRaw = get('--min-delta');
  const minDelta = minDeltaRaw === undefined ? defaultMinDelta(metric) : number('--min-delta', minDeltaRaw);
  if (!(minDelta >= 0)) throw new UsageError(`--min-delta must be 0 or more (the improvement is oriented: positive = better), got ${minDeltaRaw}`);
  const minMetricRaw = get('--min-metric');
  const rawSeed = get('--seed') ?? '42';
  const opts: ParallelCompareOptions = {
    metric,
    method,
    resamples: integer('--resamples', get('--resamples') ?? '1000', 1, MAX_RESAMPLES),
    // A canonical integer seed stays a number in the JSON; anything else is a string seed.
    seed: /^(0|[1-9]\d{0,14})$/.test(rawSeed) ? Number(rawSeed) : rawSeed,
    winRate,
    minDelta,
    confidence,
    bootstrap: bootstrapScheme(get('--bootstrap')),
    includeDistributions: !flags.has('--no-distributions'),
  };
  if (get('--baseline') !== undefined) opts.baseline = get('--baseline');
  if (minMetricRaw !== undefined) {
    const minMetric = number('--min-metric', minMetricRaw);
    const bounded = metric !== 'log_loss';
    if (minMetric < 0 || (bounded && minMetric > 1))
      throw new UsageError(`--min-metric for ${metric} must be ${bounded ? 'between 0 and 1' : '0 or more'}, got ${minMetricRaw}`);
    opts.minMetric = minMetric;
  }
  const rowKey = parseRowKey(get, opts.bootstrap!, label, weight);
  const models = get('--models') === undefined ? undefined : parseModels(get('--models')!, label, weight, opts);
  if (rowKey !== undefined && models?.includes(rowKey)) throw new UsageError(`--models lists the row key column '${rowKey}'; the row key is never a model`);
  const threads = get('--threads') === undefined ? undefined : integer('--threads', get('--threads')!, 1, 256);
  return {
    file: positional[0],
    label,
    json: flags.has('--json'),
    failOnKeep: flags.has('--fail-on-keep'),
    ...(models !== undefined ? { models } : {}),
    ...(weight !== undefined ? { weight } : {}),
    ...(rowKey !== undefined ? { rowKey } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(get('--html') !== undefined || get('--markdown') !== undefined ? { reports: { html: get('--html'), markdown: get('--markdown') } } : {}),
    opts,
  };
}

/** `--bootstrap`: the CLI spells the keyed scheme `keyed-poisson`. */
function bootstrapScheme(value: string | undefined): BootstrapScheme {
  const scheme = oneOf<string>('--bootstrap', value ?? 'multinomial', ['multinomial', 'poisson', 'keyed-poisson']);
  return scheme === 'keyed-poisson' ? 'keyedPoisson' : (scheme as BootstrapScheme);
}

/** `--row-key`: required by, and only by, `--bootstrap keyed-poisson`; never the label, the weight or the baseline. */
function parseRowKey(get: (flag: string) => string | undefined, scheme: BootstrapScheme, label: string, weight: string | undefined): string | undefined {
  const rowKey = get('--row-key');
  if (scheme !== 'keyedPoisson') {
    if (rowKey !== undefined) throw new UsageError('--row-key applies to --bootstrap keyed-poisson only');
    return undefined;
  }
  if (rowKey === undefined) throw new UsageError('--bootstrap keyed-poisson needs --row-key <column> (distinct integer row keys)');
  if (get('--method') === 'delong') throw new UsageError('--bootstrap keyed-poisson applies to --method bootstrap, not delong');
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
    let file: ChunkedFile;
    try {
      file = io.openFile ? io.openFile(parsed.file) : wholeFile(io.readFile(parsed.file));
    } catch (e) {
      throw new UsageError(`cannot read '${parsed.file}': ${(e as Error).message}`, false);
    }
    const b = parsed.opts.baseline;
    const weightColumn = {
      ...(parsed.weight !== undefined ? { weightColumn: parsed.weight } : {}),
      ...(parsed.rowKey !== undefined ? { rowKeyColumn: parsed.rowKey } : {}),
    };
    const preds = await readPredictionsChunked(
      file,
      parsed.models !== undefined
        ? { labelColumn: parsed.label, scoreColumns: b !== undefined && !parsed.models.includes(b) ? [b, ...parsed.models] : parsed.models, ...weightColumn }
        : { labelColumn: parsed.label, numericOnly: true, ...weightColumn },
      parsed.file,
    );
    const threads = parsed.threads ?? suggestedThreads(preds.n, parsed.opts.resamples, preds.columns.length, io.cpus);
    const decision = await compareModelsParallel(preds, { ...parsed.opts, threads });
    io.stdout(parsed.json ? `${JSON.stringify(decision)}\n` : formatTable(decision));
    if (parsed.reports) writeReports(decision, parsed.file, parsed.reports, io);
    return parsed.failOnKeep && decision.decision !== 'promote' ? EXIT.kept : EXIT.ok;
  } catch (e) {
    if (e instanceof UsageError || e instanceof PredictionsError || e instanceof InvalidOptionsError || e instanceof ReportWriteError) {
      io.stderr(`mlops-eval: ${e.message}\n${e instanceof UsageError && e.hint ? "Run 'mlops-eval --help' for the options.\n" : ''}`);
      return EXIT.badInput;
    }
    io.stderr(`mlops-eval: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.internal;
  }
}

const METRIC_NAME: Record<Metric, string> = { roc_auc: 'ROC AUC', average_precision: 'average precision', log_loss: 'log loss', brier: 'Brier score' };

function f4(x: number | undefined): string {
  return x === undefined ? '' : x.toFixed(4);
}

function signed4(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
}

function interval(ci: [number, number] | undefined): string {
  return ci ? `[${f4(ci[0])}, ${f4(ci[1])}]` : '';
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/**
 * The decision as a readable table: one header line (metric, method, data size), the compared columns,
 * one row per model with its estimate and interval and — against the baseline — the improvement
 * (positive = better for every metric), its interval, the gate's one-sided bound and the win rate, then
 * the decision and its reason.
 */
export function formatTable(d: Decision): string {
  const level = `${Math.round(d.confidence * 1000) / 10}%`;
  const gateLevel = pct(d.winRateThreshold);
  const how = d.method === 'bootstrap' ? `paired bootstrap (${d.bootstrap}), ${d.resamples} resamples, seed ${JSON.stringify(d.seed)}` : "DeLong's test";
  const lines = [`${METRIC_NAME[d.metric]} (${d.higherIsBetter ? 'higher' : 'lower'} is better), ${how}; ${d.n} rows, ${d.positives} positive`];
  lines.push(
    `Compared columns: ${d.models.map((m) => (m.isBaseline ? `${m.name} (baseline)` : m.name)).join(', ')}${
      d.weight !== undefined ? `; weight: ${d.weight.column} (total ${d.weight.total}, positive ${d.weight.positive})` : ''
    }`,
  );
  if (d.baseline !== undefined) {
    lines.push(
      `Improvement = ${d.higherIsBetter ? 'candidate − baseline' : 'baseline − candidate'} (positive = better); a win is an improvement above ${fmtPlain(d.minDelta)} (ties are not wins)`,
    );
  }
  if (d.degenerateResamples > 0) lines.push(`${d.degenerateResamples} single-class resample(s) were redrawn`);
  const header = ['model', 'role', 'estimate'];
  if (d.method === 'bootstrap') header.push('mean');
  header.push(`${level} CI`);
  const hasBaseline = d.baseline !== undefined;
  if (hasBaseline) {
    header.push(
      'improvement (positive = better)',
      `${level} CI of improvement`,
      `lower ${gateLevel} bound (gate)`,
      d.method === 'bootstrap' ? 'win rate' : 'P(win)',
    );
    if (d.method === 'delong') header.push('p-value');
  }
  const rows = d.models.map((m) => {
    const row = [m.name, m.isBaseline ? 'baseline' : m.name === d.best ? 'best' : 'candidate', f4(m.estimate)];
    if (d.method === 'bootstrap') row.push(f4(m.mean));
    row.push(interval(m.ci));
    if (hasBaseline) {
      const v = m.vsBaseline;
      row.push(v ? signed4(v.meanDelta) : '', v ? interval(v.deltaCi) : '', v?.gateBound !== undefined ? signed4(v.gateBound) : '', v ? pct(v.winRate) : '');
      if (d.method === 'delong') row.push(v?.pValue !== undefined ? v.pValue.toPrecision(3) : v?.undetermined !== undefined ? 'undetermined' : '');
    }
    return row;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const render = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  lines.push('', render(header), ...rows.map(render), '');
  lines.push(`Decision: ${d.decision.toUpperCase()}${d.decision === 'promote' ? ` '${d.best}'` : ''}. ${d.reason}`);
  return `${lines.join('\n')}\n`;
}

function fmtPlain(x: number): string {
  return String(Number(x.toPrecision(4)));
}
