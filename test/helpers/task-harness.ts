/**
 * The one harness for "start the emulator, run a task", in two variants sharing one emulator-per-test life
 * cycle (`start()` in beforeEach, `stop()` in afterEach):
 *
 * - {@link TaskHarness}: the bundled task as the agent runs it: the agent's environment of a bundled-task run
 *   (inputs as INPUT_*, the service connection as ENDPOINT_* pointing at the emulator with its PAT, pipeline
 *   variables, AGENT_TEMPDIRECTORY, `node` = process.execPath; see demo/agent-runner.ts), the `##vso` lines
 *   read back, and the checks every suite makes of a run: it sent `task.complete` (a child that dies sends
 *   none, and its exit code alone proves nothing), and our own output never shows the token.
 * - {@link InProcessHarness}: a task's `run()` (or one of its phases) called in this process: the emulator,
 *   its linked clock (emulated time, so a ten-minute wait costs nothing) and API clients on it with its PAT.
 *
 * ```ts
 * const h = new TaskHarness({ task: 'DatabricksTrainV1', connection: CONN, env: { DATABRICKS_MLOPS_POLL_INTERVAL_MS: '50' } });
 * let emu: Emulator;
 * beforeEach(async () => { emu = await h.start(); ... seed emu ... });
 * afterEach(() => h.stop());
 * const r = await h.run({ inputs: { jobId: '1' } });   // asserts the task.complete line
 *
 * const p = new InProcessHarness({ retry: { maxAttempts: 1 } });
 * beforeEach(async () => { emu = await p.start(); });
 * afterEach(() => p.stop());
 * const jobs = new JobsClient(p.api(), { clock: p.clock });
 * ```
 */
import assert from 'node:assert/strict';
import { EMULATOR_DEFAULTS, startEmulator, type Emulator, type EmulatorOptions } from '../../emulator';
import { patTokenProvider } from '../../src/databricks/auth';
import { createApiClient, type ApiClientOptions, type DatabricksApiClient } from '../../src/databricks/http';
import { runTask, type AgentEndpoint, type AgentRunOptions, type AgentRunResult, type TaskFolder } from './agent';

/** A `Token` (PAT) service connection to the emulator, as the agent passes it to the task. */
export function emulatorEndpoint(emu: Emulator, pat: string = EMULATOR_DEFAULTS.pat): AgentEndpoint {
  return { url: emu.url, scheme: 'Token', params: { apitoken: pat } };
}

/** A fresh emulator for one case, closed after `fn` (also when it throws). */
export async function withEmulator<T>(fn: (emu: Emulator) => Promise<T>, opts?: EmulatorOptions): Promise<T> {
  const emu = await startEmulator(opts);
  try {
    return await fn(emu);
  } finally {
    await emu.close();
  }
}

/**
 * The run sent exactly one `##vso[task.complete]` and it is the one `r.complete` reports: MockTestRunner and
 * a dead child both leave "succeeded" looking true, so every run is checked for its completion line.
 */
export function assertCompleted(r: AgentRunResult): void {
  const completes = r.commands.filter((c) => c.name === 'task.complete');
  assert.equal(completes.length, 1, `expected one task.complete line (exit code ${r.code}, signal ${r.signal})\n${r.stdout}\n${r.stderr}`);
  assert.deepEqual(r.complete, { result: completes[0].props.result, message: completes[0].message });
}

/**
 * Our own output never carries `secret`: log lines, errors, warnings, the completion message, the output
 * variables and stderr. (task-lib's `##vso[task.debug]... auth param apitoken = ...` line and the setsecret
 * command do carry it; the agent masks endpoint secrets itself, so only our lines are checked.)
 */
export function assertSecretNotShown(r: AgentRunResult, secret: string = EMULATOR_DEFAULTS.pat): void {
  for (const line of [...r.logLines, ...r.errors, ...r.warnings, r.complete?.message ?? '', ...Object.values(r.outputs)]) {
    assert.ok(!line.includes(secret), `a secret reached the log: ${line.split(secret).join('<secret>')}`);
  }
  assert.equal(r.stderr.includes(secret), false, 'a secret reached stderr');
}

/** What every run of a suite shares. */
export interface TaskHarnessDefaults {
  task: TaskFolder;
  /** Service connection id: `databricksConnection` names it and its endpoint is the emulator (PAT). */
  connection: string;
  /** Inputs of every run, under the test's own (connectionType `databricks` and the connection come first). */
  inputs?: AgentRunOptions['inputs'];
  /** Test hooks in the environment (e.g. DATABRICKS_MLOPS_POLL_INTERVAL_MS), under the test's own. */
  env?: Record<string, string>;
  /** Kill the child after this long (a safety net; default runTask's). */
  killAfterMs?: number;
}

/** Options of one run: AgentRunOptions without the task, everything optional. */
export type TaskRunOptions = Partial<Omit<AgentRunOptions, 'task'>> & {
  /** false for a run that must not complete (e.g. killed with SIGKILL); default true. */
  expectComplete?: boolean;
};

/** Polls `cond` every 5 ms (real time) until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A fresh emulator per test: `start()` in beforeEach, `stop()` in afterEach. */
class EmulatorPerTest {
  private current: Emulator | undefined;

  /** The emulator of the running test. */
  get emu(): Emulator {
    if (!this.current) throw new Error(`${this.constructor.name}: start() the emulator first.`);
    return this.current;
  }

  /** Starts a fresh emulator (call in beforeEach); the previous one must have been stopped. */
  async start(opts?: EmulatorOptions): Promise<Emulator> {
    if (this.current) throw new Error(`${this.constructor.name}: the previous emulator is still running; stop() it in afterEach.`);
    this.current = await startEmulator(opts);
    this.started(this.current);
    return this.current;
  }

  /** Called once a fresh emulator is up. */
  protected started(_emu: Emulator): void {}

  /** Closes the emulator (call in afterEach). */
  async stop(): Promise<void> {
    const emu = this.current;
    this.current = undefined;
    await emu?.close();
  }
}

/** The client settings of every API client an {@link InProcessHarness} makes. */
export interface InProcessDefaults {
  /** Overrides of the retry policy (e.g. `{ maxAttempts: 1 }`, or a fixed jitter `{ random: () => 0.5 }`). */
  retry?: ApiClientOptions['retry'];
}

/**
 * The in-process variant: a task's run() (or a phase of it) called in this process against a fresh emulator.
 * `clock` is the emulator's linked clock of the running test (made at start), `api()` a client on the
 * emulator with its PAT and, unless told otherwise, that clock.
 */
export class InProcessHarness extends EmulatorPerTest {
  private linked: ReturnType<Emulator['linkedClock']> | undefined;

  constructor(readonly defaults: InProcessDefaults = {}) {
    super();
  }

  protected override started(emu: Emulator): void {
    this.linked = emu.linkedClock();
  }

  override async stop(): Promise<void> {
    this.linked = undefined;
    await super.stop();
  }

  /** The running test's clock on emulated time: its sleeps advance the emulator and are recorded. */
  get clock(): ReturnType<Emulator['linkedClock']> {
    if (!this.linked) throw new Error('InProcessHarness: start() the emulator first.');
    return this.linked;
  }

  /** A new API client on the running test's emulator (PAT, `clock` or the linked clock, the default retry). */
  api(over: Pick<ApiClientOptions, 'clock' | 'retry'> = {}): DatabricksApiClient {
    return createApiClient({
      host: this.emu.url,
      tokenProvider: patTokenProvider(EMULATOR_DEFAULTS.pat),
      clock: over.clock ?? this.clock,
      retry: over.retry ?? this.defaults.retry,
    });
  }
}

export class TaskHarness extends EmulatorPerTest {
  constructor(readonly defaults: TaskHarnessDefaults) {
    super();
  }

  /** The agent's options of a run: the defaults, then `extra` (inputs and env merged key by key). */
  options(extra: TaskRunOptions = {}): AgentRunOptions {
    const { expectComplete: _ignored, ...rest } = extra;
    const d = this.defaults;
    return {
      killAfterMs: d.killAfterMs,
      ...rest,
      task: d.task,
      inputs: { connectionType: 'databricks', databricksConnection: d.connection, ...d.inputs, ...extra.inputs },
      endpoints: extra.endpoints ?? { [d.connection]: emulatorEndpoint(this.emu) },
      env: d.env || extra.env ? { ...d.env, ...extra.env } : undefined,
    };
  }

  /** Runs the bundled task as the agent does and checks it sent its task.complete line. */
  async run(extra: TaskRunOptions = {}): Promise<AgentRunResult> {
    const r = await runTask(this.options(extra));
    if (extra.expectComplete !== false) assertCompleted(r);
    return r;
  }
}
