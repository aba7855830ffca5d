/**
 * MLflow tracking emulation (docs/databricks-api-notes.md §5, service.proto): experiments, runs, metrics/params/tags,
 * `runs/search` with the real AND-only filter grammar, order_by and page tokens, and artifact listings
 * backed by `emu.files` (a run's artifacts live at `dbfs:/databricks/mlflow-tracking/<exp>/<run>/artifacts/...`,
 * so the same bytes are downloadable through the DBFS API).
 *
 * Fidelity rules (§10.6): ids are strings; empty fields are omitted (`runs/search` with no hits is
 * `{}`); 404 RESOURCE_DOES_NOT_EXIST for missing experiments/runs; 400 INVALID_PARAMETER_VALUE for
 * malformed filters (including `OR`).
 */
import { randomBytes } from 'node:crypto';
import { ApiFault, type EmulatorCore, type EmulatorRequest, type EmulatorResponse } from '../../contracts';
import type { FilesEmulator } from '../files';
import {
  NUMERIC_OPS,
  STRING_OPS,
  decodePageToken,
  encodePageToken,
  invalid,
  matchNumber,
  matchString,
  parseFilter,
  parseMaxResults,
  parseOrderBy,
  requireShape,
  type OrderKey,
  type Term,
} from './search';

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
const RUN_STATUSES: RunStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];

export interface StoredExperiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: 'active' | 'deleted';
  creationTime: number;
  lastUpdateTime: number;
  tags: Map<string, string>;
}

export interface MetricPoint {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** An MLflow 3 LoggedModel (service.proto LoggedModelInfo). */
export type LoggedModelStatus = 'LOGGED_MODEL_PENDING' | 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED';
export interface StoredLoggedModel {
  modelId: string;
  experimentId: string;
  name: string;
  sourceRunId?: string;
  status: LoggedModelStatus;
  creationTime: number;
  /** `<experiment artifact location>/models/<model_id>/artifacts` (where MLflow 3 writes the model files). */
  artifactUri: string;
}

export interface StoredRun {
  /** MLflow 3: ids of the LoggedModels this run produced (`outputs.model_outputs`). */
  modelOutputs: string[];
  runId: string;
  experimentId: string;
  runName?: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime?: number;
  lifecycleStage: 'active' | 'deleted';
  metrics: MetricPoint[];
  params: Map<string, string>;
  tags: Map<string, string>;
}

/** Options for the `emu.mlflow.createRun` test helper. */
export interface CreateRunSeed {
  experimentId: string;
  runName?: string;
  tags?: Record<string, string>;
  /** Latest metric values (logged at step 0, timestamp = start time). */
  metrics?: Record<string, number>;
  params?: Record<string, string>;
  /** Default FINISHED. */
  status?: RunStatus;
  /** Default: emulated now. */
  startTime?: number;
  endTime?: number;
  userId?: string;
  /**
   * Artifacts to create: paths relative to the artifact root (e.g. `['model/MLmodel']`, content is a
   * small placeholder) or a map from path to content.
   */
  artifacts?: string[] | Record<string, string | Buffer>;
  /**
   * MLflow 3 models this run logs with `log_model(name=...)`: each becomes a LoggedModel (source_run_id =
   * the run) whose files (an `MLmodel`) live under `<experiment artifacts>/models/<model_id>/artifacts`,
   * NOT among the run's artifacts (MLflow 3 migration guide), and is listed in the run's
   * `outputs.model_outputs` unless `linked: false` (then only `logged-models/search` finds it).
   */
  loggedModels?: Array<string | { name: string; status?: LoggedModelStatus; linked?: boolean }>;
}

const ATTRIBUTE_KINDS: Record<string, 'string' | 'number'> = {
  run_id: 'string',
  run_name: 'string',
  'run name': 'string',
  status: 'string',
  user_id: 'string',
  artifact_uri: 'string',
  lifecycle_stage: 'string',
  start_time: 'number',
  created: 'number',
  Created: 'number',
  end_time: 'number',
};

/** The comparison kind of a run attribute; 400 for unknown attributes (as MLflow answers). */
export function attributeKind(key: string): 'string' | 'number' {
  const kind = ATTRIBUTE_KINDS[key];
  if (!kind) {
    throw invalid(
      `Invalid attribute key '${key}' specified. Valid keys are '['run_id', 'run_name', 'status', 'user_id', 'artifact_uri', 'lifecycle_stage', 'start_time', 'end_time', 'created']'`,
    );
  }
  return kind;
}

export const MAX_RUNS_PAGE = 50000;
export const DEFAULT_RUNS_PAGE = 1000;
const TAG_VALUE_MAX = 65536;
const KEY_MAX = 250;

function kv(map: Map<string, string>): Array<{ key: string; value: string }> | undefined {
  if (map.size === 0) return undefined;
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => omitEmpty({ key, value }) as { key: string; value: string });
}

/** Drops undefined, empty-string and empty-array fields (proto-JSON omission). */
export function omitEmpty<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out as Partial<T>;
}

/** A parameter from the JSON body (POST) or the query string (GET). */
export function field(req: EmulatorRequest, name: string): unknown {
  if (req.body && typeof req.body === 'object' && name in req.body) return req.body[name];
  const q = req.query[name];
  return Array.isArray(q) ? q[0] : q;
}

export function listField(req: EmulatorRequest, name: string): string[] | undefined {
  if (req.body && typeof req.body === 'object' && name in req.body) {
    const v = req.body[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw invalid(`Invalid value for parameter '${name}': expected a list.`);
    return v.map(String);
  }
  const q = req.query[name];
  if (q === undefined) return undefined;
  return Array.isArray(q) ? q : [q];
}

export function requiredString(req: EmulatorRequest, name: string): string {
  const v = field(req, name);
  if (typeof v !== 'string' || v === '') throw invalid(`Missing value for required parameter '${name}'.`);
  return v;
}

export class TrackingStore {
  readonly experiments = new Map<string, StoredExperiment>();
  readonly runs = new Map<string, StoredRun>();
  readonly loggedModels = new Map<string, StoredLoggedModel>();
  private nextExperimentId = 3_141_592_653_589_001;

  constructor(private readonly core: EmulatorCore) {}

  private get files(): FilesEmulator {
    const f = this.core.modules.files;
    if (!f) throw new Error('The MLflow emulator needs the files module (artifacts are stored through emu.files).');
    return f;
  }

  // ---- experiments ----------------------------------------------------------------------------

  createExperiment(name: string, tags: Record<string, string> = {}, artifactLocation?: string): StoredExperiment {
    if (typeof name !== 'string' || name.trim() === '') throw invalid("Missing value for required parameter 'name'.");
    if (!name.startsWith('/')) {
      // Databricks experiment names are workspace paths (docs/databricks-api-notes.md §5: relative names are rejected).
      throw invalid(`Got an invalid experiment name '${name}'. An experiment name must be an absolute workspace path, e.g. /Users/<user>/<name>.`);
    }
    for (const e of this.experiments.values()) {
      if (e.name === name && e.lifecycleStage === 'active') throw new ApiFault(400, 'RESOURCE_ALREADY_EXISTS', `Node named '${name}' already exists`);
    }
    const id = String(this.nextExperimentId++);
    const now = this.core.clock.now();
    const exp: StoredExperiment = {
      experimentId: id,
      name,
      artifactLocation: artifactLocation ?? `dbfs:/databricks/mlflow-tracking/${id}`,
      lifecycleStage: 'active',
      creationTime: now,
      lastUpdateTime: now,
      tags: new Map(Object.entries(tags)),
    };
    this.experiments.set(id, exp);
    return exp;
  }

  experimentJson(e: StoredExperiment): Record<string, unknown> {
    return omitEmpty({
      experiment_id: e.experimentId,
      name: e.name,
      artifact_location: e.artifactLocation,
      lifecycle_stage: e.lifecycleStage,
      last_update_time: e.lastUpdateTime,
      creation_time: e.creationTime,
      tags: kv(e.tags),
    });
  }

  experimentById(id: string): StoredExperiment {
    const e = this.experiments.get(id);
    if (!e) throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `Node ID ${id} does not exist.`);
    return e;
  }

  experimentByName(name: string): StoredExperiment {
    const matches = [...this.experiments.values()].filter((e) => e.name === name);
    const hit = matches.find((e) => e.lifecycleStage === 'active') ?? matches[0];
    if (!hit) throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `Node ${name} does not exist.`);
    return hit;
  }

  // ---- runs -----------------------------------------------------------------------------------

  artifactRoot(run: StoredRun): string {
    return `${this.experimentById(run.experimentId).artifactLocation}/${run.runId}/artifacts`;
  }

  createRun(seed: CreateRunSeed): StoredRun {
    const exp = this.experimentById(seed.experimentId);
    if (exp.lifecycleStage !== 'active') throw invalid(`The experiment ${exp.experimentId} must be in the 'active' state.`);
    const status = seed.status ?? 'FINISHED';
    if (!RUN_STATUSES.includes(status)) throw invalid(`Invalid run status ${String(status)}.`);
    const start = seed.startTime ?? this.core.clock.now();
    const run: StoredRun = {
      modelOutputs: [],
      runId: randomBytes(16).toString('hex'),
      experimentId: exp.experimentId,
      runName: seed.runName,
      userId: seed.userId ?? 'emulator-user@example.com',
      status,
      startTime: start,
      endTime: seed.endTime ?? (status === 'RUNNING' || status === 'SCHEDULED' ? undefined : start),
      lifecycleStage: 'active',
      metrics: Object.entries(seed.metrics ?? {}).map(([key, value]) => ({ key, value, timestamp: start, step: 0 })),
      params: new Map(Object.entries(seed.params ?? {})),
      tags: new Map(Object.entries(seed.tags ?? {})),
    };
    // MLflow mirrors the run name into the mlflow.runName tag.
    if (seed.runName !== undefined) run.tags.set('mlflow.runName', seed.runName);
    this.runs.set(run.runId, run);
    const artifacts = seed.artifacts ?? [];
    const entries: Array<[string, string | Buffer]> = Array.isArray(artifacts)
      ? artifacts.map((p) => [p, p.endsWith('MLmodel') ? 'artifact_path: model\nflavors:\n  python_function: {}\n' : `emulated artifact ${p}\n`])
      : Object.entries(artifacts);
    for (const [p, content] of entries) this.writeArtifact(run, p, content);
    for (const lm of seed.loggedModels ?? []) {
      const spec = typeof lm === 'string' ? { name: lm } : lm;
      const m = this.createLoggedModel(exp, spec.name, run.runId, spec.status ?? 'LOGGED_MODEL_READY');
      if (spec.linked !== false) run.modelOutputs.push(m.modelId);
    }
    return run;
  }

  /** Creates an MLflow 3 LoggedModel (`m-<32 hex>`) with an MLmodel file under its own artifact location. */
  createLoggedModel(exp: StoredExperiment, name: string, sourceRunId: string | undefined, status: LoggedModelStatus): StoredLoggedModel {
    const modelId = `m-${randomBytes(16).toString('hex')}`;
    const m: StoredLoggedModel = {
      modelId,
      experimentId: exp.experimentId,
      name,
      sourceRunId,
      status,
      creationTime: this.core.clock.now(),
      artifactUri: `${exp.artifactLocation}/models/${modelId}/artifacts`,
    };
    this.loggedModels.set(modelId, m);
    if (status === 'LOGGED_MODEL_READY')
      this.files.write(`${m.artifactUri}/MLmodel`, `artifact_path: null\nmodel_id: ${modelId}\nflavors:\n  python_function: {}\n`);
    return m;
  }

  loggedModelJson(m: StoredLoggedModel): Record<string, unknown> {
    return {
      info: omitEmpty({
        model_id: m.modelId,
        experiment_id: m.experimentId,
        name: m.name,
        creation_timestamp_ms: m.creationTime,
        last_updated_timestamp_ms: m.creationTime,
        artifact_uri: m.artifactUri,
        status: m.status,
        source_run_id: m.sourceRunId,
      }),
      data: {},
    };
  }

  /** `POST logged-models/search`: experiment_ids required, max_results at most 50 (SearchLoggedModels). */
  private searchLoggedModels(req: EmulatorRequest): EmulatorResponse {
    const experimentIds = listField(req, 'experiment_ids') ?? [];
    if (experimentIds.length === 0) throw invalid("Missing value for required parameter 'experiment_ids'.");
    for (const id of experimentIds) this.experimentById(id);
    if (field(req, 'filter') !== undefined) throw invalid('logged-models/search filters are not supported by this emulator.');
    const maxResults = parseMaxResults(field(req, 'max_results'), 50, 50);
    const offset = decodePageToken(field(req, 'page_token'));
    const all = [...this.loggedModels.values()]
      .filter((m) => experimentIds.includes(m.experimentId))
      .sort((a, b) => b.creationTime - a.creationTime || (a.modelId < b.modelId ? -1 : 1));
    const page = all.slice(offset, offset + maxResults);
    const body: Record<string, unknown> = {};
    if (page.length) body.models = page.map((m) => this.loggedModelJson(m));
    if (offset + maxResults < all.length) body.next_page_token = encodePageToken(offset + maxResults);
    return { status: 200, body };
  }

  writeArtifact(run: StoredRun, relPath: string, content: string | Buffer): void {
    const rel = relPath.replace(/^\/+/, '');
    if (rel === '' || rel.split('/').some((s) => s === '' || s === '.' || s === '..')) throw new Error(`Invalid artifact path ${JSON.stringify(relPath)}.`);
    this.files.write(`${this.artifactRoot(run)}/${rel}`, content);
  }

  runById(id: unknown): StoredRun {
    if (typeof id !== 'string' || id === '') throw invalid("Missing value for required parameter 'run_id'.");
    const r = this.runs.get(id);
    if (!r) throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `Run '${id}' not found.`);
    return r;
  }

  /** Latest point per metric key: greatest step, then timestamp, then value (MLflow's rule). */
  latestMetrics(run: StoredRun): MetricPoint[] {
    const latest = new Map<string, MetricPoint>();
    for (const m of run.metrics) {
      const cur = latest.get(m.key);
      if (!cur || m.step > cur.step || (m.step === cur.step && (m.timestamp > cur.timestamp || (m.timestamp === cur.timestamp && m.value > cur.value)))) {
        latest.set(m.key, m);
      }
    }
    return [...latest.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  runInfoJson(r: StoredRun): Record<string, unknown> {
    return omitEmpty({
      run_id: r.runId,
      run_uuid: r.runId,
      run_name: r.runName,
      experiment_id: r.experimentId,
      user_id: r.userId,
      status: r.status,
      start_time: r.startTime,
      end_time: r.endTime,
      artifact_uri: this.artifactRoot(r),
      lifecycle_stage: r.lifecycleStage,
    });
  }

  runJson(r: StoredRun): Record<string, unknown> {
    const metrics = this.latestMetrics(r).map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp, step: m.step === 0 ? undefined : m.step }));
    return {
      info: this.runInfoJson(r),
      data: omitEmpty({ metrics: metrics.map((m) => omitEmpty(m)), params: kv(r.params), tags: kv(r.tags) }),
      inputs: {},
      ...(r.modelOutputs.length ? { outputs: { model_outputs: r.modelOutputs.map((model_id) => ({ model_id, step: 0 })) } } : {}),
    };
  }

  // ---- search ---------------------------------------------------------------------------------

  private attribute(r: StoredRun, key: string): { kind: 'string'; v?: string } | { kind: 'number'; v?: number } {
    attributeKind(key);
    switch (key) {
      case 'run_id':
        return { kind: 'string', v: r.runId };
      case 'run_name':
      case 'run name':
        return { kind: 'string', v: r.runName ?? r.tags.get('mlflow.runName') };
      case 'status':
        return { kind: 'string', v: r.status };
      case 'user_id':
        return { kind: 'string', v: r.userId };
      case 'artifact_uri':
        return { kind: 'string', v: this.artifactRoot(r) };
      case 'lifecycle_stage':
        return { kind: 'string', v: r.lifecycleStage };
      case 'start_time':
      case 'created':
      case 'Created':
        return { kind: 'number', v: r.startTime };
      case 'end_time':
        return { kind: 'number', v: r.endTime };
      default:
        return { kind: 'number', v: r.endTime };
    }
  }

  /** Validates the parsed terms against the run search rules (which operator/value per key type). */
  validateRunTerms(terms: Term[], text: string): void {
    for (const t of terms) {
      switch (t.type) {
        case 'metric':
          requireShape(t, NUMERIC_OPS, 'number', `metric '${t.key}'`, text);
          break;
        case 'param':
        case 'tag':
          requireShape(t, STRING_OPS, 'string', `${t.type} '${t.key}'`, text);
          break;
        case 'dataset':
          throw invalid(`Invalid filter '${text}': dataset filters are not supported by this emulator.`);
        case 'attribute': {
          const kind = attributeKind(t.key);
          if (kind === 'number') requireShape(t, NUMERIC_OPS, 'number', `attribute '${t.key}'`, text);
          else if (t.key === 'run_id') requireShape(t, [...STRING_OPS, 'IN', 'NOT IN'], 'string', "attribute 'run_id'", text);
          else requireShape(t, STRING_OPS, 'string', `attribute '${t.key}'`, text);
          break;
        }
      }
    }
  }

  runMatches(r: StoredRun, terms: Term[]): boolean {
    return terms.every((t) => {
      switch (t.type) {
        case 'metric':
          return matchNumber(this.latestMetrics(r).find((m) => m.key === t.key)?.value, t);
        case 'param':
          return matchString(r.params.get(t.key), t);
        case 'tag':
          return matchString(r.tags.get(t.key), t);
        case 'attribute': {
          const a = this.attribute(r, t.key);
          return a.kind === 'number' ? matchNumber(a.v, t) : matchString(a.v, t);
        }
        default:
          return false;
      }
    });
  }

  private sortValue(r: StoredRun, k: OrderKey): string | number | undefined {
    switch (k.type) {
      case 'metric':
        return this.latestMetrics(r).find((m) => m.key === k.key)?.value;
      case 'param':
        return r.params.get(k.key);
      case 'tag':
        return r.tags.get(k.key);
      case 'attribute':
        return this.attribute(r, k.key).v;
      default:
        throw invalid(`Invalid order_by entity type '${k.type}'.`);
    }
  }

  searchRuns(req: EmulatorRequest): EmulatorResponse {
    const experimentIds = listField(req, 'experiment_ids') ?? [];
    if (experimentIds.length === 0) throw invalid("Missing value for required parameter 'experiment_ids'.");
    for (const id of experimentIds) this.experimentById(id);
    const filterText = field(req, 'filter');
    if (filterText !== undefined && typeof filterText !== 'string') throw invalid("Invalid value for parameter 'filter': expected a string.");
    const terms = parseFilter(filterText as string | undefined);
    this.validateRunTerms(terms, String(filterText ?? ''));
    const view = String(field(req, 'run_view_type') ?? 'ACTIVE_ONLY');
    if (!['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'].includes(view)) throw invalid(`Invalid value ${view} for parameter 'run_view_type'.`);
    const maxResults = parseMaxResults(field(req, 'max_results'), DEFAULT_RUNS_PAGE, MAX_RUNS_PAGE);
    const orderBy = (listField(req, 'order_by') ?? []).map(parseOrderBy);
    for (const k of orderBy) if (k.type === 'attribute') attributeKind(k.key);
    const offset = decodePageToken(field(req, 'page_token'));

    const matching = [...this.runs.values()].filter(
      (r) =>
        experimentIds.includes(r.experimentId) &&
        (view === 'ALL' || (view === 'ACTIVE_ONLY' ? r.lifecycleStage === 'active' : r.lifecycleStage === 'deleted')) &&
        this.runMatches(r, terms),
    );
    const keys: OrderKey[] = [...orderBy, { type: 'attribute', key: 'start_time', ascending: false }, { type: 'attribute', key: 'run_id', ascending: true }];
    matching.sort((a, b) => {
      for (const k of keys) {
        const va = this.sortValue(a, k);
        const vb = this.sortValue(b, k);
        if (va === vb) continue;
        // Runs missing the key sort last whatever the direction.
        if (va === undefined) return 1;
        if (vb === undefined) return -1;
        const c = va < vb ? -1 : 1;
        return k.ascending ? c : -c;
      }
      return 0;
    });
    const page = matching.slice(offset, offset + maxResults);
    const body: Record<string, unknown> = {};
    if (page.length) body.runs = page.map((r) => this.runJson(r));
    if (offset + maxResults < matching.length) body.next_page_token = encodePageToken(offset + maxResults);
    return { status: 200, body };
  }

  // ---- writes ---------------------------------------------------------------------------------

  private requireKey(key: unknown, what = 'key'): string {
    if (typeof key !== 'string' || key === '') throw invalid(`Missing value for required parameter '${what}'.`);
    if (key.length > KEY_MAX) throw invalid(`${what} '${key.slice(0, 40)}...' had length ${key.length}, which exceeded length limit of ${KEY_MAX}.`);
    return key;
  }

  setTag(run: StoredRun, key: unknown, value: unknown): void {
    const k = this.requireKey(key);
    if (typeof value !== 'string') throw invalid("Missing value for required parameter 'value'.");
    if (Buffer.byteLength(value) > TAG_VALUE_MAX) throw invalid(`Tag value for '${k}' exceeded the length limit of ${TAG_VALUE_MAX} bytes.`);
    run.tags.set(k, value);
    if (k === 'mlflow.runName') run.runName = value;
  }

  logParam(run: StoredRun, key: unknown, value: unknown): void {
    const k = this.requireKey(key);
    const v = String(value ?? '');
    const cur = run.params.get(k);
    if (cur !== undefined && cur !== v) {
      throw invalid(
        `Changing param values is not allowed. Param with key='${k}' was already logged with value='${cur}' for run ID='${run.runId}'. Attempted logging new value '${v}'.`,
      );
    }
    run.params.set(k, v);
  }

  logMetric(run: StoredRun, m: Record<string, unknown>): void {
    const key = this.requireKey(m.key);
    const value = Number(m.value);
    if (m.value === undefined || Number.isNaN(value)) throw invalid(`Got invalid value ${String(m.value)} for metric '${key}'.`);
    const timestamp = Number(m.timestamp);
    if (m.timestamp === undefined || !Number.isFinite(timestamp)) throw invalid(`Missing value for required parameter 'timestamp' of metric '${key}'.`);
    run.metrics.push({ key, value, timestamp, step: Number(m.step ?? 0) });
  }

  private activeRun(req: EmulatorRequest): StoredRun {
    const run = this.runById(field(req, 'run_id') ?? field(req, 'run_uuid'));
    if (run.lifecycleStage !== 'active') throw invalid(`The run ${run.runId} must be in the 'active' state. Current state is ${run.lifecycleStage}.`);
    return run;
  }

  private logBatch(req: EmulatorRequest): EmulatorResponse {
    const run = this.activeRun(req);
    const b = (req.body ?? {}) as { metrics?: unknown[]; params?: unknown[]; tags?: unknown[] };
    const metrics = (b.metrics ?? []) as Array<Record<string, unknown>>;
    const params = (b.params ?? []) as Array<Record<string, unknown>>;
    const tags = (b.tags ?? []) as Array<Record<string, unknown>>;
    if (metrics.length > 1000) throw invalid(`A batch logging request can contain at most 1000 metrics. Got ${metrics.length} metrics.`);
    if (params.length > 100) throw invalid(`A batch logging request can contain at most 100 params. Got ${params.length} params.`);
    if (tags.length > 100) throw invalid(`A batch logging request can contain at most 100 tags. Got ${tags.length} tags.`);
    if (metrics.length + params.length + tags.length > 1000)
      throw invalid('A batch logging request can contain at most 1000 metrics, params and tags in total.');
    // Validate everything before applying anything, so a rejected batch changes nothing.
    for (const p of params) {
      const cur = run.params.get(String(p.key));
      if (cur !== undefined && cur !== String(p.value ?? '')) this.logParam(run, p.key, p.value);
    }
    for (const m of metrics) {
      this.requireKey(m.key);
      if (m.timestamp === undefined || Number.isNaN(Number(m.value))) throw invalid(`Invalid metric ${JSON.stringify(m)}.`);
    }
    for (const p of params) this.logParam(run, p.key, p.value);
    for (const m of metrics) this.logMetric(run, m);
    for (const t of tags) this.setTag(run, t.key, t.value);
    return { status: 200, body: {} };
  }

  private artifactsList(req: EmulatorRequest): EmulatorResponse {
    const run = this.runById(field(req, 'run_id') ?? field(req, 'run_uuid'));
    const rawPath = String(field(req, 'path') ?? '').replace(/^\/+|\/+$/g, '');
    if (rawPath.split('/').some((s) => s === '..')) throw invalid(`Invalid path '${rawPath}': '..' is not allowed.`);
    const root = this.artifactRoot(run);
    const dirKey = rawPath ? `${root}/${rawPath}` : root;
    const children = this.files.isDirectory(dirKey) ? this.files.children(dirKey) : [];
    const offset = decodePageToken(field(req, 'page_token'));
    const pageSize = 1000;
    const page = children.slice(offset, offset + pageSize);
    const body: Record<string, unknown> = { root_uri: root };
    if (page.length) {
      body.files = page.map((c) => {
        const rel = c.key.slice(root.length + 1);
        return c.isDir ? { path: rel, is_dir: true } : omitEmpty({ path: rel, file_size: c.size });
      });
    }
    if (offset + pageSize < children.length) body.next_page_token = encodePageToken(offset + pageSize);
    return { status: 200, body };
  }

  /** Registers the tracking routes under `/api/2.0/mlflow`. */
  install(): void {
    const r = this.core.router;
    const P = '/api/2.0/mlflow';
    const getByName = (req: EmulatorRequest) => ({
      status: 200,
      body: { experiment: this.experimentJson(this.experimentByName(requiredString(req, 'experiment_name'))) },
    });
    r.add('GET', `${P}/experiments/get-by-name`, getByName);
    const getExp = (req: EmulatorRequest) => ({
      status: 200,
      body: { experiment: this.experimentJson(this.experimentById(requiredString(req, 'experiment_id'))) },
    });
    r.add('GET', `${P}/experiments/get`, getExp);
    r.add('POST', `${P}/experiments/create`, (req) => {
      const tags: Record<string, string> = {};
      for (const t of ((req.body ?? {}).tags ?? []) as Array<{ key: string; value: string }>) tags[t.key] = t.value;
      const e = this.createExperiment(requiredString(req, 'name'), tags, field(req, 'artifact_location') as string | undefined);
      return { status: 200, body: { experiment_id: e.experimentId } };
    });
    r.add('POST', `${P}/runs/create`, (req) => {
      const tags: Record<string, string> = {};
      for (const t of ((req.body ?? {}).tags ?? []) as Array<{ key: string; value: string }>) tags[t.key] = t.value;
      const run = this.createRun({
        experimentId: requiredString(req, 'experiment_id'),
        runName: (field(req, 'run_name') as string | undefined) ?? tags['mlflow.runName'],
        tags,
        status: 'RUNNING',
        startTime: field(req, 'start_time') === undefined ? undefined : Number(field(req, 'start_time')),
        userId: req.principal,
      });
      return { status: 200, body: { run: this.runJson(run) } };
    });
    r.add('POST', `${P}/runs/update`, (req) => {
      const run = this.runById(field(req, 'run_id') ?? field(req, 'run_uuid'));
      const status = field(req, 'status');
      if (status !== undefined) {
        if (!RUN_STATUSES.includes(status as RunStatus)) throw invalid(`Invalid value ${String(status)} for parameter 'status'.`);
        run.status = status as RunStatus;
      }
      if (field(req, 'end_time') !== undefined) run.endTime = Number(field(req, 'end_time'));
      if (typeof field(req, 'run_name') === 'string') this.setTag(run, 'mlflow.runName', field(req, 'run_name'));
      return { status: 200, body: { run_info: this.runInfoJson(run) } };
    });
    r.add('POST', `${P}/runs/delete`, (req) => {
      this.runById(requiredString(req, 'run_id')).lifecycleStage = 'deleted';
      return { status: 200, body: {} };
    });
    r.add('POST', `${P}/runs/restore`, (req) => {
      this.runById(requiredString(req, 'run_id')).lifecycleStage = 'active';
      return { status: 200, body: {} };
    });
    r.add('GET', `${P}/runs/get`, (req) => ({ status: 200, body: { run: this.runJson(this.runById(field(req, 'run_id') ?? field(req, 'run_uuid'))) } }));
    r.add('POST', `${P}/runs/search`, (req) => this.searchRuns(req));
    this.installRunDataRoutes(P);
  }

  /** Run tags, parameters, metrics, artifacts and MLflow 3 logged models (service.proto). */
  private installRunDataRoutes(P: string): void {
    const r = this.core.router;
    r.add('POST', `${P}/runs/set-tag`, (req) => {
      this.setTag(this.activeRun(req), field(req, 'key'), field(req, 'value'));
      return { status: 200, body: {} };
    });
    r.add('POST', `${P}/runs/delete-tag`, (req) => {
      const run = this.activeRun(req);
      const key = requiredString(req, 'key');
      if (!run.tags.has(key)) throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `No tag with name: ${key} in run with id ${run.runId}`);
      run.tags.delete(key);
      return { status: 200, body: {} };
    });
    r.add('POST', `${P}/runs/log-parameter`, (req) => {
      this.logParam(this.activeRun(req), field(req, 'key'), field(req, 'value'));
      return { status: 200, body: {} };
    });
    r.add('POST', `${P}/runs/log-metric`, (req) => {
      this.logMetric(this.activeRun(req), (req.body ?? {}) as Record<string, unknown>);
      return { status: 200, body: {} };
    });
    r.add('POST', `${P}/runs/log-batch`, (req) => this.logBatch(req));
    r.add('GET', `${P}/artifacts/list`, (req) => this.artifactsList(req));
    // MLflow 3 logged models (service.proto GetLoggedModel, SearchLoggedModels).
    r.add('POST', `${P}/logged-models/search`, (req) => this.searchLoggedModels(req));
    r.add('GET', `${P}/logged-models/:model_id`, (req) => {
      const m = this.loggedModels.get(req.params.model_id ?? '');
      if (!m) throw new ApiFault(404, 'RESOURCE_DOES_NOT_EXIST', `Logged model with ID '${req.params.model_id}' not found.`);
      return { status: 200, body: { model: this.loggedModelJson(m) } };
    });
  }
}
