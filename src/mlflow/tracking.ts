/**
 * MLflow tracking client for the Databricks-hosted tracking server (`/api/2.0/mlflow/...`, paths and
 * fields from mlflow/protos/service.proto). Only HTTP through the injected {@link ApiClient}.
 *
 * Retry policy per call (docs/databricks-api-notes.md §7.4): reads (GET, and `runs/search`, which is a POST but a pure
 * read) and overwriting writes (`set-tag`, `delete-tag`) are marked idempotent so the core retries
 * them; `log-batch` appends metric points and is not, so it is never repeated blindly.
 */
import { systemClock, type Clock } from '../databricks/clock';
import type { ApiClient, ApiRequest } from '../databricks/contracts';
import { isResourceDoesNotExist } from '../databricks/errors';
import type { RunFilter } from './filter';
import { paginateByToken } from '../databricks/paginate';
import { reiterable } from './paging';
import type { Experiment, FileInfo, KeyValue, LoggedModel, Metric, MlflowRun, ViewType } from './types';

const PREFIX = '/api/2.0/mlflow';

/** Documented `log-batch` limits (docs/databricks-api-notes.md §5.6). */
export const LOG_BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100, total: 1000 } as const;

/**
 * A run's model, found in either MLflow generation:
 * - MLflow 2: `<artifact root>/<path>/MLmodel` among the run's artifacts; loaded by `runs:/<run>/<path>`,
 *   registered (as MLflow 2's `register_model` records it) with the resolved artifact location as source;
 * - MLflow 3: a LoggedModel whose `source_run_id` is the run and whose `name` is the path (MLflow 3
 *   migration guide: "Model artifacts are no longer stored as run artifacts"); loaded and registered by
 *   `models:/<model_id>`, with `model_id` on the version.
 */
export type RunModel =
  { generation: 2; artifactPath: string; uri: string; source: string } | { generation: 3; artifactPath: string; uri: string; source: string; modelId: string };

/**
 * Runs `call`, mapping only RESOURCE_DOES_NOT_EXIST to undefined ({@link isResourceDoesNotExist}): an outage, a
 * 403, an unknown endpoint or a sign-in page is surfaced, so lookups fail closed.
 */
export async function undefinedIfMissing<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (isResourceDoesNotExist(err)) return undefined;
    throw err;
  }
}

export interface SearchRunsOptions {
  /** Experiments to search (at least one). */
  experimentIds: string[];
  /** A filter string, ideally built with {@link filter} so values cannot become grammar. */
  filter?: string | RunFilter;
  /** e.g. ``['metrics.`auc` DESC', 'attributes.start_time DESC']``. */
  orderBy?: string[];
  /** `max_results` sent with each page request (MLflow's page size); default 1000, max 50,000. */
  maxResults?: number;
  /** Stop after this many runs in total (no limit by default). */
  limit?: number;
  runViewType?: ViewType;
  signal?: AbortSignal;
}

export interface LogBatchInput {
  /** `timestamp` defaults to the client clock's now; `step` to 0. */
  metrics?: Array<{ key: string; value: number; timestamp?: number; step?: number }>;
  params?: KeyValue[];
  tags?: KeyValue[];
}

export interface MlflowTrackingOptions {
  /** Supplies metric timestamps for log-batch; defaults to the system clock. */
  clock?: Pick<Clock, 'now'>;
}

/** Client for experiments, runs, tags and artifact listings. */
export class MlflowTracking {
  private readonly clock: Pick<Clock, 'now'>;

  constructor(
    private readonly api: ApiClient,
    opts: MlflowTrackingOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /**
   * `GET experiments/get-by-name`. Returns undefined only when the server says the experiment does not
   * exist (404 RESOURCE_DOES_NOT_EXIST); every other failure is thrown.
   */
  async getExperimentByName(name: string, signal?: AbortSignal): Promise<Experiment | undefined> {
    requireNonEmpty(name, 'experiment name');
    const res = await undefinedIfMissing(() =>
      this.api.request<{ experiment?: Experiment }>({ method: 'GET', path: `${PREFIX}/experiments/get-by-name`, query: { experiment_name: name }, signal }),
    );
    return res?.experiment;
  }

  /** `GET experiments/get`. Undefined only for RESOURCE_DOES_NOT_EXIST. */
  async getExperiment(experimentId: string, signal?: AbortSignal): Promise<Experiment | undefined> {
    requireNonEmpty(experimentId, 'experiment id');
    const res = await undefinedIfMissing(() =>
      this.api.request<{ experiment?: Experiment }>({ method: 'GET', path: `${PREFIX}/experiments/get`, query: { experiment_id: experimentId }, signal }),
    );
    return res?.experiment;
  }

  /**
   * Resolves a pipeline input that names an experiment either by workspace path (`/Shared/eval`,
   * `/Users/me@x/eval`) or by numeric id. Throws a clear error when it does not exist or is deleted.
   */
  async resolveExperiment(pathOrId: string, signal?: AbortSignal): Promise<Experiment> {
    const ref = (pathOrId ?? '').trim();
    let experiment: Experiment | undefined;
    if (/^\d+$/.test(ref)) {
      experiment = await this.getExperiment(ref, signal);
    } else if (ref.startsWith('/')) {
      experiment = await this.getExperimentByName(ref, signal);
    } else {
      throw new Error(`MLflow experiment ${JSON.stringify(pathOrId)} is neither a workspace path (e.g. /Shared/my-experiment) nor a numeric experiment id.`);
    }
    if (!experiment) throw new Error(`MLflow experiment ${JSON.stringify(ref)} does not exist in this workspace.`);
    if (experiment.lifecycle_stage === 'deleted') {
      throw new Error(`MLflow experiment ${JSON.stringify(ref)} (id ${experiment.experiment_id}) is deleted; restore it or use another experiment.`);
    }
    return experiment;
  }

  /** `POST experiments/create`; returns the new experiment id. Not idempotent (a repeat conflicts). */
  async createExperiment(name: string, opts: { artifactLocation?: string; tags?: KeyValue[]; signal?: AbortSignal } = {}): Promise<string> {
    requireNonEmpty(name, 'experiment name');
    const body: Record<string, unknown> = { name };
    if (opts.artifactLocation) body.artifact_location = opts.artifactLocation;
    if (opts.tags?.length) body.tags = opts.tags;
    const res = await this.api.request<{ experiment_id?: string }>({
      method: 'POST',
      path: `${PREFIX}/experiments/create`,
      body,
      idempotent: false,
      signal: opts.signal,
    });
    if (!res.experiment_id) throw new Error(`MLflow experiments/create for ${JSON.stringify(name)} returned no experiment_id.`);
    return res.experiment_id;
  }

  /**
   * `POST runs/search`, following `next_page_token` until the last page. The request is a pure read,
   * so it is marked idempotent and retried by the core on transient failures.
   */
  searchRuns(opts: SearchRunsOptions): AsyncIterable<MlflowRun> {
    if (!Array.isArray(opts.experimentIds) || opts.experimentIds.length === 0 || opts.experimentIds.some((id) => typeof id !== 'string' || id === '')) {
      throw new Error('searchRuns needs at least one experiment id (non-empty strings).');
    }
    if (opts.maxResults !== undefined && (!Number.isInteger(opts.maxResults) || opts.maxResults < 1 || opts.maxResults > 50000)) {
      throw new Error(`searchRuns maxResults must be an integer from 1 to 50000, got ${opts.maxResults}.`);
    }
    if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 1)) {
      throw new Error(`searchRuns limit must be a positive integer, got ${opts.limit}.`);
    }
    const filterText = opts.filter === undefined ? '' : String(opts.filter);
    const body: Record<string, unknown> = { experiment_ids: [...opts.experimentIds] };
    if (filterText) body.filter = filterText;
    if (opts.runViewType) body.run_view_type = opts.runViewType;
    if (opts.maxResults !== undefined) body.max_results = opts.maxResults;
    if (opts.orderBy?.length) body.order_by = [...opts.orderBy];
    const first: ApiRequest = { method: 'POST', path: `${PREFIX}/runs/search`, body, idempotent: true, signal: opts.signal };
    const api = this.api;
    const limit = opts.limit;
    return reiterable(async function* () {
      let count = 0;
      for await (const run of paginateByToken<{ runs?: MlflowRun[] }, MlflowRun>(api, first, { items: (p) => p.runs })) {
        yield run;
        count += 1;
        if (limit !== undefined && count >= limit) return;
      }
    });
  }

  /** `GET runs/get`; throws (a DatabricksApiError with RESOURCE_DOES_NOT_EXIST) when the run is missing. */
  async getRun(runId: string, signal?: AbortSignal): Promise<MlflowRun> {
    requireNonEmpty(runId, 'run id');
    const res = await this.api.request<{ run?: MlflowRun }>({ method: 'GET', path: `${PREFIX}/runs/get`, query: { run_id: runId }, signal });
    if (!res.run?.info) throw new Error(`MLflow runs/get for run ${runId} returned no run.`);
    return res.run;
  }

  /** Like {@link getRun} but undefined when the run does not exist (RESOURCE_DOES_NOT_EXIST only). */
  async findRun(runId: string, signal?: AbortSignal): Promise<MlflowRun | undefined> {
    return undefinedIfMissing(() => this.getRun(runId, signal));
  }

  /** `POST runs/set-tag`. Setting a tag overwrites it, so the call is safe to retry. */
  async setTag(runId: string, key: string, value: string, signal?: AbortSignal): Promise<void> {
    requireNonEmpty(runId, 'run id');
    requireNonEmpty(key, 'tag key');
    if (typeof value !== 'string') throw new Error(`Tag ${JSON.stringify(key)} value must be a string.`);
    await this.api.request({ method: 'POST', path: `${PREFIX}/runs/set-tag`, body: { run_id: runId, key, value }, idempotent: true, signal });
  }

  /** `POST runs/delete-tag`. */
  async deleteTag(runId: string, key: string, signal?: AbortSignal): Promise<void> {
    requireNonEmpty(runId, 'run id');
    requireNonEmpty(key, 'tag key');
    await this.api.request({ method: 'POST', path: `${PREFIX}/runs/delete-tag`, body: { run_id: runId, key }, idempotent: true, signal });
  }

  /**
   * `POST runs/log-batch`. Not idempotent (metric points would be duplicated), so the core does not
   * retry it after the request may have reached the server. Checks the documented size limits first.
   */
  async logBatch(runId: string, batch: LogBatchInput, signal?: AbortSignal): Promise<void> {
    requireNonEmpty(runId, 'run id');
    const metrics: Metric[] = (batch.metrics ?? []).map((m) => {
      if (!Number.isFinite(m.value)) throw new Error(`Metric ${JSON.stringify(m.key)} must be a finite number, got ${m.value}.`);
      return { key: m.key, value: m.value, timestamp: m.timestamp ?? this.clock.now(), step: m.step ?? 0 };
    });
    const params = batch.params ?? [];
    const tags = batch.tags ?? [];
    if (metrics.length > LOG_BATCH_LIMITS.metrics) throw new Error(`log-batch accepts at most ${LOG_BATCH_LIMITS.metrics} metrics, got ${metrics.length}.`);
    if (params.length > LOG_BATCH_LIMITS.params) throw new Error(`log-batch accepts at most ${LOG_BATCH_LIMITS.params} params, got ${params.length}.`);
    if (tags.length > LOG_BATCH_LIMITS.tags) throw new Error(`log-batch accepts at most ${LOG_BATCH_LIMITS.tags} tags, got ${tags.length}.`);
    if (metrics.length + params.length + tags.length > LOG_BATCH_LIMITS.total) {
      throw new Error(`log-batch accepts at most ${LOG_BATCH_LIMITS.total} metrics, params and tags in total.`);
    }
    if (metrics.length + params.length + tags.length === 0) return;
    const body: Record<string, unknown> = { run_id: runId };
    if (metrics.length) body.metrics = metrics;
    if (params.length) body.params = params;
    if (tags.length) body.tags = tags;
    await this.api.request({ method: 'POST', path: `${PREFIX}/runs/log-batch`, body, idempotent: false, signal });
  }

  /**
   * `GET artifacts/list`: the direct children of `path` (relative to the run's artifact root; the root
   * when omitted), following page tokens.
   */
  listArtifacts(runId: string, path?: string, signal?: AbortSignal): AsyncIterable<FileInfo> {
    requireNonEmpty(runId, 'run id');
    const first: ApiRequest = { method: 'GET', path: `${PREFIX}/artifacts/list`, query: { run_id: runId, path: path || undefined }, signal };
    const api = this.api;
    return reiterable(() => paginateByToken<{ files?: FileInfo[] }, FileInfo>(api, first, { items: (p) => p.files }));
  }

  /**
   * Whether the run has an MLflow model logged under `modelPath` (default `model`): an `MLmodel` file
   * directly inside that artifact directory.
   */
  async hasLoggedModel(runId: string, modelPath = 'model', signal?: AbortSignal): Promise<boolean> {
    const dir = checkModelPath(modelPath);
    const expected = dir ? `${dir}/MLmodel` : 'MLmodel';
    for await (const f of this.listArtifacts(runId, dir || undefined, signal)) {
      if (!f.is_dir && f.path === expected) return true;
    }
    return false;
  }

  /**
   * `GET logged-models/{model_id}` (service.proto GetLoggedModel, MLflow 3); undefined only for
   * RESOURCE_DOES_NOT_EXIST.
   */
  async getLoggedModel(modelId: string, signal?: AbortSignal): Promise<LoggedModel | undefined> {
    requireNonEmpty(modelId, 'logged model id');
    const res = await undefinedIfMissing(() =>
      this.api.request<{ model?: LoggedModel }>({ method: 'GET', path: `${PREFIX}/logged-models/${encodeURIComponent(modelId)}`, signal }),
    );
    return res?.model;
  }

  /**
   * `POST logged-models/search` (service.proto SearchLoggedModels, MLflow 3), following `next_page_token`.
   * A read, so marked idempotent although it is a POST.
   */
  searchLoggedModels(opts: { experimentIds: string[]; filter?: string; maxResults?: number; signal?: AbortSignal }): AsyncIterable<LoggedModel> {
    if (!opts.experimentIds?.length) throw new Error('searchLoggedModels needs at least one experiment id.');
    const body: Record<string, unknown> = { experiment_ids: [...opts.experimentIds] };
    if (opts.filter) body.filter = opts.filter;
    if (opts.maxResults !== undefined) body.max_results = opts.maxResults;
    const first: ApiRequest = { method: 'POST', path: `${PREFIX}/logged-models/search`, body, idempotent: true, signal: opts.signal };
    const api = this.api;
    return reiterable(() => paginateByToken<{ models?: LoggedModel[] }, LoggedModel>(api, first, { items: (p) => p.models }));
  }

  /**
   * The run's model at `modelPath` in either MLflow generation (see {@link RunModel}), or undefined when it
   * has neither. MLflow 2 first (`artifacts/list`); then MLflow 3: the LoggedModels `runs/get` lists in
   * `outputs.model_outputs` (`logged-models/{id}` each), and, when the run lists none that match, the
   * experiment's LoggedModels (`logged-models/search`, every page) matched on `source_run_id` and `name`.
   * A LoggedModel counts only when LOGGED_MODEL_READY (a pending or failed upload has no usable files);
   * several ready ones with the same name: the most recently created.
   */
  async findRunModel(run: Pick<MlflowRun, 'info'>, modelPath = 'model', signal?: AbortSignal): Promise<RunModel | undefined> {
    const dir = checkModelPath(modelPath);
    const runId = run.info.run_id;
    if (await this.hasLoggedModel(runId, dir, signal)) {
      const root = (run.info.artifact_uri ?? '').replace(/\/+$/, '');
      return { generation: 2, artifactPath: dir, uri: `runs:/${runId}/${dir}`, source: root ? `${root}/${dir}` : `runs:/${runId}/${dir}` };
    }
    const matches = (m: LoggedModel | undefined): m is LoggedModel =>
      !!m && m.info?.source_run_id === runId && m.info?.name === dir && m.info?.status === 'LOGGED_MODEL_READY';
    const found: LoggedModel[] = [];
    const full = await this.getRun(runId, signal);
    for (const out of full.outputs?.model_outputs ?? []) {
      if (!out?.model_id) continue;
      const m = await this.getLoggedModel(out.model_id, signal);
      if (matches(m)) found.push(m);
    }
    if (found.length === 0) {
      for await (const m of this.searchLoggedModels({ experimentIds: [run.info.experiment_id], signal })) if (matches(m)) found.push(m);
    }
    if (found.length === 0) return undefined;
    const latest = found.sort(
      (a, b) => (b.info.creation_timestamp_ms ?? 0) - (a.info.creation_timestamp_ms ?? 0) || (a.info.model_id < b.info.model_id ? -1 : 1),
    )[0];
    const id = latest.info.model_id;
    return { generation: 3, artifactPath: dir, uri: `models:/${id}`, source: `models:/${id}`, modelId: id };
  }
}

/** A model path relative to the run (`model`, `models/churn`): no scheme, no `.`/`..` segments. */
function checkModelPath(modelPath: string): string {
  const dir = (modelPath ?? '').replace(/^\/+|\/+$/g, '');
  if (dir.split('/').some((seg) => seg === '..' || seg === '.') || /^[a-z][a-z0-9+.-]*:/i.test(dir) || dir.includes('//')) {
    throw new Error(
      `The model artifact path ${JSON.stringify(modelPath)} must be a relative path inside the run's artifacts (e.g. model), without '.' or '..' segments.`,
    );
  }
  return dir;
}

function requireNonEmpty(value: string, what: string): void {
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`The MLflow ${what} must be a non-empty string.`);
}
