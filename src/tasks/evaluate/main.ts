import { readConnection, taskLibEndpointSource } from '../../pipeline/connection';
import type { TaskOutcome } from '../../pipeline/entry';
import type { TaskHost } from '../../pipeline/host';
import { Inputs, taskLibInputSource } from '../../pipeline/inputs';

/** Placeholder until the task lands: validates the connection inputs only. */
export async function main(host: TaskHost): Promise<TaskOutcome> {
  const inputs = new Inputs(taskLibInputSource());
  const connection = readConnection(inputs, taskLibEndpointSource());
  host.log.info(`Workspace: ${connection.host}`);
  return { result: 'Failed', message: 'This task is not implemented yet.' };
}
