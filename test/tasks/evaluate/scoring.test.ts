/**
 * DatabricksScoring against the emulator: a re-run whose scoring run (found again by its idempotency token)
 * lost its predictions file scores afresh under a derived token, bounded; a run that can no longer be
 * followed is cancelled and named.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FilesClient } from '../../../src/databricks/files';
import { JobsClient } from '../../../src/databricks/jobs';
import { WorkspaceClient } from '../../../src/databricks/workspace';
import type { Emulator } from '../../../emulator';
import type { BuildContext } from '../../../src/tasks/evaluate/inputs';
import { DatabricksScoring, MAX_RESCORES, type ScoringFeatures } from '../../../src/tasks/evaluate/scoring';
import { InProcessHarness } from '../../helpers/task-harness';

const BUILD: BuildContext = { buildId: '4242', jobAttempt: '1', taskInstanceId: 't1', collectionUri: 'https://dev.azure.com/c/', teamProject: 'p' };
const NB = '/Shared/mlops/evaluate_models';
const OUT = '/Volumes/main/ml/scratch/eval';
const MODELS = [{ key: 'production', uri: 'models:/churn/1' }];

describe('evaluate: DatabricksScoring against the emulator', () => {
  let emu: Emulator;
  let lines: string[];
  const harness = new InProcessHarness({ retry: { maxAttempts: 1 } });
  beforeEach(async () => {
    emu = await harness.start();
    emu.jobs.durations = { queuedMs: 0, pendingMs: 10, runningMs: 10, terminatingMs: 10 };
    lines = [];
  });
  afterEach(() => harness.stop());

  function scoring(cancels: Array<() => Promise<void>> = [], features?: ScoringFeatures, jobId?: number): DatabricksScoring {
    const api = harness.api();
    const clock = emu.linkedClock();
    return new DatabricksScoring(
      {
        jobs: new JobsClient(api, { clock }),
        workspace: new WorkspaceClient(api),
        files: new FilesClient(api),
        log: { info: (m) => void lines.push(m), warn: (m) => void lines.push(`warn: ${m}`), error: () => {}, debug: () => {} },
        tempDir: mkdtempSync(path.join(tmpdir(), 'scoring-')),
        onCancel: (c) => void cancels.push(c),
        notebookSource: '# notebook',
        pollIntervalMs: { initial: 10, max: 20 },
      },
      { evaluationTable: 'main.ml.eval', maxRows: 0, outputPath: OUT, notebookPath: NB, timeoutMs: 600_000, cluster: { mode: 'serverless' }, jobId },
      'label',
      BUILD,
      'score churn',
      'databricks',
      features,
    );
  }

  /** The notebook: writes a small file (unless `write` is false) and exits with the contract. */
  function notebook(write = true): { calls: number } {
    const state = { calls: 0 };
    emu.jobs.notebooks.register(NB, (ctx) => {
      state.calls++;
      const file = `${ctx.params.output_path}/predictions.arrow`;
      if (write) emu.files.write(file, Buffer.from(`bytes of call ${state.calls}`));
      return { exitValue: JSON.stringify({ output_path: file, rows: 3 }) };
    });
    return state;
  }

  it('passes problem_type and slice_columns only when they differ from the default (binary, no slices)', () => {
    const base = {
      models: '[{"key":"production","uri":"models:/churn/1"}]',
      evaluation_table: 'main.ml.eval',
      evaluation_query: '',
      label_column: 'label',
      max_rows: '0',
      output_path: `${OUT}/x`,
      registry_uri: 'databricks',
    };
    assert.deepEqual(scoring().parameters(MODELS, `${OUT}/x`), base);
    assert.deepEqual(scoring([], { problemType: 'binaryClassification', sliceColumns: [] }).parameters(MODELS, `${OUT}/x`), base);
    assert.deepEqual(scoring([], { problemType: 'multiclass', sliceColumns: [] }).parameters(MODELS, `${OUT}/x`), { ...base, problem_type: 'multiclass' });
    assert.deepEqual(scoring([], { problemType: 'binaryClassification', sliceColumns: ['region', 'plan'] }).parameters(MODELS, `${OUT}/x`), {
      ...base,
      slice_columns: 'region,plan',
    });
    assert.deepEqual(scoring([], { problemType: 'regression', sliceColumns: ['region'] }).parameters(MODELS, `${OUT}/x`), {
      ...base,
      problem_type: 'regression',
      slice_columns: 'region',
    });
  });

  it('a scoring job with job parameters must define problem_type and slice_columns when the task passes them (nothing started)', async () => {
    const contract = ['models', 'evaluation_table', 'evaluation_query', 'label_column', 'max_rows', 'output_path', 'registry_uri'];
    const jobId = emu.jobs.createJob({
      name: 'score',
      parameters: contract.map((name) => ({ name, default: '' })),
      tasks: [{ task_key: 'score', notebook_task: { notebook_path: NB } }],
    });
    await assert.rejects(
      scoring([], { problemType: 'regression', sliceColumns: ['region'] }, jobId).produce(MODELS, new AbortController().signal),
      new RegExp(
        `^Error: Scoring job ${jobId} defines job parameters but not problem_type, slice_columns; add them \\(empty defaults\\) so the task can pass the scoring contract\\.$`,
      ),
    );
    await assert.rejects(
      scoring([], { problemType: 'multiclass', sliceColumns: [] }, jobId).produce(MODELS, new AbortController().signal),
      /defines job parameters but not problem_type;/,
    );
    assert.equal(emu.callsTo('POST', '/api/2.2/jobs/run-now').length, 0);
  });

  it('a re-run gets the finished scoring run back without its file: one fresh run under a derived token, logged', async () => {
    const nb = notebook();
    const first = await scoring().produce(MODELS, new AbortController().signal);
    assert.equal(Buffer.from(first.file!.whole()).toString(), 'bytes of call 1');
    await first.cleanup();
    lines = [];

    const again = await scoring().produce(MODELS, new AbortController().signal);
    assert.equal(Buffer.from(again.file!.whole()).toString(), 'bytes of call 2');
    assert.equal(nb.calls, 2);
    const tokens = emu.callsTo('POST', '/api/2.2/jobs/runs/submit').map((c) => c.body.idempotency_token as string);
    assert.equal(tokens.length, 3);
    assert.equal(tokens[1], tokens[0], 'the re-run found the first run by its token');
    assert.notEqual(tokens[2], tokens[0]);
    assert.match(tokens[2], /^[0-9a-f]{64}$/);
    // The fresh run writes into its own subfolder of the attempt's folder.
    const outputs = emu.callsTo('POST', '/api/2.2/jobs/runs/submit').map((c) => c.body.tasks[0].notebook_task.base_parameters.output_path as string);
    assert.match(outputs[0], new RegExp(`^${OUT}/evaluate-4242-1-[0-9a-f]{10}$`));
    assert.deepEqual(outputs.slice(1), [outputs[0], `${outputs[0]}/rescore-1`]);
    assert.equal(emu.jobs.runs.size, 2);
    const started = lines.filter((l) => l.startsWith('Started scoring run')).map((l) => Number(/(\d+)\.$/.exec(l)![1]));
    assert.equal(started.length, 2);
    const [r1, r2] = started;
    assert.equal(r1, first.context.scoringRunId);
    assert.notEqual(r2, r1);
    assert.equal(again.context.scoringRunId, r2);
    assert.ok(
      lines.some((l) =>
        new RegExp(
          `^The predictions file ${OUT}/evaluate-4242-1-[0-9a-f]{10}/predictions\\.arrow of Scoring run ${r1} \\(.*\\) no longer exists \\(an earlier attempt of this step read and deleted it before it was stopped; the scoring run was found again by its idempotency token\\)\\. Starting a fresh scoring run\\.$`,
        ).test(l),
      ),
      lines.join('\n'),
    );
    // The workspace import happens once per attempt, not once per scoring run.
    assert.equal(emu.callsTo('POST', '/api/2.0/workspace/import').length, 2);

    // A third attempt walks the same token sequence: the first and the fresh run come back; the fresh one's file is still there.
    const third = await scoring().produce(MODELS, new AbortController().signal);
    assert.equal(third.context.scoringRunId, r2);
    assert.equal(nb.calls, 2);
  });

  it(`a file that never appears: at most ${MAX_RESCORES} fresh runs, then the missing file is the error`, async () => {
    const nb = notebook(false);
    await assert.rejects(scoring().produce(MODELS, new AbortController().signal), /predictions\.arrow does not exist/);
    assert.equal(nb.calls, 1 + MAX_RESCORES);
    assert.equal(new Set(emu.callsTo('POST', '/api/2.2/jobs/runs/submit').map((c) => c.body.idempotency_token)).size, 1 + MAX_RESCORES);
  });

  it('a download failing otherwise (403) is not retried by scoring again', async () => {
    const nb = notebook();
    emu.faults.add({
      method: 'GET',
      path: /^\/api\/2\.0\/fs\/files\/.*\.arrow$/,
      kind: 'status',
      status: 403,
      errorCode: 'PERMISSION_DENIED',
      message: 'no read on the volume',
    });
    await assert.rejects(scoring().produce(MODELS, new AbortController().signal), /no read on the volume/);
    assert.equal(nb.calls, 1);
    assert.equal(emu.callsTo('POST', '/api/2.2/jobs/runs/submit').length, 1);
  });

  it('a poll that keeps failing (sign-in page): the scoring run is cancelled and named in the error', async () => {
    emu.jobs.notebooks.register(NB, () => ({ exitValue: '{}' }), { runningMs: 3_600_000 });
    emu.faults.add({ method: 'GET', path: '/api/2.2/jobs/runs/get', kind: 'html', times: Infinity });
    const err = await scoring()
      .produce(MODELS, new AbortController().signal)
      .then(
        () => undefined,
        (e: Error) => e,
      );
    const [runId] = [...emu.jobs.runs.keys()];
    assert.ok(err);
    assert.match(
      err.message,
      new RegExp(
        `^Scoring run ${runId} could not be followed: The workspace at 127\\.0\\.0\\.1:\\d+ returned an HTML sign-in page .*\\. It was cancelled; nothing was promoted\\.$`,
      ),
    );
    assert.deepEqual(
      emu.jobs.cancels.map((c) => c.runId),
      [runId],
    );
  });

  it('when the cancel fails too, the error says so', async () => {
    emu.jobs.notebooks.register(NB, () => ({ exitValue: '{}' }), { runningMs: 3_600_000 });
    emu.faults.add({ method: 'GET', path: '/api/2.2/jobs/runs/get', kind: 'html', times: Infinity });
    emu.faults.add({ method: 'POST', path: '/api/2.2/jobs/runs/cancel', kind: 'html', times: Infinity });
    await assert.rejects(
      scoring().produce(MODELS, new AbortController().signal),
      /^Error: Scoring run \d+ could not be followed: .*\. Cancelling it failed too; cancel it in the workspace; nothing was promoted\.$/,
    );
  });
});
