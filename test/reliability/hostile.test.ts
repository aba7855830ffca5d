/**
 * Issue 10, hostile and bad input: each case runs a bundled task against the emulator with one bad or
 * hostile input (URLs with http, other schemes or credentials, `..` paths, filter-injection attempts,
 * huge or malformed JSON, non-numeric or out-of-range numbers, and bad predictions files) and must end in
 * a clear error naming the problem, with no remote write (most never send a request at all), and no secret
 * in the output. The cases run concurrently in `before`; each `it` checks one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EMULATOR_DEFAULTS, type Emulator } from '../../src/emulator';
import type { AgentEndpoint, AgentRunResult } from '../helpers/agent';
import { registerTestSecret } from '../helpers/secrets';
import { arrowFile, CONN, deployWorld, evaluateWorld, EVAL_ROWS, pool, predictionColumns, runWorld, trainWorld, withEmulator, World } from './harness';

const GIT_PAT = registerTestSecret('Git PAT in a repoUrl', 'hunter2-git-pat-in-url-0042');
const URL_PASSWORD = registerTestSecret('password in a workspace URL', 'workspace-url-password-0042');

type TaskKey = 'train' | 'deploy' | 'evaluate';

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
}

const BIG_JSON = JSON.stringify(Object.fromEntries(Array.from({ length: 2_500 }, (_, i) => [`p${i}`, 'x'.repeat(36)])));
const DEEP_JSON = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;

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
  // ---------------------------------------------------------------- workspace URL (service connection)
  { name: 'workspace URL over http (not loopback)', task: 'train', endpoint: () => ({ url: 'http://adb-1234567890123456.7.azuredatabricks.net', scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } }), message: /^databricksConnection must use https \(got http\)/ },
  { name: 'workspace URL with ftp scheme', task: 'train', endpoint: () => ({ url: 'ftp://adb-1234567890123456.7.azuredatabricks.net', scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } }), message: /^databricksConnection must use https \(got ftp\)/ },
  { name: 'workspace URL javascript:', task: 'deploy', endpoint: () => ({ url: 'javascript:alert(1)', scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } }), message: /^databricksConnection must use https \(got javascript\)/ },
  { name: 'workspace URL file:', task: 'evaluate', endpoint: () => ({ url: 'file:///etc/passwd', scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } }), message: /^databricksConnection must use https \(got file\)/ },
  { name: 'workspace URL with credentials', task: 'train', endpoint: (emu) => ({ url: emu.url.replace('http://', `http://admin:${URL_PASSWORD}@`), scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } }), message: /^databricksConnection must not contain credentials/ },
  { name: 'workspace URL with a .. path', task: 'deploy', endpoint: (emu) => ({ url: `${emu.url}/../api/2.0`, scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } }), message: /^databricksConnection must be the workspace root URL without a path/ },
  { name: 'workspace URL that is not a URL', task: 'evaluate', endpoint: () => ({ url: 'adb-123 azuredatabricks net', scheme: 'Token', params: { apitoken: EMULATOR_DEFAULTS.pat } }), message: /^databricksConnection is not a valid URL/ },

  // ---------------------------------------------------------------- Deploy: remote URL, paths, refs
  { name: 'repoUrl over http', task: 'deploy', inputs: { repoUrl: 'http://dev.azure.com/contoso/mlops/_git/churn-model' }, message: /^repoUrl must use https \(got http\)/ },
  { name: 'repoUrl ssh scheme', task: 'deploy', inputs: { repoUrl: 'ssh://ssh.dev.azure.com/v3/contoso/mlops/churn-model' }, message: /^repoUrl must use https \(got ssh\)/ },
  { name: 'repoUrl git scheme', task: 'deploy', inputs: { repoUrl: 'git://github.com/contoso/churn-model' }, message: /^repoUrl must use https \(got git\)/ },
  { name: 'repoUrl file scheme', task: 'deploy', inputs: { repoUrl: 'file:///srv/git/churn-model' }, message: /^repoUrl must use https \(got file\)/ },
  { name: 'repoUrl with credentials', task: 'deploy', inputs: { repoUrl: `https://build:${GIT_PAT}@dev.azure.com/contoso/mlops/_git/churn-model` }, message: /^repoUrl must not contain credentials/ },
  { name: 'repoPath with ..', task: 'deploy', inputs: { repoPath: '/Repos/Production/../Staging/churn-model' }, message: /^repoPath must not contain "\." or "\.\." segments/ },
  { name: 'repoPath escaping /Repos with ..', task: 'deploy', inputs: { repoPath: '/Repos/../Users/admin/churn' }, message: /^repoPath must not contain "\." or "\.\." segments/ },
  { name: 'workspaceFolder with ..', task: 'deploy', inputs: { mode: 'workspaceImport', repoPath: undefined, repoUrl: undefined, ref: undefined, sourceFolder: '.', workspaceFolder: '/Shared/churn/../../Users/admin' }, message: /^workspaceFolder must not contain "\." or "\.\." segments; got "\/Shared\/churn\/\.\.\/\.\.\/Users\/admin"\.$/ },
  { name: 'ref with shell metacharacters', task: 'deploy', inputs: { ref: 'refs/heads/main;rm -rf /' }, message: /^ref "refs\/heads\/main;rm -rf \/" does not give a valid Git branch name/ },
  { name: 'ref with ..', task: 'deploy', inputs: { ref: 'refs/heads/../../tags/v1' }, message: /^ref "refs\/heads\/\.\.\/\.\.\/tags\/v1" does not give a valid Git branch name/ },

  // ---------------------------------------------------------------- Train: JSON, ids, names, numbers
  { name: 'jobParameters malformed JSON', task: 'train', inputs: { jobParameters: '{"epochs": }' }, message: /^Input jobParameters looks like JSON but does not parse/ },
  { name: 'jobParameters huge JSON (110 kB, near the limit of one environment variable)', task: 'train', inputs: { jobParameters: BIG_JSON }, message: /^Input jobParameters is 1\d{5} bytes as JSON; Databricks accepts at most 10000\. Pass large values through a file or table/ },
  { name: 'jobParameters deeply nested JSON', task: 'train', inputs: { jobParameters: DEEP_JSON }, message: /^In jobParameters, the value of "a" must be a string, number or boolean/ },
  { name: 'jobParameters JSON array', task: 'train', inputs: { jobParameters: '[1, 2, 3]' }, message: /^Line 1 of jobParameters is not key=value: "\[1, 2, 3\]"\.$/ },
  { name: 'jobParameters nested object value', task: 'train', inputs: { jobParameters: '{"a": {"b": 1}}' }, message: /^In jobParameters, the value of "a" must be a string, number or boolean/ },
  { name: 'jobParameters name with an injection attempt', task: 'train', inputs: { jobParameters: "x' OR '1'='1=1" }, message: /^Parameter name "x' OR '1'" in jobParameters is not valid: use letters, digits, _, - and \. only\.$/ },
  { name: 'newClusterJson malformed', task: 'train', inputs: { runType: 'notebook', jobId: undefined, notebookPath: '/Repos/Staging/churn-model/notebooks/train', clusterMode: 'new', newClusterJson: '{spark_version: 15}' }, message: /^Input newClusterJson is not valid JSON/ },
  { name: 'jobId with an injection attempt', task: 'train', inputs: { jobId: '1 OR 1=1' }, message: /^Input jobId must be the numeric Databricks job id/ },
  { name: 'timeoutMinutes NaN', task: 'train', inputs: { timeoutMinutes: 'NaN' }, message: /^Input timeoutMinutes must be a number, got "NaN"\.$/ },
  { name: 'timeoutMinutes Infinity', task: 'train', inputs: { timeoutMinutes: 'Infinity' }, message: /^Input timeoutMinutes must be a number, got "Infinity"\.$/ },
  { name: 'Train candidateTag with a filter injection', task: 'train', inputs: { candidateTag: "candidate' OR tags.x = 'y" }, message: /^Input candidateTag must be an MLflow tag key \(letters, digits, _ - \. \/ and spaces, at most 250 characters\); got "candidate' OR tags\.x = 'y"\.$/ },
  { name: 'Train experiments with ..', task: 'train', inputs: { experiments: '/Shared/../Users/admin/churn' }, message: /^experiments must not contain "\." or "\.\." segments; got "\/Shared\/\.\.\/Users\/admin\/churn"\.$/ },

  // ---------------------------------------------------------------- Evaluate: names, paths, numbers
  { name: 'modelName with a filter injection', task: 'evaluate', inputs: { modelName: "churn' OR name LIKE '%" }, message: /^modelName must not contain quotes or line breaks/ },
  { name: 'Evaluate candidateTag with a filter injection', task: 'evaluate', inputs: { candidateTag: "candidate' OR tags.x = 'y" }, message: /^candidateTag must be an MLflow tag key of letters, digits/ },
  { name: 'Evaluate candidateTag with OR and quotes', task: 'evaluate', inputs: { candidateTag: 'candidate" OR "1"="1' }, message: /^candidateTag must be an MLflow tag key of letters, digits/ },
  { name: 'Evaluate experiments with ..', task: 'evaluate', inputs: { experiments: '/Shared/../Users/admin' }, message: /^experiments must not contain "\." or "\.\." segments; got "\/Shared\/\.\.\/Users\/admin"\.$/ },
  { name: 'Evaluate experiment name with quotes', task: 'evaluate', inputs: { experiments: "churn' OR name='x" }, message: /^Each line of experiments must be an experiment id/ },
  { name: 'labelColumn with SQL', task: 'evaluate', inputs: { labelColumn: 'label; DROP TABLE x' }, message: /^labelColumn must be a column name of letters, digits and _/ },
  { name: 'evaluationTable with SQL', task: 'evaluate', inputs: { evaluationTable: 'main.ml.t; DROP TABLE main.ml.t' }, message: /^evaluationTable must be a table name such as main\.ml\.churn_eval/ },
  { name: 'outputPath with ..', task: 'evaluate', inputs: { outputPath: '/Volumes/main/ml/scratch/../../other/x' }, message: /^outputPath must not contain "\." or "\.\." segments; got "\/Volumes\/main\/ml\/scratch\/\.\.\/\.\.\/other\/x"\.$/ },
  { name: 'outputPath as an https URL', task: 'evaluate', inputs: { outputPath: 'https://evil.example.com/drop' }, message: /^outputPath must be a Unity Catalog volume folder/ },
  { name: 'scoringNotebookPath with ..', task: 'evaluate', inputs: { scoringNotebookPath: '/Shared/../Users/admin/nb' }, message: /^scoringNotebookPath must not contain "\." or "\.\." segments; got "\/Shared\/\.\.\/Users\/admin\/nb"\.$/ },
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
  { name: 'predictions file empty (0 bytes)', task: 'evaluate', predictions: () => Buffer.alloc(0), message: /^predictionsFile \S+predictions\.arrow is empty \(0 bytes\)\.$/ },
  { name: 'predictions file not Arrow (JSON)', task: 'evaluate', predictions: () => Buffer.from('{"label": [0, 1]}'), message: /^the predictions are not Arrow IPC data \(no Arrow file magic and no valid stream message\)$/, readsAllowed: true },
  { name: 'predictions Arrow file truncated', task: 'evaluate', predictions: (k) => withColumn(k, () => undefined).subarray(0, 2000), message: /^the Arrow file is truncated: it does not end with the Arrow footer and magic$/, readsAllowed: true },
  { name: 'predictions Arrow file claiming more rows than it holds', task: 'evaluate', predictions: claimingMoreRows, message: /^column 'run_[0-9a-f]+' claims 6000 rows in a record batch but its data hold only \d+ \(truncated or corrupt Arrow data\)$/, readsAllowed: true },
  { name: 'predictions with no rows', task: 'evaluate', predictions: (k) => arrowFile(Object.fromEntries(['label', ...k].map((c) => [c, c === 'label' ? new Int8Array(0) : new Float64Array(0)]))), message: /^the predictions are empty \(0 rows\)$/, readsAllowed: true },
  { name: 'predictions with a NaN score', task: 'evaluate', predictions: (k) => withColumn(k, (c) => ((c[k[0]] as Float64Array)[3] = NaN)), message: /^column 'run_[0-9a-f]+' has 1 NaN or infinite score \(first at row 3: NaN\)$/, readsAllowed: true },
  { name: 'predictions with an Infinity score', task: 'evaluate', predictions: (k) => withColumn(k, (c) => ((c[k[0]] as Float64Array)[5] = Infinity)), message: /^column 'run_[0-9a-f]+' has 1 NaN or infinite score \(first at row 5: Infinity\)$/, readsAllowed: true },
  { name: 'predictions with label 2', task: 'evaluate', predictions: (k) => withColumn(k, (c) => ((c.label as Int8Array)[7] = 2)), message: /^the label column 'label' has 1 value other than 0 and 1 \(first at row 7: 2\)$/, readsAllowed: true },
  { name: 'predictions with label -1', task: 'evaluate', predictions: (k) => withColumn(k, (c) => ((c.label as Int8Array)[9] = -1)), message: /^the label column 'label' has 1 value other than 0 and 1 \(first at row 9: -1\)$/, readsAllowed: true },
  { name: 'predictions without the production column', task: 'evaluate', predictions: (k) => withColumn(k.filter((x) => x !== 'production'), () => undefined), message: /^there is no score column 'production' \(columns: label, run_[0-9a-f]+\)$/, readsAllowed: true },
];

interface CaseResult {
  r: AgentRunResult;
  requests: number;
  writes: string[];
}

async function runCase(c: HostileCase): Promise<CaseResult> {
  return withEmulator(async (emu) => {
    const world: World<unknown> = c.task === 'train' ? await trainWorld(emu) : c.task === 'deploy' ? await deployWorld(emu) : await evaluateWorld(emu);
    const inputs: Record<string, string | undefined> = { ...c.inputs };
    if (c.predictions) {
      const w = world as Awaited<ReturnType<typeof evaluateWorld>>;
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'hostile-')), 'predictions.arrow');
      writeFileSync(file, c.predictions([`run_${w.candidateRunId}`, 'production']));
      Object.assign(inputs, { predictionsSource: 'file', predictionsFile: file, evaluationTable: undefined, outputPath: undefined });
    }
    const r = await runWorld(`hostile ${c.name}`, world, { inputs, endpoints: c.endpoint ? { [CONN]: c.endpoint(emu) } : undefined });
    return { r, requests: emu.requests.length, writes: emu.writes().map((w) => `${w.method} ${w.path}`) };
  });
}

describe('reliability: hostile and bad input (clear error, no remote write)', function () {
  this.timeout(240_000);
  const results = new Map<string, CaseResult>();

  before(async () => {
    const out = await pool(CASES, 6, runCase);
    CASES.forEach((c, i) => results.set(c.name, out[i]));
    console.log(`\n      ${CASES.length} hostile/bad-input cases: ${[...results.values()].filter((x) => x.r.complete?.result === 'Failed' && x.writes.length === 0).length} failed before any remote write`);
    if (process.env.HOSTILE_PRINT) for (const c of CASES) console.log(`${c.name} :: ${results.get(c.name)!.r.complete?.message} :: requests ${results.get(c.name)!.requests}`);
  });

  it(`covers at least 40 cases across the three tasks (${CASES.length})`, () => {
    assert.ok(CASES.length >= 40);
    assert.deepEqual(new Set(CASES.map((c) => c.task)), new Set(['train', 'deploy', 'evaluate']));
  });

  for (const c of CASES) {
    it(`${c.task}: ${c.name}`, () => {
      const { r, requests, writes } = results.get(c.name)!;
      assert.equal(r.complete?.result, 'Failed', r.stdout);
      assert.match(r.complete!.message, c.message);
      assert.deepEqual(writes, [], 'no remote write');
      if (!c.readsAllowed) assert.equal(requests, 0, 'not even a read');
      assert.deepEqual(r.outputs, {}, 'no output variable set');
      // Inputs are read without task-lib's debug echo: the only lines that may carry it register it with the masker.
      assert.ok(`${r.stdout}\n${r.stderr}`.split(/\r?\n/).every((l) => !l.includes(GIT_PAT) || l.startsWith('##vso[task.setsecret]')));
    });
  }
});

