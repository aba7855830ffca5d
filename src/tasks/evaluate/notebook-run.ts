/**
 * The Databricks runs Evaluate starts (the scoring notebook or the user's scoring job, the UC registration
 * and copy notebooks), all through the one run lifecycle (databricks/run-lifecycle.ts): a pipeline cancel,
 * even while the start request is in flight, cancels the run; so does the timeout; a run that did not succeed
 * is an error carrying its failing task's error. Also the one reader of a notebook's JSON exit value.
 */
import { messageOf } from '../../databricks/errors';
import { describeRunState, isRunSuccessful, type Run } from '../../databricks/jobs';
import { RunDeadlineError, startRun, type RunLifecycleDeps, type RunStartRequest } from '../../databricks/run-lifecycle';
import { CANCEL_CLEANUP_BUDGET_MS } from '../../pipeline/host';
import type { Logger } from '../../pipeline/host';

/** What starting and waiting for a run needs. */
export interface RunWaitDeps {
  jobs: RunLifecycleDeps['jobs'];
  log: Logger;
  /** Registers a cleanup the pipeline-cancel handler runs (cancels the run the task started). */
  onCancel(cleanup: () => Promise<void>): void;
  pollIntervalMs?: { initial: number; max: number };
}

export interface RunToSuccessOptions {
  /** `Scoring run`, `Registration run`: names the run in the log and in errors. */
  label: string;
  timeoutMs: number;
  /** The input that sets `timeoutMs`, for the timeout message. */
  timeoutInput: string;
  signal: AbortSignal;
  /** Logs the start once its answer names the run. */
  announce(runId: number): void;
}

/** An error's message without trailing full stops, to be quoted inside a sentence. */
export function trimmedMessage(err: unknown): string {
  return messageOf(err).trim().replace(/\.+$/, '');
}

/**
 * Starts the run and waits until it ends. `where` names the run (with its page URL) for later messages.
 * Throws, naming the run, when it timed out (cancelled), could no longer be followed (cancelled, best
 * effort) or ended without success.
 */
export async function runToSuccess(
  deps: RunWaitDeps,
  request: RunStartRequest,
  opts: RunToSuccessOptions,
): Promise<{ run: Run; runId: number; where: string }> {
  const { log } = deps;
  const handle = startRun(deps, { request, signal: opts.signal, cancelBudgetMs: CANCEL_CLEANUP_BUDGET_MS, describe: opts.label.toLowerCase() });
  const runId = await handle.started;
  opts.announce(runId);
  const minutes = Math.round(opts.timeoutMs / 60000);
  let run: Run;
  try {
    let lastState = '';
    run = await handle.wait(opts.signal, {
      timeoutMs: opts.timeoutMs,
      deadlineReason: `${opts.timeoutInput} (${minutes} min) elapsed`,
      initialIntervalMs: deps.pollIntervalMs?.initial,
      maxIntervalMs: deps.pollIntervalMs?.max,
      onState: (r) => {
        const s = describeRunState(r);
        if (s !== lastState) log.info(`${opts.label} ${runId}: ${s}${r.state?.state_message ? ` (${r.state.state_message})` : ''}`);
        lastState = s;
      },
    });
  } catch (err) {
    if (err instanceof RunDeadlineError)
      throw new Error(`${opts.label} ${runId} did not finish within ${minutes} minutes (${opts.timeoutInput}); it was cancelled.`);
    // A pipeline cancel: the lifecycle's cleanup cancels the run within the agent's window.
    if (opts.signal.aborted) throw err;
    // We can no longer follow the run (the poll kept failing): stop it rather than leave it running
    // unattended, best effort (the cancel may fail for the same reason), and name it.
    const cancelled = await handle.cancel('it can no longer be followed').then(
      () => true,
      () => false,
    );
    throw new Error(
      `${opts.label} ${runId} could not be followed: ${trimmedMessage(err)}. ${cancelled ? 'It was cancelled' : 'Cancelling it failed too; cancel it in the workspace'}; nothing was promoted.`,
    );
  }
  const where = `${opts.label} ${runId}${run.run_page_url ? ` (${run.run_page_url})` : ''}`;
  if (!isRunSuccessful(run)) {
    const [failing] = (await handle.failures(run, opts.signal, 1).catch(() => ({ shown: [] }))).shown;
    const detail = trimmedMessage(failing?.output?.error || run.state?.state_message || '');
    throw new Error(`${where} ended ${describeRunState(run)}${detail ? `: ${detail}` : ''}. Nothing was promoted.`);
  }
  return { run, runId, where };
}

/**
 * A notebook's JSON exit value (`dbutils.notebook.exit(json.dumps(...))`): missing or not JSON is an error
 * naming the run and the contract (`shape`, e.g. `{"version": ..., "reused": ...}`).
 */
export function parseExitJson(raw: string | undefined, where: string, notebook: string, shape: string): unknown {
  if (raw === undefined || raw.trim() === '') {
    throw new Error(`${where} finished without an exit value; the ${notebook} must end with dbutils.notebook.exit(json.dumps(${shape})).`);
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error(`${where} exited with a value that is not JSON: ${raw.slice(0, 200)}`);
  }
}
