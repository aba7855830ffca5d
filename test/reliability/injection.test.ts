/**
 * Issue 16: logging commands fed through every input and every workspace field the tasks print (notebook
 * exit value, a failing task's error and trace, job and run names, the run-name tag, MLflow and Databricks
 * API error messages, Git folder paths) come out inert. Each case runs the bundled task against the
 * emulator, whether it succeeds or fails, and asserts: a task.complete line; no command the agent would
 * execute except the task's own (test/helpers/commands.ts models Command.TryParse); no `##vso[` / `##[` in
 * any printed text or file the run leaves; only restricted-mode commands where task.json restricts them;
 * no secret (harness scan, System.Debug on).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NotebookError } from '../../emulator/routes/jobs';
import { DEFAULT_NOTEBOOK_PATH } from '../../src/tasks/evaluate/inputs';
import type { AgentRunResult } from '../helpers/agent';
import { commandProblems, hasCommandPrefix } from '../helpers/commands';
import {
  arrowFile,
  deployWorld,
  evaluateWorld,
  EVAL_OUT,
  pool,
  predictionColumns,
  runFiles,
  runWorld,
  TRAIN_NOTEBOOK,
  trainWorld,
  withEmulator,
  World,
} from './harness';
import { ALLOWED_IN_RESTRICTED_MODE, taskJson } from './restrictions';

const SETVAR = '##vso[task.setvariable variable=pwned;isOutput=true]owned';
/** Commands in several disguises: plain, upper case, after a bare \r (a new line for the agent), with a zero-width space, and formatting. */
const PAYLOAD = `${SETVAR} ##VSO[task.complete result=Succeeded]x\r##vso[task.setvariable variable=pwned2]y #\u200b#vso[task.setvariable variable=pwned3]z ##[group]fold`;

interface InjectionCase {
  name: string;
  task: 'train' | 'deploy' | 'evaluate';
  /** Prepares the world (workspace fields, faults) and returns the inputs to run with. */
  setup(w: World<unknown>): Record<string, string | undefined> | Promise<Record<string, string | undefined>>;
  /** The text (neutralised) the log or message must show, proving the field was printed at all. */
  shows: RegExp;
  result: 'Succeeded' | 'SucceededWithIssues' | 'Failed';
}

const FOLDER = { train: 'DatabricksTrainV1', deploy: 'DatabricksReposDeployV1', evaluate: 'DatabricksEvaluatePromoteV1' } as const;
const SHOWN = /\*\*vso\[task\.setvariable variable=pwned;isOutput=true\]owned \*\*VSO\[task\.complete/;

const CASES: InjectionCase[] = [
  {
    name: 'Train: notebook exit value (Notebook output line and notebookOutput variable)',
    task: 'train',
    setup: (w) => {
      w.emu.jobs.notebooks.register(TRAIN_NOTEBOOK, () => ({ exitValue: PAYLOAD }));
      return { experiments: undefined, tagCandidates: 'false' };
    },
    shows: /Notebook output: \*\*vso\[task\.setvariable/,
    result: 'Succeeded',
  },
  {
    name: "Train: a failing task's error and trace",
    task: 'train',
    setup: (w) => {
      w.emu.jobs.notebooks.register(TRAIN_NOTEBOOK, () => {
        throw new NotebookError(`ValueError: ${PAYLOAD}`, `Traceback (most recent call last):\n  File "train.py", line 1\n${PAYLOAD}\n##[error]forged`);
      });
      return { experiments: undefined };
    },
    shows: /ValueError: \*\*vso\[task\.setvariable/,
    result: 'Failed',
  },
  {
    name: 'Train: job name (jobName input accepted and echoed as Job "<name>" is job <id>)',
    task: 'train',
    setup: (w) => {
      w.emu.jobs.createJob({ name: `churn ${PAYLOAD.replace(/\r/g, ' ')}`, tasks: [{ task_key: 'train', notebook_task: { notebook_path: TRAIN_NOTEBOOK } }] });
      return { jobId: undefined, jobName: `churn ${PAYLOAD.replace(/\r/g, ' ')}`, experiments: undefined, tagCandidates: 'false' };
    },
    shows: /Job "churn \*\*vso\[task\.setvariable/,
    result: 'Succeeded',
  },
  {
    name: 'Train: job names listed when jobName matches none',
    task: 'train',
    setup: (w) => {
      w.emu.jobs.createJob({ name: `churn-train-v2 ${SETVAR}`, tasks: [{ task_key: 'train', notebook_task: { notebook_path: TRAIN_NOTEBOOK } }] });
      return { jobId: undefined, jobName: 'churn', experiments: undefined };
    },
    shows: /Similar job names: .*"churn-train-v2 \*\*vso\[task\.setvariable/,
    result: 'Failed',
  },
  {
    name: 'Train: API error message (jobs/get answering 400 with a command in its message)',
    task: 'train',
    setup: (w) => {
      w.emu.faults.add({ path: /\/jobs\/get$/, kind: 'status', status: 400, errorCode: 'INVALID_PARAMETER_VALUE', message: PAYLOAD });
      return {};
    },
    shows: /does not exist in this workspace or this identity cannot see it \(.*\*\*vso\[task\.setvariable/,
    result: 'Failed',
  },
  {
    name: 'Train: experiments path accepted by the checks, echoed when it does not exist',
    task: 'train',
    setup: () => ({ experiments: `/Shared/churn ${SETVAR}` }),
    shows: /\/Shared\/churn \*\*vso\[task\.setvariable/,
    result: 'Failed',
  },
  {
    name: 'Train: jobParameters value carrying commands (sent, never printed as a command)',
    task: 'train',
    setup: (w) => {
      w.emu.jobs.notebooks.register(TRAIN_NOTEBOOK, (ctx) => ({ exitValue: `got ${ctx.params.note ?? ''}` }));
      return { experiments: undefined, tagCandidates: 'false', jobParameters: `note=${SETVAR} ##[error]x` };
    },
    shows: /Notebook output: got \*\*vso\[task\.setvariable/,
    result: 'Succeeded',
  },
  {
    name: 'Deploy: Git folder path accepted by the checks (created, echoed in every line)',
    task: 'deploy',
    setup: () => ({ repoPath: `/Repos/Production/churn ${SETVAR}` }),
    shows: /\/Repos\/Production\/churn \*\*vso\[task\.setvariable/,
    result: 'Succeeded',
  },
  {
    name: 'Deploy: API error message (repos list answering 403 with a command in its message)',
    task: 'deploy',
    setup: (w) => {
      w.emu.faults.add({ path: '/api/2.0/repos', kind: 'status', status: 403, message: PAYLOAD, times: Infinity });
      return {};
    },
    shows: SHOWN,
    result: 'Failed',
  },
  {
    name: 'Evaluate: run names (run_name and the mlflow.runName tag) of a skipped and an evaluated candidate, in the log, summary and record',
    task: 'evaluate',
    setup: (w) => {
      const ev = w as unknown as Awaited<ReturnType<typeof evaluateWorld>>;
      const exp = w.emu.mlflow.createExperiment('/Shared/churn-extra');
      w.emu.mlflow.createRun({ experimentId: exp, tags: { candidate: 'true', 'mlflow.runName': `tagged ${SETVAR}` } });
      ev.addCandidate(`named ${PAYLOAD.replace(/\r/g, ' ')}`, 0.6);
      return { dryRun: 'true', experiments: '/Shared/churn\n/Shared/churn-extra' };
    },
    shows: /tagged \*\*vso\[task\.setvariable/,
    result: 'Succeeded',
  },
  {
    name: 'Evaluate: modelName carrying a command (workspace registry, dry run)',
    task: 'evaluate',
    setup: () => ({ modelName: `churn ${SETVAR}`, dryRun: 'true' }),
    shows: /No production model \(churn \*\*vso\[task\.setvariable/,
    result: 'Succeeded',
  },
  {
    name: 'Evaluate: API error message (registered-models/get answering 403)',
    task: 'evaluate',
    setup: (w) => {
      w.emu.faults.add({ path: /registered-models\/get$/, kind: 'status', status: 403, message: PAYLOAD, times: Infinity });
      return {};
    },
    shows: SHOWN,
    result: 'Failed',
  },
  {
    name: "Evaluate: the scoring notebook's error and trace",
    task: 'evaluate',
    setup: (w) => {
      w.emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, () => {
        throw new NotebookError(`AnalysisException: ${PAYLOAD}`, `Traceback:\n${PAYLOAD}`);
      });
      return {};
    },
    shows: /AnalysisException: \*\*vso\[task\.setvariable/,
    result: 'Failed',
  },
  {
    name: "Evaluate: the scoring notebook's exit value",
    task: 'evaluate',
    setup: (w) => {
      w.emu.jobs.notebooks.register(DEFAULT_NOTEBOOK_PATH, (ctx) => {
        const keys = (JSON.parse(ctx.params.models) as Array<{ key: string }>).map((m) => m.key);
        w.emu.files.write(`${EVAL_OUT}/x/predictions.arrow`, arrowFile(predictionColumns(keys, Object.fromEntries(keys.map((k) => [k, 1])))));
        return { exitValue: `not json ${PAYLOAD}` };
      });
      return {};
    },
    shows: SHOWN,
    result: 'Failed',
  },
];

interface Outcome {
  r: AgentRunResult;
}

async function runCase(c: InjectionCase): Promise<Outcome> {
  return withEmulator(async (emu) => {
    const world: World<unknown> = c.task === 'train' ? await trainWorld(emu) : c.task === 'deploy' ? await deployWorld(emu) : await evaluateWorld(emu);
    const inputs = await c.setup(world);
    const r = await runWorld(`injection ${c.name}`, world, { inputs, variables: { 'System.Debug': 'true' } });
    return { r };
  });
}

describe('reliability: logging commands in inputs and workspace answers are inert', function () {
  this.timeout(300_000);
  const results = new Map<string, Outcome>();
  before(async () => {
    const out = await pool(CASES, 4, runCase);
    CASES.forEach((c, i) => results.set(c.name, out[i]));
  });

  for (const c of CASES) {
    it(c.name, () => {
      const { r } = results.get(c.name)!;
      const all = `${r.stdout}\n${r.stderr}`;
      assert.equal(
        r.complete?.result,
        c.result,
        r.stdout
          .split('\n')
          .filter((l) => !l.startsWith('##vso[task.debug]'))
          .join('\n'),
      );
      assert.match(
        `${r.logLines.join('\n')}\n${r.errors.join('\n')}\n${r.warnings.join('\n')}\n${r.complete?.message}`,
        c.shows,
        'the field was printed, neutralised',
      );
      const task = taskJson(FOLDER[c.task]);
      assert.deepEqual(
        commandProblems(
          all,
          task.outputVariables.map((o) => o.name),
        ),
        [],
      );
      assert.ok(!('pwned' in r.outputs) && !('pwned2' in r.outputs) && !('pwned3' in r.outputs));
      if (task.restrictions?.commands?.mode === 'restricted') {
        assert.deepEqual(
          r.commands.filter((x) => !ALLOWED_IN_RESTRICTED_MODE.has(x.name)).map((x) => x.name),
          [],
        );
      }
      for (const f of runFiles(r)) assert.ok(!hasCommandPrefix(f.text), `no command prefix in ${f.file}`);
    });
  }

  it('the Evaluate record keeps the run name exactly (the file encodes #, the data is unchanged)', () => {
    const { r } = results.get(CASES[9].name)!;
    const record = runFiles(r).find((f) => f.file.endsWith('.json'));
    assert.ok(record, 'a decision record was written');
    const text = readFileSync(record.file, 'utf8');
    assert.ok(!text.includes('#'));
    const parsed = JSON.parse(text) as { models: Array<{ runName?: string }> };
    assert.ok(
      parsed.models.some((m) => m.runName === `named ${PAYLOAD.replace(/\r/g, ' ')}`),
      record.text.slice(0, 400),
    );
  });
});
