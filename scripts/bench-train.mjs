// Train request budget: runs the Train task's run(inputs, deps) in process against the local emulator
// for a Databricks run that lasts one emulated hour, with a clock linked to the emulator (sleeps advance
// emulated time, so this takes about a second), and prints how many requests it made.
// Target: fewer than 150 requests for one hour (poll 2 s, x1.5, capped at 30 s). Reported, not asserted.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const TARGET = 150;
const HOUR_MS = 3_600_000;

if (!existsSync(path.join(root, 'out/src/tasks/train/run.js'))) {
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });
}
const { startEmulator, EMULATOR_DEFAULTS } = require(path.join(root, 'out/emulator/index.js'));
const { createApiClient } = require(path.join(root, 'out/src/databricks/http.js'));
const { patTokenProvider } = require(path.join(root, 'out/src/databricks/auth.js'));
const { JobsClient } = require(path.join(root, 'out/src/databricks/jobs.js'));
const { run } = require(path.join(root, 'out/src/tasks/train/run.js'));

const quietHost = (signal) => ({
  log: { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} },
  setOutput: () => {},
  setSecret: () => {},
  setProgress: () => {},
  uploadSummary: () => {},
  addAttachment: () => {},
  tempDir: root,
  signal,
  onCancel: () => {},
});

const emu = await startEmulator();
try {
  const clock = emu.linkedClock();
  const api = createApiClient({ host: emu.url, tokenProvider: patTokenProvider(EMULATOR_DEFAULTS.pat), clock });
  const jobs = new JobsClient(api, { clock });
  emu.jobs.notebooks.register('/bench/train', () => ({ exitValue: 'done' }));
  emu.jobs.durations = { queuedMs: 0, pendingMs: 5 * 60_000, runningMs: HOUR_MS - 6 * 60_000, terminatingMs: 60_000 };
  const jobId = emu.jobs.createJob({ name: 'bench-train', tasks: [{ task_key: 'train', notebook_task: { notebook_path: '/bench/train' } }] });
  const t0 = Date.now();
  const outcome = await run(
    {
      target: { kind: 'existingJob', jobId },
      parameters: {},
      waitForCompletion: true,
      timeoutMs: 2 * HOUR_MS,
      cancelRunOnAbort: true,
      tagCandidates: false,
      candidateTag: 'candidate',
      experiments: [],
    },
    { jobs, host: quietHost(new AbortController().signal), clock, pipeline: { buildId: '1', taskInstanceId: 'bench' } },
  );
  const polls = emu.callsTo('GET', '/api/2.2/jobs/runs/get').length;
  const total = emu.requests.length;
  const emulatedMin = (clock.sleeps.reduce((a, b) => a + b, 0) / 60_000).toFixed(1);
  console.log(
    `train: ${outcome.result}; one emulated hour (${emulatedMin} min of waiting) took ${total} requests (${polls} runs/get polls), target < ${TARGET}: ${total < TARGET ? 'met' : 'MISSED'}; ${Date.now() - t0} ms real time`,
  );
} finally {
  await emu.close();
}
