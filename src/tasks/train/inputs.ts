import { checkWorkspacePath, CONTROL_CHARS, InputError, Inputs, truncate } from '../../pipeline/inputs';
import { parseCluster, type ClusterConfig } from '../common/cluster';

export type { ClusterConfig };

export type TrainTarget =
  | { kind: 'existingJob'; jobId: number; jobName?: undefined }
  | { kind: 'existingJob'; jobId?: undefined; jobName: string }
  | { kind: 'notebook'; notebookPath: string; cluster: ClusterConfig };

export interface TrainInputs {
  target: TrainTarget;
  /** From `jobParameters`; sent as job parameters when the job defines them, otherwise as notebook parameters. */
  parameters: Record<string, string>;
  waitForCompletion: boolean;
  timeoutMs: number;
  cancelRunOnAbort: boolean;
  tagCandidates: boolean;
  candidateTag: string;
  /** Experiment workspace paths or numeric ids. */
  experiments: string[];
}

/** Where this step runs in Azure Pipelines: identifies the step for idempotency and traces candidates to the build. */
export interface PipelineContext {
  collectionUri?: string;
  teamProject?: string;
  buildId?: string;
  buildNumber?: string;
  sourceVersion?: string;
  sourceBranch?: string;
  repositoryName?: string;
  definitionId?: string;
  jobId?: string;
  jobAttempt?: string;
  taskInstanceId?: string;
}

const MAX_TIMEOUT_MINUTES = 43_200;
/** databricks/databricks-sdk-go service/jobs/model.go, JobSettings.Name: "The maximum length is 4096 bytes in UTF-8 encoding." */
const MAX_JOB_NAME_BYTES = 4096;

/** A job name that cannot name any job is refused before the job list is read. */
function checkJobName(name: string): string {
  if (CONTROL_CHARS.test(name)) throw new InputError('jobName', 'jobName must not contain control characters.');
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_JOB_NAME_BYTES) {
    throw new InputError(
      'jobName',
      `jobName is ${bytes} bytes; a Databricks job name is at most ${MAX_JOB_NAME_BYTES} bytes (UTF-8), so no job has this name. Got "${truncate(name)}".`,
    );
  }
  return name;
}
const MLFLOW_TAG_KEY = /^[A-Za-z0-9_\-. /]+$/;

/** Parses the Train inputs (not the connection ones). Pure: throws InputError naming the input. */
export function parseTrainInputs(inputs: Inputs): TrainInputs {
  const runType = inputs.oneOf('runType', ['existingJob', 'notebook'] as const, 'existingJob');
  let target: TrainTarget;
  if (runType === 'existingJob') {
    const idRaw = inputs.optional('jobId');
    const name = inputs.optional('jobName');
    if (idRaw !== undefined && name !== undefined) {
      throw new InputError('jobId', 'Set either jobId or jobName, not both: jobId picks the job exactly, jobName looks it up by name.');
    }
    if (idRaw === undefined && name === undefined) {
      throw new InputError('jobId', 'With runType existingJob, set jobId (the numeric job id) or jobName (the exact job name).');
    }
    if (idRaw !== undefined) {
      if (!/^\d+$/.test(idRaw) || !Number.isSafeInteger(Number(idRaw)) || Number(idRaw) <= 0) {
        throw new InputError(
          'jobId',
          `Input jobId must be the numeric Databricks job id (e.g. 123456789), got "${truncate(idRaw)}". To pick a job by name, use jobName.`,
        );
      }
      target = { kind: 'existingJob', jobId: Number(idRaw) };
    } else {
      target = { kind: 'existingJob', jobName: checkJobName(name!) };
    }
  } else {
    const notebookPath = inputs.required('notebookPath', 'the workspace path of the training notebook, for runType notebook');
    checkWorkspacePath('notebookPath', notebookPath, '/Workspace/Repos/team/project/train or /Users/me@example.com/train');
    target = { kind: 'notebook', notebookPath, cluster: parseCluster(inputs) };
  }

  const timeoutMinutes = inputs.number('timeoutMinutes', { default: 120, min: 0, minExclusive: true, max: MAX_TIMEOUT_MINUTES })!;
  const candidateTag = inputs.optional('candidateTag') ?? 'candidate';
  if (!MLFLOW_TAG_KEY.test(candidateTag) || candidateTag.length > 250) {
    throw new InputError(
      'candidateTag',
      `Input candidateTag must be an MLflow tag key (letters, digits, _ - . / and spaces, at most 250 characters); got "${truncate(candidateTag)}".`,
    );
  }
  const experiments = inputs.lines('experiments');
  for (const e of experiments) {
    if (!e.startsWith('/') && !/^\d+$/.test(e)) {
      throw new InputError(
        'experiments',
        `Each line of experiments must be an experiment workspace path (e.g. /Shared/churn) or a numeric experiment id; got "${truncate(e)}".`,
      );
    }
    if (e.startsWith('/')) checkWorkspacePath('experiments', e, '/Shared/churn');
  }
  return {
    target,
    parameters: parseJobParameters(inputs.source.get('jobParameters')),
    waitForCompletion: inputs.bool('waitForCompletion', true),
    timeoutMs: Math.round(timeoutMinutes * 60_000),
    cancelRunOnAbort: inputs.bool('cancelRunOnAbort', true),
    tagCandidates: inputs.bool('tagCandidates', true),
    candidateTag,
    experiments: [...new Set(experiments)],
  };
}

/**
 * `jobParameters`: either one JSON object (`{"epochs": "10"}`; numbers and booleans become strings), or
 * `key=value` lines (the value may contain `=`; blank lines and `#` comments are ignored).
 */
export function parseJobParameters(raw: string | undefined): Record<string, string> {
  return checkSize(parseJobParameterText(raw));
}

/** Databricks rejects notebook parameters whose JSON exceeds 10,000 bytes; say so before starting anything. */
export const MAX_JOB_PARAMETERS_BYTES = 10_000;

function checkSize(params: Record<string, string>): Record<string, string> {
  const bytes = Buffer.byteLength(JSON.stringify(params), 'utf8');
  if (bytes > MAX_JOB_PARAMETERS_BYTES) {
    throw new InputError(
      'jobParameters',
      `Input jobParameters is ${bytes} bytes as JSON; Databricks accepts at most ${MAX_JOB_PARAMETERS_BYTES}. Pass large values through a file or table and give the notebook its path.`,
    );
  }
  return params;
}

function parseJobParameterText(raw: string | undefined): Record<string, string> {
  if (raw === undefined || raw.trim() === '') return {};
  const text = raw.trim();
  const out: Record<string, string> = {};
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new InputError(
        'jobParameters',
        `Input jobParameters looks like JSON but does not parse (${e instanceof Error ? e.message : 'parse error'}). Use one JSON object of strings, or key=value lines.`,
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InputError('jobParameters', 'Input jobParameters must be one JSON object, or key=value lines.');
    }
    const twice = duplicateTopLevelKey(text);
    if (twice !== undefined) throw new InputError('jobParameters', `Parameter "${truncate(twice)}" is given twice in jobParameters.`);
    for (const [k, v] of Object.entries(parsed)) {
      checkKey(k);
      if (typeof v === 'string') out[k] = v;
      else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
      else
        throw new InputError(
          'jobParameters',
          `In jobParameters, the value of "${truncate(k)}" must be a string, number or boolean (Databricks parameters are strings).`,
        );
    }
    return out;
  }
  const lines = raw.split(/\r?\n/);
  lines.forEach((line, i) => {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) return;
    const eq = l.indexOf('=');
    if (eq <= 0) throw new InputError('jobParameters', `Line ${i + 1} of jobParameters is not key=value: "${truncate(l)}".`);
    const key = l.slice(0, eq).trim();
    checkKey(key);
    if (Object.prototype.hasOwnProperty.call(out, key)) throw new InputError('jobParameters', `Parameter "${truncate(key)}" is given twice in jobParameters.`);
    out[key] = l.slice(eq + 1).trim();
  });
  return out;
}

/**
 * The first key that occurs twice in the top-level object of `json` (already known to parse), or undefined.
 * JSON.parse keeps the last value silently; key=value lines reject a repeated key, and so does JSON.
 */
function duplicateTopLevelKey(json: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (/\s/.test(json[k] ?? '')) k++;
        if (json[k] === ':') {
          const key = JSON.parse(json.slice(i, j + 1)) as string;
          if (seen.has(key)) return key;
          seen.add(key);
        }
      }
      i = j;
    }
  }
  return undefined;
}

function checkKey(key: string): void {
  if (key === '' || !/^[A-Za-z0-9_.-]+$/.test(key)) {
    throw new InputError('jobParameters', `Parameter name "${truncate(key)}" in jobParameters is not valid: use letters, digits, _, - and . only.`);
  }
}

/** Reads the predefined pipeline variables this task uses. */
export function readPipelineContext(inputs: Inputs): PipelineContext {
  const v = (n: string) => inputs.variable(n);
  return {
    collectionUri: v('System.CollectionUri') ?? v('System.TeamFoundationCollectionUri'),
    teamProject: v('System.TeamProject'),
    buildId: v('Build.BuildId'),
    buildNumber: v('Build.BuildNumber'),
    sourceVersion: v('Build.SourceVersion'),
    sourceBranch: v('Build.SourceBranch'),
    repositoryName: v('Build.Repository.Name'),
    definitionId: v('System.DefinitionId'),
    jobId: v('System.JobId'),
    jobAttempt: v('System.JobAttempt'),
    taskInstanceId: v('System.TaskInstanceId'),
  };
}
