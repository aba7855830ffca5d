/**
 * What a task's `run(inputs, deps)` may do to the outside world besides HTTP: log, set outputs, report
 * progress, attach files, and learn about cancellation, and what it returns. The interface only: no
 * task-lib here, so a task's `run()` can import it without loading the agent library. `taskLibHost()`
 * (task-lib-host.ts, the adapter) is the agent's implementation; tests and the demo supply their own.
 */

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export interface TaskHost {
  log: Logger;
  /** Sets an output variable (`isOutput=true`), usable as `$(step.name)` downstream. */
  setOutput(name: string, value: string | number | boolean | undefined): void;
  /** Masks a value in every later log line; also redacts it from our own messages. */
  setSecret(value: string): void;
  setProgress(percent: number, operation: string): void;
  uploadSummary(markdownPath: string): void;
  addAttachment(type: string, name: string, filePath: string): void;
  /** Publishes a file or folder as the build artifact `name` (`artifact.upload`), for later stages to download. */
  uploadArtifact?(name: string, fileOrFolder: string): void;
  /** A folder owned by this task run (Agent.TempDirectory). */
  tempDir: string;
  /** Aborted when the agent cancels the step (SIGINT, then SIGTERM). */
  signal: AbortSignal;
  /** Registers cleanup to run on cancel, e.g. cancelling the Databricks run. Runs at most once. */
  onCancel(cleanup: () => Promise<void>): void;
}

export type TaskResultName = 'Succeeded' | 'SucceededWithIssues' | 'Failed';

export interface TaskOutcome {
  result: TaskResultName;
  message: string;
}

/** The agent sends SIGINT, waits 7.5 s, then SIGTERM and 2.5 s more: finish cleanup well inside that. */
export const CANCEL_CLEANUP_BUDGET_MS = 5000;
