/**
 * The evaluate action's side of the hand-off (handoff.ts): register (or reuse) the winner, mark it as the
 * challenger without touching production, record the target model's production when promoting across
 * catalogs, and publish the decision record as a pipeline artifact for the promote stage.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { RunModel } from '../../mlflow/tracking';
import type { ModelVersion } from '../../mlflow/types';
import type { TaskHost } from '../../pipeline/host';
import { RECORD_FILE, type HandoffConfig } from './handoff';
import { registerWinner, type PromotionContext } from './promotion';
import { CHALLENGER_TAG, type ProductionRegistry } from './registry';
import type { ChallengerRecord, TargetRecord } from './report';

/** How the challenger is marked, for messages and the record. */
export function challengerMarker(registry: Pick<ProductionRegistry, 'kind'>, alias: string): string {
  return registry.kind === 'unityCatalog' ? `alias ${alias}` : `tag ${CHALLENGER_TAG}=true`;
}

/** Registers (or reuses) the winner's version, waits until it is READY, and marks it as the challenger. */
export async function markChallenger(
  ctx: PromotionContext,
  w: {
    runId: string;
    model: RunModel;
    description: string;
    readyTimeoutMs: number;
    existing: ModelVersion | undefined;
    handoff: HandoffConfig;
    workspaceUrl: string;
  },
): Promise<ChallengerRecord> {
  const { registry } = ctx;
  const { version, reused } = await registerWinner(ctx, w);
  await registry.markChallenger(version, w.handoff.challengerAlias, ctx.signal);
  const marker = challengerMarker(registry, w.handoff.challengerAlias);
  ctx.log.info(`Marked ${registry.modelName} version ${version} as the challenger (${marker}); ${registry.targetDescription} is unchanged.`);
  return { version, versionUrl: registry.versionUrl(w.workspaceUrl, version), runId: w.runId, marker, reusedExistingVersion: reused };
}

/** The target model's production now (fail closed: only "does not exist" or an unset alias means none). */
export async function readTarget(target: ProductionRegistry, signal: AbortSignal): Promise<TargetRecord> {
  const p = await target.getProduction(signal);
  return { modelName: target.modelName, target: target.targetDescription, productionVersion: p?.version ?? null };
}

/**
 * Publishes the record (and its summary) as the pipeline artifact `artifactName`, in a folder of its own so
 * the artifact holds `decision.json` and `summary.md` only. The agent's `artifact.upload` command uploads the
 * folder's files under the container folder and associates them with the build under that name (see
 * docs/promote-after-approval.md); a later stage's `download` step puts them in
 * `$(Pipeline.Workspace)/<artifactName>/`.
 */
export async function publishRecord(
  host: Pick<TaskHost, 'tempDir' | 'log'> & Required<Pick<TaskHost, 'uploadArtifact'>>,
  artifactName: string,
  paths: { recordPath: string; summaryPath: string },
): Promise<string> {
  const folder = path.join(path.dirname(paths.recordPath), `${artifactName}-${path.basename(paths.recordPath, '.json')}`);
  await fsp.mkdir(folder, { recursive: true });
  await fsp.copyFile(paths.recordPath, path.join(folder, RECORD_FILE));
  await fsp.copyFile(paths.summaryPath, path.join(folder, 'summary.md'));
  host.uploadArtifact(artifactName, folder);
  host.log.info(`Published the decision record as the pipeline artifact ${artifactName} (${RECORD_FILE}).`);
  return path.join(folder, RECORD_FILE);
}
