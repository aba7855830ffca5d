/**
 * The agent's InputSource (part of the adapter: the only code besides entry.ts, client.ts, connection.ts
 * and task-lib-host.ts that imports azure-pipelines-task-lib).
 */
import * as tlInternal from 'azure-pipelines-task-lib/internal';
import * as tl from 'azure-pipelines-task-lib/task';
import type { InputSource } from './inputs';

/**
 * Reads an input from task-lib's vault without `tl.getInput`, which writes `name=value` to the debug log
 * before the task can mask anything: a user who pastes a URL with credentials in it (which we reject)
 * would otherwise see them in a System.Debug log. task-lib is pinned to one exact version, and the
 * foundation tests run every bundle, so a change in this internal surface fails loudly.
 */
export function readInputQuietly(name: string): string | undefined {
  return tlInternal._vault.retrieveSecret(`INPUT_${tlInternal._getVariableKey(name)}`);
}

export function taskLibInputSource(): InputSource {
  return {
    get: (name) => {
      const v = readInputQuietly(name);
      return v === undefined || v.trim() === '' ? undefined : v;
    },
    variable: (name) => {
      const v = tl.getVariable(name);
      return v === undefined || v === '' ? undefined : v;
    },
  };
}
