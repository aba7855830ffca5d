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

export type { RunWaitDeps } from './notebook-run';

/** One model to score: `key` is its column in the predictions file. */
export interface ScoringModel {
  key: string;
  uri: string;
}

export interface ScoredPredictions {
  /** The predictions file, read in chunks (CSV streams) or whole (Arrow IPC, Parquet). */
  file: ChunkedFile;
  /** Its name, for the format when the content has no magic bytes (CSV) and for messages. */
  fileName?: string;
  /** Ids and paths of this particular run, for the record's `context`. */
  context: { scoringRunId?: number; scoringRunUrl?: string; predictionsPath?: string; rowsReported?: number };
  /** Deletes what was created for this evaluation (the remote predictions file, the local copy). */
  cleanup(): Promise<void>;
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
      const exit = await this.readExitValue(run, folder, where, signal);
      const local = path.join(this.deps.tempDir, `predictions-${runId}.arrow`);
      const remote = exit.outputPath;
      const cleanup = async () => {
        await fsp.rm(local, { force: true });
        await this.deps.files.delete(remote, { missingOk: true });
      };
      try {
        const { bytes } = await this.deps.files.download(remote, local, { maxBytes: this.deps.maxPredictionBytes ?? DEFAULT_MAX_PREDICTION_BYTES, signal });
        log.info(`Downloaded ${remote} (${bytes} bytes${exit.rows >= 0 ? `, ${exit.rows} rows` : ''}).`);
        return {
          file: openChunkedFile(local),
          fileName: local,
          context: { scoringRunId: runId, scoringRunUrl: run.run_page_url, predictionsPath: remote, rowsReported: exit.rows },
          cleanup,
        };
      } catch (err) {
        await cleanup().catch(() => undefined);
        if (isNotFound(err) && rescore < MAX_RESCORES && !signal.aborted) {
          log.info(
            `The predictions file ${remote} of ${where} no longer exists (an earlier attempt of this step read and deleted it before it was stopped; ` +
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

  private async readExitValue(run: Run, folder: string, where: string, signal: AbortSignal): Promise<{ outputPath: string; rows: number }> {
    const tasks = run.tasks ?? [];
    if (tasks.length === 0) throw new Error(`${where} has no task runs to read the output of.`);
    const outputs: Array<{ key: string; out: RunOutput }> = [];
    for (const t of tasks) outputs.push({ key: t.task_key, out: await this.deps.jobs.getRunOutput(t.run_id, signal) });
    const withResult = outputs.filter((o) => o.out.notebook_output?.result !== undefined);
    if (withResult.length === 0) return parseExitValue(undefined, folder, where);
    if (withResult.length > 1) {
      throw new Error(
        `${where}: several tasks exited with a value (${withResult.map((o) => o.key).join(', ')}); the scoring job must have exactly one task that calls dbutils.notebook.exit.`,
      );
    }
    const nb = withResult[0].out.notebook_output!;
    if (nb.truncated) throw new Error(`${where}: the exit value was truncated; exit with only {"output_path", "rows"}.`);
    return parseExitValue(nb.result, folder, `${where} task ${withResult[0].key}`);
  }
}
