/**
 * What a task's `run(inputs, deps)` may do to the outside world besides HTTP: log, set outputs, report
 * progress, attach files, and learn about cancellation. `taskLibHost()` is the agent's implementation;
 * tests and the demo can supply their own.
 */
import * as tl from 'azure-pipelines-task-lib/task';
import { printable, redact, registerSecret } from './output';

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

// Redaction lives with the output path; re-exported for the callers that import it from here.
export { redact, registerSecret } from './output';

/**
 * Every line goes through `printable` (secrets redacted, logging commands neutralised, see output.ts);
 * warnings, errors and debug lines are the task's own commands, written by task-lib's command functions.
 */
export function taskLibLogger(): Logger {
  return {
    info: (m) => console.log(printable(m)),
    warn: (m) => tl.warning(printable(m)),
    error: (m) => tl.error(printable(m)),
    debug: (m) => tl.debug(printable(m)),
  };
}

export function taskLibHost(signal: AbortSignal, onCancel: (cleanup: () => Promise<void>) => void): TaskHost {
  return {
    log: taskLibLogger(),
    setOutput: (name, value) => {
      if (value === undefined) return;
      tl.setVariable(name, redact(String(value)), false, true);
    },
    setSecret: (value) => {
      if (!value) return;
      registerSecret(value);
      tl.setSecret(value);
    },
    setProgress: (percent, operation) => tl.setProgress(Math.max(0, Math.min(100, Math.round(percent))), printable(operation)),
    uploadSummary: (p) => tl.uploadSummary(p),
    addAttachment: (type, name, p) => tl.addAttachment(type, name, p),
    uploadArtifact: (name, p) => tl.uploadArtifact(name, p, name),
    tempDir: tl.getVariable('Agent.TempDirectory') || process.cwd(),
    signal,
    onCancel,
  };
}
