/**
 * Evaluate's promotion step: what the engine's decision does to the registry. A promote decision registers
 * the winner and moves production to it (promotion.ts, under the promotion claim); with action evaluate it
 * only registers and marks the challenger for the promote action; a dry run changes nothing. Anything else
 * keeps production.
 */
import type { AnyMetric, Decision } from '../../engine';
import { markChallenger } from './challenger';
import { claimOwner } from './claim';
import type { EvaluateInputs } from './inputs';
import { applyPromotion, registerWinner, type PromotionContext } from './promotion';
import type { ProductionRef } from './registry';
import type { ChallengerRecord, DecisionRecord, Outcome } from './report';
import type { Candidate, EvaluateDeps } from './run';
import { challengerLine, promotedLine } from './log-lines';

export interface AppliedDecision {
  outcome: Outcome;
  /** The decision in one sentence (the step's message and the record's). */
  sentence: string;
  promotion: DecisionRecord['promotion'];
  challenger?: ChallengerRecord;
  /** Problems after the decision was applied: the step succeeds with issues, naming them. */
  issues: string[];
}

/** Applies the engine's decision for `best` (the winning candidate, when there is one). */
export async function applyDecision(
  inputs: EvaluateInputs,
  deps: EvaluateDeps,
  decision: Decision<AnyMetric>,
  best: Candidate | undefined,
  production: ProductionRef | undefined,
): Promise<AppliedDecision> {
  const { registry, host } = deps;
  if (decision.decision !== 'promote' || !best) {
    return {
      outcome: 'kept',
      promotion: null,
      issues: [],
      sentence: `Kept ${production ? `production version ${production.version}` : 'the registry unchanged'}: ${decision.reason}`,
    };
  }
  const existing = await registry.findVersionForRun(best.runId, best.model!, host.signal);
  const description = `Registered by Evaluate & Promote, build ${inputs.build.buildId}.`;
  if (inputs.action === 'evaluate' && !inputs.dryRun) {
    // Approval between decision and promotion: register and mark the winner, leave production alone.
    host.setProgress(75, 'Marking the challenger');
    const challenger = await markChallenger(promotionContext(inputs, deps), {
      runId: best.runId,
      model: best.model!,
      description,
      readyTimeoutMs: inputs.readyTimeoutMs,
      existing,
      handoff: inputs.handoff!,
      workspaceUrl: deps.workspaceUrl,
    });
    const sentence = `Run ${best.runId} is the challenger: ${registry.modelName} version ${challenger.version} (${challenger.marker}); ${registry.targetDescription} is unchanged until the promote action. ${decision.reason}`;
    host.log.info(challengerLine(best, registry.modelName, challenger.version, challenger.marker, registry.targetDescription));
    return { outcome: 'challenger', challenger, promotion: null, issues: [], sentence };
  }
  if (inputs.dryRun) {
    const promotion = {
      version: existing?.version,
      versionUrl: existing ? registry.versionUrl(deps.workspaceUrl, existing.version) : undefined,
      reusedExistingVersion: !!existing,
      applied: false,
    };
    return {
      outcome: 'promoted',
      promotion,
      issues: [],
      sentence: `Dry run: would promote run ${best.runId} to ${registry.modelName} ${registry.targetDescription}; nothing was changed. ${decision.reason}`,
    };
  }
  host.setProgress(75, 'Promoting');
  const ctx = promotionContext(inputs, deps);
  const { version } = await registerWinner(ctx, { runId: best.runId, model: best.model!, description, readyTimeoutMs: inputs.readyTimeoutMs, existing });
  const vs = decision.models.find((m) => m.name === best.key)?.vsBaseline;
  const issues = await applyPromotion(ctx, {
    version,
    expected: production,
    tags: decisionTags(inputs, decision, vs?.winRate, vs?.meanDelta),
    comment: promotionComment(inputs, decision, production),
    again: 'run the evaluation again',
  });
  const sentence = `Promoted run ${best.runId} as ${registry.modelName} version ${version} to ${registry.targetDescription}. ${decision.reason}`;
  host.log.info(promotedLine(best, registry.modelName, version, registry.targetDescription));
  return {
    outcome: 'promoted',
    promotion: { version, versionUrl: registry.versionUrl(deps.workspaceUrl, version), reusedExistingVersion: !!existing, applied: true },
    issues,
    sentence,
  };
}

export function promotionContext(inputs: EvaluateInputs, deps: EvaluateDeps): PromotionContext {
  return {
    registry: deps.registry,
    log: deps.host.log,
    setProgress: (p, op) => deps.host.setProgress(p, op),
    owner: claimOwner(inputs.build),
    claim: deps.claim,
    signal: deps.host.signal,
  };
}

export function decisionTags(
  inputs: { build: { buildId: string } },
  decision: Decision<AnyMetric>,
  winRate: number | undefined,
  delta: number | undefined,
): Record<string, string> {
  const tags: Record<string, string> = {
    'mlops.evaluation.build_id': inputs.build.buildId,
    'mlops.evaluation.metric': decision.metric,
    'mlops.evaluation.method': decision.method,
    'mlops.evaluation.seed': String(decision.seed),
    'mlops.evaluation.resamples': String(decision.resamples),
  };
  if (winRate !== undefined) tags['mlops.evaluation.win_rate'] = String(winRate);
  if (delta !== undefined) tags['mlops.evaluation.metric_delta'] = String(delta);
  const best = decision.models.find((m) => m.name === decision.best);
  if (best) tags['mlops.evaluation.metric_value'] = String(best.estimate);
  return tags;
}

export function promotionComment(inputs: EvaluateInputs, decision: Decision<AnyMetric>, production: ProductionRef | undefined): string {
  return `Promoted by Evaluate & Promote (build ${inputs.build.buildId}${inputs.build.buildNumber ? `, ${inputs.build.buildNumber}` : ''}) over ${production ? `version ${production.version}` : 'no production model'}: ${decision.reason}`.slice(
    0,
    1000,
  );
}
