/**
 * Model registry clients: the Databricks workspace registry (`/api/2.0/mlflow/...`, stages) and the shared
 * base used by the Unity Catalog client (unity-catalog.ts). Facts and sources: docs/databricks-api-notes.md §6.
 *
 * Retry policy: reads and overwriting writes (tags, descriptions, stage transitions to a fixed target,
 * aliases) are idempotent; `registered-models/create` and `model-versions/create` are not (a repeat
 * conflicts or registers a second version) and are never retried blindly.
 */
import type { ApiClient, ApiRequest } from '../databricks/contracts';
import { systemClock, type Clock } from '../databricks/clock';
import { POLL_DEFAULTS } from '../databricks/poll-defaults';
import { paginateByToken } from '../databricks/paginate';
import { waitUntil } from '../databricks/wait';
import { quoteValue } from './filter';
import { reiterable } from './paging';
import { undefinedIfMissing } from './tracking';
import type { KeyValue, ModelVersion, ModelVersionStatus, RegisteredModel, Stage } from './types';

/** Thrown when a model version ends in FAILED_REGISTRATION. */
export class ModelVersionRegistrationError extends Error {
  override name = 'ModelVersionRegistrationError';
  constructor(
    message: string,
    readonly version: ModelVersion,
  ) {
    super(message);
  }
}

export interface RegistryClientOptions {
  /** Clock for waitForVersionReady; defaults to the system clock. */
  clock?: Clock;
}

export interface CreateModelVersionInput {
  name: string;
  /** e.g. `runs:/<run_id>/model` or `dbfs:/databricks/mlflow-tracking/<exp>/<run>/artifacts/model`. */
  source: string;
  runId?: string;
  description?: string;
  tags?: KeyValue[];
  /**
   * MLflow 3: the LoggedModel registered (`models:/<model_id>` source). MLflow 3's client sends it as
   * CreateModelVersion.model_id; the workspace-registry proto vendored here predates the field (see
   * docs/databricks-client-calls.md for the listed exception).
   */
  modelId?: string;
}

export interface WaitForVersionReadyOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** First poll interval (default 1000 ms), growing to `maxIntervalMs` (default 10 000 ms). */
  initialIntervalMs?: number;
  maxIntervalMs?: number;
  onProgress?: (status: ModelVersionStatus | undefined, info: { elapsedMs: number; polls: number }) => void;
}

/** A filter for `model-versions/search`: `name='<model>'` or `run_id='<id>'`, values quoted safely. */
export function modelVersionFilter(by: { name: string } | { runId: string }): string {
  if ('name' in by) return `name=${quoteValue(by.name, 'model name')}`;
  return `run_id=${quoteValue(by.runId, 'run id')}`;
}

export function requireModelName(name: string): void {
  if (typeof name !== 'string' || name.trim() === '') throw new Error('The registered model name must be a non-empty string.');
}

export function requireVersion(version: string): void {
  if (typeof version !== 'string' || !/^[1-9]\d*$/.test(version)) {
    throw new Error(`Model version must be a positive integer string such as "3", got ${JSON.stringify(version)}.`);
  }
}

/** Operations both registries share; `prefix` selects the registry. */
export abstract class ModelRegistryBase {
  protected readonly clock: Clock;

  protected constructor(
    protected readonly api: ApiClient,
    protected readonly prefix: string,
    opts: RegistryClientOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Validates a model name before any request (Unity Catalog adds the three-level rule). */
  protected checkName(name: string): void {
    requireModelName(name);
  }

  /** `GET registered-models/get`; undefined only for RESOURCE_DOES_NOT_EXIST. */
  async getRegisteredModel(name: string, signal?: AbortSignal): Promise<RegisteredModel | undefined> {
    this.checkName(name);
    const res = await undefinedIfMissing(() =>
      this.api.request<{ registered_model?: RegisteredModel }>({ method: 'GET', path: `${this.prefix}/registered-models/get`, query: { name }, signal }),
    );
    return res?.registered_model;
  }

  /** Path of the registered-model tag endpoints: workspace `registered-models/set-tag` and `delete-tag`; UC overrides. */
  protected registeredModelTagPaths(): { set: string; delete: string } {
    return { set: `${this.prefix}/registered-models/set-tag`, delete: `${this.prefix}/registered-models/delete-tag` };
  }

  /** Validates a tag before any request (Unity Catalog adds its reserved-character and length rules). */
  protected checkTag(key: string, _value?: string): void {
    if (typeof key !== 'string' || key === '') throw new Error('The tag key must be a non-empty string.');
  }

  /**
   * Whether DELETE calls carry their fields as a JSON body (MLflow's client) rather than query parameters
   * (the Databricks Go SDK's workspace-registry service). Both official clients talk to Databricks.
   */
  protected deleteFieldsInBody(): boolean {
    return false;
  }

  protected deleteRequest(path: string, fields: Record<string, string>, signal?: AbortSignal): ApiRequest {
    return this.deleteFieldsInBody()
      ? { method: 'DELETE', path, body: fields, idempotent: true, signal }
      : { method: 'DELETE', path, query: fields, idempotent: true, signal };
  }

  /** Sets (overwrites) a tag on the registered model. Idempotent: a repeat writes the same value. */
  async setRegisteredModelTag(name: string, key: string, value: string, signal?: AbortSignal): Promise<void> {
    this.checkName(name);
    this.checkTag(key, value);
    await this.api.request({ method: 'POST', path: this.registeredModelTagPaths().set, body: { name, key, value: String(value) }, idempotent: true, signal });
  }

  /**
   * Deletes a tag of the registered model (workspace: fields as query parameters, as the Databricks Go SDK
   * sends them; Unity Catalog: a JSON body, as MLflow's client does). Idempotent in effect; a tag that does
   * not exist may be an error from the service.
   */
  async deleteRegisteredModelTag(name: string, key: string, signal?: AbortSignal): Promise<void> {
    this.checkName(name);
    this.checkTag(key);
    await this.api.request(this.deleteRequest(this.registeredModelTagPaths().delete, { name, key }, signal));
  }

  /** `POST registered-models/create`; a model of that name existing is an error (RESOURCE_ALREADY_EXISTS). */
  async createRegisteredModel(name: string, opts: { description?: string; tags?: KeyValue[]; signal?: AbortSignal } = {}): Promise<RegisteredModel> {
    this.checkName(name);
    const body: Record<string, unknown> = { name };
    if (opts.description) body.description = opts.description;
    if (opts.tags?.length) body.tags = opts.tags;
    const res = await this.api.request<{ registered_model?: RegisteredModel }>({
      method: 'POST',
      path: `${this.prefix}/registered-models/create`,
      body,
      idempotent: false,
      signal: opts.signal,
    });
    if (!res.registered_model) throw new Error(`registered-models/create for ${name} returned no registered_model.`);
    return res.registered_model;
  }

  /** `POST model-versions/create`: registers a new version (PENDING_REGISTRATION at first). Never retried blindly. */
  async createModelVersion(input: CreateModelVersionInput, signal?: AbortSignal): Promise<ModelVersion> {
    this.checkName(input.name);
    if (typeof input.source !== 'string' || input.source.trim() === '') throw new Error('createModelVersion needs a source URI (e.g. runs:/<run_id>/model).');
    const body: Record<string, unknown> = { name: input.name, source: input.source };
    if (input.runId) body.run_id = input.runId;
    if (input.description) body.description = input.description;
    if (input.tags?.length) body.tags = input.tags;
    if (input.modelId) body.model_id = input.modelId;
    Object.assign(body, this.extraCreateVersionFields());
    const res = await this.api.request<{ model_version?: ModelVersion }>({
      method: 'POST',
      path: `${this.prefix}/model-versions/create`,
      body,
      idempotent: false,
      signal,
    });
    if (!res.model_version) throw new Error(`model-versions/create for ${input.name} returned no model_version.`);
    return res.model_version;
  }

  /** Extra fields a registry adds to model-versions/create. */
  protected extraCreateVersionFields(): Record<string, unknown> {
    return {};
  }

  /** `GET model-versions/get`; undefined only for RESOURCE_DOES_NOT_EXIST. */
  async getModelVersion(name: string, version: string, signal?: AbortSignal): Promise<ModelVersion | undefined> {
    this.checkName(name);
    requireVersion(version);
    const res = await undefinedIfMissing(() =>
      this.api.request<{ model_version?: ModelVersion }>({ method: 'GET', path: `${this.prefix}/model-versions/get`, query: { name, version }, signal }),
    );
    return res?.model_version;
  }

  /**
   * `GET model-versions/search`, following page tokens. Build `filter` with {@link modelVersionFilter}
   * (`name='x'` or `run_id='y'`) so values cannot change the filter's meaning.
   */
  searchModelVersions(filter: string, opts: { maxResults?: number; signal?: AbortSignal } = {}): AsyncIterable<ModelVersion> {
    if (typeof filter !== 'string' || filter.trim() === '') throw new Error("searchModelVersions needs a filter such as name='my-model'.");
    const first: ApiRequest = {
      method: 'GET',
      path: `${this.prefix}/model-versions/search`,
      query: { filter, max_results: opts.maxResults },
      signal: opts.signal,
    };
    const api = this.api;
    return reiterable(() => paginateByToken<{ model_versions?: ModelVersion[] }, ModelVersion>(api, first, { items: (p) => p.model_versions }));
  }

  /** `PATCH model-versions/update` (description). */
  async updateModelVersion(name: string, version: string, update: { description: string }, signal?: AbortSignal): Promise<ModelVersion | undefined> {
    this.checkName(name);
    requireVersion(version);
    if (typeof update?.description !== 'string') throw new Error('updateModelVersion needs a description string.');
    const res = await this.api.request<{ model_version?: ModelVersion }>({
      method: 'PATCH',
      path: `${this.prefix}/model-versions/update`,
      body: { name, version, description: update.description },
      idempotent: true,
      signal,
    });
    return res.model_version;
  }

  /**
   * Polls `model-versions/get` until the version is READY (returned), FAILED_REGISTRATION
   * ({@link ModelVersionRegistrationError} with the server's status_message), the timeout passes
   * (TimeoutError with the last status) or `signal` aborts. A version that disappears is an error.
   */
  async waitForVersionReady(name: string, version: string, opts: WaitForVersionReadyOptions): Promise<ModelVersion> {
    this.checkName(name);
    requireVersion(version);
    if (!(opts.timeoutMs > 0)) throw new Error('waitForVersionReady needs a positive timeoutMs.');
    return waitUntil<ModelVersion, ModelVersionStatus | undefined>(
      async () => {
        const mv = await this.getModelVersion(name, version, opts.signal);
        if (!mv) throw new Error(`Model version ${name} version ${version} does not exist (deleted while waiting for it to become READY?).`);
        if (mv.status === 'READY') return { done: mv };
        if (mv.status === 'FAILED_REGISTRATION') {
          throw new ModelVersionRegistrationError(
            `Model version ${name} version ${version} failed to register: ${mv.status_message || 'no message from the server'}.`,
            mv,
          );
        }
        return { pending: mv.status };
      },
      {
        timeoutMs: opts.timeoutMs,
        initialIntervalMs: opts.initialIntervalMs ?? POLL_DEFAULTS.modelVersion.initialIntervalMs,
        maxIntervalMs: opts.maxIntervalMs ?? POLL_DEFAULTS.modelVersion.maxIntervalMs,
        clock: this.clock,
        signal: opts.signal,
        what: `model ${name} version ${version} to become READY`,
        describe: (s) => `status ${s ?? 'unknown'}`,
        onProgress: opts.onProgress,
      },
    );
  }
}

/** The Databricks workspace model registry (stages: None, Staging, Production, Archived). */
export class WorkspaceModelRegistry extends ModelRegistryBase {
  constructor(api: ApiClient, opts: RegistryClientOptions = {}) {
    super(api, '/api/2.0/mlflow', opts);
  }

  /** `POST registered-models/get-latest-versions` (a read, so idempotent): the latest READY version per stage. */
  async getLatestVersions(name: string, stages: Stage[], signal?: AbortSignal): Promise<ModelVersion[]> {
    this.checkName(name);
    for (const s of stages) checkStage(s);
    const body: Record<string, unknown> = { name };
    if (stages.length) body.stages = [...stages];
    const res = await this.api.request<{ model_versions?: ModelVersion[] }>({
      method: 'POST',
      path: `${this.prefix}/registered-models/get-latest-versions`,
      body,
      idempotent: true,
      signal,
    });
    return res.model_versions ?? [];
  }

  /**
   * Databricks `POST /api/2.0/mlflow/databricks/model-versions/transition-stage`; returns the version
   * (unwrapped from `model_version_databricks`). With `archiveExistingVersions`, the versions currently in
   * `stage` move to Archived. Transitioning to a fixed target is repeatable, so the call is idempotent.
   */
  async transitionStage(
    input: { name: string; version: string; stage: Stage; archiveExistingVersions: boolean; comment?: string },
    signal?: AbortSignal,
  ): Promise<ModelVersion> {
    this.checkName(input.name);
    requireVersion(input.version);
    checkStage(input.stage);
    if (typeof input.archiveExistingVersions !== 'boolean') throw new Error('transitionStage needs archiveExistingVersions (true or false).');
    if (input.archiveExistingVersions && input.stage !== 'Staging' && input.stage !== 'Production') {
      throw new Error(`archiveExistingVersions is only valid for Staging and Production, not ${input.stage}.`);
    }
    const body: Record<string, unknown> = {
      name: input.name,
      version: input.version,
      stage: input.stage,
      archive_existing_versions: input.archiveExistingVersions,
    };
    if (input.comment) body.comment = input.comment;
    const res = await this.api.request<{ model_version_databricks?: ModelVersion }>({
      method: 'POST',
      path: `${this.prefix}/databricks/model-versions/transition-stage`,
      body,
      idempotent: true,
      signal,
    });
    if (!res.model_version_databricks) throw new Error(`transition-stage for ${input.name} version ${input.version} returned no model_version_databricks.`);
    return res.model_version_databricks;
  }

  /** `POST model-versions/set-tag` (overwrites, idempotent). */
  async setModelVersionTag(name: string, version: string, key: string, value: string, signal?: AbortSignal): Promise<void> {
    this.checkName(name);
    requireVersion(version);
    if (typeof key !== 'string' || key === '') throw new Error('The model version tag key must be a non-empty string.');
    await this.api.request({
      method: 'POST',
      path: `${this.prefix}/model-versions/set-tag`,
      body: { name, version, key, value: String(value) },
      idempotent: true,
      signal,
    });
  }
}

const STAGE_NAMES: readonly Stage[] = ['None', 'Staging', 'Production', 'Archived'];

function checkStage(stage: string): void {
  if (!STAGE_NAMES.includes(stage as Stage)) throw new Error(`Unknown model stage ${JSON.stringify(stage)}; use one of ${STAGE_NAMES.join(', ')}.`);
}
