/**
 * An emulator notebook handler that plays the bundled register_model.py on Databricks: it reuses a version
 * already registered from the run (not FAILED), or does what MLflow's `register_model` does against Unity
 * Catalog: create the registered model if needed, create the version, upload the files and finalize it
 * (through the emulator's UC registry store: the notebook's own HTTP calls are not the task's requests).
 */
import type { Emulator } from '../../../emulator';
import { NotebookError, type NotebookContext, type NotebookHandler } from '../../../emulator/routes/jobs';
import { ApiFault } from '../../../emulator/contracts';
import { checkUcTag } from '../../../emulator/routes/mlflow/registry';
import { DEFAULT_NOTEBOOK_PATH, REGISTER_NOTEBOOK_NAME } from '../../../src/tasks/evaluate/inputs';

/** Where the task imports register_model.py with the default scoringNotebookPath. */
export const DEFAULT_REGISTER_NOTEBOOK_PATH = `${DEFAULT_NOTEBOOK_PATH.slice(0, DEFAULT_NOTEBOOK_PATH.lastIndexOf('/'))}/${REGISTER_NOTEBOOK_NAME}`;

export interface RegisterNotebookCall {
  params: Record<string, string>;
  /** What the notebook exited with. */
  result: { version: string; reused: boolean };
}

/** Returns the handler and the list of its calls. */
export function registerModelNotebook(emu: Emulator): { handler: NotebookHandler; calls: RegisterNotebookCall[] } {
  const calls: RegisterNotebookCall[] = [];
  const handler = (ctx: NotebookContext): { exitValue: string } => {
    const { model_name: name, model_uri: uri, tags } = ctx.params;
    // MLflow 2: runs:/<run>/<path> (the run in the URI); MLflow 3: models:/<model_id> with the run_id widget.
    const m2 = /^runs:\/([0-9A-Za-z]+)\/(.+)$/.exec(uri ?? '');
    const m3 = /^models:\/([A-Za-z0-9_-]+)$/.exec(uri ?? '');
    const runId = m2 ? m2[1] : ctx.params.run_id;
    if (!/^[^.\s]+\.[^.\s]+\.[^.\s]+$/.test(name ?? '') || !(m2 || (m3 && runId)) || (m2 && ctx.params.run_id && ctx.params.run_id !== m2[1])) {
      throw new NotebookError(`RegistrationError: bad parameters ${JSON.stringify(ctx.params)}`);
    }
    if (!emu.mlflow.getRun(runId)) throw new NotebookError(`RestException: RESOURCE_DOES_NOT_EXIST: Run '${runId}' not found`);
    if (m2 && !emu.files.exists(`${emu.mlflow.artifactUri(runId)}/${m2[2]}/MLmodel`)) {
      // MLflow 3 runs have no model among their artifacts: registering runs:/ of one fails as it would on Databricks.
      throw new NotebookError(`MlflowException: Unable to find a logged_model with artifact_path ${m2[2]} under run ${runId}`);
    }
    if (m3) {
      const lm = emu.mlflow.loggedModel(m3[1]);
      if (!lm || lm.info.source_run_id !== runId)
        throw new NotebookError(`RestException: RESOURCE_DOES_NOT_EXIST: Logged model '${m3[1]}' of run ${runId} not found`);
    }
    const store = emu.mlflow.ucRegistry;
    const existing = (store.models.get(name)?.versions ?? [])
      .filter((v) => v.runId === runId && v.source === uri && store.status(v).status !== 'FAILED_REGISTRATION')
      .sort((a, b) => b.version - a.version)[0];
    let result: RegisterNotebookCall['result'];
    if (existing) {
      result = { version: String(existing.version), reused: true };
    } else {
      if (!store.models.has(name)) store.createModel(name);
      const parsedTags = tags ? (JSON.parse(tags) as Record<string, string>) : {};
      // MLflow sends the tags with model-versions/create; Unity Catalog refuses reserved characters in keys.
      try {
        for (const [k, val] of Object.entries(parsedTags)) checkUcTag(k, val);
      } catch (e) {
        if (e instanceof ApiFault) throw new NotebookError(`RestException: ${e.errorCode}: ${e.message}`);
        throw e;
      }
      const v = store.createVersion(name, { source: uri, runId, tags: parsedTags });
      // MLflow uploaded the model files to v.storageLocation, then called model-versions/finalize.
      v.finalized = true;
      result = { version: String(v.version), reused: false };
    }
    calls.push({ params: { ...ctx.params }, result });
    return { exitValue: JSON.stringify(result) };
  };
  return { handler, calls };
}
