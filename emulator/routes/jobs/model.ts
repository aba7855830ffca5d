/**
 * The Jobs emulator's data: what notebooks receive and throw, job settings as jobs/create takes them
 * (the JS SDK's jobs `model.d.ts`: JobSettings, Task, NotebookTask, JobParameterDefinition), and runs as the
 * store keeps them (rendered as the API answers by render.ts). docs/databricks-api-notes.md §1.
 */
import type { EmulatorCore } from '../../contracts';

/** Thrown by a notebook handler: the task run fails with `error` = message and `error_trace` = trace. */
export class NotebookError extends Error {
  constructor(
    message: string,
    readonly trace?: string,
  ) {
    super(message);
  }
}

/**
 * Thrown by a notebook handler to simulate a platform failure: the task run ends in life cycle
 * INTERNAL_ERROR (result FAILED, termination code INTERNAL_ERROR).
 */
export class RunInternalError extends Error {}

export interface NotebookContext {
  /** The job the run belongs to (one-time runs have a job id too, as on Databricks). */
  jobId?: number;
  /** The parent (job) run id. */
  runId: number;
  taskRunId: number;
  taskKey: string;
  notebookPath: string;
  /** Effective widget values: base_parameters, then notebook_params or job parameters. */
  params: Record<string, string>;
  /**
   * The compute the task runs on: serverless (no cluster field on the task) or a classic cluster (existing,
   * new or job cluster). Serverless differs in ways notebooks notice: MLflow's default registry is Unity
   * Catalog there (see {@link defaultRegistryUri}), `spark.conf.set` of most keys is refused, and DBFS access
   * is limited.
   */
  compute: 'serverless' | 'classic';
  core: EmulatorCore;
}

/**
 * MLflow's default registry URI on Databricks when a notebook does not call `mlflow.set_registry_uri`:
 * Unity Catalog (`databricks-uc`) on serverless and with MLflow 3 (MLflow 3 on Databricks defaults to UC;
 * Databricks docs "Manage model lifecycle in Unity Catalog": serverless and new workspaces default to UC),
 * the workspace registry (`databricks`) with MLflow 2 on a classic cluster. Emulated notebooks use it so a
 * notebook that forgets to set the registry fails as it would on Databricks.
 */
export function defaultRegistryUri(compute: 'serverless' | 'classic', mlflowMajor: 2 | 3): 'databricks' | 'databricks-uc' {
  return compute === 'serverless' || mlflowMajor >= 3 ? 'databricks-uc' : 'databricks';
}

export type NotebookHandler = (ctx: NotebookContext) => { exitValue?: string } | void | Promise<{ exitValue?: string } | void>;

export interface NotebookOptions {
  /** Emulated time the notebook stays RUNNING (overrides `durations.runningMs`). */
  runningMs?: number;
}

export interface JobsDurations {
  /** Time a run waits in QUEUED before its tasks start. */
  queuedMs: number;
  /** Time a task run is PENDING (cluster start). */
  pendingMs: number;
  /** Time a task run is RUNNING. */
  runningMs: number;
  /** Time a task run is TERMINATING (also after a cancel). */
  terminatingMs: number;
}

export interface JobParameterDefinition {
  name: string;
  default: string;
}

export interface JobTaskSettings {
  task_key: string;
  notebook_task?: { notebook_path: string; base_parameters?: Record<string, string>; source?: string; warehouse_id?: string };
  depends_on?: Array<{ task_key: string; outcome?: string }>;
  run_if?: string;
  existing_cluster_id?: string;
  new_cluster?: Record<string, unknown>;
  job_cluster_key?: string;
  environment_key?: string;
  [key: string]: unknown;
}

export interface JobSettings {
  name: string;
  tasks?: JobTaskSettings[];
  parameters?: JobParameterDefinition[];
  /** When set, runs beyond this many active runs are QUEUED (queue enabled) or SKIPPED. Unlimited if unset. */
  max_concurrent_runs?: number;
  queue?: { enabled: boolean };
  [key: string]: unknown;
}

export interface EmulatedJob {
  job_id: number;
  created_time: number;
  creator_user_name: string;
  settings: JobSettings;
}

export type LifeCycle = 'QUEUED' | 'PENDING' | 'RUNNING' | 'TERMINATING' | 'TERMINATED' | 'SKIPPED' | 'INTERNAL_ERROR' | 'BLOCKED';

export interface TaskEnd {
  at: number;
  lifeCycle: 'TERMINATED' | 'SKIPPED' | 'INTERNAL_ERROR';
  result?: string;
  code: string;
  type: string;
  message: string;
}

/** One task run as stored; `view()` renders it as the API does. */
export interface EmulatedTaskRun {
  runId: number;
  taskKey: string;
  spec: JobTaskSettings;
  params: Record<string, string>;
  dependsOn: string[];
  startAt?: number;
  runningAt?: number;
  runningMs: number;
  /** When the notebook finished and TERMINATING began. */
  terminatingAt?: number;
  end?: TaskEnd;
  handlerInvoked: boolean;
  exitValue?: string;
  error?: string;
  errorTrace?: string;
  cancelRequestedAt?: number;
  /** A cancel already decided this task's end. */
  cancelApplied?: boolean;
  clusterId?: string;
}

/** The request body of run-now and runs/submit, once it is known to be an object. */
export type RunRequestBody = Record<string, unknown>;

/** One job run (parent) as stored. */
export interface EmulatedRun {
  runId: number;
  jobId: number;
  runName: string;
  runType: 'JOB_RUN' | 'SUBMIT_RUN';
  createdAt: number;
  creator: string;
  idempotencyToken?: string;
  /** The exact request body that created the run (run-now or runs/submit). */
  requestBody: RunRequestBody;
  tasks: EmulatedTaskRun[];
  jobParameters?: Array<{ name: string; default: string; value?: string }>;
  overridingParameters?: Record<string, unknown>;
  skippedMessage?: string;
  cancelRequestedAt?: number;
}
