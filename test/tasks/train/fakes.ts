import type { TaskHost } from '../../../src/pipeline/host';

export interface RecordingHost extends TaskHost {
  lines: string[];
  outputs: Record<string, string>;
  progress: Array<{ percent: number; operation: string }>;
  cancelCleanups: Array<() => Promise<void>>;
  controller: AbortController;
}

/** A TaskHost that records what the task logged, set and registered, for in-process run() tests. */
export function recordingHost(): RecordingHost {
  const lines: string[] = [];
  const outputs: Record<string, string> = {};
  const progress: Array<{ percent: number; operation: string }> = [];
  const cancelCleanups: Array<() => Promise<void>> = [];
  const controller = new AbortController();
  return {
    lines,
    outputs,
    progress,
    cancelCleanups,
    controller,
    log: {
      info: (m) => lines.push(m),
      warn: (m) => lines.push(`WARN ${m}`),
      error: (m) => lines.push(`ERROR ${m}`),
      debug: () => undefined,
    },
    setOutput: (name, value) => {
      if (value !== undefined) outputs[name] = String(value);
    },
    setSecret: () => undefined,
    setProgress: (percent, operation) => progress.push({ percent, operation }),
    uploadSummary: () => undefined,
    addAttachment: () => undefined,
    tempDir: '/tmp',
    signal: controller.signal,
    onCancel: (c) => cancelCleanups.push(c),
  };
}
