/**
 * Evaluate in one stage, promote in another: the `action` input and what passes between the two steps. The
 * `evaluate` action marks the winner as the challenger and publishes its decision record as a pipeline
 * artifact; after an environment approval the `promote` action reads that record and promotes exactly the
 * version it names (promote-action.ts), refusing when anything it relied on has changed.
 */
import path from 'node:path';
import { InputError, Inputs, truncate } from '../../pipeline/inputs';
import { parseBuildContext, parseRegistration, parseRegistryConfig, type BuildContext, type RegistrationConfig, type RegistryConfig } from './inputs';

export type EvaluateAction = 'evaluateAndPromote' | 'evaluate' | 'promote';

export interface HandoffConfig {
  /** Unity Catalog: the alias the evaluate action moves to the winner (default challenger). */
  challengerAlias: string;
  /** The pipeline artifact the evaluate action publishes its record in (default model-evaluation). */
  artifactName: string;
  /** Unity Catalog: the model the promote action copies the version into (another catalog); its production is recorded. */
  targetModelName?: string;
}

/** The decision record's file name inside the published artifact: a later stage finds it at `<download folder>/<artifactName>/decision.json`. */
export const RECORD_FILE = 'decision.json';

const THREE_LEVEL = /^[^.\s`'"/]+\.[^.\s`'"/]+\.[^.\s`'"/]+$/;
const ALIAS = /^[A-Za-z_][A-Za-z0-9_-]{0,254}$/;

function fail(name: string, message: string): never {
  throw new InputError(name, message);
}

export function parseAction(inputs: Inputs): EvaluateAction {
  return inputs.oneOf('action', ['evaluateAndPromote', 'evaluate', 'promote'] as const, 'evaluateAndPromote');
}

function parseTarget(inputs: Inputs, modelName: string, registry: RegistryConfig): string | undefined {
  const target = inputs.optional('targetModelName');
  if (target === undefined) return undefined;
  if (registry.kind !== 'unityCatalog')
    fail(
      'targetModelName',
      'targetModelName (promote into a model of another catalog) needs registry unityCatalog; remove it, or set registry to unityCatalog.',
    );
  if (!THREE_LEVEL.test(target))
    fail(
      'targetModelName',
      `targetModelName must be a three-level Unity Catalog name <catalog>.<schema>.<model>, e.g. prod.ml.churn; got "${truncate(target)}".`,
    );
  if (target === modelName)
    fail('targetModelName', `targetModelName is the model the evaluation registers into (${modelName}); leave it empty to promote within that model.`);
  return target;
}

/** The inputs of the evaluate action's hand-off (also parsed, unused, for evaluateAndPromote). */
export function parseHandoff(inputs: Inputs, registry: RegistryConfig): HandoffConfig {
  const challengerAlias = inputs.optional('challengerAlias') ?? 'challenger';
  if (!ALIAS.test(challengerAlias))
    fail('challengerAlias', `challengerAlias must start with a letter or _ and contain only letters, digits, _ and -; got "${truncate(challengerAlias)}".`);
  if (challengerAlias.toLowerCase() === 'latest' || /^v\d+$/i.test(challengerAlias))
    fail('challengerAlias', `challengerAlias "${challengerAlias}" is reserved by MLflow (latest and v<number> are not allowed).`);
  if (registry.kind === 'unityCatalog' && challengerAlias === registry.alias) {
    fail('challengerAlias', `challengerAlias must differ from championAlias (${registry.alias}): marking the challenger must not move production.`);
  }
  const artifactName = inputs.optional('artifactName') ?? 'model-evaluation';
  // Artifact names become folder names on the agent that downloads them: keep them to a portable set.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(artifactName)) {
    fail('artifactName', `artifactName must be letters, digits, _ . - (at most 100, starting with a letter or digit); got "${truncate(artifactName)}".`);
  }
  const modelName = inputs.optional('modelName') ?? '';
  return { challengerAlias, artifactName, targetModelName: parseTarget(inputs, modelName, registry) };
}

export interface PromoteInputs {
  modelName: string;
  registry: RegistryConfig;
  /** Absolute path of the evaluation's decision record (a folder holding decision.json is accepted). */
  decisionRecord: string;
  maxDecisionAgeMs: number;
  targetModelName?: string;
  /** Cross-catalog copies run the bundled registration notebook (Unity Catalog with targetModelName). */
  registration?: RegistrationConfig;
  readyTimeoutMs: number;
  build: BuildContext;
}

/** The promote action's inputs: no experiments, scoring or decision inputs (the record carries the decision). */
export function parsePromoteInputs(inputs: Inputs): PromoteInputs {
  const build = parseBuildContext(inputs);
  const { modelName, registry } = parseRegistryConfig(inputs);
  const raw = inputs.required(
    'decisionRecord',
    "the evaluate step's decision record, e.g. $(Pipeline.Workspace)/model-evaluation/decision.json after a download step",
  );
  const base = inputs.variable('System.DefaultWorkingDirectory') ?? process.cwd();
  const decisionRecord = path.resolve(base, raw);
  const hours = inputs.number('maxDecisionAgeHours', { default: 72, min: 0, minExclusive: true, max: 24 * 365 })!;
  const targetModelName = parseTarget(inputs, modelName, registry);
  const readyTimeoutMs = inputs.number('readyTimeoutSeconds', { default: 300, min: 1, max: 3600, integer: true })! * 1000;
  return {
    modelName,
    registry,
    decisionRecord,
    maxDecisionAgeMs: Math.round(hours * 3_600_000),
    targetModelName,
    registration: targetModelName ? parseRegistration(inputs, undefined) : undefined,
    readyTimeoutMs,
    build,
  };
}
