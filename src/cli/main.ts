/**
 * `mlops-eval`: compare models scored elsewhere, from an Arrow IPC file of predictions.
 *
 *   mlops-eval compare <predictions.arrow> [--baseline <column>] [--metric roc_auc|average_precision|log_loss|brier]
 *     [--method bootstrap|delong] [--resamples 1000] [--seed 42] [--win-rate 0.9] [--min-delta 0]
 *     [--min-metric X] [--confidence 0.95] [--bootstrap multinomial|poisson] [--label label]
 *     [--threads N] [--no-distributions] [--json]
 *
 * Exit code 0 whatever the decision; 2 on bad input (flags, file, data) with the message on stderr;
 * 1 on an unexpected internal error.
 */
import {
  InvalidOptionsError,
  METHODS,
  METRICS,
  PredictionsError,
  compareModelsParallel,
  readPredictions,
  suggestedThreads,
  type BootstrapScheme,
  type Decision,
  type Method,
  type Metric,
  type ParallelCompareOptions,
} from '../engine';

/** What the CLI needs from its environment (injected so tests can run it in-process). */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string) => Uint8Array;
  cpus: number;
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

export const USAGE = `Usage: mlops-eval compare <predictions.arrow> [options]

Compares models scored on the same rows and decides whether to promote the best candidate.
The Arrow IPC file (file or stream format) holds a 0/1 label column and one numeric score column per model.

Options:
  --baseline <column>     column of the production model; without it every column is a candidate
  --metric <name>         roc_auc (default), average_precision, log_loss or brier
  --method <name>         bootstrap (default) or delong (roc_auc only)
  --resamples <n>         bootstrap resamples (default 1000)
  --seed <seed>           seed of the resamples (default 42)
  --win-rate <r>          promote if the candidate is at least as good in this share of resamples, (0, 1] (default 0.9)
  --min-delta <d>         ... and its mean improvement reaches d (default 0; positive = better for every metric)
  --min-metric <x>        ... and its metric reaches x (a ceiling for log_loss and brier)
  --confidence <c>        level of the intervals, (0, 1) (default 0.95)
  --bootstrap <scheme>    multinomial (default) or poisson
  --label <column>        label column (default label)
  --threads <n>           worker threads for the bootstrap (default: the number of CPUs when the
                          bootstrap is large enough to gain from them, else 1)
  --no-distributions      leave the per-resample distributions out of --json
  --json                  print the decision as JSON instead of a table

Exit code: 0 whatever the decision, 2 on bad input.`;

interface Parsed {
  file: string;
  label: string;
  json: boolean;
  /** Threads given with --threads; undefined: decided from the size of the bootstrap (`suggestedThreads`). */
  threads?: number;
  opts: ParallelCompareOptions;
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
  '--threads',
];
const BOOLEAN_FLAGS = ['--json', '--no-distributions'];

/**
 * Parses and validates the arguments after the program name. Strict on purpose: an unknown option, a
 * repeated one or a malformed number is an error (exit 2), never silently ignored or defaulted.
 */
export function parseArgs(argv: string[]): Parsed {
  const [command, ...rest] = argv;
  if (command !== 'compare') {
    throw new UsageError(command === undefined ? 'missing command' : `unknown command '${command}' (expected 'compare')`);
  }
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (!arg.startsWith('--')) {
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
      if (values.has(name)) throw new UsageError(`${name} is given twice`);
      values.set(name, value);
    } else {
      throw new UsageError(`unknown option '${name}'`);
    }
  }
  if (positional.length !== 1) {
    throw new UsageError(positional.length === 0 ? 'missing the predictions file' : `expected one predictions file, got ${positional.length}: ${positional.join(' ')}`);
  }
  const get = (flag: string): string | undefined => values.get(flag);
  const metric = oneOf<Metric>('--metric', get('--metric') ?? 'roc_auc', METRICS);
  const method = oneOf<Method>('--method', get('--method') ?? 'bootstrap', METHODS);
  if (method === 'delong' && metric !== 'roc_auc') throw new UsageError(`--method delong applies to roc_auc only, not to ${metric}`);
  const winRate = number('--win-rate', get('--win-rate') ?? '0.9');
  if (!(winRate > 0 && winRate <= 1)) throw new UsageError(`--win-rate must be in (0, 1], got ${get('--win-rate')}`);
  const confidence = number('--confidence', get('--confidence') ?? '0.95');
  if (!(confidence > 0 && confidence < 1)) throw new UsageError(`--confidence must be in (0, 1), got ${get('--confidence')}`);
  const minDelta = number('--min-delta', get('--min-delta') ?? '0');
  const minMetricRaw = get('--min-metric');
  const rawSeed = get('--seed') ?? '42';
  const opts: ParallelCompareOptions = {
    metric,
    method,
    resamples: integer('--resamples', get('--resamples') ?? '1000', 1, 10_000_000),
    // A canonical integer seed stays a number in the JSON; anything else is a string seed.
    seed: /^(0|[1-9]\d{0,14})$/.test(rawSeed) ? Number(rawSeed) : rawSeed,
    winRate,
    minDelta,
    confidence,
    bootstrap: oneOf<BootstrapScheme>('--bootstrap', get('--bootstrap') ?? 'multinomial', ['multinomial', 'poisson']),
    includeDistributions: !flags.has('--no-distributions'),
  };
  if (get('--baseline') !== undefined) opts.baseline = get('--baseline');
  if (minMetricRaw !== undefined) opts.minMetric = number('--min-metric', minMetricRaw);
  const threads = get('--threads') === undefined ? undefined : integer('--threads', get('--threads')!, 1, 256);
  return { file: positional[0], label: get('--label') ?? 'label', json: flags.has('--json'), ...(threads !== undefined ? { threads } : {}), opts };
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    (argv.length === 0 ? io.stderr : io.stdout)(`${USAGE}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  try {
    const parsed = parseArgs(argv);
    let bytes: Uint8Array;
    try {
      bytes = io.readFile(parsed.file);
    } catch (e) {
      throw new UsageError(`cannot read '${parsed.file}': ${(e as Error).message}`, false);
    }
    const preds = readPredictions(bytes, { labelColumn: parsed.label });
    const threads = parsed.threads ?? suggestedThreads(preds.n, parsed.opts.resamples, preds.columns.length, io.cpus);
    const decision = await compareModelsParallel(preds, { ...parsed.opts, threads });
    io.stdout(parsed.json ? `${JSON.stringify(decision)}\n` : formatTable(decision));
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof PredictionsError || e instanceof InvalidOptionsError) {
      io.stderr(`mlops-eval: ${e.message}\n${e instanceof UsageError && e.hint ? "Run 'mlops-eval --help' for the options.\n" : ''}`);
      return 2;
    }
    io.stderr(`mlops-eval: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
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
 * The decision as a readable table: one header line (metric, method, data size), one row per model
 * with its estimate, interval and — against the baseline — delta, interval and win rate, then the
 * decision and its reason.
 */
export function formatTable(d: Decision): string {
  const level = `${Math.round(d.confidence * 1000) / 10}%`;
  const how =
    d.method === 'bootstrap'
      ? `paired bootstrap (${d.bootstrap}), ${d.resamples} resamples, seed ${JSON.stringify(d.seed)}`
      : "DeLong's test";
  const lines = [`${METRIC_NAME[d.metric]} (${d.higherIsBetter ? 'higher' : 'lower'} is better), ${how}; ${d.n} rows, ${d.positives} positive`];
  if (d.degenerateResamples > 0) lines.push(`${d.degenerateResamples} single-class resample(s) were redrawn`);
  const header = ['model', 'role', 'estimate'];
  if (d.method === 'bootstrap') header.push('mean');
  header.push(`${level} CI`);
  const hasBaseline = d.baseline !== undefined;
  if (hasBaseline) {
    header.push('Δ vs baseline', `${level} CI of Δ`, d.method === 'bootstrap' ? 'win rate' : 'P(Δ ≥ 0)');
    if (d.method === 'delong') header.push('p-value');
  }
  const rows = d.models.map((m) => {
    const row = [m.name, m.isBaseline ? 'baseline' : m.name === d.best ? 'best' : 'candidate', f4(m.estimate)];
    if (d.method === 'bootstrap') row.push(f4(m.mean));
    row.push(interval(m.ci));
    if (hasBaseline) {
      const v = m.vsBaseline;
      row.push(v ? signed4(v.meanDelta) : '', v ? interval(v.deltaCi) : '', v ? pct(v.winRate) : '');
      if (d.method === 'delong') row.push(v?.pValue !== undefined ? v.pValue.toPrecision(3) : '');
    }
    return row;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const render = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  lines.push('', render(header), ...rows.map(render), '');
  lines.push(`Decision: ${d.decision.toUpperCase()}${d.decision === 'promote' ? ` '${d.best}'` : ''}. ${d.reason}`);
  return `${lines.join('\n')}\n`;
}
