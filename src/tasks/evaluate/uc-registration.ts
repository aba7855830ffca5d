/**
 * Registering a Unity Catalog model version on Databricks. A UC version created over REST stays
 * PENDING_REGISTRATION until the client uploads the model files to the version's storage location (with
 * temporary credentials) and calls `model-versions/finalize` (docs/databricks-api-notes.md §6.2); only MLflow's own client does
 * that upload. So the task imports its bundled registration notebook (register_model.py) and runs it once on
 * the chosen compute: MLflow's `register_model` creates, uploads and finalizes the version there, and the
 * notebook exits with `{"version": "<n>", "reused": <bool>}`.
 */
import path from 'node:path';
import type { RunModel } from '../../mlflow/tracking';
import { idempotencyToken, type RunOutput } from '../../databricks/jobs';
import type { WorkspaceClient } from '../../databricks/workspace';
import type { BuildContext, RegistrationConfig } from './inputs';
import { parseExitJson, runToSuccess, type RunWaitDeps } from './notebook-run';
import { clusterFields } from './scoring';

/** What the registration notebook is asked to register. */
export interface RegistrationRequest {
  modelName: string;
  runId: string;
  /** The run's model: MLflow 2 `runs:/<run>/<path>`, MLflow 3 `models:/<model_id>`. */
  model: RunModel;
  /** Tags for a new version (a reused version keeps its own). */
  tags: Record<string, string>;
}

export interface RegistrationResult {
  version: string;
  /** The notebook found a version already registered from this run and registered nothing. */
  reused: boolean;
}

/** Registers a model version outside the REST registry client (the UC registration notebook). */
export interface VersionRegistrar {
  registerVersion(req: RegistrationRequest, signal?: AbortSignal): Promise<RegistrationResult>;
}

export interface NotebookRegistrarDeps extends RunWaitDeps {
  workspace: Pick<WorkspaceClient, 'mkdirs' | 'importFile'>;
  /** The bundled register_model.py. */
  notebookSource: string;
}

/** The registration notebook's exit value contract: `{"version": "<positive integer>", "reused": <bool>}`. */
export function parseRegistrationExit(raw: string | undefined, where: string): RegistrationResult {
  const parsed = parseExitJson(raw, where, 'registration notebook', '{"version": ..., "reused": ...}');
  const o = parsed as { version?: unknown; reused?: unknown };
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    Array.isArray(parsed) ||
    typeof o.version !== 'string' ||
    !/^[1-9]\d*$/.test(o.version) ||
    typeof o.reused !== 'boolean'
  ) {
    throw new Error(`${where} exited with ${raw!.slice(0, 200)}; expected {"version": "<positive integer>", "reused": true|false}.`);
  }
  return { version: o.version, reused: o.reused };
}

/** Runs register_model.py as a one-time run on the scoring compute and reads the version it registered. */
export class NotebookRegistrar implements VersionRegistrar {
  constructor(
    private readonly deps: NotebookRegistrarDeps,
    private readonly cfg: RegistrationConfig,
    private readonly build: BuildContext,
    private readonly runName: string,
  ) {}

  /**
   * The widgets of register_model.py: `model_uri` is what MLflow registers (`runs:/<run>/<path>` for an
   * MLflow 2 model, `models:/<model_id>` for an MLflow 3 logged model), `run_id` the run it must come from.
   */
  parameters(req: RegistrationRequest): Record<string, string> {
    return {
      model_name: req.modelName,
      model_uri: req.model.uri,
      run_id: req.runId,
      tags: Object.keys(req.tags).length > 0 ? JSON.stringify(req.tags) : '',
    };
  }

  /**
   * Same attempt, same notebook, same run: the same token, so a retried submit returns the run already
   * started instead of registering twice (the notebook itself also reuses a version of this run).
   */
  token(req: RegistrationRequest): string {
    return idempotencyToken([
      'evaluate-register',
      `notebook:${this.cfg.notebookPath}`,
      this.build.collectionUri ?? '',
      this.build.teamProject ?? '',
      this.build.buildId,
      this.build.jobAttempt,
      this.build.taskInstanceId,
      req.modelName,
      req.runId,
    ]);
  }

  async registerVersion(req: RegistrationRequest, signal?: AbortSignal): Promise<RegistrationResult> {
    const { log } = this.deps;
    const { result, where } = await runRegisterNotebook(this.deps, this.cfg, {
      runName: this.runName,
      token: this.token(req),
      params: this.parameters(req),
      label: 'Registration run',
      signal,
      imported: (nbPath) => log.info(`Imported the registration notebook to ${nbPath}.`),
      announce: (runId) => log.info(`Started registration run ${runId} (${req.modelName} from ${req.model.uri}, run ${req.runId}).`),
    });
    log.info(
      result.reused
        ? `${where} found ${req.modelName} version ${result.version} already registered from this run.`
        : `${where} registered ${req.modelName} version ${result.version}.`,
    );
    return result;
  }
}

/**
 * Imports register_model.py and runs it once as a one-time run on the registration compute (a registration,
 * or a copy with a `models:/` model_uri), and reads its exit value from its task `register`.
 */
export async function runRegisterNotebook(
  deps: NotebookRegistrarDeps,
  cfg: RegistrationConfig,
  r: {
    runName: string;
    token: string;
    params: Record<string, string>;
    label: string;
    signal?: AbortSignal;
    imported?(nbPath: string): void;
    announce(runId: number): void;
  },
): Promise<{ result: RegistrationResult; where: string }> {
  const sig = r.signal ?? new AbortController().signal;
  const nbPath = cfg.notebookPath;
  await deps.workspace.mkdirs(path.posix.dirname(nbPath), sig);
  await deps.workspace.importFile({ path: nbPath, content: deps.notebookSource, format: 'SOURCE', language: 'PYTHON', overwrite: true, signal: sig });
  r.imported?.(nbPath);
  const body = {
    run_name: r.runName,
    timeout_seconds: Math.ceil(cfg.timeoutMs / 1000),
    idempotency_token: r.token,
    tasks: [
      {
        task_key: 'register',
        notebook_task: { notebook_path: nbPath, source: 'WORKSPACE' as const, base_parameters: r.params },
        ...clusterFields(cfg.cluster),
      },
    ],
  };
  const { run, where } = await runToSuccess(
    deps,
    { kind: 'submit', body },
    { label: r.label, timeoutMs: cfg.timeoutMs, timeoutInput: 'scoringTimeoutMinutes', signal: sig, announce: r.announce },
  );
  const task = (run.tasks ?? []).find((t) => t.task_key === 'register');
  if (!task) throw new Error(`${where} has no task run 'register' to read the output of.`);
  const out: RunOutput = await deps.jobs.getRunOutput(task.run_id, sig);
  if (out.notebook_output?.truncated) throw new Error(`${where}: the exit value was truncated.`);
  return { result: parseRegistrationExit(out.notebook_output?.result, where), where };
}
