/**
 * Copying a Unity Catalog version into a model of another catalog (the promote action with targetModelName).
 * Like a registration, a UC copy uploads files client-side, so it runs MLflow's own
 * `MlflowClient.copy_model_version` through the bundled registration notebook (register_model.py, with a
 * `models:/<source model>/<version>` model_uri). MLflow's copy registers the version with source
 * `models:/<source model>/<version>` and the source's run id (mlflow/mlflow,
 * mlflow/store/model_registry/abstract_store.py, AbstractStore.copy_model_version), which is how the notebook
 * finds a copy made earlier: a re-run reuses it.
 */
import path from 'node:path';
import { idempotencyToken, type RunOutput } from '../../databricks/jobs';
import type { BuildContext, RegistrationConfig } from './inputs';
import type { VersionCopier } from './promote-action';
import { runToSuccess } from './notebook-run';
import { clusterFields } from './scoring';
import { parseRegistrationExit, type NotebookRegistrarDeps } from './uc-registration';

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

  async copyVersion(req: { sourceModel: string; sourceVersion: string; targetModel: string }, signal?: AbortSignal): Promise<{ version: string; reused: boolean }> {
    const { workspace, jobs, log } = this.deps;
    const sig = signal ?? new AbortController().signal;
    const nbPath = this.cfg.notebookPath;
    await workspace.mkdirs(path.posix.dirname(nbPath), sig);
    await workspace.importFile({ path: nbPath, content: this.deps.notebookSource, format: 'SOURCE', language: 'PYTHON', overwrite: true, signal: sig });
    const token = idempotencyToken(['promote-copy', `notebook:${nbPath}`, this.build.collectionUri ?? '', this.build.teamProject ?? '', this.build.buildId, this.build.jobAttempt, this.build.taskInstanceId, req.sourceModel, req.sourceVersion, req.targetModel]);
    const body = {
      run_name: this.runName,
      timeout_seconds: Math.ceil(this.cfg.timeoutMs / 1000),
      idempotency_token: token,
      tasks: [{ task_key: 'register', notebook_task: { notebook_path: nbPath, source: 'WORKSPACE' as const, base_parameters: this.parameters(req) }, ...clusterFields(this.cfg.cluster) }],
    };
    const { run, where } = await runToSuccess(this.deps, { kind: 'submit', body }, {
      label: 'Copy run',
      timeoutMs: this.cfg.timeoutMs,
      timeoutInput: 'scoringTimeoutMinutes',
      signal: sig,
      announce: (runId) => log.info(`Started copy run ${runId} (models:/${req.sourceModel}/${req.sourceVersion} to ${req.targetModel}).`),
    });
    const task = (run.tasks ?? []).find((t) => t.task_key === 'register');
    if (!task) throw new Error(`${where} has no task run 'register' to read the output of.`);
    const out: RunOutput = await jobs.getRunOutput(task.run_id, sig);
    if (out.notebook_output?.truncated) throw new Error(`${where}: the exit value was truncated.`);
    return parseRegistrationExit(out.notebook_output?.result, where);
  }
}
