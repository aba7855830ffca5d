/**
 * Model registry emulation: the workspace registry (`/api/2.0/mlflow/...`, model_registry.proto, plus the
 * Databricks `databricks/model-versions/transition-stage` variant) and Unity Catalog models
 * (`/api/2.0/mlflow/unity-catalog/...`, databricks_uc_registry_messages.proto), docs/databricks-api-notes.md §6.
 *
 * Behaviour the tests rely on:
 * - a new version is PENDING_REGISTRATION and becomes READY `versionReadyDelayMs` of emulated time
 *   (core.clock) after creation; tests can pin versions in PENDING_REGISTRATION or FAILED_REGISTRATION;
 *   a Unity Catalog version additionally stays PENDING_REGISTRATION until `model-versions/finalize`
 *   (the MLflow UC client uploads the files to `storage_location` first, then finalizes);
 * - stage transitions require `archive_existing_versions`; when true, the other versions in the target
 *   stage move to Archived; only READY versions can change stage (assumed; MLflow OSS does not check);
 * - get-latest-versions returns READY versions only;
 * - create of an existing model answers 400 RESOURCE_ALREADY_EXISTS; missing models/versions/aliases
 *   404 RESOURCE_DOES_NOT_EXIST;
 * - UC names must be three-level (`catalog.schema.model`) and UC has no stage endpoints; aliases instead.
 */
import { ApiFault, type EmulatorCore, type EmulatorRequest, type EmulatorResponse } from '../../contracts';
import {
  decodePageToken,
  encodePageToken,
  invalid,
  matchNumber,
  matchString,
  parseFilter,
  parseMaxResults,
  requireShape,
  STRING_OPS,
  NUMERIC_OPS,
  type Term,
} from './search';
import { field, listField, omitEmpty, requiredString } from './tracking';

export type Stage = 'None' | 'Staging' | 'Production' | 'Archived';
export const STAGES: Stage[] = ['None', 'Staging', 'Production', 'Archived'];
export type VersionStatus = 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY';

export interface StoredVersion {
  name: string;
  version: number;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  userId: string;
  stage: Stage;
  description?: string;
  source: string;
  runId?: string;
  runLink?: string;
  tags: Map<string, string>;
  /** Emulated time at which the version turns READY (unless pinned). */
  readyAt: number;
  /** A test pinned this version's status. */
  pinned?: { status: Exclude<VersionStatus, 'READY'>; message?: string };
  /** UC only. */
  storageLocation?: string;
  runTrackingServerId?: string;
  /** UC only: `model-versions/finalize` was called. */
  finalized?: boolean;
  /** MLflow 3: the LoggedModel registered (CreateModelVersion.model_id, source `models:/<model_id>`). */
  modelId?: string;
}

export interface StoredModel {
  name: string;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
  userId: string;
  description?: string;
  tags: Map<string, string>;
  /** alias -> version number */
  aliases: Map<string, number>;
  versions: StoredVersion[];
  /** Pinned status applied to versions created from now on (setVersionStuck without a version). */
  pinNew?: { status: Exclude<VersionStatus, 'READY'>; message?: string };
}

/** One stage change as recorded by the emulator (tests assert comments and archiving). */
export interface StageTransition {
  name: string;
  version: string;
  from: Stage;
  to: Stage;
  archiveExistingVersions: boolean;
  comment?: string;
  /** Versions moved to Archived by this transition. */
  archived: string[];
  at: number;
}

/** Unity Catalog tag rules (Databricks "Apply tags to Unity Catalog securable objects"). */
export const UC_MAX_TAGS = 50;
const UC_RESERVED = /[.,\-=/:]/;

/** 400 INVALID_PARAMETER_VALUE, worded as the service words it, for a key or value UC refuses. */
export function checkUcTag(key: string, value?: string): void {
  if (UC_RESERVED.test(key)) throw invalid(`Tag name ${key} contains one or more of the reserved characters: List(., ,, -, =, /, :)`);
  if (key.length > 255) throw invalid(`Tag name ${key.slice(0, 40)}... is longer than 255 characters.`);
  if (value !== undefined && value.length > 1000) throw invalid(`The value of tag ${key} is longer than 1000 characters.`);
}

function kv(map: Map<string, string>): Array<{ key: string; value?: string }> | undefined {
  if (map.size === 0) return undefined;
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, value]) => omitEmpty({ key, value }) as { key: string; value?: string });
}

export function canonicalStage(raw: unknown): Stage {
  const s = STAGES.find((x) => typeof raw === 'string' && x.toLowerCase() === raw.toLowerCase());
  if (!s) throw invalid(`Invalid Model Version stage: ${String(raw)}. Value must be one of ${STAGES.join(', ')}.`);
  return s;
}

/** One registry (workspace or Unity Catalog). */
export class RegistryStore {
  readonly models = new Map<string, StoredModel>();
  readonly transitions: StageTransition[] = [];
  /** Emulated delay from create to READY; 0 makes versions READY at once. */
  versionReadyDelayMs = 2000;
  /**
   * Unity Catalog only: a version stays PENDING_REGISTRATION until `model-versions/finalize` (the real
   * flow: the client uploads the files to `storage_location` with temporary credentials, then finalizes).
   * After finalize it turns READY once `versionReadyDelayMs` has passed since creation.
   */
  requireFinalize = true;

  constructor(
    private readonly core: EmulatorCore,
    readonly uc: boolean,
  ) {}

  private now(): number {
    return this.core.clock.now();
  }

  status(v: StoredVersion): { status: VersionStatus; message?: string } {
    if (v.pinned) return v.pinned;
    if (this.uc && this.requireFinalize && !v.finalized)
      return { status: 'PENDING_REGISTRATION', message: 'Waiting for the model version files to be uploaded and finalized.' };
    return this.now() >= v.readyAt ? { status: 'READY' } : { status: 'PENDING_REGISTRATION', message: 'Model version is being registered.' };
  }

  checkName(name: unknown): string {
    if (typeof name !== 'string' || name === '') throw invalid("Missing value for required parameter 'name'.");
    if (this.uc && !/^[^.\s]+\.[^.\s]+\.[^.\s]+$/.test(name)) {
      throw invalid(`Invalid model name '${name}': Unity Catalog models need a three-level name <catalog>.<schema>.<model>.`);
    }
    return name;
  }

  model(name: unknown): StoredModel {
    const n = this.checkName(name);
    const m = this.models.get(n);
    if (!m) throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${n} not found`);
    return m;
  }

  version(name: unknown, version: unknown): StoredVersion {
    const m = this.model(name);
    const num = Number(version);
    const v = m.versions.find((x) => x.version === num);
    if (!v || !/^\d+$/.test(String(version)))
      throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `Model Version (name=${m.name}, version=${String(version)}) not found`);
    return v;
  }

  createModel(name: unknown, opts: { description?: string; tags?: Record<string, string>; userId?: string } = {}): StoredModel {
    const n = this.checkName(name);
    if (this.models.has(n)) throw new ApiFault(400, 'RESOURCE_ALREADY_EXISTS', `Registered Model (name=${n}) already exists.`);
    const now = this.now();
    const m: StoredModel = {
      name: n,
      creationTimestamp: now,
      lastUpdatedTimestamp: now,
      userId: opts.userId ?? 'emulator-user@example.com',
      description: opts.description,
      tags: new Map(Object.entries(opts.tags ?? {})),
      aliases: new Map(),
      versions: [],
    };
    this.models.set(n, m);
    return m;
  }

  createVersion(
    name: unknown,
    opts: {
      source: unknown;
      runId?: string;
      modelId?: string;
      description?: string;
      tags?: Record<string, string>;
      runLink?: string;
      userId?: string;
      runTrackingServerId?: string;
    },
  ): StoredVersion {
    const m = this.model(name);
    if (typeof opts.source !== 'string' || opts.source === '') throw invalid("Missing value for required parameter 'source'.");
    const now = this.now();
    const num = (m.versions.reduce((mx, v) => Math.max(mx, v.version), 0) || 0) + 1;
    const v: StoredVersion = {
      name: m.name,
      version: num,
      creationTimestamp: now,
      lastUpdatedTimestamp: now,
      userId: opts.userId ?? 'emulator-user@example.com',
      stage: 'None',
      description: opts.description,
      source: opts.source,
      runId: opts.runId,
      runLink: opts.runLink,
      tags: new Map(Object.entries(opts.tags ?? {})),
      readyAt: now + this.versionReadyDelayMs,
      pinned: m.pinNew ? { ...m.pinNew } : undefined,
      storageLocation: this.uc ? `abfss://uc@emulatorstorage.dfs.core.windows.net/models/${m.name}/versions/${num}` : undefined,
      runTrackingServerId: opts.runTrackingServerId,
      modelId: opts.modelId,
    };
    m.versions.push(v);
    m.lastUpdatedTimestamp = now;
    return v;
  }

  versionJson(v: StoredVersion): Record<string, unknown> {
    const st = this.status(v);
    const m = this.models.get(v.name);
    const aliases = m
      ? [...m.aliases.entries()]
          .filter(([, num]) => num === v.version)
          .map(([a]) => a)
          .sort()
      : [];
    const common = {
      name: v.name,
      version: String(v.version),
      creation_timestamp: v.creationTimestamp,
      last_updated_timestamp: v.lastUpdatedTimestamp,
      user_id: v.userId,
      description: v.description,
      source: v.source,
      run_id: v.runId,
      status: st.status,
      status_message: st.message,
      tags: kv(v.tags),
      model_id: v.modelId,
    };
    if (this.uc) {
      return omitEmpty({
        ...common,
        run_tracking_server_id: v.runTrackingServerId,
        storage_location: v.storageLocation,
        aliases: aliases.map((alias) => ({ alias, version: String(v.version) })),
      });
    }
    return omitEmpty({ ...common, current_stage: v.stage, run_link: v.runLink, aliases });
  }

  /** Latest READY version per stage (all stages when `stages` is empty). */
  latestVersions(m: StoredModel, stages: Stage[]): StoredVersion[] {
    const wanted = stages.length ? stages : STAGES;
    const out: StoredVersion[] = [];
    for (const s of wanted) {
      const inStage = m.versions.filter((v) => v.stage === s && this.status(v).status === 'READY');
      if (inStage.length) out.push(inStage.reduce((a, b) => (b.version > a.version ? b : a)));
    }
    return out;
  }

  modelJson(m: StoredModel): Record<string, unknown> {
    const base = {
      name: m.name,
      creation_timestamp: m.creationTimestamp,
      last_updated_timestamp: m.lastUpdatedTimestamp,
      user_id: m.userId,
      description: m.description,
      tags: kv(m.tags),
      aliases: [...m.aliases.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([alias, version]) => ({ alias, version: String(version) })),
    };
    if (this.uc) return omitEmpty(base);
    return omitEmpty({ ...base, latest_versions: this.latestVersions(m, []).map((v) => this.versionJson(v)) });
  }

  transition(name: unknown, version: unknown, stageRaw: unknown, archiveRaw: unknown, comment?: unknown): StoredVersion {
    const v = this.version(name, version);
    const stage = canonicalStage(stageRaw);
    if (archiveRaw === undefined || archiveRaw === null) throw invalid("Missing value for required parameter 'archive_existing_versions'.");
    const archive = archiveRaw === true || archiveRaw === 'true';
    if (archive && stage !== 'Staging' && stage !== 'Production') {
      throw invalid(
        `Model version transition cannot archive existing model versions because '${stage}' is not an Active stage. Valid stages are Staging and Production.`,
      );
    }
    const st = this.status(v);
    if (st.status !== 'READY') {
      throw new ApiFault(400, 'INVALID_STATE', `Model version ${v.name} version ${v.version} is ${st.status}; only READY versions can change stage.`);
    }
    const m = this.model(name);
    const now = this.now();
    const archived: string[] = [];
    if (archive) {
      for (const other of m.versions) {
        if (other !== v && other.stage === stage) {
          other.stage = 'Archived';
          other.lastUpdatedTimestamp = now;
          archived.push(String(other.version));
        }
      }
    }
    this.transitions.push({
      name: v.name,
      version: String(v.version),
      from: v.stage,
      to: stage,
      archiveExistingVersions: archive,
      comment: typeof comment === 'string' ? comment : undefined,
      archived,
      at: now,
    });
    v.stage = stage;
    v.lastUpdatedTimestamp = now;
    m.lastUpdatedTimestamp = now;
    return v;
  }

  private validateVersionTerms(terms: Term[], text: string): void {
    for (const t of terms) {
      if (t.type === 'tag') {
        requireShape(t, STRING_OPS, 'string', `tag '${t.key}'`, text);
        continue;
      }
      if (t.type !== 'attribute') throw invalid(`Invalid filter '${text}': model version search supports name, run_id, source_path, version_number and tags.`);
      if (t.key === 'version_number') requireShape(t, NUMERIC_OPS, 'number', 'version_number', text);
      else if (t.key === 'run_id') requireShape(t, [...STRING_OPS, 'IN'], 'string', 'run_id', text);
      else if (t.key === 'name' || t.key === 'source_path') requireShape(t, STRING_OPS, 'string', t.key, text);
      else throw invalid(`Invalid filter '${text}': invalid attribute key '${t.key}'; valid keys are name, run_id, source_path, version_number.`);
    }
    if (this.uc && terms.length > 1) throw invalid(`Invalid filter '${text}': Unity Catalog model version search accepts a single condition.`);
  }

  private versionMatches(v: StoredVersion, terms: Term[]): boolean {
    return terms.every((t) => {
      if (t.type === 'tag') return matchString(v.tags.get(t.key), t);
      switch (t.key) {
        case 'name':
          return matchString(v.name, t);
        case 'run_id':
          return matchString(v.runId, t);
        case 'source_path':
          return matchString(v.source, t);
        case 'version_number':
          return matchNumber(v.version, t);
        default:
          return false;
      }
    });
  }

  searchVersions(req: EmulatorRequest): EmulatorResponse {
    const text = field(req, 'filter');
    if (text !== undefined && typeof text !== 'string') throw invalid("Invalid value for parameter 'filter'.");
    const terms = parseFilter(text as string | undefined);
    this.validateVersionTerms(terms, String(text ?? ''));
    const maxResults = parseMaxResults(field(req, 'max_results'), 10000, 10000);
    const offset = decodePageToken(field(req, 'page_token'));
    const all = [...this.models.values()]
      .flatMap((m) => m.versions)
      .filter((v) => this.versionMatches(v, terms))
      .sort((a, b) => (a.name === b.name ? b.version - a.version : a.name < b.name ? -1 : 1));
    const page = all.slice(offset, offset + maxResults);
    const body: Record<string, unknown> = {};
    if (page.length) body.model_versions = page.map((v) => this.versionJson(v));
    if (offset + maxResults < all.length) body.next_page_token = encodePageToken(offset + maxResults);
    return { status: 200, body };
  }

  private tagsFrom(req: EmulatorRequest): Record<string, string> {
    const out: Record<string, string> = {};
    const raw = (req.body ?? {}).tags;
    if (raw === undefined) return out;
    if (!Array.isArray(raw)) throw invalid("Invalid value for parameter 'tags': expected a list of {key, value}.");
    for (const t of raw as Array<{ key?: unknown; value?: unknown }>) {
      if (typeof t?.key !== 'string' || t.key === '') throw invalid('Every tag needs a non-empty key.');
      out[t.key] = typeof t.value === 'string' ? t.value : '';
      if (this.uc) checkUcTag(t.key, out[t.key]);
    }
    if (this.uc && Object.keys(out).length > UC_MAX_TAGS) throw invalid(`At most ${UC_MAX_TAGS} tags per object; got ${Object.keys(out).length}.`);
    return out;
  }

  /** Registers this registry's routes under `prefix` (`/api/2.0/mlflow` or `/api/2.0/mlflow/unity-catalog`). */
  install(prefix: string): void {
    this.installModelRoutes(prefix);
    this.installVersionRoutes(prefix);
    this.installAliasRoutes(prefix);
    if (this.uc) {
      this.installUcRoutes(prefix);
      return;
    }
    this.installStageRoutes(prefix);
    this.installWorkspaceTagRoutes(prefix);
  }

  /** registered-models create, get, update, delete, search. */
  private installModelRoutes(prefix: string): void {
    const r = this.core.router;
    const P = prefix;
    r.add('POST', `${P}/registered-models/create`, (req) => {
      const m = this.createModel(field(req, 'name'), {
        description: field(req, 'description') as string | undefined,
        tags: this.tagsFrom(req),
        userId: req.principal,
      });
      return { status: 200, body: { registered_model: this.modelJson(m) } };
    });
    r.add('GET', `${P}/registered-models/get`, (req) => ({ status: 200, body: { registered_model: this.modelJson(this.model(field(req, 'name'))) } }));
    r.add('PATCH', `${P}/registered-models/update`, (req) => {
      const m = this.model(field(req, 'name'));
      const d = field(req, 'description');
      if (typeof d === 'string') m.description = d;
      m.lastUpdatedTimestamp = this.now();
      return { status: 200, body: { registered_model: this.modelJson(m) } };
    });
    r.add('DELETE', `${P}/registered-models/delete`, (req) => {
      const m = this.model(field(req, 'name'));
      this.models.delete(m.name);
      return { status: 200, body: {} };
    });
    r.add('GET', `${P}/registered-models/search`, (req) => {
      const maxResults = parseMaxResults(field(req, 'max_results'), 100, 1000);
      const offset = decodePageToken(field(req, 'page_token'));
      const all = [...this.models.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
      const page = all.slice(offset, offset + maxResults);
      const body: Record<string, unknown> = {};
      if (page.length) body.registered_models = page.map((m) => this.modelJson(m));
      if (offset + maxResults < all.length) body.next_page_token = encodePageToken(offset + maxResults);
      return { status: 200, body };
    });
  }

  /** model-versions create, get, update, delete, search, get-download-uri. */
  private installVersionRoutes(prefix: string): void {
    const r = this.core.router;
    const P = prefix;
    r.add('POST', `${P}/model-versions/create`, (req) => {
      const v = this.createVersion(field(req, 'name'), {
        source: field(req, 'source'),
        runId: field(req, 'run_id') as string | undefined,
        modelId: this.uc ? undefined : (field(req, 'model_id') as string | undefined),
        description: field(req, 'description') as string | undefined,
        runLink: this.uc ? undefined : (field(req, 'run_link') as string | undefined),
        tags: this.tagsFrom(req),
        userId: req.principal,
        runTrackingServerId: this.uc ? (field(req, 'run_tracking_server_id') as string | undefined) : undefined,
      });
      return { status: 200, body: { model_version: this.versionJson(v) } };
    });
    r.add('GET', `${P}/model-versions/get`, (req) => ({
      status: 200,
      body: { model_version: this.versionJson(this.version(field(req, 'name'), requiredString(req, 'version'))) },
    }));
    r.add('PATCH', `${P}/model-versions/update`, (req) => {
      const v = this.version(field(req, 'name'), requiredString(req, 'version'));
      const d = field(req, 'description');
      if (typeof d === 'string') v.description = d;
      v.lastUpdatedTimestamp = this.now();
      return { status: 200, body: { model_version: this.versionJson(v) } };
    });
    r.add('DELETE', `${P}/model-versions/delete`, (req) => {
      const v = this.version(field(req, 'name'), requiredString(req, 'version'));
      const m = this.model(v.name);
      m.versions = m.versions.filter((x) => x !== v);
      for (const [a, num] of m.aliases) if (num === v.version) m.aliases.delete(a);
      return { status: 200, body: {} };
    });
    r.add('GET', `${P}/model-versions/search`, (req) => this.searchVersions(req));
    r.add('GET', `${P}/model-versions/get-download-uri`, (req) => {
      const v = this.version(field(req, 'name'), requiredString(req, 'version'));
      return { status: 200, body: { artifact_uri: v.storageLocation ?? v.source } };
    });
  }

  /** registered-models/alias: set, delete, get. */
  private installAliasRoutes(prefix: string): void {
    const r = this.core.router;
    const P = prefix;
    r.add('POST', `${P}/registered-models/alias`, (req) => {
      const m = this.model(field(req, 'name'));
      const alias = requiredString(req, 'alias');
      if (Buffer.byteLength(alias) > 256) throw invalid('Alias names are at most 256 bytes.');
      if (/^v\d+$/i.test(alias) || alias.toLowerCase() === 'latest') throw invalid(`Alias '${alias}' is reserved.`);
      const v = this.version(m.name, requiredString(req, 'version'));
      m.aliases.set(alias, v.version);
      m.lastUpdatedTimestamp = this.now();
      return { status: 200, body: {} };
    });
    r.add('DELETE', `${P}/registered-models/alias`, (req) => {
      const m = this.model(field(req, 'name'));
      const alias = requiredString(req, 'alias');
      if (!m.aliases.delete(alias)) throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `Registered model alias ${alias} not found.`);
      return { status: 200, body: {} };
    });
    r.add('GET', `${P}/registered-models/alias`, (req) => {
      const m = this.model(field(req, 'name'));
      const alias = requiredString(req, 'alias');
      const num = m.aliases.get(alias);
      if (num === undefined) throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `Registered model alias ${alias} not found.`);
      return { status: 200, body: { model_version: this.versionJson(this.version(m.name, String(num))) } };
    });
  }

  /** Unity Catalog only: finalize and the tag routes with the UC tag rules. */
  private installUcRoutes(prefix: string): void {
    const r = this.core.router;
    const P = prefix;
    r.add('POST', `${P}/model-versions/finalize`, (req) => {
      const v = this.version(field(req, 'name'), requiredString(req, 'version'));
      v.finalized = true;
      return { status: 200, body: { model_version: this.versionJson(v) } };
    });
    // UcModelRegistryService (databricks_uc_registry_service.proto, mlflow commit e2b9058c): set-tag /
    // delete-tag, with the Unity Catalog tag rules (see checkUcTag). DELETE fields come as a JSON body
    // (MLflow's client) or as query parameters (SDK style); `field` reads either.
    const tagRoutes = (kind: 'registered-models' | 'model-versions') => {
      r.add('POST', `${P}/${kind}/set-tag`, (req) => {
        const target = kind === 'registered-models' ? this.model(field(req, 'name')) : this.version(field(req, 'name'), requiredString(req, 'version'));
        const key = requiredString(req, 'key');
        const value = String(field(req, 'value') ?? '');
        checkUcTag(key, value);
        if (!target.tags.has(key) && target.tags.size >= UC_MAX_TAGS) {
          throw invalid(
            `Cannot set tag '${key}': the ${kind === 'registered-models' ? 'registered model' : 'model version'} already has ${target.tags.size} tags, the maximum is ${UC_MAX_TAGS}.`,
          );
        }
        target.tags.set(key, value);
        target.lastUpdatedTimestamp = this.now();
        return { status: 200, body: {} };
      });
      r.add('DELETE', `${P}/${kind}/delete-tag`, (req) => {
        const target = kind === 'registered-models' ? this.model(field(req, 'name')) : this.version(field(req, 'name'), requiredString(req, 'version'));
        const key = requiredString(req, 'key');
        checkUcTag(key);
        target.tags.delete(key);
        return { status: 200, body: {} };
      });
    };
    tagRoutes('registered-models');
    tagRoutes('model-versions');
  }

  /** Workspace registry only: latest versions per stage, stage transitions, the Databricks model view. */
  private installStageRoutes(prefix: string): void {
    const r = this.core.router;
    const P = prefix;
    // Workspace registry only: stages and the set-tag/delete-tag paths.
    const latest = (req: EmulatorRequest) => {
      const m = this.model(field(req, 'name'));
      const stages = (listField(req, 'stages') ?? []).map(canonicalStage);
      const versions = this.latestVersions(m, stages).map((v) => this.versionJson(v));
      return { status: 200, body: versions.length ? { model_versions: versions } : {} };
    };
    r.add('POST', `${P}/registered-models/get-latest-versions`, latest);
    r.add('GET', `${P}/registered-models/get-latest-versions`, latest);
    r.add('POST', `${P}/model-versions/transition-stage`, (req) => {
      const v = this.transition(field(req, 'name'), requiredString(req, 'version'), field(req, 'stage'), field(req, 'archive_existing_versions'));
      return { status: 200, body: { model_version: this.versionJson(v) } };
    });
    r.add('POST', `${P}/databricks/model-versions/transition-stage`, (req) => {
      const v = this.transition(
        field(req, 'name'),
        requiredString(req, 'version'),
        field(req, 'stage'),
        field(req, 'archive_existing_versions'),
        field(req, 'comment'),
      );
      return { status: 200, body: { model_version_databricks: { ...this.versionJson(v), permission_level: 'CAN_MANAGE' } } };
    });
    r.add('GET', `${P}/databricks/registered-models/get`, (req) => {
      const m = this.model(field(req, 'name'));
      return {
        status: 200,
        body: { registered_model_databricks: { ...this.modelJson(m), id: Buffer.from(m.name).toString('hex').slice(0, 32), permission_level: 'CAN_MANAGE' } },
      };
    });
  }

  /** Workspace registry only: the set-tag/delete-tag paths. */
  private installWorkspaceTagRoutes(prefix: string): void {
    const r = this.core.router;
    const P = prefix;
    r.add('POST', `${P}/registered-models/set-tag`, (req) => {
      this.model(field(req, 'name')).tags.set(requiredString(req, 'key'), String(field(req, 'value') ?? ''));
      return { status: 200, body: {} };
    });
    r.add('DELETE', `${P}/registered-models/delete-tag`, (req) => {
      this.model(field(req, 'name')).tags.delete(requiredString(req, 'key'));
      return { status: 200, body: {} };
    });
    r.add('POST', `${P}/model-versions/set-tag`, (req) => {
      const v = this.version(field(req, 'name'), requiredString(req, 'version'));
      v.tags.set(requiredString(req, 'key'), String(field(req, 'value') ?? ''));
      v.lastUpdatedTimestamp = this.now();
      return { status: 200, body: {} };
    });
    r.add('DELETE', `${P}/model-versions/delete-tag`, (req) => {
      this.version(field(req, 'name'), requiredString(req, 'version')).tags.delete(requiredString(req, 'key'));
      return { status: 200, body: {} };
    });
  }
}
