/**
 * What a task's `run(inputs, deps)` may do to the outside world besides HTTP: log, set outputs, report
 * progress, attach files, and learn about cancellation. `taskLibHost()` is the agent's implementation;
 * tests and the demo can supply their own.
 */
import * as tl from 'azure-pipelines-task-lib/task';

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

/** Known secret values, kept so our own messages never contain them (the agent masks its log too). */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

/** Replaces every registered secret in `text` with `***`. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}

export function taskLibLogger(): Logger {
  return {
    info: (m) => console.log(redact(m)),
    warn: (m) => tl.warning(redact(m)),
    error: (m) => tl.error(redact(m)),
    debug: (m) => tl.debug(redact(m)),
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
    setProgress: (percent, operation) => tl.setProgress(Math.max(0, Math.min(100, Math.round(percent))), redact(operation)),
    uploadSummary: (p) => tl.uploadSummary(p),
    addAttachment: (type, name, p) => tl.addAttachment(type, name, p),
    uploadArtifact: (name, p) => tl.uploadArtifact(name, p, name),
    tempDir: tl.getVariable('Agent.TempDirectory') || process.cwd(),
    signal,
    onCancel,
  };
}
