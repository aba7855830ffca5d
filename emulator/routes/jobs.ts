/**
 * Jobs API 2.2 (and 2.1) emulation: saved jobs, run-now, one-time runs (runs/submit), runs/get with the
 * full life cycle, runs/get-output, runs/cancel and idempotency tokens (docs/databricks-api-notes.md §1 and §10).
 *
 * Runs do not execute on timers: their state is derived from the emulator clock (`core.clock.now()`) each
 * time a request (or a test) looks at them. A task run is PENDING for `pendingMs`, RUNNING for
 * `runningMs`, TERMINATING for `terminatingMs`, then TERMINATED. The notebook registered for the task's
 * path (`notebooks.register`) is invoked once, the first time the run is observed at or past RUNNING, and
 * decides the result. Tests advance the clock instead of sleeping.
 */
import { createHash } from 'node:crypto';
import { ApiFault, EmulatorCore, EmulatorRequest } from '../contracts';

// ---------------------------------------------------------------------------------------------------
// Public handle types

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

type LifeCycle = 'QUEUED' | 'PENDING' | 'RUNNING' | 'TERMINATING' | 'TERMINATED' | 'SKIPPED' | 'INTERNAL_ERROR' | 'BLOCKED';

interface TaskEnd {
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
  requestBody: any;
  tasks: EmulatedTaskRun[];
  jobParameters?: Array<{ name: string; default: string; value?: string }>;
  overridingParameters?: Record<string, unknown>;
  skippedMessage?: string;
  cancelRequestedAt?: number;
}

export interface JobsEmulator {
  /** Creates a saved job (as jobs/create would) and returns its id. */
  createJob(settings: JobSettings, opts?: { creator?: string }): number;
  readonly jobs: Map<number, EmulatedJob>;
  /** Parent runs by run id. */
  readonly runs: Map<number, EmulatedRun>;
  /** Every runs/cancel call accepted, in order, with the emulated time it arrived. */
  readonly cancels: Array<{ runId: number; at: number }>;
  durations: JobsDurations;
  /** runs/get returns at most this many tasks per page (2.2 array paging); 100 on Databricks. */
  runsGetPageSize: number;
  /** notebook_output.result is cut to this many bytes and flagged truncated (5 MB on Databricks). */
  maxNotebookOutputBytes: number;
  notebooks: {
    register(path: string, handler: NotebookHandler, opts?: NotebookOptions): void;
    unregister(path: string): void;
  };
  /** The run as runs/get would return it now (advancing its life cycle), or undefined. */
  getRun(runId: number, host?: string): Promise<any | undefined>;
  /** Finds the parent run that owns a task run id. */
  findByTaskRunId(taskRunId: number): EmulatedRun | undefined;
}

// ---------------------------------------------------------------------------------------------------

const MULTI_TASK_OUTPUT_MESSAGE =
  'Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.';
const FAILED_STATE_MESSAGE = 'Workload failed, see run output for details';

function badParam(message: string): ApiFault {
  return new ApiFault(400, 'INVALID_PARAMETER_VALUE', message);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, field: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) throw badParam(`Invalid value for field ${field}: expected an object of strings.`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw badParam(`Invalid value for ${field}.${k}: expected a string.`);
    out[k] = val;
  }
  return out;
}

function parseId(raw: unknown, field: string): number {
  const s = Array.isArray(raw) ? raw[0] : raw;
  if (s === undefined || s === null || s === '') throw badParam(`Missing required field: ${field}`);
  const n = typeof s === 'number' ? s : /^\d+$/.test(String(s)) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw badParam(`Invalid value for field ${field}: ${String(s)}`);
  return n;
}

/** Drops undefined, empty strings, empty arrays, empty objects and false (proto-JSON omission). */
function compact<T extends Record<string, unknown>>(o: T, keep: string[] = []): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (keep.includes(k)) {
      if (v !== undefined) out[k] = v;
      continue;
    }
    if (v === undefined || v === '' || v === false || v === 0) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (isPlainObject(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out as T;
}

function hostOf(req: EmulatorRequest): string {
  const h = req.headers.host ?? '127.0.0.1';
  return `http://${h}`;
}

export function install(core: EmulatorCore): JobsEmulator {
  const jobs = new Map<number, EmulatedJob>();
  const runs = new Map<number, EmulatedRun>();
  const taskOwner = new Map<number, EmulatedRun>();
  const tokens = new Map<string, number>();
  const cancels: Array<{ runId: number; at: number }> = [];
  const notebooks = new Map<string, { handler: NotebookHandler; opts: NotebookOptions }>();
  // Ids look like Databricks ones (large, below 2^53) and are distinct across jobs, runs and task runs.
  let nextJobId = 640_000_000_000_001;
  let nextRunId = 880_000_000_000_001;

  const handle: JobsEmulator = {
    jobs,
    runs,
    cancels,
    durations: { queuedMs: 0, pendingMs: 2_000, runningMs: 5_000, terminatingMs: 1_000 },
    runsGetPageSize: 100,
    maxNotebookOutputBytes: 5 * 1024 * 1024,
    createJob(settings, opts) {
      return createJob(settings, opts?.creator ?? 'emulator-user@example.com');
    },
    notebooks: {
      register(path, handler, opts = {}) {
        notebooks.set(path, { handler, opts });
      },
      unregister(path) {
        notebooks.delete(path);
      },
    },
    async getRun(runId, host = 'http://127.0.0.1') {
      const run = runs.get(runId);
      if (!run) return undefined;
      await advance(run);
      return runView(run, host);
    },
    findByTaskRunId(taskRunId) {
      return taskOwner.get(taskRunId);
    },
  };
  core.modules.jobs = handle;

  function createJob(settings: JobSettings, creator: string): number {
    if (!isPlainObject(settings)) throw badParam('Invalid value for field settings.');
    validateTasks(settings.tasks ?? [], 'tasks', false);
    for (const p of settings.parameters ?? []) {
      if (!p || typeof p.name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(p.name) || typeof p.default !== 'string') {
        throw badParam('Job parameters need a name (alphanumerics, _, - and .) and a string default.');
      }
    }
    const jobId = nextJobId++;
    jobs.set(jobId, { job_id: jobId, created_time: core.clock.now(), creator_user_name: creator, settings: structuredClone({ ...settings, name: settings.name || 'Untitled' }) });
    return jobId;
  }

  function validateTasks(tasks: unknown, field: string, required: boolean): void {
    if (!Array.isArray(tasks)) throw badParam(`Invalid value for field ${field}: expected an array.`);
    if (required && tasks.length === 0) throw badParam(`Missing required field: ${field}`);
    const keys = new Set<string>();
    for (const [i, t] of tasks.entries()) {
      if (!isPlainObject(t)) throw badParam(`Invalid value for ${field}[${i}].`);
      if (typeof t.task_key !== 'string' || t.task_key === '') throw badParam(`Missing required field: ${field}[${i}].task_key`);
      if (keys.has(t.task_key)) throw badParam(`Task key ${t.task_key} is not unique.`);
      keys.add(t.task_key);
      const nb = t.notebook_task;
      if (!isPlainObject(nb)) throw badParam(`The emulator supports notebook tasks only; task ${t.task_key} has no notebook_task.`);
      if (typeof nb.notebook_path !== 'string' || nb.notebook_path === '') throw badParam(`Missing required field: ${field}[${i}].notebook_task.notebook_path`);
      stringMap(nb.base_parameters, `${field}[${i}].notebook_task.base_parameters`);
      const computeKinds = ['existing_cluster_id', 'new_cluster', 'job_cluster_key'].filter((k) => t[k] !== undefined);
      if (computeKinds.length > 1) throw badParam(`Task ${t.task_key} can have only one of existing_cluster_id, new_cluster and job_cluster_key.`);
      if (t.existing_cluster_id !== undefined && (typeof t.existing_cluster_id !== 'string' || t.existing_cluster_id === '')) {
        throw badParam(`Invalid value for ${field}[${i}].existing_cluster_id.`);
      }
      if (t.new_cluster !== undefined) validateCluster(t.new_cluster, `${field}[${i}].new_cluster`);
      if (t.depends_on !== undefined) {
        if (!Array.isArray(t.depends_on)) throw badParam(`Invalid value for ${field}[${i}].depends_on.`);
        for (const d of t.depends_on) {
          if (!isPlainObject(d) || typeof d.task_key !== 'string') throw badParam(`Invalid value for ${field}[${i}].depends_on.`);
        }
      }
    }
    for (const t of tasks as JobTaskSettings[]) {
      for (const d of t.depends_on ?? []) {
        if (!keys.has(d.task_key)) throw badParam(`Task ${t.task_key} depends on ${d.task_key}, which is not a task of this run.`);
      }
    }
    // Reject cycles: Databricks requires a DAG.
    const order = topoOrder(tasks as JobTaskSettings[]);
    if (!order) throw badParam('The task dependencies contain a cycle.');
  }

  function validateCluster(c: unknown, field: string): void {
    if (!isPlainObject(c)) throw badParam(`Invalid value for ${field}: expected an object.`);
    if (typeof c.spark_version !== 'string' || c.spark_version === '') throw badParam(`Missing required field: ${field}.spark_version`);
    if (c.node_type_id === undefined && c.instance_pool_id === undefined && c.policy_id === undefined) {
      throw badParam(`Missing required field: ${field}.node_type_id`);
    }
    if (c.num_workers === undefined && c.autoscale === undefined && c.is_single_node !== true) {
      throw badParam(`Missing required field: ${field}.num_workers`);
    }
  }

  function topoOrder(tasks: JobTaskSettings[]): JobTaskSettings[] | undefined {
    const done = new Set<string>();
    const out: JobTaskSettings[] = [];
    let progress = true;
    while (out.length < tasks.length && progress) {
      progress = false;
      for (const t of tasks) {
        if (done.has(t.task_key)) continue;
        if ((t.depends_on ?? []).every((d) => done.has(d.task_key))) {
          done.add(t.task_key);
          out.push(t);
          progress = true;
        }
      }
    }
    return out.length === tasks.length ? out : undefined;
  }

  function newRun(init: {
    jobId: number;
    runName: string;
    runType: 'JOB_RUN' | 'SUBMIT_RUN';
    creator: string;
    token?: string;
    body: any;
    tasks: JobTaskSettings[];
    paramsFor: (t: JobTaskSettings) => Record<string, string>;
    jobParameters?: EmulatedRun['jobParameters'];
    overriding?: Record<string, unknown>;
  }): EmulatedRun {
    const runId = nextRunId++;
    const ordered = topoOrder(init.tasks) ?? init.tasks;
    const run: EmulatedRun = {
      runId,
      jobId: init.jobId,
      runName: init.runName,
      runType: init.runType,
      createdAt: core.clock.now(),
      creator: init.creator,
      idempotencyToken: init.token,
      requestBody: structuredClone(init.body),
      jobParameters: init.jobParameters,
      overridingParameters: init.overriding,
      tasks: ordered.map((t) => {
        const taskRunId = nextRunId++;
        const reg = notebooks.get(t.notebook_task?.notebook_path ?? '');
        return {
          runId: taskRunId,
          taskKey: t.task_key,
          spec: structuredClone(t),
          params: init.paramsFor(t),
          dependsOn: (t.depends_on ?? []).map((d) => d.task_key),
          runningMs: reg?.opts.runningMs ?? handle.durations.runningMs,
          handlerInvoked: false,
        };
      }),
    };
    runs.set(runId, run);
    for (const t of run.tasks) taskOwner.set(t.runId, run);
    if (init.token !== undefined) tokens.set(init.token, runId);
    applyConcurrencyLimit(run);
    return run;
  }

  function isActive(run: EmulatedRun): boolean {
    const now = core.clock.now();
    return !run.skippedMessage && run.tasks.some((t) => !t.end || t.end.at > now);
  }

  function applyConcurrencyLimit(run: EmulatedRun): void {
    const job = jobs.get(run.jobId);
    const limit = job?.settings.max_concurrent_runs;
    if (!job || limit === undefined || job.settings.queue?.enabled) return;
    const active = [...runs.values()].filter((r) => r !== run && r.jobId === run.jobId && isActive(r));
    if (active.length >= limit) {
      run.skippedMessage = `Skipping this run because the limit of ${limit} maximum concurrent runs has been reached.`;
      for (const t of run.tasks) t.end = { at: run.createdAt, lifeCycle: 'SKIPPED', code: 'SKIPPED', type: 'SUCCESS', message: run.skippedMessage };
    }
  }

  /** When the run may leave QUEUED: after `queuedMs`, and after earlier runs that hold the job's concurrency slots. */
  async function queueEnd(run: EmulatedRun): Promise<number | undefined> {
    let end = run.createdAt + handle.durations.queuedMs;
    const job = jobs.get(run.jobId);
    const limit = job?.settings.max_concurrent_runs;
    if (job && limit !== undefined && job.settings.queue?.enabled) {
      const earlier = [...runs.values()].filter((r) => r.jobId === run.jobId && r.runId < run.runId && !r.skippedMessage);
      const ends: number[] = [];
      for (const r of earlier) {
        await advance(r);
        const e = runEnd(r);
        if (e === undefined) ends.push(Infinity);
        else ends.push(e);
      }
      // The run starts once fewer than `limit` earlier runs are still active.
      ends.sort((a, b) => a - b);
      const mustFinish = ends.length - limit + 1;
      if (mustFinish > 0) end = Math.max(end, ends[mustFinish - 1]);
    }
    return Number.isFinite(end) ? end : undefined;
  }

  function runEnd(run: EmulatedRun): number | undefined {
    if (run.tasks.some((t) => !t.end)) return undefined;
    return Math.max(run.createdAt, ...run.tasks.map((t) => t.end!.at));
  }

  const advancing = new Map<number, Promise<void>>();
  /** Brings the stored run up to `core.clock.now()`, invoking notebooks that have reached RUNNING. */
  function advance(run: EmulatedRun): Promise<void> {
    const inFlight = advancing.get(run.runId);
    if (inFlight) return inFlight;
    const p = doAdvance(run).finally(() => advancing.delete(run.runId));
    advancing.set(run.runId, p);
    return p;
  }

  async function doAdvance(run: EmulatedRun): Promise<void> {
    if (run.skippedMessage) return;
    const now = core.clock.now();
    const qEnd = await queueEnd(run);
    let changed = true;
    while (changed) {
      changed = false;
      for (const t of run.tasks) {
        if (t.cancelApplied || (t.end && t.startAt === undefined)) continue;
        const cancelAt = t.cancelRequestedAt ?? run.cancelRequestedAt;
        if (t.startAt === undefined) {
          const deps = t.dependsOn.map((k) => run.tasks.find((x) => x.taskKey === k)!);
          if (deps.some((d) => !d.end)) {
            if (cancelAt !== undefined && cancelAt <= now) {
              t.end = { at: cancelAt, lifeCycle: 'TERMINATED', result: 'CANCELED', code: 'USER_CANCELED', type: 'SUCCESS', message: 'Run cancelled.' };
              changed = true;
            }
            continue;
          }
          const ready = Math.max(qEnd ?? Infinity, ...deps.map((d) => d.end!.at));
          if (cancelAt !== undefined && cancelAt <= now && cancelAt <= ready) {
            t.end = { at: cancelAt, lifeCycle: 'TERMINATED', result: 'CANCELED', code: 'USER_CANCELED', type: 'SUCCESS', message: 'Run cancelled.' };
            changed = true;
            continue;
          }
          const failedDep = deps.find((d) => d.end!.result !== 'SUCCESS');
          if (failedDep && ready <= now && (t.spec.run_if ?? 'ALL_SUCCESS') === 'ALL_SUCCESS') {
            const cancelled = failedDep.end!.result === 'CANCELED' || failedDep.end!.result === 'UPSTREAM_CANCELED';
            t.end = {
              at: ready,
              lifeCycle: 'TERMINATED',
              result: cancelled ? 'UPSTREAM_CANCELED' : 'UPSTREAM_FAILED',
              code: cancelled ? 'CANCELED' : 'RUN_EXECUTION_ERROR',
              type: cancelled ? 'SUCCESS' : 'CLIENT_ERROR',
              message: cancelled ? 'Upstream task was cancelled.' : 'Upstream task(s) failed.',
            };
            changed = true;
            continue;
          }
          if (ready > now) continue;
          t.startAt = ready;
          t.runningAt = ready + handle.durations.pendingMs;
          t.clusterId = t.spec.existing_cluster_id ?? (t.spec.new_cluster || t.spec.job_cluster_key ? `0${run.runId % 10000}-${t.taskKey}-job-cluster` : undefined);
          changed = true;
        }
        if (t.end && t.end.at <= now) continue;
        if (cancelAt !== undefined && cancelAt <= now && (t.terminatingAt === undefined || cancelAt < t.terminatingAt)) {
          t.cancelApplied = true;
          t.terminatingAt = Math.max(cancelAt, t.startAt);
          t.end = {
            at: t.terminatingAt + handle.durations.terminatingMs,
            lifeCycle: 'TERMINATED',
            result: 'CANCELED',
            code: 'USER_CANCELED',
            type: 'SUCCESS',
            message: 'Run cancelled.',
          };
          // The end lies in the future while the run is TERMINATING; view() reads it against the clock.
          changed = true;
          continue;
        }
        if (t.runningAt !== undefined && t.runningAt <= now && !t.handlerInvoked && t.terminatingAt === undefined) {
          t.handlerInvoked = true;
          await runNotebook(run, t);
          changed = true;
        }
      }
    }
  }

  async function runNotebook(run: EmulatedRun, t: EmulatedTaskRun): Promise<void> {
    const path = t.spec.notebook_task!.notebook_path;
    const reg = notebooks.get(path);
    const finishedAt = t.runningAt! + t.runningMs;
    const terminating = (end: Omit<TaskEnd, 'at'>) => {
      t.terminatingAt = finishedAt;
      t.end = { ...end, at: finishedAt + handle.durations.terminatingMs };
    };
    if (!reg) {
      t.error = `Notebook not found: ${path}`;
      terminating({ lifeCycle: 'INTERNAL_ERROR', result: 'FAILED', code: 'RESOURCE_NOT_FOUND', type: 'CLIENT_ERROR', message: `Notebook not found: ${path}` });
      return;
    }
    try {
      const compute = t.spec.existing_cluster_id || t.spec.new_cluster || t.spec.job_cluster_key ? 'classic' : 'serverless';
      const out = await reg.handler({ jobId: run.jobId, runId: run.runId, taskRunId: t.runId, taskKey: t.taskKey, notebookPath: path, params: { ...t.params }, compute, core });
      if (out && typeof out.exitValue === 'string') t.exitValue = out.exitValue;
      terminating({ lifeCycle: 'TERMINATED', result: 'SUCCESS', code: 'SUCCESS', type: 'SUCCESS', message: '' });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof RunInternalError) {
        t.error = message;
        terminating({ lifeCycle: 'INTERNAL_ERROR', result: 'FAILED', code: 'INTERNAL_ERROR', type: 'INTERNAL_ERROR', message });
        return;
      }
      t.error = message;
      t.errorTrace = e instanceof NotebookError ? e.trace : e instanceof Error ? e.stack : undefined;
      terminating({ lifeCycle: 'TERMINATED', result: 'FAILED', code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR', message: FAILED_STATE_MESSAGE });
    }
  }

  // ------------------------------------------------------------------ rendering

  interface StateNow {
    lifeCycle: LifeCycle;
    result?: string;
    message?: string;
    code?: string;
    type?: string;
    ended: boolean;
    cancelled?: boolean;
  }

  function taskState(t: EmulatedTaskRun, now: number, qEnd: number | undefined): StateNow {
    if (t.end && t.end.at <= now) {
      return { lifeCycle: t.end.lifeCycle, result: t.end.result, message: t.end.message, code: t.end.code, type: t.end.type, ended: true, cancelled: t.end.code === 'USER_CANCELED' };
    }
    if (t.terminatingAt !== undefined && t.terminatingAt <= now) return { lifeCycle: 'TERMINATING', ended: false, cancelled: t.end?.code === 'USER_CANCELED' };
    if (t.runningAt !== undefined && t.runningAt <= now) return { lifeCycle: 'RUNNING', ended: false };
    if (t.startAt !== undefined && t.startAt <= now) return { lifeCycle: 'PENDING', message: 'Waiting for cluster', ended: false };
    if (t.dependsOn.length > 0) return { lifeCycle: 'BLOCKED', ended: false };
    if (qEnd === undefined || qEnd > now) return { lifeCycle: 'QUEUED', ended: false };
    return { lifeCycle: 'PENDING', ended: false };
  }

  function renderState(s: StateNow, queueReason?: string) {
    const v2: Record<string, unknown> = {
      state: s.ended ? 'TERMINATED' : s.lifeCycle === 'BLOCKED' ? 'BLOCKED' : s.lifeCycle,
    };
    if (s.ended) v2.termination_details = compact({ code: s.code, type: s.type, message: s.message });
    if (s.lifeCycle === 'QUEUED' && queueReason) v2.queue_details = { code: 'MAX_CONCURRENT_RUNS_REACHED', message: queueReason };
    return {
      state: compact({
        life_cycle_state: s.lifeCycle,
        result_state: s.ended ? s.result : undefined,
        state_message: s.message ?? '',
        user_cancelled_or_timedout: s.cancelled === true && s.ended,
        queue_reason: s.lifeCycle === 'QUEUED' ? queueReason : undefined,
      }),
      status: v2,
    };
  }

  function runPageUrl(host: string, jobId: number, runId: number): string {
    return `${host}/?o=${core.workspaceId}#job/${jobId}/run/${runId}`;
  }

  function taskView(run: EmulatedRun, t: EmulatedTaskRun, now: number, host: string, qEnd: number | undefined) {
    const s = taskState(t, now, qEnd);
    const { state, status } = renderState(s);
    const spec = t.spec;
    return compact(
      {
        run_id: t.runId,
        task_key: t.taskKey,
        notebook_task: spec.notebook_task,
        depends_on: spec.depends_on,
        run_if: spec.depends_on?.length ? (spec.run_if ?? 'ALL_SUCCESS') : undefined,
        existing_cluster_id: spec.existing_cluster_id,
        new_cluster: spec.new_cluster,
        job_cluster_key: spec.job_cluster_key,
        environment_key: spec.environment_key,
        state,
        status,
        run_page_url: runPageUrl(host, run.jobId, t.runId),
        cluster_instance: t.clusterId && t.startAt !== undefined && t.startAt <= now ? { cluster_id: t.clusterId } : undefined,
        start_time: t.startAt !== undefined && t.startAt <= now ? t.startAt : undefined,
        end_time: s.ended ? t.end!.at : 0,
        run_duration: s.ended && t.startAt !== undefined ? t.end!.at - t.startAt : undefined,
      },
      ['end_time'],
    );
  }

  function parentState(run: EmulatedRun, now: number, qEnd: number | undefined): StateNow {
    if (run.skippedMessage) return { lifeCycle: 'SKIPPED', message: run.skippedMessage, code: 'SKIPPED', type: 'SUCCESS', ended: true };
    const states = run.tasks.map((t) => taskState(t, now, qEnd));
    if (states.every((s) => s.ended)) {
      const internal = run.tasks.find((t) => t.end!.lifeCycle === 'INTERNAL_ERROR');
      if (internal) return { lifeCycle: 'INTERNAL_ERROR', result: 'FAILED', message: internal.end!.message, code: internal.end!.code, type: internal.end!.type, ended: true };
      const cancelled = run.tasks.some((t) => t.end!.result === 'CANCELED');
      if (cancelled) return { lifeCycle: 'TERMINATED', result: 'CANCELED', message: 'Run cancelled.', code: 'USER_CANCELED', type: 'SUCCESS', ended: true, cancelled: true };
      const failed = run.tasks.find((t) => t.end!.result !== 'SUCCESS');
      if (failed) return { lifeCycle: 'TERMINATED', result: 'FAILED', message: failed.end!.message, code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR', ended: true };
      return { lifeCycle: 'TERMINATED', result: 'SUCCESS', message: '', code: 'SUCCESS', type: 'SUCCESS', ended: true };
    }
    if (states.some((s) => s.lifeCycle === 'RUNNING')) return { lifeCycle: 'RUNNING', ended: false };
    const pendingOrBlocked = states.filter((s) => !s.ended && s.lifeCycle !== 'TERMINATING');
    if (states.some((s) => s.lifeCycle === 'TERMINATING') && pendingOrBlocked.length === 0) {
      return { lifeCycle: 'TERMINATING', ended: false, cancelled: run.cancelRequestedAt !== undefined };
    }
    if (states.every((s) => s.lifeCycle === 'QUEUED' || s.lifeCycle === 'BLOCKED')) return { lifeCycle: 'QUEUED', ended: false };
    const everRan = run.tasks.some((t) => t.runningAt !== undefined && t.runningAt <= now);
    return { lifeCycle: everRan ? 'RUNNING' : 'PENDING', message: everRan ? undefined : 'Waiting for cluster', ended: false };
  }

  async function runViewFull(run: EmulatedRun, host: string) {
    await advance(run);
    const now = core.clock.now();
    const qEnd = run.skippedMessage ? run.createdAt : await queueEnd(run);
    const s = parentState(run, now, qEnd);
    const queued = s.lifeCycle === 'QUEUED' && (qEnd === undefined || qEnd > run.createdAt + handle.durations.queuedMs);
    const { state, status } = renderState(s, queued ? 'Queued due to reaching maximum concurrent runs of 1.'.replace('1', String(jobs.get(run.jobId)?.settings.max_concurrent_runs ?? 1)) : undefined);
    const startTime = run.createdAt;
    const endTime = s.ended ? (run.skippedMessage ? run.createdAt : runEnd(run)!) : 0;
    return compact(
      {
        job_id: run.jobId,
        run_id: run.runId,
        number_in_job: run.runId,
        original_attempt_run_id: run.runId,
        creator_user_name: run.creator,
        run_name: run.runName,
        run_type: run.runType,
        trigger: 'ONE_TIME',
        run_page_url: runPageUrl(host, run.jobId, run.runId),
        start_time: startTime,
        end_time: endTime,
        run_duration: s.ended ? endTime - startTime : undefined,
        queue_duration: qEnd !== undefined && qEnd <= now ? qEnd - run.createdAt : undefined,
        state,
        status,
        tasks: run.tasks.map((t) => taskView(run, t, now, host, qEnd)),
        job_parameters: run.jobParameters,
        overriding_parameters: run.overridingParameters,
      },
      ['end_time'],
    );
  }

  async function runView(run: EmulatedRun, host: string) {
    return runViewFull(run, host);
  }

  // ------------------------------------------------------------------ routes

  function route(method: string, suffix: string, handler: (req: EmulatorRequest) => unknown) {
    for (const version of ['2.1', '2.2']) {
      core.router.add(method, `/api/${version}/jobs/${suffix}`, async (req) => ({ status: 200, body: await handler(req) }));
    }
  }

  route('POST', 'create', (req) => {
    const body = req.body ?? {};
    return { job_id: createJob(body as JobSettings, req.principal ?? 'emulator-user@example.com') };
  });

  route('GET', 'list', (req) => {
    const limitRaw = req.query.limit;
    const limit = limitRaw === undefined ? 20 : Number(Array.isArray(limitRaw) ? limitRaw[0] : limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw badParam(`Invalid limit ${String(limitRaw)}: must be between 1 and 100.`);
    const nameRaw = req.query.name;
    const name = Array.isArray(nameRaw) ? nameRaw[0] : nameRaw;
    const expand = String(req.query.expand_tasks ?? '') === 'true';
    const tokenRaw = req.query.page_token;
    const token = Array.isArray(tokenRaw) ? tokenRaw[0] : tokenRaw;
    let offset = 0;
    if (token) {
      const m = /^o:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
      if (!m) throw badParam('Invalid page token.');
      offset = Number(m[1]);
    }
    const all = [...jobs.values()]
      .filter((j) => name === undefined || j.settings.name.toLowerCase() === name.toLowerCase())
      .sort((a, b) => a.job_id - b.job_id);
    const page = all.slice(offset, offset + limit);
    const more = offset + limit < all.length;
    return compact({
      jobs: page.map((j) => {
        const settings: Record<string, unknown> = structuredClone(j.settings);
        if (!expand) delete settings.tasks;
        return compact({ job_id: j.job_id, creator_user_name: j.creator_user_name, created_time: j.created_time, settings });
      }),
      has_more: more,
      next_page_token: more ? Buffer.from(`o:${offset + limit}`).toString('base64url') : undefined,
      prev_page_token: offset > 0 ? Buffer.from(`o:${Math.max(0, offset - limit)}`).toString('base64url') : undefined,
    });
  });

  // Jobs 2.2 array paging on jobs/get (JS SDK jobs/model.d.ts: "Read endpoints return only 100 tasks ...
  // Use the next_page_token field at the object root"): each page carries up to runsGetPageSize elements of
  // settings.tasks, job_clusters, parameters and environments; later pages only the continuing arrays.
  const JOB_ARRAYS = ['tasks', 'job_clusters', 'parameters', 'environments'] as const;
  route('GET', 'get', (req) => {
    const jobId = parseId(req.query.job_id, 'job_id');
    const job = jobs.get(jobId);
    if (!job) throw badParam(`Job ${jobId} does not exist.`);
    const tokenRaw = req.query.page_token;
    const token = Array.isArray(tokenRaw) ? tokenRaw[0] : tokenRaw;
    let offset = 0;
    if (token) {
      const m = /^j:(\d+)$/.exec(Buffer.from(String(token), 'base64url').toString('utf8'));
      if (!m) throw badParam('Invalid page token.');
      offset = Number(m[1]);
    }
    const size = handle.runsGetPageSize;
    const settings = structuredClone(job.settings) as Record<string, unknown>;
    let more = false;
    for (const k of JOB_ARRAYS) {
      const arr = settings[k];
      if (!Array.isArray(arr)) continue;
      if (offset + size < arr.length) more = true;
      const slice = arr.slice(offset, offset + size);
      if (slice.length > 0) settings[k] = slice;
      else delete settings[k];
    }
    if (offset > 0) {
      for (const k of Object.keys(settings)) if (!(JOB_ARRAYS as readonly string[]).includes(k)) delete settings[k];
      return compact({ job_id: job.job_id, settings, next_page_token: more ? Buffer.from(`j:${offset + size}`).toString('base64url') : undefined });
    }
    return compact({
      job_id: job.job_id,
      creator_user_name: job.creator_user_name,
      run_as_user_name: job.creator_user_name,
      created_time: job.created_time,
      settings,
      next_page_token: more ? Buffer.from(`j:${offset + size}`).toString('base64url') : undefined,
    });
  });

  function existingForToken(token: unknown): { run_id: number; number_in_job?: number } | undefined {
    if (token === undefined) return undefined;
    if (typeof token !== 'string' || token.length === 0 || token.length > 64) throw badParam('idempotency_token must be a string of at most 64 characters.');
    const id = tokens.get(token);
    return id === undefined ? undefined : { run_id: id };
  }

  route('POST', 'run-now', (req) => {
    const body = isPlainObject(req.body) ? req.body : {};
    const jobId = parseId(body.job_id, 'job_id');
    const job = jobs.get(jobId);
    if (!job) throw badParam(`Job ${jobId} does not exist.`);
    const existing = existingForToken(body.idempotency_token);
    if (existing) return { run_id: existing.run_id, number_in_job: existing.run_id };
    const jobParams = stringMap(body.job_parameters, 'job_parameters');
    const notebookParams = stringMap(body.notebook_params, 'notebook_params');
    const defined = job.settings.parameters ?? [];
    if (jobParams && Object.keys(jobParams).length > 0) {
      if (defined.length === 0) throw badParam(`Job ${jobId} does not define job parameters; use notebook_params to pass values to its notebook tasks.`);
      for (const k of Object.keys(jobParams)) {
        if (!defined.some((d) => d.name === k)) throw badParam(`Job parameter ${k} is not defined on job ${jobId}. Defined parameters: ${defined.map((d) => d.name).join(', ')}.`);
      }
    }
    if (defined.length > 0 && notebookParams && Object.keys(notebookParams).length > 0) {
      throw badParam('This job uses job parameters; task-level parameters (notebook_params) cannot be used with it. Pass job_parameters instead.');
    }
    const tasks = job.settings.tasks ?? [];
    if (tasks.length === 0) throw badParam(`Job ${jobId} has no tasks.`);
    const effectiveJobParams = defined.length > 0 ? Object.fromEntries(defined.map((d) => [d.name, jobParams?.[d.name] ?? d.default])) : undefined;
    const run = newRun({
      jobId,
      runName: job.settings.name,
      runType: 'JOB_RUN',
      creator: req.principal ?? 'emulator-user@example.com',
      token: body.idempotency_token as string | undefined,
      body,
      tasks,
      paramsFor: (t) => ({ ...(t.notebook_task?.base_parameters ?? {}), ...(effectiveJobParams ?? notebookParams ?? {}) }),
      jobParameters: defined.length > 0 ? defined.map((d) => compact({ name: d.name, default: d.default, value: jobParams?.[d.name] ?? d.default }, ['default'])) as EmulatedRun['jobParameters'] : undefined,
      overriding: notebookParams && Object.keys(notebookParams).length > 0 ? { notebook_params: notebookParams } : undefined,
    });
    return { run_id: run.runId, number_in_job: run.runId };
  });

  route('POST', 'runs/submit', (req) => {
    const body = isPlainObject(req.body) ? req.body : {};
    const existing = existingForToken(body.idempotency_token);
    if (existing) return { run_id: existing.run_id };
    if (body.tasks === undefined) throw badParam('Missing required field: tasks');
    validateTasks(body.tasks, 'tasks', true);
    if (body.run_name !== undefined && typeof body.run_name !== 'string') throw badParam('Invalid value for field run_name.');
    // One-time runs get a hidden job id of their own, as on Databricks.
    const jobId = nextJobId++;
    const run = newRun({
      jobId,
      runName: (body.run_name as string | undefined) || 'Untitled',
      runType: 'SUBMIT_RUN',
      creator: req.principal ?? 'emulator-user@example.com',
      token: body.idempotency_token as string | undefined,
      body,
      tasks: body.tasks as JobTaskSettings[],
      paramsFor: (t) => ({ ...(t.notebook_task?.base_parameters ?? {}) }),
    });
    return { run_id: run.runId };
  });

  route('GET', 'runs/get', async (req) => {
    const runId = parseId(req.query.run_id, 'run_id');
    const owner = runs.get(runId) ?? taskOwner.get(runId);
    if (!owner) throw badParam(`Run ${runId} does not exist`);
    const host = hostOf(req);
    if (owner.runId !== runId) {
      // A task run id: answer with that task run alone, as Databricks does.
      await advance(owner);
      const qEnd = await queueEnd(owner);
      const t = owner.tasks.find((x) => x.runId === runId)!;
      return { job_id: owner.jobId, ...taskView(owner, t, core.clock.now(), host, qEnd), run_name: owner.runName, run_type: owner.runType };
    }
    const full = (await runView(owner, host)) as Record<string, any>;
    const tokenRaw = req.query.page_token;
    const token = Array.isArray(tokenRaw) ? tokenRaw[0] : tokenRaw;
    const size = handle.runsGetPageSize;
    const tasks: unknown[] = full.tasks ?? [];
    let offset = 0;
    if (token) {
      const m = /^t:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
      if (!m) throw badParam('Invalid page token.');
      offset = Number(m[1]);
    }
    const more = offset + size < tasks.length;
    const page = { ...full, tasks: tasks.slice(offset, offset + size) };
    if (offset > 0) {
      // Later pages carry only the continuing arrays (docs/databricks-api-notes.md §1, 2.2 array paging).
      for (const k of Object.keys(page)) if (k !== 'tasks' && !['job_id', 'run_id'].includes(k)) delete (page as any)[k];
    }
    if (more) (page as any).next_page_token = Buffer.from(`t:${offset + size}`).toString('base64url');
    return compact(page, ['end_time']);
  });

  route('GET', 'runs/get-output', async (req) => {
    const runId = parseId(req.query.run_id, 'run_id');
    const owner = runs.get(runId) ?? taskOwner.get(runId);
    if (!owner) throw badParam(`Run ${runId} does not exist`);
    if (owner.runId === runId && owner.tasks.length > 1) throw badParam(MULTI_TASK_OUTPUT_MESSAGE);
    await advance(owner);
    const now = core.clock.now();
    const qEnd = await queueEnd(owner);
    const host = hostOf(req);
    const t = owner.runId === runId ? owner.tasks[0] : owner.tasks.find((x) => x.runId === runId)!;
    const ended = t.end !== undefined && t.end.at <= now;
    const metadata = { job_id: owner.jobId, ...taskView(owner, t, now, host, qEnd) };
    const out: Record<string, unknown> = { metadata };
    if (ended && t.end!.result === 'SUCCESS') {
      if (t.exitValue === undefined) out.notebook_output = {};
      else {
        const bytes = Buffer.from(t.exitValue, 'utf8');
        const truncated = bytes.length > handle.maxNotebookOutputBytes;
        out.notebook_output = compact({ result: truncated ? bytes.subarray(0, handle.maxNotebookOutputBytes).toString('utf8') : t.exitValue, truncated });
      }
    }
    if (ended && t.error) {
      out.error = t.error;
      if (t.errorTrace) out.error_trace = t.errorTrace;
    }
    return out;
  });

  route('POST', 'runs/cancel', async (req) => {
    const body = isPlainObject(req.body) ? req.body : {};
    const runId = parseId(body.run_id, 'run_id');
    const owner = runs.get(runId) ?? taskOwner.get(runId);
    if (!owner) throw badParam(`Run ${runId} does not exist`);
    await advance(owner);
    const now = core.clock.now();
    cancels.push({ runId, at: now });
    if (owner.runId === runId) {
      if (owner.cancelRequestedAt === undefined && isActive(owner)) owner.cancelRequestedAt = now;
    } else {
      const t = owner.tasks.find((x) => x.runId === runId)!;
      if (!(t.end && t.end.at <= now) && t.cancelRequestedAt === undefined) t.cancelRequestedAt = now;
    }
    await advance(owner);
    return {};
  });

  return handle;
}

/** A stable digest, used by tests to compare request bodies without caring about key order. */
export function canonicalDigest(value: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon) : isPlainObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])])) : v;
  return createHash('sha256').update(JSON.stringify(canon(value))).digest('hex');
}
