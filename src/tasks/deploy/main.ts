import { ReposClient } from '../../databricks/repos';
import { WorkspaceClient } from '../../databricks/workspace';
import { connectFromInputs } from '../../pipeline/client';
import type { TaskOutcome } from '../../pipeline/entry';
import type { TaskHost } from '../../pipeline/host';
import { Inputs, taskLibInputSource } from '../../pipeline/inputs';
import { parseDeployInputs } from './inputs';
import { run } from './run';

/** Deploy Notebooks via Repos API: parse every input before the first call, then deploy. */
export async function main(host: TaskHost): Promise<TaskOutcome> {
  const inputs = new Inputs(taskLibInputSource());
  const parsed = parseDeployInputs(inputs);
  const { api, connection } = connectFromInputs(inputs, host, { taskName: 'DatabricksReposDeploy' });
  host.log.info(`Workspace: ${connection.host} (${connection.description})`);
  return run(parsed, { repos: new ReposClient(api), workspace: new WorkspaceClient(api), host, workspaceUrl: connection.host });
}
