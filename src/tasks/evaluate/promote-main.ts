/** The promote action's wiring (main.ts dispatches here): inputs, registries, the cross-catalog copier. */
import { systemClock } from '../../databricks/clock';
import { JobsClient } from '../../databricks/jobs';
import { WorkspaceClient } from '../../databricks/workspace';
import { WorkspaceModelRegistry } from '../../mlflow/registry';
import { UnityCatalogModelRegistry } from '../../mlflow/unity-catalog';
import { connectFromInputs } from '../../pipeline/client';
import type { TaskOutcome } from '../../pipeline/host';
import type { TaskHost } from '../../pipeline/host';
import type { Inputs } from '../../pipeline/inputs';
import { NotebookCopier } from './copy';
import { parsePromoteInputs } from './handoff';
import { REGISTER_NOTEBOOK_SOURCE } from './notebook-source';
import { runPromote } from './promote-action';
import { AliasRegistry, StageRegistry, type ProductionRegistry, type ReadyPoll } from './registry';
import { workspaceLine } from '../common/workspace-line';

export async function mainPromote(
  host: TaskHost,
  inputs: Inputs,
  hooks: { readyPoll: ReadyPoll; poll?: { initial: number; max: number }; settleMs?: number },
): Promise<TaskOutcome> {
  const parsed = parsePromoteInputs(inputs);
  const { api, connection } = connectFromInputs(inputs, host, { taskName: 'DatabricksEvaluatePromote' });
  host.log.info(workspaceLine(connection));
  let registry: ProductionRegistry;
  let target: ProductionRegistry | undefined;
  let copier: NotebookCopier | undefined;
  if (parsed.registry.kind === 'workspace') {
    registry = new StageRegistry(new WorkspaceModelRegistry(api, { clock: systemClock }), parsed.modelName, parsed.registry.stage, hooks.readyPoll);
  } else {
    const uc = new UnityCatalogModelRegistry(api, { clock: systemClock });
    // The promote action never registers from a run: the version exists (the evaluate action made it).
    registry = new AliasRegistry(uc, parsed.modelName, parsed.registry.alias, hooks.readyPoll);
    if (parsed.targetModelName) {
      target = new AliasRegistry(uc, parsed.targetModelName, parsed.registry.alias, hooks.readyPoll);
      copier = new NotebookCopier(
        {
          jobs: new JobsClient(api, { clock: systemClock }),
          workspace: new WorkspaceClient(api),
          log: host.log,
          onCancel: (c) => host.onCancel(c),
          notebookSource: REGISTER_NOTEBOOK_SOURCE,
          pollIntervalMs: hooks.poll,
        },
        parsed.registration!,
        parsed.build,
        `Evaluate & Promote: copy ${parsed.modelName} to ${parsed.targetModelName} (build ${parsed.build.buildNumber ?? parsed.build.buildId})`,
      );
    }
  }
  const result = await runPromote(parsed, {
    host,
    workspaceUrl: connection.host,
    registry,
    target,
    copier,
    clock: systemClock,
    claim: { settleMs: hooks.settleMs },
  });
  return { result: result.issues.length > 0 ? 'SucceededWithIssues' : 'Succeeded', message: result.message };
}
