import assert from 'node:assert/strict';
import { TimeoutError } from '../../src/databricks/errors';
import { ModelVersionRegistrationError, WorkspaceModelRegistry, modelVersionFilter } from '../../src/mlflow/registry';
import { assertExchangesMatchProtos, startContext, toList, type TestContext } from './helpers';
import { rejectsWith } from '../helpers/rejects';

const MODEL = 'churn-classifier';

describe('WorkspaceModelRegistry against the emulator', () => {
  let ctx: TestContext;
  let registry: WorkspaceModelRegistry;
  let runId: string;

  beforeEach(async () => {
    ctx = await startContext();
    registry = new WorkspaceModelRegistry(ctx.api, { clock: ctx.emu.linkedClock() });
    const exp = ctx.emu.mlflow.createExperiment('/Shared/churn');
    runId = ctx.emu.mlflow.createRun({ experimentId: exp, artifacts: ['model/MLmodel'] }).info.run_id;
  });
  afterEach(async () => {
    try {
      assertExchangesMatchProtos(ctx.exchanges);
    } finally {
      await ctx.emu.close();
    }
  });

  /** Creates a READY version in `stage` directly in the emulator. */
  function seedVersion(stage?: 'Staging' | 'Production' | 'Archived'): string {
    return ctx.emu.mlflow.createModelVersion(MODEL, { source: `runs:/${runId}/model`, runId, stage });
  }

  it('getRegisteredModel returns undefined for a missing model; createRegisteredModel creates it; a second create is RESOURCE_ALREADY_EXISTS (sent once)', async () => {
    assert.equal(await registry.getRegisteredModel(MODEL), undefined);
    const created = await registry.createRegisteredModel(MODEL, { description: 'Churn model', tags: [{ key: 'team', value: 'ds' }] });
    assert.equal(created.name, MODEL);
    assert.equal(created.description, 'Churn model');
    assert.deepEqual(created.tags, [{ key: 'team', value: 'ds' }]);
    assert.equal((await registry.getRegisteredModel(MODEL))?.name, MODEL);
    await rejectsWith(registry.createRegisteredModel(MODEL), 400, 'RESOURCE_ALREADY_EXISTS');
    assert.deepEqual(
      ctx.emu.callsTo('POST', '/api/2.0/mlflow/registered-models/create').map((c) => c.body),
      [{ name: MODEL, description: 'Churn model', tags: [{ key: 'team', value: 'ds' }] }, { name: MODEL }],
    );
  });

  it('getRegisteredModel fails closed: 503 throws, it does not look like "not found"', async () => {
    ctx.emu.faults.add({ path: '/api/2.0/mlflow/registered-models/get', kind: 'status', status: 503, times: Infinity });
    await rejectsWith(registry.getRegisteredModel(MODEL), 503, 'TEMPORARILY_UNAVAILABLE');
  });

  it('createModelVersion starts PENDING_REGISTRATION; waitForVersionReady polls until READY in emulated time', async () => {
    ctx.emu.mlflow.createRegisteredModel(MODEL);
    ctx.emu.mlflow.setVersionReadyDelayMs(5000);
    const mv = await registry.createModelVersion({ name: MODEL, source: `runs:/${runId}/model`, runId, description: 'candidate' });
    assert.equal(mv.version, '1');
    assert.equal(mv.status, 'PENDING_REGISTRATION');
    assert.equal(mv.current_stage, 'None');
    const seen: Array<string | undefined> = [];
    const ready = await registry.waitForVersionReady(MODEL, '1', {
      timeoutMs: 60_000,
      initialIntervalMs: 1000,
      maxIntervalMs: 2000,
      onProgress: (s) => seen.push(s),
    });
    assert.equal(ready.status, 'READY');
    // Polls at t=0, 1000, 2500, 4500 (pending), 6500 (ready): backoff 1000 -> 1500 -> 2000 (cap).
    assert.deepEqual(seen, ['PENDING_REGISTRATION', 'PENDING_REGISTRATION', 'PENDING_REGISTRATION', 'PENDING_REGISTRATION']);
    assert.equal(ctx.emu.callsTo('GET', '/api/2.0/mlflow/model-versions/get').length, 5);
    assert.deepEqual(
      ctx.emu.callsTo('POST', '/api/2.0/mlflow/model-versions/create').map((c) => c.body),
      [{ name: MODEL, source: `runs:/${runId}/model`, run_id: runId, description: 'candidate' }],
    );
  });

  it('waitForVersionReady throws ModelVersionRegistrationError with the status message on FAILED_REGISTRATION', async () => {
    ctx.emu.mlflow.createRegisteredModel(MODEL);
    ctx.emu.mlflow.setVersionStuck(MODEL, 'FAILED_REGISTRATION', { message: 'Model artifacts not found at source.' });
    await registry.createModelVersion({ name: MODEL, source: 'runs:/x/model' });
    await assert.rejects(registry.waitForVersionReady(MODEL, '1', { timeoutMs: 60_000 }), (e: unknown) => {
      assert.ok(e instanceof ModelVersionRegistrationError);
      assert.equal(e.message, `Model version ${MODEL} version 1 failed to register: Model artifacts not found at source..`);
      assert.equal(e.version.status, 'FAILED_REGISTRATION');
      return true;
    });
    assert.equal(ctx.emu.callsTo('GET', '/api/2.0/mlflow/model-versions/get').length, 1);
  });

  it('waitForVersionReady gives up with TimeoutError (last status) when a version stays PENDING_REGISTRATION', async () => {
    ctx.emu.mlflow.createRegisteredModel(MODEL);
    ctx.emu.mlflow.setVersionStuck(MODEL, 'PENDING_REGISTRATION');
    await registry.createModelVersion({ name: MODEL, source: 'runs:/x/model' });
    const started = ctx.emu.clock.now();
    await assert.rejects(registry.waitForVersionReady(MODEL, '1', { timeoutMs: 30_000, initialIntervalMs: 5000, maxIntervalMs: 5000 }), (e: unknown) => {
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.lastState, 'PENDING_REGISTRATION');
      assert.match(e.message, /Waiting for model churn-classifier version 1 to become READY timed out after 30 s; last state: status PENDING_REGISTRATION/);
      return true;
    });
    // Emulated time = real time + advanced offset; the waits advanced ~30 s (minus the real ms that passed).
    const waited = ctx.emu.clock.now() - started;
    assert.ok(waited >= 30_000 && waited < 31_000, `waited ${waited} ms of emulated time`);
    assert.ok(ctx.emu.clock.offsetMs > 29_000 && ctx.emu.clock.offsetMs <= 30_000, `advanced ${ctx.emu.clock.offsetMs} ms`);
    assert.equal(ctx.emu.callsTo('GET', '/api/2.0/mlflow/model-versions/get').length, 7, 'polls at 0, 5, 10, ..., 30 s');
  });

  it('waitForVersionReady for a version that does not exist fails at once', async () => {
    ctx.emu.mlflow.createRegisteredModel(MODEL);
    await assert.rejects(registry.waitForVersionReady(MODEL, '9', { timeoutMs: 60_000 }), /does not exist/);
  });

  it('transitionStage with archiveExistingVersions moves the current Production version to Archived and records the comment', async () => {
    const v1 = seedVersion('Production');
    const v2 = seedVersion('Staging');
    const v3 = seedVersion();
    const mv = await registry.transitionStage({
      name: MODEL,
      version: v3,
      stage: 'Production',
      archiveExistingVersions: true,
      comment: 'AUC +0.02 (CI 0.01..0.03)',
    });
    assert.equal(mv.current_stage, 'Production');
    assert.equal(mv.version, v3);
    assert.equal(ctx.emu.mlflow.stageOf(MODEL, v1), 'Archived');
    assert.equal(ctx.emu.mlflow.stageOf(MODEL, v2), 'Staging');
    assert.deepEqual(
      ctx.emu.mlflow.transitions(MODEL).map((t) => [t.version, t.from, t.to, t.archived, t.comment]),
      [[v3, 'None', 'Production', [v1], 'AUC +0.02 (CI 0.01..0.03)']],
    );
    assert.deepEqual(
      ctx.emu.callsTo('POST', '/api/2.0/mlflow/databricks/model-versions/transition-stage').map((c) => c.body),
      [{ name: MODEL, version: v3, stage: 'Production', archive_existing_versions: true, comment: 'AUC +0.02 (CI 0.01..0.03)' }],
    );
  });

  it('transitionStage without archiving leaves the other Production version in place', async () => {
    const v1 = seedVersion('Production');
    const v2 = seedVersion();
    await registry.transitionStage({ name: MODEL, version: v2, stage: 'Production', archiveExistingVersions: false });
    assert.equal(ctx.emu.mlflow.stageOf(MODEL, v1), 'Production');
    assert.equal(ctx.emu.mlflow.stageOf(MODEL, v2), 'Production');
    const latest = await registry.getLatestVersions(MODEL, ['Production']);
    assert.deepEqual(
      latest.map((v) => v.version),
      [v2],
    );
  });

  it('transitionStage rejects bad input before sending, and a PENDING version is refused by the service', async () => {
    const v1 = seedVersion();
    await assert.rejects(
      registry.transitionStage({ name: MODEL, version: v1, stage: 'Prod' as never, archiveExistingVersions: true }),
      /Unknown model stage "Prod"/,
    );
    await assert.rejects(
      registry.transitionStage({ name: MODEL, version: v1, stage: 'Archived', archiveExistingVersions: true }),
      /only valid for Staging and Production/,
    );
    await assert.rejects(
      registry.transitionStage({ name: MODEL, version: 'latest', stage: 'Staging', archiveExistingVersions: false }),
      /positive integer string/,
    );
    assert.equal(ctx.emu.callsTo('POST', '/api/2.0/mlflow/databricks/model-versions/transition-stage').length, 0);
    ctx.emu.mlflow.setVersionReadyDelayMs(60_000);
    const pending = await registry.createModelVersion({ name: MODEL, source: 'runs:/x/model' });
    await rejectsWith(
      registry.transitionStage({ name: MODEL, version: pending.version, stage: 'Staging', archiveExistingVersions: false }),
      400,
      'INVALID_STATE',
    );
  });

  it('getLatestVersions returns the latest READY version per requested stage ([] when none)', async () => {
    seedVersion('Production');
    const v2 = seedVersion('Production');
    const v3 = seedVersion('Staging');
    assert.deepEqual(
      (await registry.getLatestVersions(MODEL, ['Staging', 'Production'])).map((v) => [v.current_stage, v.version]),
      [
        ['Staging', v3],
        ['Production', v2],
      ],
    );
    assert.deepEqual(await registry.getLatestVersions(MODEL, ['Archived']), []);
    assert.deepEqual(ctx.exchanges.at(-1)!.response, {});
  });

  it('searchModelVersions pages through versions with a safely quoted filter', async () => {
    for (let i = 0; i < 5; i++) seedVersion();
    ctx.emu.mlflow.createModelVersion("other'model", { source: 's' });
    const all = await toList(registry.searchModelVersions(modelVersionFilter({ name: MODEL }), { maxResults: 2 }));
    assert.deepEqual(
      all.map((v) => v.version),
      ['5', '4', '3', '2', '1'],
    );
    assert.equal(ctx.emu.callsTo('GET', '/api/2.0/mlflow/model-versions/search').length, 3);
    assert.deepEqual(ctx.emu.callsTo('GET', '/api/2.0/mlflow/model-versions/search')[0].query, { filter: `name='${MODEL}'`, max_results: '2' });
    const other = await toList(registry.searchModelVersions(modelVersionFilter({ name: "other'model" })));
    assert.deepEqual(
      other.map((v) => v.name),
      ["other'model"],
    );
    const byRun = await toList(registry.searchModelVersions(modelVersionFilter({ runId })));
    assert.equal(byRun.length, 5);
  });

  it('setModelVersionTag and updateModelVersion change the version', async () => {
    const v1 = seedVersion();
    await registry.setModelVersionTag(MODEL, v1, 'evaluation', 'passed');
    const updated = await registry.updateModelVersion(MODEL, v1, { description: 'Promoted by build 42' });
    assert.equal(updated?.description, 'Promoted by build 42');
    assert.deepEqual(ctx.emu.mlflow.versionTags(MODEL, v1), { evaluation: 'passed' });
    assert.deepEqual(
      ctx.emu.callsTo('POST', '/api/2.0/mlflow/model-versions/set-tag').map((c) => c.body),
      [{ name: MODEL, version: v1, key: 'evaluation', value: 'passed' }],
    );
    assert.deepEqual(
      ctx.emu.callsTo('PATCH', '/api/2.0/mlflow/model-versions/update').map((c) => c.body),
      [{ name: MODEL, version: v1, description: 'Promoted by build 42' }],
    );
  });

  it('getModelVersion: undefined only for RESOURCE_DOES_NOT_EXIST', async () => {
    const v1 = seedVersion();
    assert.equal((await registry.getModelVersion(MODEL, v1))?.status, 'READY');
    assert.equal(await registry.getModelVersion(MODEL, '42'), undefined);
    assert.equal(await registry.getModelVersion('no-such-model', '1'), undefined);
    ctx.emu.faults.add({ path: '/api/2.0/mlflow/model-versions/get', kind: 'status', status: 500, errorCode: 'INTERNAL_ERROR' });
    await rejectsWith(registry.getModelVersion(MODEL, v1), 500, 'INTERNAL_ERROR');
  });

  it('createModelVersion is not retried after a 503 (it could register a second version)', async () => {
    ctx.emu.mlflow.createRegisteredModel(MODEL);
    ctx.emu.faults.add({ path: '/api/2.0/mlflow/model-versions/create', kind: 'status', status: 503 });
    await rejectsWith(registry.createModelVersion({ name: MODEL, source: 'runs:/x/model' }), 503, 'TEMPORARILY_UNAVAILABLE');
    assert.equal(ctx.emu.callsTo('POST', '/api/2.0/mlflow/model-versions/create').length, 1);
  });
});
