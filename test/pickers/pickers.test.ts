import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Mustache from 'mustache';
import { EMULATOR_DEFAULTS, startEmulator, type Emulator } from '../../src/emulator';
import { evaluateBinding, MAX_CALLS, type AuthScheme, type DataSource, type DataSourceBinding, type ServiceEndpoint } from './ado-datasource';
import { renderAdoTemplate, usesAdoHelpers } from './mustache-ado';

const ROOT = path.resolve(__dirname, '..', '..', '..');
type Json = Record<string, any>;
const readJson = (p: string): Json => JSON.parse(readFileSync(path.join(ROOT, p), 'utf8'));

const manifest = readJson('vss-extension.json');
const endpointType = manifest.contributions.find((c: Json) => c.type === 'ms.vss-endpoint.service-endpoint-type').properties;
const dataSources: DataSource[] = endpointType.dataSources;
const schemes: AuthScheme[] = endpointType.authenticationSchemes;
const TOKEN_SCHEME = 'ms.vss-endpoint.endpoint-auth-scheme-token';

const TASKS = {
  train: 'tasks/DatabricksTrainV1/task.json',
  deploy: 'tasks/DatabricksReposDeployV1/task.json',
  evaluate: 'tasks/DatabricksEvaluatePromoteV1/task.json',
  serve: 'tasks/DatabricksServingDeployV1/task.json',
} as const;
const task = (k: keyof typeof TASKS) => readJson(TASKS[k]);
const binding = (k: keyof typeof TASKS, target: string): DataSourceBinding => {
  const b = (task(k).dataSourceBindings as DataSourceBinding[]).find((x) => x.target === target);
  assert.ok(b, `${k}: no binding for ${target}`);
  return b;
};

describe('classic editor pickers: declarations', () => {
  it('the endpoint type declares exactly the jobs, clusters, Git folders, registered models, experiments and serving endpoints data sources', () => {
    assert.deepEqual(
      dataSources.map((d) => [d.name, d.resultSelector]),
      [
        ['DatabricksJobs', 'jsonpath:$.jobs[*]'],
        ['DatabricksClusters', "jsonpath:$.clusters[?(@.cluster_source != 'JOB')]"],
        ['DatabricksGitFolders', 'jsonpath:$.repos[*]'],
        ['MlflowRegisteredModels', 'jsonpath:$.registered_models[*]'],
        ['MlflowExperiments', 'jsonpath:$.experiments[*]'],
        ['DatabricksServingEndpoints', 'jsonpath:$.endpoints[*]'],
      ],
    );
    for (const d of dataSources) assert.match(d.endpointUrl, /^\{\{\{endpoint\.url\}\}\}api\/2\.\d\//, `${d.name} starts from the workspace URL with its trailing slash`);
  });

  it('binds exactly these inputs, each to the Databricks connection input', () => {
    const all = Object.fromEntries(
      (Object.keys(TASKS) as Array<keyof typeof TASKS>).map((k) => [k, (task(k).dataSourceBindings as DataSourceBinding[]).map((b) => [b.target, b.dataSourceName, b.endpointId])]),
    );
    assert.deepEqual(all, {
      train: [
        ['jobId', 'DatabricksJobs', '$(databricksConnection)'],
        ['jobName', 'DatabricksJobs', '$(databricksConnection)'],
        ['existingClusterId', 'DatabricksClusters', '$(databricksConnection)'],
      ],
      deploy: [['repoPath', 'DatabricksGitFolders', '$(databricksConnection)']],
      evaluate: [
        ['modelName', 'MlflowRegisteredModels', '$(databricksConnection)'],
        ['scoringJobId', 'DatabricksJobs', '$(databricksConnection)'],
        ['existingClusterId', 'DatabricksClusters', '$(databricksConnection)'],
      ],
      serve: [
        ['endpointName', 'DatabricksServingEndpoints', '$(databricksConnection)'],
        ['modelName', 'MlflowRegisteredModels', '$(databricksConnection)'],
      ],
    });
  });

  it('every bound input stays editable and says when the list is empty', () => {
    for (const k of Object.keys(TASKS) as Array<keyof typeof TASKS>) {
      const t = task(k);
      for (const b of t.dataSourceBindings as DataSourceBinding[]) {
        const input = t.inputs.find((i: Json) => i.name === b.target);
        assert.equal(input.type, 'pickList', `${k}.${b.target}`);
        assert.deepEqual(input.properties, { EditableOptions: 'True' }, `${k}.${b.target} must accept typed values`);
        assert.ok(input.helpMarkDown.includes('personal access token scheme'), `${k}.${b.target} help names the PAT-only limit`);
        assert.ok(input.helpMarkDown.includes('Private Link'), `${k}.${b.target} help names the private-link limit`);
        assert.ok(input.helpMarkDown.includes('You can always type the value.'), `${k}.${b.target}`);
        for (const v of Object.values(b.parameters ?? {})) {
          for (const [, name] of v.matchAll(/\$\(([^)]+)\)/g)) assert.ok(t.inputs.some((i: Json) => i.name === name), `${k}.${b.target} parameter refers to unknown input ${name}`);
        }
      }
    }
  });

  it("a binding's paging templates are its data source's (the editor pages with the binding's, the service with the source's)", () => {
    for (const k of Object.keys(TASKS) as Array<keyof typeof TASKS>) {
      for (const b of task(k).dataSourceBindings as DataSourceBinding[]) {
        const d = dataSources.find((x) => x.name === b.dataSourceName)!;
        assert.equal(b.callbackContextTemplate, d.callbackContextTemplate, `${k}.${b.target}`);
        assert.equal(b.callbackRequiredTemplate, d.callbackRequiredTemplate, `${k}.${b.target}`);
      }
    }
  });

  it('our template renderer agrees with mustache.js on every helper-free template we ship', () => {
    const templates: string[] = [];
    for (const d of dataSources) templates.push(d.endpointUrl, d.callbackContextTemplate ?? '', d.callbackRequiredTemplate ?? '');
    for (const k of Object.keys(TASKS) as Array<keyof typeof TASKS>) for (const b of task(k).dataSourceBindings as DataSourceBinding[]) templates.push(b.resultTemplate ?? '');
    for (const s of schemes) for (const h of s.headers ?? []) templates.push(h.value);
    const views = [
      { endpoint: { url: 'https://adb-1.2.azuredatabricks.net/', apitoken: 'dapi<&>' } },
      { endpoint: { url: 'https://x/' }, page_token: 'eyJvZmZzZXQiOjEwMH0=', next_page_token: 'abc', result: { next_page_token: 'n/x=' } },
      { job_id: 42, settings: { name: 'train "churn" <nightly>' }, cluster_id: '0101-a', cluster_name: 'ml', state: 'RUNNING', path: '/Repos/a/b', branch: '', name: 'main.ml.churn' },
      { path: '/Repos/a/b', branch: 'feature/x', result: {} },
    ];
    let compared = 0;
    for (const t of templates.filter((x) => x && !usesAdoHelpers(x))) {
      for (const v of views) {
        assert.equal(renderAdoTemplate(t, v), Mustache.render(t, v), `template ${t}`);
        compared++;
      }
    }
    assert.ok(compared >= 40, `compared ${compared}`);
  });

  it("the ADO equals helper picks the branch on the parameter's value", () => {
    const t = "a/{{#equals registry 'unityCatalog'}}uc/{{else}}ws/{{/equals}}b";
    assert.equal(renderAdoTemplate(t, { registry: 'unityCatalog' }), 'a/uc/b');
    assert.equal(renderAdoTemplate(t, { registry: 'workspace' }), 'a/ws/b');
    assert.equal(renderAdoTemplate(t, {}), 'a/ws/b');
    assert.throws(() => renderAdoTemplate('{{#if x}}y{{/if}}', {}), /unsupported helper/);
  });
});

describe('classic editor pickers against the workspace emulator', () => {
  let emu: Emulator;
  let endpoint: ServiceEndpoint;
  const run = (b: DataSourceBinding, form?: Record<string, string>) => evaluateBinding({ binding: b, dataSources, schemes, endpoint, form });
  const listCalls = (p: string) => emu.requests.filter((r) => r.path === p);

  beforeEach(async () => {
    emu = await startEmulator();
    endpoint = { url: `${emu.url}/`, scheme: TOKEN_SCHEME, authorization: { apitoken: EMULATOR_DEFAULTS.pat } };
  });
  afterEach(async () => {
    await emu.close();
  });

  it('Train jobId: job name and id shown, job_id kept, one jobs/list call as the token user', async () => {
    const a = emu.jobs.createJob({ name: 'churn-train' });
    const b = emu.jobs.createJob({ name: 'churn-score' });
    const { items, urls } = await run(binding('train', 'jobId'));
    assert.deepEqual(items, [
      { Value: String(a), DisplayValue: `churn-train (${a})` },
      { Value: String(b), DisplayValue: `churn-score (${b})` },
    ]);
    assert.deepEqual(urls, [`${emu.url}/api/2.2/jobs/list?limit=100`]);
    const calls = listCalls('/api/2.2/jobs/list');
    assert.deepEqual(
      calls.map((c) => [c.method, c.query, c.status, c.principal]),
      [['GET', { limit: '100' }, 200, EMULATOR_DEFAULTS.patPrincipal]],
    );
    assert.deepEqual(emu.writes(), []);
  });

  it('Train jobName: the job names as values', async () => {
    emu.jobs.createJob({ name: 'churn-train' });
    emu.jobs.createJob({ name: 'Nightly / retrain & score' });
    const { items } = await run(binding('train', 'jobName'));
    assert.deepEqual(items, [
      { Value: 'churn-train', DisplayValue: 'churn-train' },
      { Value: 'Nightly / retrain & score', DisplayValue: 'Nightly / retrain & score' },
    ]);
  });

  it('jobs page with page_token until next_page_token is absent', async () => {
    const ids = Array.from({ length: 230 }, (_, i) => emu.jobs.createJob({ name: `job-${i}` }));
    const { items, urls } = await run(binding('train', 'jobId'));
    assert.deepEqual(
      items.map((i) => i.Value),
      ids.map(String),
    );
    assert.equal(urls.length, 3);
    const calls = listCalls('/api/2.2/jobs/list');
    assert.equal(calls.length, 3);
    assert.deepEqual(calls[0].query, { limit: '100' });
    assert.equal(calls[1].query.limit, '100');
    assert.equal(typeof calls[1].query.page_token, 'string');
    assert.notEqual(calls[2].query.page_token, calls[1].query.page_token);
  });

  it(`paging stops at the service's ${MAX_CALLS} calls (the first 500 jobs)`, async () => {
    const ids = Array.from({ length: 620 }, (_, i) => emu.jobs.createJob({ name: `job-${i}` }));
    const { items } = await run(binding('evaluate', 'scoringJobId'));
    assert.equal(listCalls('/api/2.2/jobs/list').length, MAX_CALLS);
    assert.deepEqual(
      items.map((i) => i.Value),
      ids.slice(0, 500).map(String),
    );
  });

  it('an empty workspace gives an empty list from one call (jobs, clusters, Git folders, models)', async () => {
    for (const [k, target] of [
      ['train', 'jobId'],
      ['train', 'existingClusterId'],
      ['deploy', 'repoPath'],
      ['evaluate', 'modelName'],
    ] as const) {
      const { items, urls } = await run(binding(k, target), { registry: 'workspace' });
      assert.deepEqual(items, [], `${k}.${target}`);
      assert.equal(urls.length, 1, `${k}.${target}`);
    }
  });

  it('existingClusterId (Train and Evaluate): all-purpose clusters by name and state, job clusters left out', async () => {
    const ml = emu.clusters.addCluster({ name: 'ml-shared', state: 'RUNNING', source: 'UI' });
    emu.clusters.addCluster({ name: 'job-123-run-456', state: 'RUNNING', source: 'JOB' });
    const api = emu.clusters.addCluster({ name: 'ci-cluster', state: 'TERMINATED', source: 'API' });
    const expected = [
      { Value: ml.cluster_id, DisplayValue: 'ml-shared (RUNNING)' },
      { Value: api.cluster_id, DisplayValue: 'ci-cluster (TERMINATED)' },
    ];
    assert.deepEqual((await run(binding('train', 'existingClusterId'))).items, expected);
    assert.deepEqual((await run(binding('evaluate', 'existingClusterId'))).items, expected);
    assert.deepEqual(
      listCalls('/api/2.0/clusters/list').map((c) => [c.method, c.query, c.status]),
      [
        ['GET', {}, 200],
        ['GET', {}, 200],
      ],
    );
  });

  it('Deploy repoPath: Git folder paths with their branch, following next_page_token', async () => {
    const url = 'https://dev.azure.com/contoso/mlops/_git/churn-model';
    emu.repos.addRemote(url, { branches: { main: 'a'.repeat(40), release: 'b'.repeat(40) } });
    emu.repos.pageSize = 2;
    emu.repos.addRepo({ path: '/Repos/Staging/churn-model', url, provider: 'azureDevOpsServices' });
    emu.repos.addRepo({ path: '/Repos/Production/churn-model', url, provider: 'azureDevOpsServices', branch: 'release' });
    emu.repos.addRepo({ path: '/Repos/CI/churn-model-981', url, provider: 'azureDevOpsServices' });
    const { items, urls } = await run(binding('deploy', 'repoPath'));
    assert.deepEqual(items, [
      { Value: '/Repos/Staging/churn-model', DisplayValue: '/Repos/Staging/churn-model (main)' },
      { Value: '/Repos/Production/churn-model', DisplayValue: '/Repos/Production/churn-model (release)' },
      { Value: '/Repos/CI/churn-model-981', DisplayValue: '/Repos/CI/churn-model-981 (main)' },
    ]);
    assert.equal(urls[0], `${emu.url}/api/2.0/repos`);
    const calls = listCalls('/api/2.0/repos');
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[0].query, {});
    assert.deepEqual(Object.keys(calls[1].query), ['next_page_token']);
    assert.deepEqual(
      calls.map((c) => c.status),
      [200, 200],
    );
  });

  it('Evaluate modelName: workspace registry or Unity Catalog models, following the registry input', async () => {
    emu.mlflow.createRegisteredModel('churn-classifier');
    emu.mlflow.createRegisteredModel('fraud');
    emu.mlflow.createRegisteredModel('main.ml.churn', { uc: true });
    const ws = await run(binding('evaluate', 'modelName'), { registry: 'workspace' });
    assert.deepEqual(ws.items, [
      { Value: 'churn-classifier', DisplayValue: 'churn-classifier' },
      { Value: 'fraud', DisplayValue: 'fraud' },
    ]);
    assert.deepEqual(ws.urls, [`${emu.url}/api/2.0/mlflow/registered-models/search?max_results=100`]);
    const uc = await run(binding('evaluate', 'modelName'), { registry: 'unityCatalog' });
    assert.deepEqual(uc.items, [{ Value: 'main.ml.churn', DisplayValue: 'main.ml.churn' }]);
    assert.deepEqual(uc.urls, [`${emu.url}/api/2.0/mlflow/unity-catalog/registered-models/search?max_results=100`]);
  });

  it('Serve endpointName: serving endpoints by name with their readiness, one GET /api/2.0/serving-endpoints', async () => {
    emu.serving.seedEndpoint('churn', [{ entity_name: 'main.ml.churn', entity_version: '1', traffic: 100 }]);
    emu.serving.seedEndpoint('fraud', [{ entity_name: 'main.ml.fraud', entity_version: '4', traffic: 100 }]);
    const r = await run(binding('serve', 'endpointName'));
    assert.deepEqual(r.items, [
      { Value: 'churn', DisplayValue: 'churn (READY)' },
      { Value: 'fraud', DisplayValue: 'fraud (READY)' },
    ]);
    assert.deepEqual(r.urls, [`${emu.url}/api/2.0/serving-endpoints`]);
    assert.equal(listCalls('/api/2.0/serving-endpoints').length, 1);
  });

  it('Serve modelName: the same registered models picker as Evaluate, following the registry input', async () => {
    emu.mlflow.createRegisteredModel('churn-classifier');
    emu.mlflow.createRegisteredModel('main.ml.churn', { uc: true });
    assert.deepEqual((await run(binding('serve', 'modelName'), { registry: 'unityCatalog' })).items, [{ Value: 'main.ml.churn', DisplayValue: 'main.ml.churn' }]);
    assert.deepEqual((await run(binding('serve', 'modelName'), { registry: 'workspace' })).items, [{ Value: 'churn-classifier', DisplayValue: 'churn-classifier' }]);
  });

  it('registered models page with page_token', async () => {
    const names = Array.from({ length: 130 }, (_, i) => `model-${String(i).padStart(3, '0')}`);
    for (const n of names) emu.mlflow.createRegisteredModel(n);
    const { items } = await run(binding('evaluate', 'modelName'), { registry: 'workspace' });
    assert.deepEqual(
      items.map((i) => i.Value),
      names,
    );
    const calls = listCalls('/api/2.0/mlflow/registered-models/search');
    assert.deepEqual(
      calls.map((c) => Object.keys(c.query)),
      [['max_results'], ['max_results', 'page_token']],
    );
  });

  it('experiments data source (declared for pickers; no input binds it because both experiments inputs take one per line)', async () => {
    const a = emu.mlflow.createExperiment('/Shared/churn');
    const b = emu.mlflow.createExperiment('/Users/ml@contoso.com/fraud');
    const { items, urls } = await run({
      target: 'experiment',
      endpointId: '$(databricksConnection)',
      dataSourceName: 'MlflowExperiments',
      resultTemplate: '{ "Value" : "{{{name}}}", "DisplayValue" : "{{{name}}} ({{{experiment_id}}})" }',
    });
    assert.deepEqual(items, [
      { Value: '/Shared/churn', DisplayValue: `/Shared/churn (${a})` },
      { Value: '/Users/ml@contoso.com/fraud', DisplayValue: `/Users/ml@contoso.com/fraud (${b})` },
    ]);
    assert.deepEqual(urls, [`${emu.url}/api/2.0/mlflow/experiments/search?max_results=1000`]);
    for (const e of ['Train', 'Evaluate']) {
      const t = task(e === 'Train' ? 'train' : 'evaluate');
      assert.equal(t.inputs.find((i: Json) => i.name === 'experiments').type, 'multiLine');
    }
  });

  it("needs the token scheme's Bearer header: with Azure DevOps' default header the workspace answers 401", async () => {
    emu.jobs.createJob({ name: 'churn-train' });
    const defaultScheme: AuthScheme[] = [{ type: TOKEN_SCHEME, headers: [{ name: 'Authorization', value: '{{endpoint.apitoken}}' }] }];
    await assert.rejects(
      evaluateBinding({ binding: binding('train', 'jobId'), dataSources, schemes: defaultScheme, endpoint }),
      /HTTP 401 from/,
    );
    const token = schemes.find((s) => s.type === TOKEN_SCHEME)!;
    assert.deepEqual(token.headers, [{ name: 'Authorization', value: 'Bearer {{{endpoint.apitoken}}}' }]);
    assert.equal((await run(binding('train', 'jobId'))).items.length, 1);
  });

  it('a wrong token fails the picker and lists nothing', async () => {
    emu.jobs.createJob({ name: 'churn-train' });
    endpoint = { ...endpoint, authorization: { apitoken: 'dapi-wrong' } };
    await assert.rejects(run(binding('train', 'jobId')), /HTTP 403 from .*Invalid access token/);
    assert.deepEqual(
      listCalls('/api/2.2/jobs/list').map((c) => c.status),
      [403],
    );
  });
});
