import { ReposClient } from '../../databricks/repos';
import { WorkspaceClient } from '../../databricks/workspace';
import { connectFromInputs } from '../../pipeline/client';
import type { TaskOutcome } from '../../pipeline/host';
import type { TaskHost } from '../../pipeline/host';
import { Inputs } from '../../pipeline/inputs';
import { taskLibInputSource } from '../../pipeline/task-lib-inputs';
import { parseDeployInputs } from './inputs';
import { run } from './run';
import { workspaceLine } from '../common/workspace-line';

/** Deploy Notebooks via Repos API: parse every input before the first call, then deploy. */
export async function main(host: TaskHost): Promise<TaskOutcome> {
  const inputs = new Inputs(taskLibInputSource());
  maskRepoUrlCredentials(inputs.optional('repoUrl'), host);
  const parsed = parseDeployInputs(inputs);
  const { api, connection } = connectFromInputs(inputs, host, { taskName: 'DatabricksReposDeploy' });
  host.log.info(workspaceLine(connection));
  return run(parsed, { repos: new ReposClient(api), workspace: new WorkspaceClient(api), host, workspaceUrl: connection.host });
}

/**
 * A repoUrl with embedded credentials is rejected, but task-lib echoes every input it reads to the debug
 * log (task-lib moves inputs out of the environment when it loads, so the first echo cannot be avoided from
 * here). Registering the user-info part as a secret right after that first read makes the agent mask every
 * later line, including the echo when the input is read again.
 */
export function maskRepoUrlCredentials(raw: string | undefined, host: Pick<TaskHost, 'setSecret'>): void {
  const m = /^\s*[a-z][a-z0-9+.-]*:\/\/([^/?#@]*)@/i.exec(raw ?? '');
  if (!m) return;
  const userInfo = m[1];
  host.setSecret(userInfo);
  for (const part of userInfo.split(':')) if (part) host.setSecret(part);
  try {
    for (const part of userInfo.split(':')) if (part) host.setSecret(decodeURIComponent(part));
  } catch {
    // not percent-encoded text: the raw parts are already registered
  }
}
