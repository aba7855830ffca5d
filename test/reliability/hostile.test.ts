/**
 * Issues 10 and 16, hostile and bad input: each case runs a bundled task against the emulator the way the
 * agent runs it (System.Debug on, so debug lines are scanned too) with one bad or hostile input (URLs with
 * http, other schemes or credentials, `.`/`..` paths, control characters, logging commands, filter-injection
 * attempts, huge, duplicate-keyed or malformed JSON, non-numeric or out-of-range numbers, missing, empty or
 * malformed predictions files) and must end Failed with a task.complete line, a clear message naming the
 * input, no request at all where the input can be checked locally, no remote write in any case, no output
 * variable, no secret, and no executable logging command in any output line or file. The cases run
 * concurrently in `before`; each `it` checks one.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EMULATOR_DEFAULTS, type Emulator } from '../../emulator';
import type { AgentEndpoint, AgentRunResult } from '../helpers/agent';
import { commandProblems, hasCommandPrefix } from '../helpers/commands';
import { registerTestSecret } from '../helpers/secrets';
import {
  arrowFile,
  CONN,
  deployWorld,
  evaluateWorld,
  EVAL_ROWS,
  pool,
  predictionColumns,
  runFiles,
  runWorld,
  serveWorld,
  trainWorld,
  withEmulator,
  World,
} from './harness';
import { ALLOWED_IN_RESTRICTED_MODE, taskJson } from './restrictions';

const GIT_PAT = registerTestSecret('Git PAT in a repoUrl', 'hunter2-git-pat-in-url-0042');
const URL_PASSWORD = registerTestSecret('password in a workspace URL', 'workspace-url-password-0042');

type TaskKey = 'train' | 'deploy' | 'evaluate' | 'serve';

interface HostileCase {
  name: string;
  task: TaskKey;
  inputs?: Record<string, string | undefined>;
  /** Replaces the service connection (URL cases). */
  endpoint?: (emu: Emulator) => AgentEndpoint;
  /** Writes a predictions file for Evaluate (`predictionsSource: file`), given the column keys to use. */
  predictions?: (keys: string[]) => Buffer;
  message: RegExp;
  /** Reads are allowed (resolving candidates before reading a predictions file); false means not even a read. */
  readsAllowed?: boolean;
  /** What the message must name; default: the input the case sets last, databricksConnection for endpoints. */
  names?: string;
  /** Files and folders for the case, created in a fresh folder; inputs may refer to it as {dir}. */
  files?: Record<string, string | null>;
}

/** A logging command a hostile value carries: it would set a pipeline variable if the agent ran it. */
const SETVAR = '##vso[task.setvariable variable=pwned;isOutput=true]owned';
const FORMAT = '##[error]forged error';
const TRAIN_NB = { runType: 'notebook', jobId: undefined, clusterMode: 'serverless' };
const IMPORT = {
  mode: 'workspaceImport',
  repoPath: undefined,
  repoUrl: undefined,
  ref: undefined,
  sourceFolder: '{dir}/notebooks',
  workspaceFolder: '/Shared/churn/notebooks',
};
const UC = { registry: 'unityCatalog', modelName: 'main.ml.churn' };
const NEW_CLUSTER = '{"spark_version": "15.4.x-cpu-ml-scala2.12", "node_type_id": "Standard_DS3_v2", "num_workers": 1}';
const NOTEBOOK_PY = '# Databricks notebook source\nprint(1)\n';
const input = (name: string) => new RegExp(`\\b${name}\\b`);

const BIG_JSON = JSON.stringify(Object.fromEntries(Array.from({ length: 2_500 }, (_, i) => [`p${i}`, 'x'.repeat(36)])));
const DEEP_JSON = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;

/** Local files the serving cases point at (smoke tests and decision records are read before any request). */
const SERVE_FILES = mkdtempSync(path.join(tmpdir(), 'hostile-serve-'));
function serveFile(name: string, content: string): string {
  const file = path.join(SERVE_FILES, name);
  writeFileSync(file, content);
  return file;
}

function withColumn(keys: string[], f: (cols: Record<string, Float64Array | Int8Array>) => void): Buffer {
  const cols = predictionColumns(keys, Object.fromEntries(keys.map((k) => [k, k === 'production' ? 1.5 : 0.5])));
  f(cols);
  return arrowFile(cols);
}

/** A valid file whose record batch and field nodes claim 10x the rows its buffers hold. */
function claimingMoreRows(keys: string[]): Buffer {
  const good = withColumn(keys, () => undefined);
  const le = Buffer.alloc(8);
  le.writeBigInt64LE(BigInt(EVAL_ROWS));
  const bigger = Buffer.alloc(8);
  bigger.writeBigInt64LE(BigInt(EVAL_ROWS * 10));
  const out = Buffer.from(good);
  let i = out.indexOf(le);
  let patched = 0;
  while (i >= 0) {
    bigger.copy(out, i);
    patched++;
    i = out.indexOf(le, i + 8);
  }
  if (patched === 0) throw new Error('row count not found in the Arrow file');
  return out;
}

const CASES: HostileCase[] = [
  // ---------------------------------------------------------------- Deploy Model to Serving: names, numbers, local files
  {
    name: 'endpointName with ../ segments',
    task: 'serve',
    inputs: { endpointName: 'churn/../../api/2.0/jobs/delete' },
    message:
      /^Input endpointName must be a serving endpoint name of letters, digits, - and _ \(at most 63 characters\); got "churn\/\.\.\/\.\.\/api\/2\.0\/jobs\/delete"\.$/,
  },
  {
    name: 'endpointName as a URL',
    task: 'serve',
    inputs: { endpointName: 'https://evil.example.com/x' },
    message: /^Input endpointName must be a serving endpoint name of letters, digits/,
  },
  {
    name: 'alias with a quote injection',
    task: 'serve',
    inputs: { alias: "champion' OR '1'='1" },
    message: /^Input alias must be a Unity Catalog alias such as champion/,
  },
  {
    name: 'modelVersion with an injection',
    task: 'serve',
    inputs: { versionSource: 'version', modelVersion: '1 OR 1=1' },
    message: /^Input modelVersion must be a version number such as 7; got "1 OR 1=1"\.$/,
  },
  {
    name: 'canaryPercent NaN',
    task: 'serve',
    inputs: { trafficMode: 'canary', canaryPercent: 'NaN' },
    message: /^Input canaryPercent must be a number, got "NaN"\.$/,
  },
  {
    name: 'canaryPercent fractional',
    task: 'serve',
    inputs: { trafficMode: 'canary', canaryPercent: '12.5' },
    message: /^Input canaryPercent must be a whole number, got "12\.5"\.$/,
  },
  {
    name: 'serving timeoutMinutes negative',
    task: 'serve',
    inputs: { timeoutMinutes: '-5' },
    message: /^Input timeoutMinutes must be > 0 and <= 1440; got -5\.$/,
  },
  {
    name: 'smoke test file of 2 MB',
    task: 'serve',
    inputs: { smokeTestFile: serveFile('big.json', JSON.stringify(Array.from({ length: 40_000 }, () => ({ x0: 0.123456789, x1: 'y'.repeat(20) })))) },
    message: /^The smoke test file \(smokeTestFile\) .*big\.json is larger than 1 MB; a smoke test needs a few records\.$/,
  },
  {
    name: 'smoke test file deeply nested JSON',
    task: 'serve',
    inputs: { smokeTestFile: serveFile('deep.json', DEEP_JSON) },
    message: /^The smoke test file \(smokeTestFile\) .*deep\.json has an unexpected shape\./,
  },
  {
    name: 'decision record that is not JSON',
    task: 'serve',
    inputs: { versionSource: 'decisionRecord', decisionRecord: serveFile('record.json', '<html>not a record</html>') },
    message: /^The decision record \(decisionRecord\) .*record\.json is not JSON/,
  },
  {
    name: 'decision record with a version that is not a number',
    task: 'serve',
    inputs: {
      versionSource: 'decisionRecord',
      decisionRecord: serveFile(
        'record2.json',
        JSON.stringify({
          schema: 'mlopspipelines.evaluation/v1',
          outcome: 'promoted',
          dryRun: false,
          registry: { kind: 'unityCatalog', modelName: 'main.ml.churn' },
          promotion: { version: '2; DROP TABLE x', applied: true },
        }),
      ),
    },
    message:
      /^The decision record \(decisionRecord\) .*record2\.json says a version was promoted but names "2; DROP TABLE x", which is not a version number; it is damaged or not written by Evaluate & Promote\.$/,
  },

  // ---------------------------------------------------------------- workspace URL (service connection)
  {
    name: 'workspace URL over http (not loopback)',
    task: 'train',
    endpoint: () => ({ url: 'http://adb-1234567890123456.7.azuredatabricks.net', scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } }),
    message: /^databricksConnection must use https \(got http\)/,
  },
  {
    name: 'workspace URL with ftp scheme',
    task: 'train',
    endpoint: () => ({ url: 'ftp://adb-1234567890123456.7.azuredatabricks.net', scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } }),
    message: /^databricksConnection must use https \(got ftp\)/,
  },
  {
    name: 'workspace URL javascript:',
    task: 'deploy',
    endpoint: () => ({ url: 'javascript:alert(1)', scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } }),
    message: /^databricksConnection must use https \(got javascript\)/,
  },
  {
    name: 'workspace URL file:',
    task: 'evaluate',
    endpoint: () => ({ url: 'file:///etc/passwd', scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } }),
    message: /^databricksConnection must use https \(got file\)/,
  },
  {
    name: 'workspace URL with credentials',
    task: 'train',
    endpoint: (emu) => ({ url: emu.url.replace('http://', `http://admin:${URL_PASSWORD}@`), scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } }),
    message: /^databricksConnection must not contain credentials/,
  },
  {
    name: 'workspace URL with a .. path',
    task: 'deploy',
    endpoint: (emu) => ({ url: `${emu.url}/../api/2.0`, scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } }),
    message: /^databricksConnection must be the workspace root URL without a path/,
  },
  {
    name: 'workspace URL that is not a URL',
    task: 'evaluate',
    endpoint: () => ({ url: 'adb-123 azuredatabricks net', scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } }),
    message: /^databricksConnection is not a valid URL/,
  },

  // ---------------------------------------------------------------- Deploy: remote URL, paths, refs
  {
    name: 'repoUrl over http',
    task: 'deploy',
    inputs: { repoUrl: 'http://dev.azure.com/contoso/mlops/_git/churn-model' },
    message: /^repoUrl must use https \(got http\)/,
  },
  {
    name: 'repoUrl ssh scheme',
    task: 'deploy',
    inputs: { repoUrl: 'ssh://ssh.dev.azure.com/v3/contoso/mlops/churn-model' },
    message: /^repoUrl must use https \(got ssh\)/,
  },
  { name: 'repoUrl git scheme', task: 'deploy', inputs: { repoUrl: 'git://github.com/contoso/churn-model' }, message: /^repoUrl must use https \(got git\)/ },
  { name: 'repoUrl file scheme', task: 'deploy', inputs: { repoUrl: 'file:///srv/git/churn-model' }, message: /^repoUrl must use https \(got file\)/ },
  {
    name: 'repoUrl with credentials',
    task: 'deploy',
    inputs: { repoUrl: `https://build:${GIT_PAT}@dev.azure.com/contoso/mlops/_git/churn-model` },
    message: /^repoUrl must not contain credentials/,
  },
  {
    name: 'repoPath with ..',
    task: 'deploy',
    inputs: { repoPath: '/Repos/Production/../Staging/churn-model' },
    message: /^repoPath must not contain "\." or "\.\." segments/,
  },
  {
    name: 'repoPath escaping /Repos with ..',
    task: 'deploy',
    inputs: { repoPath: '/Repos/../Users/admin/churn' },
    message: /^repoPath must not contain "\." or "\.\." segments/,
  },
  {
    name: 'workspaceFolder with ..',
    task: 'deploy',
    inputs: {
      mode: 'workspaceImport',
      repoPath: undefined,
      repoUrl: undefined,
      ref: undefined,
      sourceFolder: '.',
      workspaceFolder: '/Shared/churn/../../Users/admin',
    },
    message: /^workspaceFolder must not contain "\." or "\.\." segments; got "\/Shared\/churn\/\.\.\/\.\.\/Users\/admin"\.$/,
  },
  {
    name: 'ref with shell metacharacters',
    task: 'deploy',
    inputs: { ref: 'refs/heads/main;rm -rf /' },
    message: /^ref "refs\/heads\/main;rm -rf \/" does not give a valid Git branch name/,
  },
  {
    name: 'ref with ..',
    task: 'deploy',
    inputs: { ref: 'refs/heads/../../tags/v1' },
    message: /^ref "refs\/heads\/\.\.\/\.\.\/tags\/v1" does not give a valid Git branch name/,
  },

  // ---------------------------------------------------------------- Train: JSON, ids, names, numbers
  {
    name: 'jobParameters malformed JSON',
    task: 'train',
    inputs: { jobParameters: '{"epochs": }' },
    message: /^Input jobParameters looks like JSON but does not parse/,
  },
  {
    name: 'jobParameters huge JSON (110 kB, near the limit of one environment variable)',
    task: 'train',
    inputs: { jobParameters: BIG_JSON },
    message: /^Input jobParameters is 1\d{5} bytes as JSON; Databricks accepts at most 10000\. Pass large values through a file or table/,
  },
  {
    name: 'jobParameters deeply nested JSON',
    task: 'train',
    inputs: { jobParameters: DEEP_JSON },
    message: /^In jobParameters, the value of "a" must be a string, number or boolean/,
  },
  {
    name: 'jobParameters JSON array',
    task: 'train',
    inputs: { jobParameters: '[1, 2, 3]' },
    message: /^Line 1 of jobParameters is not key=value: "\[1, 2, 3\]"\.$/,
  },
  {
    name: 'jobParameters nested object value',
    task: 'train',
    inputs: { jobParameters: '{"a": {"b": 1}}' },
    message: /^In jobParameters, the value of "a" must be a string, number or boolean/,
  },
  {
    name: 'jobParameters name with an injection attempt',
    task: 'train',
    inputs: { jobParameters: "x' OR '1'='1=1" },
    message: /^Parameter name "x' OR '1'" in jobParameters is not valid: use letters, digits, _, - and \. only\.$/,
  },
  {
    name: 'newClusterJson malformed',
    task: 'train',
    inputs: {
      runType: 'notebook',
      jobId: undefined,
      notebookPath: '/Repos/Staging/churn-model/notebooks/train',
      clusterMode: 'new',
      newClusterJson: '{spark_version: 15}',
    },
    message: /^Input newClusterJson is not valid JSON/,
  },
  { name: 'jobId with an injection attempt', task: 'train', inputs: { jobId: '1 OR 1=1' }, message: /^Input jobId must be the numeric Databricks job id/ },
  { name: 'timeoutMinutes NaN', task: 'train', inputs: { timeoutMinutes: 'NaN' }, message: /^Input timeoutMinutes must be a number, got "NaN"\.$/ },
  {
    name: 'timeoutMinutes Infinity',
    task: 'train',
    inputs: { timeoutMinutes: 'Infinity' },
    message: /^Input timeoutMinutes must be a number, got "Infinity"\.$/,
  },
  {
    name: 'Train candidateTag with a filter injection',
    task: 'train',
    inputs: { candidateTag: "candidate' OR tags.x = 'y" },
    message:
      /^Input candidateTag must be an MLflow tag key \(letters, digits, _ - \. \/ and spaces, at most 250 characters\); got "candidate' OR tags\.x = 'y"\.$/,
  },
  {
    name: 'Train experiments with ..',
    task: 'train',
    inputs: { experiments: '/Shared/../Users/admin/churn' },
    message: /^experiments must not contain "\." or "\.\." segments; got "\/Shared\/\.\.\/Users\/admin\/churn"\.$/,
  },

  // ---------------------------------------------------------------- Evaluate: names, paths, numbers
  {
    name: 'modelName with a filter injection',
    task: 'evaluate',
    inputs: { modelName: "churn' OR name LIKE '%" },
    message: /^modelName must not contain quotes or line breaks/,
  },
  {
    name: 'Evaluate candidateTag with a filter injection',
    task: 'evaluate',
    inputs: { candidateTag: "candidate' OR tags.x = 'y" },
    message: /^candidateTag must be an MLflow tag key of letters, digits/,
  },
  {
    name: 'Evaluate candidateTag with OR and quotes',
    task: 'evaluate',
    inputs: { candidateTag: 'candidate" OR "1"="1' },
    message: /^candidateTag must be an MLflow tag key of letters, digits/,
  },
  {
    name: 'Evaluate experiments with ..',
    task: 'evaluate',
    inputs: { experiments: '/Shared/../Users/admin' },
    message: /^experiments must not contain "\." or "\.\." segments; got "\/Shared\/\.\.\/Users\/admin"\.$/,
  },
  {
    name: 'Evaluate experiment name with quotes',
    task: 'evaluate',
    inputs: { experiments: "churn' OR name='x" },
    message: /^Each line of experiments must be an experiment id/,
  },
  {
    name: 'labelColumn with SQL',
    task: 'evaluate',
    inputs: { labelColumn: 'label; DROP TABLE x' },
    message: /^labelColumn must be a column name of letters, digits and _/,
  },
  {
    name: 'evaluationTable with SQL',
    task: 'evaluate',
    inputs: { evaluationTable: 'main.ml.t; DROP TABLE main.ml.t' },
    message: /^evaluationTable must be a table name such as main\.ml\.churn_eval/,
  },
  {
    name: 'outputPath with ..',
    task: 'evaluate',
    inputs: { outputPath: '/Volumes/main/ml/scratch/../../other/x' },
    message: /^outputPath must not contain "\." or "\.\." segments; got "\/Volumes\/main\/ml\/scratch\/\.\.\/\.\.\/other\/x"\.$/,
  },
  {
    name: 'outputPath as an https URL',
    task: 'evaluate',
    inputs: { outputPath: 'https://evil.example.com/drop' },
    message: /^outputPath must be a Unity Catalog volume folder/,
  },
  {
    name: 'scoringNotebookPath with ..',
    task: 'evaluate',
    inputs: { scoringNotebookPath: '/Shared/../Users/admin/nb' },
    message: /^scoringNotebookPath must not contain "\." or "\.\." segments; got "\/Shared\/\.\.\/Users\/admin\/nb"\.$/,
  },
  { name: 'resamples not a number', task: 'evaluate', inputs: { resamples: 'many' }, message: /^Input resamples must be a number, got "many"\.$/ },
  { name: 'resamples fractional', task: 'evaluate', inputs: { resamples: '2.5' }, message: /^Input resamples must be a whole number, got "2\.5"\.$/ },
  { name: 'resamples negative', task: 'evaluate', inputs: { resamples: '-5' }, message: /^Input resamples must be/ },
  { name: 'resamples huge', task: 'evaluate', inputs: { resamples: '1e12' }, message: /^Input resamples must be/ },
  { name: 'winRate 0', task: 'evaluate', inputs: { winRate: '0' }, message: /^Input winRate must be > 0 and <= 1; got 0\.$/ },
  { name: 'winRate above 1', task: 'evaluate', inputs: { winRate: '1.5' }, message: /^Input winRate must be > 0 and <= 1; got 1\.5\.$/ },
  { name: 'winRate negative', task: 'evaluate', inputs: { winRate: '-0.2' }, message: /^Input winRate must be > 0 and <= 1; got -0\.2\.$/ },
  { name: 'winRate NaN', task: 'evaluate', inputs: { winRate: 'NaN' }, message: /^Input winRate must be a number, got "NaN"\.$/ },
  { name: 'winRate Infinity', task: 'evaluate', inputs: { winRate: 'Infinity' }, message: /^Input winRate must be a number, got "Infinity"\.$/ },
  { name: 'minDelta negative', task: 'evaluate', inputs: { minDelta: '-0.1' }, message: /^Input minDelta must be/ },
  { name: 'seed not a number', task: 'evaluate', inputs: { seed: 'lucky' }, message: /^Input seed must be a number, got "lucky"\.$/ },

  // ---------------------------------------------------------------- Evaluate: predictions files (read on the agent)
  {
    name: 'predictions file empty (0 bytes)',
    task: 'evaluate',
    predictions: () => Buffer.alloc(0),
    message: /^predictionsFile \S+predictions\.arrow is empty \(0 bytes\)\.$/,
  },
  {
    name: 'predictions file not Arrow (JSON)',
    task: 'evaluate',
    predictions: () => Buffer.from('{"label": [0, 1]}'),
    message: /^the predictions are not Arrow IPC data \(no Arrow file magic and no valid stream message\)$/,
    readsAllowed: true,
  },
  {
    name: 'predictions Arrow file truncated',
    task: 'evaluate',
    predictions: (k) => withColumn(k, () => undefined).subarray(0, 2000),
    message: /^the Arrow file is truncated: it does not end with the Arrow footer and magic$/,
    readsAllowed: true,
  },
  {
    name: 'predictions Arrow file claiming more rows than it holds',
    task: 'evaluate',
    predictions: claimingMoreRows,
    message: /^column 'run_[0-9a-f]+' claims 6000 rows in a record batch but its data hold only \d+ \(truncated or corrupt Arrow data\)$/,
    readsAllowed: true,
  },
  {
    name: 'predictions with no rows',
    task: 'evaluate',
    predictions: (k) => arrowFile(Object.fromEntries(['label', ...k].map((c) => [c, c === 'label' ? new Int8Array(0) : new Float64Array(0)]))),
    message: /^the predictions are empty \(0 rows\)$/,
    readsAllowed: true,
  },
  {
    name: 'predictions with a NaN score',
    task: 'evaluate',
    predictions: (k) => withColumn(k, (c) => ((c[k[0]] as Float64Array)[3] = NaN)),
    message: /^column 'run_[0-9a-f]+' has 1 NaN or infinite score \(first at row 3: NaN\)$/,
    readsAllowed: true,
  },
  {
    name: 'predictions with an Infinity score',
    task: 'evaluate',
    predictions: (k) => withColumn(k, (c) => ((c[k[0]] as Float64Array)[5] = Infinity)),
    message: /^column 'run_[0-9a-f]+' has 1 NaN or infinite score \(first at row 5: Infinity\)$/,
    readsAllowed: true,
  },
  {
    name: 'predictions with label 2',
    task: 'evaluate',
    predictions: (k) => withColumn(k, (c) => ((c.label as Int8Array)[7] = 2)),
    message: /^the label column 'label' has 1 value other than 0 and 1 \(first at row 7: 2\)$/,
    readsAllowed: true,
  },
  {
    name: 'predictions with label -1',
    task: 'evaluate',
    predictions: (k) => withColumn(k, (c) => ((c.label as Int8Array)[9] = -1)),
    message: /^the label column 'label' has 1 value other than 0 and 1 \(first at row 9: -1\)$/,
    readsAllowed: true,
  },
  {
    name: 'predictions without the production column',
    task: 'evaluate',
    predictions: (k) =>
      withColumn(
        k.filter((x) => x !== 'production'),
        () => undefined,
      ),
    message: /^there is no score column 'production' \(columns: label, run_[0-9a-f]+\)$/,
    readsAllowed: true,
  },

  // ================================================================ issue 16: every input, checked locally
  // ---------------------------------------------------------------- Train
  {
    name: 'Train jobId carrying a logging command',
    task: 'train',
    inputs: { jobId: `1${SETVAR}` },
    message: /^Input jobId must be the numeric Databricks job id \(e\.g\. 123456789\), got "1\*\*vso\[/,
  },
  {
    name: 'Train jobName of 10 kB (echo cut at 200)',
    task: 'train',
    inputs: { jobId: undefined, jobName: 'x'.repeat(10_240) },
    message: /^jobName is 10240 bytes; a Databricks job name is at most 4096 bytes \(UTF-8\), so no job has this name\. Got "x{200}…\(10040 more\)"\.$/,
  },
  {
    name: 'Train jobName of 5 kB with a logging command',
    task: 'train',
    inputs: { jobId: undefined, jobName: `${SETVAR}${'a'.repeat(5000)}` },
    message: /^jobName is \d+ bytes; .* Got "\*\*vso\[task\.setvariable/,
  },
  {
    name: 'Train jobName with a control character',
    task: 'train',
    inputs: { jobId: undefined, jobName: 'churn-train\u001f' },
    message: /^jobName must not contain control characters\.$/,
  },
  {
    name: 'Train jobName with a line break and a command',
    task: 'train',
    inputs: { jobId: undefined, jobName: `churn\n${SETVAR}` },
    message: /^jobName must not contain control characters\.$/,
  },
  {
    name: 'Train jobId and jobName together',
    task: 'train',
    inputs: { jobName: 'churn-train' },
    message: /^Set either jobId or jobName, not both/,
    names: 'jobId',
  },
  { name: 'Train neither jobId nor jobName', task: 'train', inputs: { jobId: undefined }, message: /^With runType existingJob, set jobId/, names: 'jobId' },
  {
    name: 'Train notebookPath escaping with .. (and a new cluster)',
    task: 'train',
    inputs: { ...TRAIN_NB, notebookPath: '/Repos/Staging/../../Users/someone/train', clusterMode: 'new', newClusterJson: NEW_CLUSTER },
    message: /^notebookPath must not contain "\." or "\.\." segments; got "\/Repos\/Staging\/\.\.\/\.\.\/Users\/someone\/train"\.$/,
    names: 'notebookPath',
  },
  {
    name: 'Train notebookPath with a . segment',
    task: 'train',
    inputs: { ...TRAIN_NB, notebookPath: '/Repos/Staging/./train' },
    message: /^notebookPath must not contain "\." or "\.\." segments/,
  },
  {
    name: 'Train notebookPath relative',
    task: 'train',
    inputs: { ...TRAIN_NB, notebookPath: 'Repos/Staging/train' },
    message: /^notebookPath must be an absolute workspace path such as/,
  },
  {
    name: 'Train notebookPath relative with a logging command',
    task: 'train',
    inputs: { ...TRAIN_NB, notebookPath: `train${SETVAR}` },
    message: /^notebookPath must be an absolute workspace path such as .*; got "train\*\*vso\[/,
  },
  {
    name: 'Train notebookPath with a control character',
    task: 'train',
    inputs: { ...TRAIN_NB, notebookPath: '/Repos/Staging/tr\u0007ain' },
    message: /^notebookPath must not contain control characters\.$/,
  },
  {
    name: 'Train notebookPath with an empty segment',
    task: 'train',
    inputs: { ...TRAIN_NB, notebookPath: '/Repos//train' },
    message: /^notebookPath must not contain empty segments/,
  },
  { name: 'Train notebookPath missing', task: 'train', inputs: { ...TRAIN_NB }, message: /^Input required: notebookPath/, names: 'notebookPath' },
  {
    name: 'Train experiments with a . segment',
    task: 'train',
    inputs: { experiments: '/Shared/./churn' },
    message: /^experiments must not contain "\." or "\.\." segments/,
  },
  {
    name: 'Train experiments with a control character',
    task: 'train',
    inputs: { experiments: '/Shared/ch\u0001urn' },
    message: /^experiments must not contain control characters\.$/,
  },
  {
    name: 'Train experiments relative name',
    task: 'train',
    inputs: { experiments: 'churn' },
    message: /^Each line of experiments must be an experiment workspace path/,
    names: 'experiments',
  },
  {
    name: 'Train experiments carrying a logging command',
    task: 'train',
    inputs: { experiments: `churn${SETVAR}` },
    message: /^Each line of experiments must be .*; got "churn\*\*vso\[/,
    names: 'experiments',
  },
  {
    name: 'Train experiments with an empty segment',
    task: 'train',
    inputs: { experiments: '/Shared//churn' },
    message: /^experiments must not contain empty segments/,
  },
  {
    name: 'Train candidateTag carrying a logging command',
    task: 'train',
    inputs: { candidateTag: SETVAR },
    message: /^Input candidateTag must be an MLflow tag key .*; got "\*\*vso\[/,
  },
  {
    name: 'Train jobParameters JSON with a duplicate key',
    task: 'train',
    inputs: { jobParameters: '{"epochs": "1", "lr": "0.1", "epochs": "2"}' },
    message: /^Parameter "epochs" is given twice in jobParameters\.$/,
  },
  {
    name: 'Train jobParameters JSON with a duplicate escaped key',
    task: 'train',
    inputs: { jobParameters: '{"a": "1", "\\u0061": "2"}' },
    message: /^Parameter "a" is given twice in jobParameters\.$/,
  },
  {
    name: 'Train jobParameters lines with a duplicate key',
    task: 'train',
    inputs: { jobParameters: 'epochs=1\nepochs=2' },
    message: /^Parameter "epochs" is given twice in jobParameters\.$/,
  },
  {
    name: 'Train jobParameters line key carrying a logging command',
    task: 'train',
    inputs: { jobParameters: `x${SETVAR}=1` },
    message: /^Parameter name "x\*\*vso\[task\.setvariable variable" in jobParameters is not valid/,
  },
  {
    name: 'Train jobParameters JSON key carrying a logging command',
    task: 'train',
    inputs: { jobParameters: `{"${SETVAR}": "1"}` },
    message: /^Parameter name "\*\*vso\[task\.setvariable/,
  },
  {
    name: 'Train jobParameters JSON array value',
    task: 'train',
    inputs: { jobParameters: '{"a": [1, 2]}' },
    message: /^In jobParameters, the value of "a" must be a string, number or boolean/,
  },
  {
    name: 'Train jobParameters JSON null value',
    task: 'train',
    inputs: { jobParameters: '{"a": null}' },
    message: /^In jobParameters, the value of "a" must be a string, number or boolean/,
  },
  { name: 'Train timeoutMinutes 0', task: 'train', inputs: { timeoutMinutes: '0' }, message: /^Input timeoutMinutes must be > 0 and <= 43200; got 0\.$/ },
  {
    name: 'Train timeoutMinutes negative',
    task: 'train',
    inputs: { timeoutMinutes: '-1' },
    message: /^Input timeoutMinutes must be > 0 and <= 43200; got -1\.$/,
  },
  {
    name: 'Train timeoutMinutes above 30 days',
    task: 'train',
    inputs: { timeoutMinutes: '100000' },
    message: /^Input timeoutMinutes must be > 0 and <= 43200; got 100000\.$/,
  },
  {
    name: 'Train timeoutMinutes with trailing text',
    task: 'train',
    inputs: { timeoutMinutes: '12abc' },
    message: /^Input timeoutMinutes must be a number, got "12abc"\.$/,
  },
  {
    name: 'Train timeoutMinutes carrying a logging command',
    task: 'train',
    inputs: { timeoutMinutes: SETVAR },
    message: /^Input timeoutMinutes must be a number, got "\*\*vso\[/,
  },
  {
    name: 'Train waitForCompletion yes',
    task: 'train',
    inputs: { waitForCompletion: 'yes' },
    message: /^Input waitForCompletion must be true or false, got "yes"\.$/,
  },
  {
    name: 'Train cancelRunOnAbort carrying a logging command',
    task: 'train',
    inputs: { cancelRunOnAbort: SETVAR },
    message: /^Input cancelRunOnAbort must be true or false, got "\*\*vso\[/,
  },
  { name: 'Train tagCandidates 1', task: 'train', inputs: { tagCandidates: '1' }, message: /^Input tagCandidates must be true or false, got "1"\.$/ },
  {
    name: 'Train runType unknown',
    task: 'train',
    inputs: { runType: 'pipeline' },
    message: /^Input runType must be one of existingJob, notebook; got "pipeline"\.$/,
  },
  {
    name: 'Train clusterMode unknown',
    task: 'train',
    inputs: { ...TRAIN_NB, notebookPath: '/Repos/Staging/train', clusterMode: 'gpu' },
    message: /^Input clusterMode must be one of existing, new, serverless; got "gpu"\.$/,
    names: 'clusterMode',
  },
  {
    name: 'Train existingClusterId carrying a logging command',
    task: 'train',
    inputs: { ...TRAIN_NB, notebookPath: '/Repos/Staging/train', clusterMode: 'existing', existingClusterId: SETVAR },
    message: /^Input existingClusterId must be a cluster id such as 0123-456789-abcdefgh; got "\*\*vso\[/,
  },
  {
    name: 'Train newClusterJson carrying a logging command',
    task: 'train',
    inputs: { ...TRAIN_NB, notebookPath: '/Repos/Staging/train', clusterMode: 'new', newClusterJson: SETVAR },
    message: /^Input newClusterJson is not valid JSON/,
  },
  {
    name: 'Train newClusterJson missing fields',
    task: 'train',
    inputs: { ...TRAIN_NB, notebookPath: '/Repos/Staging/train', clusterMode: 'new', newClusterJson: '{"spark_version": "15.4.x-cpu-ml-scala2.12"}' },
    message: /^Input newClusterJson is missing/,
  },
  {
    name: 'Train newClusterJson negative workers',
    task: 'train',
    inputs: {
      ...TRAIN_NB,
      notebookPath: '/Repos/Staging/train',
      clusterMode: 'new',
      newClusterJson: '{"spark_version": "s", "node_type_id": "n", "num_workers": -1}',
    },
    message: /^In newClusterJson, num_workers must be a whole number >= 0\.$/,
  },
  {
    name: 'Train connectionType unknown',
    task: 'train',
    inputs: { connectionType: 'aws' },
    message: /^Input connectionType must be one of databricks, azureResourceManager; got "aws"\.$/,
  },
  {
    name: 'Train unknown service connection',
    task: 'train',
    inputs: { databricksConnection: '00000000-0000-4000-8000-000000000000' },
    message: /^Service connection 00000000-0000-4000-8000-000000000000 \(databricksConnection\) was not found or has no URL/,
  },
  {
    name: 'Train service connection with an unsupported scheme',
    task: 'train',
    endpoint: (emu) => ({ url: emu.url, scheme: 'Certificate', params: {} }),
    message: /^Service connection \S+ \(databricksConnection\) uses an authentication scheme this task does not support \(certificate\)\.$/,
  },
  {
    name: 'Train PAT service connection without a token',
    task: 'train',
    endpoint: (emu) => ({ url: emu.url, scheme: 'Token', params: {} }),
    message: /^The service connection \(databricksConnection\) has no personal access token \(apitoken\)/,
  },
  {
    name: 'Train ARM connection without workspaceUrl',
    task: 'train',
    inputs: { connectionType: 'azureResourceManager', databricksConnection: undefined, azureSubscription: CONN },
    message: /^Input required: workspaceUrl/,
    names: 'workspaceUrl',
  },
  {
    name: 'Train ARM workspaceUrl over http',
    task: 'train',
    inputs: {
      connectionType: 'azureResourceManager',
      databricksConnection: undefined,
      azureSubscription: CONN,
      workspaceUrl: 'http://adb-1234567890123456.7.azuredatabricks.net',
    },
    message: /^workspaceUrl must use https \(got http\)/,
  },
  {
    name: 'Train ARM workspaceUrl with credentials',
    task: 'train',
    inputs: {
      connectionType: 'azureResourceManager',
      databricksConnection: undefined,
      azureSubscription: CONN,
      workspaceUrl: `https://admin:${URL_PASSWORD}@adb-1234567890123456.7.azuredatabricks.net`,
    },
    message: /^workspaceUrl must not contain credentials/,
  },
  {
    name: 'Train ARM connection without tenant id (blames azureSubscription)',
    task: 'train',
    inputs: {
      connectionType: 'azureResourceManager',
      databricksConnection: undefined,
      azureSubscription: CONN,
      workspaceUrl: 'https://adb-1234567890123456.7.azuredatabricks.net',
    },
    endpoint: () => ({
      url: 'https://management.azure.com/',
      scheme: 'ServicePrincipal',
      params: { serviceprincipalid: 'x', serviceprincipalkey: 'y-secret-value' },
    }),
    message: /^The service connection \(azureSubscription\) has no tenant id \(tenantid\)/,
    names: 'azureSubscription',
  },
  {
    name: 'Train ARM federation without System.OidcRequestUri',
    task: 'train',
    inputs: {
      connectionType: 'azureResourceManager',
      databricksConnection: undefined,
      azureSubscription: CONN,
      workspaceUrl: 'https://adb-1234567890123456.7.azuredatabricks.net',
    },
    endpoint: () => ({ url: 'https://management.azure.com/', scheme: 'WorkloadIdentityFederation', params: { tenantid: 't', serviceprincipalid: 'c' } }),
    message: /^System\.OidcRequestUri is not set for this job/,
    names: 'System.OidcRequestUri',
  },

  // ---------------------------------------------------------------- Deploy
  { name: 'repoPath relative', task: 'deploy', inputs: { repoPath: 'Repos/Production/churn-model' }, message: /^repoPath must be an absolute workspace path/ },
  {
    name: 'repoPath with a control character',
    task: 'deploy',
    inputs: { repoPath: '/Repos/Production/churn\u001bmodel' },
    message: /^repoPath must not contain control characters\.$/,
  },
  {
    name: 'repoPath with a . segment',
    task: 'deploy',
    inputs: { repoPath: '/Repos/Production/./churn-model' },
    message: /^repoPath must not contain "\." or "\.\." segments/,
  },
  { name: 'repoPath with an empty segment', task: 'deploy', inputs: { repoPath: '/Repos//churn-model' }, message: /^repoPath must not contain empty segments/ },
  {
    name: 'repoPath outside Repos and Workspace',
    task: 'deploy',
    inputs: { repoPath: '/Users/admin/churn-model' },
    message: /^repoPath must be under \/Repos or \/Workspace/,
  },
  {
    name: 'repoPath too short under Repos',
    task: 'deploy',
    inputs: { repoPath: '/Repos/churn-model' },
    message: /^repoPath under Repos must be exactly \/Repos\/<folder>\/<repo-name>/,
  },
  {
    name: 'repoPath too deep with a logging command',
    task: 'deploy',
    inputs: { repoPath: `/Repos/Production/churn/${SETVAR}` },
    message: /^repoPath under Repos must be exactly .*; got "\/Repos\/Production\/churn\/\*\*vso\[/,
  },
  {
    name: 'repoPath too short under Workspace',
    task: 'deploy',
    inputs: { repoPath: '/Workspace/Shared' },
    message: /^repoPath under \/Workspace must name a folder/,
  },
  {
    name: 'repoPath with a format command',
    task: 'deploy',
    inputs: { repoPath: `/Repos/Production/a/b${FORMAT}` },
    message: /^repoPath under Repos must be exactly .*\*\*\[error\]forged error/,
  },
  {
    name: 'repoUrl with a fragment carrying a logging command',
    task: 'deploy',
    inputs: { repoUrl: `https://dev.azure.com/contoso/mlops/_git/churn-model${SETVAR}` },
    message: /^repoUrl must not have a query string or fragment/,
  },
  {
    name: 'repoUrl with a query string',
    task: 'deploy',
    inputs: { repoUrl: 'https://dev.azure.com/contoso/mlops/_git/churn-model?path=/' },
    message: /^repoUrl must not have a query string or fragment/,
  },
  { name: 'repoUrl without a repository path', task: 'deploy', inputs: { repoUrl: 'https://dev.azure.com' }, message: /^repoUrl has no repository path/ },
  {
    name: 'repoUrl with percent-encoded credentials',
    task: 'deploy',
    inputs: { repoUrl: `https://bu%40ild:${GIT_PAT}%3A@dev.azure.com/contoso/mlops/_git/churn-model` },
    message: /^repoUrl must not contain credentials/,
  },
  { name: 'repoUrl not a URL', task: 'deploy', inputs: { repoUrl: `churn model ${SETVAR}` }, message: /^repoUrl is not a valid URL/ },
  ...['a~b', 'a^b', 'a:b', 'a?b', 'a*b', 'a[b', 'a\\b', 'a b', 'a@{1}', 'a.lock', 'a//b', 'a\u0007b', SETVAR].map((bad): HostileCase => ({
    name: `ref refs/heads/${JSON.stringify(bad).slice(1, -1)}`,
    task: 'deploy',
    inputs: { ref: `refs/heads/${bad}` },
    message: /^ref "refs\/heads\/.*" does not give a valid Git branch name/,
  })),
  { name: 'ref under refs/remotes', task: 'deploy', inputs: { ref: 'refs/remotes/origin/main' }, message: /^ref refs\/remotes\/origin\/main is not a branch/ },
  { name: 'gitProvider unknown', task: 'deploy', inputs: { gitProvider: 'svn' }, message: /^Input gitProvider must be one of auto, / },
  {
    name: 'gitProvider without repoUrl',
    task: 'deploy',
    inputs: { repoUrl: undefined, gitProvider: 'azureDevOpsServices' },
    message: /^gitProvider is set but repoUrl is not/,
  },
  { name: 'mode unknown', task: 'deploy', inputs: { mode: 'svn' }, message: /^Input mode must be one of repos, workspaceImport; got "svn"\.$/ },
  { name: 'mode workspaceImport with repoPath', task: 'deploy', inputs: { mode: 'workspaceImport' }, message: /^repoPath is set but mode is workspaceImport/ },
  {
    name: 'workspaceImport without folders',
    task: 'deploy',
    inputs: { ...IMPORT, sourceFolder: undefined, workspaceFolder: undefined },
    message: /^mode workspaceImport needs sourceFolder .* neither is set\.$/,
    names: 'sourceFolder',
  },
  {
    name: 'workspaceImport without workspaceFolder',
    task: 'deploy',
    inputs: { ...IMPORT, workspaceFolder: undefined },
    message: /^Input required: workspaceFolder/,
    names: 'workspaceFolder',
  },
  { name: 'workspaceFolder top-level', task: 'deploy', inputs: { ...IMPORT, workspaceFolder: '/Shared' }, message: /^workspaceFolder must be a folder inside/ },
  {
    name: 'workspaceFolder relative with a logging command',
    task: 'deploy',
    inputs: { ...IMPORT, workspaceFolder: `Shared/${SETVAR}` },
    message: /^workspaceFolder must be an absolute workspace path .*\*\*vso\[/,
  },
  {
    name: 'workspaceFolder with a control character',
    task: 'deploy',
    inputs: { ...IMPORT, workspaceFolder: '/Shared/ch\u0002urn' },
    message: /^workspaceFolder must not contain control characters\.$/,
  },
  {
    name: 'workspaceFolder with a . segment',
    task: 'deploy',
    inputs: { ...IMPORT, workspaceFolder: '/Shared/./churn' },
    message: /^workspaceFolder must not contain "\." or "\.\." segments/,
  },
  {
    name: 'repos mode with workspaceFolder',
    task: 'deploy',
    inputs: { workspaceFolder: '/Shared/churn' },
    message: /^workspaceFolder is set but mode is repos/,
  },
  {
    name: 'sourceFolder missing on the agent',
    task: 'deploy',
    inputs: { ...IMPORT, sourceFolder: '{dir}/missing' },
    message: /^sourceFolder \S+missing does not exist on the agent or is not a folder\.$/,
    names: 'sourceFolder',
  },
  {
    name: 'sourceFolder is a file',
    task: 'deploy',
    inputs: { ...IMPORT },
    files: { notebooks: NOTEBOOK_PY },
    message: /^sourceFolder \S+notebooks does not exist on the agent or is not a folder\.$/,
    names: 'sourceFolder',
  },
  {
    name: 'sourceFolder without notebooks',
    task: 'deploy',
    inputs: { ...IMPORT },
    files: { 'notebooks/readme.txt': 'hello' },
    message: /^sourceFolder \S+notebooks holds no notebooks/,
    names: 'sourceFolder',
  },
  {
    name: 'sourceFolder path carrying a logging command',
    task: 'deploy',
    inputs: { ...IMPORT, sourceFolder: `{dir}/${SETVAR}` },
    message: /^sourceFolder \S+\*\*vso\[.* does not exist on the agent or is not a folder\.$/,
    names: 'sourceFolder',
  },
  {
    name: 'two notebooks with one workspace name',
    task: 'deploy',
    inputs: { ...IMPORT },
    files: { 'notebooks/train.py': NOTEBOOK_PY, 'notebooks/train.ipynb': '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}' },
    message: /would both be imported as/,
    names: 'train',
  },
  { name: 'verifyCommit yes', task: 'deploy', inputs: { verifyCommit: 'yes' }, message: /^Input verifyCommit must be true or false, got "yes"\.$/ },
  {
    name: 'expectedCommit short',
    task: 'deploy',
    inputs: { expectedCommit: 'abc123' },
    message: /^expectedCommit must be a full commit id \(40 hex characters\); got "abc123"/,
  },
  {
    name: 'expectedCommit carrying a logging command',
    task: 'deploy',
    inputs: { expectedCommit: SETVAR },
    message: /^expectedCommit must be a full commit id .*; got "\*\*vso\[/,
  },
  { name: 'createIfMissing no', task: 'deploy', inputs: { createIfMissing: 'no' }, message: /^Input createIfMissing must be true or false, got "no"\.$/ },
  { name: 'cleanTarget y', task: 'deploy', inputs: { ...IMPORT, cleanTarget: 'y' }, message: /^Input cleanTarget must be true or false, got "y"\.$/ },
  {
    name: 'Deploy unknown service connection',
    task: 'deploy',
    inputs: { databricksConnection: 'nope' },
    message: /^Service connection nope \(databricksConnection\) was not found/,
  },

  // ---------------------------------------------------------------- Evaluate
  {
    name: 'UC modelName with two levels',
    task: 'evaluate',
    inputs: { ...UC, modelName: 'main.churn' },
    message: /^modelName must be a three-level Unity Catalog name/,
  },
  {
    name: 'UC modelName carrying a logging command',
    task: 'evaluate',
    inputs: { ...UC, modelName: `main.ml.${SETVAR}` },
    message: /^modelName must be a three-level Unity Catalog name .*; got "main\.ml\.\*\*vso\[/,
  },
  {
    name: 'modelName with a control character',
    task: 'evaluate',
    inputs: { modelName: 'ch\u0001urn' },
    message: /^modelName must not contain quotes or line breaks/,
  },
  {
    name: 'modelName longer than 256',
    task: 'evaluate',
    inputs: { modelName: 'm'.repeat(300) },
    message: /^modelName must not contain quotes or line breaks and must be at most 256 characters\.$/,
  },
  {
    name: 'modelName with a line break and a command',
    task: 'evaluate',
    inputs: { modelName: `churn\n${SETVAR}` },
    message: /^modelName must not contain quotes or line breaks/,
  },
  {
    name: 'workspace modelName that looks like UC',
    task: 'evaluate',
    inputs: { modelName: 'main.ml.churn' },
    message: /^modelName "main\.ml\.churn" looks like a Unity Catalog name/,
  },
  { name: 'championAlias latest', task: 'evaluate', inputs: { ...UC, championAlias: 'latest' }, message: /^championAlias "latest" is reserved by MLflow/ },
  { name: 'championAlias v3', task: 'evaluate', inputs: { ...UC, championAlias: 'v3' }, message: /^championAlias "v3" is reserved by MLflow/ },
  {
    name: 'championAlias carrying a logging command',
    task: 'evaluate',
    inputs: { ...UC, championAlias: SETVAR },
    message: /^championAlias must start with a letter or _ .*; got "\*\*vso\[/,
  },
  {
    name: 'registry unknown',
    task: 'evaluate',
    inputs: { registry: 'mlflow' },
    message: /^Input registry must be one of workspace, unityCatalog; got "mlflow"\.$/,
  },
  {
    name: 'productionStage Archived',
    task: 'evaluate',
    inputs: { productionStage: 'Archived' },
    message: /^Input productionStage must be one of Production, Staging; got "Archived"\.$/,
  },
  { name: 'Evaluate experiments relative', task: 'evaluate', inputs: { experiments: 'churn' }, message: /^Each line of experiments must be an experiment id/ },
  {
    name: 'Evaluate experiments with a . segment',
    task: 'evaluate',
    inputs: { experiments: '/Shared/./churn' },
    message: /^experiments must not contain "\." or "\.\." segments/,
  },
  {
    name: 'Evaluate experiments with a control character',
    task: 'evaluate',
    inputs: { experiments: '/Shared/ch\u0001urn' },
    message: /^experiments must not contain control characters\.$/,
  },
  {
    name: 'Evaluate experiments with an empty segment',
    task: 'evaluate',
    inputs: { experiments: '/Shared//churn' },
    message: /^experiments must not contain empty segments/,
  },
  {
    name: 'Evaluate experiments listed twice',
    task: 'evaluate',
    inputs: { experiments: '/Shared/churn\n/Shared/churn' },
    message: /^experiments lists the same experiment twice\.$/,
  },
  {
    name: 'Evaluate experiments carrying a logging command',
    task: 'evaluate',
    inputs: { experiments: `churn${SETVAR}` },
    message: /^Each line of experiments must be .*; got "churn\*\*vso\[/,
  },
  {
    name: 'Evaluate candidateTag carrying a logging command',
    task: 'evaluate',
    inputs: { candidateTag: SETVAR },
    message: /^candidateTag must be an MLflow tag key .*; got "\*\*vso\[/,
  },
  {
    name: 'modelArtifactPath with ..',
    task: 'evaluate',
    inputs: { modelArtifactPath: '../model' },
    message: /^modelArtifactPath must be a relative artifact path such as model; got "\.\.\/model"\.$/,
  },
  {
    name: 'modelArtifactPath absolute',
    task: 'evaluate',
    inputs: { modelArtifactPath: '/model' },
    message: /^modelArtifactPath must be a relative artifact path/,
  },
  {
    name: 'modelArtifactPath carrying a logging command',
    task: 'evaluate',
    inputs: { modelArtifactPath: SETVAR },
    message: /^modelArtifactPath must be a relative artifact path .*; got "\*\*vso\[/,
  },
  {
    name: 'labelColumn carrying a logging command',
    task: 'evaluate',
    inputs: { labelColumn: SETVAR },
    message: /^labelColumn must be a column name of letters, digits and _; got "\*\*vso\[/,
  },
  {
    name: 'predictionsSource unknown',
    task: 'evaluate',
    inputs: { predictionsSource: 'csv' },
    message: /^Input predictionsSource must be one of scoringNotebook, scoringJob, file; got "csv"\.$/,
  },
  { name: 'scoringJob without scoringJobId', task: 'evaluate', inputs: { predictionsSource: 'scoringJob' }, message: /^Input required: scoringJobId/ },
  {
    name: 'scoringJobId not a number',
    task: 'evaluate',
    inputs: { predictionsSource: 'scoringJob', scoringJobId: 'abc' },
    message: /^Input scoringJobId must be a number, got "abc"\.$/,
  },
  { name: 'scoringJobId 0', task: 'evaluate', inputs: { predictionsSource: 'scoringJob', scoringJobId: '0' }, message: /^Input scoringJobId must be >= 1/ },
  {
    name: 'evaluationTable and evaluationQuery both',
    task: 'evaluate',
    inputs: { evaluationQuery: 'SELECT * FROM main.ml.churn_eval' },
    message: /^Set exactly one of evaluationTable and evaluationQuery/,
  },
  {
    name: 'neither evaluationTable nor evaluationQuery',
    task: 'evaluate',
    inputs: { evaluationTable: undefined },
    message: /^Set exactly one of evaluationTable and evaluationQuery/,
    names: 'evaluationTable',
  },
  {
    name: 'evaluationTable carrying a logging command',
    task: 'evaluate',
    inputs: { evaluationTable: SETVAR },
    message: /^evaluationTable must be a table name such as main\.ml\.churn_eval; got "\*\*vso\[/,
  },
  {
    name: 'outputPath relative',
    task: 'evaluate',
    inputs: { outputPath: 'Volumes/main/ml/scratch' },
    message: /^outputPath must be a Unity Catalog volume folder/,
  },
  { name: 'outputPath on s3', task: 'evaluate', inputs: { outputPath: 's3://bucket/eval' }, message: /^outputPath must be a Unity Catalog volume folder/ },
  {
    name: 'outputPath with a . segment',
    task: 'evaluate',
    inputs: { outputPath: '/Volumes/main/ml/scratch/./eval' },
    message: /^outputPath must not contain "\." or "\.\." segments/,
  },
  {
    name: 'outputPath with a control character',
    task: 'evaluate',
    inputs: { outputPath: '/Volumes/main/ml/scratch/e\u0001val' },
    message: /^outputPath must not contain control characters\.$/,
  },
  {
    name: 'outputPath carrying a logging command',
    task: 'evaluate',
    inputs: { outputPath: `/Volumes/main/ml/scratch/${SETVAR}` },
    message: /^outputPath must be a Unity Catalog volume folder .*; got "\/Volumes\/main\/ml\/scratch\/\*\*vso\[/,
  },
  { name: 'maxRows negative', task: 'evaluate', inputs: { maxRows: '-1' }, message: /^Input maxRows must be >= 0/ },
  { name: 'maxRows fractional', task: 'evaluate', inputs: { maxRows: '1.5' }, message: /^Input maxRows must be a whole number, got "1\.5"\.$/ },
  {
    name: 'scoringTimeoutMinutes 0',
    task: 'evaluate',
    inputs: { scoringTimeoutMinutes: '0' },
    message: /^Input scoringTimeoutMinutes must be >= 1 and <= 1440; got 0\.$/,
  },
  {
    name: 'scoringTimeoutMinutes above a day',
    task: 'evaluate',
    inputs: { scoringTimeoutMinutes: '2000' },
    message: /^Input scoringTimeoutMinutes must be >= 1 and <= 1440; got 2000\.$/,
  },
  {
    name: 'scoringNotebookPath relative',
    task: 'evaluate',
    inputs: { scoringNotebookPath: 'Shared/nb' },
    message: /^scoringNotebookPath must be an absolute workspace path such as/,
  },
  {
    name: 'scoringNotebookPath with .py',
    task: 'evaluate',
    inputs: { scoringNotebookPath: '/Shared/nb.py' },
    message: /^scoringNotebookPath must be an absolute workspace path without \.\. or extension/,
  },
  {
    name: 'scoringNotebookPath with a trailing slash',
    task: 'evaluate',
    inputs: { scoringNotebookPath: '/Shared/nb/' },
    message: /^scoringNotebookPath must be an absolute workspace path without \.\. or extension/,
  },
  {
    name: 'scoringNotebookPath with a . segment',
    task: 'evaluate',
    inputs: { scoringNotebookPath: '/Shared/./nb' },
    message: /^scoringNotebookPath must not contain "\." or "\.\." segments/,
  },
  {
    name: 'scoringNotebookPath with a control character',
    task: 'evaluate',
    inputs: { scoringNotebookPath: '/Shared/n\u0001b' },
    message: /^scoringNotebookPath must not contain control characters\.$/,
  },
  {
    name: 'scoringNotebookPath carrying a logging command',
    task: 'evaluate',
    inputs: { scoringNotebookPath: `nb${SETVAR}` },
    message: /^scoringNotebookPath must be an absolute workspace path such as .*; got "nb\*\*vso\[/,
  },
  {
    name: 'metric unknown',
    task: 'evaluate',
    inputs: { metric: 'f1' },
    message:
      /^metric f1 is not a binary classification metric; with problemType binaryClassification set metric to one of roc_auc, average_precision, log_loss, brier\.$/,
  },
  {
    name: 'guardrails line carrying a logging command',
    task: 'evaluate',
    inputs: { guardrails: `brier ${SETVAR}` },
    message: /^Each line of guardrails must be "<metric> <max worsening>", e\.g\. "log_loss 0\.01"; guardrails line 1 is "brier \*\*vso\[/,
  },
  {
    name: 'sliceColumns carrying a logging command',
    task: 'evaluate',
    inputs: { sliceColumns: SETVAR },
    message: /^Each slice column in sliceColumns must be a column name of letters, digits and _; got "\*\*vso\[/,
  },
  { name: 'method unknown', task: 'evaluate', inputs: { method: 'anova' }, message: /^Input method must be one of auto, bootstrap, delong; got "anova"\.$/ },
  { name: 'method delong with log_loss', task: 'evaluate', inputs: { method: 'delong', metric: 'log_loss' }, message: /^method delong compares ROC AUC only/ },
  { name: 'resamples 0', task: 'evaluate', inputs: { resamples: '0' }, message: /^Input resamples must be >= 1/ },
  { name: 'seed negative', task: 'evaluate', inputs: { seed: '-1' }, message: /^Input seed must be >= 0/ },
  { name: 'seed above 2^32-1', task: 'evaluate', inputs: { seed: '4294967296' }, message: /^Input seed must be >= 0 and <= 4294967295; got 4294967296\.$/ },
  { name: 'confidence 1', task: 'evaluate', inputs: { confidence: '1' }, message: /^Input confidence must be below 1/ },
  { name: 'confidence 0', task: 'evaluate', inputs: { confidence: '0' }, message: /^Input confidence must be > 0/ },
  { name: 'minMetric 2 for roc_auc', task: 'evaluate', inputs: { minMetric: '2' }, message: /^minMetric for roc_auc must be between 0 and 1; got 2\.$/ },
  {
    name: 'minMetric negative for log_loss',
    task: 'evaluate',
    inputs: { metric: 'log_loss', minMetric: '-1' },
    message: /^minMetric for log_loss must be at least 0; got -1\.$/,
  },
  {
    name: 'readyTimeoutSeconds 0',
    task: 'evaluate',
    inputs: { readyTimeoutSeconds: '0' },
    message: /^Input readyTimeoutSeconds must be >= 1 and <= 3600; got 0\.$/,
  },
  {
    name: 'readyTimeoutSeconds above an hour',
    task: 'evaluate',
    inputs: { readyTimeoutSeconds: '5000' },
    message: /^Input readyTimeoutSeconds must be >= 1 and <= 3600; got 5000\.$/,
  },
  { name: 'dryRun yes', task: 'evaluate', inputs: { dryRun: 'yes' }, message: /^Input dryRun must be true or false, got "yes"\.$/ },
  {
    name: 'resetCandidateTags carrying a logging command',
    task: 'evaluate',
    inputs: { resetCandidateTags: SETVAR },
    message: /^Input resetCandidateTags must be true or false, got "\*\*vso\[/,
  },
  {
    name: 'Evaluate clusterMode unknown',
    task: 'evaluate',
    inputs: { clusterMode: 'gpu' },
    message: /^Input clusterMode must be one of existing, new, serverless; got "gpu"\.$/,
  },
  {
    name: 'Evaluate existingClusterId carrying a logging command',
    task: 'evaluate',
    inputs: { clusterMode: 'existing', existingClusterId: SETVAR },
    message: /^Input existingClusterId must be a cluster id .*; got "\*\*vso\[/,
  },
  {
    name: 'Evaluate newClusterJson malformed',
    task: 'evaluate',
    inputs: { clusterMode: 'new', newClusterJson: '{' },
    message: /^Input newClusterJson is not valid JSON/,
  },
  {
    name: 'predictionsFile missing on the agent',
    task: 'evaluate',
    inputs: { predictionsSource: 'file', predictionsFile: '{dir}/nope.arrow', evaluationTable: undefined, outputPath: undefined },
    message: /^predictionsFile \S+nope\.arrow does not exist on the agent\. Check the path/,
  },
  {
    name: 'predictionsFile relative and missing',
    task: 'evaluate',
    inputs: { predictionsSource: 'file', predictionsFile: 'out/p.arrow', evaluationTable: undefined, outputPath: undefined },
    message: /^predictionsFile \S+\/out\/p\.arrow does not exist on the agent/,
  },
  {
    name: 'predictionsFile is a folder',
    task: 'evaluate',
    inputs: { predictionsSource: 'file', predictionsFile: '{dir}/preds', evaluationTable: undefined, outputPath: undefined },
    files: { preds: null },
    message: /^predictionsFile \S+preds is not a file \(it is a folder\)/,
  },
  {
    name: 'predictionsFile path carrying a logging command',
    task: 'evaluate',
    inputs: { predictionsSource: 'file', predictionsFile: `{dir}/${SETVAR}.arrow`, evaluationTable: undefined, outputPath: undefined },
    message: /^predictionsFile \S+\*\*vso\[task\.setvariable .* does not exist on the agent/,
  },
  {
    name: 'predictionsFile path carrying a format command',
    task: 'evaluate',
    inputs: { predictionsSource: 'file', predictionsFile: `{dir}/${FORMAT}.arrow`, evaluationTable: undefined, outputPath: undefined },
    message: /^predictionsFile \S+\*\*\[error\]forged error\.arrow does not exist on the agent/,
  },
];

interface CaseResult {
  r: AgentRunResult;
  requests: number;
  writes: string[];
}

/** What a case's message must name: `names`, else the input it sets last, else the service connection. */
function expectedName(c: HostileCase): RegExp {
  if (c.names) return new RegExp(c.names.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (c.predictions) return /predictions|column|Arrow/;
  const set = Object.entries(c.inputs ?? {}).filter(([, v]) => v !== undefined);
  if (set.length > 0) return input(set[set.length - 1][0]);
  return /databricksConnection/;
}

async function runCase(c: HostileCase): Promise<CaseResult> {
  return withEmulator(async (emu) => {
    const world: World<unknown> =
      c.task === 'train'
        ? await trainWorld(emu)
        : c.task === 'deploy'
          ? await deployWorld(emu)
          : c.task === 'serve'
            ? await serveWorld(emu)
            : await evaluateWorld(emu);
    const dir = mkdtempSync(path.join(tmpdir(), 'hostile-'));
    for (const [rel, content] of Object.entries(c.files ?? {})) {
      const full = path.join(dir, rel);
      mkdirSync(content === null ? full : path.dirname(full), { recursive: true });
      if (content !== null) writeFileSync(full, content);
    }
    const inputs: Record<string, string | undefined> = Object.fromEntries(Object.entries(c.inputs ?? {}).map(([k, v]) => [k, v?.replace('{dir}', dir)]));
    if (c.predictions) {
      const w = world as Awaited<ReturnType<typeof evaluateWorld>>;
      const file = path.join(dir, 'predictions.arrow');
      writeFileSync(file, c.predictions([`run_${w.candidateRunId}`, 'production']));
      Object.assign(inputs, { predictionsSource: 'file', predictionsFile: file, evaluationTable: undefined, outputPath: undefined });
    }
    // System.Debug on: the debug lines are scanned for secrets and commands as well.
    const r = await runWorld(`hostile ${c.name}`, world, {
      inputs,
      endpoints: c.endpoint ? { [CONN]: c.endpoint(emu) } : undefined,
      variables: { 'System.Debug': 'true' },
    });
    return { r, requests: emu.requests.length, writes: emu.writes().map((w) => `${w.method} ${w.path}`) };
  });
}

const TASK_FOLDER = {
  train: 'DatabricksTrainV1',
  deploy: 'DatabricksReposDeployV1',
  evaluate: 'DatabricksEvaluatePromoteV1',
  serve: 'DatabricksServingDeployV1',
} as const;

describe('reliability: hostile and bad input (clear error, no remote write, nothing executable)', function () {
  this.timeout(600_000);
  const results = new Map<string, CaseResult>();

  before(async () => {
    const out = await pool(CASES, 6, runCase);
    CASES.forEach((c, i) => results.set(c.name, out[i]));
    const clean = [...results.values()].filter((x) => x.r.complete?.result === 'Failed' && x.writes.length === 0).length;
    const local = CASES.filter((c) => results.get(c.name)!.requests === 0).length;
    console.log(`\n      ${CASES.length} hostile/bad-input cases: ${clean} failed before any remote write, ${local} before any request`);
    if (process.env.HOSTILE_PRINT)
      for (const c of CASES) console.log(`${c.name} :: ${results.get(c.name)!.r.complete?.message} :: requests ${results.get(c.name)!.requests}`);
  });

  it(`covers at least 150 cases across the four tasks (${CASES.length}), names unique`, () => {
    assert.ok(CASES.length >= 150);
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length);
    assert.deepEqual(new Set(CASES.map((c) => c.task)), new Set(['train', 'deploy', 'evaluate', 'serve']));
  });

  for (const c of CASES) {
    it(`${c.task}: ${c.name}`, () => {
      const { r, requests, writes } = results.get(c.name)!;
      assert.equal(r.complete?.result, 'Failed', r.stdout);
      assert.match(r.complete!.message, c.message);
      assert.match(r.complete!.message, expectedName(c), 'the message names the input');
      assert.ok(r.complete!.message.length < 1200, `a short message (${r.complete!.message.length} characters)`);
      assert.deepEqual(writes, [], 'no remote write');
      if (!c.readsAllowed) assert.equal(requests, 0, 'not even a read');
      assert.deepEqual(r.outputs, {}, 'no output variable set');
      // Inputs are read without task-lib's debug echo: the only lines that may carry it register it with the masker.
      assert.ok(`${r.stdout}\n${r.stderr}`.split(/\r?\n/).every((l) => !l.includes(GIT_PAT) || l.startsWith('##vso[task.setsecret]')));
      assert.ok(`${r.stdout}\n${r.stderr}`.split(/\r?\n/).every((l) => !l.includes(URL_PASSWORD) || l.startsWith('##vso[task.setsecret]')));
      // Nothing the agent would execute but the task's own commands, and no prefix in any printed text or file.
      const task = taskJson(TASK_FOLDER[c.task]);
      assert.deepEqual(
        commandProblems(
          `${r.stdout}\n${r.stderr}`,
          task.outputVariables.map((o) => o.name),
        ),
        [],
      );
      if (task.restrictions?.commands?.mode === 'restricted') {
        assert.deepEqual(
          r.commands.filter((x) => !ALLOWED_IN_RESTRICTED_MODE.has(x.name)).map((x) => x.name),
          [],
          'only commands allowed in restricted mode',
        );
      }
      for (const f of runFiles(r)) assert.ok(!hasCommandPrefix(f.text), `no command prefix in ${f.file}`);
    });
  }
});
