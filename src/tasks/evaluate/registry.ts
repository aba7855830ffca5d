/**
 * One view of "the production model" over the two registries: the workspace registry (a stage, promotion =
 * transition with archive_existing_versions) and Unity Catalog (an alias, promotion = moving the alias).
 * Only RESOURCE_DOES_NOT_EXIST (no such model) or an empty stage/alias means "no production model"; every
 * other error propagates so the task fails closed.
 */
import { isAlreadyExists } from '../../databricks/errors';
import { modelVersionFilter } from '../../mlflow/registry';
import { UC_MAX_TAGS_PER_OBJECT, ucSafeTagKey } from '../../mlflow/unity-catalog';
import { undefinedIfMissing, type RunModel } from '../../mlflow/tracking';
import type { ModelVersion, RegisteredModel } from '../../mlflow/types';
import type { VersionRegistrar } from './uc-registration';

/** The workspace registry's challenger marker (a version tag; letters, digits and _ only, as Unity Catalog tag keys). */
export const CHALLENGER_TAG = 'mlops_challenger';

export interface ProductionRef {
  version: string;
  runId?: string;
  source?: string;
}

export interface ProductionRegistry {
  readonly kind: 'workspace' | 'unityCatalog';
  readonly modelName: string;
  /** `stage Production` or `alias champion`, for messages. */
  readonly targetDescription: string;
  getProduction(signal?: AbortSignal): Promise<ProductionRef | undefined>;
  /**
   * The version already registered from this run's model, if any (a re-run must not create a second one):
   * MLflow 2, a source that is `runs:/<run>/<path>` or the resolved artifact location; MLflow 3, the
   * version's `model_id` or a `models:/<model_id>` source.
   */
  findVersionForRun(runId: string, model: RunModel, signal?: AbortSignal): Promise<ModelVersion | undefined>;
  /**
   * Registers the run's model as a new version (creating the registered model if needed) and returns its
   * number, recording what MLflow's own client records: MLflow 2, the resolved artifact location as source;
   * MLflow 3, `models:/<model_id>` and `model_id`. Unity Catalog: reuses a version already registered from
   * the run, otherwise runs the registration notebook on Databricks (MLflow uploads the files and finalizes
   * the version there).
   */
  register(runId: string, model: RunModel, description: string, signal?: AbortSignal): Promise<string>;
  /**
   * Waits until the version is READY; with `runId`, also checks the version was registered from that run
   * (fail closed: never promote a version that is not the winner's model).
   */
  waitReady(version: string, timeoutMs: number, signal?: AbortSignal, runId?: string): Promise<void>;
  promote(version: string, comment: string, signal?: AbortSignal): Promise<void>;
  /**
   * The key this registry stores a task tag under: the workspace registry keeps the dotted keys
   * (`mlops.evaluation.metric`); Unity Catalog refuses `. , - = / :` in keys, so there they are made of
   * letters, digits and underscores (`mlops_metric`, `mlops_promotion_claim`). Every tag method below
   * takes the dotted key and translates it.
   */
  tagKey(key: string): string;
  tag(version: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void>;
  /** A tag of the registered model (the promotion claim), undefined when unset or when the model does not exist. */
  getModelTag(key: string, signal?: AbortSignal): Promise<string | undefined>;
  setModelTag(key: string, value: string, signal?: AbortSignal): Promise<void>;
  deleteModelTag(key: string, signal?: AbortSignal): Promise<void>;
  /** One version, undefined when it does not exist (fail closed on any other error). */
  getVersion(version: string, signal?: AbortSignal): Promise<ModelVersion | undefined>;
  /**
   * Marks the version as the challenger awaiting approval, leaving production alone: Unity Catalog moves the
   * alias `alias` to it; the workspace registry sets the version tag {@link CHALLENGER_TAG}=true (no stage change).
   */
  markChallenger(version: string, alias: string, signal?: AbortSignal): Promise<void>;
  /** A link to the version in the workspace UI. */
  versionUrl(workspaceUrl: string, version: string): string;
  /** The URI the scoring notebook loads the version from. */
  versionUri(version: string): string;
}

/** The registry client methods both adapters use (src/mlflow/registry.ts, src/mlflow/unity-catalog.ts). */
export interface RegistryClientBase {
  getRegisteredModel(name: string, signal?: AbortSignal): Promise<RegisteredModel | undefined>;
  getModelVersion(name: string, version: string, signal?: AbortSignal): Promise<ModelVersion | undefined>;
  setRegisteredModelTag(name: string, key: string, value: string, signal?: AbortSignal): Promise<void>;
  deleteRegisteredModelTag(name: string, key: string, signal?: AbortSignal): Promise<void>;
  createRegisteredModel(name: string, opts?: { description?: string }): Promise<unknown>;
  createModelVersion(req: { name: string; source: string; runId?: string; description?: string; modelId?: string }): Promise<ModelVersion>;
  searchModelVersions(filter: string): AsyncIterable<ModelVersion>;
  setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void>;
  getModelVersion(name: string, version: string, signal?: AbortSignal): Promise<ModelVersion | undefined>;
  waitForVersionReady(
    name: string,
    version: string,
    opts: { timeoutMs: number; signal?: AbortSignal; initialIntervalMs?: number; maxIntervalMs?: number },
  ): Promise<ModelVersion>;
}

export interface WorkspaceRegistryClient extends RegistryClientBase {
  getLatestVersions(name: string, stages: string[]): Promise<ModelVersion[]>;
  transitionStage(req: { name: string; version: string; stage: string; archiveExistingVersions: boolean; comment?: string }): Promise<unknown>;
}

export interface UnityCatalogRegistryClient extends RegistryClientBase {
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined>;
  setAlias(name: string, alias: string, version: string): Promise<void>;
}

/** Whether version `v` was registered from this run's model (see {@link ProductionRegistry.findVersionForRun}). */
export function versionIsRunModel(v: Pick<ModelVersion, 'source' | 'model_id'>, runId: string, model: RunModel): boolean {
  if (model.generation === 3) {
    if (v.model_id) return v.model_id === model.modelId;
    const source = (v.source ?? '').replace(/\/+$/, '');
    // MLflow 3 records models:/<model_id>; a registry may store the logged model's location instead
    // (<experiment artifact root>/models/<model_id>/artifacts).
    return source === `models:/${model.modelId}` || source.includes(`/models/${model.modelId}/`) || source.endsWith(`/models/${model.modelId}`);
  }
  return sourceMatches(v.source, runId, model.artifactPath);
}

function sourceMatches(source: string | undefined, runId: string, artifactPath: string): boolean {
  if (!source) return false;
  const path = artifactPath.replace(/^\/+|\/+$/g, '');
  if (source === `runs:/${runId}/${path}`) return true;
  // The registry may store the resolved artifact location (dbfs:/databricks/mlflow-tracking/<exp>/<run>/artifacts/model).
  return source.includes(`/${runId}/`) && source.replace(/\/+$/, '').endsWith(`/${path}`);
}

/** Highest usable version first: a FAILED_REGISTRATION version is never reused. */
function pickExisting(versions: ModelVersion[]): ModelVersion | undefined {
  return versions.filter((v) => v.status !== 'FAILED_REGISTRATION').sort((a, b) => Number(b.version) - Number(a.version))[0];
}

/** Poll intervals of the READY wait (the test hook shortens them). */
export interface ReadyPoll {
  initialIntervalMs?: number;
  maxIntervalMs?: number;
}

/**
 * A task tag key as Unity Catalog accepts it: `mlops.evaluation.<x>` becomes `mlops_<x>` (e.g.
 * `mlops_build_id`, `mlops_metric`), any other character outside letters, digits and `_` becomes `_`
 * (`mlops.promotion.claim` → `mlops_promotion_claim`).
 */
export function unityCatalogTagKey(key: string): string {
  return ucSafeTagKey(key.replace(/^mlops\.evaluation\./, 'mlops_'));
}

abstract class BaseRegistry<C extends RegistryClientBase> {
  constructor(
    protected readonly client: C,
    readonly modelName: string,
    protected readonly readyPoll: ReadyPoll = {},
  ) {}

  tagKey(key: string): string {
    return key;
  }

  async register(runId: string, model: RunModel, description: string): Promise<string> {
    try {
      await this.client.createRegisteredModel(this.modelName);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    const mv = await this.client.createModelVersion({
      name: this.modelName,
      source: model.source,
      runId,
      description,
      ...(model.generation === 3 ? { modelId: model.modelId } : {}),
    });
    return mv.version;
  }

  async waitReady(version: string, timeoutMs: number, signal?: AbortSignal, runId?: string): Promise<void> {
    const mv = await this.client.waitForVersionReady(this.modelName, version, { timeoutMs, signal, ...this.readyPoll });
    if (mv.status && mv.status !== 'READY') {
      throw new Error(`Model version ${this.modelName} ${version} is ${mv.status}${mv.status_message ? `: ${mv.status_message}` : ''}; it was not promoted.`);
    }
    if (runId !== undefined && mv.run_id !== runId) {
      throw new Error(
        `Model version ${this.modelName} ${version} was registered from run ${mv.run_id || '(none)'}, not from run ${runId}; it was not promoted.`,
      );
    }
  }

  async tag(version: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void> {
    for (const [k, v] of Object.entries(tags)) await this.client.setModelVersionTag(this.modelName, version, this.tagKey(k), v);
    void signal;
  }

  versionUri(version: string): string {
    return `models:/${this.modelName}/${version}`;
  }

  async getVersion(version: string, signal?: AbortSignal): Promise<ModelVersion | undefined> {
    return this.client.getModelVersion(this.modelName, version, signal);
  }

  async getModelTag(key: string, signal?: AbortSignal): Promise<string | undefined> {
    const m = await this.client.getRegisteredModel(this.modelName, signal);
    const k = this.tagKey(key);
    return m?.tags?.find((t) => t.key === k)?.value;
  }

  async setModelTag(key: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.client.setRegisteredModelTag(this.modelName, this.tagKey(key), value, signal);
  }

  async deleteModelTag(key: string, signal?: AbortSignal): Promise<void> {
    await this.client.deleteRegisteredModelTag(this.modelName, this.tagKey(key), signal);
  }
}

export class StageRegistry extends BaseRegistry<WorkspaceRegistryClient> implements ProductionRegistry {
  readonly kind = 'workspace' as const;
  constructor(
    client: WorkspaceRegistryClient,
    modelName: string,
    readonly stage: string,
    readyPoll: ReadyPoll = {},
  ) {
    super(client, modelName, readyPoll);
  }

  get targetDescription(): string {
    return `stage ${this.stage}`;
  }

  async getProduction(): Promise<ProductionRef | undefined> {
    const versions = await undefinedIfMissing(() => this.client.getLatestVersions(this.modelName, [this.stage]));
    const inStage = (versions ?? []).filter((v) => (v.current_stage ?? this.stage) === this.stage);
    if (inStage.length === 0) return undefined;
    const latest = inStage.sort((a, b) => Number(b.version) - Number(a.version))[0];
    return { version: latest.version, runId: latest.run_id || undefined, source: latest.source };
  }

  async findVersionForRun(runId: string, model: RunModel): Promise<ModelVersion | undefined> {
    const found: ModelVersion[] = [];
    for await (const v of this.client.searchModelVersions(modelVersionFilter({ runId }))) {
      if (v.name === this.modelName && versionIsRunModel(v, runId, model)) found.push(v);
    }
    return pickExisting(found);
  }

  async markChallenger(version: string): Promise<void> {
    // No stage change: with productionStage Staging a transition to Staging would be the promotion itself.
    await this.client.setModelVersionTag(this.modelName, version, CHALLENGER_TAG, 'true');
  }

  async promote(version: string, comment: string): Promise<void> {
    await this.client.transitionStage({ name: this.modelName, version, stage: this.stage, archiveExistingVersions: true, comment });
  }

  versionUrl(workspaceUrl: string, version: string): string {
    return `${workspaceUrl}/#mlflow/models/${encodeURIComponent(this.modelName)}/versions/${encodeURIComponent(version)}`;
  }
}

export class AliasRegistry extends BaseRegistry<UnityCatalogRegistryClient> implements ProductionRegistry {
  readonly kind = 'unityCatalog' as const;
  constructor(
    client: UnityCatalogRegistryClient,
    modelName: string,
    readonly alias: string,
    readyPoll: ReadyPoll = {},
    /** Registers new versions on Databricks (the UC registration notebook); without it, register fails. */
    private readonly registrar?: VersionRegistrar,
    /** Tags a newly registered version gets at registration. */
    private readonly registrationTags: Record<string, string> = {},
  ) {
    super(client, modelName, readyPoll);
  }

  /**
   * Unity Catalog versions cannot be registered over REST alone (the files are uploaded client-side before
   * `finalize`), so a new version comes from the registration notebook. A version already registered from
   * the run is reused first, so a re-run after a crash never registers a second one.
   */
  override async register(runId: string, model: RunModel, _description: string, signal?: AbortSignal): Promise<string> {
    const existing = await this.findVersionForRun(runId, model);
    if (existing) return existing.version;
    if (!this.registrar) throw new Error(`Registering a Unity Catalog version of ${this.modelName} needs the registration notebook, which is not configured.`);
    const tags = Object.fromEntries(Object.entries(this.registrationTags).map(([k, v]) => [this.tagKey(k), v]));
    const result = await this.registrar.registerVersion({ modelName: this.modelName, runId, model, tags }, signal);
    return result.version;
  }

  get targetDescription(): string {
    return `alias ${this.alias}`;
  }

  override tagKey(key: string): string {
    return unityCatalogTagKey(key);
  }

  /**
   * Unity Catalog allows at most 50 tags per object: the version's current tags are read and counted with
   * the new keys before anything is written, so a version near the limit fails here with a message saying
   * what to remove instead of halfway through the writes.
   */
  override async tag(version: string, tags: Record<string, string>, signal?: AbortSignal): Promise<void> {
    const mv = await this.client.getModelVersion(this.modelName, version, signal);
    const keys = new Set((mv?.tags ?? []).map((t) => t.key));
    const added = Object.keys(tags)
      .map((k) => this.tagKey(k))
      .filter((k) => !keys.has(k));
    if (keys.size + new Set(added).size > UC_MAX_TAGS_PER_OBJECT) {
      throw new Error(
        `${this.modelName} version ${version} has ${keys.size} tags and the decision adds ${new Set(added).size}; Unity Catalog allows at most ${UC_MAX_TAGS_PER_OBJECT} per model version. ` +
          `Delete tags it no longer needs, then run the evaluation again; nothing was promoted.`,
      );
    }
    await super.tag(version, tags, signal);
  }

  /** The claim tag counts against the registered model's 50-tag limit too (checked before the write). */
  override async setModelTag(key: string, value: string, signal?: AbortSignal): Promise<void> {
    const m = await this.client.getRegisteredModel(this.modelName, signal);
    const k = this.tagKey(key);
    const tags = m?.tags ?? [];
    if (!tags.some((t) => t.key === k) && tags.length >= UC_MAX_TAGS_PER_OBJECT) {
      throw new Error(
        `${this.modelName} already has ${tags.length} tags, the most Unity Catalog allows, so the promotion claim (${k}) cannot be set. Delete tags it no longer needs, then run the evaluation again; nothing was promoted.`,
      );
    }
    await super.setModelTag(key, value, signal);
  }

  async getProduction(): Promise<ProductionRef | undefined> {
    const mv = await undefinedIfMissing(() => this.client.getModelVersionByAlias(this.modelName, this.alias));
    if (!mv) return undefined;
    return { version: mv.version, runId: mv.run_id || undefined, source: mv.source };
  }

  async findVersionForRun(runId: string, model: RunModel): Promise<ModelVersion | undefined> {
    // Unity Catalog searches versions by model name; the run is matched here.
    const found: ModelVersion[] = [];
    for await (const v of this.client.searchModelVersions(modelVersionFilter({ name: this.modelName }))) {
      if (v.run_id === runId && versionIsRunModel(v, runId, model)) found.push(v);
    }
    return pickExisting(found);
  }

  async markChallenger(version: string, alias: string): Promise<void> {
    await this.client.setAlias(this.modelName, alias, version);
  }

  async promote(version: string): Promise<void> {
    // Unity Catalog has no transition comment; the decision is recorded in the version's tags instead.
    await this.client.setAlias(this.modelName, this.alias, version);
  }

  versionUrl(workspaceUrl: string, version: string): string {
    const [catalog, schema, model] = this.modelName.split('.');
    return `${workspaceUrl}/explore/data/models/${encodeURIComponent(catalog)}/${encodeURIComponent(schema)}/${encodeURIComponent(model)}/version/${encodeURIComponent(version)}`;
  }
}
