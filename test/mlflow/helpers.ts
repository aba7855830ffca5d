/**
 * Shared setup for the MLflow and Files client tests: a started emulator, a PAT client on the
 * emulator's linked clock (waits and retry backoff cost no real time), and a recorder of every
 * request/response pair the client saw, so tests can check each against its proto message.
 */
import assert from 'node:assert/strict';
import type { ApiClient, ApiRequest, DownloadRequest } from '../../src/databricks/contracts';
import { patTokenProvider } from '../../src/databricks/auth';
import { createApiClient, type ApiResponse, type DatabricksApiClient } from '../../src/databricks/http';
import { EMULATOR_DEFAULTS, startEmulator, type Emulator } from '../../emulator';
import { checkMessage } from '../helpers/protos';

export interface Exchange {
  method: string;
  path: string;
  query?: ApiRequest['query'];
  body?: unknown;
  response: unknown;
}

/** Wraps a client, recording every successful JSON exchange (request and parsed response). */
export function recording(api: DatabricksApiClient): { api: DatabricksApiClient; exchanges: Exchange[] } {
  const exchanges: Exchange[] = [];
  const wrapped: DatabricksApiClient = {
    host: api.host,
    async request<T>(req: ApiRequest): Promise<T> {
      const res = await api.request<T>(req);
      exchanges.push({ method: req.method, path: req.path, query: req.query, body: req.body, response: res });
      return res;
    },
    async requestFull<T>(req: ApiRequest): Promise<ApiResponse<T>> {
      const res = await api.requestFull<T>(req);
      exchanges.push({ method: req.method, path: req.path, query: req.query, body: req.body, response: res.body });
      return res;
    },
    download: (req: DownloadRequest) => api.download(req),
  };
  return { api: wrapped, exchanges };
}

export interface TestContext {
  emu: Emulator;
  api: DatabricksApiClient;
  exchanges: Exchange[];
}

/** Starts an emulator and a recording PAT client whose clock is the emulator's (sleeps advance emulated time). */
export async function startContext(): Promise<TestContext> {
  const emu = await startEmulator();
  const base = createApiClient({ host: emu.url, tokenProvider: patTokenProvider(EMULATOR_DEFAULTS.pat), clock: emu.linkedClock() });
  const { api, exchanges } = recording(base);
  return { emu, api, exchanges };
}

/** Which proto messages describe a request and its response, by method and path. */
const MESSAGES: Array<{ method: string; path: string; request: string; response: string }> = [
  { method: 'GET', path: '/api/2.0/mlflow/experiments/get-by-name', request: 'mlflow.GetExperimentByName', response: 'mlflow.GetExperimentByName.Response' },
  { method: 'GET', path: '/api/2.0/mlflow/experiments/get', request: 'mlflow.GetExperiment', response: 'mlflow.GetExperiment.Response' },
  { method: 'POST', path: '/api/2.0/mlflow/experiments/create', request: 'mlflow.CreateExperiment', response: 'mlflow.CreateExperiment.Response' },
  { method: 'POST', path: '/api/2.0/mlflow/runs/search', request: 'mlflow.SearchRuns', response: 'mlflow.SearchRuns.Response' },
  { method: 'POST', path: '/api/2.0/mlflow/runs/create', request: 'mlflow.CreateRun', response: 'mlflow.CreateRun.Response' },
  { method: 'POST', path: '/api/2.0/mlflow/runs/update', request: 'mlflow.UpdateRun', response: 'mlflow.UpdateRun.Response' },
  { method: 'POST', path: '/api/2.0/mlflow/runs/log-metric', request: 'mlflow.LogMetric', response: 'mlflow.LogMetric.Response' },
  { method: 'POST', path: '/api/2.0/mlflow/runs/log-parameter', request: 'mlflow.LogParam', response: 'mlflow.LogParam.Response' },
  { method: 'POST', path: '/api/2.0/mlflow/runs/delete', request: 'mlflow.DeleteRun', response: 'mlflow.DeleteRun.Response' },
  {
    method: 'GET',
    path: '/api/2.0/mlflow/registered-models/search',
    request: 'mlflow.SearchRegisteredModels',
    response: 'mlflow.SearchRegisteredModels.Response',
  },
  {
    method: 'GET',
    path: '/api/2.0/mlflow/registered-models/alias',
    request: 'mlflow.GetModelVersionByAlias',
    response: 'mlflow.GetModelVersionByAlias.Response',
  },
  {
    method: 'POST',
    path: '/api/2.0/mlflow/registered-models/alias',
    request: 'mlflow.SetRegisteredModelAlias',
    response: 'mlflow.SetRegisteredModelAlias.Response',
  },
  {
    method: 'DELETE',
    path: '/api/2.0/mlflow/registered-models/alias',
    request: 'mlflow.DeleteRegisteredModelAlias',
    response: 'mlflow.DeleteRegisteredModelAlias.Response',
  },
  { method: 'GET', path: '/api/2.0/mlflow/runs/get', request: 'mlflow.GetRun', response: 'mlflow.GetRun.Response' },
  { method: 'POST', path: '/api/2.0/mlflow/runs/set-tag', request: 'mlflow.SetTag', response: 'mlflow.SetTag.Response' },
  { method: 'POST', path: '/api/2.0/mlflow/runs/delete-tag', request: 'mlflow.DeleteTag', response: 'mlflow.DeleteTag.Response' },
  { method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', request: 'mlflow.LogBatch', response: 'mlflow.LogBatch.Response' },
  { method: 'GET', path: '/api/2.0/mlflow/artifacts/list', request: 'mlflow.ListArtifacts', response: 'mlflow.ListArtifacts.Response' },
  // MLflow 3 logged models (service.proto GetLoggedModel, SearchLoggedModels).
  { method: 'GET', path: '/api/2.0/mlflow/logged-models/{model_id}', request: 'mlflow.GetLoggedModel', response: 'mlflow.GetLoggedModel.Response' },
  { method: 'POST', path: '/api/2.0/mlflow/logged-models/search', request: 'mlflow.SearchLoggedModels', response: 'mlflow.SearchLoggedModels.Response' },
  {
    method: 'POST',
    path: '/api/2.0/mlflow/registered-models/create',
    request: 'mlflow.CreateRegisteredModel',
    response: 'mlflow.CreateRegisteredModel.Response',
  },
  { method: 'GET', path: '/api/2.0/mlflow/registered-models/get', request: 'mlflow.GetRegisteredModel', response: 'mlflow.GetRegisteredModel.Response' },
  {
    method: 'POST',
    path: '/api/2.0/mlflow/registered-models/get-latest-versions',
    request: 'mlflow.GetLatestVersions',
    response: 'mlflow.GetLatestVersions.Response',
  },
  { method: 'POST', path: '/api/2.0/mlflow/model-versions/create', request: 'mlflow.CreateModelVersion', response: 'mlflow.CreateModelVersion.Response' },
  { method: 'GET', path: '/api/2.0/mlflow/model-versions/get', request: 'mlflow.GetModelVersion', response: 'mlflow.GetModelVersion.Response' },
  { method: 'GET', path: '/api/2.0/mlflow/model-versions/search', request: 'mlflow.SearchModelVersions', response: 'mlflow.SearchModelVersions.Response' },
  { method: 'PATCH', path: '/api/2.0/mlflow/model-versions/update', request: 'mlflow.UpdateModelVersion', response: 'mlflow.UpdateModelVersion.Response' },
  { method: 'POST', path: '/api/2.0/mlflow/model-versions/set-tag', request: 'mlflow.SetModelVersionTag', response: 'mlflow.SetModelVersionTag.Response' },
  {
    method: 'POST',
    path: '/api/2.0/mlflow/model-versions/transition-stage',
    request: 'mlflow.TransitionModelVersionStage',
    response: 'mlflow.TransitionModelVersionStage.Response',
  },
  {
    method: 'POST',
    path: '/api/2.0/mlflow/databricks/model-versions/transition-stage',
    request: 'databricks.TransitionModelVersionStageDatabricks',
    response: 'databricks.TransitionModelVersionStageDatabricks.Response',
  },
  {
    method: 'POST',
    path: '/api/2.0/mlflow/unity-catalog/registered-models/create',
    request: 'uc.CreateRegisteredModelRequest',
    response: 'uc.RegisteredModelResponse',
  },
  { method: 'GET', path: '/api/2.0/mlflow/unity-catalog/registered-models/get', request: 'uc.NameVersion', response: 'uc.RegisteredModelResponse' },
  { method: 'POST', path: '/api/2.0/mlflow/unity-catalog/model-versions/create', request: 'uc.CreateModelVersionRequest', response: 'uc.ModelVersionResponse' },
  { method: 'GET', path: '/api/2.0/mlflow/unity-catalog/model-versions/get', request: 'uc.NameVersion', response: 'uc.ModelVersionResponse' },
  {
    method: 'GET',
    path: '/api/2.0/mlflow/unity-catalog/model-versions/search',
    request: 'uc.SearchModelVersionsRequest',
    response: 'uc.SearchModelVersionsResponse',
  },
  { method: 'POST', path: '/api/2.0/mlflow/unity-catalog/model-versions/finalize', request: 'uc.NameVersion', response: 'uc.ModelVersionResponse' },
  {
    method: 'PATCH',
    path: '/api/2.0/mlflow/unity-catalog/model-versions/update',
    request: 'uc.UpdateModelVersionRequest',
    response: 'uc.ModelVersionResponse',
  },
  { method: 'POST', path: '/api/2.0/mlflow/unity-catalog/model-versions/set-tag', request: 'uc.SetModelVersionTagRequest', response: 'Empty' },
  { method: 'DELETE', path: '/api/2.0/mlflow/unity-catalog/model-versions/delete-tag', request: 'uc.DeleteModelVersionTagRequest', response: 'Empty' },
  { method: 'POST', path: '/api/2.0/mlflow/unity-catalog/registered-models/set-tag', request: 'uc.SetRegisteredModelTagRequest', response: 'Empty' },
  { method: 'DELETE', path: '/api/2.0/mlflow/unity-catalog/registered-models/delete-tag', request: 'uc.DeleteRegisteredModelTagRequest', response: 'Empty' },
  { method: 'POST', path: '/api/2.0/mlflow/unity-catalog/registered-models/alias', request: 'uc.SetRegisteredModelAliasRequest', response: 'Empty' },
  { method: 'DELETE', path: '/api/2.0/mlflow/unity-catalog/registered-models/alias', request: 'uc.SetRegisteredModelAliasRequest', response: 'Empty' },
  {
    method: 'GET',
    path: '/api/2.0/mlflow/unity-catalog/registered-models/alias',
    request: 'uc.SetRegisteredModelAliasRequest',
    response: 'uc.ModelVersionResponse',
  },
];

/** `/a/{id}/b` matches `/a/<one segment>/b`; other paths match exactly. */
function pathMatches(pattern: string, path: string): boolean {
  if (!pattern.includes('{')) return pattern === path;
  const re = new RegExp(
    `^${pattern
      .split(/\{[^}]+\}/)
      .map((p) => p.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
      .join('[^/]+')}$`,
  );
  return re.test(path);
}

/** Query parameters as a JSON object, for field-name checks (values arrive as strings on the wire). */
function queryAsJson(query: ApiRequest['query']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Asserts every recorded MLflow exchange matches its messages: request body (or query field names for
 * GET/DELETE) and response. Returns how many exchanges were checked. Fails on an MLflow path with no
 * known message, so a new endpoint cannot slip by unchecked.
 */
export function assertExchangesMatchProtos(exchanges: Exchange[]): number {
  let checked = 0;
  const problems: string[] = [];
  for (const x of exchanges) {
    if (!x.path.startsWith('/api/2.0/mlflow/')) continue;
    const m = MESSAGES.find((e) => e.method === x.method && pathMatches(e.path, x.path));
    if (!m) {
      problems.push(`no message mapping for ${x.method} ${x.path}`);
      continue;
    }
    if (x.method === 'GET' || (x.method === 'DELETE' && x.body === undefined)) {
      // Names only: query values are strings on the wire whatever the field type.
      for (const p of checkMessage(m.request, queryAsJson(x.query))) if (!/expected/.test(p)) problems.push(`${x.method} ${x.path} query: ${p}`);
    } else {
      for (const p of checkMessage(m.request, x.body ?? {})) problems.push(`${x.method} ${x.path} request: ${p}`);
    }
    for (const p of checkMessage(m.response, x.response)) problems.push(`${x.method} ${x.path} response: ${p}`);
    checked++;
  }
  assert.deepEqual(problems, [], problems.join('\n'));
  return checked;
}

/** Collects an async iterable. */
export async function toList<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export type { ApiClient };
