/**
 * One lifecycle for a Databricks run a task starts: start it (`jobs/run-now` or `jobs/runs/submit`, always
 * with an idempotency token), follow it to its end (backoff, progress callback, deadline), cancel it (when the
 * pipeline is cancelled, including while the start request is in flight, within the agent's cleanup budget;
 * when the deadline passes), and read the failing tasks' error and trace.
 *
 * The shape follows databricks-sdk-go's long-running operations (service/jobs/api.go): `RunNow` and `Submit`
 * return a waiter holding the `RunId` whose `Get`/`GetWithTimeout` polls `WaitGetRunJobTerminatedOrSkipped`
 * (runs/get until TERMINATED, SKIPPED or INTERNAL_ERROR) with a progress callback; `RunNowAndWait` and
 * `SubmitAndWait` are start-then-wait. Here {@link startRun} returns a {@link RunHandle} with `wait()` and
 * `cancel()`; what the SDK leaves to its caller (cancelling on a deadline or a pipeline cancel) is part of it.
 *
 * Client ring: no task library. The caller passes where cancel cleanups are registered and the agent's
 * cleanup budget.
 */
import { systemClock, type Clock } from './clock';
import { cancelledFrom, CancelledError, messageOf, TimeoutError } from './errors';
import { isRunTerminal, type JobsClient, type Run, type RunNowRequest, type RunOutput, type RunTask, type SubmitRunSpec, failingTaskRuns } from './jobs';

/** What is started: a saved job (`run-now`) or a one-time run (`runs/submit`), each with its idempotency token. */
export type RunStartRequest =
  { kind: 'runNow'; body: RunNowRequest & { idempotency_token: string } } | { kind: 'submit'; body: SubmitRunSpec & { idempotency_token: string } };

export interface RunLifecycleDeps {
  jobs: Pick<JobsClient, 'runNow' | 'submitRun' | 'cancelRun' | 'waitForRunTerminated' | 'getRunOutput'>;
  log: { info(message: string): void; warn(message: string): void };
  /** Registers a cleanup the pipeline-cancel handler runs (the agent's SIGINT/SIGTERM). */
  onCancel(cleanup: () => Promise<void>): void;
  /**
   * Times the pipeline-cancel cleanup against the agent's budget (monotonic time and sleep). The system clock
   * unless a test passes another: the budget is real time even when the polls run on a test's fake clock.
   */
  clock?: Clock;
}

export interface StartRunOptions {
  request: RunStartRequest;
  /** The pipeline's signal: aborted when the agent cancels the step. */
  signal: AbortSignal;
  /**
   * Whether a pipeline cancel cancels the run (default true). Then the start request is not cut off by the
   * cancel: it carries an idempotency token, so letting it finish is safe, and only its answer names the run.
   * Otherwise the start request stops with the pipeline and the run is left alone.
   */
  cancelOnAbort?: boolean;
  /** Real time the agent leaves between its cancel and the process exit (the cleanup must fit in it). */
  cancelBudgetMs: number;
  /** For messages: `job 12 ("train")`, `scoring run`. */
  describe: string;
}

export interface FollowOptions {
  /** Deadline from now; at or below 0 the deadline has already passed. */
  timeoutMs: number;
  /** Why the deadline cancels the run, for the log: `timeoutMinutes (60 min) elapsed`. */
  deadlineReason: string;
  /** Called with every polled run (progress). */
  onState?: (run: Run) => void;
  onTransientError?: (err: unknown) => void;
  initialIntervalMs?: number;
  maxIntervalMs?: number;
}

/** A failing task run with what runs/get-output said about it, or why that could not be read. */
export interface TaskFailure {
  task: RunTask;
  output?: RunOutput;
  readError?: unknown;
}

/** A cancel call gets this long at most (outside the cancel budget, where the budget decides). */
export const CANCEL_TIMEOUT_MS = 4_000;
/** Of the cleanup budget, what is kept for the runs/cancel call after waiting for a start request's answer. */
const CANCEL_CALL_RESERVE_MS = 1_500;
/** Kept back from the cleanup budget so a slow cancel call times out (and says so) before the process exits. */
const CANCEL_BUDGET_MARGIN_MS = 250;

/** Of a cleanup budget, what a cancel during the start request spends waiting for that request's answer. */
export function startWaitOnCancelMs(cancelBudgetMs: number): number {
  return cancelBudgetMs - CANCEL_CALL_RESERVE_MS;
}

/** The deadline passed: the run was cancelled (or cancelling it failed: `cancelError`). */
export class RunDeadlineError extends TimeoutError {
  constructor(
    readonly runId: number,
    readonly lastRun: Run | undefined,
    readonly cancelError: unknown,
    elapsedMs: number,
  ) {
    super(`Run ${runId} did not finish in time.`, lastRun, elapsedMs);
    this.name = 'RunDeadlineError';
  }
}

type Settled<T> = { kind: 'ok'; value: T } | { kind: 'failed'; error: unknown } | { kind: 'pending' };

/** How `promise` ended within `ms` on `clock`, or `pending`. Never rejects. */
function settleWithin<T>(promise: Promise<T>, ms: number, clock: Clock): Promise<Settled<T>> {
  const stopTimer = new AbortController();
  return Promise.race<Settled<T>>([
    promise.then(
      (value) => ({ kind: 'ok', value }),
      (error: unknown) => ({ kind: 'failed', error }),
    ),
    // The sleep is stopped (rejects) once the start settled first; either way its end only means "pending".
    clock.sleep(ms, stopTimer.signal).then(
      () => ({ kind: 'pending' }),
      () => ({ kind: 'pending' }),
    ),
  ]).finally(() => stopTimer.abort());
}

/** A started run: its id once the start answered, `wait()` to follow it, `cancel()` to stop it. */
export interface RunHandle {
  /** The run id, once the start request answered. */
  readonly started: Promise<number>;
  /**
   * Polls the run until it ends (runs/get, backoff from the jobs client) and returns it; `seen`, when already
   * terminal, is returned without a poll. When the deadline passes, cancels the run and throws
   * {@link RunDeadlineError}. A pipeline cancel throws CancelledError; the run is then cancelled by the cleanup.
   */
  wait(signal: AbortSignal, follow: FollowOptions, seen?: Run): Promise<Run>;
  /** `runs/cancel` once per run (later calls do nothing), bounded by `timeoutMs`. Databricks stops the run asynchronously. */
  cancel(why: string, timeoutMs?: number): Promise<void>;
  /**
   * The task runs that failed on their own account (at most `max`), each with its runs/get-output (`error`,
   * `error_trace`) or the error reading it. A pipeline cancel while reading throws.
   */
  failures(run: Run, signal: AbortSignal, max: number): Promise<{ shown: TaskFailure[]; total: number }>;
}

/** The warning when a pipeline cancel cannot name the run a start request in flight may have started. */
function unknownRunMessage(request: RunStartRequest, what: string): string {
  const which = request.kind === 'runNow' ? `a run of job ${request.body.job_id}` : `the one-time run "${request.body.run_name}"`;
  return (
    `The pipeline was cancelled while ${request.kind === 'runNow' ? 'jobs/run-now' : 'jobs/runs/submit'} was in flight and ${what}, so the Databricks run it may have started is not known and was not cancelled. ` +
    `If it started, it is ${which} created with idempotency token ${request.body.idempotency_token}: check the workspace and cancel it there.`
  );
}

/** {@link RunHandle.failures}: runs/get-output of the first `max` failed task runs; a pipeline cancel while reading throws. */
async function readTaskFailures(
  jobs: Pick<JobsClient, 'getRunOutput'>,
  run: Run,
  readSignal: AbortSignal,
  max: number,
): Promise<{ shown: TaskFailure[]; total: number }> {
  const failing = failingTaskRuns(run);
  const shown: TaskFailure[] = [];
  for (const task of failing.slice(0, max)) {
    try {
      shown.push({ task, output: await jobs.getRunOutput(task.run_id, readSignal) });
    } catch (readError) {
      if (readError instanceof CancelledError) throw readError;
      shown.push({ task, readError });
    }
  }
  return { shown, total: failing.length };
}

/**
 * Starts a run and returns its handle at once (the start request in flight). With `cancelOnAbort` (the
 * default) the pipeline-cancel cleanup is registered before the start's answer, so a cancel at any point
 * from now on cancels the run, whenever the start answers.
 */
export function startRun(deps: RunLifecycleDeps, opts: StartRunOptions): RunHandle {
  const { jobs, log } = deps;
  const clock = deps.clock ?? systemClock;
  const { request, signal, cancelBudgetMs } = opts;
  // Nothing may start once cancelled: a cleanup registered after the signal would never run.
  if (signal.aborted) throw cancelledFrom(signal, `Starting ${opts.describe}`);
  const owns = opts.cancelOnAbort !== false;
  const startAbort = new AbortController();
  const startSignal = owns ? startAbort.signal : signal;
  const started = (request.kind === 'runNow' ? jobs.runNow(request.body, startSignal) : jobs.submitRun(request.body, startSignal)).then((r) => r.run_id);
  let ended = false;
  let cancelIssued = false;
  let lastRun: Run | undefined;

  const cancel = async (why: string, timeoutMs = CANCEL_TIMEOUT_MS): Promise<void> => {
    const runId = await started;
    if (cancelIssued) return;
    cancelIssued = true;
    log.info(`Cancelling Databricks run ${runId} (${why}).`);
    await jobs.cancelRun(runId, AbortSignal.timeout(timeoutMs));
    log.info(`Cancel requested for run ${runId}; Databricks stops it asynchronously.`);
  };

  // The pipeline was cancelled: wait (part of the budget) for the start request's answer, then cancel the
  // run it names within what is left. Real time (deps.clock), like the agent's budget it has to fit in.
  if (owns) {
    deps.onCancel(async () => {
      const cancelledAt = clock.monotonic();
      const waitMs = startWaitOnCancelMs(cancelBudgetMs);
      const start = await settleWithin(started, waitMs, clock);
      if (start.kind === 'pending') {
        startAbort.abort(new Error('the pipeline was cancelled'));
        log.warn(unknownRunMessage(request, `did not answer within ${waitMs / 1000} s`));
      } else if (start.kind === 'failed') {
        log.warn(unknownRunMessage(request, `failed (${messageOf(start.error)})`));
      } else if (!ended) {
        const left = cancelBudgetMs - (clock.monotonic() - cancelledAt) - CANCEL_BUDGET_MARGIN_MS;
        await cancel('the pipeline was cancelled', Math.max(1, Math.min(CANCEL_TIMEOUT_MS, left)));
      }
    });
  }

  return {
    started,
    cancel,
    async wait(waitSignal, follow, seen) {
      const runId = await started;
      lastRun = seen ?? lastRun;
      try {
        if (seen && isRunTerminal(seen)) lastRun = seen;
        else if (follow.timeoutMs <= 0) throw new TimeoutError(`Run ${runId} did not finish in time.`, lastRun, 0);
        else {
          lastRun = await jobs.waitForRunTerminated(runId, {
            timeoutMs: follow.timeoutMs,
            signal: waitSignal,
            onState: (r) => {
              lastRun = r;
              follow.onState?.(r);
            },
            onTransientError: follow.onTransientError,
            initialIntervalMs: follow.initialIntervalMs,
            maxIntervalMs: follow.maxIntervalMs,
          });
        }
        ended = true;
        return lastRun;
      } catch (err) {
        if (!(err instanceof TimeoutError)) throw err;
        ended = true;
        const cancelError = await cancel(follow.deadlineReason).then(
          () => undefined,
          (e: unknown) => e ?? new Error('cancel failed'),
        );
        throw new RunDeadlineError(runId, lastRun, cancelError, err.elapsedMs);
      }
    },
    failures: (run, readSignal, max) => readTaskFailures(jobs, run, readSignal, max),
  };
}
