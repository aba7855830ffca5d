/**
 * Runs a bundled task the way the Azure Pipelines agent does: `node tasks/<Task>/index.js` as a child
 * process, inputs as `INPUT_<NAME>`, service connections as `ENDPOINT_*`, pipeline variables as their
 * environment form, and the `##vso[...]` commands read back from stdout.
 *
 * The child is spawned asynchronously on purpose: tests run the workspace emulator in this same process,
 * and a synchronous spawn (MockTestRunner's spawnSync) would block the emulator from answering.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The repository root, from the compiled location out/demo/agent-runner.js. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export type TaskFolder = 'DatabricksReposDeployV1' | 'DatabricksTrainV1' | 'DatabricksEvaluatePromoteV1' | 'DatabricksServingDeployV1';

export interface AgentEndpoint {
  url: string;
  /** `Token`, `None`, `ServicePrincipal`, `WorkloadIdentityFederation`, ... */
  scheme: string;
  /** Authorization parameters; keys as the service sends them (the agent uppercases them). */
  params?: Record<string, string>;
  /** Endpoint data (endpoint-level input descriptors). */
  data?: Record<string, string>;
}

export interface AgentRunOptions {
  task: TaskFolder;
  inputs: Record<string, string | number | boolean | undefined>;
  /** Service connections by id (the GUID the connectedService input carries). */
  endpoints?: Record<string, AgentEndpoint>;
  /** Pipeline variables by their dotted names, e.g. `{'Build.BuildId': '42'}`. */
  variables?: Record<string, string>;
  /** Raw extra environment variables. */
  env?: Record<string, string>;
  /** Copy task.json and the bundle alone into an empty folder and run from there. */
  isolate?: boolean;
  /** Kill the child after this long (a test safety net, not a product timeout). */
  killAfterMs?: number;
  /** Called once the child is running, e.g. to send SIGINT later. */
  onSpawn?: (child: ChildProcess) => void;
  /** Called for every stdout line as it arrives. */
  onLine?: (line: string, child: ChildProcess) => void;
}

export interface VsoCommand {
  name: string;
  props: Record<string, string>;
  message: string;
}

export interface AgentRunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  commands: VsoCommand[];
  /** The `task.complete` command, if the task sent one. */
  complete?: { result: string; message: string };
  /** Output variables set with isOutput=true. */
  outputs: Record<string, string>;
  errors: string[];
  warnings: string[];
  /** Everything the agent would show in the log (stdout lines that are not commands). */
  logLines: string[];
  tempDir: string;
  durationMs: number;
}

/** Default pipeline variables a real agent always provides. */
export const DEFAULT_VARIABLES: Record<string, string> = {
  'System.TeamFoundationCollectionUri': 'https://dev.azure.com/contoso/',
  'System.TeamProject': 'mlops',
  'System.DefinitionId': '7',
  'System.JobId': '5d3e8d4c-1c7b-5b8f-9a1c-2f3b4c5d6e7f',
  'System.PlanId': '8a9b0c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d',
  'System.TaskInstanceId': '0c1d2e3f-4a5b-4c6d-8e7f-8a9b0c1d2e3f',
  'System.JobAttempt': '1',
  'System.StageAttempt': '1',
  'Build.BuildId': '4242',
  'Build.BuildNumber': '20261126.3',
  'Build.SourceVersion': '0123456789abcdef0123456789abcdef01234567',
  'Build.SourceBranch': 'refs/heads/main',
  'Build.Repository.Name': 'churn-model',
  'Agent.Version': '4.266.2',
  'Agent.OS': 'Linux',
};

/** The agent's ConvertToEnvVariableFormat: `.` and space become `_`, then upper case. */
export function envName(name: string): string {
  return name.replace(/[. ]/g, '_').toUpperCase();
}

function unescapeProperty(v: string): string {
  return v
    .replace(/%3B/g, ';')
    .replace(/%0D/g, '\r')
    .replace(/%0A/g, '\n')
    .replace(/%5D/g, ']')
    .replace(/%AZP25/g, '%');
}

function unescapeMessage(v: string): string {
  return v
    .replace(/%0D/g, '\r')
    .replace(/%0A/g, '\n')
    .replace(/%AZP25/g, '%');
}

/** Parses one `##vso[area.action k=v;k=v;]message` line, or returns undefined. */
export function parseVso(line: string): VsoCommand | undefined {
  const start = line.indexOf('##vso[');
  if (start < 0) return undefined;
  const rest = line.slice(start + 6);
  const close = rest.indexOf(']');
  if (close < 0) return undefined;
  const head = rest.slice(0, close);
  const space = head.indexOf(' ');
  const name = space < 0 ? head : head.slice(0, space);
  const props: Record<string, string> = {};
  if (space >= 0) {
    for (const part of head.slice(space + 1).split(';')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      if (eq < 0) props[part.trim()] = '';
      else props[part.slice(0, eq).trim()] = unescapeProperty(part.slice(eq + 1));
    }
  }
  return { name, props, message: unescapeMessage(rest.slice(close + 1)) };
}

export function buildAgentEnv(opts: AgentRunOptions, tempDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Inherit only what a real agent process would inherit from the machine, never our own test state.
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(INPUT_|ENDPOINT_|SECRET_|VSTS_|SYSTEM_|BUILD_|AGENT_|DATABRICKS_|AZURE_|ARM_)/.test(k)) continue;
    env[k] = v;
  }
  const variables = { ...DEFAULT_VARIABLES, ...opts.variables };
  for (const [k, v] of Object.entries(variables)) env[envName(k)] = v;
  env.AGENT_TEMPDIRECTORY = tempDir;
  env.AGENT_WORKFOLDER = tempDir;
  env.SYSTEM_DEFAULTWORKINGDIRECTORY = env.SYSTEM_DEFAULTWORKINGDIRECTORY ?? tempDir;
  env.BUILD_SOURCESDIRECTORY = env.BUILD_SOURCESDIRECTORY ?? tempDir;
  for (const [k, v] of Object.entries(opts.inputs)) {
    if (v === undefined) continue;
    env[`INPUT_${envName(k)}`] = String(v);
  }
  for (const [id, ep] of Object.entries(opts.endpoints ?? {})) {
    env[`ENDPOINT_URL_${id}`] = ep.url;
    env[`ENDPOINT_AUTH_SCHEME_${id}`] = ep.scheme;
    env[`ENDPOINT_AUTH_${id}`] = JSON.stringify({ parameters: ep.params ?? {}, scheme: ep.scheme });
    for (const [k, v] of Object.entries(ep.params ?? {})) env[`ENDPOINT_AUTH_PARAMETER_${id}_${k.toUpperCase()}`] = v;
    if (ep.data) {
      env[`ENDPOINT_DATA_${id}`] = JSON.stringify(ep.data);
      for (const [k, v] of Object.entries(ep.data)) env[`ENDPOINT_DATA_${id}_${k.toUpperCase()}`] = v;
    }
  }
  Object.assign(env, opts.env);
  return env;
}

/** Runs the bundled task and resolves when the process has exited. */
export function runTask(opts: AgentRunOptions): Promise<AgentRunResult> {
  const tempDir = mkdtempSync(path.join(tmpdir(), `agent-${opts.task}-`));
  let taskDir = path.join(REPO_ROOT, 'tasks', opts.task);
  if (opts.isolate) {
    const isolated = path.join(tempDir, 'task');
    mkdirSync(isolated);
    for (const f of readdirSync(taskDir)) {
      if (f === 'task.json' || f === 'index.js' || f === 'icon.png') copyFileSync(path.join(taskDir, f), path.join(isolated, f));
    }
    taskDir = isolated;
  }
  const started = Date.now();
  const child = spawn(process.execPath, [path.join(taskDir, 'index.js')], {
    cwd: tempDir,
    env: buildAgentEnv(opts, tempDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).replace(/\r$/, '');
      pending = pending.slice(nl + 1);
      opts.onLine?.(line, child);
    }
  });
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  opts.onSpawn?.(child);
  const killer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 120_000);
  return new Promise((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(killer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      const commands: VsoCommand[] = [];
      const logLines: string[] = [];
      for (const line of stdout.split(/\r?\n/)) {
        const cmd = parseVso(line);
        if (cmd) commands.push(cmd);
        else if (line.length > 0) logLines.push(line);
      }
      const completeCmd = [...commands].reverse().find((c) => c.name === 'task.complete');
      const outputs: Record<string, string> = {};
      for (const c of commands) {
        if (c.name === 'task.setvariable' && c.props.isOutput === 'true') outputs[c.props.variable] = c.message;
      }
      const issues = (type: string) => commands.filter((c) => c.name === 'task.issue' && c.props.type === type).map((c) => c.message);
      resolve({
        code,
        signal,
        stdout,
        stderr,
        commands,
        complete: completeCmd ? { result: completeCmd.props.result, message: completeCmd.message } : undefined,
        outputs,
        errors: issues('error'),
        warnings: issues('warning'),
        logLines,
        tempDir,
        durationMs: Date.now() - started,
      });
    });
  });
}

/**
 * What the agent's log view shows for one line of task output, or undefined when it shows nothing.
 * microsoft/azure-pipelines-agent, src/Agent.Worker/TaskCommandExtension.cs: `task.logissue`/`task.issue`
 * are written to the log as `##[warning]`/`##[error]` lines; `task.debug` goes through
 * `ExecutionContext.Debug`, which writes a `##[debug]` line only when the System.Debug variable is true;
 * `task.setprogress` and `task.complete` update the timeline record (percent, current operation, result)
 * and write no log line; `task.setsecret` registers a value the agent's secret masker replaces with `***`
 * in everything logged after it; the other task commands (setvariable, addattachment, uploadsummary, ...)
 * write no log line either. Plain output lines are shown as they are.
 */
export function agentLogView(opts: { debug?: boolean; secrets?: string[] } = {}): (line: string) => string | undefined {
  // The agent masks the service connection's secret parameters from the start, like values set with setsecret.
  const secrets = (opts.secrets ?? []).filter((s) => s.length > 0);
  const mask = (text: string) => secrets.reduce((t, s) => t.split(s).join('***'), text);
  return (line) => {
    const cmd = line.startsWith('##vso[') ? parseVso(line) : undefined;
    if (!cmd) return mask(line);
    if (cmd.name === 'task.setsecret') {
      if (cmd.message) secrets.push(cmd.message);
      return undefined;
    }
    if (cmd.name === 'task.logissue' || cmd.name === 'task.issue') {
      const type = cmd.props.type?.toLowerCase();
      return type === 'error' || type === 'warning' ? mask(`##[${type}]${cmd.message}`) : undefined;
    }
    if (cmd.name === 'task.debug') return opts.debug ? mask(`##[debug]${cmd.message}`) : undefined;
    return undefined;
  };
}
