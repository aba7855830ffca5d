/**
 * The Jobs emulator's state and behaviour (`emu.jobs`): saved jobs, runs, idempotency tokens, cancels and the
 * registered notebooks, with a method per API operation; routes/jobs.ts only parses requests and calls them
 * (docs/databricks-api-notes.md §1 and §10).
 *
 * Runs do not execute on timers: their state is derived from the emulator clock (`core.clock.now()`) each
 * time a request (or a test) looks at them. A task run is PENDING for `pendingMs`, RUNNING for
 * `runningMs`, TERMINATING for `terminatingMs`, then TERMINATED. The notebook registered for the task's
 * path (`notebooks.register`) is invoked once, the first time the run is observed at or past RUNNING, and
 * decides the result. Tests advance the clock instead of sleeping.
 */
import type { Run } from '../../../src/databricks/jobs';
import type { EmulatorCore } from '../../contracts';
import {
  NotebookError,
  RunInternalError,
  type EmulatedJob,
  type EmulatedRun,
  type EmulatedTaskRun,
  type JobsDurations,
  type JobSettings,
  type JobTaskSettings,
  type NotebookHandler,
  type NotebookOptions,
  type RunRequestBody,
  type TaskEnd,
} from './model';
import { parentState, renderState, runPageUrl, taskView, type ViewPoint } from './render';
import { badParam, compact, decodePageOffset, encodePageOffset, parseId, stringMap, topoOrder, validateJobSettings, validateTasks } from './validate';

const MULTI_TASK_OUTPUT_MESSAGE =
  'Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.';
const FAILED_STATE_MESSAGE = 'Workload failed, see run output for details';
const DEFAULT_CREATOR = 'emulator-user@example.com';

/** Jobs 2.2 array paging on jobs/get: the arrays of settings that are paged (JS SDK jobs/model.d.ts). */
const JOB_ARRAYS = ['tasks', 'job_clusters', 'parameters', 'environments'] as const;

/** What a new run is made of (run-now of a saved job, or runs/submit). */
interface NewRun {
  jobId: number;
  runName: string;
  runType: 'JOB_RUN' | 'SUBMIT_RUN';
  creator: string;
  token?: string;
  body: RunRequestBody;
  tasks: JobTaskSettings[];
  paramsFor: (t: JobTaskSettings) => Record<string, string>;
  jobParameters?: EmulatedRun['jobParameters'];
  overriding?: Record<string, unknown>;
}

const cancelledEnd = (at: number): TaskEnd => ({
  at,
  lifeCycle: 'TERMINATED',
  result: 'CANCELED',
  code: 'USER_CANCELED',
  type: 'SUCCESS',
  message: 'Run cancelled.',
});

export class JobsStore {
  readonly jobs = new Map<number, EmulatedJob>();
  /** Parent runs by run id. */
  readonly runs = new Map<number, EmulatedRun>();
  /** Every runs/cancel call accepted, in order, with the emulated time it arrived. */
  readonly cancels: Array<{ runId: number; at: number }> = [];
  durations: JobsDurations = { queuedMs: 0, pendingMs: 2_000, runningMs: 5_000, terminatingMs: 1_000 };
  /** runs/get returns at most this many tasks per page (2.2 array paging); 100 on Databricks. */
  runsGetPageSize = 100;
  /** notebook_output.result is cut to this many bytes and flagged truncated (5 MB on Databricks). */
  maxNotebookOutputBytes = 5 * 1024 * 1024;
  /** The notebooks task runs execute, by workspace path. */
  readonly notebooks = {
    register: (path: string, handler: NotebookHandler, opts: NotebookOptions = {}): void => {
      this.notebookHandlers.set(path, { handler, opts });
    },
    unregister: (path: string): void => {
      this.notebookHandlers.delete(path);
    },
  };

  private readonly taskOwner = new Map<number, EmulatedRun>();
  private readonly tokens = new Map<string, number>();
  private readonly notebookHandlers = new Map<string, { handler: NotebookHandler; opts: NotebookOptions }>();
  private readonly advancing = new Map<number, Promise<void>>();
  // Ids look like Databricks ones (large, below 2^53) and are distinct across jobs, runs and task runs.
  private nextJobId = 640_000_000_000_001;
  private nextRunId = 880_000_000_000_001;

  constructor(private readonly core: EmulatorCore) {}

  // ---- jobs -------------------------------------------------------------------------------------

  /** Creates a saved job (as jobs/create would) and returns its id. */
  createJob(settings: JobSettings, opts?: { creator?: string }): number {
    validateJobSettings(settings);
    const jobId = this.nextJobId++;
    const creator = opts?.creator ?? DEFAULT_CREATOR;
    this.jobs.set(jobId, {
      job_id: jobId,
      created_time: this.core.clock.now(),
      creator_user_name: creator,
      settings: structuredClone({ ...settings, name: settings.name || 'Untitled' }),
    });
    return jobId;
  }

  /** jobs/list: one page of the saved jobs by id, optionally those named `name` (case-insensitive). */
  listJobs(q: { limit: number; name?: string; expandTasks: boolean; pageToken?: string }) {
    const offset = decodePageOffset(q.pageToken, 'o');
    const all = [...this.jobs.values()]
      .filter((j) => q.name === undefined || j.settings.name.toLowerCase() === q.name.toLowerCase())
      .sort((a, b) => a.job_id - b.job_id);
    const page = all.slice(offset, offset + q.limit);
    const more = offset + q.limit < all.length;
    return compact({
      jobs: page.map((j) => {
        const settings: Record<string, unknown> = structuredClone(j.settings);
        if (!q.expandTasks) delete settings.tasks;
        return compact({ job_id: j.job_id, creator_user_name: j.creator_user_name, created_time: j.created_time, settings });
      }),
      has_more: more,
      next_page_token: more ? encodePageOffset(offset + q.limit, 'o') : undefined,
      prev_page_token: offset > 0 ? encodePageOffset(Math.max(0, offset - q.limit), 'o') : undefined,
    });
  }

  /**
   * jobs/get with Jobs 2.2 array paging (JS SDK jobs/model.d.ts: "Read endpoints return only 100 tasks ...
   * Use the next_page_token field at the object root"): each page carries up to runsGetPageSize elements of
   * settings.tasks, job_clusters, parameters and environments; later pages only the continuing arrays.
   */
  getJob(jobId: number, pageToken?: string) {
    const job = this.jobs.get(jobId);
    if (!job) throw badParam(`Job ${jobId} does not exist.`);
    const offset = decodePageOffset(pageToken, 'j');
    const size = this.runsGetPageSize;
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
    const next_page_token = more ? encodePageOffset(offset + size, 'j') : undefined;
    if (offset > 0) {
      for (const k of Object.keys(settings)) if (!(JOB_ARRAYS as readonly string[]).includes(k)) delete settings[k];
      return compact({ job_id: job.job_id, settings, next_page_token });
    }
    return compact({
      job_id: job.job_id,
      creator_user_name: job.creator_user_name,
      run_as_user_name: job.creator_user_name,
      created_time: job.created_time,
      settings,
      next_page_token,
    });
  }

  // ---- starting runs ----------------------------------------------------------------------------

  /** The run an idempotency token already started, if any (the token is checked first). */
  private existingForToken(token: unknown): number | undefined {
    if (token === undefined) return undefined;
    if (typeof token !== 'string' || token.length === 0 || token.length > 64) throw badParam('idempotency_token must be a string of at most 64 characters.');
    return this.tokens.get(token);
  }

  /** run-now: a run of a saved job, with job parameters or notebook_params (never both kinds on one job). */
  runNow(body: RunRequestBody, principal?: string): { run_id: number; number_in_job: number } {
    const jobId = this.parseJobId(body.job_id);
    const job = this.jobs.get(jobId)!;
    const existing = this.existingForToken(body.idempotency_token);
    if (existing !== undefined) return { run_id: existing, number_in_job: existing };
    const jobParams = stringMap(body.job_parameters, 'job_parameters');
    const notebookParams = stringMap(body.notebook_params, 'notebook_params');
    const defined = job.settings.parameters ?? [];
    checkRunNowParameters(jobId, defined, jobParams, notebookParams);
    const tasks = job.settings.tasks ?? [];
    if (tasks.length === 0) throw badParam(`Job ${jobId} has no tasks.`);
    const effectiveJobParams = defined.length > 0 ? Object.fromEntries(defined.map((d) => [d.name, jobParams?.[d.name] ?? d.default])) : undefined;
    const run = this.newRun({
      jobId,
      runName: job.settings.name,
      runType: 'JOB_RUN',
      creator: principal ?? DEFAULT_CREATOR,
      token: body.idempotency_token as string | undefined,
      body,
      tasks,
      paramsFor: (t) => ({ ...(t.notebook_task?.base_parameters ?? {}), ...(effectiveJobParams ?? notebookParams ?? {}) }),
      jobParameters:
        defined.length > 0
          ? (defined.map((d) =>
              compact({ name: d.name, default: d.default, value: jobParams?.[d.name] ?? d.default }, ['default']),
            ) as EmulatedRun['jobParameters'])
          : undefined,
      overriding: notebookParams && Object.keys(notebookParams).length > 0 ? { notebook_params: notebookParams } : undefined,
    });
    return { run_id: run.runId, number_in_job: run.runId };
  }

  private parseJobId(raw: unknown): number {
    const jobId = parseId(raw, 'job_id');
    if (!this.jobs.has(jobId)) throw badParam(`Job ${jobId} does not exist.`);
    return jobId;
  }

  /** runs/submit: a one-time run, which gets a hidden job id of its own, as on Databricks. */
  submitRun(body: RunRequestBody, principal?: string): { run_id: number } {
    const existing = this.existingForToken(body.idempotency_token);
    if (existing !== undefined) return { run_id: existing };
    if (body.tasks === undefined) throw badParam('Missing required field: tasks');
    validateTasks(body.tasks, 'tasks', true);
    if (body.run_name !== undefined && typeof body.run_name !== 'string') throw badParam('Invalid value for field run_name.');
    const jobId = this.nextJobId++;
    const run = this.newRun({
      jobId,
      runName: (body.run_name as string | undefined) || 'Untitled',
      runType: 'SUBMIT_RUN',
      creator: principal ?? DEFAULT_CREATOR,
      token: body.idempotency_token as string | undefined,
      body,
      tasks: body.tasks as JobTaskSettings[],
      paramsFor: (t) => ({ ...(t.notebook_task?.base_parameters ?? {}) }),
    });
    return { run_id: run.runId };
  }

  private newRun(init: NewRun): EmulatedRun {
    const runId = this.nextRunId++;
    const ordered = topoOrder(init.tasks) ?? init.tasks;
    const run: EmulatedRun = {
      runId,
      jobId: init.jobId,
      runName: init.runName,
      runType: init.runType,
      createdAt: this.core.clock.now(),
      creator: init.creator,
      idempotencyToken: init.token,
      requestBody: structuredClone(init.body),
      jobParameters: init.jobParameters,
      overridingParameters: init.overriding,
      tasks: ordered.map((t) => this.newTaskRun(t, init.paramsFor(t))),
    };
    this.runs.set(runId, run);
    for (const t of run.tasks) this.taskOwner.set(t.runId, run);
    if (init.token !== undefined) this.tokens.set(init.token, runId);
    this.applyConcurrencyLimit(run);
    return run;
  }

  private newTaskRun(t: JobTaskSettings, params: Record<string, string>): EmulatedTaskRun {
    const reg = this.notebookHandlers.get(t.notebook_task?.notebook_path ?? '');
    return {
      runId: this.nextRunId++,
      taskKey: t.task_key,
      spec: structuredClone(t),
      params,
      dependsOn: (t.depends_on ?? []).map((d) => d.task_key),
      runningMs: reg?.opts.runningMs ?? this.durations.runningMs,
      handlerInvoked: false,
    };
  }

  private isActive(run: EmulatedRun): boolean {
    const now = this.core.clock.now();
    return !run.skippedMessage && run.tasks.some((t) => !t.end || t.end.at > now);
  }

  private applyConcurrencyLimit(run: EmulatedRun): void {
    const job = this.jobs.get(run.jobId);
    const limit = job?.settings.max_concurrent_runs;
    if (!job || limit === undefined || job.settings.queue?.enabled) return;
    const active = [...this.runs.values()].filter((r) => r !== run && r.jobId === run.jobId && this.isActive(r));
    if (active.length >= limit) {
      run.skippedMessage = `Skipping this run because the limit of ${limit} maximum concurrent runs has been reached.`;
      for (const t of run.tasks) t.end = { at: run.createdAt, lifeCycle: 'SKIPPED', code: 'SKIPPED', type: 'SUCCESS', message: run.skippedMessage };
    }
  }

  // ---- life cycle -------------------------------------------------------------------------------

  /** When the run may leave QUEUED: after `queuedMs`, and after earlier runs that hold the job's concurrency slots. */
  private async queueEnd(run: EmulatedRun): Promise<number | undefined> {
    let end = run.createdAt + this.durations.queuedMs;
    const job = this.jobs.get(run.jobId);
    const limit = job?.settings.max_concurrent_runs;
    if (job && limit !== undefined && job.settings.queue?.enabled) {
      const earlier = [...this.runs.values()].filter((r) => r.jobId === run.jobId && r.runId < run.runId && !r.skippedMessage);
      const ends: number[] = [];
      for (const r of earlier) {
        await this.advance(r);
        ends.push(runEnd(r) ?? Infinity);
      }
      // The run starts once fewer than `limit` earlier runs are still active.
      ends.sort((a, b) => a - b);
      const mustFinish = ends.length - limit + 1;
      if (mustFinish > 0) end = Math.max(end, ends[mustFinish - 1]);
    }
    return Number.isFinite(end) ? end : undefined;
  }

  /** Brings the stored run up to `core.clock.now()`, invoking notebooks that have reached RUNNING. */
  private advance(run: EmulatedRun): Promise<void> {
    const inFlight = this.advancing.get(run.runId);
    if (inFlight) return inFlight;
    const p = this.doAdvance(run).finally(() => this.advancing.delete(run.runId));
    this.advancing.set(run.runId, p);
    return p;
  }

  private async doAdvance(run: EmulatedRun): Promise<void> {
    if (run.skippedMessage) return;
    const now = this.core.clock.now();
    const qEnd = await this.queueEnd(run);
    let changed = true;
    while (changed) {
      changed = false;
      for (const t of run.tasks) {
        if (t.cancelApplied || (t.end && t.startAt === undefined)) continue;
        const cancelAt = t.cancelRequestedAt ?? run.cancelRequestedAt;
        if (t.startAt === undefined) {
          const step = this.startTask(run, t, now, qEnd, cancelAt);
          if (step !== 'waiting') changed = true;
          if (step !== 'started') continue;
        }
        if (await this.progressTask(run, t, now, cancelAt)) changed = true;
      }
    }
  }

  /**
   * A task run that has not started: it is cancelled, skipped for a failed or cancelled upstream task
   * (`run_if` ALL_SUCCESS), keeps waiting for its queue slot or dependencies, or starts (PENDING).
   */
  private startTask(
    run: EmulatedRun,
    t: EmulatedTaskRun,
    now: number,
    qEnd: number | undefined,
    cancelAt: number | undefined,
  ): 'waiting' | 'ended' | 'started' {
    const deps = t.dependsOn.map((k) => run.tasks.find((x) => x.taskKey === k)!);
    const cancelDue = cancelAt !== undefined && cancelAt <= now;
    if (deps.some((d) => !d.end)) {
      if (!cancelDue) return 'waiting';
      t.end = cancelledEnd(cancelAt);
      return 'ended';
    }
    const ready = Math.max(qEnd ?? Infinity, ...deps.map((d) => d.end!.at));
    if (cancelDue && cancelAt <= ready) {
      t.end = cancelledEnd(cancelAt);
      return 'ended';
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
      return 'ended';
    }
    if (ready > now) return 'waiting';
    t.startAt = ready;
    t.runningAt = ready + this.durations.pendingMs;
    t.clusterId = t.spec.existing_cluster_id ?? (t.spec.new_cluster || t.spec.job_cluster_key ? `0${run.runId % 10000}-${t.taskKey}-job-cluster` : undefined);
    return 'started';
  }

  /** A started task run: a due cancel makes it TERMINATING, reaching RUNNING runs its notebook. True when it changed. */
  private async progressTask(run: EmulatedRun, t: EmulatedTaskRun, now: number, cancelAt: number | undefined): Promise<boolean> {
    if (t.end && t.end.at <= now) return false;
    if (cancelAt !== undefined && cancelAt <= now && (t.terminatingAt === undefined || cancelAt < t.terminatingAt)) {
      t.cancelApplied = true;
      t.terminatingAt = Math.max(cancelAt, t.startAt!);
      // The end lies in the future while the run is TERMINATING; the views read it against the clock.
      t.end = cancelledEnd(t.terminatingAt + this.durations.terminatingMs);
      return true;
    }
    if (t.runningAt !== undefined && t.runningAt <= now && !t.handlerInvoked && t.terminatingAt === undefined) {
      t.handlerInvoked = true;
      await this.runNotebook(run, t);
      return true;
    }
    return false;
  }

  private async runNotebook(run: EmulatedRun, t: EmulatedTaskRun): Promise<void> {
    const path = t.spec.notebook_task!.notebook_path;
    const reg = this.notebookHandlers.get(path);
    const finishedAt = t.runningAt! + t.runningMs;
    const terminating = (end: Omit<TaskEnd, 'at'>) => {
      t.terminatingAt = finishedAt;
      t.end = { ...end, at: finishedAt + this.durations.terminatingMs };
    };
    if (!reg) {
      t.error = `Notebook not found: ${path}`;
      terminating({ lifeCycle: 'INTERNAL_ERROR', result: 'FAILED', code: 'RESOURCE_NOT_FOUND', type: 'CLIENT_ERROR', message: `Notebook not found: ${path}` });
      return;
    }
    try {
      const compute = t.spec.existing_cluster_id || t.spec.new_cluster || t.spec.job_cluster_key ? 'classic' : 'serverless';
      const out = await reg.handler({
        jobId: run.jobId,
        runId: run.runId,
        taskRunId: t.runId,
        taskKey: t.taskKey,
        notebookPath: path,
        params: { ...t.params },
        compute,
        core: this.core,
      });
      if (out && typeof out.exitValue === 'string') t.exitValue = out.exitValue;
      terminating({ lifeCycle: 'TERMINATED', result: 'SUCCESS', code: 'SUCCESS', type: 'SUCCESS', message: '' });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      t.error = message;
      if (e instanceof RunInternalError) {
        terminating({ lifeCycle: 'INTERNAL_ERROR', result: 'FAILED', code: 'INTERNAL_ERROR', type: 'INTERNAL_ERROR', message });
        return;
      }
      t.errorTrace = e instanceof NotebookError ? e.trace : e instanceof Error ? e.stack : undefined;
      terminating({ lifeCycle: 'TERMINATED', result: 'FAILED', code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR', message: FAILED_STATE_MESSAGE });
    }
  }

  // ---- reading and cancelling runs --------------------------------------------------------------

  /** Finds the parent run that owns a task run id. */
  findByTaskRunId(taskRunId: number): EmulatedRun | undefined {
    return this.taskOwner.get(taskRunId);
  }

  /** The parent run with this id, or the parent of the task run with this id; 400 "does not exist" otherwise. */
  private ownerOf(runId: number): EmulatedRun {
    const owner = this.runs.get(runId) ?? this.taskOwner.get(runId);
    if (!owner) throw badParam(`Run ${runId} does not exist`);
    return owner;
  }

  private viewPoint(host: string): ViewPoint {
    return { now: this.core.clock.now(), host, workspaceId: this.core.workspaceId };
  }

  /** The run as runs/get would return it now (advancing its life cycle), or undefined. */
  async getRun(runId: number, host = 'http://127.0.0.1'): Promise<Run | undefined> {
    const run = this.runs.get(runId);
    if (!run) return undefined;
    await this.advance(run);
    return (await this.runView(run, host)) as Run;
  }

  private async runView(run: EmulatedRun, host: string) {
    await this.advance(run);
    const at = this.viewPoint(host);
    const qEnd = run.skippedMessage ? run.createdAt : await this.queueEnd(run);
    const s = parentState(run, at.now, qEnd);
    const queued = s.lifeCycle === 'QUEUED' && (qEnd === undefined || qEnd > run.createdAt + this.durations.queuedMs);
    const limit = this.jobs.get(run.jobId)?.settings.max_concurrent_runs ?? 1;
    const { state, status } = renderState(s, queued ? `Queued due to reaching maximum concurrent runs of ${limit}.` : undefined);
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
        run_page_url: runPageUrl(host, this.core.workspaceId, run.jobId, run.runId),
        start_time: startTime,
        end_time: endTime,
        run_duration: s.ended ? endTime - startTime : undefined,
        queue_duration: qEnd !== undefined && qEnd <= at.now ? qEnd - run.createdAt : undefined,
        state,
        status,
        tasks: run.tasks.map((t) => taskView(run, t, at, qEnd)),
        job_parameters: run.jobParameters,
        overriding_parameters: run.overridingParameters,
      },
      ['end_time'],
    );
  }

  /**
   * runs/get: a parent run with its tasks paged (2.2 array paging; later pages carry only the continuing
   * array, docs/databricks-api-notes.md §1), or a task run id answered with that task run alone, as Databricks does.
   */
  async runsGet(runId: number, host: string, pageToken?: string): Promise<Record<string, unknown>> {
    const owner = this.ownerOf(runId);
    if (owner.runId !== runId) {
      await this.advance(owner);
      const qEnd = await this.queueEnd(owner);
      const t = owner.tasks.find((x) => x.runId === runId)!;
      return { job_id: owner.jobId, ...taskView(owner, t, this.viewPoint(host), qEnd), run_name: owner.runName, run_type: owner.runType };
    }
    const full: Record<string, unknown> = await this.runView(owner, host);
    const size = this.runsGetPageSize;
    const tasks: unknown[] = Array.isArray(full.tasks) ? full.tasks : [];
    const offset = decodePageOffset(pageToken, 't');
    const more = offset + size < tasks.length;
    const page: Record<string, unknown> = { ...full, tasks: tasks.slice(offset, offset + size) };
    if (offset > 0) {
      for (const k of Object.keys(page)) if (k !== 'tasks' && !['job_id', 'run_id'].includes(k)) delete page[k];
    }
    if (more) page.next_page_token = encodePageOffset(offset + size, 't');
    return compact(page, ['end_time']);
  }

  /** runs/get-output of a task run (or of a single-task parent run): the notebook's exit value or its error. */
  async runOutput(runId: number, host: string): Promise<Record<string, unknown>> {
    const owner = this.ownerOf(runId);
    if (owner.runId === runId && owner.tasks.length > 1) throw badParam(MULTI_TASK_OUTPUT_MESSAGE);
    await this.advance(owner);
    const at = this.viewPoint(host);
    const qEnd = await this.queueEnd(owner);
    const t = owner.runId === runId ? owner.tasks[0] : owner.tasks.find((x) => x.runId === runId)!;
    const ended = t.end !== undefined && t.end.at <= at.now;
    const out: Record<string, unknown> = { metadata: { job_id: owner.jobId, ...taskView(owner, t, at, qEnd) } };
    if (ended && t.end!.result === 'SUCCESS') out.notebook_output = this.notebookOutput(t.exitValue);
    if (ended && t.error) {
      out.error = t.error;
      if (t.errorTrace) out.error_trace = t.errorTrace;
    }
    return out;
  }

  private notebookOutput(exitValue: string | undefined): Record<string, unknown> {
    if (exitValue === undefined) return {};
    const bytes = Buffer.from(exitValue, 'utf8');
    const truncated = bytes.length > this.maxNotebookOutputBytes;
    return compact({ result: truncated ? bytes.subarray(0, this.maxNotebookOutputBytes).toString('utf8') : exitValue, truncated });
  }

  /** runs/cancel of a parent run (every task) or of one task run; asynchronous: the run goes TERMINATING first. */
  async cancelRun(runId: number): Promise<void> {
    const owner = this.ownerOf(runId);
    await this.advance(owner);
    const now = this.core.clock.now();
    this.cancels.push({ runId, at: now });
    if (owner.runId === runId) {
      if (owner.cancelRequestedAt === undefined && this.isActive(owner)) owner.cancelRequestedAt = now;
    } else {
      const t = owner.tasks.find((x) => x.runId === runId)!;
      if (!(t.end && t.end.at <= now) && t.cancelRequestedAt === undefined) t.cancelRequestedAt = now;
    }
    await this.advance(owner);
  }
}

function runEnd(run: EmulatedRun): number | undefined {
  if (run.tasks.some((t) => !t.end)) return undefined;
  return Math.max(run.createdAt, ...run.tasks.map((t) => t.end!.at));
}

/** run-now's parameter rules: job_parameters only for jobs that define them, notebook_params only for jobs that do not. */
function checkRunNowParameters(
  jobId: number,
  defined: Array<{ name: string }>,
  jobParams?: Record<string, string>,
  notebookParams?: Record<string, string>,
): void {
  if (jobParams && Object.keys(jobParams).length > 0) {
    if (defined.length === 0) throw badParam(`Job ${jobId} does not define job parameters; use notebook_params to pass values to its notebook tasks.`);
    for (const k of Object.keys(jobParams)) {
      if (!defined.some((d) => d.name === k))
        throw badParam(`Job parameter ${k} is not defined on job ${jobId}. Defined parameters: ${defined.map((d) => d.name).join(', ')}.`);
    }
  }
  if (defined.length > 0 && notebookParams && Object.keys(notebookParams).length > 0) {
    throw badParam('This job uses job parameters; task-level parameters (notebook_params) cannot be used with it. Pass job_parameters instead.');
  }
}
