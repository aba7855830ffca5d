/**
 * Emulator routes the clients do not all exercise: run lifecycle writes, view types, param immutability,
 * the OSS transition path, registered-model search paging, aliases on the workspace registry and the
 * Files API / DBFS directory operations. Every MLflow response is checked against its proto message.
 */
import assert from 'node:assert/strict';
import { assertExchangesMatchProtos, startContext, type TestContext } from './helpers';
import { rejectsWith } from '../helpers/rejects';

describe('MLflow and Files emulator routes', () => {
  let ctx: TestContext;
  let expId: string;
  const req = <T = any>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'HEAD', path: string, bodyOrQuery?: Record<string, unknown>) =>
    ctx.api.request<T>(
      method === 'GET' || method === 'DELETE' || method === 'HEAD' ? { method, path, query: bodyOrQuery as never } : { method, path, body: bodyOrQuery },
    );

  beforeEach(async () => {
    ctx = await startContext();
    expId = ctx.emu.mlflow.createExperiment('/Shared/emu');
  });
  afterEach(async () => {
    try {
      assertExchangesMatchProtos(ctx.exchanges);
    } finally {
      await ctx.emu.close();
    }
  });

  it('runs/create -> log-parameter / log-metric -> update: latest metric per key, params immutable, run name tag', async () => {
    const { run } = await req('POST', '/api/2.0/mlflow/runs/create', {
      experiment_id: expId,
      run_name: 'train-1',
      start_time: 1000,
      tags: [{ key: 'candidate', value: 'true' }],
    });
    const id = run.info.run_id as string;
    assert.equal(run.info.status, 'RUNNING');
    assert.equal(run.info.run_name, 'train-1');
    assert.equal('end_time' in run.info, false, 'unset end_time is omitted');
    await req('POST', '/api/2.0/mlflow/runs/log-parameter', { run_id: id, key: 'depth', value: '6' });
    await req('POST', '/api/2.0/mlflow/runs/log-parameter', { run_id: id, key: 'depth', value: '6' });
    await rejectsWith(
      req('POST', '/api/2.0/mlflow/runs/log-parameter', { run_id: id, key: 'depth', value: '7' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Changing param values is not allowed/,
    );
    await req('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: id, key: 'auc', value: 0.7, timestamp: 10, step: 1 });
    await req('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: id, key: 'auc', value: 0.8, timestamp: 5, step: 2 });
    await req('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: id, key: 'auc', value: 0.6, timestamp: 99, step: 0 });
    const { run_info } = await req('POST', '/api/2.0/mlflow/runs/update', { run_id: id, status: 'FINISHED', end_time: 2000 });
    assert.equal(run_info.status, 'FINISHED');
    assert.equal(run_info.end_time, 2000);
    const got = await req('GET', '/api/2.0/mlflow/runs/get', { run_id: id });
    assert.deepEqual(got.run.data, {
      metrics: [{ key: 'auc', value: 0.8, timestamp: 5, step: 2 }],
      params: [{ key: 'depth', value: '6' }],
      tags: [
        { key: 'candidate', value: 'true' },
        { key: 'mlflow.runName', value: 'train-1' },
      ],
    });
  });

  it('run_view_type: deleted runs only appear with DELETED_ONLY or ALL', async () => {
    const a = ctx.emu.mlflow.createRun({ experimentId: expId, startTime: 1 }).info.run_id;
    const b = ctx.emu.mlflow.createRun({ experimentId: expId, startTime: 2 }).info.run_id;
    await req('POST', '/api/2.0/mlflow/runs/delete', { run_id: b });
    const ids = async (view?: string) =>
      ((await req('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [expId], ...(view ? { run_view_type: view } : {}) })).runs ?? []).map(
        (r: any) => r.info.run_id,
      );
    assert.deepEqual(await ids(), [a]);
    assert.deepEqual(await ids('DELETED_ONLY'), [b]);
    assert.deepEqual(await ids('ALL'), [b, a]);
  });

  it('runs/search validates experiment ids, max_results, page tokens, filters and order_by', async () => {
    await rejectsWith(req('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [] }), 400, 'INVALID_PARAMETER_VALUE');
    await rejectsWith(req('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: ['424242'] }), 404, 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(req('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [expId], max_results: 50001 }), 400, 'INVALID_PARAMETER_VALUE');
    await rejectsWith(req('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [expId], page_token: 'garbage!' }), 400, 'INVALID_PARAMETER_VALUE');
    await rejectsWith(
      req('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [expId], filter: "metrics.auc > '0.5'" }),
      400,
      'INVALID_PARAMETER_VALUE',
      /must be a number/,
    );
    await rejectsWith(
      req('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [expId], filter: 'tags.x = 1' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /must be a quoted string/,
    );
    await rejectsWith(
      req('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [expId], filter: "status IN ('FINISHED')" }),
      400,
      'INVALID_PARAMETER_VALUE',
      /operator 'IN' is not supported/,
    );
    await rejectsWith(
      req('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [expId], filter: "attributes.colour = 'x'" }),
      400,
      'INVALID_PARAMETER_VALUE',
      /Invalid attribute key 'colour'/,
    );
    await rejectsWith(
      req('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [expId], order_by: ['attributes.colour DESC'] }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
  });

  it('run_id IN, missing keys never match, and runs missing the order key sort last', async () => {
    const a = ctx.emu.mlflow.createRun({ experimentId: expId, metrics: { auc: 0.5 }, startTime: 1 }).info.run_id;
    const b = ctx.emu.mlflow.createRun({ experimentId: expId, startTime: 2 }).info.run_id;
    const c = ctx.emu.mlflow.createRun({ experimentId: expId, metrics: { auc: 0.9 }, startTime: 3 }).info.run_id;
    const ids = async (body: Record<string, unknown>) =>
      ((await req('POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [expId], ...body })).runs ?? []).map((r: any) => r.info.run_id);
    assert.deepEqual(await ids({ filter: `attributes.run_id IN ('${a}', '${b}')` }), [b, a]);
    assert.deepEqual(await ids({ filter: 'metrics.auc != 0.5' }), [c]);
    assert.deepEqual(await ids({ order_by: ['metrics.auc ASC'] }), [a, c, b]);
    assert.deepEqual(await ids({ order_by: ['metrics.auc DESC'] }), [c, a, b]);
  });

  it('workspace registry: OSS transition path requires archive_existing_versions; search paging; aliases; get-latest-versions without stages', async () => {
    const v1 = ctx.emu.mlflow.createModelVersion('m', { source: 's1' });
    const v2 = ctx.emu.mlflow.createModelVersion('m', { source: 's2' });
    await rejectsWith(
      req('POST', '/api/2.0/mlflow/model-versions/transition-stage', { name: 'm', version: v1, stage: 'Production' }),
      400,
      'INVALID_PARAMETER_VALUE',
      /archive_existing_versions/,
    );
    const t = await req('POST', '/api/2.0/mlflow/model-versions/transition-stage', {
      name: 'm',
      version: v1,
      stage: 'production',
      archive_existing_versions: false,
    });
    assert.equal(t.model_version.current_stage, 'Production', 'stage names are canonicalized');
    const latest = await req('POST', '/api/2.0/mlflow/registered-models/get-latest-versions', { name: 'm' });
    assert.deepEqual(
      latest.model_versions.map((v: any) => [v.current_stage, v.version]),
      [
        ['None', v2],
        ['Production', v1],
      ],
    );
    for (const n of ['a', 'b', 'c']) ctx.emu.mlflow.createRegisteredModel(n);
    const p1 = await req('GET', '/api/2.0/mlflow/registered-models/search', { max_results: 3 });
    assert.deepEqual(
      p1.registered_models.map((m: any) => m.name),
      ['a', 'b', 'c'],
    );
    const p2 = await req('GET', '/api/2.0/mlflow/registered-models/search', { max_results: 3, page_token: p1.next_page_token });
    assert.deepEqual(
      p2.registered_models.map((m: any) => m.name),
      ['m'],
    );
    assert.equal('next_page_token' in p2, false);
    await req('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'm', alias: 'champion', version: v2 });
    const byAlias = await req('GET', '/api/2.0/mlflow/registered-models/alias', { name: 'm', alias: 'champion' });
    assert.deepEqual(byAlias.model_version.aliases, ['champion']);
    // DELETE with a JSON body (MLflow Python client style) works as well as query parameters.
    await ctx.api.request({ method: 'DELETE', path: '/api/2.0/mlflow/registered-models/alias', body: { name: 'm', alias: 'champion' } });
    assert.deepEqual(ctx.emu.mlflow.aliases('m'), {});
    await rejectsWith(
      req('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'm', alias: 'v1', version: v1 }),
      400,
      'INVALID_PARAMETER_VALUE',
      /reserved/,
    );
  });

  it('model versions become READY after the configured emulated delay; a pinned version stays put until unpinned', async () => {
    ctx.emu.mlflow.setVersionReadyDelayMs(10_000);
    ctx.emu.mlflow.createRegisteredModel('m');
    const { model_version } = await req('POST', '/api/2.0/mlflow/model-versions/create', { name: 'm', source: 'runs:/r/model' });
    assert.equal(model_version.status, 'PENDING_REGISTRATION');
    ctx.emu.clock.advance(9_000);
    assert.equal(ctx.emu.mlflow.statusOf('m', '1'), 'PENDING_REGISTRATION');
    ctx.emu.clock.advance(1_000);
    assert.equal(ctx.emu.mlflow.statusOf('m', '1'), 'READY');
    ctx.emu.mlflow.setVersionStuck('m', 'PENDING_REGISTRATION', { version: '1' });
    assert.equal(ctx.emu.mlflow.statusOf('m', '1'), 'PENDING_REGISTRATION');
    ctx.emu.mlflow.setVersionStuck('m', 'READY', { version: '1' });
    assert.equal(ctx.emu.mlflow.statusOf('m', '1'), 'READY');
    await rejectsWith(req('POST', '/api/2.0/mlflow/model-versions/create', { name: 'nope', source: 's' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(req('POST', '/api/2.0/mlflow/model-versions/create', { name: 'm' }), 400, 'INVALID_PARAMETER_VALUE', /source/);
  });

  it('Files API directories: mkdir, paged listing, delete of a non-empty directory refused; DBFS list, mkdirs and recursive delete', async () => {
    ctx.emu.files.write('/Volumes/c/s/v/d/a.txt', 'a');
    ctx.emu.files.write('/Volumes/c/s/v/d/b.txt', 'bb');
    ctx.emu.files.write('/Volumes/c/s/v/d/sub/c.txt', 'ccc');
    await req('PUT', '/api/2.0/fs/directories/Volumes/c/s/v/d/empty');
    const p1 = await req('GET', '/api/2.0/fs/directories/Volumes/c/s/v/d', { page_size: 2 });
    assert.deepEqual(
      p1.contents.map((e: any) => [e.name, e.is_directory ?? false, e.file_size]),
      [
        ['a.txt', false, 1],
        ['b.txt', false, 2],
      ],
    );
    const p2 = await req('GET', '/api/2.0/fs/directories/Volumes/c/s/v/d', { page_size: 2, page_token: p1.next_page_token });
    assert.deepEqual(
      p2.contents.map((e: any) => [e.path, e.is_directory]),
      [
        ['/Volumes/c/s/v/d/empty', true],
        ['/Volumes/c/s/v/d/sub', true],
      ],
    );
    assert.equal('next_page_token' in p2, false);
    await rejectsWith(req('DELETE', '/api/2.0/fs/directories/Volumes/c/s/v/d/sub'), 409, 'DIRECTORY_NOT_EMPTY');
    await req('DELETE', '/api/2.0/fs/directories/Volumes/c/s/v/d/empty');
    await rejectsWith(req('GET', '/api/2.0/fs/directories/Volumes/c/s/v/nowhere'), 404, 'NOT_FOUND');

    ctx.emu.files.write('dbfs:/mnt/x/a.bin', 'aaaa');
    await req('POST', '/api/2.0/dbfs/mkdirs', { path: '/mnt/x/empty' });
    const list = await req('GET', '/api/2.0/dbfs/list', { path: '/mnt/x' });
    assert.deepEqual(
      list.files.map((f: any) => [f.path, f.is_dir ?? false, f.file_size]),
      [
        ['/mnt/x/a.bin', false, 4],
        ['/mnt/x/empty', true, undefined],
      ],
    );
    await rejectsWith(req('POST', '/api/2.0/dbfs/delete', { path: '/mnt/x', recursive: false }), 400, 'IO_ERROR');
    await req('POST', '/api/2.0/dbfs/delete', { path: '/mnt/x', recursive: true });
    assert.deepEqual(ctx.emu.files.list('dbfs:/mnt'), []);
    await rejectsWith(
      req('POST', '/api/2.0/dbfs/put', { path: '/big', contents: Buffer.alloc(1024 * 1024 + 1).toString('base64') }),
      400,
      'MAX_BLOCK_SIZE_EXCEEDED',
    );
    await rejectsWith(req('GET', '/api/2.0/dbfs/read', { path: 'dbfs:/x' }), 400, 'INVALID_PARAMETER_VALUE');
    await rejectsWith(req('POST', '/api/2.0/dbfs/add-block', { handle: 1, data: '' }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });
});
