import assert from 'node:assert/strict';
import { filter } from '../../src/mlflow/filter';
import { MlflowTracking } from '../../src/mlflow/tracking';
import { tagValue } from '../../src/mlflow/types';
import { assertExchangesMatchProtos, startContext, toList, type TestContext } from './helpers';
import { rejectsWith } from '../helpers/rejects';

describe('MlflowTracking against the emulator', () => {
  let ctx: TestContext;
  let mlflow: MlflowTracking;
  let expId: string;

  beforeEach(async () => {
    ctx = await startContext();
    mlflow = new MlflowTracking(ctx.api, { clock: { now: () => ctx.emu.clock.now() } });
    expId = ctx.emu.mlflow.createExperiment('/Shared/churn');
  });
  afterEach(async () => {
    // Every exchange of every test conforms to the MLflow protos (request and response).
    try {
      assertExchangesMatchProtos(ctx.exchanges);
    } finally {
      await ctx.emu.close();
    }
  });

  it('getExperimentByName(name) returns the experiment with a string id, and undefined for 404 RESOURCE_DOES_NOT_EXIST', async () => {
    const exp = await mlflow.getExperimentByName('/Shared/churn');
    assert.equal(exp?.experiment_id, expId);
    assert.equal(typeof exp?.experiment_id, 'string');
    assert.equal(exp?.name, '/Shared/churn');
    assert.equal(exp?.lifecycle_stage, 'active');
    assert.equal(await mlflow.getExperimentByName('/Shared/missing'), undefined);
    const calls = ctx.emu.callsTo('GET', '/api/2.0/mlflow/experiments/get-by-name');
    assert.deepEqual(
      calls.map((c) => [c.query, c.status]),
      [
        [{ experiment_name: '/Shared/churn' }, 200],
        [{ experiment_name: '/Shared/missing' }, 404],
      ],
    );
    assert.equal(ctx.exchanges.length, 1, 'the 404 is not a successful exchange');
  });

  it('getExperimentByName fails closed: a persistent 503 is thrown (after retries), never reported as "not found"', async () => {
    ctx.emu.faults.add({ path: '/api/2.0/mlflow/experiments/get-by-name', kind: 'status', status: 503, times: Infinity });
    await rejectsWith(mlflow.getExperimentByName('/Shared/churn'), 503, 'TEMPORARILY_UNAVAILABLE');
    assert.equal(ctx.emu.callsTo('GET', '/api/2.0/mlflow/experiments/get-by-name').length, 6, 'GET retried up to the policy maximum of 6 attempts');
  });

  it('getExperimentByName: 404 with another error code (ENDPOINT_NOT_FOUND) is thrown, not undefined', async () => {
    ctx.emu.faults.add({ path: '/api/2.0/mlflow/experiments/get-by-name', kind: 'status', status: 404, errorCode: 'ENDPOINT_NOT_FOUND' });
    await rejectsWith(mlflow.getExperimentByName('/Shared/churn'), 404, 'ENDPOINT_NOT_FOUND');
  });

  it('resolveExperiment(pathOrId) resolves a path and an id, and names the problem otherwise', async () => {
    assert.equal((await mlflow.resolveExperiment('/Shared/churn')).experiment_id, expId);
    assert.equal((await mlflow.resolveExperiment(expId)).name, '/Shared/churn');
    await assert.rejects(mlflow.resolveExperiment('/Shared/nope'), /MLflow experiment "\/Shared\/nope" does not exist in this workspace\./);
    await assert.rejects(mlflow.resolveExperiment('99999'), /MLflow experiment "99999" does not exist/);
    const before = ctx.emu.requests.length;
    await assert.rejects(mlflow.resolveExperiment('churn'), /neither a workspace path \(e\.g\. \/Shared\/my-experiment\) nor a numeric experiment id/);
    assert.equal(ctx.emu.requests.length, before, 'an invalid reference sends no request');
  });

  it('searchRuns follows next_page_token over several pages, sending max_results and the token in the POST body', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(ctx.emu.mlflow.createRun({ experimentId: expId, runName: `r${i}`, startTime: 1_000 + i, tags: { candidate: 'true' } }).info.run_id);
    }
    const runs = await toList(mlflow.searchRuns({ experimentIds: [expId], filter: filter().tag('candidate', '=', 'true'), maxResults: 2 }));
    // Default order: start_time DESC.
    assert.deepEqual(
      runs.map((r) => r.info.run_id),
      [...ids].reverse(),
    );
    const bodies = ctx.emu.callsTo('POST', '/api/2.0/mlflow/runs/search').map((c) => c.body);
    assert.equal(bodies.length, 3);
    assert.deepEqual(bodies[0], { experiment_ids: [expId], filter: "tags.`candidate` = 'true'", max_results: 2 });
    assert.equal(typeof bodies[1].page_token, 'string');
    assert.deepEqual({ ...bodies[1], page_token: undefined }, { ...bodies[0], page_token: undefined });
    assert.notEqual(bodies[2].page_token, bodies[1].page_token);
    // The last page carried no next_page_token.
    const last = ctx.exchanges.filter((x) => x.path === '/api/2.0/mlflow/runs/search').at(-1)!.response as Record<string, unknown>;
    assert.equal('next_page_token' in last, false);
    assert.equal((last.runs as unknown[]).length, 1);
  });

  it('searchRuns is iterable twice (fresh requests) and stops at limit', async () => {
    for (let i = 0; i < 3; i++) ctx.emu.mlflow.createRun({ experimentId: expId, startTime: 10 + i });
    const it = mlflow.searchRuns({ experimentIds: [expId], maxResults: 1, limit: 2 });
    assert.equal((await toList(it)).length, 2);
    assert.equal((await toList(it)).length, 2);
    assert.equal(ctx.emu.callsTo('POST', '/api/2.0/mlflow/runs/search').length, 4);
  });

  it('searchRuns with no hits: the emulator answers {} and the iterator is empty', async () => {
    ctx.emu.mlflow.createRun({ experimentId: expId, tags: { candidate: 'false' } });
    const runs = await toList(mlflow.searchRuns({ experimentIds: [expId], filter: filter().tag('candidate', '=', 'true') }));
    assert.deepEqual(runs, []);
    assert.deepEqual(ctx.exchanges.at(-1)!.response, {});
  });

  it('searchRuns is marked idempotent: a 503 on runs/search is retried and the search succeeds', async () => {
    const run = ctx.emu.mlflow.createRun({ experimentId: expId });
    ctx.emu.faults.add({ path: '/api/2.0/mlflow/runs/search', kind: 'status', status: 503 });
    const runs = await toList(mlflow.searchRuns({ experimentIds: [expId] }));
    assert.deepEqual(
      runs.map((r) => r.info.run_id),
      [run.info.run_id],
    );
    assert.deepEqual(
      ctx.emu.callsTo('POST', '/api/2.0/mlflow/runs/search').map((c) => c.status),
      [503, 200],
    );
  });

  it('a filter-injection value is matched literally: only the run whose tag equals the hostile string is found', async () => {
    const hostile = "x' OR '1'='1";
    const target = ctx.emu.mlflow.createRun({ experimentId: expId, tags: { owner: hostile } });
    ctx.emu.mlflow.createRun({ experimentId: expId, tags: { owner: 'x' } });
    ctx.emu.mlflow.createRun({ experimentId: expId, tags: { owner: '1' } });
    const f = filter().tag('owner', '=', hostile);
    assert.equal(f.toString(), "tags.`owner` = \"x' OR '1'='1\"");
    const runs = await toList(mlflow.searchRuns({ experimentIds: [expId], filter: f }));
    assert.deepEqual(
      runs.map((r) => r.info.run_id),
      [target.info.run_id],
    );
  });

  it('backslashes and double quotes in values and odd keys stay literal', async () => {
    const value = 'C:\\data\\"raw"';
    const target = ctx.emu.mlflow.createRun({ experimentId: expId, tags: { 'data path.v-2': value }, params: { 'lr rate': '0.1' } });
    ctx.emu.mlflow.createRun({ experimentId: expId, tags: { 'data path.v-2': 'C:\\data' }, params: { 'lr rate': '0.1' } });
    const runs = await toList(mlflow.searchRuns({ experimentIds: [expId], filter: filter().tag('data path.v-2', '=', value).param('lr rate', '=', '0.1') }));
    assert.deepEqual(
      runs.map((r) => r.info.run_id),
      [target.info.run_id],
    );
  });

  it('metrics, attributes, LIKE and order_by work together', async () => {
    const a = ctx.emu.mlflow.createRun({ experimentId: expId, runName: 'gbm-a', metrics: { auc: 0.91 }, status: 'FINISHED', startTime: 100 });
    const b = ctx.emu.mlflow.createRun({ experimentId: expId, runName: 'gbm-b', metrics: { auc: 0.95 }, status: 'FINISHED', startTime: 200 });
    ctx.emu.mlflow.createRun({ experimentId: expId, runName: 'gbm-c', metrics: { auc: 0.99 }, status: 'FAILED', startTime: 300 });
    ctx.emu.mlflow.createRun({ experimentId: expId, runName: 'lr-d', metrics: { auc: 0.97 }, status: 'FINISHED', startTime: 400 });
    ctx.emu.mlflow.createRun({ experimentId: expId, runName: 'gbm-e', status: 'FINISHED', startTime: 500 });
    const f = filter().attribute('status', '=', 'FINISHED').attribute('run_name', 'LIKE', 'gbm-%').metric('auc', '>', 0.9);
    const runs = await toList(mlflow.searchRuns({ experimentIds: [expId], filter: f, orderBy: ['metrics.`auc` DESC'] }));
    assert.deepEqual(
      runs.map((r) => r.info.run_name),
      ['gbm-b', 'gbm-a'],
    );
    assert.deepEqual(
      runs.map((r) => r.info.run_id),
      [b.info.run_id, a.info.run_id],
    );
  });

  it('a raw OR filter is rejected by the emulator with 400 INVALID_PARAMETER_VALUE (and not retried)', async () => {
    await rejectsWith(
      toList(mlflow.searchRuns({ experimentIds: [expId], filter: "tags.a = 'x' OR tags.b = 'y'" })),
      400,
      'INVALID_PARAMETER_VALUE',
      /'OR' is not supported/,
    );
    assert.equal(ctx.emu.callsTo('POST', '/api/2.0/mlflow/runs/search').length, 1);
  });

  it('searchRuns validates its arguments before sending anything', () => {
    assert.throws(() => mlflow.searchRuns({ experimentIds: [] }), /at least one experiment id/);
    assert.throws(() => mlflow.searchRuns({ experimentIds: [expId], maxResults: 0 }), /maxResults must be an integer from 1 to 50000/);
    assert.equal(ctx.emu.requests.length, 0);
  });

  it('getRun returns the run; findRun maps only RESOURCE_DOES_NOT_EXIST to undefined', async () => {
    const seeded = ctx.emu.mlflow.createRun({ experimentId: expId, runName: 'r', metrics: { auc: 0.8 }, params: { seed: '7' }, tags: { candidate: 'true' } });
    const run = await mlflow.getRun(seeded.info.run_id);
    assert.equal(run.info.experiment_id, expId);
    assert.deepEqual(
      run.data?.metrics?.map((m) => [m.key, m.value]),
      [['auc', 0.8]],
    );
    assert.deepEqual(run.data?.params, [{ key: 'seed', value: '7' }]);
    assert.equal(tagValue(run, 'candidate'), 'true');
    assert.equal(await mlflow.findRun('0'.repeat(32)), undefined);
    await rejectsWith(mlflow.getRun('0'.repeat(32)), 404, 'RESOURCE_DOES_NOT_EXIST');
    ctx.emu.faults.add({ path: '/api/2.0/mlflow/runs/get', kind: 'status', status: 403, errorCode: 'PERMISSION_DENIED' });
    await rejectsWith(mlflow.findRun(seeded.info.run_id), 403, 'PERMISSION_DENIED');
  });

  it('setTag and deleteTag change the run and send exactly {run_id, key, value} / {run_id, key}', async () => {
    const run = ctx.emu.mlflow.createRun({ experimentId: expId });
    await mlflow.setTag(run.info.run_id, 'candidate', 'true');
    assert.equal(ctx.emu.mlflow.runTags(run.info.run_id).candidate, 'true');
    await mlflow.deleteTag(run.info.run_id, 'candidate');
    assert.equal(ctx.emu.mlflow.runTags(run.info.run_id).candidate, undefined);
    assert.deepEqual(
      ctx.emu.callsTo('POST', '/api/2.0/mlflow/runs/set-tag').map((c) => c.body),
      [{ run_id: run.info.run_id, key: 'candidate', value: 'true' }],
    );
    assert.deepEqual(
      ctx.emu.callsTo('POST', '/api/2.0/mlflow/runs/delete-tag').map((c) => c.body),
      [{ run_id: run.info.run_id, key: 'candidate' }],
    );
  });

  it('setTag is idempotent and retried after a 503', async () => {
    const run = ctx.emu.mlflow.createRun({ experimentId: expId });
    ctx.emu.faults.add({ path: '/api/2.0/mlflow/runs/set-tag', kind: 'status', status: 503 });
    await mlflow.setTag(run.info.run_id, 'candidate', 'true');
    assert.deepEqual(
      ctx.emu.callsTo('POST', '/api/2.0/mlflow/runs/set-tag').map((c) => c.status),
      [503, 200],
    );
    assert.equal(ctx.emu.mlflow.runTags(run.info.run_id).candidate, 'true');
  });

  it('logBatch logs metrics (timestamp from the clock, step 0), params and tags', async () => {
    const run = ctx.emu.mlflow.createRun({ experimentId: expId, status: 'RUNNING' });
    const now = ctx.emu.clock.now();
    await mlflow.logBatch(run.info.run_id, {
      metrics: [{ key: 'auc', value: 0.75 }],
      params: [{ key: 'depth', value: '6' }],
      tags: [{ key: 'stage', value: 'train' }],
    });
    const body = ctx.emu.callsTo('POST', '/api/2.0/mlflow/runs/log-batch')[0].body;
    assert.deepEqual(body, {
      run_id: run.info.run_id,
      metrics: [{ key: 'auc', value: 0.75, timestamp: body.metrics[0].timestamp, step: 0 }],
      params: [{ key: 'depth', value: '6' }],
      tags: [{ key: 'stage', value: 'train' }],
    });
    assert.ok(body.metrics[0].timestamp >= now && body.metrics[0].timestamp < now + 5000);
    const stored = ctx.emu.mlflow.getRun(run.info.run_id)!;
    assert.deepEqual(
      stored.data.metrics!.map((m: { key: string; value: number }) => [m.key, m.value]),
      [['auc', 0.75]],
    );
    assert.deepEqual(stored.data.params, [{ key: 'depth', value: '6' }]);
  });

  it('logBatch is not idempotent: a 503 is not retried (one call, error surfaced)', async () => {
    const run = ctx.emu.mlflow.createRun({ experimentId: expId, status: 'RUNNING' });
    ctx.emu.faults.add({ path: '/api/2.0/mlflow/runs/log-batch', kind: 'status', status: 503 });
    await rejectsWith(mlflow.logBatch(run.info.run_id, { metrics: [{ key: 'auc', value: 0.5 }] }), 503, 'TEMPORARILY_UNAVAILABLE');
    assert.equal(ctx.emu.callsTo('POST', '/api/2.0/mlflow/runs/log-batch').length, 1);
    assert.equal(ctx.emu.mlflow.getRun(run.info.run_id)!.data.metrics, undefined);
  });

  it('logBatch enforces the documented limits before sending', async () => {
    const run = ctx.emu.mlflow.createRun({ experimentId: expId, status: 'RUNNING' });
    const params = Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: '1' }));
    await assert.rejects(mlflow.logBatch(run.info.run_id, { params }), /at most 100 params, got 101/);
    await assert.rejects(mlflow.logBatch(run.info.run_id, { metrics: [{ key: 'x', value: Number.NaN }] }), /must be a finite number/);
    assert.equal(ctx.emu.callsTo('POST', '/api/2.0/mlflow/runs/log-batch').length, 0);
  });

  it('listArtifacts lists a directory; hasLoggedModel needs model/MLmodel', async () => {
    const withModel = ctx.emu.mlflow.createRun({
      experimentId: expId,
      artifacts: { 'model/MLmodel': 'flavors: {}\n', 'model/model.pkl': 'pkl', 'metrics.json': '{"auc": 0.9}' },
    });
    const without = ctx.emu.mlflow.createRun({ experimentId: expId, artifacts: ['model/model.pkl'] });
    const bare = ctx.emu.mlflow.createRun({ experimentId: expId });
    const root = await toList(mlflow.listArtifacts(withModel.info.run_id));
    assert.deepEqual(root, [
      { path: 'metrics.json', file_size: 12 },
      { path: 'model', is_dir: true },
    ]);
    const model = await toList(mlflow.listArtifacts(withModel.info.run_id, 'model'));
    assert.deepEqual(
      model.map((f) => f.path),
      ['model/MLmodel', 'model/model.pkl'],
    );
    assert.equal(await mlflow.hasLoggedModel(withModel.info.run_id), true);
    assert.equal(await mlflow.hasLoggedModel(without.info.run_id), false);
    assert.equal(await mlflow.hasLoggedModel(bare.info.run_id), false);
    await rejectsWith(mlflow.hasLoggedModel('f'.repeat(32)), 404, 'RESOURCE_DOES_NOT_EXIST');
    const before = ctx.emu.requests.length;
    await assert.rejects(mlflow.hasLoggedModel(withModel.info.run_id, '../other-run/model'), /must be a relative path inside the run's artifacts/);
    await assert.rejects(mlflow.hasLoggedModel(withModel.info.run_id, 'dbfs:/x/model'), /must be a relative path/);
    assert.equal(ctx.emu.requests.length, before);
    ctx.emu.mlflow.writeArtifact(without.info.run_id, 'models/churn/MLmodel', 'flavors: {}\n');
    assert.equal(await mlflow.hasLoggedModel(without.info.run_id, 'models/churn/'), true);
    // The artifacts are real files on the emulated DBFS at the run's artifact URI.
    assert.equal(ctx.emu.files.exists(`${ctx.emu.mlflow.artifactUri(withModel.info.run_id)}/model/MLmodel`), true);
  });

  it('findRunModel: an MLflow 2 run model (runs:/ URI, resolved artifact location as source)', async () => {
    const run = ctx.emu.mlflow.createRun({ experimentId: expId, artifacts: ['model/MLmodel'] });
    ctx.emu.clearRequests();
    const m = await mlflow.findRunModel({ info: run.info as any }, 'model');
    assert.deepEqual(m, {
      generation: 2,
      artifactPath: 'model',
      uri: `runs:/${run.info.run_id}/model`,
      source: `${ctx.emu.mlflow.artifactUri(run.info.run_id)}/model`,
    });
    assert.deepEqual(
      ctx.emu.requests.map((q) => `${q.method} ${q.path}`),
      ['GET /api/2.0/mlflow/artifacts/list'],
    );
  });

  it('findRunModel: an MLflow 3 logged model through runs/get outputs.model_outputs and logged-models/{id}; only a READY one named as the path counts', async () => {
    const run = ctx.emu.mlflow.createRun({ experimentId: expId, loggedModels: [{ name: 'model', status: 'LOGGED_MODEL_UPLOAD_FAILED' }, 'other', 'model'] });
    const runId = run.info.run_id as string;
    const [failed, other, ready] = ctx.emu.mlflow.loggedModels(runId).map((m) => m.info.model_id as string);
    assert.deepEqual((run as any).outputs, { model_outputs: [failed, other, ready].map((model_id) => ({ model_id, step: 0 })) });
    ctx.emu.clearRequests();
    const m = await mlflow.findRunModel({ info: run.info as any }, 'model');
    assert.deepEqual(m, { generation: 3, artifactPath: 'model', uri: `models:/${ready}`, source: `models:/${ready}`, modelId: ready });
    assert.deepEqual(
      ctx.emu.requests.map((q) => `${q.method} ${q.path}`),
      [
        'GET /api/2.0/mlflow/artifacts/list',
        'GET /api/2.0/mlflow/runs/get',
        `GET /api/2.0/mlflow/logged-models/${failed}`,
        `GET /api/2.0/mlflow/logged-models/${other}`,
        `GET /api/2.0/mlflow/logged-models/${ready}`,
      ],
    );
    assert.equal((await mlflow.getLoggedModel(ready))?.info.artifact_uri, `dbfs:/databricks/mlflow-tracking/${expId}/models/${ready}/artifacts`);
    assert.equal(await mlflow.getLoggedModel('m-ffffffffffffffffffffffffffffffff'), undefined);
  });

  it('findRunModel: a logged model the run does not list is found by logged-models/search over every page (50 per page); neither generation is undefined', async () => {
    // The search lists newest first, so the target (oldest) comes after the 60 others.
    const target = ctx.emu.mlflow.createRun({ experimentId: expId, loggedModels: [{ name: 'model', linked: false }] });
    ctx.emu.clock.advance(1000);
    const filler = ctx.emu.mlflow.createRun({ experimentId: expId, loggedModels: Array.from({ length: 60 }, () => 'model') });
    const [id] = ctx.emu.mlflow.loggedModels(target.info.run_id).map((m) => m.info.model_id as string);
    ctx.emu.clearRequests();
    const m = await mlflow.findRunModel({ info: target.info as any }, 'model');
    assert.equal(m?.generation === 3 && m.modelId, id);
    const searches = ctx.emu.callsTo('POST', '/api/2.0/mlflow/logged-models/search');
    assert.deepEqual(
      searches.map((c) => c.body),
      [{ experiment_ids: [expId] }, { experiment_ids: [expId], page_token: searches[1].body.page_token }],
    );
    assert.ok(typeof searches[1].body.page_token === 'string' && searches[1].body.page_token.length > 0);
    const none = ctx.emu.mlflow.createRun({ experimentId: expId, artifacts: ['metrics.json'] });
    assert.equal(await mlflow.findRunModel({ info: none.info as any }, 'model'), undefined);
    assert.equal(filler.info.experiment_id, expId);
  });

  it('searchLoggedModels is a read (retried after a 503) and needs an experiment', async () => {
    ctx.emu.mlflow.createRun({ experimentId: expId, loggedModels: ['model'] });
    ctx.emu.faults.add({ kind: 'status', status: 503, method: 'POST', path: '/api/2.0/mlflow/logged-models/search', times: 1, retryAfterSeconds: 0 });
    assert.equal((await toList(mlflow.searchLoggedModels({ experimentIds: [expId] }))).length, 1);
    assert.equal(ctx.emu.callsTo('POST', '/api/2.0/mlflow/logged-models/search').length, 2);
    assert.throws(() => mlflow.searchLoggedModels({ experimentIds: [] }), /at least one experiment id/);
  });
});
