/**
 * The bundled Deploy Model to Serving task run as the agent runs it (child process, INPUT_/ENDPOINT_
 * environment, ##vso commands), against the workspace emulator in this process. Emulated config updates
 * take a few hundred milliseconds and the DATABRICKS_MLOPS_POLL_INTERVAL_MS hook keeps polls short.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Emulator } from '../../../emulator';
import type { AgentRunResult } from '../../helpers/agent';
import { assertSecretNotShown, TaskHarness, type TaskRunOptions } from '../../helpers/task-harness';

const CONN = '3b2a1c0d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const FAST = { DATABRICKS_MLOPS_POLL_INTERVAL_MS: '50' };
const MODEL = 'main.ml.churn';
const EP = 'churn';
/** The synthetic logistic models logged by the runs behind versions 1, 2 and 3. */
const MODELS: Record<string, { features: number[]; weights: number[]; bias: number }> = {
  '1': { features: [0], weights: [1.2], bias: -0.2 },
  '2': { features: [0, 1], weights: [1.3, -1.0], bias: -0.3 },
  '3': { features: [0, 1, 2], weights: [1.4, -1.1, 0.9], bias: -0.3 },
};
const RECORDS = [
  { x0: 0.5, x1: -1.0, x2: 0.25 },
  { x0: -0.3, x1: 0.8, x2: 1.5 },
];

function predict(version: string, row: number[]): number {
  const m = MODELS[version];
  return 1 / (1 + Math.exp(-(m.bias + m.features.reduce((z, f, k) => z + m.weights[k] * row[f], 0))));
}

/** The served entity this task creates for a version, with the default compute. */
function entity(version: string, extra: Record<string, unknown> = {}) {
  return {
    name: `main-ml-churn-${version}`,
    entity_name: MODEL,
    entity_version: version,
    workload_size: 'Small',
    workload_type: 'CPU',
    scale_to_zero_enabled: false,
    ...extra,
  };
}

describe('Deploy Model to Serving task (bundled, as the agent runs it) against the emulator', function () {
  this.timeout(60_000);
  let emu: Emulator;
  let dir: string;
  let smokeFile: string;
  const harness = new TaskHarness({
    task: 'DatabricksServingDeployV1',
    connection: CONN,
    inputs: { endpointName: EP, modelName: MODEL },
    env: FAST,
    killAfterMs: 30_000,
  });

  beforeEach(async () => {
    emu = await harness.start();
    emu.serving.updateMs = 300;
    const exp = emu.mlflow.createExperiment('/Shared/churn');
    for (const v of ['1', '2', '3']) {
      const run = emu.mlflow.createRun({ experimentId: exp, params: { model_json: JSON.stringify(MODELS[v]) }, artifacts: ['model/MLmodel'] });
      emu.mlflow.createModelVersion(MODEL, { source: `runs:/${run.info.run_id}/model`, runId: run.info.run_id, uc: true });
    }
    emu.mlflow.ucRegistry.models.get(MODEL)!.aliases.set('champion', 2);
    dir = mkdtempSync(path.join(tmpdir(), 'serve-test-'));
    smokeFile = path.join(dir, 'smoke.json');
    writeFileSync(smokeFile, JSON.stringify(RECORDS));
  });
  afterEach(() => harness.stop());

  function serve(inputs: Record<string, string | undefined>, extra: TaskRunOptions = {}): Promise<AgentRunResult> {
    return harness.run({ ...extra, inputs });
  }

  const url = () => `${emu.url}/serving-endpoints/${EP}/invocations`;
  const puts = () => emu.callsTo('PUT', `/api/2.0/serving-endpoints/${EP}/config`).map((c) => c.body);

  const assertClean = (r: AgentRunResult) => assertSecretNotShown(r);

  it('create: a missing endpoint is created serving the champion with 100%, waited for, smoke-tested', async () => {
    // Long enough that the first poll sees the update in progress even on a loaded machine.
    emu.serving.updateMs = 1_000;
    const r = await serve({ smokeTestFile: smokeFile });
    assert.deepEqual(r.complete, { result: 'Succeeded', message: `Endpoint ${EP} serves ${MODEL} version 2 with 100% of the traffic; the smoke test passed.` });
    assert.deepEqual(r.outputs, { endpointName: EP, endpointUrl: url(), servedVersion: '2', previousVersion: '', trafficPercent: '100', rolledBack: 'false' });
    assert.deepEqual(
      emu.writes().map((w) => [w.method, w.path, w.body]),
      [
        [
          'POST',
          '/api/2.0/serving-endpoints',
          {
            name: EP,
            config: { served_entities: [entity('2')], traffic_config: { routes: [{ served_entity_name: 'main-ml-churn-2', traffic_percentage: 100 }] } },
          },
        ],
      ],
    );
    assert.deepEqual(emu.serving.servedTraffic(EP), [[MODEL, '2', 100]]);
    assert.ok(r.logLines.includes(`Serving ${MODEL} version 2 (from alias champion) on endpoint ${EP}.`), r.stdout);
    assert.ok(r.logLines.includes(`Endpoint ${EP} does not exist; it will be created.`));
    const states = r.logLines.filter((l) => l.startsWith(`Endpoint ${EP}: `)).map((l) => l.replace(/ after \d+s\.$/, ''));
    assert.deepEqual(states, [
      `Endpoint ${EP}: config_update IN_PROGRESS, ready NOT_READY (main-ml-churn-2: DEPLOYMENT_CREATING)`,
      `Endpoint ${EP}: config_update NOT_UPDATING, ready READY (main-ml-churn-2: DEPLOYMENT_READY)`,
    ]);
    // The timeline's percent counts the update's ready served entities, never a share of timeoutMinutes.
    const progress = r.commands
      .filter((c) => c.name === 'task.setprogress')
      .map((c) => `${c.props.value}% ${c.message.replace(/\d+s elapsed$/, 'Ns elapsed')}`);
    assert.deepEqual([...new Set(progress)], ['0% 0 of 1 served entity ready, Ns elapsed', '100% updated and ready, Ns elapsed']);
    const p0 = JSON.stringify(predict('2', [RECORDS[0].x0, RECORDS[0].x1, RECORDS[0].x2]));
    assert.ok(r.logLines.includes(`Smoke test: sending 2 record(s) to ${url()}.`));
    assert.ok(r.logLines.includes(`Smoke test passed: 2 prediction(s), e.g. ${p0}.`), r.stdout);
    assert.deepEqual(
      emu.callsTo('POST', `/serving-endpoints/${EP}/invocations`).map((c) => c.body),
      [{ dataframe_records: RECORDS }],
    );
    assert.ok(r.commands.some((c) => c.name === 'task.uploadsummary'));
    assertClean(r);
  });

  it('replace: the new version takes 100% and the old entity is removed; previousVersion is the old one', async () => {
    emu.serving.seedEndpoint(EP, [{ ...entity('1'), traffic: 100 }]);
    const r = await serve({ versionSource: 'version', modelVersion: '3', workloadSize: 'Medium', scaleToZero: 'true' });
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    assert.deepEqual(puts(), [
      {
        served_entities: [entity('3', { workload_size: 'Medium', scale_to_zero_enabled: true })],
        traffic_config: { routes: [{ served_entity_name: 'main-ml-churn-3', traffic_percentage: 100 }] },
      },
    ]);
    assert.deepEqual(r.outputs, { endpointName: EP, endpointUrl: url(), servedVersion: '3', previousVersion: '1', trafficPercent: '100', rolledBack: 'false' });
    assert.deepEqual(emu.serving.servedTraffic(EP), [[MODEL, '3', 100]]);
    assert.ok(
      r.logLines.includes(`Endpoint ${EP} serves ${MODEL} version 1 (100%); config_update NOT_UPDATING, ready READY (main-ml-churn-1: DEPLOYMENT_READY).`),
      r.stdout,
    );
  });

  it('canary: the new version takes canaryPercent, the current one keeps the rest with its own compute', async () => {
    emu.serving.seedEndpoint(EP, [{ ...entity('1', { workload_size: 'Large' }), traffic: 100 }]);
    const r = await serve({ trafficMode: 'canary', canaryPercent: '20' });
    assert.equal(r.complete?.message, `Endpoint ${EP} serves ${MODEL} version 2 with 20% of the traffic.`);
    assert.deepEqual(puts(), [
      {
        served_entities: [entity('1', { workload_size: 'Large' }), entity('2')],
        traffic_config: {
          routes: [
            { served_entity_name: 'main-ml-churn-1', traffic_percentage: 80 },
            { served_entity_name: 'main-ml-churn-2', traffic_percentage: 20 },
          ],
        },
      },
    ]);
    assert.equal(r.outputs.trafficPercent, '20');
    assert.equal(r.outputs.previousVersion, '1');
    assert.deepEqual(emu.serving.servedTraffic(EP), [
      [MODEL, '1', 80],
      [MODEL, '2', 20],
    ]);
  });

  it('promoteCanary: all traffic moves to the canary, which keeps its compute; the old entity is removed', async () => {
    emu.serving.seedEndpoint(EP, [
      { ...entity('1'), traffic: 90 },
      { ...entity('2', { workload_size: 'Medium' }), traffic: 10 },
    ]);
    const r = await serve({ trafficMode: 'promoteCanary', workloadSize: 'Large' });
    assert.equal(r.complete?.message, `Endpoint ${EP} serves ${MODEL} version 2 with 100% of the traffic.`);
    assert.deepEqual(puts(), [
      {
        served_entities: [entity('2', { workload_size: 'Medium' })],
        traffic_config: { routes: [{ served_entity_name: 'main-ml-churn-2', traffic_percentage: 100 }] },
      },
    ]);
    assert.deepEqual(r.outputs, { endpointName: EP, endpointUrl: url(), servedVersion: '2', previousVersion: '1', trafficPercent: '100', rolledBack: 'false' });
    assert.deepEqual(emu.serving.servedTraffic(EP), [[MODEL, '2', 100]]);
  });

  it('no-op: an endpoint that already serves the version as asked is not touched, and the step says so', async () => {
    emu.serving.seedEndpoint(EP, [{ ...entity('2'), traffic: 100 }]);
    const r = await serve({ smokeTestFile: smokeFile });
    assert.deepEqual(r.complete, {
      result: 'Succeeded',
      message: `Serving endpoint ${EP} already serves ${MODEL} version 2 (100%) as asked: nothing was changed.`,
    });
    assert.deepEqual(emu.writes(), []);
    assert.deepEqual(emu.callsTo('POST', `/serving-endpoints/${EP}/invocations`), []);
    assert.deepEqual(r.outputs, { endpointName: EP, endpointUrl: url(), servedVersion: '2', previousVersion: '2', trafficPercent: '100', rolledBack: 'false' });
  });

  it('UPDATE_FAILED: the previous config is still served (Databricks keeps it), nothing more is sent, the step fails with what happened', async () => {
    emu.serving.seedEndpoint(EP, [{ ...entity('1'), traffic: 100 }]);
    emu.serving.failNextUpdate(EP, 'Served entity failed to deploy: container image build failed.');
    const r = await serve({});
    assert.deepEqual(r.complete, {
      result: 'Failed',
      message:
        `The config update of serving endpoint ${EP} ended UPDATE_FAILED (main-ml-churn-2: Served entity failed to deploy: container image build failed.). ` +
        `The endpoint still serves the previous config (${MODEL} version 1 (100%)).`,
    });
    assert.equal(puts().length, 1);
    assert.deepEqual(r.outputs, { endpointName: EP, endpointUrl: url(), servedVersion: '2', previousVersion: '1', trafficPercent: '0', rolledBack: 'true' });
    assert.deepEqual(emu.serving.servedTraffic(EP), [[MODEL, '1', 100]]);
    assert.ok(
      r.errors.includes(
        `The config update of serving endpoint ${EP} ended UPDATE_FAILED (main-ml-churn-2: Served entity failed to deploy: container image build failed.).`,
      ),
      r.errors.join('\n'),
    );
  });

  it('smoke test failure: the previous config is put back and waited for; rolledBack true; the step fails', async () => {
    emu.serving.seedEndpoint(EP, [{ ...entity('1'), traffic: 100 }]);
    emu.serving.breakVersion(MODEL, '2', 'Model execution failed: KeyError: x3');
    const r = await serve({ smokeTestFile: smokeFile });
    assert.equal(r.complete?.result, 'Failed', r.stdout);
    assert.match(
      r.complete!.message,
      /^The smoke test failed: the scoring request was refused \(.*Model execution failed: KeyError: x3.*\)\. Rolled back: the endpoint serves main\.ml\.churn version 1 \(100%\) again\.$/,
    );
    assert.deepEqual(puts(), [
      { served_entities: [entity('2')], traffic_config: { routes: [{ served_entity_name: 'main-ml-churn-2', traffic_percentage: 100 }] } },
      { served_entities: [entity('1')], traffic_config: { routes: [{ served_entity_name: 'main-ml-churn-1', traffic_percentage: 100 }] } },
    ]);
    assert.deepEqual(emu.serving.servedTraffic(EP), [[MODEL, '1', 100]]);
    assert.deepEqual(r.outputs, { endpointName: EP, endpointUrl: url(), servedVersion: '2', previousVersion: '1', trafficPercent: '0', rolledBack: 'true' });
    assert.ok(r.logLines.includes(`Rollback done: ${EP} serves ${MODEL} version 1 (100%) again.`), r.stdout);
  });

  it('a smoke request answered HTTP 500 (dataframe_split body) fails the step and rolls back', async () => {
    emu.serving.seedEndpoint(EP, [{ ...entity('1'), traffic: 100 }]);
    const split = {
      dataframe_split: {
        columns: ['x0', 'x1'],
        data: [
          [1, 0],
          [2, 1],
          [3, 2],
        ],
      },
    };
    writeFileSync(smokeFile, JSON.stringify(split));
    emu.faults.add({ path: `/serving-endpoints/${EP}/invocations`, kind: 'status', status: 500, message: 'Internal error in the model server.' });
    const r = await serve({ smokeTestFile: smokeFile });
    assert.equal(r.complete?.result, 'Failed', r.stdout);
    assert.match(
      r.complete!.message,
      /^The smoke test failed: the scoring request was refused \(.*Internal error in the model server\..*\)\. Rolled back: the endpoint serves main\.ml\.churn version 1 \(100%\) again\.$/,
    );
    assert.deepEqual(
      emu.callsTo('POST', `/serving-endpoints/${EP}/invocations`).map((c) => c.body),
      [split],
    );
    assert.equal(r.outputs.rolledBack, 'true');
    assert.deepEqual(emu.serving.servedTraffic(EP), [[MODEL, '1', 100]]);
  });

  it('timeout while IN_PROGRESS: the rollback waits for the update to end, then puts the previous config back', async () => {
    emu.serving.seedEndpoint(EP, [{ ...entity('1'), traffic: 100 }]);
    emu.serving.slowNextUpdate(EP, 1_800);
    const r = await serve({ timeoutMinutes: '0.02' });
    assert.equal(r.complete?.result, 'Failed', r.stdout);
    assert.match(
      r.complete!.message,
      /^Endpoint churn was not updated and ready within 1s; last state: config_update IN_PROGRESS, ready READY \(main-ml-churn-2: DEPLOYMENT_CREATING, main-ml-churn-1: DEPLOYMENT_READY\)\. Rolled back: the endpoint serves main\.ml\.churn version 1 \(100%\) again\.$/,
    );
    assert.ok(r.logLines.includes(`Rollback: waiting for the update in progress on ${EP} to end (it cannot be cancelled).`), r.stdout);
    assert.equal(puts().length, 2);
    assert.deepEqual(puts()[1], {
      served_entities: [entity('1')],
      traffic_config: { routes: [{ served_entity_name: 'main-ml-churn-1', traffic_percentage: 100 }] },
    });
    assert.deepEqual(emu.serving.servedTraffic(EP), [[MODEL, '1', 100]]);
    assert.equal(r.outputs.rolledBack, 'true');
  });

  it('timeout with an update that outlasts the rollback budget too: the step fails saying the rollback could not be done and what to put back', async () => {
    emu.serving.seedEndpoint(EP, [{ ...entity('1'), traffic: 100 }]);
    emu.serving.slowNextUpdate(EP, Infinity);
    const r = await serve({ timeoutMinutes: '0.01' });
    assert.equal(r.complete?.result, 'Failed', r.stdout);
    assert.match(
      r.complete!.message,
      /^Endpoint churn was not updated and ready within 1s; last state: config_update IN_PROGRESS, .*\. The rollback failed \(Waiting for the update of churn to end timed out after 1 s; last state: config_update IN_PROGRESS, .*\); put the previous config \(main\.ml\.churn version 1 \(100%\)\) back by hand\.$/,
    );
    assert.equal(puts().length, 1);
    assert.equal(r.outputs.rolledBack, 'false');
  });

  it('a failure on an endpoint this step created: nothing to roll back to, the endpoint is left as it is', async () => {
    emu.serving.failNextUpdate(EP, 'Served entity failed to deploy: out of capacity.');
    const r = await serve({});
    assert.deepEqual(r.complete, {
      result: 'Failed',
      message:
        `The config update of serving endpoint ${EP} ended UPDATE_FAILED (main-ml-churn-2: Served entity failed to deploy: out of capacity.). ` +
        'The endpoint was created by this step, so there is no previous config to put back; it is left as it is.',
    });
    assert.deepEqual(
      emu.writes().map((w) => [w.method, w.path]),
      [['POST', '/api/2.0/serving-endpoints']],
    );
    assert.equal(r.outputs.rolledBack, 'false');
  });

  it('with rollbackOnFailure false a failure leaves the endpoint as it is', async () => {
    emu.serving.seedEndpoint(EP, [{ ...entity('1'), traffic: 100 }]);
    emu.serving.breakVersion(MODEL, '2');
    const r = await serve({ smokeTestFile: smokeFile, rollbackOnFailure: 'false' });
    assert.equal(r.complete?.result, 'Failed');
    assert.match(r.complete!.message, / rollbackOnFailure is false: the endpoint is left as it is\.$/);
    assert.equal(puts().length, 1);
    assert.deepEqual(emu.serving.servedTraffic(EP), [[MODEL, '2', 100]]);
    assert.equal(r.outputs.rolledBack, 'false');
  });

  it('SIGINT during the wait: nothing more is sent, a warning names the endpoint state, the step reports Cancelled', async () => {
    emu.serving.seedEndpoint(EP, [{ ...entity('1'), traffic: 100 }]);
    emu.serving.slowNextUpdate(EP, 600_000);
    let sent = false;
    const r = await serve(
      {},
      {
        onLine: (line, child) => {
          if (!sent && line.startsWith(`Endpoint ${EP}: config_update IN_PROGRESS`)) {
            sent = true;
            child.kill('SIGINT');
          }
        },
      },
    );
    assert.ok(sent, r.stdout);
    assert.equal(r.complete?.result, 'Cancelled');
    assert.equal(puts().length, 1);
    assert.deepEqual(r.warnings, [
      `The pipeline was cancelled while it was updating to ${MODEL} version 2. Serving endpoint ${EP} is left as it is: config_update IN_PROGRESS, ready READY (main-ml-churn-2: DEPLOYMENT_CREATING, main-ml-churn-1: DEPLOYMENT_READY). An update in progress finishes on its own; check the endpoint and put the previous config back by hand if needed.`,
    ]);
    assert.deepEqual(emu.serving.servedTraffic(EP), [[MODEL, '1', 100]]);
  });

  it('decisionRecord: serves the version the record says was promoted', async () => {
    const record = path.join(dir, 'evaluation.json');
    writeFileSync(
      record,
      JSON.stringify({
        schema: 'mlopspipelines.evaluation/v1',
        outcome: 'promoted',
        dryRun: false,
        registry: { kind: 'unityCatalog', modelName: MODEL, target: 'alias champion' },
        promotion: { version: '3', reusedExistingVersion: true, applied: true },
      }),
    );
    const r = await serve({ versionSource: 'decisionRecord', decisionRecord: record });
    assert.equal(r.complete?.result, 'Succeeded', r.stdout);
    assert.equal(r.outputs.servedVersion, '3');
    assert.ok(r.logLines.includes(`Serving ${MODEL} version 3 (from the decision record) on endpoint ${EP}.`));
    assert.deepEqual(emu.serving.servedTraffic(EP), [[MODEL, '3', 100]]);
  });

  describe('bad inputs fail with an actionable message and change nothing', () => {
    const writeRecord = (o: Record<string, unknown>) => {
      const f = path.join(dir, 'evaluation.json');
      writeFileSync(
        f,
        JSON.stringify({
          schema: 'mlopspipelines.evaluation/v1',
          outcome: 'promoted',
          dryRun: false,
          registry: { kind: 'unityCatalog', modelName: MODEL, target: 'alias champion' },
          promotion: { version: '3', reusedExistingVersion: true, applied: true },
          ...o,
        }),
      );
      return f;
    };
    const cases: Array<[string, () => Record<string, string>, RegExp | string, (() => void)?]> = [
      [
        'an endpoint name with a dot',
        () => ({ endpointName: 'churn.prod' }),
        'Input endpointName must be a serving endpoint name of letters, digits, - and _ (at most 63 characters); got "churn.prod".',
      ],
      ['canaryPercent above 50', () => ({ trafficMode: 'canary', canaryPercent: '60' }), 'Input canaryPercent must be >= 1 and <= 50; got 60.'],
      ['a two-level name with Unity Catalog', () => ({ modelName: 'ml.churn' }), /^With registry unityCatalog, modelName must be the three-level name/],
      [
        'modelVersion not a number',
        () => ({ versionSource: 'version', modelVersion: 'latest' }),
        'Input modelVersion must be a version number such as 7; got "latest".',
      ],
      [
        'an unknown workloadType',
        () => ({ workloadType: 'TPU' }),
        /^Input workloadType must be one of CPU, GPU_SMALL, GPU_MEDIUM, GPU_LARGE, MULTIGPU_MEDIUM; got "TPU"\.$/,
      ],
      [
        'a version that does not exist',
        () => ({ versionSource: 'version', modelVersion: '9' }),
        `Version 9 of model ${MODEL} does not exist (or this identity cannot see it).`,
      ],
      [
        'an alias that is not set',
        () => ({ alias: 'challenger' }),
        `Model ${MODEL} has no alias "challenger" (or the model does not exist, or this identity cannot see it). Check modelName and alias.`,
      ],
      [
        'a version still PENDING_REGISTRATION',
        () => ({ versionSource: 'version', modelVersion: '3' }),
        `Version 3 of model ${MODEL} is PENDING_REGISTRATION (Model version is being registered.), not READY, so it cannot be served.`,
        () => emu.mlflow.setVersionStuck(MODEL, 'PENDING_REGISTRATION', { version: '3' }),
      ],
      [
        'a decision record of a kept decision',
        () => ({ versionSource: 'decisionRecord', decisionRecord: writeRecord({ outcome: 'kept', promotion: null }) }),
        /says no version was promoted \(outcome kept\)\. Run this step only when Evaluate & Promote promoted/,
      ],
      [
        'a decision record of a dry run',
        () => ({ versionSource: 'decisionRecord', decisionRecord: writeRecord({ dryRun: true }) }),
        /is from a dry run: nothing was promoted, so there is no version to serve\.$/,
      ],
      [
        'a decision record about another model',
        () => ({ versionSource: 'decisionRecord', decisionRecord: writeRecord({ registry: { kind: 'unityCatalog', modelName: 'main.ml.other' } }) }),
        /is about model "main\.ml\.other", not "main\.ml\.churn"; check modelName\.$/,
      ],
      ['a decisionRecord left empty', () => ({ versionSource: 'decisionRecord' }), /^Input required: decisionRecord/],
      [
        'a smoke test file that is not JSON',
        () => (writeFileSync(smokeFile, '{"dataframe_split": '), { smokeTestFile: smokeFile }),
        /^The smoke test file \(smokeTestFile\) .*smoke\.json is not JSON/,
      ],
      ['a smoke test file with no records', () => (writeFileSync(smokeFile, '[]'), { smokeTestFile: smokeFile }), /must hold at least one record/],
      [
        'a smoke test file that does not exist',
        () => ({ smokeTestFile: path.join(dir, 'missing.json') }),
        /^Input smokeTestFile: .*missing\.json does not exist on the agent\.$/,
      ],
      [
        'createIfMissing false with no endpoint',
        () => ({ createIfMissing: 'false' }),
        `Serving endpoint ${EP} does not exist and createIfMissing is false: nothing was created. Check endpointName, or set createIfMissing to true.`,
      ],
      [
        'canary on a missing endpoint',
        () => ({ trafficMode: 'canary' }),
        `Serving endpoint ${EP} does not exist, so there is no current version to run a canary against. Create it with trafficMode replace first.`,
      ],
      [
        'promoteCanary of a version the endpoint does not serve',
        () => ({ trafficMode: 'promoteCanary' }),
        `${MODEL} version 2 is not served by endpoint ${EP} (it serves ${MODEL} version 1 (100%)), so there is no canary to promote. Deploy it with trafficMode canary first, or use replace.`,
        () => emu.serving.seedEndpoint(EP, [{ ...entity('1'), traffic: 100 }]),
      ],
      [
        'an update already in progress',
        () => ({}),
        /^Serving endpoint churn is being updated \(config_update IN_PROGRESS, .*\), by another step, a person, or an earlier attempt of this step whose answer was lost; another update cannot start until it ends\. Nothing was changed; run the step again once it has\.$/,
        () => {
          emu.serving.seedEndpoint(EP, [{ ...entity('1'), traffic: 100 }]);
          emu.serving.endpoints.get(EP)!.pending = { config: emu.serving.endpoints.get(EP)!.config!, startTime: emu.clock.now(), endsAt: Infinity };
          emu.serving.endpoints.get(EP)!.configUpdate = 'IN_PROGRESS';
        },
      ],
    ];
    for (const [title, inputs, expected, setup] of cases) {
      it(title, async () => {
        setup?.();
        const before = emu.serving.servedTraffic(EP);
        const r = await serve(inputs());
        assert.equal(r.complete?.result, 'Failed', r.stdout);
        if (typeof expected === 'string') assert.equal(r.complete!.message, expected);
        else assert.match(r.complete!.message, expected);
        assert.deepEqual(emu.writes(), []);
        assert.deepEqual(emu.serving.servedTraffic(EP), before);
      });
    }
  });
});
