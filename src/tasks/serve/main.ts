import { readFileSync } from 'node:fs';
import { systemClock } from '../../databricks/clock';
import { ServingClient } from '../../databricks/serving';
import { WorkspaceModelRegistry } from '../../mlflow/registry';
import { UnityCatalogModelRegistry } from '../../mlflow/unity-catalog';
import { connectFromInputs } from '../../pipeline/client';
import type { TaskOutcome } from '../../pipeline/host';
import type { TaskHost } from '../../pipeline/host';
import { Inputs } from '../../pipeline/inputs';
import { taskLibInputSource } from '../../pipeline/task-lib-inputs';
import { parseServeInputs } from './inputs';
import { run } from './run';
import { pollOverride } from '../common/poll-override';
import { workspaceLine } from '../common/workspace-line';

/** Deploy Model to Serving: parse every input before the first call, then serve, wait, smoke-test, roll back. */
export async function main(host: TaskHost): Promise<TaskOutcome> {
  const inputs = new Inputs(taskLibInputSource());
  const parsed = parseServeInputs(inputs);
  const { api, connection } = connectFromInputs(inputs, host, { taskName: 'DatabricksServingDeploy' });
  host.log.info(workspaceLine(connection));
  const registry =
    parsed.registry === 'unityCatalog' ? new UnityCatalogModelRegistry(api, { clock: systemClock }) : new WorkspaceModelRegistry(api, { clock: systemClock });
  return run(parsed, {
    serving: new ServingClient(api, { clock: systemClock }),
    registry,
    host,
    clock: systemClock,
    readFile: (file) => readFileSync(file, 'utf8'),
    poll: pollOverride(),
  });
}
