/**
 * Getting the predictions: run the bundled scoring notebook as a one-time run (or the user's scoring job)
 * with the scoring contract's parameters, read its exit value, download the Arrow file it wrote and delete
 * it; or read a file the user scored elsewhere.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { RunStartRequest } from '../../databricks/run-lifecycle';
import { isNotFound } from '../../databricks/errors';
import { type FilesClient } from '../../databricks/files';
import { idempotencyToken, JobsClient, Run, RunOutput, TaskSpec } from '../../databricks/jobs';
import type { WorkspaceClient } from '../../databricks/workspace';
import type { ProblemType } from '../../engine';
import { openChunkedFile } from '../../io/file-chunks';
import type { ChunkedFile } from '../../io/predictions-file';
import type { Logger } from '../../pipeline/host';
import type { BuildContext, ClusterConfig, ScoringConfig } from './inputs';
import { parseExitJson, runToSuccess, type RunWaitDeps } from './notebook-run';
import { localRowLimitOf, type AutoMethodNote } from './scale-inputs';

export type { RunWaitDeps } from './notebook-run';

/** One model to score: `key` is its column in the predictions file. */
export interface ScoringModel {
  key: string;
  uri: string;
}

export interface ScoredPredictions {
  /** The predictions file, read in chunks (CSV streams) or whole (Arrow IPC, Parquet); absent when the comparison ran on Spark. */
  file?: ChunkedFile;
  /** The bundled notebook's switch (issue 23): where the comparison runs and why; absent without a switch. */
  comparison?: ComparisonPath;
  /** The comparison ran on Spark: its integer sums (`mlopspipelines.spark-sums/v1`), for the engine's finisher. */
  sparkSums?: unknown;
  /** Its name, for the format when the content has no magic bytes (CSV) and for messages. */
  fileName?: string;
  /** Ids and paths of this particular run, for the record's `context`. */
  context: { scoringRunId?: number; scoringRunUrl?: string; predictionsPath?: string; rowsReported?: number };
  /** Deletes what was created for this evaluation (the remote predictions file, the local copy). */
  cleanup(): Promise<void>;
}

/** Where the comparison ran: on the agent (the predictions downloaded) or on Spark (integer sums). */
export interface ComparisonPath {
  on: 'agent' | 'spark';
  rows: number;
  localRowLimit: number;
  /** How the limit was set: `localRowLimit`, or `auto: 1.5e8 / 3 models`. */
  how: string;
  /** The log line saying which path and why. */
  sentence: string;
}

export interface PredictionsProvider {
  readonly description: string;
  produce(models: ScoringModel[], signal: AbortSignal): Promise<ScoredPredictions>;
}

/** Reads a predictions file on the agent (predictionsSource = file). */
export class FilePredictions implements PredictionsProvider {
  constructor(private readonly file: string) {}

  get description(): string {
    return `predictions file ${this.file}`;
  }

  async produce(): Promise<ScoredPredictions> {
    let file: ChunkedFile;
    try {
      // Opened here (its head read); a CSV is then parsed chunk by chunk, never held whole.
      file = openChunkedFile(this.file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(
        `predictionsFile ${this.file} cannot be read (${code ?? 'error'}). Check the path; relative paths are resolved against System.DefaultWorkingDirectory.`,
      );
    }
    return { file, fileName: this.file, context: { predictionsPath: this.file }, cleanup: async () => {} };
  }
}

export interface DatabricksScoringDeps extends RunWaitDeps {
  jobs: RunWaitDeps['jobs'] & Pick<JobsClient, 'getJob'>;
  workspace: Pick<WorkspaceClient, 'mkdirs' | 'importFile'>;
  files: Pick<FilesClient, 'download' | 'delete'>;
  log: Logger;
  tempDir: string;
  onCancel(cleanup: () => Promise<void>): void;
  /** The bundled notebook's source (scoringNotebook only). */
  notebookSource?: string;
  /** Poll intervals of the run wait (tests shorten them). */
  pollIntervalMs?: { initial: number; max: number };
  /** Upper bound on the predictions file size. */
  maxPredictionBytes?: number;
}

/**
 * The scoring contract's parameters. `registry_uri` (`databricks` for the workspace registry,
 * `databricks-uc` for Unity Catalog) tells the notebook which registry `models:/<name>/<version>` is in: the
 * default depends on the compute and MLflow version (Unity Catalog on serverless and with MLflow 3), so the
 * notebook must not rely on it.
 */
export const PARAMETER_NAMES = ['models', 'evaluation_table', 'evaluation_query', 'label_column', 'max_rows', 'output_path', 'registry_uri'] as const;

/**
 * Issue 20's parameters, passed only when they differ from the default (binaryClassification, no slices),
 * so a user's scoring job defined with job-level parameters keeps working until it uses the new features;
 * when it does, the job must define them (checked with the others before the run starts).
 */
export const FEATURE_PARAMETER_NAMES = ['problem_type', 'slice_columns'] as const;

/** What the scoring writes besides binary scores: the problem type's layout and the slice columns passed through. */
export interface ScoringFeatures {
  problemType: ProblemType;
  sliceColumns: string[];
  /**
   * The bundled notebook only (issue 23): the switch to Spark above a row limit (absent = auto), the row key
   * column and the `comparison` parameter (scale-inputs.ts). Absent: no switch, the parameters are not sent.
   */
  scale?: { localRowLimit?: number; rowKeyColumn?: string; comparison: string; autoMethod?: AutoMethodNote };
}

/** Issue 23's parameters of the bundled notebook (docs/scale-out.md): sent only with the switch. */
export const SCALE_PARAMETER_NAMES = ['local_row_limit', 'comparison', 'row_key_column'] as const;

/** Upper bound on a downloaded sums file (a few kB per resample; B is at most 100,000). */
const MAX_SUMS_BYTES = 256 * 1024 ** 2;

/** 180000000 as 180,000,000. */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The MLflow registry URI of a registry kind (mlflow.set_registry_uri). */
export function registryUriOf(kind: 'workspace' | 'unityCatalog'): 'databricks' | 'databricks-uc' {
  return kind === 'unityCatalog' ? 'databricks-uc' : 'databricks';
}
const DEFAULT_MAX_PREDICTION_BYTES = 2 * 1024 ** 3;
/** Fresh scoring runs started when the run found by the idempotency token has lost its predictions file. */
export const MAX_RESCORES = 2;

/** The unique folder of one evaluation attempt under the user's outputPath. */
export function evaluationFolder(outputPath: string, build: BuildContext): string {
  const suffix = idempotencyToken([build.collectionUri ?? '', build.teamProject ?? '', build.buildId, build.jobAttempt, build.taskInstanceId]).slice(0, 10);
  return `${outputPath.replace(/\/+$/, '')}/evaluate-${build.buildId}-${build.jobAttempt}-${suffix}`;
}

export function clusterFields(cluster: ClusterConfig | undefined): Partial<TaskSpec> {
  if (!cluster || cluster.mode === 'serverless') return {};
  if (cluster.mode === 'existing') return { existing_cluster_id: cluster.clusterId };
  return { new_cluster: cluster.newCluster };
}

/** The exit value contract: `{"output_path": <file>, "rows": <n>}`, the file inside this evaluation's folder. */
export function parseExitValue(raw: string | undefined, folder: string, where: string): { outputPath: string; rows: number } {
  const parsed = parseExitJson(raw, where, 'scoring notebook', '{"output_path": ..., "rows": ...}');
  const o = parsed as { output_path?: unknown; rows?: unknown };
  if (parsed === null || typeof parsed !== 'object' || typeof o.output_path !== 'string') {
    throw new Error(`${where} exited with JSON without a string output_path: ${raw!.slice(0, 200)}`);
  }
  const out = o.output_path;
  if (!out.startsWith(`${folder}/`) || out.split('/').includes('..')) {
    throw new Error(
      `${where} reported output_path ${out}, which is not inside the folder it was given (${folder}); the task reads and deletes only files there.`,
    );
  }
  const rows = typeof o.rows === 'number' && Number.isInteger(o.rows) && o.rows >= 0 ? o.rows : -1;
  return { outputPath: out, rows };
}

/** Starts scoring run number `rescore` with the contract's parameters and waits until it succeeds. */
type StartScoring = (rescore: number, params: Record<string, string>) => Promise<{ run: Run; runId: number; where: string }>;

/** Runs the scoring on Databricks: the bundled notebook (one-time run) or the user's job (run-now). */
export class DatabricksScoring implements PredictionsProvider {
  constructor(
    private readonly deps: DatabricksScoringDeps,
    private readonly cfg: ScoringConfig,
    private readonly labelColumn: string,
    private readonly build: BuildContext,
    private readonly runName: string,
    /** Where the production model `models:/<name>/<version>` is registered (the notebook sets it explicitly). */
    private readonly registryUri: 'databricks' | 'databricks-uc' = 'databricks',
    private readonly features: ScoringFeatures = { problemType: 'binaryClassification', sliceColumns: [] },
  ) {}

  get description(): string {
    return this.cfg.jobId !== undefined ? `scoring job ${this.cfg.jobId}` : `scoring notebook ${this.cfg.notebookPath}`;
  }

  parameters(models: ScoringModel[], folder: string): Record<string, string> {
    return {
      models: JSON.stringify(models.map((m) => ({ key: m.key, uri: m.uri }))),
      evaluation_table: this.cfg.evaluationTable ?? '',
      evaluation_query: this.cfg.evaluationQuery ?? '',
      label_column: this.labelColumn,
      max_rows: String(this.cfg.maxRows),
      output_path: folder,
      registry_uri: this.registryUri,
      ...(this.features.problemType !== 'binaryClassification' ? { problem_type: this.features.problemType } : {}),
      ...(this.features.sliceColumns.length > 0 ? { slice_columns: this.features.sliceColumns.join(',') } : {}),
      ...this.scaleParameters(models.length),
    };
  }

  /** The switch's limit for `models` models, when this scoring has the switch (the bundled notebook only). */
  private switchOf(models: number): PathSwitch | undefined {
    const scale = this.features.scale;
    if (!scale || this.cfg.jobId !== undefined) return undefined;
    return { ...localRowLimitOf(scale.localRowLimit, models), ...(scale.autoMethod ? { autoMethod: scale.autoMethod } : {}) };
  }

  private scaleParameters(models: number): Record<string, string> {
    const sw = this.switchOf(models);
    const scale = this.features.scale;
    if (!sw || !scale) return {};
    return {
      local_row_limit: String(sw.limit),
      comparison: scale.comparison,
      ...(scale.rowKeyColumn !== undefined ? { row_key_column: scale.rowKeyColumn } : {}),
    };
  }

  /**
   * Same attempt, same scoring target: the same token, so a re-run after a kill reattaches to the run the
   * killed attempt started. `rescore` > 0 derives a new token for a fresh run (see {@link produce}).
   */
  private token(kind: string, rescore: number): string {
    return idempotencyToken([
      'evaluate-score',
      kind,
      this.build.collectionUri ?? '',
      this.build.teamProject ?? '',
      this.build.buildId,
      this.build.jobAttempt,
      this.build.taskInstanceId,
      ...(rescore > 0 ? [`rescore-${rescore}`] : []),
    ]);
  }

  /**
   * Starts (or, by idempotency token, finds again) the scoring run, waits for it and downloads its
   * predictions. A re-run of a step that was killed after it had read and deleted the predictions gets the
   * same finished run back, whose file is gone: then, and only for a missing file, a fresh run is started
   * under a derived token (at most {@link MAX_RESCORES} times, each token fixed, so a re-run that is killed
   * again walks the same sequence instead of starting more runs).
   */
  async produce(models: ScoringModel[], signal: AbortSignal): Promise<ScoredPredictions> {
    const { log } = this.deps;
    const base = evaluationFolder(this.cfg.outputPath, this.build);
    const start = this.cfg.jobId !== undefined ? await this.prepareJob(this.cfg.jobId, signal) : await this.prepareNotebook(signal);
    for (let rescore = 0; ; rescore++) {
      // A fresh run writes into its own subfolder, so the earlier run (found again by its token) never
      // points at the fresh run's file.
      const folder = rescore === 0 ? base : `${base}/rescore-${rescore}`;
      const { run, runId, where } = await start(rescore, this.parameters(models, folder));
      const sw = this.switchOf(models.length);
      const exit = await this.readExitValue(run, folder, where, signal, sw?.limit);
      const comparison = sw ? comparisonPath(exit, sw) : undefined;
      if (comparison) log.info(comparison.sentence);
      const runContext = { scoringRunId: runId, scoringRunUrl: run.run_page_url, rowsReported: exit.rows };
      if (exit.path === 'spark' && exit.result !== undefined) {
        return { comparison, sparkSums: exit.result, context: runContext, cleanup: async () => {} };
      }
      const spark = exit.path === 'spark';
      const local = path.join(this.deps.tempDir, spark ? `spark-sums-${runId}.json` : `predictions-${runId}.arrow`);
      const remote = exit.path === 'spark' ? exit.resultPath! : exit.outputPath;
      const cleanup = async () => {
        await fsp.rm(local, { force: true });
        await this.deps.files.delete(remote, { missingOk: true });
      };
      try {
        const maxBytes = spark ? MAX_SUMS_BYTES : (this.deps.maxPredictionBytes ?? DEFAULT_MAX_PREDICTION_BYTES);
        const { bytes } = await this.deps.files.download(remote, local, { maxBytes, signal });
        log.info(`Downloaded ${remote} (${bytes} bytes${exit.rows >= 0 ? `, ${exit.rows} rows` : ''}).`);
        const context = { ...runContext, predictionsPath: remote };
        if (spark) {
          const sparkSums = parseSumsFile(await fsp.readFile(local, 'utf8'), remote, where);
          await cleanup();
          return { comparison, sparkSums, context, cleanup: async () => {} };
        }
        return { file: openChunkedFile(local), fileName: local, comparison, context, cleanup };
      } catch (err) {
        await cleanup().catch(() => undefined);
        if (isNotFound(err) && rescore < MAX_RESCORES && !signal.aborted) {
          log.info(
            `The ${spark ? 'sums' : 'predictions'} file ${remote} of ${where} no longer exists (an earlier attempt of this step read and deleted it before it was stopped; ` +
              `the scoring run was found again by its idempotency token). Starting a fresh scoring run.`,
          );
          continue;
        }
        throw err;
      }
    }
  }

  /** Starts the scoring run and waits until it succeeds. */
  private scoringRun(request: RunStartRequest, signal: AbortSignal, announce: (runId: number) => void): Promise<{ run: Run; runId: number; where: string }> {
    return runToSuccess(this.deps, request, { label: 'Scoring run', timeoutMs: this.cfg.timeoutMs, timeoutInput: 'scoringTimeoutMinutes', signal, announce });
  }

  /** Imports the bundled notebook once; the returned function runs the one-time run (rescore n). */
  private async prepareNotebook(signal: AbortSignal): Promise<StartScoring> {
    const { workspace, log } = this.deps;
    const nbPath = this.cfg.notebookPath;
    if (!this.deps.notebookSource) throw new Error('The scoring notebook is missing from this task bundle.');
    await workspace.mkdirs(path.posix.dirname(nbPath), signal);
    await workspace.importFile({ path: nbPath, content: this.deps.notebookSource, format: 'SOURCE', language: 'PYTHON', overwrite: true, signal });
    log.info(`Imported the scoring notebook to ${nbPath}.`);
    return (rescore, params) =>
      this.scoringRun(
        {
          kind: 'submit',
          body: {
            run_name: this.runName,
            timeout_seconds: Math.ceil(this.cfg.timeoutMs / 1000),
            idempotency_token: this.token(`notebook:${nbPath}`, rescore),
            tasks: [
              { task_key: 'score', notebook_task: { notebook_path: nbPath, source: 'WORKSPACE', base_parameters: params }, ...clusterFields(this.cfg.cluster) },
            ],
          },
        },
        signal,
        (runId) => log.info(`Started scoring run ${runId}.`),
      );
  }

  /** Checks the user's job once; the returned function starts it with run-now (rescore n). */
  private async prepareJob(jobId: number, signal: AbortSignal): Promise<StartScoring> {
    const { jobs, log } = this.deps;
    const job = await jobs.getJob(jobId, signal);
    const defined = job.settings?.parameters?.map((p) => p.name) ?? [];
    // A job with job-level parameters accepts only those, so every parameter the task passes must be defined on it.
    if (defined.length > 0) {
      const missing = Object.keys(this.parameters([], '')).filter((n) => !defined.includes(n));
      if (missing.length > 0) {
        throw new Error(
          `Scoring job ${jobId} defines job parameters but not ${missing.join(', ')}; add them (empty defaults) so the task can pass the scoring contract.`,
        );
      }
    }
    return (rescore, params) => {
      const token = this.token(`job:${jobId}`, rescore);
      const body =
        defined.length > 0
          ? { job_id: jobId, job_parameters: params, idempotency_token: token }
          : { job_id: jobId, notebook_params: params, idempotency_token: token };
      return this.scoringRun({ kind: 'runNow', body }, signal, (runId) =>
        log.info(`Started run ${runId} of scoring job ${jobId}${job.settings?.name ? ` (${job.settings.name})` : ''}.`),
      );
    };
  }

  private async readExitValue(run: Run, folder: string, where: string, signal: AbortSignal, limit?: number): Promise<ScoringExit> {
    const tasks = run.tasks ?? [];
    if (tasks.length === 0) throw new Error(`${where} has no task runs to read the output of.`);
    const outputs: Array<{ key: string; out: RunOutput }> = [];
    for (const t of tasks) outputs.push({ key: t.task_key, out: await this.deps.jobs.getRunOutput(t.run_id, signal) });
    const withResult = outputs.filter((o) => o.out.notebook_output?.result !== undefined);
    if (withResult.length === 0) return { path: 'local', ...parseExitValue(undefined, folder, where) };
    if (withResult.length > 1) {
      throw new Error(
        `${where}: several tasks exited with a value (${withResult.map((o) => o.key).join(', ')}); the scoring job must have exactly one task that calls dbutils.notebook.exit.`,
      );
    }
    const nb = withResult[0].out.notebook_output!;
    if (nb.truncated) throw new Error(`${where}: the exit value was truncated; exit with only {"output_path", "rows"}.`);
    return parseScoringExit(nb.result, folder, `${where} task ${withResult[0].key}`, limit);
  }
}

/** The scoring run's exit: predictions to download (the agent's comparison) or Spark's sums, inline or in a file. */
export type ScoringExit =
  { path: 'local'; outputPath: string; rows: number } | { path: 'spark'; rows: number; localRowLimit: number; result?: unknown; resultPath?: string };

/** A path the run reports, checked to be inside the folder it was given (the task reads and deletes only files there). */
function insideFolder(value: string, folder: string, where: string, field: string): string {
  if (!value.startsWith(`${folder}/`) || value.split('/').includes('..')) {
    throw new Error(
      `${where} reported ${field} ${value}, which is not inside the folder it was given (${folder}); the task reads and deletes only files there.`,
    );
  }
  return value;
}

/**
 * The exit value with the switch (docs/scale-out.md). Large sums come in a file because the exit value is
 * bounded: "Databricks restricts this API to return the first 5 MB of the value. For a larger result, your job
 * can store the results in a cloud storage service" (`NotebookOutput.result` in the Databricks SDKs,
 * databricks-sdk-go `service/jobs`, databricks-sdk-py `databricks/sdk/service/jobs.py`); the notebook writes a file
 * above 1,000,000 bytes, well below that.
 *
 * `comparison` absent or `local` is the scoring contract's
 * `{"output_path", "rows"}`; `spark` carries `rows` (above the limit sent), the limit echoed, and the sums as
 * `result` or in the file `result_path`. A Spark exit the task did not ask for, or one that does not add up, fails.
 */
export function parseScoringExit(raw: string | undefined, folder: string, where: string, limit: number | undefined): ScoringExit {
  const parsed = parseExitJson(raw, where, 'scoring notebook', '{"output_path": ..., "rows": ...}') as Record<string, unknown> | null;
  const kind = parsed !== null && typeof parsed === 'object' ? parsed.comparison : undefined;
  if (kind === undefined || kind === 'local') return { path: 'local', ...parseExitValue(raw, folder, where) };
  if (kind !== 'spark') throw new Error(`${where} exited with comparison ${JSON.stringify(kind).slice(0, 40)}; expected "local" or "spark".`);
  const o = parsed!;
  if (limit === undefined) {
    throw new Error(`${where} says it compared on Spark, which the task did not ask for (no local_row_limit was sent); the decision is not taken from it.`);
  }
  const rows = o.rows;
  if (!(typeof rows === 'number' && Number.isSafeInteger(rows) && rows > limit)) {
    throw new Error(`${where} compared on Spark but reported rows ${JSON.stringify(rows)}, not a whole number above the local row limit ${limit}.`);
  }
  if (o.local_row_limit !== limit) {
    throw new Error(`${where} compared on Spark with local_row_limit ${JSON.stringify(o.local_row_limit)}, but the task sent ${limit}.`);
  }
  const hasResult = o.result !== undefined;
  const hasPath = o.result_path !== undefined;
  if (hasResult === hasPath)
    throw new Error(
      `${where} compared on Spark but exited with ${hasResult ? 'both result and result_path' : 'neither result nor result_path'}; expected exactly one.`,
    );
  if (hasPath) {
    if (typeof o.result_path !== 'string') throw new Error(`${where} exited with a result_path that is not a string.`);
    return { path: 'spark', rows, localRowLimit: limit, resultPath: insideFolder(o.result_path, folder, where, 'result_path') };
  }
  return { path: 'spark', rows, localRowLimit: limit, result: o.result };
}

/** The switch of one scoring: the row limit, how it was set, and with method auto what each path runs. */
interface PathSwitch {
  limit: number;
  how: string;
  autoMethod?: AutoMethodNote;
}

/**
 * Which path the comparison takes, and the sentence the task logs. With method auto the sentence adds the method
 * that path runs (`; ROC AUC by exact DeLong (method auto)`); with an explicit method it is unchanged.
 */
function comparisonPath(exit: ScoringExit, sw: PathSwitch): ComparisonPath {
  const base = { rows: exit.rows, localRowLimit: sw.limit, how: sw.how };
  if (exit.path === 'spark') {
    const method = sw.autoMethod ? `; ${sw.autoMethod.spark}` : '';
    return {
      on: 'spark',
      ...base,
      sentence: `Compared on Spark: ${groupDigits(exit.rows)} rows is above the local row limit ${groupDigits(sw.limit)} (${sw.how})${method}.`,
    };
  }
  const rows =
    exit.rows >= 0
      ? `${groupDigits(exit.rows)} rows ${exit.rows <= sw.limit ? '≤' : '>'} local row limit`
      : 'the scoring run reported no row count; local row limit';
  const method = sw.autoMethod ? `; ${sw.autoMethod.agent}` : '';
  return { on: 'agent', ...base, sentence: `Compared on the agent: ${rows} ${groupDigits(sw.limit)} (${sw.how})${method}.` };
}

/** The sums file written by the notebook: JSON text (validated in full by the engine's finisher). */
function parseSumsFile(text: string, remote: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`The sums file ${remote} of ${where} is not JSON (${text.length} characters); the comparison on Spark cannot be finished.`);
  }
}
