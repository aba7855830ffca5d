/**
 * Copying a Unity Catalog version into a model of another catalog (the promote action with targetModelName).
 * Like a registration, a UC copy uploads files client-side, so it runs MLflow's own
 * `MlflowClient.copy_model_version` through the bundled registration notebook (register_model.py, with a
 * `models:/<source model>/<version>` model_uri). MLflow's copy registers the version with source
 * `models:/<source model>/<version>` and the source's run id (mlflow/mlflow,
 * mlflow/store/model_registry/abstract_store.py, AbstractStore.copy_model_version), which is how the notebook
 * finds a copy made earlier: a re-run reuses it.
 */
import { idempotencyToken } from '../../databricks/jobs';
import type { BuildContext, RegistrationConfig } from './inputs';
import type { VersionCopier } from './promote-action';
import { runRegisterNotebook, type NotebookRegistrarDeps } from './uc-registration';

export class NotebookCopier implements VersionCopier {
  constructor(
    private readonly deps: NotebookRegistrarDeps,
    private readonly cfg: RegistrationConfig,
    private readonly build: BuildContext,
    private readonly runName: string,
  ) {}

  /** The widgets of register_model.py for a copy. */
  parameters(req: { sourceModel: string; sourceVersion: string; targetModel: string }): Record<string, string> {
    return { model_name: req.targetModel, model_uri: `models:/${req.sourceModel}/${req.sourceVersion}`, tags: '' };
  }

  async copyVersion(
    req: { sourceModel: string; sourceVersion: string; targetModel: string },
    signal?: AbortSignal,
  ): Promise<{ version: string; reused: boolean }> {
    const { log } = this.deps;
    const nbPath = this.cfg.notebookPath;
    const token = idempotencyToken([
      'promote-copy',
      `notebook:${nbPath}`,
      this.build.collectionUri ?? '',
      this.build.teamProject ?? '',
      this.build.buildId,
      this.build.jobAttempt,
      this.build.taskInstanceId,
      req.sourceModel,
      req.sourceVersion,
      req.targetModel,
    ]);
    const { result } = await runRegisterNotebook(this.deps, this.cfg, {
      runName: this.runName,
      token,
      params: this.parameters(req),
      label: 'Copy run',
      signal,
      announce: (runId) => log.info(`Started copy run ${runId} (models:/${req.sourceModel}/${req.sourceVersion} to ${req.targetModel}).`),
    });
    return result;
  }
}
