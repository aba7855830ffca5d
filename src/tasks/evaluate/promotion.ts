/**
 * The promotion step, shared by `evaluateAndPromote` (run.ts) and `promote` (promote-action.ts): register (or
 * reuse) the winner's version and wait until it is READY, then, under the promotion claim (claim.ts), check
 * production is still what the models were compared with, tag the version, move production to it and check
 * the move held.
 */
import type { Logger } from '../../pipeline/host';
import type { RunModel } from '../../mlflow/tracking';
import type { ModelVersion } from '../../mlflow/types';
import { PromotionClaim, type ClaimOptions } from './claim';
import type { ProductionRef, ProductionRegistry } from './registry';

export interface PromotionContext {
  registry: ProductionRegistry;
  log: Pick<Logger, 'info' | 'warn'>;
  setProgress(percent: number, operation: string): void;
  /** The claim owner (claimOwner(build)). */
  owner: string;
  claim?: ClaimOptions;
  signal: AbortSignal;
}

export function describeVersion(p: ProductionRef | undefined): string {
  return p ? `version ${p.version}` : 'no production model';
}

/**
 * The winner's version: `existing` (already registered from the run) or a new registration; then waits until it
 * is READY and checks it was registered from `runId` (fail closed).
 */
export async function registerWinner(
  ctx: PromotionContext,
  w: { runId: string; model: RunModel; description: string; readyTimeoutMs: number; existing: ModelVersion | undefined },
): Promise<{ version: string; reused: boolean }> {
  const { registry, log, signal } = ctx;
  let version: string;
  if (w.existing) {
    version = w.existing.version;
    log.info(`Run ${w.runId} is already registered as ${registry.modelName} version ${version}; reusing it.`);
  } else {
    version = await registry.register(w.runId, w.model, w.description, signal);
    log.info(`Registered run ${w.runId} as ${registry.modelName} version ${version}.`);
  }
  await registry.waitReady(version, w.readyTimeoutMs, signal, w.runId);
  return { version, reused: !!w.existing };
}

export interface PromotionRequest {
  version: string;
  /** The production model the decision was made against: production must still be it. */
  expected: ProductionRef | undefined;
  /** Version tags written before the move (the decision's audit). */
  tags: Record<string, string>;
  /** The workspace registry's transition comment. */
  comment: string;
  /** What to tell the user to do when production moved (`run the evaluation again`). */
  again: string;
}

/**
 * Moves production to `version` under the promotion claim. Throws (nothing promoted) when production is no
 * longer `expected` or another step holds the claim; throws after the move when production did not stay on
 * `version`. Returns problems after a promotion that stands (the claim could not be released).
 */
export async function applyPromotion(ctx: PromotionContext, req: PromotionRequest): Promise<string[]> {
  const { registry, log, signal } = ctx;
  const { version, expected } = req;
  const current = await registry.getProduction(signal);
  if ((current?.version ?? null) !== (expected?.version ?? null)) {
    throw new Error(
      `The production model changed during the evaluation: it was ${describeVersion(expected)} when the models were compared and is now ${describeVersion(current)}. ` +
        `Nothing was promoted (version ${version} stays registered); ${req.again}.`,
    );
  }
  // Another step may be promoting this model at the same time: claim the promotion first (claim.ts
  // explains the protocol and what it guarantees). The claim is held until production is re-read.
  ctx.setProgress(80, 'Claiming the promotion');
  const claim = new PromotionClaim(registry, ctx.owner, log, ctx.claim);
  await claim.acquire(version, expected, signal);
  try {
    claim.checkStillHeld();
    await registry.tag(version, req.tags, signal);
    claim.checkStillHeld();
    await registry.promote(version, req.comment, signal);
    // Last-writer-wins: someone outside the claim (a person, another tool) may have moved production
    // after our transition. Never report success for a version that is not in production.
    const after = await registry.getProduction(signal);
    if (after?.version !== version) {
      throw new Error(
        `${registry.modelName} version ${version} was moved to ${registry.targetDescription}, but ${registry.targetDescription} is now ${describeVersion(after)}: ` +
          `another step or person changed it after this step's promotion. This step does not report a promotion that did not hold; check the model's history and ${req.again}.`,
      );
    }
  } catch (err) {
    const problem = await claim.release();
    if (problem) log.warn(`Also, ${problem}.`);
    throw err;
  }
  const issues: string[] = [];
  const released = await claim.release();
  if (released) {
    log.warn(`Version ${version} was promoted, but ${released}.`);
    issues.push(released);
  }
  return issues;
}
