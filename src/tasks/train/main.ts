import { systemClock } from '../../databricks/clock';
import { JobsClient } from '../../databricks/jobs';
import { MlflowTracking } from '../../mlflow/tracking';
import { connectFromInputs } from '../../pipeline/client';
import type { TaskOutcome } from '../../pipeline/host';
import type { TaskHost } from '../../pipeline/host';
import { Inputs } from '../../pipeline/inputs';
import { taskLibInputSource } from '../../pipeline/task-lib-inputs';
import { parseTrainInputs, readPipelineContext } from './inputs';
import { run } from './run';
import { pollOverride } from '../common/poll-override';
import { workspaceLine } from '../common/workspace-line';

/** Train: parse every input before the first call, then start, follow and report the Databricks run. */
export async function main(host: TaskHost): Promise<TaskOutcome> {
  const inputs = new Inputs(taskLibInputSource());
  const parsed = parseTrainInputs(inputs);
  const pipeline = readPipelineContext(inputs);
  const { api, connection } = connectFromInputs(inputs, host, { taskName: 'DatabricksTrain' });
  host.log.info(workspaceLine(connection));
  return run(parsed, {
    jobs: new JobsClient(api, { clock: systemClock }),
    tracking: new MlflowTracking(api, { clock: systemClock }),
    host,
    clock: systemClock,
    pipeline,
    poll: pollOverride(),
  });
}
