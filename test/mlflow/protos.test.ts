import assert from 'node:assert/strict';
import { assertExchangesMatchProtos } from './helpers';
import { checkMessage } from '../helpers/protos';

describe('checkMessage(typeName, json) against the MLflow protos', () => {
  it('accepts a conforming SearchRuns.Response, nested messages and enums included', () => {
    const json = {
      runs: [
        {
          info: { run_id: 'abc', experiment_id: '1', status: 'FINISHED', start_time: 1, lifecycle_stage: 'active' },
          data: { metrics: [{ key: 'auc', value: 0.9, timestamp: 1, step: 0 }], params: [{ key: 'a', value: 'b' }], tags: [{ key: 't', value: 'v' }] },
          inputs: {},
        },
      ],
      next_page_token: 'tok',
    };
    assert.deepEqual(checkMessage('mlflow.SearchRuns.Response', json), []);
  });

  it('reports unknown fields at any depth, wrong JSON types and unknown enum values', () => {
    const json = {
      runs: [{ info: { run_id: 'abc', bogus: 1, status: 'DONE' }, data: { metrics: [{ key: 'auc', value: '0.9', colour: 'red' }] } }],
      extra: true,
    };
    assert.deepEqual(
      checkMessage('mlflow.SearchRuns.Response', json).sort(),
      [
        "mlflow.SearchRuns.Response.extra: no field 'extra' in mlflow.SearchRuns.Response",
        'mlflow.SearchRuns.Response.runs[0].data.metrics[0].value: expected a number, got "0.9"',
        "mlflow.SearchRuns.Response.runs[0].data.metrics[0].colour: no field 'colour' in mlflow.Metric",
        "mlflow.SearchRuns.Response.runs[0].info.bogus: no field 'bogus' in mlflow.RunInfo",
        "mlflow.SearchRuns.Response.runs[0].info.status: 'DONE' is not a value of enum mlflow.RunStatus",
      ].sort(),
    );
  });

  it('checks requests too (SearchRuns) and the model registry messages', () => {
    assert.deepEqual(checkMessage('mlflow.SearchRuns', { experiment_ids: ['1'], filter: "tags.`a` = 'b'", max_results: 2, page_token: 'x' }), []);
    assert.deepEqual(checkMessage('mlflow.SearchRuns', { experiment_id: '1' }), [
      "mlflow.SearchRuns.experiment_id: no field 'experiment_id' in mlflow.SearchRuns",
    ]);
    assert.deepEqual(
      checkMessage('mlflow.GetModelVersion.Response', { model_version: { name: 'm', version: '1', status: 'READY', current_stage: 'None' } }),
      [],
    );
    assert.deepEqual(checkMessage('mlflow.GetModelVersion.Response', { model_version: { name: 'm', version: 1 } }), [
      'mlflow.GetModelVersion.Response.model_version.version: expected a string, got 1',
    ]);
  });

  it('the Databricks-only shapes (transition-stage, Unity Catalog) are checked from the reference transcription', () => {
    assert.deepEqual(
      checkMessage('databricks.TransitionModelVersionStageDatabricks.Response', {
        model_version_databricks: { name: 'm', version: '2', permission_level: 'CAN_MANAGE' },
      }),
      [],
    );
    assert.deepEqual(checkMessage('uc.ModelVersionResponse', { model_version: { name: 'a.b.c', version: '1', current_stage: 'None' } }), [
      "uc.ModelVersionResponse.model_version.current_stage: no field 'current_stage' in uc.ModelVersion",
    ]);
  });

  it('assertExchangesMatchProtos fails for a non-conforming exchange and for an unmapped MLflow path', () => {
    assert.throws(
      () => assertExchangesMatchProtos([{ method: 'POST', path: '/api/2.0/mlflow/runs/search', body: { experiment_ids: ['1'], colour: 'red' }, response: {} }]),
      /runs\/search request: mlflow.SearchRuns.colour: no field 'colour'/,
    );
    assert.throws(
      () => assertExchangesMatchProtos([{ method: 'GET', path: '/api/2.0/mlflow/unknown', response: {} }]),
      /no message mapping for GET \/api\/2.0\/mlflow\/unknown/,
    );
    assert.equal(
      assertExchangesMatchProtos([{ method: 'GET', path: '/api/2.0/mlflow/runs/get', query: { run_id: 'a' }, response: { run: { info: { run_id: 'a' } } } }]),
      1,
    );
  });
});
