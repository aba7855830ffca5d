/**
 * How the Jobs emulator renders a stored run at a moment of emulated time: the life cycle of each task run
 * and of the parent run, `state` (life_cycle_state, result_state, state_message) and the newer `status`
 * (state, termination_details, queue_details), both populated as on Databricks (JS SDK jobs `model.d.ts`
 * RunState and RunStatus; docs/databricks-api-notes.md §1 and §10.4), `end_time` 0 until the run ends.
 */
import type { EmulatedRun, EmulatedTaskRun, LifeCycle } from './model';
import { compact } from './validate';

export interface StateNow {
  lifeCycle: LifeCycle;
  result?: string;
  message?: string;
  code?: string;
  type?: string;
  ended: boolean;
  cancelled?: boolean;
}

export function taskState(t: EmulatedTaskRun, now: number, qEnd: number | undefined): StateNow {
  if (t.end && t.end.at <= now) {
    return {
      lifeCycle: t.end.lifeCycle,
      result: t.end.result,
      message: t.end.message,
      code: t.end.code,
      type: t.end.type,
      ended: true,
      cancelled: t.end.code === 'USER_CANCELED',
    };
  }
  if (t.terminatingAt !== undefined && t.terminatingAt <= now) return { lifeCycle: 'TERMINATING', ended: false, cancelled: t.end?.code === 'USER_CANCELED' };
  if (t.runningAt !== undefined && t.runningAt <= now) return { lifeCycle: 'RUNNING', ended: false };
  if (t.startAt !== undefined && t.startAt <= now) return { lifeCycle: 'PENDING', message: 'Waiting for cluster', ended: false };
  if (t.dependsOn.length > 0) return { lifeCycle: 'BLOCKED', ended: false };
  if (qEnd === undefined || qEnd > now) return { lifeCycle: 'QUEUED', ended: false };
  return { lifeCycle: 'PENDING', ended: false };
}

export function renderState(s: StateNow, queueReason?: string) {
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

export function runPageUrl(host: string, workspaceId: string, jobId: number, runId: number): string {
  return `${host}/?o=${workspaceId}#job/${jobId}/run/${runId}`;
}

/** Where a rendered run is seen from: the time, the URL host of the request, the workspace id. */
export interface ViewPoint {
  now: number;
  host: string;
  workspaceId: string;
}

export function taskView(run: EmulatedRun, t: EmulatedTaskRun, at: ViewPoint, qEnd: number | undefined) {
  const now = at.now;
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
      run_page_url: runPageUrl(at.host, at.workspaceId, run.jobId, t.runId),
      cluster_instance: t.clusterId && t.startAt !== undefined && t.startAt <= now ? { cluster_id: t.clusterId } : undefined,
      start_time: t.startAt !== undefined && t.startAt <= now ? t.startAt : undefined,
      end_time: s.ended ? t.end!.at : 0,
      run_duration: s.ended && t.startAt !== undefined ? t.end!.at - t.startAt : undefined,
    },
    ['end_time'],
  );
}

/** The parent run's state once every task run has ended: the first platform failure, a cancel, a failure, or success. */
function endedParentState(run: EmulatedRun): StateNow {
  const internal = run.tasks.find((t) => t.end!.lifeCycle === 'INTERNAL_ERROR');
  if (internal)
    return { lifeCycle: 'INTERNAL_ERROR', result: 'FAILED', message: internal.end!.message, code: internal.end!.code, type: internal.end!.type, ended: true };
  const cancelled = run.tasks.some((t) => t.end!.result === 'CANCELED');
  if (cancelled)
    return { lifeCycle: 'TERMINATED', result: 'CANCELED', message: 'Run cancelled.', code: 'USER_CANCELED', type: 'SUCCESS', ended: true, cancelled: true };
  const failed = run.tasks.find((t) => t.end!.result !== 'SUCCESS');
  if (failed)
    return { lifeCycle: 'TERMINATED', result: 'FAILED', message: failed.end!.message, code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR', ended: true };
  return { lifeCycle: 'TERMINATED', result: 'SUCCESS', message: '', code: 'SUCCESS', type: 'SUCCESS', ended: true };
}

export function parentState(run: EmulatedRun, now: number, qEnd: number | undefined): StateNow {
  if (run.skippedMessage) return { lifeCycle: 'SKIPPED', message: run.skippedMessage, code: 'SKIPPED', type: 'SUCCESS', ended: true };
  const states = run.tasks.map((t) => taskState(t, now, qEnd));
  if (states.every((s) => s.ended)) return endedParentState(run);
  if (states.some((s) => s.lifeCycle === 'RUNNING')) return { lifeCycle: 'RUNNING', ended: false };
  const pendingOrBlocked = states.filter((s) => !s.ended && s.lifeCycle !== 'TERMINATING');
  if (states.some((s) => s.lifeCycle === 'TERMINATING') && pendingOrBlocked.length === 0) {
    return { lifeCycle: 'TERMINATING', ended: false, cancelled: run.cancelRequestedAt !== undefined };
  }
  if (states.every((s) => s.lifeCycle === 'QUEUED' || s.lifeCycle === 'BLOCKED')) return { lifeCycle: 'QUEUED', ended: false };
  const everRan = run.tasks.some((t) => t.runningAt !== undefined && t.runningAt <= now);
  return { lifeCycle: everRan ? 'RUNNING' : 'PENDING', message: everRan ? undefined : 'Waiting for cluster', ended: false };
}
