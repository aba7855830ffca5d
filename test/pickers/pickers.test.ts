import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Mustache from 'mustache';
import { EMULATOR_DEFAULTS, startEmulator, type Emulator } from '../../emulator';
import {
  evaluateBinding,
  MAX_CALLS,
  MAX_RESPONSE_BYTES,
  pagingView,
  type AuthScheme,
  type DataSource,
  type DataSourceBinding,
  type ServiceEndpoint,
} from './ado-datasource';
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
    for (const d of dataSources)
      assert.match(d.endpointUrl, /^\{\{\{endpoint\.url\}\}\}api\/2\.\d\//, `${d.name} starts from the workspace URL with its trailing slash`);
  });

  it('every data source pages on the body field next_page_token, bound as response (not result), with its page size', () => {
    const BODY_PAGING = {
      callbackRequiredTemplate: '{{#response.next_page_token}}true{{/response.next_page_token}}',
    };
    assert.deepEqual(
      dataSources.map((d) => [d.name, d.endpointUrl.replace('{{{endpoint.url}}}', ''), d.callbackContextTemplate, d.callbackRequiredTemplate]),
      [
        [
          'DatabricksJobs',
          'api/2.2/jobs/list?limit=100{{#page_token}}&page_token={{{page_token}}}{{/page_token}}',
          '{"page_token": "{{{response.next_page_token}}}"}',
          BODY_PAGING.callbackRequiredTemplate,
        ],
        [
          'DatabricksClusters',
          'api/2.1/clusters/list?page_size=25{{#page_token}}&page_token={{{page_token}}}{{/page_token}}',
          '{"page_token": "{{{response.next_page_token}}}"}',
          BODY_PAGING.callbackRequiredTemplate,
        ],
        [
          'DatabricksGitFolders',
          'api/2.0/repos{{#next_page_token}}?next_page_token={{{next_page_token}}}{{/next_page_token}}',
          '{"next_page_token": "{{{response.next_page_token}}}"}',
          BODY_PAGING.callbackRequiredTemplate,
        ],
        [
          'MlflowRegisteredModels',
          "api/2.0/mlflow/{{#equals registry 'unityCatalog'}}unity-catalog/{{/equals}}registered-models/search?max_results=100{{#page_token}}&page_token={{{page_token}}}{{/page_token}}",
          '{"page_token": "{{{response.next_page_token}}}"}',
          BODY_PAGING.callbackRequiredTemplate,
        ],
        [
          'MlflowExperiments',
          'api/2.0/mlflow/experiments/search?max_results=200{{#page_token}}&page_token={{{page_token}}}{{/page_token}}',
          '{"page_token": "{{{response.next_page_token}}}"}',
          BODY_PAGING.callbackRequiredTemplate,
        ],
        // GET /api/2.0/serving-endpoints answers every endpoint in one body: the SDK's ListEndpointsResponse has
        // no page token (@databricks/sdk-experimental dist/apis/serving/model.d.ts), so there is nothing to page.
        ['DatabricksServingEndpoints', 'api/2.0/serving-endpoints', undefined, undefined],
      ],
    );
  });

  it('paging templates read only what the server binds: response.<field>, headers.<name>, result.count', () => {
    const templates: Array<[string, string]> = [];
    for (const d of dataSources) templates.push([d.name, d.callbackContextTemplate ?? ''], [d.name, d.callbackRequiredTemplate ?? '']);
    for (const k of Object.keys(TASKS) as Array<keyof typeof TASKS>) {
      for (const b of task(k).dataSourceBindings as DataSourceBinding[])
        templates.push([`${k}.${b.target}`, b.callbackContextTemplate ?? ''], [`${k}.${b.target}`, b.callbackRequiredTemplate ?? '']);
    }
    let names = 0;
    for (const [where, t] of templates) {
      for (const [, name] of t.matchAll(/\{\{\{?\s*[#^/]?\s*([A-Za-z_][\w.-]*)/g)) {
        names++;
        assert.ok(
          /^response\.\w+$/.test(name) || /^headers\.[\w-]+$/.test(name) || name === 'result.count',
          `${where}: ${name} in ${t} is not bound by the server`,
        );
      }
    }
    assert.equal(names, 3 * (dataSources.length + 7), 'every paging template was read');
  });

  it("the server's bindings: response is the body, result is the page's {count, value}, headers by lower-case name", () => {
    const body = { jobs: [{ job_id: 1 }], next_page_token: 'n1' };
    const view = pagingView(body, ['{"Value":"1"}'], new Headers({ 'X-Ms-ContinuationToken': 'c1' }));
    assert.deepEqual(view, { response: body, result: { count: 1, value: ['{"Value":"1"}'] }, headers: { 'x-ms-continuationtoken': 'c1' } });
    assert.equal(renderAdoTemplate('{{#response.next_page_token}}true{{/response.next_page_token}}', view), 'true');
    // The templates this extension shipped before: they read the body as `result`, which the server does not do.
    assert.equal(renderAdoTemplate('{{#result.next_page_token}}true{{/result.next_page_token}}', view), '');
    assert.equal(renderAdoTemplate('{{{headers.x-ms-continuationtoken}}}|{{{result.count}}}', view), 'c1|1');
    // Databricks ends a clusters listing with next_page_token "" (ListClustersResponse): a section on "" is false.
    assert.equal(
      renderAdoTemplate('{{#response.next_page_token}}true{{/response.next_page_token}}', pagingView({ next_page_token: '' }, [], new Headers())),
      '',
    );
  });

  it('binds exactly these inputs, each to the Databricks connection input', () => {
    const all = Object.fromEntries(
      (Object.keys(TASKS) as Array<keyof typeof TASKS>).map((k) => [
        k,
        (task(k).dataSourceBindings as DataSourceBinding[]).map((b) => [b.target, b.dataSourceName, b.endpointId]),
      ]),
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
          for (const [, name] of v.matchAll(/\$\(([^)]+)\)/g))
            assert.ok(
              t.inputs.some((i: Json) => i.name === name),
              `${k}.${b.target} parameter refers to unknown input ${name}`,
            );
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
    for (const k of Object.keys(TASKS) as Array<keyof typeof TASKS>)
      for (const b of task(k).dataSourceBindings as DataSourceBinding[]) templates.push(b.resultTemplate ?? '');
    for (const s of schemes) for (const h of s.headers ?? []) templates.push(h.value);
    const views = [
      { endpoint: { url: 'https://adb-1.2.azuredatabricks.net/', apitoken: 'dapi<&>' } },
      {
        endpoint: { url: 'https://x/' },
        page_token: 'eyJvZmZzZXQiOjEwMH0=',
        next_page_token: 'abc',
        response: { next_page_token: 'n/x=' },
        result: { count: 3 },
      },
      { response: { next_page_token: '' }, result: { count: 0, value: [] }, headers: { 'x-ms-continuationtoken': 'c' } },
      {
        job_id: 42,
        settings: { name: 'train "churn" <nightly>' },
        cluster_id: '0101-a',
        cluster_name: 'ml',
        state: 'RUNNING',
        path: '/Repos/a/b',
        branch: '',
        name: 'main.ml.churn',
      },
      { path: '/Repos/a/b', branch: 'feature/x', response: {} },
    ];
    let compared = 0;
    for (const t of templates.filter((x) => x && !usesAdoHelpers(x))) {
      for (const v of views) {
        assert.equal(renderAdoTemplate(t, v), Mustache.render(t, v), `template ${t}`);
        compared++;
      }
    }
    assert.ok(compared >= 60, `compared ${compared}`);
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

  it('a binding that reads the body as result (what this extension shipped before) stops at the first page', async () => {
    Array.from({ length: 230 }, (_, i) => emu.jobs.createJob({ name: `job-${i}` }));
    const old: DataSourceBinding = {
      ...binding('train', 'jobId'),
      callbackContextTemplate: '{"page_token": "{{{result.next_page_token}}}"}',
      callbackRequiredTemplate: '{{#result.next_page_token}}true{{/result.next_page_token}}',
    };
    const { items, urls } = await run(old);
    assert.equal(items.length, 100);
    assert.deepEqual(urls, [`${emu.url}/api/2.2/jobs/list?limit=100`]);
    assert.equal((await run(binding('train', 'jobId'))).items.length, 230);
  });

  it('clusters page with page_token; the last page\'s next_page_token "" ends the listing', async () => {
    const all = Array.from({ length: 60 }, (_, i) =>
      emu.clusters.addCluster({ name: `c-${String(i).padStart(2, '0')}`, source: i % 3 === 0 ? 'JOB' : 'UI', state: i % 2 ? 'RUNNING' : 'TERMINATED' }),
    );
    const { items, urls } = await run(binding('evaluate', 'existingClusterId'));
    assert.deepEqual(
      items,
      all.filter((c) => c.cluster_source !== 'JOB').map((c) => ({ Value: c.cluster_id, DisplayValue: `${c.cluster_name} (${c.state})` })),
    );
    assert.equal(items.length, 40);
    assert.equal(urls.length, 3);
    const calls = listCalls('/api/2.1/clusters/list');
    assert.deepEqual(
      calls.map((c) => Object.keys(c.query)),
      [['page_size'], ['page_size', 'page_token'], ['page_size', 'page_token']],
    );
    assert.notEqual(calls[1].query.page_token, calls[2].query.page_token);
  });

  it(`every paged list stops at the service's ${MAX_CALLS} calls: 500 jobs, 125 clusters, 5 pages of Git folders, 500 models, 1000 experiments`, async () => {
    for (let i = 0; i < 140; i++) emu.clusters.addCluster({ name: `c-${String(i).padStart(3, '0')}` });
    const clusters = await run(binding('train', 'existingClusterId'));
    assert.equal(clusters.urls.length, MAX_CALLS);
    assert.deepEqual(
      clusters.items.map((c) => c.DisplayValue),
      Array.from({ length: 125 }, (_, i) => `c-${String(i).padStart(3, '0')} (RUNNING)`),
    );

    emu.repos.pageSize = 20;
    const url = 'https://dev.azure.com/contoso/mlops/_git/churn-model';
    emu.repos.addRemote(url, { branches: { main: 'a'.repeat(40) } });
    for (let i = 0; i < 130; i++) emu.repos.addRepo({ path: `/Repos/CI/churn-${String(i).padStart(3, '0')}`, url, provider: 'azureDevOpsServices' });
    const repos = await run(binding('deploy', 'repoPath'));
    assert.equal(repos.urls.length, MAX_CALLS);
    assert.equal(repos.items.length, 100);

    for (let i = 0; i < 620; i++) emu.mlflow.createRegisteredModel(`main.ml.m${String(i).padStart(3, '0')}`, { uc: true });
    const models = await run(binding('evaluate', 'modelName'), { registry: 'unityCatalog' });
    assert.equal(models.urls.length, MAX_CALLS);
    assert.deepEqual(
      models.items.map((m) => m.Value),
      Array.from({ length: 500 }, (_, i) => `main.ml.m${String(i).padStart(3, '0')}`),
    );

    for (let i = 0; i < 1100; i++) emu.mlflow.createExperiment(`/Shared/e${String(i).padStart(4, '0')}`);
    const experiments = await run({
      target: 'experiment',
      endpointId: '$(databricksConnection)',
      dataSourceName: 'MlflowExperiments',
      resultTemplate: '{ "Value" : "{{{name}}}", "DisplayValue" : "{{{name}}}" }',
    });
    assert.equal(experiments.urls.length, MAX_CALLS);
    assert.equal(experiments.items.length, 1000);
    assert.deepEqual(
      [
        listCalls('/api/2.1/clusters/list').length,
        listCalls('/api/2.0/repos').length,
        listCalls('/api/2.0/mlflow/unity-catalog/registered-models/search').length,
        listCalls('/api/2.0/mlflow/experiments/search').length,
      ],
      [MAX_CALLS, MAX_CALLS, MAX_CALLS, MAX_CALLS],
    );
  });

  it('with heavy items every page stays under half the 2 MB cap (the buffer pagination.md asks for)', async () => {
    const long = (n: number, c: string) => c.repeat(n);
    // Jobs: a 4096-byte name (JobSettings.name's maximum) and 25 tags (the maximum per job).
    for (let i = 0; i < 110; i++) {
      const tags = Object.fromEntries(Array.from({ length: 25 }, (_, t) => [`tag-${t}-${long(30, 'k')}`, long(100, 'v')]));
      emu.jobs.createJob({ name: `${i}-${long(4090, 'j')}`, tags, email_notifications: { on_failure: ['ml-team@contoso.com', 'oncall@contoso.com'] } } as any);
    }
    // Clusters: running, 100 executors listed, 60 Spark conf entries and 40 custom tags.
    const node = (n: number) => ({
      private_ip: `10.0.${n >> 8}.${n & 255}`,
      public_dns: '',
      node_id: long(32, 'n'),
      instance_id: long(32, 'i'),
      start_timestamp: 1700000000000,
      host_private_ip: '10.1.0.4',
    });
    for (let i = 0; i < 30; i++) {
      emu.clusters.addCluster({
        name: `heavy-${i}`,
        details: {
          executors: Array.from({ length: 100 }, (_, n) => node(n)),
          driver: node(999),
          spark_conf: Object.fromEntries(Array.from({ length: 60 }, (_, k) => [`spark.databricks.conf${k}.${long(20, 'x')}`, long(60, 'y')])),
          custom_tags: Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`tag${k}`, long(100, 't')])),
        },
      });
    }
    // Registered models: 4 KB descriptions.
    for (let i = 0; i < 110; i++) emu.mlflow.createRegisteredModel(`model-${String(i).padStart(3, '0')}`, { description: long(4096, 'd') });
    // Experiments: a 4 KB note and a few more tags.
    for (let i = 0; i < 210; i++)
      emu.mlflow.createExperiment(`/Users/ml@contoso.com/exp-${i}`, {
        'mlflow.note.content': long(4096, 'n'),
        team: 'ml',
        owner: 'ml@contoso.com',
        project: long(200, 'p'),
      });

    const sizes: Record<string, number> = {};
    const record = (what: string, r: { bodyBytes: number[] }) => (sizes[what] = Math.max(...r.bodyBytes));
    record('jobs', await run(binding('train', 'jobId')));
    record('clusters', await run(binding('train', 'existingClusterId')));
    record('models', await run(binding('evaluate', 'modelName'), { registry: 'workspace' }));
    record('experiments', await run({ target: 'experiment', endpointId: '$(databricksConnection)', dataSourceName: 'MlflowExperiments' }));
    for (const [what, bytes] of Object.entries(sizes)) {
      assert.ok(bytes > 300_000, `${what}: the fixture fills a page (${bytes} bytes)`);
      assert.ok(bytes < MAX_RESPONSE_BYTES / 2, `${what}: ${bytes} bytes per page`);
    }
  });

  it('a response over 2 MB fails the picker (the service rejects it), so page sizes matter', async () => {
    for (let i = 0; i < 120; i++) emu.mlflow.createRegisteredModel(`model-${i}`, { description: long20k(i) });
    await assert.rejects(run(binding('evaluate', 'modelName'), { registry: 'workspace' }), /response of \d+ bytes from .* exceeds the service's 2 MB limit/);
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
      listCalls('/api/2.1/clusters/list').map((c) => [c.method, c.query, c.status]),
      [
        ['GET', { page_size: '25' }, 200],
        ['GET', { page_size: '25' }, 200],
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
    assert.deepEqual((await run(binding('serve', 'modelName'), { registry: 'unityCatalog' })).items, [
      { Value: 'main.ml.churn', DisplayValue: 'main.ml.churn' },
    ]);
    assert.deepEqual((await run(binding('serve', 'modelName'), { registry: 'workspace' })).items, [
      { Value: 'churn-classifier', DisplayValue: 'churn-classifier' },
    ]);
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
    assert.deepEqual(urls, [`${emu.url}/api/2.0/mlflow/experiments/search?max_results=200`]);
    for (const e of ['Train', 'Evaluate']) {
      const t = task(e === 'Train' ? 'train' : 'evaluate');
      assert.equal(t.inputs.find((i: Json) => i.name === 'experiments').type, 'multiLine');
    }
  });

  it("needs the token scheme's Bearer header: with Azure DevOps' default header the workspace answers 401", async () => {
    emu.jobs.createJob({ name: 'churn-train' });
    const defaultScheme: AuthScheme[] = [{ type: TOKEN_SCHEME, headers: [{ name: 'Authorization', value: '{{endpoint.apitoken}}' }] }];
    await assert.rejects(evaluateBinding({ binding: binding('train', 'jobId'), dataSources, schemes: defaultScheme, endpoint }), /HTTP 401 from/);
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

/** A 20 KB model description: 100 of them make a 2 MB page. */
function long20k(i: number): string {
  return `${i} ${'d'.repeat(20_000)}`;
}
