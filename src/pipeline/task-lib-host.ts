/**
 * The agent's {@link TaskHost} over azure-pipelines-task-lib (part of the adapter, with entry.ts, client.ts,
 * connection.ts and task-lib-inputs.ts: the only modules that import task-lib).
 */
import * as tl from 'azure-pipelines-task-lib/task';
import type { Logger, TaskHost } from './host';
import { printable, redact, registerSecret } from './output';

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
