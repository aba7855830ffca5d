import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '../../databricks/clock';
import { CancelledError, cancelledFrom, messageOf } from '../../databricks/errors';
import {
  describeRunState,
  idempotencyToken,
  isRunSuccessful,
  isRunTerminal,
  isUnknownJob,
  Job,
  JobsClient,
  Run,
  RunNowRequest,
  RunTask,
  SubmitRunSpec,
  TaskSpec,
} from '../../databricks/jobs';
import { RunDeadlineError, RunHandle, startRun, startWaitOnCancelMs, type RunStartRequest } from '../../databricks/run-lifecycle';
import { filter } from '../../mlflow/filter';
import type { MlflowTracking } from '../../mlflow/tracking';
import { CANCEL_CLEANUP_BUDGET_MS } from '../../pipeline/host';
import type { TaskOutcome } from '../../pipeline/host';
import type { TaskHost } from '../../pipeline/host';
import { clip } from '../../pipeline/output';
import type { PipelineContext, TrainInputs } from './inputs';

/** Tags MLflow sets on runs created inside a Databricks job (mlflow/utils/databricks_utils). */
export const MLFLOW_JOB_ID_TAG = 'mlflow.databricks.jobID';
export const MLFLOW_JOB_RUN_ID_TAG = 'mlflow.databricks.jobRunID';

/** Tags written on each candidate besides `<candidateTag>=true`, tracing it back to the pipeline run. */
export const TRACE_TAGS = {
  buildId: 'azureDevOps.buildId',
  buildNumber: 'azureDevOps.buildNumber',
  sourceVersion: 'azureDevOps.sourceVersion',
  sourceBranch: 'azureDevOps.sourceBranch',
  repository: 'azureDevOps.repository',
  collectionUri: 'azureDevOps.collectionUri',
  teamProject: 'azureDevOps.teamProject',
  definitionId: 'azureDevOps.definitionId',
  jobRunId: 'databricks.jobRunId',
} as const;

export interface TrainDeps {
  jobs: JobsClient;
  /** Needed only when candidates are tagged. */
  tracking?: MlflowTracking;
  host: TaskHost;
  clock: Clock;
  pipeline: PipelineContext;
  /** Poll schedule: first interval (default 2 s), growing 1.5x to the cap (default 30 s). */
  poll?: { initialIntervalMs?: number; maxIntervalMs?: number };
}

/** How much of a failing task's error and trace goes to the log. */
const MAX_ERROR_CHARS = 2_000;
const MAX_TRACE_LINES = 60;
const MAX_TRACE_CHARS = 8_000;
const MAX_FAILED_TASKS_SHOWN = 3;
/**
 * Of the agent's cleanup budget, what a cancel that arrives while the start request is in flight spends
 * waiting for that request's answer (the run id); the rest is left for the runs/cancel call itself.
 */
export const START_WAIT_ON_CANCEL_MS = startWaitOnCancelMs(CANCEL_CLEANUP_BUDGET_MS);

function canonicalJson(value: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v as object)
              .sort()
              .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(canon(value));
}

/**
 * The idempotency token for this step's run request. Stable across retries of the call and across a
 * retry of the same step within one job attempt (same collection, project, build, task instance and run
 * spec), so those reattach to the run already started. `System.JobAttempt` is part of it on purpose:
 * "Re-run failed jobs" creates a new attempt and starts a fresh Databricks run instead of reporting the
 * old failed one again. Without pipeline identity (a run outside Azure Pipelines) the token is random,
 * which still makes the HTTP retries of this one call safe.
 */
export function runIdempotencyToken(pipeline: PipelineContext, spec: unknown): { token: string; stable: boolean } {
  const step = pipeline.taskInstanceId ?? (pipeline.jobId ? `job:${pipeline.jobId}` : undefined);
  if (!pipeline.buildId || !step) return { token: idempotencyToken(['databricks-mlops-train/v1', randomUUID()]), stable: false };
  const specHash = createHash('sha256').update(canonicalJson(spec)).digest('hex');
  return {
    token: idempotencyToken([
      'databricks-mlops-train/v1',
      (pipeline.collectionUri ?? '').toLowerCase(),
      pipeline.teamProject ?? '',
      pipeline.buildId,
      step,
      `attempt:${pipeline.jobAttempt ?? '1'}`,
      specHash,
    ]),
    stable: true,
  };
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h ${m}m ${sec}s` : m > 0 ? `${m}m ${sec}s` : `${sec}s`;
}

function truncateText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length - max} more characters)`;
}

/** Keeps the end of a stack trace (where the cause is), within line and character limits. */
export function truncateTrace(trace: string): string {
  const lines = trace.replace(/\r\n/g, '\n').split('\n');
  let kept = lines.length > MAX_TRACE_LINES ? lines.slice(-MAX_TRACE_LINES) : lines;
  let text = kept.join('\n');
  if (text.length > MAX_TRACE_CHARS) {
    text = text.slice(-MAX_TRACE_CHARS);
    kept = text.split('\n');
  }
  const dropped = lines.length - kept.length;
  return dropped > 0 ? `... (${dropped} earlier lines omitted)\n${text}` : text;
}

/** The task runs currently doing something (for the log), or the first not finished. */
function currentTasks(run: Run): RunTask[] {
  const tasks = run.tasks ?? [];
  const active = tasks.filter((t) => ['PENDING', 'RUNNING', 'TERMINATING', 'QUEUED'].includes(t.state?.life_cycle_state ?? ''));
  return active;
}

function doneTasks(run: Run): number {
  return (run.tasks ?? []).filter((t) => isRunTerminal(t)).length;
}

/** Leaf tasks (nothing depends on them): their exit value is the run's result. */
function leafTask(run: Run): RunTask | undefined {
  const tasks = run.tasks ?? [];
  const upstream = new Set(tasks.flatMap((t) => (t.depends_on ?? []).map((d) => d.task_key)));
  const leaves = tasks.filter((t) => !upstream.has(t.task_key));
  return leaves[leaves.length - 1] ?? tasks[tasks.length - 1];
}

/** Finds the job to run from jobId or jobName; name lookups must match exactly one job. */
async function resolveJob(inputs: TrainInputs, deps: TrainDeps): Promise<Job> {
  const t = inputs.target;
  if (t.kind !== 'existingJob') throw new Error('resolveJob called for a notebook run');
  const { jobs, host } = deps;
  if (t.jobId !== undefined) {
    try {
      return await jobs.getJob(t.jobId, host.signal);
    } catch (e) {
      if (isUnknownJob(e)) {
        throw new Error(`Job ${t.jobId} does not exist in this workspace or this identity cannot see it (${e.message}). Check jobId.`);
      }
      throw e;
    }
  }
  const matches: Job[] = [];
  for await (const j of jobs.listJobs({ name: t.jobName, signal: host.signal })) {
    // The server's name filter is exact and case-insensitive; keep that contract even if it is not applied.
    if ((j.settings?.name ?? '').toLowerCase() === t.jobName.toLowerCase()) matches.push(j);
  }
  if (matches.length === 1) {
    host.log.info(`Job "${clip(t.jobName)}" is job ${matches[0].job_id}.`);
    return jobs.getJob(matches[0].job_id, host.signal);
  }
  if (matches.length > 1) {
    const list = matches.map((j) => `${j.job_id} ("${clip(j.settings?.name ?? '')}")`).join(', ');
    throw new Error(`jobName "${clip(t.jobName)}" matches ${matches.length} jobs: ${list}. Set jobId to pick one.`);
  }
  const seen: Job[] = [];
  for await (const j of jobs.listJobs({ signal: host.signal })) {
    seen.push(j);
    if (seen.length >= 200) break;
  }
  const needle = t.jobName.toLowerCase();
  const similar = seen.filter((j) => (j.settings?.name ?? '').toLowerCase().includes(needle) || needle.includes((j.settings?.name ?? '\u0000').toLowerCase()));
  const shown = (similar.length > 0 ? similar : seen).slice(0, 20);
  const found =
    seen.length === 0
      ? 'This identity can see no jobs in the workspace.'
      : `${similar.length > 0 ? 'Similar job names' : 'Jobs found'}: ${shown.map((j) => `"${clip(j.settings?.name ?? '')}" (${j.job_id})`).join(', ')}${seen.length > shown.length && similar.length === 0 ? ', ...' : ''}.`;
  throw new Error(`No job is named "${clip(t.jobName)}". ${found} Check jobName (the match is exact, not case-sensitive) or set jobId.`);
}

interface StartPlan {
  describe: string;
  request: { kind: 'runNow'; body: RunNowRequest } | { kind: 'submit'; body: SubmitRunSpec };
}

function planRunNow(job: Job, inputs: TrainInputs): StartPlan {
  const defined = job.settings?.parameters ?? [];
  const body: RunNowRequest = { job_id: job.job_id };
  const keys = Object.keys(inputs.parameters);
  if (defined.length > 0) {
    const unknown = keys.filter((k) => !defined.some((d) => d.name === k));
    if (unknown.length > 0) {
      throw new Error(
        `jobParameters has ${unknown.map((k) => `"${k}"`).join(', ')}, which job ${job.job_id} does not define. Its job parameters are: ${defined.map((d) => d.name).join(', ')}.`,
      );
    }
    if (keys.length > 0) body.job_parameters = { ...inputs.parameters };
  } else if (keys.length > 0) {
    body.notebook_params = { ...inputs.parameters };
  }
  return { describe: `job ${job.job_id} ("${job.settings?.name ?? ''}")`, request: { kind: 'runNow', body } };
}

function planSubmit(inputs: TrainInputs, pipeline: PipelineContext): StartPlan {
  const t = inputs.target;
  if (t.kind !== 'notebook') throw new Error('planSubmit called for a job run');
  const task: TaskSpec = { task_key: 'train', notebook_task: { notebook_path: t.notebookPath, source: 'WORKSPACE' } };
  if (Object.keys(inputs.parameters).length > 0) task.notebook_task!.base_parameters = { ...inputs.parameters };
  if (t.cluster.mode === 'existing') task.existing_cluster_id = t.cluster.clusterId;
  else if (t.cluster.mode === 'new') task.new_cluster = t.cluster.newCluster;
  const name = [pipeline.repositoryName, pipeline.buildNumber].filter(Boolean).join(' ');
  const body: SubmitRunSpec = { run_name: name ? `Train ${name}` : 'Train (Azure Pipelines)', tasks: [task] };
  return {
    describe: `one-time run of ${t.notebookPath} (${t.cluster.mode === 'existing' ? `cluster ${t.cluster.clusterId}` : t.cluster.mode === 'new' ? 'new job cluster' : 'serverless'})`,
    request: { kind: 'submit', body },
  };
}

/**
 * Starts (or reattaches to) the Databricks run, follows it, reports its outcome and tags the MLflow runs it
 * created as candidates. Outputs are set whatever the outcome.
 */
export async function run(inputs: TrainInputs, deps: TrainDeps): Promise<TaskOutcome> {
  const startedAt = deps.clock.monotonic();
  // Everything that can be checked without writing happens before the run starts.
  const plan = inputs.target.kind === 'existingJob' ? planRunNow(await resolveJob(inputs, deps), inputs) : planSubmit(inputs, deps.pipeline);
  // No await without experiments to resolve: the start (and its cancel cleanup) then follows in the same tick.
  const experimentIds = willTag(inputs) ? await experimentsToTag(inputs, deps) : [];
  const handle = startTrainRun(plan, inputs, deps);
  const { runId, firstRead } = await announceRun(handle, deps);
  if (!inputs.waitForCompletion) return notWaiting(runId, firstRead, inputs, deps);
  const progress = progressReporter(runId, startedAt, deps);
  if (firstRead) progress(firstRead);
  let final: Run;
  try {
    final = await handle.wait(
      deps.host.signal,
      {
        timeoutMs: startedAt + inputs.timeoutMs - deps.clock.monotonic(),
        deadlineReason: `timeoutMinutes (${Math.round(inputs.timeoutMs / 60000)} min) elapsed`,
        onState: progress,
        onTransientError: (e) => deps.host.log.debug(`Polling run ${runId} failed transiently (${messageOf(e)}); retrying.`),
        initialIntervalMs: deps.poll?.initialIntervalMs ?? 2_000,
        maxIntervalMs: deps.poll?.maxIntervalMs ?? 30_000,
      },
      firstRead,
    );
  } catch (e) {
    if (e instanceof RunDeadlineError) return deadlinePassed(e, inputs, deps);
    throw e;
  }
  progress(final);
  deps.host.setOutput('resultState', final.state?.result_state ?? final.state?.life_cycle_state ?? 'UNKNOWN');
  if (!isRunSuccessful(final)) return runFailed(handle, final, firstRead?.run_page_url, deps);
  const issues = [...(await readNotebookOutput(final, deps)), ...(await tagPhase(final, experimentIds, inputs, deps))];
  const summary = `Databricks run ${runId} succeeded in ${formatDuration(deps.clock.monotonic() - startedAt)}.`;
  return issues.length > 0 ? { result: 'SucceededWithIssues', message: `${summary} Issues: ${issues.join('; ')}.` } : { result: 'Succeeded', message: summary };
}

function willTag(inputs: TrainInputs): boolean {
  return inputs.tagCandidates && inputs.waitForCompletion && inputs.experiments.length > 0;
}

/** The experiments whose runs are tagged as candidates, resolved before anything starts. */
async function experimentsToTag(inputs: TrainInputs, deps: TrainDeps): Promise<Array<{ ref: string; id: string }>> {
  const experimentIds: Array<{ ref: string; id: string }> = [];
  if (!deps.tracking) throw new Error('Candidate tagging needs an MLflow client.');
  for (const ref of inputs.experiments) {
    const exp = await deps.tracking.resolveExperiment(ref, deps.host.signal);
    experimentIds.push({ ref, id: exp.experiment_id });
  }
  return experimentIds;
}

/**
 * Sends the start request. The task owns the run it starts only when it waits for it and may cancel it:
 * then a pipeline cancel, even while the start is in flight, cancels the run (run-lifecycle.ts).
 */
function startTrainRun(plan: StartPlan, inputs: TrainInputs, deps: TrainDeps): RunHandle {
  const { host } = deps;
  const { token, stable } = runIdempotencyToken(deps.pipeline, plan.request.body);
  if (!stable) host.log.debug('No pipeline identity (Build.BuildId, System.TaskInstanceId): a retry of this step will start a new run.');
  const request: RunStartRequest =
    plan.request.kind === 'runNow'
      ? { kind: 'runNow', body: { ...plan.request.body, idempotency_token: token } }
      : { kind: 'submit', body: { ...plan.request.body, idempotency_token: token } };
  // Nothing is logged once cancelled: startRun then sends nothing and throws.
  if (!host.signal.aborted) host.log.info(`Starting ${plan.describe}.`);
  return startRun(
    { jobs: deps.jobs, log: host.log, onCancel: (c) => host.onCancel(c) },
    {
      request,
      signal: host.signal,
      cancelOnAbort: inputs.waitForCompletion && inputs.cancelRunOnAbort,
      cancelBudgetMs: CANCEL_CLEANUP_BUDGET_MS,
      describe: plan.describe,
    },
  );
}

/** Waits for the run id, then reads the run once: its page link is logged before anything else about it. */
async function announceRun(handle: RunHandle, deps: TrainDeps): Promise<{ runId: number; firstRead: Run | undefined }> {
  const { jobs, host } = deps;
  const runId = await handle.started;
  host.setOutput('runId', runId);
  // The start answered after a cancel: the cleanup cancels the run; the task stops here.
  if (host.signal.aborted) throw cancelledFrom(host.signal, `Following run ${runId}`);
  let firstRead: Run | undefined;
  try {
    firstRead = await jobs.getRun(runId, host.signal);
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    host.log.warn(`Could not read run ${runId} yet: ${messageOf(e)}`);
  }
  host.log.info(`Run page: ${firstRead?.run_page_url ?? '(not available yet)'}`);
  host.log.info(`Databricks run ${runId} started.`);
  host.setOutput('runPageUrl', firstRead?.run_page_url);
  return { runId, firstRead };
}

function notWaiting(runId: number, firstRead: Run | undefined, inputs: TrainInputs, deps: TrainDeps): TaskOutcome {
  if (firstRead) deps.host.setOutput('resultState', describeRunState(firstRead));
  if (inputs.tagCandidates && inputs.experiments.length > 0) deps.host.log.info('waitForCompletion is false: candidate tagging is skipped.');
  return { result: 'Succeeded', message: `Started Databricks run ${runId} (not waiting for it).` };
}

/** Logs each new run state (with its tasks) and sets the step's progress from the tasks done. */
function progressReporter(runId: number, startedAt: number, deps: TrainDeps): (r: Run) => void {
  const { host, clock } = deps;
  let lastKey = '';
  return (r: Run) => {
    const current = currentTasks(r);
    const total = (r.tasks ?? []).length;
    const taskPart = total > 1 && current.length > 0 ? ` (task ${current.map((t) => `${t.task_key}: ${t.state?.life_cycle_state ?? '?'}`).join(', ')})` : '';
    const msg = r.state?.state_message && !isRunTerminal(r) ? ` - ${r.state.state_message}` : '';
    const key = `${describeRunState(r)}${taskPart}${msg}`;
    const elapsed = clock.monotonic() - startedAt;
    if (key !== lastKey) {
      lastKey = key;
      host.log.info(`Run ${runId}: ${key} after ${formatDuration(elapsed)}.`);
    }
    // The timeline's percent counts finished tasks only: a share of timeoutMinutes would say how much of the
    // time allowed is used up, not how far the run is, and would stay at 0% for a run well within it.
    const done = doneTasks(r);
    const percent = isRunTerminal(r) ? 100 : total > 0 ? Math.min(99, Math.round((100 * done) / total)) : 0;
    host.setProgress(percent, `${describeRunState(r)}${total > 1 ? `, ${done} of ${total} tasks done` : ''}, ${formatDuration(elapsed)} elapsed`);
  };
}

/** timeoutMinutes passed: the lifecycle cancelled the run (or says why it could not). */
function deadlinePassed(e: RunDeadlineError, inputs: TrainInputs, deps: TrainDeps): TaskOutcome {
  const last = e.lastRun ? describeRunState(e.lastRun) : 'unknown';
  deps.host.setOutput('resultState', 'TIMEDOUT');
  const cancelNote =
    e.cancelError === undefined ? ' The run was cancelled.' : ` Cancelling the run failed: ${messageOf(e.cancelError)}; cancel it from the run page.`;
  return { result: 'Failed', message: `Databricks run ${e.runId} did not finish within ${formatDuration(inputs.timeoutMs)}; last state ${last}.${cancelNote}` };
}

/** Logs the failing tasks' errors and traces; the step fails naming them. */
async function runFailed(handle: RunHandle, final: Run, runPageUrl: string | undefined, deps: TrainDeps): Promise<TaskOutcome> {
  const log = deps.host.log;
  const { shown, total } = await handle.failures(final, deps.host.signal, MAX_FAILED_TASKS_SHOWN);
  const details: string[] = [];
  for (const { task: t, output: out, readError } of shown) {
    if (!out) {
      log.warn(`Could not read the output of task ${t.task_key} (run ${t.run_id}): ${messageOf(readError)}`);
      details.push(`task ${t.task_key}: ${describeRunState(t)}`);
      continue;
    }
    const err = out.error ?? t.state?.state_message ?? 'no error message';
    log.error(`Task ${t.task_key} (run ${t.run_id}) ${describeRunState(t)}: ${truncateText(err, MAX_ERROR_CHARS)}`);
    if (out.error_trace) {
      log.info(`Trace of task ${t.task_key}:`);
      for (const line of truncateTrace(out.error_trace).split('\n')) log.info(`  ${line}`);
    }
    if (t.run_page_url) log.info(`Task run page: ${t.run_page_url}`);
    details.push(`task ${t.task_key}: ${truncateText(err.split('\n')[0], 300)}`);
  }
  if (total > MAX_FAILED_TASKS_SHOWN) log.info(`${total - MAX_FAILED_TASKS_SHOWN} more failed tasks; see the run page.`);
  const why = details.length > 0 ? ` (${details.join('; ')})` : final.state?.state_message ? ` (${final.state.state_message})` : '';
  return { result: 'Failed', message: `Databricks run ${final.run_id} ended ${describeRunState(final)}${why}. ${runPageUrl ?? ''}`.trim() };
}

/** Sets notebookOutput from the leaf task's exit value; returns the issues found. */
async function readNotebookOutput(final: Run, deps: TrainDeps): Promise<string[]> {
  const { jobs, host } = deps;
  const leaf = leafTask(final);
  const outputRunId = leaf?.run_id ?? final.run_id;
  try {
    const out = await jobs.getRunOutput(outputRunId, host.signal);
    const result = out.notebook_output?.result;
    if (result === undefined) {
      host.log.info('The notebook did not return a value (dbutils.notebook.exit was not called).');
      return [];
    }
    host.setOutput('notebookOutput', result);
    host.log.info(`Notebook output${leaf && (final.tasks ?? []).length > 1 ? ` of task ${leaf.task_key}` : ''}: ${truncateText(result, 1000)}`);
    if (!out.notebook_output?.truncated) return [];
    host.log.warn('The notebook output was truncated by Databricks (it keeps the first 5 MB).');
    return ['notebook output truncated'];
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    host.log.warn(`Could not read the notebook output of run ${outputRunId}: ${messageOf(e)}`);
    return ['notebook output unavailable'];
  }
}

/** Tags the candidates when asked to; returns the issues found. */
async function tagPhase(final: Run, experimentIds: Array<{ ref: string; id: string }>, inputs: TrainInputs, deps: TrainDeps): Promise<string[]> {
  const log = deps.host.log;
  if (!inputs.tagCandidates) return [];
  if (inputs.experiments.length === 0) {
    log.warn('tagCandidates is true but no experiments are set, so no MLflow run was tagged as a candidate. Set experiments, or set tagCandidates to false.');
    return ['no experiments to tag'];
  }
  const tagged = await tagCandidates(final, experimentIds, inputs, deps);
  deps.host.setOutput('candidateRunIds', tagged.join(','));
  if (tagged.length > 0) return [];
  log.warn(
    `No MLflow run created by Databricks run ${final.run_id} was found in ${inputs.experiments.join(', ')} (runs are matched by the ${MLFLOW_JOB_RUN_ID_TAG} tag MLflow sets inside a job). Nothing was tagged as a candidate; check that the notebook logs to one of these experiments.`,
  );
  return ['no candidate runs found'];
}

/**
 * Tags the MLflow runs this job run created (matched on `mlflow.databricks.jobRunID` against the job run
 * id and each task run id, and on `mlflow.databricks.jobID` when present) with `<candidateTag>=true` and
 * the pipeline trace tags. Returns the tagged MLflow run ids.
 */
async function tagCandidates(final: Run, experiments: Array<{ ref: string; id: string }>, inputs: TrainInputs, deps: TrainDeps): Promise<string[]> {
  const tracking = deps.tracking!;
  const { host, pipeline } = deps;
  const jobRunIds = [final.run_id, ...(final.tasks ?? []).map((t) => t.run_id)].map(String);
  const found = new Map<string, string>();
  for (const exp of experiments) {
    for (const id of jobRunIds) {
      const f = filter().tag(MLFLOW_JOB_RUN_ID_TAG, '=', id);
      for await (const r of tracking.searchRuns({ experimentIds: [exp.id], filter: f, runViewType: 'ACTIVE_ONLY', signal: host.signal })) {
        const tags = new Map((r.data?.tags ?? []).map((t) => [t.key, t.value ?? '']));
        const jobTag = tags.get(MLFLOW_JOB_ID_TAG);
        if (jobTag !== undefined && final.job_id !== undefined && jobTag !== String(final.job_id)) continue;
        if (tags.get(MLFLOW_JOB_RUN_ID_TAG) !== id) continue;
        found.set(r.info.run_id, exp.ref);
      }
    }
  }
  const traceTags: Array<[string, string | undefined]> = [
    [inputs.candidateTag, 'true'],
    [TRACE_TAGS.buildId, pipeline.buildId],
    [TRACE_TAGS.buildNumber, pipeline.buildNumber],
    [TRACE_TAGS.sourceVersion, pipeline.sourceVersion],
    [TRACE_TAGS.sourceBranch, pipeline.sourceBranch],
    [TRACE_TAGS.repository, pipeline.repositoryName],
    [TRACE_TAGS.collectionUri, pipeline.collectionUri],
    [TRACE_TAGS.teamProject, pipeline.teamProject],
    [TRACE_TAGS.definitionId, pipeline.definitionId],
    [TRACE_TAGS.jobRunId, String(final.run_id)],
  ];
  for (const [mlflowRunId, ref] of found) {
    for (const [key, value] of traceTags) {
      if (value === undefined || value === '') continue;
      await tracking.setTag(mlflowRunId, key, value, host.signal);
    }
    host.log.info(`Tagged MLflow run ${mlflowRunId} (experiment ${ref}) as ${inputs.candidateTag}=true.`);
  }
  return [...found.keys()];
}
