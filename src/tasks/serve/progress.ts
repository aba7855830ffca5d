/**
 * How far a serving endpoint's config update is, from what the endpoint reports, for the timeline's progress.
 * Never from the clock: a share of timeoutMinutes says how much of the allowed time is used up, not how far the
 * rollout is (an update well within its budget would sit at a few percent and jump to 100).
 *
 * Sources (databricks-sdk-go service/serving/model.go; the JS SDK's `dist/apis/serving/model.d.ts` has the same
 * types, see docs/serving-api.md):
 * - `EndpointPendingConfig.served_entities`: "the list of served entities belonging to the last issued update
 *   to the serving endpoint", each a `ServedEntityOutput` whose `state` is a `ServedModelState`;
 * - `ServedModelState.deployment` (`ServedModelStateDeployment`): DEPLOYMENT_CREATING, DEPLOYMENT_READY,
 *   DEPLOYMENT_FAILED, DEPLOYMENT_ABORTED, DEPLOYMENT_RECOVERING;
 * - `EndpointState.config_update` (`EndpointStateConfigUpdate`: IN_PROGRESS, NOT_UPDATING, UPDATE_FAILED,
 *   UPDATE_CANCELED) and `EndpointState.ready` (`EndpointStateReady`: READY, NOT_READY): the update is over
 *   when NOT_UPDATING and READY (the SDK's `WaitGetServingEndpointNotUpdating` waits for NOT_UPDATING).
 */
import type { ServedEntityOutput, ServingEndpoint } from '../../databricks/serving';

export interface RolloutProgress {
  /** 0..100: the share of the update's served entities that are DEPLOYMENT_READY; 100 only once the update is over. */
  percent: number;
  /** "1 of 2 served entities ready", "updated and ready". */
  operation: string;
}

/** The served entities of the update in progress (the deprecated `served_models` for endpoints that report only those). */
function updateEntities(ep: ServingEndpoint): ServedEntityOutput[] {
  const pending = ep.pending_config;
  if (!pending) return [];
  return pending.served_entities && pending.served_entities.length > 0 ? pending.served_entities : (pending.served_models ?? []);
}

/**
 * The progress of the update, or undefined when the endpoint says nothing that measures it (no pending config, no
 * deployment states, or a failed or cancelled update): then no percentage is shown rather than an invented one.
 * While the update runs the percentage stays below 100 even with every entity ready (traffic still moves to them).
 */
export function rolloutProgress(ep: ServingEndpoint): RolloutProgress | undefined {
  const update = ep.state?.config_update;
  if (update === 'NOT_UPDATING' && ep.state?.ready === 'READY') return { percent: 100, operation: 'updated and ready' };
  if (update === 'UPDATE_FAILED' || update === 'UPDATE_CANCELED') return undefined;
  const entities = updateEntities(ep);
  if (entities.length === 0 || !entities.some((e) => e.state?.deployment !== undefined)) return undefined;
  const ready = entities.filter((e) => e.state?.deployment === 'DEPLOYMENT_READY').length;
  return {
    percent: Math.min(99, Math.round((100 * ready) / entities.length)),
    operation: `${ready} of ${entities.length} served ${entities.length === 1 ? 'entity' : 'entities'} ready`,
  };
}
