import assert from 'node:assert/strict';
import { UnityCatalogModelRegistry } from '../../src/mlflow/unity-catalog';
import { modelVersionFilter } from '../../src/mlflow/registry';
import { assertExchangesMatchProtos, startContext, toList, type TestContext } from './helpers';
import { rejectsWith } from '../helpers/rejects';

const MODEL = 'ml.churn.classifier';

describe('UnityCatalogModelRegistry against the emulator', () => {
  let ctx: TestContext;
  let uc: UnityCatalogModelRegistry;

  beforeEach(async () => {
    ctx = await startContext();
    uc = new UnityCatalogModelRegistry(ctx.api, { clock: ctx.emu.linkedClock(), workspaceId: ctx.emu.workspaceId });
  });
  afterEach(async () => {
    try {
      assertExchangesMatchProtos(ctx.exchanges);
    } finally {
      await ctx.emu.close();
    }
  });

  it('rejects names that are not three-level before sending anything', async () => {
    await assert.rejects(uc.getRegisteredModel('churn'), /three-level, <catalog>\.<schema>\.<model>; got "churn"/);
    await assert.rejects(uc.createRegisteredModel('a.b'), /three-level/);
    await assert.rejects(uc.setAlias('a.b.c.d', 'champion', '1'), /three-level/);
    assert.equal(ctx.emu.requests.length, 0);
  });

  it('creates a model and a version (with run_tracking_server_id); it stays PENDING_REGISTRATION until finalized, then READY', async () => {
    assert.equal(await uc.getRegisteredModel(MODEL), undefined);
    await uc.createRegisteredModel(MODEL, { description: 'UC churn model' });
    await rejectsWith(uc.createRegisteredModel(MODEL), 400, 'RESOURCE_ALREADY_EXISTS');
    ctx.emu.mlflow.setVersionReadyDelayMs(1000);
    const mv = await uc.createModelVersion({ name: MODEL, source: 'dbfs:/databricks/mlflow-tracking/1/abc/artifacts/model', runId: 'abc' });
    assert.equal(mv.status, 'PENDING_REGISTRATION');
    assert.equal(mv.version, '1');
    assert.ok(mv.storage_location);
    assert.deepEqual(
      ctx.emu.callsTo('POST', '/api/2.0/mlflow/unity-catalog/model-versions/create').map((c) => c.body),
      [{ name: MODEL, source: 'dbfs:/databricks/mlflow-tracking/1/abc/artifacts/model', run_id: 'abc', run_tracking_server_id: ctx.emu.workspaceId }],
    );
    // Without finalize a UC version never becomes READY, whatever the delay.
    ctx.emu.clock.advance(3_600_000);
    await assert.rejects(
      uc.waitForVersionReady(MODEL, '1', { timeoutMs: 5_000, initialIntervalMs: 1000 }),
      /timed out after 5 s; last state: status PENDING_REGISTRATION/,
    );
    const finalized = await uc.finalizeModelVersion(MODEL, '1');
    assert.equal(finalized.status, 'READY');
    assert.equal((await uc.waitForVersionReady(MODEL, '1', { timeoutMs: 10_000 })).status, 'READY');
  });

  it('setAlias / getModelVersionByAlias / deleteAlias; moving an alias repoints it', async () => {
    const v1 = ctx.emu.mlflow.createModelVersion(MODEL, { source: 's1', uc: true });
    const v2 = ctx.emu.mlflow.createModelVersion(MODEL, { source: 's2', uc: true });
    assert.equal(await uc.getModelVersionByAlias(MODEL, 'champion'), undefined);
    await uc.setAlias(MODEL, 'champion', v1);
    await uc.setAlias(MODEL, 'challenger', v2);
    assert.deepEqual(ctx.emu.mlflow.aliases(MODEL), { champion: v1, challenger: v2 });
    const champ = await uc.getModelVersionByAlias(MODEL, 'champion');
    assert.equal(champ?.version, v1);
    assert.deepEqual(champ?.aliases, [{ alias: 'champion', version: v1 }]);
    await uc.setAlias(MODEL, 'champion', v2);
    assert.deepEqual(ctx.emu.mlflow.aliases(MODEL), { champion: v2, challenger: v2 });
    await uc.deleteAlias(MODEL, 'challenger');
    assert.deepEqual(ctx.emu.mlflow.aliases(MODEL), { champion: v2 });
    // MLflow's UC client sends DELETE fields as a JSON body (rest_utils.call_endpoint: json= for every non-GET).
    assert.deepEqual(
      ctx.emu.callsTo('DELETE', '/api/2.0/mlflow/unity-catalog/registered-models/alias').map((c) => [c.body, c.query]),
      [[{ name: MODEL, alias: 'challenger' }, {}]],
    );
    assert.deepEqual(
      ctx.emu.callsTo('POST', '/api/2.0/mlflow/unity-catalog/registered-models/alias').map((c) => c.body),
      [
        { name: MODEL, alias: 'champion', version: v1 },
        { name: MODEL, alias: 'challenger', version: v2 },
        { name: MODEL, alias: 'champion', version: v2 },
      ],
    );
    const model = await uc.getRegisteredModel(MODEL);
    assert.deepEqual(model?.aliases, [{ alias: 'champion', version: v2 }]);
  });

  it('setAlias to a version that does not exist is 404; deleting a missing alias is 404; a 503 on get-by-alias is thrown', async () => {
    ctx.emu.mlflow.createModelVersion(MODEL, { source: 's1', uc: true });
    await rejectsWith(uc.setAlias(MODEL, 'champion', '7'), 404, 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(uc.deleteAlias(MODEL, 'nope'), 404, 'RESOURCE_DOES_NOT_EXIST');
    ctx.emu.faults.add({ path: '/api/2.0/mlflow/unity-catalog/registered-models/alias', method: 'GET', kind: 'status', status: 503, times: Infinity });
    await rejectsWith(uc.getModelVersionByAlias(MODEL, 'champion'), 503, 'TEMPORARILY_UNAVAILABLE');
  });

  it('version tags, description and search by name', async () => {
    const v1 = ctx.emu.mlflow.createModelVersion(MODEL, { source: 's1', uc: true });
    ctx.emu.mlflow.createModelVersion(MODEL, { source: 's2', uc: true });
    await uc.setModelVersionTag(MODEL, v1, 'evaluation', 'passed');
    await uc.updateModelVersion(MODEL, v1, { description: 'champion candidate' });
    assert.deepEqual(ctx.emu.mlflow.versionTags(MODEL, v1), { evaluation: 'passed' });
    assert.equal((await uc.getModelVersion(MODEL, v1))?.description, 'champion candidate');
    const found = await toList(uc.searchModelVersions(modelVersionFilter({ name: MODEL })));
    assert.deepEqual(
      found.map((v) => v.version),
      ['2', '1'],
    );
  });

  it('tags: set-tag / delete-tag paths of databricks_uc_registry_service.proto (e2b9058c), DELETE fields in a JSON body', async () => {
    const v1 = ctx.emu.mlflow.createModelVersion(MODEL, { source: 's1', uc: true });
    await uc.setRegisteredModelTag(MODEL, 'mlops_promotion_claim', 'owner=build 1, step a;version=1;at=2026-01-01T00:00:00.000Z;nonce=ab');
    await uc.setModelVersionTag(MODEL, v1, 'mlops_metric', 'auc');
    await uc.deleteModelVersionTag(MODEL, v1, 'mlops_metric');
    await uc.deleteRegisteredModelTag(MODEL, 'mlops_promotion_claim');
    assert.deepEqual(
      ctx.emu.requests.filter((q) => /tag/.test(q.path)).map((q) => [q.method, q.path, q.body, q.query]),
      [
        [
          'POST',
          '/api/2.0/mlflow/unity-catalog/registered-models/set-tag',
          { name: MODEL, key: 'mlops_promotion_claim', value: 'owner=build 1, step a;version=1;at=2026-01-01T00:00:00.000Z;nonce=ab' },
          {},
        ],
        ['POST', '/api/2.0/mlflow/unity-catalog/model-versions/set-tag', { name: MODEL, version: v1, key: 'mlops_metric', value: 'auc' }, {}],
        ['DELETE', '/api/2.0/mlflow/unity-catalog/model-versions/delete-tag', { name: MODEL, version: v1, key: 'mlops_metric' }, {}],
        ['DELETE', '/api/2.0/mlflow/unity-catalog/registered-models/delete-tag', { name: MODEL, key: 'mlops_promotion_claim' }, {}],
      ],
    );
    assert.deepEqual(ctx.emu.mlflow.versionTags(MODEL, v1), {});
  });

  it('tag keys with . , - = / : are refused before any request (the service refuses them too); at most 50 tags per object', async () => {
    const v1 = ctx.emu.mlflow.createModelVersion(MODEL, { source: 's1', uc: true });
    const before = ctx.emu.requests.length;
    for (const bad of ['mlops.promotion.claim', 'a,b', 'a-b', 'a=b', 'a/b', 'a:b']) {
      await assert.rejects(uc.setRegisteredModelTag(MODEL, bad, 'x'), /Unity Catalog tag keys may not contain \. , - = \/ or :/);
      await assert.rejects(uc.setModelVersionTag(MODEL, v1, bad, 'x'), /Unity Catalog tag keys may not contain/);
    }
    await assert.rejects(uc.setModelVersionTag(MODEL, v1, 'k', 'x'.repeat(1001)), /at most 1000 characters/);
    assert.equal(ctx.emu.requests.length, before, 'nothing was sent');
    // The emulator answers what the service answers when a client does send one.
    await rejectsWith(
      ctx.api.request({
        method: 'POST',
        path: '/api/2.0/mlflow/unity-catalog/model-versions/set-tag',
        body: { name: MODEL, version: v1, key: 'mlflow.source.type', value: 'x' },
      }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Tag name mlflow\.source\.type contains one or more of the reserved characters: List\(\., ,, -, =, \/, :\)/,
    );
    for (let i = 0; i < 50; i++) await uc.setModelVersionTag(MODEL, v1, `k${i}`, 'v');
    await uc.setModelVersionTag(MODEL, v1, 'k7', 'overwrite is not a new tag');
    await rejectsWith(uc.setModelVersionTag(MODEL, v1, 'k50', 'v'), 400, 'INVALID_PARAMETER_VALUE', /maximum is 50/);
    assert.equal(Object.keys(ctx.emu.mlflow.versionTags(MODEL, v1)).length, 50);
  });

  it('the UC registry has no stage endpoints (the emulator answers 404 ENDPOINT_NOT_FOUND for them)', async () => {
    await rejectsWith(
      ctx.api.request({ method: 'POST', path: '/api/2.0/mlflow/unity-catalog/registered-models/get-latest-versions', body: { name: MODEL } }),
      404,
      'ENDPOINT_NOT_FOUND',
    );
    assert.equal('transitionStage' in uc, false);
    assert.equal('getLatestVersions' in uc, false);
  });
});
