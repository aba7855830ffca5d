/**
 * MLflow emulation entry point: tracking (routes/mlflow/tracking.ts), the workspace model registry and
 * Unity Catalog models (routes/mlflow/registry.ts). `install(core)` registers every route and returns
 * the `emu.mlflow` handle with the helpers tests (and emulated notebooks) use to seed and inspect state.
 */
import type { LoggedModel, MlflowRun, ModelVersion, RunData, RunInfo } from '../../src/mlflow/types';
import type { EmulatorCore } from '../contracts';
import { RegistryStore, type Stage, type StageTransition, type StoredVersion, type VersionStatus } from './mlflow/registry';
import { TrackingStore, type CreateRunSeed, type RunStatus, type StoredRun } from './mlflow/tracking';

export type { CreateRunSeed, RunStatus, Stage, StageTransition, VersionStatus };

/** A run as `runs/get` returns it (the emulator always writes `data`, if only empty). */
export type RunJson = { info: RunInfo; data: RunData } & Pick<MlflowRun, 'inputs' | 'outputs'>;

/** The stores build the wire JSON as plain objects; this names the shape src/mlflow/types.ts declares for it. */
function wire<T>(json: Record<string, unknown>): T {
  return json as T;
}

/** The handle tests use as `emu.mlflow`. */
export class MlflowEmulator {
  readonly tracking: TrackingStore;
  readonly workspaceRegistry: RegistryStore;
  readonly ucRegistry: RegistryStore;

  constructor(private readonly core: EmulatorCore) {
    this.tracking = new TrackingStore(core);
    this.workspaceRegistry = new RegistryStore(core, false);
    this.ucRegistry = new RegistryStore(core, true);
  }

  // ---- tracking helpers -------------------------------------------------------------------------

  /** Creates an experiment (name must be a workspace path such as `/Shared/eval`); returns its id. */
  createExperiment(name: string, tags: Record<string, string> = {}): string {
    return this.tracking.createExperiment(name, tags).experimentId;
  }

  /** Creates a run with the given data and artifacts; returns it as `runs/get` would. */
  createRun(seed: CreateRunSeed): RunJson {
    const run = this.tracking.createRun(seed);
    return wire<RunJson>(this.tracking.runJson(run));
  }

  /** The run as `runs/get` returns it, or undefined. */
  getRun(runId: string): RunJson | undefined {
    const r = this.tracking.runs.get(runId);
    return r ? wire<RunJson>(this.tracking.runJson(r)) : undefined;
  }

  /** Tags of a run as a plain object (convenient for assertions). */
  runTags(runId: string): Record<string, string> {
    return Object.fromEntries(this.storedRun(runId).tags);
  }

  /** Every run (optionally of one experiment), as `runs/get` returns them, in creation order. */
  listRuns(experimentId?: string): RunJson[] {
    return [...this.tracking.runs.values()]
      .filter((r) => experimentId === undefined || r.experimentId === experimentId)
      .map((r) => wire<RunJson>(this.tracking.runJson(r)));
  }

  /** Appends a metric point to a run (emulated notebooks log metrics this way). */
  logMetric(runId: string, key: string, value: number, opts: { step?: number; timestamp?: number } = {}): void {
    this.storedRun(runId).metrics.push({ key, value, step: opts.step ?? 0, timestamp: opts.timestamp ?? this.core.clock.now() });
  }

  setRunTag(runId: string, key: string, value: string): void {
    this.tracking.setTag(this.storedRun(runId), key, value);
  }

  setRunStatus(runId: string, status: RunStatus, endTime?: number): void {
    const r = this.storedRun(runId);
    r.status = status;
    if (endTime !== undefined) r.endTime = endTime;
  }

  /** Marks a run deleted (it then only shows up with run_view_type DELETED_ONLY / ALL). */
  deleteRun(runId: string): void {
    this.storedRun(runId).lifecycleStage = 'deleted';
  }

  /** MLflow 3 LoggedModels whose source run is `runId` (as `logged-models/get` returns them), oldest first. */
  loggedModels(runId: string): LoggedModel[] {
    return [...this.tracking.loggedModels.values()]
      .filter((m) => m.sourceRunId === runId)
      .sort((a, b) => a.creationTime - b.creationTime)
      .map((m) => wire<LoggedModel>(this.tracking.loggedModelJson(m)));
  }

  /** The LoggedModel `models:/<model_id>` names, or undefined. */
  loggedModel(modelId: string): LoggedModel | undefined {
    const m = this.tracking.loggedModels.get(modelId);
    return m ? wire<LoggedModel>(this.tracking.loggedModelJson(m)) : undefined;
  }

  /** Writes an artifact file of a run (e.g. `model/MLmodel`). */
  writeArtifact(runId: string, relPath: string, content: string | Buffer): void {
    this.tracking.writeArtifact(this.storedRun(runId), relPath, content);
  }

  /** The run's artifact root URI (`dbfs:/databricks/mlflow-tracking/<exp>/<run>/artifacts`). */
  artifactUri(runId: string): string {
    return this.tracking.artifactRoot(this.storedRun(runId));
  }

  private storedRun(runId: string): StoredRun {
    const r = this.tracking.runs.get(runId);
    if (!r) throw new Error(`emu.mlflow: no run ${runId}.`);
    return r;
  }

  // ---- registry helpers -------------------------------------------------------------------------

  /** Creates a registered model directly (workspace registry, or UC for `uc: true`). */
  createRegisteredModel(name: string, opts: { uc?: boolean; description?: string } = {}): void {
    this.registry(opts.uc).createModel(name, { description: opts.description });
  }

  /**
   * Creates a model version directly. `status: 'READY'` makes it ready at once; otherwise it follows the
   * configured readiness delay. Returns the version number (a string, as on the wire).
   */
  createModelVersion(name: string, opts: { source: string; runId?: string; modelId?: string; uc?: boolean; ready?: boolean; stage?: Stage }): string {
    const reg = this.registry(opts.uc);
    if (!reg.models.has(name)) reg.createModel(name);
    const v = reg.createVersion(name, { source: opts.source, runId: opts.runId, modelId: opts.modelId });
    if (opts.ready !== false) {
      v.readyAt = Math.min(v.readyAt, v.creationTimestamp);
      v.finalized = true;
    }
    if (opts.stage) v.stage = opts.stage;
    return String(v.version);
  }

  /** All versions of a model as the API returns them (workspace registry first, then UC). */
  versions(name: string): ModelVersion[] {
    const reg = this.registryOf(name);
    if (!reg) return [];
    return reg.models.get(name)!.versions.map((v) => wire<ModelVersion>(reg.versionJson(v)));
  }

  /** The stage of a workspace-registry version. */
  stageOf(name: string, version: string): Stage {
    return this.storedVersion(name, version).stage;
  }

  /** The status a version currently reports. */
  statusOf(name: string, version: string): VersionStatus {
    const reg = this.registryOf(name)!;
    return reg.status(this.storedVersion(name, version)).status;
  }

  /** A model's aliases as `{alias: version}`. */
  aliases(name: string): Record<string, string> {
    const reg = this.registryOf(name);
    if (!reg) return {};
    return Object.fromEntries([...reg.models.get(name)!.aliases.entries()].map(([a, v]) => [a, String(v)]));
  }

  /** Tags of a model version as a plain object. */
  versionTags(name: string, version: string): Record<string, string> {
    return Object.fromEntries(this.storedVersion(name, version).tags);
  }

  /** Stage transitions recorded so far (with comments and archived versions). */
  transitions(name?: string): StageTransition[] {
    return this.workspaceRegistry.transitions.filter((t) => name === undefined || t.name === name);
  }

  /**
   * Unity Catalog versions created through the API stay PENDING_REGISTRATION until finalized (default, as
   * on Databricks). `false` lets them turn READY after the delay without finalize (for tests of code that
   * only needs a READY version).
   */
  setUcRequireFinalize(required: boolean): void {
    this.ucRegistry.requireFinalize = required;
  }

  /** Emulated time from version creation to READY, for both registries (default 2000 ms). */
  setVersionReadyDelayMs(ms: number): void {
    if (!(ms >= 0)) throw new Error('setVersionReadyDelayMs needs a non-negative number.');
    this.workspaceRegistry.versionReadyDelayMs = ms;
    this.ucRegistry.versionReadyDelayMs = ms;
  }

  /**
   * Pins a version's status (PENDING_REGISTRATION forever, or FAILED_REGISTRATION with a message). With
   * no `version`, every version of `name` created from now on is pinned (the model must exist, in
   * either registry; `uc` picks the registry when it does not exist yet). `status: 'READY'` unpins.
   */
  setVersionStuck(name: string, status: VersionStatus, opts: { version?: string; message?: string; uc?: boolean } = {}): void {
    const pin =
      status === 'READY'
        ? undefined
        : { status, message: opts.message ?? (status === 'FAILED_REGISTRATION' ? 'Model version registration failed.' : 'Model version is being registered.') };
    if (opts.version !== undefined) {
      this.storedVersion(name, opts.version).pinned = pin;
      return;
    }
    const reg = this.registryOf(name) ?? this.registry(opts.uc);
    if (!reg.models.has(name)) reg.createModel(name);
    reg.models.get(name)!.pinNew = pin;
  }

  private registry(uc?: boolean): RegistryStore {
    return uc ? this.ucRegistry : this.workspaceRegistry;
  }

  private registryOf(name: string): RegistryStore | undefined {
    if (this.workspaceRegistry.models.has(name)) return this.workspaceRegistry;
    if (this.ucRegistry.models.has(name)) return this.ucRegistry;
    return undefined;
  }

  private storedVersion(name: string, version: string): StoredVersion {
    const reg = this.registryOf(name);
    const v = reg?.models.get(name)?.versions.find((x) => String(x.version) === String(version));
    if (!v) throw new Error(`emu.mlflow: no version ${version} of model ${name}.`);
    return v;
  }
}

/** Installs the MLflow tracking, workspace registry and Unity Catalog model routes; returns `emu.mlflow`. */
export function install(core: EmulatorCore): MlflowEmulator {
  const handle = new MlflowEmulator(core);
  handle.tracking.install();
  handle.workspaceRegistry.install('/api/2.0/mlflow');
  handle.ucRegistry.install('/api/2.0/mlflow/unity-catalog');
  core.modules.mlflow = handle;
  return handle;
}
