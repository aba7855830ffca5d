import path from 'node:path';
import { ENDPOINT_NAME, WORKLOAD_TYPES, type WorkloadType } from '../../databricks/serving';
import { InputError, Inputs, truncate } from '../../pipeline/inputs';

export type Registry = 'unityCatalog' | 'workspace';

export type VersionSource =
  | { kind: 'alias'; alias: string }
  /** Workspace registry: the latest version in stage Production. */
  | { kind: 'stage'; stage: 'Production' }
  | { kind: 'version'; version: string }
  /** Absolute path of an Evaluate & Promote decision record on the agent. */
  | { kind: 'decisionRecord'; path: string };

export type TrafficMode = { kind: 'replace' } | { kind: 'canary'; percent: number } | { kind: 'promoteCanary' };

export interface ServeInputs {
  endpointName: string;
  createIfMissing: boolean;
  modelName: string;
  registry: Registry;
  source: VersionSource;
  traffic: TrafficMode;
  workloadSize: string;
  workloadType: WorkloadType;
  scaleToZero: boolean;
  /** Absolute path of the smoke test JSON on the agent, when set. */
  smokeTestFile?: string;
  timeoutMs: number;
  rollbackOnFailure: boolean;
}

const MAX_TIMEOUT_MINUTES = 1_440;
const UC_NAME = /^[^.\s/]+\.[^.\s/]+\.[^.\s/]+$/;
const ALIAS = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const WORKLOAD_SIZE = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * A `filePath` input left empty arrives as the pipeline's default working directory (the agent fills it in),
 * so a path that is exactly that folder means "not set".
 */
function optionalFile(inputs: Inputs, name: string): string | undefined {
  const raw = inputs.optional(name);
  if (raw === undefined) return undefined;
  const base = inputs.variable('System.DefaultWorkingDirectory') ?? process.cwd();
  const resolved = path.resolve(base, raw);
  const roots = [inputs.variable('System.DefaultWorkingDirectory'), inputs.variable('Build.SourcesDirectory')]
    .filter((r): r is string => !!r)
    .map((r) => path.resolve(r));
  if (roots.includes(resolved)) return undefined;
  return resolved;
}

/** Parses the serving inputs (not the connection ones). Pure: throws InputError naming the input. */
export function parseServeInputs(inputs: Inputs): ServeInputs {
  const endpointName = inputs.required('endpointName', 'the name of the Model Serving endpoint');
  if (!ENDPOINT_NAME.test(endpointName) || endpointName.length > 63) {
    throw new InputError(
      'endpointName',
      `Input endpointName must be a serving endpoint name of letters, digits, - and _ (at most 63 characters); got "${truncate(endpointName)}".`,
    );
  }
  const registry = inputs.oneOf('registry', ['unityCatalog', 'workspace'] as const, 'unityCatalog');
  const modelName = inputs.required('modelName', 'the registered model to serve');
  if (registry === 'unityCatalog' && !UC_NAME.test(modelName)) {
    throw new InputError(
      'modelName',
      `With registry unityCatalog, modelName must be the three-level name <catalog>.<schema>.<model>; got "${truncate(modelName)}". For a workspace registry model, set registry to workspace.`,
    );
  }
  if (registry === 'workspace' && (modelName.includes('/') || modelName.length > 256)) {
    throw new InputError('modelName', `Input modelName is not a workspace registry model name: "${truncate(modelName)}".`);
  }

  const sourceKind = inputs.oneOf('versionSource', ['alias', 'version', 'decisionRecord'] as const, 'alias');
  let source: VersionSource;
  if (sourceKind === 'alias') {
    if (registry === 'workspace') source = { kind: 'stage', stage: 'Production' };
    else {
      const alias = inputs.optional('alias') ?? 'champion';
      if (!ALIAS.test(alias) || alias.length > 255)
        throw new InputError('alias', `Input alias must be a Unity Catalog alias such as champion (letters, digits, _ and -); got "${truncate(alias)}".`);
      if (/^v\d+$/i.test(alias))
        throw new InputError('alias', `"${alias}" is a reserved version reference, not an alias; to serve a version by number, set versionSource to version.`);
      source = { kind: 'alias', alias };
    }
  } else if (sourceKind === 'version') {
    const version = inputs.required('modelVersion', 'the model version number to serve, for versionSource version');
    if (!/^[1-9]\d*$/.test(version) || !Number.isSafeInteger(Number(version))) {
      throw new InputError('modelVersion', `Input modelVersion must be a version number such as 7; got "${truncate(version)}".`);
    }
    source = { kind: 'version', version };
  } else {
    const file = optionalFile(inputs, 'decisionRecord');
    if (file === undefined)
      throw new InputError(
        'decisionRecord',
        'Input required: decisionRecord (the evaluation.json that Evaluate & Promote wrote, e.g. $(evaluate.reportPath)), for versionSource decisionRecord.',
      );
    source = { kind: 'decisionRecord', path: file };
  }

  const mode = inputs.oneOf('trafficMode', ['replace', 'canary', 'promoteCanary'] as const, 'replace');
  const traffic: TrafficMode =
    mode === 'canary' ? { kind: 'canary', percent: inputs.number('canaryPercent', { default: 10, min: 1, max: 50, integer: true })! } : { kind: mode };

  const workloadSize = inputs.optional('workloadSize') ?? 'Small';
  if (!WORKLOAD_SIZE.test(workloadSize) || workloadSize.length > 64) {
    throw new InputError(
      'workloadSize',
      `Input workloadSize must be Small, Medium, Large or a custom size name of the workspace; got "${truncate(workloadSize)}".`,
    );
  }
  const workloadType = inputs.oneOf('workloadType', WORKLOAD_TYPES, 'CPU');
  const timeoutMinutes = inputs.number('timeoutMinutes', { default: 30, min: 0, minExclusive: true, max: MAX_TIMEOUT_MINUTES })!;
  return {
    endpointName,
    createIfMissing: inputs.bool('createIfMissing', true),
    modelName,
    registry,
    source,
    traffic,
    workloadSize,
    workloadType,
    scaleToZero: inputs.bool('scaleToZero', false),
    smokeTestFile: optionalFile(inputs, 'smokeTestFile'),
    timeoutMs: Math.round(timeoutMinutes * 60_000),
    rollbackOnFailure: inputs.bool('rollbackOnFailure', true),
  };
}
