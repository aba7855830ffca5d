/** Readers shared by the foundation tests: the manifest, the task.json files and their expected identities. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, TaskFolder } from '../helpers/agent';

export type Json = any;

export const TASK_CONTRIBUTION = 'ms.vss-distributed-task.task';
export const ENDPOINT_CONTRIBUTION = 'ms.vss-endpoint.service-endpoint-type';
export const ENDPOINT_NAME = 'mlopspipelines-databricks';
export const DEV_ENDPOINT_NAME = 'mlopspipelines-databricks-dev';

/** The identities users' pipelines depend on: these never change. */
export const TASKS: ReadonlyArray<{ folder: TaskFolder; id: string; name: string; friendlyName: string }> = [
  {
    folder: 'DatabricksReposDeployV1',
    id: '57ddee0e-3aaa-485c-adc1-c533e3ced396',
    name: 'DatabricksReposDeploy',
    friendlyName: 'Deploy Notebooks via Repos API',
  },
  { folder: 'DatabricksTrainV1', id: 'bd5e9131-22eb-4d4a-81e5-00de85c5ed63', name: 'DatabricksTrain', friendlyName: 'Train' },
  { folder: 'DatabricksEvaluatePromoteV1', id: '04526030-f3e4-4e20-8fc9-1d9608ae8657', name: 'DatabricksEvaluatePromote', friendlyName: 'Evaluate & Promote' },
  { folder: 'DatabricksServingDeployV1', id: '4dad94d5-1048-4724-8cc1-8c1e2d76546c', name: 'DatabricksServingDeploy', friendlyName: 'Deploy Model to Serving' },
];

export const CONNECTION_INPUTS = ['connectionType', 'databricksConnection', 'azureSubscription', 'workspaceUrl'];

export function readJson(file: string): Json {
  return JSON.parse(readFileSync(path.isAbsolute(file) ? file : path.join(REPO_ROOT, file), 'utf8'));
}

export function manifest(): Json {
  return readJson('vss-extension.json');
}

export function taskJson(folder: string): Json {
  return readJson(path.join('tasks', folder, 'task.json'));
}

export function schema(name: 'task.schema.json' | 'vss-extension.schema.json'): Json {
  return readJson(path.join('test', 'foundation', 'schemas', name));
}

/** Width and height from a PNG's IHDR chunk (bytes 16..23), after checking the signature. */
export function pngSize(buf: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (buf.length < 24 || !buf.subarray(0, 8).equals(signature) || buf.toString('ascii', 12, 16) !== 'IHDR') {
    throw new Error('not a PNG');
  }
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/** The input names a visibleRule mentions (`a = x && b != y`, `a Contains z || ...`). */
export function ruleInputs(rule: string): string[] {
  return rule
    .split(/&&|\|\|/)
    .map(
      (clause) =>
        /^\s*([A-Za-z][A-Za-z0-9]*)\s*(==|=|!=|<=|>=|<|>|\s(?:Not)?(?:Contains|StartsWith|EndsWith)\s)/.exec(clause)?.[1] ?? `<unparsable: ${clause.trim()}>`,
    );
}
