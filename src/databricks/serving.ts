/**
 * Model Serving client: serving endpoints (create, get, list, update config) and scoring requests
 * (`invocations`), plus the waiter that follows a config update to its end.
 *
 * Every path, method and field name below is the one of the official Databricks JS SDK
 * (`@databricks/sdk-experimental` 0.14.2, `dist/apis/serving/api.js` for the requests and
 * `dist/apis/serving/model.d.ts` for the types, generated from the Databricks OpenAPI spec); see
 * docs/serving-api.md. test/tasks/serve/contract.test.ts sends the SDK's own requests and ours for the same
 * operations and checks they agree.
 *
 * Retry policy: GETs are idempotent. Creating an endpoint and replacing its config are not (a repeated
 * create answers RESOURCE_ALREADY_EXISTS, a repeated PUT answers a conflict while the first update is in
 * progress), so the HTTP core repeats them only when the server certainly did not process them.
 */
import { systemClock, type Clock } from './clock';
import type { ApiClient } from './contracts';
import { isResourceDoesNotExist } from './errors';
import { POLL_DEFAULTS } from './poll-defaults';
import { waitUntil } from './wait';

/** `ServingEndpointsService._get/_create/_list`: `/api/2.0/serving-endpoints[/{name}]`. */
export const SERVING_PREFIX = '/api/2.0/serving-endpoints';

/** `EndpointStateConfigUpdate`. Unknown future values are treated as "still updating". */
export type ConfigUpdateState = 'IN_PROGRESS' | 'NOT_UPDATING' | 'UPDATE_CANCELED' | 'UPDATE_FAILED' | (string & {});
/** `EndpointStateReady`. */
export type ReadyState = 'NOT_READY' | 'READY' | (string & {});
/** `ServingModelWorkloadType`, exactly the SDK's union. */
export const WORKLOAD_TYPES = ['CPU', 'GPU_SMALL', 'GPU_MEDIUM', 'GPU_LARGE', 'MULTIGPU_MEDIUM'] as const;
export type WorkloadType = (typeof WORKLOAD_TYPES)[number];
/** The documented `workload_size` values (`ServedEntityInput.workload_size`: "Small", "Medium", "Large"). */
export const WORKLOAD_SIZES = ['Small', 'Medium', 'Large'] as const;

/** `ServedEntityInput`: the fields this project sends (a custom model from a registry). */
export interface ServedEntityInput {
  /** Unique within the endpoint; letters, digits, `-` and `_`. We always send it (the default is entity_name-entity_version). */
  name?: string;
  /** Workspace registry model name, or the Unity Catalog `catalog.schema.model`. */
  entity_name: string;
  entity_version: string;
  workload_size?: string;
  workload_type?: WorkloadType;
  scale_to_zero_enabled?: boolean;
  environment_vars?: Record<string, string>;
  /** Kept when an entity read from the endpoint is sent back unchanged (SDK ServedEntityInput fields). */
  min_provisioned_concurrency?: number;
  max_provisioned_concurrency?: number;
  instance_profile_arn?: string;
}

/** `ServedModelState`. */
export interface ServedEntityState {
  deployment?: 'DEPLOYMENT_ABORTED' | 'DEPLOYMENT_CREATING' | 'DEPLOYMENT_FAILED' | 'DEPLOYMENT_READY' | 'DEPLOYMENT_RECOVERING' | (string & {});
  deployment_state_message?: string;
}

/** `ServedEntityOutput` (what the endpoint reports). */
export interface ServedEntityOutput {
  name?: string;
  entity_name?: string;
  entity_version?: string;
  workload_size?: string;
  workload_type?: string;
  scale_to_zero_enabled?: boolean;
  environment_vars?: Record<string, string>;
  creation_timestamp?: number;
  creator?: string;
  state?: ServedEntityState;
  [key: string]: unknown;
}

/** `Route`: `traffic_percentage` is an integer 0..100. */
export interface TrafficRoute {
  served_entity_name?: string;
  /** Deprecated form (`served_models`); read for older endpoints, never sent. */
  served_model_name?: string;
  traffic_percentage: number;
}

export interface TrafficConfig {
  routes?: TrafficRoute[];
}

/** `EndpointCoreConfigInput` without `name` (the name is the path parameter of `PUT .../config`). */
export interface EndpointConfigInput {
  served_entities: ServedEntityInput[];
  traffic_config?: TrafficConfig;
  auto_capture_config?: Record<string, unknown>;
}

/** `EndpointCoreConfigOutput` / `EndpointPendingConfig`. */
export interface EndpointConfigOutput {
  config_version?: number;
  served_entities?: ServedEntityOutput[];
  /** Deprecated `served_models` (older endpoints). */
  served_models?: Array<ServedEntityOutput & { model_name?: string; model_version?: string }>;
  traffic_config?: TrafficConfig;
  auto_capture_config?: Record<string, unknown>;
  /** Pending config only. */
  start_time?: number;
}

/** `EndpointState`. */
export interface EndpointState {
  config_update?: ConfigUpdateState;
  ready?: ReadyState;
}

/** `ServingEndpointDetailed` (the fields this project reads). */
export interface ServingEndpoint {
  name: string;
  id?: string;
  creator?: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  config?: EndpointConfigOutput;
  pending_config?: EndpointConfigOutput;
  state?: EndpointState;
  permission_level?: string;
  route_optimized?: boolean;
  endpoint_url?: string;
  task?: string;
  [key: string]: unknown;
}

/** `CreateServingEndpoint` (the fields this project sends). */
export interface CreateEndpointRequest {
  name: string;
  config: EndpointConfigInput;
  description?: string;
  tags?: Array<{ key: string; value?: string }>;
}

/** `QueryEndpointInput` for custom models: one of the pandas orientations, or tensors. */
export type ScoringRequest =
  | { dataframe_split: { columns?: unknown[]; data: unknown[][]; index?: number[] } }
  | { dataframe_records: Array<Record<string, unknown>> }
  | { instances: unknown[] }
  | { inputs: unknown };

/** `QueryEndpointResponse` of a custom model: `predictions`, one per input row. */
export interface ScoringResponse {
  predictions?: unknown;
  [key: string]: unknown;
}

/** An endpoint name as `CreateServingEndpoint.name` describes it: alphanumeric characters, dashes and underscores. */
export const ENDPOINT_NAME = /^[A-Za-z0-9_-]+$/;

export function requireEndpointName(name: string): void {
  if (typeof name !== 'string' || !ENDPOINT_NAME.test(name)) {
    throw new Error(`A serving endpoint name consists of letters, digits, dashes and underscores; got ${JSON.stringify(name)}.`);
  }
}

export interface WaitForEndpointOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Every polled endpoint (log changes, set progress). */
  onState?: (endpoint: ServingEndpoint) => void;
  onTransientError?: (err: unknown) => void;
  initialIntervalMs?: number;
  maxIntervalMs?: number;
}

/** Why a waited-for config update did not become the served, ready config. */
export class EndpointUpdateFailedError extends Error {
  override name = 'EndpointUpdateFailedError';
  constructor(
    message: string,
    readonly endpoint: ServingEndpoint,
  ) {
    super(message);
  }
}

export class ServingClient {
  private readonly clock: Clock;

  constructor(
    private readonly api: ApiClient,
    opts: { clock?: Clock } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** The workspace URL the client talks to (the invocations URL is built from it). */
  get host(): string {
    return this.api.host;
  }

  /** `https://<workspace>/serving-endpoints/<name>/invocations` (SDK `_query` path; Databricks docs "Query serving endpoints"). */
  invocationsUrl(name: string): string {
    return `${this.api.host}/serving-endpoints/${encodeURIComponent(name)}/invocations`;
  }

  /** `GET /api/2.0/serving-endpoints/{name}`; undefined only when it does not exist. */
  async get(name: string, signal?: AbortSignal): Promise<ServingEndpoint | undefined> {
    requireEndpointName(name);
    try {
      return await this.api.request<ServingEndpoint>({ method: 'GET', path: `${SERVING_PREFIX}/${encodeURIComponent(name)}`, signal });
    } catch (e) {
      // HTTP 404 with RESOURCE_DOES_NOT_EXIST only: ENDPOINT_NOT_FOUND (no such API route) or FEATURE_DISABLED
      // (serving not enabled) are not "no endpoint", so they fail the task instead of leading to a create.
      if (isResourceDoesNotExist(e, { status: 404 })) return undefined;
      throw e;
    }
  }

  /** `GET /api/2.0/serving-endpoints` (one page: the API has no paging parameters). */
  async list(signal?: AbortSignal): Promise<ServingEndpoint[]> {
    const res = await this.api.request<{ endpoints?: ServingEndpoint[] }>({ method: 'GET', path: SERVING_PREFIX, signal });
    return res.endpoints ?? [];
  }

  /** `POST /api/2.0/serving-endpoints`: starts creating the endpoint; returns it with `state.config_update` IN_PROGRESS. */
  async create(req: CreateEndpointRequest, signal?: AbortSignal): Promise<ServingEndpoint> {
    requireEndpointName(req.name);
    return this.api.request<ServingEndpoint>({ method: 'POST', path: SERVING_PREFIX, body: req, idempotent: false, signal });
  }

  /** `PUT /api/2.0/serving-endpoints/{name}/config`: replaces the served entities and traffic; the update runs asynchronously. */
  async updateConfig(name: string, config: EndpointConfigInput, signal?: AbortSignal): Promise<ServingEndpoint> {
    requireEndpointName(name);
    return this.api.request<ServingEndpoint>({
      method: 'PUT',
      path: `${SERVING_PREFIX}/${encodeURIComponent(name)}/config`,
      body: config,
      idempotent: false,
      signal,
    });
  }

  /**
   * `POST /serving-endpoints/{name}/invocations` (not under /api/). Scoring changes nothing on the endpoint,
   * so repeating a request after a transient failure is harmless.
   */
  async query(name: string, body: ScoringRequest, signal?: AbortSignal, timeoutMs?: number): Promise<ScoringResponse> {
    requireEndpointName(name);
    return this.api.request<ScoringResponse>({
      method: 'POST',
      path: `/serving-endpoints/${encodeURIComponent(name)}/invocations`,
      body,
      idempotent: true,
      signal,
      timeoutMs,
    });
  }

  /**
   * Polls until the config update is over: `config_update` NOT_UPDATING and `ready` READY returns the
   * endpoint; UPDATE_FAILED or UPDATE_CANCELED throws EndpointUpdateFailedError (as the SDK's
   * `createAndWait`/`updateConfigAndWait` do); the deadline throws TimeoutError with the last state.
   */
  async waitForUpdate(name: string, opts: WaitForEndpointOptions): Promise<ServingEndpoint> {
    return waitUntil<ServingEndpoint, ServingEndpoint>(
      async () => {
        const ep = await this.get(name, opts.signal);
        if (!ep) throw new Error(`Serving endpoint ${name} disappeared while its config was updating.`);
        opts.onState?.(ep);
        const update = ep.state?.config_update;
        if (update === 'UPDATE_FAILED' || update === 'UPDATE_CANCELED') {
          throw new EndpointUpdateFailedError(`The config update of serving endpoint ${name} ended ${update}${entityMessages(ep)}.`, ep);
        }
        if (update === 'NOT_UPDATING' && ep.state?.ready === 'READY') return { done: ep };
        return { pending: ep };
      },
      {
        timeoutMs: opts.timeoutMs,
        signal: opts.signal,
        clock: this.clock,
        initialIntervalMs: opts.initialIntervalMs ?? POLL_DEFAULTS.servingEndpoint.initialIntervalMs,
        maxIntervalMs: opts.maxIntervalMs ?? POLL_DEFAULTS.servingEndpoint.maxIntervalMs,
        what: `serving endpoint ${name} to be updated and ready`,
        describe: (ep) => describeEndpointState(ep),
        onTransientError: (e) => opts.onTransientError?.(e),
      },
    );
  }
}

/** `config_update IN_PROGRESS, ready NOT_READY` (plus the served entities' deployment states when known). */
export function describeEndpointState(ep: ServingEndpoint | undefined): string {
  if (!ep) return 'no state observed';
  const s = `config_update ${ep.state?.config_update ?? 'unknown'}, ready ${ep.state?.ready ?? 'unknown'}`;
  const entities = [...(ep.pending_config?.served_entities ?? []), ...(ep.config?.served_entities ?? [])].filter((e) => e.state?.deployment);
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const e of entities) {
    const key = e.name ?? `${e.entity_name}-${e.entity_version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    parts.push(`${key}: ${e.state!.deployment}`);
  }
  return parts.length > 0 ? `${s} (${parts.join(', ')})` : s;
}

function entityMessages(ep: ServingEndpoint): string {
  const msgs = [...(ep.pending_config?.served_entities ?? []), ...(ep.config?.served_entities ?? [])]
    .filter((e) => e.state?.deployment_state_message && e.state.deployment !== 'DEPLOYMENT_READY')
    .map((e) => `${e.name ?? e.entity_name}: ${e.state!.deployment_state_message}`);
  return msgs.length > 0 ? ` (${[...new Set(msgs)].join('; ')})` : '';
}
