/**
 * Unity Catalog models through the MLflow UC registry endpoints (`/api/2.0/mlflow/unity-catalog/...`,
 * databricks_uc_registry_service.proto; docs/databricks-api-notes.md §6.2). Names are three-level
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

/**
 * Unity Catalog tag rules (Databricks docs, "Apply tags to Unity Catalog securable objects",
 * learn.microsoft.com/azure/databricks/database-objects/tags): a key may not contain `. , - = / :`
 * (the service answers `INVALID_PARAMETER_VALUE: Tag name ... contains one or more of the reserved
 * characters: List(., ,, -, =, /, :)`), keys are at most 255 characters, values at most 1000, and an
 * object carries at most 50 tags.
 */
export const UC_TAG_RESERVED = /[.,\-=/:]/;
export const UC_TAG_KEY_MAX = 255;
export const UC_TAG_VALUE_MAX = 1000;
export const UC_MAX_TAGS_PER_OBJECT = 50;

/** Throws before any request when `key`/`value` break the Unity Catalog tag rules. */
export function requireUcTag(key: string, value?: string): void {
  if (typeof key !== 'string' || key === '') throw new Error('The Unity Catalog tag key must be a non-empty string.');
  if (UC_TAG_RESERVED.test(key)) {
    throw new Error(
      `Unity Catalog tag keys may not contain . , - = / or : (got ${JSON.stringify(key)}); use letters, digits and underscores, e.g. ${JSON.stringify(ucSafeTagKey(key))}.`,
    );
  }
  if (key.length > UC_TAG_KEY_MAX)
    throw new Error(`Unity Catalog tag keys are at most ${UC_TAG_KEY_MAX} characters; ${JSON.stringify(key.slice(0, 40))}... has ${key.length}.`);
  if (value !== undefined && String(value).length > UC_TAG_VALUE_MAX)
    throw new Error(`Unity Catalog tag values are at most ${UC_TAG_VALUE_MAX} characters; the value of ${key} has ${String(value).length}.`);
}

/** A key made of letters, digits and underscores only (every other character becomes `_`). */
export function ucSafeTagKey(key: string): string {
  return key.replace(/[^A-Za-z0-9_]/g, '_');
}

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

  /**
   * Unity Catalog: `POST registered-models/set-tag` and `DELETE registered-models/delete-tag`
   * (UcModelRegistryService in mlflow/protos/databricks_uc_registry_service.proto at mlflow commit
   * e2b9058c, vendored in reference/mlflow-protos; an older commit had `registered-models/tags`).
   */
  protected override registeredModelTagPaths(): { set: string; delete: string } {
    return { set: `${this.prefix}/registered-models/set-tag`, delete: `${this.prefix}/registered-models/delete-tag` };
  }

  /** MLflow's UC client sends every non-GET call's fields as a JSON body, DELETE included (mlflow/utils/rest_utils.py call_endpoint). */
  protected override deleteFieldsInBody(): boolean {
    return true;
  }

  protected override checkTag(key: string, value?: string): void {
    requireUcTag(key, value);
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

  /** `POST model-versions/set-tag` (SetModelVersionTagRequest; overwrites, idempotent). */
  async setModelVersionTag(name: string, version: string, key: string, value: string, signal?: AbortSignal): Promise<void> {
    this.checkName(name);
    requireVersion(version);
    requireUcTag(key, value);
    await this.api.request({
      method: 'POST',
      path: `${this.prefix}/model-versions/set-tag`,
      body: { name, version, key, value: String(value) },
      idempotent: true,
      signal,
    });
  }

  /** `DELETE model-versions/delete-tag` (DeleteModelVersionTagRequest), fields in a JSON body as MLflow's client sends them. */
  async deleteModelVersionTag(name: string, version: string, key: string, signal?: AbortSignal): Promise<void> {
    this.checkName(name);
    requireVersion(version);
    requireUcTag(key);
    await this.api.request({ method: 'DELETE', path: `${this.prefix}/model-versions/delete-tag`, body: { name, version, key }, idempotent: true, signal });
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
   * `DELETE registered-models/alias` (DeleteRegisteredModelAliasRequest) with the fields in a JSON body, as
   * MLflow's UC client sends them. Deleting an alias that does not exist is an error from the service.
   */
  async deleteAlias(name: string, alias: string, signal?: AbortSignal): Promise<void> {
    this.checkName(name);
    requireAlias(alias);
    await this.api.request({ method: 'DELETE', path: `${this.prefix}/registered-models/alias`, body: { name, alias }, idempotent: true, signal });
  }
}
