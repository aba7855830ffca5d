/**
 * Unity Catalog models through the MLflow UC registry endpoints (`/api/2.0/mlflow/unity-catalog/...`,
 * databricks_uc_registry_service.proto; reference §6.2). Names are three-level
 * (`<catalog>.<schema>.<model>`); there are no stages, aliases (`champion`, `challenger`) take their place.
 *
 * Limitation: registering a new UC version is a client-side flow on Databricks: `model-versions/create`
 * answers PENDING_REGISTRATION with a `storage_location`; the MLflow client then uploads the model files
 * there with `generate-temporary-credentials` and calls `finalize`. This client does NOT upload files, so
 * `createModelVersion` + `finalizeModelVersion` alone registers an empty version and `createModelVersion`
 * without finalize stays PENDING_REGISTRATION (the emulator behaves the same). Register UC versions from
 * the training notebook (`mlflow.register_model`) and use this client for lookups, aliases and metadata.
 */
import type { ApiClient } from '../databricks/contracts';
import { ModelRegistryBase, requireModelName, requireVersion, type RegistryClientOptions } from './registry';
import { undefinedIfMissing } from './tracking';
import type { ModelVersion } from './types';

const UC_NAME = /^[^.\s`]+\.[^.\s`]+\.[^.\s`]+$/;

/** Validates a three-level Unity Catalog model name. */
export function requireThreeLevelName(name: string): void {
  requireModelName(name);
  if (!UC_NAME.test(name)) {
    throw new Error(`Unity Catalog model names are three-level, <catalog>.<schema>.<model>; got ${JSON.stringify(name)}.`);
  }
}

function requireAlias(alias: string): void {
  if (typeof alias !== 'string' || alias.trim() === '') throw new Error('The model alias must be a non-empty string.');
  if (Buffer.byteLength(alias) > 256) throw new Error('Model aliases are at most 256 bytes.');
}

export interface UnityCatalogRegistryOptions extends RegistryClientOptions {
  /** Workspace id of the tracking server the source runs live in (`run_tracking_server_id`). */
  workspaceId?: string;
}

/** Unity Catalog model registry client. */
export class UnityCatalogModelRegistry extends ModelRegistryBase {
  private readonly workspaceId?: string;

  constructor(api: ApiClient, opts: UnityCatalogRegistryOptions = {}) {
    super(api, '/api/2.0/mlflow/unity-catalog', opts);
    this.workspaceId = opts.workspaceId;
  }

  protected override checkName(name: string): void {
    requireThreeLevelName(name);
  }

  protected override extraCreateVersionFields(): Record<string, unknown> {
    return this.workspaceId ? { run_tracking_server_id: this.workspaceId } : {};
  }

  /** Unity Catalog: `POST|DELETE registered-models/tags`. */
  protected override registeredModelTagPaths(): { set: string; delete: string } {
    return { set: `${this.prefix}/registered-models/tags`, delete: `${this.prefix}/registered-models/tags` };
  }

  /** `POST model-versions/finalize`: completes registration of a version created by {@link createModelVersion}. */
  async finalizeModelVersion(name: string, version: string, signal?: AbortSignal): Promise<ModelVersion> {
    this.checkName(name);
    requireVersion(version);
    const res = await this.api.request<{ model_version?: ModelVersion }>({
      method: 'POST',
      path: `${this.prefix}/model-versions/finalize`,
      body: { name, version },
      idempotent: true,
      signal,
    });
    if (!res.model_version) throw new Error(`model-versions/finalize for ${name} version ${version} returned no model_version.`);
    return res.model_version;
  }

  /** `POST model-versions/tags` (overwrites, idempotent). */
  async setModelVersionTag(name: string, version: string, key: string, value: string, signal?: AbortSignal): Promise<void> {
    this.checkName(name);
    requireVersion(version);
    if (typeof key !== 'string' || key === '') throw new Error('The model version tag key must be a non-empty string.');
    await this.api.request({ method: 'POST', path: `${this.prefix}/model-versions/tags`, body: { name, version, key, value: String(value) }, idempotent: true, signal });
  }

  /** `GET registered-models/alias`: the version an alias points at; undefined when the alias (or model) does not exist. */
  async getModelVersionByAlias(name: string, alias: string, signal?: AbortSignal): Promise<ModelVersion | undefined> {
    this.checkName(name);
    requireAlias(alias);
    const res = await undefinedIfMissing(() =>
      this.api.request<{ model_version?: ModelVersion }>({ method: 'GET', path: `${this.prefix}/registered-models/alias`, query: { name, alias }, signal }),
    );
    return res?.model_version;
  }

  /** `POST registered-models/alias`: points `alias` at `version` (moving it if set elsewhere). Idempotent. */
  async setAlias(name: string, alias: string, version: string, signal?: AbortSignal): Promise<void> {
    this.checkName(name);
    requireAlias(alias);
    requireVersion(version);
    await this.api.request({ method: 'POST', path: `${this.prefix}/registered-models/alias`, body: { name, alias, version }, idempotent: true, signal });
  }

  /**
   * `DELETE registered-models/alias` with the fields as query parameters (as the Databricks Go SDK sends
   * them). Deleting an alias that does not exist is an error from the service.
   */
  async deleteAlias(name: string, alias: string, signal?: AbortSignal): Promise<void> {
    this.checkName(name);
    requireAlias(alias);
    await this.api.request({ method: 'DELETE', path: `${this.prefix}/registered-models/alias`, query: { name, alias }, idempotent: true, signal });
  }
}
