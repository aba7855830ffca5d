/**
 * The pure parts of Deploy Model to Serving: the decision record reader (against the fixture record Evaluate &
 * Promote's writer produced, so a change of that shape fails here), the smoke test parser and the traffic plans.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mapInputSource, Inputs } from '../../../src/pipeline/inputs';
import { parseServeInputs } from '../../../src/tasks/serve/inputs';
import { entityNameFor, parseSmokeTest, planConfig, versionFromDecisionRecord } from '../../../src/tasks/serve/run';
import { rolloutProgress } from '../../../src/tasks/serve/progress';
import type { ServingEndpoint } from '../../../src/databricks/serving';
import { RECORD_SCHEMA } from '../../../src/tasks/evaluate/report';
import { DECISION_RECORD_SCHEMA } from '../../../src/tasks/common/decision-record';
import { REPO_ROOT } from '../../helpers/agent';

const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'evaluation-record.json');

describe('Deploy Model to Serving: decision record, smoke test, traffic plans', () => {
  it('reads the promoted version from the fixture record of Evaluate & Promote (schema shared with its writer)', () => {
    assert.equal(DECISION_RECORD_SCHEMA, RECORD_SCHEMA);
    const text = readFileSync(FIXTURE, 'utf8');
    assert.equal(versionFromDecisionRecord(text, 'evaluation.json', 'main.ml.churn_classifier', 'unityCatalog'), '8');
    assert.throws(
      () => versionFromDecisionRecord(text, 'evaluation.json', 'main.ml.churn_classifier', 'workspace'),
      /is about the unityCatalog registry, but registry is workspace\.$/,
    );
    assert.throws(() => versionFromDecisionRecord('{"decision": {}}', 'x.json', 'm', 'workspace'), /x\.json is not a decision record of Evaluate & Promote/);
    assert.throws(() => versionFromDecisionRecord('not json', 'x.json', 'm', 'workspace'), /The decision record \(decisionRecord\) x\.json is not JSON/);
  });

  it('smoke test: records, dataframe_records and dataframe_split bodies; anything else refused with the accepted shapes', () => {
    assert.deepEqual(parseSmokeTest('[{"a": 1}, {"a": 2}]', 'f'), { body: { dataframe_records: [{ a: 1 }, { a: 2 }] }, records: 2 });
    assert.deepEqual(parseSmokeTest('{"dataframe_records": [{"a": 1}]}', 'f'), { body: { dataframe_records: [{ a: 1 }] }, records: 1 });
    assert.deepEqual(parseSmokeTest('{"dataframe_split": {"columns": ["a"], "data": [[1], [2], [3]]}}', 'f'), {
      body: { dataframe_split: { columns: ['a'], data: [[1], [2], [3]] } },
      records: 3,
    });
    for (const bad of ['{"instances": [[1]]}', '[1, 2]', '{"dataframe_split": {"data": []}}', '{"dataframe_records": [], "x": 1}', '"text"']) {
      assert.throws(() => parseSmokeTest(bad, 'f'), /The smoke test file \(smokeTestFile\) f (has an unexpected shape|must hold at least one record)/, bad);
    }
  });

  it('entity names: letters, digits, - and _ only', () => {
    assert.equal(entityNameFor('main.ml.churn', '8'), 'main-ml-churn-8');
    assert.equal(entityNameFor('churn classifier', '2'), 'churn-classifier-2');
  });

  describe('planConfig', () => {
    const inputs = (extra: Record<string, string> = {}) =>
      parseServeInputs(new Inputs(mapInputSource({ endpointName: 'ep', modelName: 'main.ml.churn', ...extra })));
    const endpoint = (entities: Array<[string, string, number, Record<string, unknown>?]>) => ({
      name: 'ep',
      state: { config_update: 'NOT_UPDATING', ready: 'READY' },
      config: {
        served_entities: entities.map(([model, v, , extra]) => ({
          name: entityNameFor(model, v),
          entity_name: model,
          entity_version: v,
          workload_size: 'Small',
          workload_type: 'CPU',
          scale_to_zero_enabled: false,
          ...extra,
        })),
        traffic_config: { routes: entities.map(([model, v, t]) => ({ served_entity_name: entityNameFor(model, v), traffic_percentage: t })) },
      },
    });
    const shape = (p: ReturnType<typeof planConfig>) =>
      p.desired.map((e) => [e.entity.entity_name, e.entity.entity_version, e.traffic, e.entity.workload_size]);

    it('canary keeps the entity with most traffic (first on a tie) and drops the others', () => {
      const p = planConfig(
        inputs({ trafficMode: 'canary', canaryPercent: '5' }),
        '3',
        endpoint([
          ['main.ml.churn', '1', 50],
          ['main.ml.other', '4', 50, { workload_size: 'Large' }],
        ]) as never,
      );
      assert.deepEqual(shape(p), [
        ['main.ml.churn', '1', 95, 'Small'],
        ['main.ml.churn', '3', 5, 'Small'],
      ]);
      const q = planConfig(
        inputs({ trafficMode: 'canary', canaryPercent: '5' }),
        '3',
        endpoint([
          ['main.ml.churn', '1', 30],
          ['main.ml.churn', '2', 70, { workload_size: 'Large' }],
        ]) as never,
      );
      assert.deepEqual(shape(q), [
        ['main.ml.churn', '2', 95, 'Large'],
        ['main.ml.churn', '3', 5, 'Small'],
      ]);
      assert.equal(q.noop, false);
    });

    it('a canary already in place with the same share and compute is a no-op; another share is an update', () => {
      const ep = endpoint([
        ['main.ml.churn', '1', 90],
        ['main.ml.churn', '2', 10],
      ]) as never;
      assert.equal(planConfig(inputs({ trafficMode: 'canary', canaryPercent: '10' }), '2', ep).noop, true);
      assert.equal(planConfig(inputs({ trafficMode: 'canary', canaryPercent: '20' }), '2', ep).noop, false);
      assert.equal(planConfig(inputs({ trafficMode: 'canary', canaryPercent: '10', workloadSize: 'Medium' }), '2', ep).noop, false);
    });

    it('replace of the version already served with other compute is an update, keeping the entity name', () => {
      const p = planConfig(inputs({ workloadSize: 'Large' }), '2', endpoint([['main.ml.churn', '2', 100]]) as never);
      assert.equal(p.noop, false);
      assert.deepEqual(
        p.desired.map((e) => e.name),
        ['main-ml-churn-2'],
      );
    });

    it('canary against an endpoint that serves only that version changes nothing and says why', () => {
      const p = planConfig(inputs({ trafficMode: 'canary' }), '2', endpoint([['main.ml.churn', '2', 100]]) as never);
      assert.equal(p.noop, true);
      assert.match(p.noopReason!, /there is no other version to keep as the stable one, so nothing was changed\.$/);
    });

    it('an endpoint serving an external model is refused', () => {
      const ep = { name: 'ep', config: { served_entities: [{ name: 'gpt', external_model: { name: 'gpt-4o' } }], traffic_config: { routes: [] } } };
      assert.throws(() => planConfig(inputs(), '2', ep as never), /not a registered model version \(external or foundation model\)/);
    });
  });

  it('inputs: the workspace registry with versionSource alias means the latest version in stage Production', () => {
    const p = parseServeInputs(new Inputs(mapInputSource({ endpointName: 'ep', modelName: 'churn', registry: 'workspace' })));
    assert.deepEqual(p.source, { kind: 'stage', stage: 'Production' });
    assert.deepEqual(
      {
        traffic: p.traffic,
        workloadSize: p.workloadSize,
        workloadType: p.workloadType,
        scaleToZero: p.scaleToZero,
        timeoutMs: p.timeoutMs,
        rollbackOnFailure: p.rollbackOnFailure,
        createIfMissing: p.createIfMissing,
        smokeTestFile: p.smokeTestFile,
      },
      {
        traffic: { kind: 'replace' },
        workloadSize: 'Small',
        workloadType: 'CPU',
        scaleToZero: false,
        timeoutMs: 1_800_000,
        rollbackOnFailure: true,
        createIfMissing: true,
        smokeTestFile: undefined,
      },
    );
  });

  it('inputs: an empty filePath input arrives as the default working directory and means "not set"', () => {
    const p = parseServeInputs(
      new Inputs(
        mapInputSource(
          { endpointName: 'ep', modelName: 'main.ml.churn', smokeTestFile: '/agent/_work/1/s' },
          { 'System.DefaultWorkingDirectory': '/agent/_work/1/s' },
        ),
      ),
    );
    assert.equal(p.smokeTestFile, undefined);
    const q = parseServeInputs(
      new Inputs(
        mapInputSource(
          { endpointName: 'ep', modelName: 'main.ml.churn', smokeTestFile: 'tests/smoke.json' },
          { 'System.DefaultWorkingDirectory': '/agent/_work/1/s' },
        ),
      ),
    );
    assert.equal(q.smokeTestFile, path.resolve('/agent/_work/1/s', 'tests/smoke.json'));
  });
});

describe('rolloutProgress: the timeline percent from the endpoint state, never from the clock', () => {
  const at = (
    config_update: string,
    ready: string,
    deployments?: Array<string | undefined>,
    field: 'served_entities' | 'served_models' = 'served_entities',
  ): ServingEndpoint => ({
    name: 'ep',
    state: { config_update, ready },
    ...(deployments ? { pending_config: { [field]: deployments.map((d, i) => ({ name: `e${i}`, ...(d ? { state: { deployment: d } } : {}) })) } } : {}),
  });

  it('counts the ready served entities of the pending config, below 100 until the update is over', () => {
    assert.deepEqual(rolloutProgress(at('IN_PROGRESS', 'NOT_READY', ['DEPLOYMENT_CREATING'])), { percent: 0, operation: '0 of 1 served entity ready' });
    assert.deepEqual(rolloutProgress(at('IN_PROGRESS', 'READY', ['DEPLOYMENT_READY', 'DEPLOYMENT_CREATING'])), {
      percent: 50,
      operation: '1 of 2 served entities ready',
    });
    assert.deepEqual(rolloutProgress(at('IN_PROGRESS', 'READY', ['DEPLOYMENT_READY', 'DEPLOYMENT_READY', 'DEPLOYMENT_RECOVERING'])), {
      percent: 67,
      operation: '2 of 3 served entities ready',
    });
    assert.deepEqual(rolloutProgress(at('IN_PROGRESS', 'READY', ['DEPLOYMENT_READY'])), { percent: 99, operation: '1 of 1 served entity ready' });
    assert.deepEqual(rolloutProgress(at('IN_PROGRESS', 'NOT_READY', ['DEPLOYMENT_READY', 'DEPLOYMENT_CREATING'], 'served_models')), {
      percent: 50,
      operation: '1 of 2 served entities ready',
    });
  });

  it('100 once NOT_UPDATING and READY; no percentage when nothing measures the update or it failed', () => {
    assert.deepEqual(rolloutProgress(at('NOT_UPDATING', 'READY')), { percent: 100, operation: 'updated and ready' });
    assert.equal(rolloutProgress(at('IN_PROGRESS', 'NOT_READY')), undefined);
    assert.equal(rolloutProgress(at('IN_PROGRESS', 'NOT_READY', [])), undefined);
    assert.equal(rolloutProgress(at('IN_PROGRESS', 'NOT_READY', [undefined, undefined])), undefined);
    assert.equal(rolloutProgress(at('UPDATE_FAILED', 'READY', ['DEPLOYMENT_FAILED'])), undefined);
    assert.equal(rolloutProgress(at('UPDATE_CANCELED', 'READY', ['DEPLOYMENT_ABORTED'])), undefined);
    assert.equal(rolloutProgress(at('NOT_UPDATING', 'NOT_READY')), undefined);
  });
});
