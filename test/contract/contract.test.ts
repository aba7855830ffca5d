/**
 * Contract test: the emulator and the clients checked against references nobody here wrote (reference.ts):
 * the official Databricks JS SDK's generated services (`@databricks/sdk-experimental`) and MLflow's protos.
 *
 * 1. Every route the emulator serves has a reference endpoint of the same method and path, or is listed in
 *    EXCEPTIONS with the public source that supports it.
 * 2. Every request the clients send in a tour of their public methods (against the emulator) matches a
 *    reference endpoint: method, path, and every query and body field by name and JSON type.
 * 3. The checker can fail: a wrong path and a wrong field name are reported.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { patTokenProvider } from '../../src/databricks/auth';
import { FilesClient } from '../../src/databricks/files';
import { createApiClient } from '../../src/databricks/http';
import { JobsClient } from '../../src/databricks/jobs';
import { ReposClient } from '../../src/databricks/repos';
import { WorkspaceClient } from '../../src/databricks/workspace';
import { EMULATOR_DEFAULTS, startEmulator, type Emulator } from '../../emulator';
import { filter } from '../../src/mlflow/filter';
import { modelVersionFilter, WorkspaceModelRegistry } from '../../src/mlflow/registry';
import { MlflowTracking } from '../../src/mlflow/tracking';
import { UnityCatalogModelRegistry } from '../../src/mlflow/unity-catalog';
import { checkRequest, endpointsForPattern, referenceEndpoints, type ListedException } from './reference';

/**
 * What the references are silent about, each with the public source that supports it. Whole endpoints
 * (no `fields`) or single fields.
 */
export const EXCEPTIONS: ListedException[] = [
  // Not Databricks workspace REST APIs: the token endpoints the emulator plays for the auth tests.
  {
    method: 'POST',
    path: '/oidc/v1/token',
    source:
      'Databricks docs, "Authorize unattended access to Databricks resources with a service principal using OAuth" (workspace token endpoint /oidc/v1/token)',
  },
  {
    method: 'POST',
    path: /^\/[^/]+\/oauth2\/v2\.0\/token$/,
    source: 'Microsoft identity platform, "OAuth 2.0 client credentials flow" (POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token)',
  },
  {
    method: 'POST',
    path: /^(\/[^/]+){0,2}\/_apis\/distributedtask\/hubs\/[^/]+\/plans\/[^/]+\/jobs\/[^/]+\/oidctoken$/,
    source:
      'Azure DevOps REST API, Distributed Task "Oidctoken - Create" (POST {org}/{project}/_apis/distributedtask/hubs/{hubName}/plans/{planId}/jobs/{jobId}/oidctoken)',
  },
  // Older API versions the service still answers; the SDK only generates the current ones (2.2 / 2.1).
  {
    method: 'POST',
    path: /^\/api\/2\.1\/jobs\/(create|run-now|runs\/submit|runs\/cancel)$/,
    source: 'Databricks Jobs API 2.1 reference and "Updating from Jobs API 2.1 to 2.2" (2.1 stays available)',
  },
  {
    method: 'GET',
    path: /^\/api\/2\.1\/jobs\/(list|get|runs\/get|runs\/get-output)$/,
    source: 'Databricks Jobs API 2.1 reference and "Updating from Jobs API 2.1 to 2.2" (2.1 stays available)',
  },
  {
    method: 'GET',
    path: '/api/2.0/clusters/list',
    source: "Databricks Clusters API 2.0 (GET /api/2.0/clusters/list), used by the extension's cluster picker (vss-extension.json data source)",
  },
  // MLflow 3 registers a logged model with CreateModelVersion.model_id (source models:/<model_id>); the vendored
  // model_registry.proto (05e6cc9b) and the JS SDK 0.14.2 predate the field. Review against MLflow >= 3.0's proto.
  {
    method: 'POST',
    path: '/api/2.0/mlflow/model-versions/create',
    fields: ['model_id'],
    source:
      'MLflow 3.0 mlflow/protos/model_registry.proto CreateModelVersion.model_id (MLflow 3 migration guide: model versions link to logged models); not in the vendored copy',
  },
];

/** Emulator routes for the emulator's own tests only (none today): listed here with why they exist. */
const EMULATOR_ONLY: Array<{ method: string; pattern: string; why: string }> = [];

function excusedRoute(method: string, pattern: string): boolean {
  const sample = pattern.replace(/:(\w+)/g, 'x$1');
  return EXCEPTIONS.some((x) => x.fields === undefined && x.method === method && (typeof x.path === 'string' ? x.path === sample : x.path.test(sample)));
}

describe('contract: emulator routes and client requests vs the Databricks JS SDK and the MLflow protos', () => {
  let emu: Emulator;

  beforeEach(async () => {
    emu = await startEmulator();
  });
  afterEach(() => emu.close());

  it('reads the references: the SDK services and the vendored protos give endpoints with fields', () => {
    const all = referenceEndpoints();
    const runNow = all.find((e) => e.method === 'POST' && e.path === '/api/2.2/jobs/run-now');
    assert.ok(runNow?.bodyFields?.has('job_parameters') && runNow.bodyFields.has('idempotency_token'), 'jobs run-now body fields from the SDK');
    const upload = all.find((e) => e.method === 'PUT' && e.path === '/api/2.0/fs/files{+file_path}');
    assert.ok(upload?.queryFields?.has('overwrite') && upload.rawBody, 'files upload from the SDK');
    const setTag = all.find((e) => e.method === 'POST' && e.path === '/api/2.0/mlflow/unity-catalog/registered-models/set-tag');
    assert.equal(setTag?.bodyMessage, 'uc.SetRegisteredModelTagRequest');
    assert.ok(all.some((e) => e.method === 'GET' && e.path === '/api/2.0/mlflow/logged-models/{model_id}'));
    assert.equal(
      all.some((e) => e.path.endsWith('/unity-catalog/registered-models/tags')),
      false,
      'the old UC tag path is in no reference',
    );
  });

  it('every route the emulator serves is in a reference, or listed with its public source', () => {
    const routes = emu.router.list();
    assert.ok(routes.length > 100, `${routes.length} routes`);
    const unknown = routes.filter(
      (r) =>
        endpointsForPattern(r.method, r.pattern).length === 0 &&
        !excusedRoute(r.method, r.pattern) &&
        !EMULATOR_ONLY.some((o) => o.method === r.method && o.pattern === r.pattern),
    );
    assert.deepEqual(
      unknown.map((r) => `${r.method} ${r.pattern}`),
      [],
    );
  });

  it('every request the clients send (a tour of their public methods) matches the references by method, path, field names and types', async function () {
    this.timeout(60_000);
    const api = createApiClient({ host: emu.url, tokenProvider: patTokenProvider(EMULATOR_DEFAULTS.pat), clock: emu.linkedClock(), retry: { maxAttempts: 1 } });
    const dir = mkdtempSync(path.join(tmpdir(), 'contract-'));
    try {
      // Workspace and Repos.
      const ws = new WorkspaceClient(api);
      await ws.mkdirs('/Shared/contract');
      await ws.importFile({
        path: '/Shared/contract/nb',
        content: '# Databricks notebook source\nprint(1)\n',
        format: 'SOURCE',
        language: 'PYTHON',
        overwrite: true,
      });
      await ws.getStatus('/Shared/contract/nb');
      await ws.list('/Shared/contract');
      await ws.exportFile('/Shared/contract/nb');
      await ws.delete('/Shared/contract/nb', { recursive: false });
      const repos = new ReposClient(api);
      const url = 'https://dev.azure.com/org/proj/_git/churn';
      emu.repos.addRemote(url, { branches: { main: 'a'.repeat(40), dev: 'b'.repeat(40) }, tags: { v1: 'c'.repeat(40) } });
      emu.repos.grantGitCredential(EMULATOR_DEFAULTS.patPrincipal, 'azureDevOpsServices');
      const repo = await repos.createRepo({ url, provider: 'azureDevOpsServices', path: '/Repos/Staging/churn' });
      await repos.getRepo(repo.id);
      await repos.updateRepo(repo.id, { branch: 'dev' });
      await repos.updateRepo(repo.id, { tag: 'v1' });
      await repos.findByPath('/Repos/Staging/churn');
      for await (const _ of repos.listRepos({ pathPrefix: '/Repos/Staging' })) void _;
      await repos.deleteRepo(repo.id);

      // Jobs.
      const jobs = new JobsClient(api, { clock: emu.linkedClock() });
      emu.jobs.durations = { queuedMs: 0, pendingMs: 1, runningMs: 1, terminatingMs: 1 };
      emu.jobs.notebooks.register('/Shared/contract/nb', () => ({ exitValue: '{"ok": true}' }));
      const jobId = emu.jobs.createJob({
        name: 'contract',
        parameters: [{ name: 'p', default: '' }],
        tasks: [{ task_key: 't', notebook_task: { notebook_path: '/Shared/contract/nb' } }],
      });
      for await (const _ of jobs.listJobs({ name: 'contract', expandTasks: true })) void _;
      await jobs.getJob(jobId);
      const { run_id } = await jobs.runNow({ job_id: jobId, job_parameters: { p: 'x' }, idempotency_token: 'contract-1' });
      const done = await jobs.waitForRunTerminated(run_id, { timeoutMs: 60_000, initialIntervalMs: 5, maxIntervalMs: 10 });
      await jobs.getRunOutput(done.tasks![0].run_id);
      const submitted = await jobs.submitRun({
        run_name: 'contract',
        timeout_seconds: 60,
        idempotency_token: 'contract-2',
        tasks: [
          {
            task_key: 's',
            notebook_task: { notebook_path: '/Shared/contract/nb', source: 'WORKSPACE', base_parameters: { a: 'b' } },
            existing_cluster_id: '0123-456789-abcdefgh',
          },
        ],
      });
      await jobs.getRun(submitted.run_id);
      await jobs.cancelRun(submitted.run_id);

      // Files: volumes and DBFS, small and block-wise uploads.
      const files = new FilesClient(api);
      await files.upload('/Volumes/main/ml/scratch/a.bin', Buffer.from('abc'), { overwrite: true });
      await files.getStatus('/Volumes/main/ml/scratch/a.bin');
      await files.download('/Volumes/main/ml/scratch/a.bin', path.join(dir, 'a.bin'));
      await files.delete('/Volumes/main/ml/scratch/a.bin');
      await files.upload('dbfs:/contract/b.bin', Buffer.alloc(1024 * 1024 + 10, 1), { overwrite: true });
      await files.upload('dbfs:/contract/c.bin', Buffer.from('c'), { overwrite: true });
      await files.getStatus('dbfs:/contract/b.bin');
      await files.download('dbfs:/contract/b.bin', path.join(dir, 'b.bin'));
      await files.delete('dbfs:/contract/b.bin');

      // MLflow tracking (MLflow 2 and 3 runs).
      const tracking = new MlflowTracking(api, { clock: emu.linkedClock() });
      const expId = await tracking.createExperiment('/Shared/contract-exp', { tags: [{ key: 'team', value: 'ml' }] });
      await tracking.getExperimentByName('/Shared/contract-exp');
      await tracking.getExperiment(expId);
      await tracking.resolveExperiment('/Shared/contract-exp');
      const r2 = emu.mlflow.createRun({ experimentId: expId, tags: { candidate: 'true' }, artifacts: ['model/MLmodel'] });
      const r3 = emu.mlflow.createRun({ experimentId: expId, loggedModels: ['model'] });
      for await (const _ of tracking.searchRuns({
        experimentIds: [expId],
        filter: filter().tag('candidate', '=', 'true'),
        runViewType: 'ACTIVE_ONLY',
        maxResults: 10,
      }))
        void _;
      await tracking.getRun(r2.info.run_id);
      await tracking.findRun(r2.info.run_id);
      await tracking.setTag(r2.info.run_id, 'k', 'v');
      await tracking.deleteTag(r2.info.run_id, 'k');
      await tracking.logBatch(r2.info.run_id, { metrics: [{ key: 'auc', value: 0.9 }], params: [{ key: 'p', value: '1' }], tags: [{ key: 't', value: 'x' }] });
      for await (const _ of tracking.listArtifacts(r2.info.run_id, 'model')) void _;
      const m2 = await tracking.findRunModel({ info: r2.info as never });
      const m3 = await tracking.findRunModel({ info: r3.info as never });
      for await (const _ of tracking.searchLoggedModels({ experimentIds: [expId], maxResults: 10 })) void _;
      assert.equal(m2?.generation, 2);
      assert.equal(m3?.generation, 3);

      // Workspace registry (MLflow 2 and MLflow 3 registrations).
      emu.mlflow.setVersionReadyDelayMs(0);
      const reg = new WorkspaceModelRegistry(api, { clock: emu.linkedClock() });
      await reg.createRegisteredModel('churn', { description: 'd', tags: [{ key: 'team', value: 'ml' }] });
      await reg.getRegisteredModel('churn');
      const v1 = await reg.createModelVersion({ name: 'churn', source: m2!.source, runId: r2.info.run_id, description: 'x', tags: [{ key: 'a', value: 'b' }] });
      const v2 = await reg.createModelVersion({
        name: 'churn',
        source: m3!.source,
        runId: r3.info.run_id,
        modelId: m3!.generation === 3 ? m3!.modelId : undefined,
      });
      await reg.getModelVersion('churn', v1.version);
      await reg.waitForVersionReady('churn', v2.version, { timeoutMs: 10_000, initialIntervalMs: 5 });
      for await (const _ of reg.searchModelVersions(modelVersionFilter({ name: 'churn' }), { maxResults: 100 })) void _;
      for await (const _ of reg.searchModelVersions(modelVersionFilter({ runId: r2.info.run_id }))) void _;
      await reg.updateModelVersion('churn', v1.version, { description: 'y' });
      await reg.setModelVersionTag('churn', v1.version, 'mlops.evaluation.metric', 'roc_auc');
      await reg.setRegisteredModelTag('churn', 'mlops.promotion.claim', 'c');
      await reg.deleteRegisteredModelTag('churn', 'mlops.promotion.claim');
      await reg.transitionStage({ name: 'churn', version: v1.version, stage: 'Production', archiveExistingVersions: true, comment: 'why' });
      await reg.getLatestVersions('churn', ['Production']);

      // Unity Catalog registry.
      emu.mlflow.setUcRequireFinalize(false);
      const uc = new UnityCatalogModelRegistry(api, { clock: emu.linkedClock(), workspaceId: '1234567890' });
      await uc.createRegisteredModel('main.ml.churn');
      await uc.getRegisteredModel('main.ml.churn');
      const u1 = await uc.createModelVersion({ name: 'main.ml.churn', source: m2!.source, runId: r2.info.run_id, description: 'x' });
      await uc.finalizeModelVersion('main.ml.churn', u1.version);
      await uc.getModelVersion('main.ml.churn', u1.version);
      for await (const _ of uc.searchModelVersions(modelVersionFilter({ name: 'main.ml.churn' }))) void _;
      await uc.updateModelVersion('main.ml.churn', u1.version, { description: 'y' });
      await uc.setModelVersionTag('main.ml.churn', u1.version, 'mlops_metric', 'roc_auc');
      await uc.deleteModelVersionTag('main.ml.churn', u1.version, 'mlops_metric');
      await uc.setRegisteredModelTag('main.ml.churn', 'mlops_promotion_claim', 'c');
      await uc.deleteRegisteredModelTag('main.ml.churn', 'mlops_promotion_claim');
      await uc.setAlias('main.ml.churn', 'champion', u1.version);
      await uc.getModelVersionByAlias('main.ml.churn', 'champion');
      await uc.deleteAlias('main.ml.churn', 'champion');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const requests = emu.requests.filter((q) => q.path.startsWith('/api/'));
    const distinct = new Set(requests.map((q) => `${q.method} ${q.path.replace(/\/(Volumes|contract)\/.*$/, '/…').replace(/m-[0-9a-f]{32}/, '{model_id}')}`));
    assert.ok(distinct.size >= 60, `the tour covers ${distinct.size} distinct calls`);
    const problems = requests.flatMap((q) =>
      checkRequest({ method: q.method, path: q.path, query: q.query, body: q.rawBody ? undefined : q.body }, EXCEPTIONS),
    );
    assert.deepEqual([...new Set(problems)], []);
    // Each of those checks can fail: the same request with one field the reference does not know is reported.
    let mutated = 0;
    for (const q of requests) {
      const jsonBody = !q.rawBody && q.body && typeof q.body === 'object' && !Array.isArray(q.body);
      const req = jsonBody
        ? { method: q.method, path: q.path, query: q.query, body: { ...q.body, zz_unknown_field: 'x' } }
        : { method: q.method, path: q.path, query: { ...q.query, zz_unknown_field: 'x' }, body: q.rawBody ? undefined : q.body };
      const found = checkRequest(req, EXCEPTIONS);
      assert.ok(found.length > 0 && found.every((p) => p.includes('zz_unknown_field')), `${q.method} ${q.path}: ${JSON.stringify(found)}`);
      mutated++;
    }
    assert.equal(mutated, requests.length);
  });

  it('the checker fails a deliberately wrong path and a wrong field name (and a wrong type), and accepts the right request', () => {
    const right = {
      method: 'POST',
      path: '/api/2.0/mlflow/unity-catalog/registered-models/set-tag',
      body: { name: 'main.ml.churn', key: 'mlops_promotion_claim', value: 'c' },
    };
    assert.deepEqual(checkRequest(right, EXCEPTIONS), []);
    // The old UC path (an earlier commit of databricks_uc_registry_service.proto) is in no reference.
    assert.deepEqual(checkRequest({ ...right, path: '/api/2.0/mlflow/unity-catalog/registered-models/tags' }, EXCEPTIONS), [
      'POST /api/2.0/mlflow/unity-catalog/registered-models/tags: no endpoint of the references (JS SDK jobs, workspace, files, compute, catalog, ml, serving; MLflow protos) has this method and path',
    ]);
    // A misspelt field.
    assert.deepEqual(checkRequest({ ...right, body: { name: 'main.ml.churn', key: 'k', valeu: 'c' } }, EXCEPTIONS), [
      "POST /api/2.0/mlflow/unity-catalog/registered-models/set-tag (proto:databricks_uc_registry_service.proto SetRegisteredModelTag): uc.SetRegisteredModelTagRequest.valeu: no field 'valeu' in uc.SetRegisteredModelTagRequest",
    ]);
    // SDK references: a wrong field name and a wrong type in a Jobs request; a query field sent to the body.
    assert.deepEqual(checkRequest({ method: 'POST', path: '/api/2.2/jobs/run-now', body: { job_id: 1, job_parameter: { a: 'b' } } }, EXCEPTIONS).length, 1);
    assert.match(
      checkRequest({ method: 'POST', path: '/api/2.2/jobs/run-now', body: { job_id: '1' } }, EXCEPTIONS)[0],
      /body\.job_id: expected a number, got "1"/,
    );
    assert.match(
      checkRequest({ method: 'GET', path: '/api/2.2/jobs/get', query: { job_id: '1', jobid: '1' } }, EXCEPTIONS)[0],
      /query field 'jobid' is not in the reference/,
    );
    // A mutated client request: the MLflow 3 model_id field excused only on the endpoint it is listed for.
    assert.deepEqual(
      checkRequest(
        { method: 'POST', path: '/api/2.0/mlflow/model-versions/create', body: { name: 'churn', source: 'models:/m-1', model_id: 'm-1' } },
        EXCEPTIONS,
      ),
      [],
    );
    assert.equal(
      checkRequest({ method: 'POST', path: '/api/2.0/mlflow/model-versions/create', body: { name: 'churn', source: 'models:/m-1', model_id: 'm-1' } }, [])
        .length,
      1,
    );
    assert.equal(
      checkRequest(
        { method: 'POST', path: '/api/2.0/mlflow/unity-catalog/model-versions/create', body: { name: 'a.b.c', source: 'models:/m-1', model_id: 'm-1' } },
        EXCEPTIONS,
      ).length,
      1,
    );
  });
});
