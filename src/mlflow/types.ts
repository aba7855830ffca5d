/**
 * MLflow wire entities as the Databricks-hosted MLflow REST API returns them (field names from
 * mlflow/protos/service.proto and model_registry.proto). Every field the server may omit (proto-JSON
 * drops empty arrays, empty strings and zeros) is optional here; readers default them.
 * MLflow ids (experiment ids, run ids, model version numbers) are strings on the wire and stay strings.
 */

/** `{key, value}` pair used for run tags, params, experiment tags and registry tags. */
export interface KeyValue {
  key: string;
  value?: string;
}

/** A metric point; `runs/get` and `runs/search` return only the latest value per key. */
export interface Metric {
  key: string;
  value: number;
  timestamp?: number;
  step?: number;
}

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

/** mlflow.Experiment. */
export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage?: 'active' | 'deleted';
  last_update_time?: number;
  creation_time?: number;
  tags?: KeyValue[];
}

/** mlflow.RunInfo. */
export interface RunInfo {
  run_id: string;
  run_uuid?: string;
  run_name?: string;
  experiment_id: string;
  user_id?: string;
  status?: RunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage?: 'active' | 'deleted';
}

/** mlflow.RunData. */
export interface RunData {
  metrics?: Metric[];
  params?: KeyValue[];
  tags?: KeyValue[];
}

/** mlflow.ModelOutput: a LoggedModel a run produced (MLflow 3). */
export interface ModelOutput {
  model_id: string;
  step?: number;
}

/** mlflow.RunOutputs (MLflow 3): `model_outputs` links a run to the LoggedModels it logged. */
export interface RunOutputs {
  model_outputs?: ModelOutput[];
}

/** mlflow.Run. */
export interface MlflowRun {
  info: RunInfo;
  data?: RunData;
  inputs?: Record<string, unknown>;
  outputs?: RunOutputs;
}

export type LoggedModelStatus = 'LOGGED_MODEL_STATUS_UNSPECIFIED' | 'LOGGED_MODEL_PENDING' | 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED';

/** mlflow.LoggedModelInfo (service.proto, MLflow 3): a model logged with `log_model(name=...)`. */
export interface LoggedModelInfo {
  model_id: string;
  experiment_id?: string;
  name?: string;
  creation_timestamp_ms?: number;
  last_updated_timestamp_ms?: number;
  artifact_uri?: string;
  status?: LoggedModelStatus;
  source_run_id?: string;
  status_message?: string;
  tags?: KeyValue[];
}

/** mlflow.LoggedModel. */
export interface LoggedModel {
  info: LoggedModelInfo;
  data?: Record<string, unknown>;
}

/** mlflow.FileInfo from `artifacts/list`; `path` is relative to the run's artifact root. */
export interface FileInfo {
  path: string;
  is_dir?: boolean;
  file_size?: number;
}

export type ModelVersionStatus =
  | 'PENDING_REGISTRATION'
  | 'FAILED_REGISTRATION'
  | 'READY'
  /**
   * Unity Catalog only: the unset value of ModelVersionStatus in mlflow's databricks_uc_registry_messages.proto
   * (the public UC REST API names its own enum's unset value MODEL_VERSION_STATUS_UNKNOWN; the MLflow UC
   * endpoints this client calls use the proto's name).
   */
  | 'UNSPECIFIED';

/** Workspace registry stages; Unity Catalog models have none (aliases instead). */
export type Stage = 'None' | 'Staging' | 'Production' | 'Archived';

/** Unity Catalog alias entry: `{alias, version}`. */
export interface ModelAlias {
  alias: string;
  version: string;
}

/** mlflow.RegisteredModel (workspace) / mlflow.ucmodelregistry.RegisteredModel (UC). */
export interface RegisteredModel {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  user_id?: string;
  description?: string;
  latest_versions?: ModelVersion[];
  tags?: KeyValue[];
  aliases?: ModelAlias[];
}

/**
 * mlflow.ModelVersion (workspace) / mlflow.ucmodelregistry.ModelVersion (UC). `aliases` is a list of
 * strings in the workspace registry and a list of `{alias, version}` in Unity Catalog.
 */
export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  user_id?: string;
  /** Workspace registry only. */
  current_stage?: Stage;
  description?: string;
  source?: string;
  run_id?: string;
  status?: ModelVersionStatus;
  status_message?: string;
  tags?: KeyValue[];
  run_link?: string;
  aliases?: Array<string | ModelAlias>;
  /** Unity Catalog only. */
  storage_location?: string;
  run_tracking_server_id?: string;
  /** MLflow 3: the LoggedModel the version was registered from (its source is then `models:/<model_id>`). */
  model_id?: string;
}

/** Returns the value of tag `key` (runs, versions, models), or undefined. */
export function tagValue(entity: { tags?: KeyValue[] } | { data?: RunData } | undefined, key: string): string | undefined {
  if (!entity) return undefined;
  const tags = 'data' in entity ? entity.data?.tags : (entity as { tags?: KeyValue[] }).tags;
  return tags?.find((t) => t.key === key)?.value;
}

/** Returns the latest value of metric `key` on a run, or undefined. */
export function metricValue(run: MlflowRun, key: string): number | undefined {
  return run.data?.metrics?.find((m) => m.key === key)?.value;
}

/** Returns the value of param `key` on a run, or undefined. */
export function paramValue(run: MlflowRun, key: string): string | undefined {
  return run.data?.params?.find((p) => p.key === key)?.value;
}
