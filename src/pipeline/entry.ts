/**
 * The adapter every task entry (tasks/<Task>/index.ts) calls: sets up task-lib, installs the cancel
 * handlers, runs the task, and maps the outcome or error to `setResult`. Errors are reported by message
 * only (never the error object, which for HTTP errors can carry request headers).
 */
import * as path from 'node:path';
import * as tl from 'azure-pipelines-task-lib/task';
import { CANCEL_CLEANUP_BUDGET_MS, type TaskHost, type TaskOutcome } from './host';
import { taskLibHost } from './task-lib-host';
import { messageOf } from '../databricks/errors';
import { printable } from './output';

/** An error's message as the task may print it (secrets redacted, logging commands neutralised). */
function printableMessage(err: unknown): string {
  return printable(messageOf(err));
}

export async function runEntry(taskDir: string, main: (host: TaskHost) => Promise<TaskOutcome>): Promise<void> {
  tl.setResourcePath(path.join(taskDir, 'task.json'));
  const controller = new AbortController();
  const cleanups: Array<() => Promise<void>> = [];
  let cancelling = false;

  const onSignal = (sig: NodeJS.Signals) => {
    if (cancelling) return;
    cancelling = true;
    console.log(printable(`Cancellation requested (${sig}).`));
    controller.abort(new Error(`cancelled by ${sig}`));
    const budget = new Promise<void>((resolve) => setTimeout(resolve, CANCEL_CLEANUP_BUDGET_MS).unref());
    const work = (async () => {
      for (const c of cleanups.splice(0)) {
        try {
          await c();
        } catch (e) {
          tl.warning(`Cleanup after cancellation failed: ${printableMessage(e)}`);
        }
      }
    })();
    void Promise.race([work, budget]).then(() => {
      tl.setResult(tl.TaskResult.Cancelled, `Cancelled by ${sig}.`, true);
      process.exit(1);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const host = taskLibHost(controller.signal, (cleanup) => cleanups.push(cleanup));
  try {
    const outcome = await main(host);
    if (cancelling) return;
    const result =
      outcome.result === 'Succeeded'
        ? tl.TaskResult.Succeeded
        : outcome.result === 'SucceededWithIssues'
          ? tl.TaskResult.SucceededWithIssues
          : tl.TaskResult.Failed;
    tl.setResult(result, printable(outcome.message), true);
  } catch (err) {
    if (cancelling) return;
    tl.setResult(tl.TaskResult.Failed, printableMessage(err), true);
  }
  if (!cancelling) {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
