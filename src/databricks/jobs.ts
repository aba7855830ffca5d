/**
 * Jobs API 2.2 client: saved jobs, run-now, one-time runs, run status, output and cancellation, and the
 * waiter that follows a run to its end (docs/databricks-api-notes.md §1).
 *
 * Retry policy: reads and `runs/cancel` are idempotent; `run-now` and `runs/submit` are marked idempotent
 * only when they carry an `idempotency_token` (Databricks then returns the existing run instead of
 * starting a second one), so the HTTP core may repeat them safely.
 */
import { createHash } from 'node:crypto';
import { systemClock, type Clock } from './clock';
import type { ApiClient } from './contracts';
import { DatabricksApiError } from './errors';
import { pagesByToken, paginateByToken } from './paginate';
import { POLL_DEFAULTS } from './poll-defaults';
import { DEFAULT_WAIT, waitUntil } from './wait';

const PREFIX = '/api/2.2/jobs';

/** `state.life_cycle_state`. Unknown future values are treated as not terminal. */
export type LifeCycleState =
  'QUEUED' | 'PENDING' | 'RUNNING' | 'TERMINATING' | 'TERMINATED' | 'SKIPPED' | 'INTERNAL_ERROR' | 'BLOCKED' | 'WAITING_FOR_RETRY' | (string & {});

/** `state.result_state`, present only once a run is terminal. */
export type ResultState =
  | 'SUCCESS'
  | 'FAILED'
  | 'TIMEDOUT'
  | 'CANCELED'
  | 'MAXIMUM_CONCURRENT_RUNS_REACHED'
  | 'EXCLUDED'
  | 'SUCCESS_WITH_FAILURES'
  | 'UPSTREAM_FAILED'
  | 'UPSTREAM_CANCELED'
  | 'DISABLED'
  | (string & {});

/** Life cycle states after which a run never changes again. */
export const TERMINAL_LIFE_CYCLE_STATES: readonly string[] = ['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR'];

export interface RunState {
  life_cycle_state?: LifeCycleState;
  result_state?: ResultState;
  state_message?: string;
  user_cancelled_or_timedout?: boolean;
  queue_reason?: string;
}

export interface RunStatus {
  state?: string;
  termination_details?: { code?: string; type?: string; message?: string };
  queue_details?: { code?: string; message?: string };
}

export interface NotebookTask {
  notebook_path: string;
  source?: 'WORKSPACE' | 'GIT';
  base_parameters?: Record<string, string>;
  warehouse_id?: string;
}

/** A task as defined in job settings or a runs/submit request (the fields this project uses). */
export interface TaskSpec {
  task_key: string;
  notebook_task?: NotebookTask;
  depends_on?: Array<{ task_key: string; outcome?: string }>;
  run_if?: string;
  existing_cluster_id?: string;
  new_cluster?: Record<string, unknown>;
  job_cluster_key?: string;
  environment_key?: string;
  libraries?: unknown[];
  timeout_seconds?: number;
  [key: string]: unknown;
}

/** One task run inside a job run; `run_id` is the id to use with `getRunOutput`. */
export interface RunTask extends TaskSpec {
  run_id: number;
  state?: RunState;
  status?: RunStatus;
  run_page_url?: string;
  start_time?: number;
  end_time?: number;
  cluster_instance?: { cluster_id?: string; spark_context_id?: string };
  attempt_number?: number;
}

/** A job run as `runs/get` returns it (tasks gathered across 2.2 pages). */
export interface Run {
  job_id?: number;
  run_id: number;
  number_in_job?: number;
  run_name?: string;
  run_type?: 'JOB_RUN' | 'SUBMIT_RUN' | 'WORKFLOW_RUN' | (string & {});
  creator_user_name?: string;
  run_page_url?: string;
  start_time?: number;
  /** 0 until the run has finished. */
  end_time?: number;
  run_duration?: number;
  state?: RunState;
  status?: RunStatus;
  tasks?: RunTask[];
  job_parameters?: Array<{ name: string; default?: string; value?: string }>;
  overriding_parameters?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface JobSettings {
  name?: string;
  tasks?: TaskSpec[];
  parameters?: Array<{ name: string; default: string }>;
  max_concurrent_runs?: number;
  [key: string]: unknown;
}

export interface Job {
  job_id: number;
  creator_user_name?: string;
  created_time?: number;
  settings?: JobSettings;
}

export interface RunOutput {
  notebook_output?: { result?: string; truncated?: boolean };
  error?: string;
  error_trace?: string;
  logs?: string;
  logs_truncated?: boolean;
  metadata?: Run;
  [key: string]: unknown;
}

export interface RunNowRequest {
  job_id: number;
  job_parameters?: Record<string, string>;
  notebook_params?: Record<string, string>;
  /** Strongly recommended: makes the call safe to retry (see {@link idempotencyToken}). */
  idempotency_token?: string;
  queue?: { enabled: boolean };
  only?: string[];
  [key: string]: unknown;
}

/** `runs/submit` body (one-time run). */
export interface SubmitRunSpec {
  run_name?: string;
  tasks: TaskSpec[];
  timeout_seconds?: number;
  idempotency_token?: string;
  git_source?: Record<string, unknown>;
  queue?: { enabled: boolean };
  [key: string]: unknown;
}

export interface WaitForRunOptions {
  /** Give up after this long (measured on the client clock); the run is not cancelled here. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called with every polled run (the caller decides what counts as a change worth logging). */
  onState?: (run: Run) => void;
  /** Called when a poll failed with a transient error that will be retried by the waiter. */
  onTransientError?: (err: unknown) => void;
  /** First poll interval; grows 1.5x per poll. Default 2000. */
  initialIntervalMs?: number;
  /** Cap on the poll interval. Default 30 000. */
  maxIntervalMs?: number;
  /** Growth factor per poll. Default 1.5. */
  multiplier?: number;
  /** Consecutive failed polls (each after the HTTP core's own retries) tolerated before giving up. Default 50. */
  maxConsecutiveErrors?: number;
}

export interface JobsClientOptions {
  clock?: Clock;
}

/**
 * A deterministic idempotency token (64 hex characters, sha256 of the parts) for `run-now` and
 * `runs/submit`: the same parts give the same token, so a repeated call returns the run the first call
 * started instead of starting a second one.
 *
 * @example idempotencyToken([collectionUri, project, buildId, taskInstanceId, attempt, specHash])
 */
export function idempotencyToken(parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p.length}:${p}`);
  return h.digest('hex');
}

/** Whether a run's life cycle is final. */
export function isRunTerminal(run: Pick<Run, 'state'>): boolean {
  return TERMINAL_LIFE_CYCLE_STATES.includes(run.state?.life_cycle_state ?? '');
}

/** Terminated with result SUCCESS. */
export function isRunSuccessful(run: Pick<Run, 'state'>): boolean {
  return run.state?.life_cycle_state === 'TERMINATED' && run.state?.result_state === 'SUCCESS';
}

/**
 * The task runs that failed on their own account (FAILED, TIMEDOUT, INTERNAL_ERROR ...), not those only
 * skipped because an upstream task failed; ordered as the run lists them.
 */
export function failingTaskRuns(run: Pick<Run, 'tasks'>): RunTask[] {
  return (run.tasks ?? []).filter((t) => {
    const s = t.state;
    if (!s) return false;
    if (s.life_cycle_state === 'INTERNAL_ERROR') return true;
    if (s.life_cycle_state !== 'TERMINATED') return false;
    const r = s.result_state;
    return r !== undefined && r !== 'SUCCESS' && r !== 'UPSTREAM_FAILED' && r !== 'UPSTREAM_CANCELED' && r !== 'EXCLUDED' && r !== 'DISABLED';
  });
}

/** `LIFE_CYCLE/RESULT` for messages, e.g. `TERMINATED/FAILED` or `RUNNING`. */
export function describeRunState(run: Pick<Run, 'state'>): string {
  const s = run.state;
  if (!s?.life_cycle_state) return 'UNKNOWN';
  return s.result_state ? `${s.life_cycle_state}/${s.result_state}` : s.life_cycle_state;
}

/**
 * How `jobs/get` answers a job id it does not know (or this identity cannot see): 400 INVALID_PARAMETER_VALUE,
 * `Job <id> does not exist.` (databricks-sdk-go apierr error overrides, "Jobs InvalidParameterValue=>ResourceDoesNotExist",
 * maps the same answer to ResourceDoesNotExist). The id is checked client-side first, so an
 * INVALID_PARAMETER_VALUE from jobs/get can only be about the job itself.
 */
export function isUnknownJob(err: unknown): err is DatabricksApiError {
  return err instanceof DatabricksApiError && err.status === 400 && err.errorCode === 'INVALID_PARAMETER_VALUE';
}

function requireId(id: number, what: string): void {
  if (!Number.isSafeInteger(id) || id < 0) throw new Error(`${what} must be a non-negative integer, got ${String(id)}.`);
}

/** Client for the Jobs API 2.2. */
export class JobsClient {
  private readonly clock: Clock;

  constructor(
    private readonly api: ApiClient,
    opts: JobsClientOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** `GET jobs/list`, following `next_page_token`. `name` is an exact, case-insensitive match on the server. */
  listJobs(opts: { name?: string; limit?: number; expandTasks?: boolean; signal?: AbortSignal } = {}): AsyncIterable<Job> {
    const api = this.api;
    const limit = opts.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new Error(`listJobs limit must be 1-100, got ${limit}.`);
    const first = {
      method: 'GET' as const,
      path: `${PREFIX}/list`,
      query: { limit, name: opts.name, expand_tasks: opts.expandTasks ? true : undefined },
      signal: opts.signal,
    };
    // A fresh listing (fresh requests) each time the iterable is iterated.
    return { [Symbol.asyncIterator]: () => paginateByToken<{ jobs?: Job[] }, Job>(api, first, { items: (p) => p.jobs }) };
  }

  /**
   * `GET jobs/get`, following Jobs 2.2 array paging: read endpoints return at most 100 tasks (and 100 of the
   * other array properties) and a `next_page_token` at the object root (JS SDK jobs/model.d.ts `Job.next_page_token`,
   * `GetJobRequest.page_token`); later pages' `settings.tasks`, `settings.job_clusters`, `settings.parameters`
   * and `settings.environments` are appended to the first page's, so a job with more than 100 parameters or
   * tasks is read whole. Throws (400 INVALID_PARAMETER_VALUE) for an unknown job.
   */
  async getJob(jobId: number, signal?: AbortSignal): Promise<Job> {
    requireId(jobId, 'jobId');
    let job: (Job & Record<string, unknown>) | undefined;
    for await (const page of pagesByToken<Job & Record<string, unknown>>(this.api, {
      method: 'GET',
      path: `${PREFIX}/get`,
      query: { job_id: jobId },
      signal,
    })) {
      if (!job) {
        job = { ...page, settings: page.settings ? { ...page.settings } : page.settings };
        continue;
      }
      const settings = (job.settings ??= {});
      for (const key of ['tasks', 'job_clusters', 'parameters', 'environments']) {
        const more = (page.settings as Record<string, unknown> | undefined)?.[key];
        if (Array.isArray(more) && more.length > 0) settings[key] = [...((settings[key] as unknown[] | undefined) ?? []), ...more];
      }
    }
    if (!job) throw new Error(`jobs/get returned no page for job ${jobId}.`);
    delete job.next_page_token;
    return job;
  }

  /** `POST run-now`. Retried by the core only when `idempotency_token` is set. */
  async runNow(req: RunNowRequest, signal?: AbortSignal): Promise<{ run_id: number; number_in_job?: number }> {
    requireId(req.job_id, 'job_id');
    const res = await this.api.request<{ run_id?: number; number_in_job?: number }>({
      method: 'POST',
      path: `${PREFIX}/run-now`,
      body: req,
      idempotent: typeof req.idempotency_token === 'string' && req.idempotency_token.length > 0,
      signal,
    });
    if (typeof res.run_id !== 'number') throw new Error('jobs/run-now returned no run_id.');
    return { run_id: res.run_id, number_in_job: res.number_in_job };
  }

  /** `POST runs/submit` (one-time run). Retried by the core only when `idempotency_token` is set. */
  async submitRun(spec: SubmitRunSpec, signal?: AbortSignal): Promise<{ run_id: number }> {
    if (!Array.isArray(spec.tasks) || spec.tasks.length === 0) throw new Error('submitRun needs at least one task.');
    const res = await this.api.request<{ run_id?: number }>({
      method: 'POST',
      path: `${PREFIX}/runs/submit`,
      body: spec,
      idempotent: typeof spec.idempotency_token === 'string' && spec.idempotency_token.length > 0,
      signal,
    });
    if (typeof res.run_id !== 'number') throw new Error('jobs/runs/submit returned no run_id.');
    return { run_id: res.run_id };
  }

  /**
   * `GET runs/get`, following 2.2 array paging (`next_page_token`): later pages' `tasks`,
   * `job_parameters`, `job_clusters` and `repair_history` are appended to the first page's.
   */
  async getRun(runId: number, signal?: AbortSignal): Promise<Run> {
    requireId(runId, 'runId');
    let run: Run | undefined;
    for await (const page of pagesByToken<Run & Record<string, unknown>>(this.api, {
      method: 'GET',
      path: `${PREFIX}/runs/get`,
      query: { run_id: runId },
      signal,
    })) {
      if (!run) {
        run = { ...page };
        continue;
      }
      // Later pages carry only the continuing arrays (2.2 array paging).
      for (const key of ['tasks', 'job_parameters', 'job_clusters', 'repair_history', 'iterations']) {
        const more = page[key];
        if (Array.isArray(more) && more.length > 0) run[key] = [...((run[key] as unknown[] | undefined) ?? []), ...more];
      }
    }
    if (!run) throw new Error(`jobs/runs/get returned no page for run ${runId}.`);
    delete run.next_page_token;
    return run;
  }

  /**
   * `GET runs/get-output` for a task run id (a multi-task parent run id is rejected by the service with
   * 400 INVALID_PARAMETER_VALUE).
   */
  async getRunOutput(taskRunId: number, signal?: AbortSignal): Promise<RunOutput> {
    requireId(taskRunId, 'taskRunId');
    return this.api.request<RunOutput>({ method: 'GET', path: `${PREFIX}/runs/get-output`, query: { run_id: taskRunId }, signal });
  }

  /** `POST runs/cancel`. Asynchronous on the service: poll until TERMINATED/CANCELED. Safe to repeat. */
  async cancelRun(runId: number, signal?: AbortSignal): Promise<void> {
    requireId(runId, 'runId');
    await this.api.request({ method: 'POST', path: `${PREFIX}/runs/cancel`, body: { run_id: runId }, idempotent: true, signal });
  }

  /**
   * Polls `runs/get` (with the core's `waitUntil`) until the run's life cycle is TERMINATED, SKIPPED or
   * INTERNAL_ERROR and returns that run. Intervals start at `initialIntervalMs` and grow 1.5x up to
   * `maxIntervalMs`; the last sleep is cut to the deadline. Transient failures (429, 503, resets) that
   * outlast the HTTP core's own retries are absorbed. Throws `TimeoutError` (its `lastState` is the last
   * run seen) when the deadline passes and `CancelledError` when `signal` aborts. Never cancels the run.
   */
  async waitForRunTerminated(runId: number, opts: WaitForRunOptions): Promise<Run> {
    requireId(runId, 'runId');
    if (!(opts.timeoutMs > 0)) throw new Error(`waitForRunTerminated timeoutMs must be positive, got ${opts.timeoutMs}.`);
    return waitUntil<Run, Run>(
      async () => {
        const run = await this.getRun(runId, opts.signal);
        opts.onState?.(run);
        return isRunTerminal(run) ? { done: run } : { pending: run };
      },
      {
        timeoutMs: opts.timeoutMs,
        initialIntervalMs: opts.initialIntervalMs ?? POLL_DEFAULTS.jobRun.initialIntervalMs,
        maxIntervalMs: opts.maxIntervalMs ?? POLL_DEFAULTS.jobRun.maxIntervalMs,
        backoffFactor: opts.multiplier ?? DEFAULT_WAIT.backoffFactor,
        clock: this.clock,
        signal: opts.signal,
        what: `run ${runId} to finish`,
        describe: (r) => (r ? `${describeRunState(r)}${r.state?.state_message ? ` ("${r.state.state_message}")` : ''}` : 'no state received'),
        // Each poll already carries the HTTP core's retries; the deadline, not an error count, bounds an outage.
        maxConsecutiveErrors: opts.maxConsecutiveErrors ?? 50,
        onTransientError: (err) => opts.onTransientError?.(err),
      },
    );
  }
}
