/**
 * Wire-shape checks for MLflow messages against the real protos (copied verbatim from mlflow/mlflow into
 * reference/mlflow-protos in this repository; MLFLOW_PROTOS_DIR may point elsewhere).
 *
 * `checkMessage('mlflow.SearchRuns', body)` returns the list of problems (empty when every field name of
 * the JSON object, recursively through nested messages and repeated fields, exists in the message
 * definition, and scalar/enum values have a plausible JSON type). `assertMessage` throws with them.
 * Field names are accepted in their proto form (`run_id`) or their `json_name`.
 *
 * Databricks-only endpoints missing from these protos (the Databricks transition-stage variant and the
 * Unity Catalog registry) are described in UC_MESSAGES below, transcribed from docs/databricks-api-notes.md §6 and §6.1 and
 * mlflow/protos/databricks_uc_registry_messages.proto.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as protobuf from 'protobufjs';

const CANDIDATE_DIRS = [process.env.MLFLOW_PROTOS_DIR, path.resolve(__dirname, '..', '..', '..', 'reference', 'mlflow-protos')].filter((d): d is string => !!d);

let root: protobuf.Root | undefined;

/** Loads databricks.proto, service.proto and model_registry.proto into one root (imports not resolved). */
export function protoRoot(): protobuf.Root {
  if (root) return root;
  const dir = CANDIDATE_DIRS.find((d) => existsSync(path.join(d, 'service.proto')));
  if (!dir) throw new Error(`MLflow protos not found; looked in ${CANDIDATE_DIRS.join(', ')}. Set MLFLOW_PROTOS_DIR.`);
  const r = new protobuf.Root();
  for (const f of ['databricks.proto', 'service.proto', 'model_registry.proto']) {
    protobuf.parse(readFileSync(path.join(dir, f), 'utf8'), r, { keepCase: true, alternateCommentMode: true });
  }
  root = r;
  return r;
}

const INT_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64']);

/** Hand-written message shapes for endpoints the stored protos do not define. */
type FieldSpec = { type: string; repeated?: boolean };
export const EXTRA_MESSAGES: Record<string, Record<string, FieldSpec>> = {
  // /api/2.0/mlflow/databricks/model-versions/transition-stage (docs/databricks-api-notes.md §6.1).
  'databricks.TransitionModelVersionStageDatabricks': {
    name: { type: 'string' },
    version: { type: 'string' },
    stage: { type: 'string' },
    archive_existing_versions: { type: 'bool' },
    comment: { type: 'string' },
  },
  'databricks.TransitionModelVersionStageDatabricks.Response': { model_version_databricks: { type: 'databricks.ModelVersionDatabricks' } },
  'databricks.ModelVersionDatabricks': {
    name: { type: 'string' },
    version: { type: 'string' },
    creation_timestamp: { type: 'int64' },
    last_updated_timestamp: { type: 'int64' },
    user_id: { type: 'string' },
    current_stage: { type: 'string' },
    description: { type: 'string' },
    source: { type: 'string' },
    run_id: { type: 'string' },
    status: { type: 'string' },
    status_message: { type: 'string' },
    tags: { type: 'mlflow.ModelVersionTag', repeated: true },
    run_link: { type: 'string' },
    aliases: { type: 'string', repeated: true },
    open_requests: { type: 'object', repeated: true },
    permission_level: { type: 'string' },
    email_subscription_status: { type: 'string' },
    feature_list: { type: 'object' },
  },
  // Unity Catalog (databricks_uc_registry_messages.proto).
  'uc.RegisteredModel': {
    name: { type: 'string' },
    creation_timestamp: { type: 'int64' },
    last_updated_timestamp: { type: 'int64' },
    user_id: { type: 'string' },
    description: { type: 'string' },
    aliases: { type: 'uc.RegisteredModelAlias', repeated: true },
    tags: { type: 'mlflow.RegisteredModelTag', repeated: true },
  },
  'uc.RegisteredModelAlias': { alias: { type: 'string' }, version: { type: 'string' } },
  'uc.ModelVersion': {
    name: { type: 'string' },
    version: { type: 'string' },
    creation_timestamp: { type: 'int64' },
    last_updated_timestamp: { type: 'int64' },
    user_id: { type: 'string' },
    description: { type: 'string' },
    source: { type: 'string' },
    run_id: { type: 'string' },
    run_experiment_id: { type: 'string' },
    run_tracking_server_id: { type: 'string' },
    status: { type: 'string' },
    status_message: { type: 'string' },
    storage_location: { type: 'string' },
    aliases: { type: 'uc.RegisteredModelAlias', repeated: true },
    tags: { type: 'mlflow.ModelVersionTag', repeated: true },
  },
  'uc.CreateRegisteredModelRequest': { name: { type: 'string' }, tags: { type: 'mlflow.RegisteredModelTag', repeated: true }, description: { type: 'string' } },
  'uc.RegisteredModelResponse': { registered_model: { type: 'uc.RegisteredModel' } },
  'uc.CreateModelVersionRequest': {
    name: { type: 'string' },
    source: { type: 'string' },
    run_id: { type: 'string' },
    description: { type: 'string' },
    run_tracking_server_id: { type: 'string' },
    feature_deps: { type: 'string' },
    tags: { type: 'mlflow.ModelVersionTag', repeated: true },
  },
  'uc.ModelVersionResponse': { model_version: { type: 'uc.ModelVersion' } },
  'uc.SearchModelVersionsRequest': { filter: { type: 'string' }, max_results: { type: 'int64' }, page_token: { type: 'string' } },
  'uc.SearchModelVersionsResponse': { model_versions: { type: 'uc.ModelVersion', repeated: true }, next_page_token: { type: 'string' } },
  'uc.NameVersion': { name: { type: 'string' }, version: { type: 'string' } },
  'uc.SetRegisteredModelAliasRequest': { name: { type: 'string' }, alias: { type: 'string' }, version: { type: 'string' } },
  'uc.SetModelVersionTagRequest': { name: { type: 'string' }, version: { type: 'string' }, key: { type: 'string' }, value: { type: 'string' } },
  'uc.DeleteModelVersionTagRequest': { name: { type: 'string' }, version: { type: 'string' }, key: { type: 'string' } },
  'uc.SetRegisteredModelTagRequest': { name: { type: 'string' }, key: { type: 'string' }, value: { type: 'string' } },
  'uc.DeleteRegisteredModelTagRequest': { name: { type: 'string' }, key: { type: 'string' } },
  'uc.UpdateModelVersionRequest': { name: { type: 'string' }, version: { type: 'string' }, description: { type: 'string' } },
  Empty: {},
};

function checkScalar(type: string, value: unknown, where: string, problems: string[]): void {
  if (type === 'string' || type === 'bytes') {
    if (typeof value !== 'string') problems.push(`${where}: expected a string, got ${JSON.stringify(value)}`);
  } else if (INT_TYPES.has(type)) {
    // proto-JSON allows int64 as string; Databricks sends numbers. Either is a valid number form.
    if (!(typeof value === 'number' && Number.isInteger(value)) && !(typeof value === 'string' && /^-?\d+$/.test(value))) {
      problems.push(`${where}: expected an integer, got ${JSON.stringify(value)}`);
    }
  } else if (type === 'double' || type === 'float') {
    if (typeof value !== 'number' && !['NaN', 'Infinity', '-Infinity'].includes(value as string))
      problems.push(`${where}: expected a number, got ${JSON.stringify(value)}`);
  } else if (type === 'bool') {
    if (typeof value !== 'boolean') problems.push(`${where}: expected a boolean, got ${JSON.stringify(value)}`);
  } else if (type === 'object') {
    if (typeof value !== 'object' || value === null) problems.push(`${where}: expected an object`);
  }
}

function checkAgainstExtra(typeName: string, json: unknown, where: string, problems: string[]): void {
  const spec = EXTRA_MESSAGES[typeName];
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    problems.push(`${where}: expected a JSON object for ${typeName}`);
    return;
  }
  for (const [k, v] of Object.entries(json)) {
    const f = spec[k];
    if (!f) {
      problems.push(`${where}.${k}: no field '${k}' in ${typeName}`);
      continue;
    }
    checkField(f.type, !!f.repeated, v, `${where}.${k}`, problems, undefined);
  }
}

function checkField(type: string, repeated: boolean, value: unknown, where: string, problems: string[], scope: protobuf.Type | undefined): void {
  if (repeated) {
    if (!Array.isArray(value)) {
      problems.push(`${where}: expected an array (repeated ${type})`);
      return;
    }
    value.forEach((v, i) => checkField(type, false, v, `${where}[${i}]`, problems, scope));
    return;
  }
  if (EXTRA_MESSAGES[type]) return checkAgainstExtra(type, value, where, problems);
  if (INT_TYPES.has(type) || ['string', 'bytes', 'double', 'float', 'bool', 'object'].includes(type)) return checkScalar(type, value, where, problems);
  const resolved = (scope ?? protoRoot()).lookupTypeOrEnum(type);
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'string') {
      if (!(value in resolved.values)) problems.push(`${where}: '${value}' is not a value of enum ${resolved.fullName.replace(/^\./, '')}`);
    } else if (typeof value !== 'number') problems.push(`${where}: expected an enum name, got ${JSON.stringify(value)}`);
    return;
  }
  checkType(resolved as protobuf.Type, value, where, problems);
}

function checkType(type: protobuf.Type, json: unknown, where: string, problems: string[]): void {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    problems.push(`${where}: expected a JSON object for ${type.fullName}`);
    return;
  }
  const byName = new Map<string, protobuf.Field>();
  for (const f of type.fieldsArray) {
    byName.set(f.name, f);
    const jsonName = (f.options as Record<string, unknown> | undefined)?.json_name;
    if (typeof jsonName === 'string') byName.set(jsonName, f);
  }
  for (const [k, v] of Object.entries(json)) {
    const f = byName.get(k);
    if (!f) {
      problems.push(`${where}.${k}: no field '${k}' in ${type.fullName.replace(/^\./, '')}`);
      continue;
    }
    if (f.map) {
      if (typeof v !== 'object' || v === null) problems.push(`${where}.${k}: expected a map object`);
      continue;
    }
    checkField(f.type, f.repeated, v, `${where}.${k}`, problems, type);
  }
}

/** Problems with `json` as an instance of `typeName` (e.g. `mlflow.SearchRuns.Response`); empty when it conforms. */
export function checkMessage(typeName: string, json: unknown): string[] {
  const problems: string[] = [];
  if (EXTRA_MESSAGES[typeName]) {
    checkAgainstExtra(typeName, json, typeName, problems);
    return problems;
  }
  checkType(protoRoot().lookupType(typeName), json, typeName, problems);
  return problems;
}

/** Throws an AssertionError listing every field of `json` that `typeName` does not define. */
export function assertMessage(typeName: string, json: unknown): void {
  const problems = checkMessage(typeName, json);
  assert.deepEqual(problems, [], `${typeName} does not match its proto:\n${problems.join('\n')}`);
}
