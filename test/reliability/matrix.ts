/**
 * The fault matrix: for every bundled task, every route its normal run uses, and every fault kind, one run
 * of the task against a fresh emulator with that fault injected; each cell is classified from the remote
 * state the emulator ends with, compared with an undisturbed run of the same world.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Emulator, FaultSpec } from '../../emulator';
import { RunInternalError } from '../../emulator/routes/jobs';
import type { AgentRunResult } from '../helpers/agent';
import {
  deployWorld,
  DeployState,
  evaluateWorld,
  EvaluateState,
  pool,
  runWorld,
  serveWorld,
  ServeState,
  SERVE_ENDPOINT,
  SERVE_MODEL,
  sleep,
  SLOW_REPLY_MS,
  trainWorld,
  TrainState,
  TRAIN_NOTEBOOK,
  withEmulator,
  World,
} from './harness';

export type TaskKey = 'train' | 'deploy' | 'evaluate' | 'serve';

/**
 * - `recovered`: the task succeeded and the remote state equals the undisturbed run's (one run, one version).
 * - `recoveredWithIssues`: SucceededWithIssues with that same state (a non-essential read gave up, with a warning).
 * - `failedClosed`: the task failed with a clear message and changed nothing it should not have: at most one
 *   run started and none left running, at most one model version created, production untouched, candidates
 *   still tagged for the next evaluation.
 * - `promotedWithIssues`: SucceededWithIssues after the promotion was applied (production and promotions as in
 *   the undisturbed run) where a bookkeeping step after the recorded decision failed: candidates left tagged.
 * - `failedAfterPromotion`: the promotion was applied and a later bookkeeping step failed (the step fails,
 *   production is the version the decision chose).
 * - `unsafe`: anything else (a duplicate, a promotion on an error, success with the wrong state).
 */
export type Outcome = 'recovered' | 'recoveredWithIssues' | 'promotedWithIssues' | 'failedClosed' | 'failedAfterPromotion' | 'unsafe';

export interface FaultKind {
  key: string;
  label: string;
  spec: Omit<FaultSpec, 'path' | 'method'>;
}

/** The network/gateway faults tried on every route. */
export const ROUTE_FAULTS: FaultKind[] = [
  { key: '429', label: '429 burst (x2, Retry-After 1 s)', spec: { kind: 'status', status: 429, retryAfterSeconds: 1, times: 2 } },
  { key: '503', label: '503 once', spec: { kind: 'status', status: 503, times: 1 } },
  { key: '503*', label: '503 on every call', spec: { kind: 'status', status: 503, times: Infinity } },
  { key: 'reset', label: 'connection reset once', spec: { kind: 'reset', times: 1 } },
  { key: 'slow', label: `reply after ${SLOW_REPLY_MS / 1000} s (timeout 1 s) once`, spec: { kind: 'slow', delayMs: SLOW_REPLY_MS, times: 1 } },
  { key: 'html', label: 'HTML sign-in page', spec: { kind: 'html', times: Infinity } },
];

export interface Route {
  method: string;
  path: string | RegExp;
  /** Printed name. */
  name: string;
}

export const ROUTES: Record<TaskKey, Route[]> = {
  train: [
    r('GET', '/api/2.2/jobs/get'),
    r('GET', '/api/2.0/mlflow/experiments/get-by-name'),
    r('POST', '/api/2.2/jobs/run-now'),
    r('GET', '/api/2.2/jobs/runs/get'),
    r('GET', '/api/2.2/jobs/runs/get-output'),
    r('POST', '/api/2.0/mlflow/runs/search'),
    r('POST', '/api/2.0/mlflow/runs/set-tag'),
  ],
  deploy: [
    r('GET', '/api/2.0/repos'),
    r('GET', '/api/2.0/workspace/get-status'),
    r('POST', '/api/2.0/repos'),
    r('PATCH', /^\/api\/2\.0\/repos\/\d+$/, 'PATCH /api/2.0/repos/:id'),
    r('GET', /^\/api\/2\.0\/repos\/\d+$/, 'GET /api/2.0/repos/:id'),
  ],
  evaluate: [
    r('GET', '/api/2.0/mlflow/experiments/get-by-name'),
    r('POST', '/api/2.0/mlflow/runs/search'),
    r('GET', '/api/2.0/mlflow/artifacts/list'),
    r('POST', '/api/2.0/mlflow/registered-models/get-latest-versions'),
    r('POST', '/api/2.0/workspace/mkdirs'),
    r('POST', '/api/2.0/workspace/import'),
    r('POST', '/api/2.2/jobs/runs/submit'),
    r('GET', '/api/2.2/jobs/runs/get'),
    r('GET', '/api/2.2/jobs/runs/get-output'),
    r('GET', /^\/api\/2\.0\/fs\/files\/.*\.arrow$/, 'GET /api/2.0/fs/files/...arrow (download)'),
    r('DELETE', /^\/api\/2\.0\/fs\/files\/.*\.arrow$/, 'DELETE /api/2.0/fs/files/...arrow'),
    r('GET', '/api/2.0/mlflow/model-versions/search'),
    r('POST', '/api/2.0/mlflow/registered-models/create'),
    r('POST', '/api/2.0/mlflow/model-versions/create'),
    r('GET', '/api/2.0/mlflow/model-versions/get'),
    r('GET', '/api/2.0/mlflow/registered-models/get'),
    r('POST', '/api/2.0/mlflow/registered-models/set-tag'),
    r('POST', '/api/2.0/mlflow/model-versions/set-tag'),
    r('POST', '/api/2.0/mlflow/databricks/model-versions/transition-stage'),
    r('DELETE', '/api/2.0/mlflow/registered-models/delete-tag'),
    r('POST', '/api/2.0/mlflow/runs/set-tag'),
  ],
  serve: [
    r('GET', '/api/2.0/mlflow/unity-catalog/registered-models/alias'),
    r('GET', '/api/2.0/mlflow/unity-catalog/model-versions/get'),
    r('GET', `/api/2.0/serving-endpoints/${SERVE_ENDPOINT}`),
    r('PUT', `/api/2.0/serving-endpoints/${SERVE_ENDPOINT}/config`),
    r('POST', `/serving-endpoints/${SERVE_ENDPOINT}/invocations`),
  ],
};

function r(method: string, path: string | RegExp, name?: string): Route {
  return { method, path, name: name ?? `${method} ${path}` };
}

/** A fault that is not a transport failure: the platform answers, with bad news. */
export interface SemanticFault {
  task: TaskKey;
  name: string;
  /** Which route the bad news arrives on (for the printed matrix). */
  route: string;
  arrange(emu: Emulator, world: World<unknown>): void;
}

export const SEMANTIC_FAULTS: SemanticFault[] = [
  {
    task: 'train',
    name: 'run ends INTERNAL_ERROR',
    route: 'GET /api/2.2/jobs/runs/get',
    arrange: (emu) =>
      emu.jobs.notebooks.register(TRAIN_NOTEBOOK, () => {
        throw new RunInternalError('Cluster terminated unexpectedly: spot instance lost');
      }),
  },
  {
    task: 'evaluate',
    name: 'scoring run ends INTERNAL_ERROR',
    route: 'GET /api/2.2/jobs/runs/get',
    arrange: (emu) =>
      emu.jobs.notebooks.register('/Shared/mlops-pipelines/evaluate_models', () => {
        throw new RunInternalError('Cluster terminated unexpectedly: spot instance lost');
      }),
  },
  {
    task: 'evaluate',
    name: 'model version stuck in PENDING_REGISTRATION',
    route: 'GET /api/2.0/mlflow/model-versions/get',
    arrange: (emu) => emu.mlflow.setVersionStuck('churn', 'PENDING_REGISTRATION'),
  },
  {
    task: 'evaluate',
    name: 'model version FAILED_REGISTRATION',
    route: 'GET /api/2.0/mlflow/model-versions/get',
    arrange: (emu) => emu.mlflow.setVersionStuck('churn', 'FAILED_REGISTRATION', { message: 'Artifact copy failed.' }),
  },
  {
    task: 'evaluate',
    name: 'predictions download cut short once',
    route: 'GET /api/2.0/fs/files/...arrow (download)',
    arrange: (emu) => emu.faults.add({ method: 'GET', path: /^\/api\/2\.0\/fs\/files\/.*\.arrow$/, kind: 'truncate', times: 1 }),
  },
  {
    task: 'evaluate',
    name: 'predictions download cut short every time',
    route: 'GET /api/2.0/fs/files/...arrow (download)',
    arrange: (emu) => emu.faults.add({ method: 'GET', path: /^\/api\/2\.0\/fs\/files\/.*\.arrow$/, kind: 'truncate', times: Infinity }),
  },
  {
    task: 'serve',
    name: 'config update ends UPDATE_FAILED',
    route: `GET /api/2.0/serving-endpoints/${SERVE_ENDPOINT}`,
    arrange: (emu) => emu.serving.failNextUpdate(SERVE_ENDPOINT, 'Served entity failed to deploy: container image build failed.'),
  },
  {
    task: 'serve',
    name: 'the new version fails to score (smoke test)',
    route: `POST /serving-endpoints/${SERVE_ENDPOINT}/invocations`,
    arrange: (emu) => emu.serving.breakVersion(SERVE_MODEL, '2', 'Model execution failed: KeyError: x2'),
  },
];

export interface CellResult {
  task: TaskKey;
  route: string;
  fault: string;
  outcome: Outcome;
  result?: string;
  message: string;
  /** Requests the fault answered. */
  hits: number;
  state: unknown;
  /** Why a cell is unsafe (empty otherwise). */
  why: string;
  ms: number;
}

type AnyState = TrainState | DeployState | EvaluateState | ServeState;

async function makeWorld(task: TaskKey, emu: Emulator): Promise<World<AnyState>> {
  if (task === 'train') {
    const w = await trainWorld(emu);
    // A bounded wait, so an outage of runs/get ends in the task's own timeout (and cancel), not the test's.
    w.inputs.timeoutMinutes = '0.1';
    return w;
  }
  if (task === 'deploy') return deployWorld(emu);
  if (task === 'serve') return serveWorld(emu);
  return evaluateWorld(emu);
}

/** The state an undisturbed run ends in, per task (computed once). */
const baselines = new Map<TaskKey, AnyState>();

export async function baseline(task: TaskKey): Promise<AnyState> {
  const known = baselines.get(task);
  if (known) return known;
  const state = await withEmulator(async (emu) => {
    const w = await makeWorld(task, emu);
    const res = await runWorld(`${task} baseline`, w);
    if (res.complete?.result !== 'Succeeded') throw new Error(`${task} baseline did not succeed: ${res.complete?.message}\n${res.stdout}`);
    return w.state();
  });
  baselines.set(task, state);
  return state;
}

/** Classifies a finished run from its result and the remote state (see {@link Outcome}). */
export function classify(task: TaskKey, res: AgentRunResult, state: AnyState, base: AnyState, world: World<AnyState>): { outcome: Outcome; why: string } {
  const result = res.complete?.result;
  const same = isDeepStrictEqual(state, base);
  if (result === 'Succeeded') return same ? { outcome: 'recovered', why: '' } : { outcome: 'unsafe', why: `succeeded with state ${JSON.stringify(state)}` };
  if (result === 'SucceededWithIssues') {
    if (same) return { outcome: 'recoveredWithIssues', why: '' };
    if (task === 'evaluate' && isDeepStrictEqual({ ...(state as EvaluateState), candidatesLeft: 0 }, base) && (state as EvaluateState).candidatesLeft > 0)
      return { outcome: 'promotedWithIssues', why: '' };
    return { outcome: 'unsafe', why: `succeeded with issues, state ${JSON.stringify(state)}` };
  }
  if (result !== 'Failed') return { outcome: 'unsafe', why: `result ${result ?? 'none'} (exit ${res.code})` };
  if (!res.complete?.message) return { outcome: 'unsafe', why: 'failed without a message' };
  if (task === 'train') {
    const s = state as TrainState;
    if (s.runsStarted > 1) return { outcome: 'unsafe', why: `${s.runsStarted} runs started` };
    return { outcome: 'failedClosed', why: '' };
  }
  if (task === 'deploy') {
    const s = state as DeployState;
    if (s.folders > 1) return { outcome: 'unsafe', why: `${s.folders} Git folders` };
    return { outcome: 'failedClosed', why: '' };
  }
  if (task === 'serve') {
    // Failed closed: one endpoint, at most the forward update and its rollback, and the endpoint serves either
    // what it served before or what the step asked for (an update that landed after its request failed).
    const s = state as ServeState;
    const before = JSON.stringify([[SERVE_MODEL, '1', 100]]);
    const asked = JSON.stringify((base as ServeState).served);
    if (s.endpoints !== 1) return { outcome: 'unsafe', why: `${s.endpoints} endpoints` };
    if (s.updates > 2) return { outcome: 'unsafe', why: `${s.updates} config updates` };
    if (![before, asked].includes(JSON.stringify(s.served))) return { outcome: 'unsafe', why: `serves ${JSON.stringify(s.served)}` };
    return { outcome: 'failedClosed', why: '' };
  }
  const s = state as EvaluateState;
  const w = world as unknown as { productionVersion: string };
  const b = base as EvaluateState;
  if (s.versions > b.versions) return { outcome: 'unsafe', why: `${s.versions} versions` };
  if (s.scoringRuns > 1) return { outcome: 'unsafe', why: `${s.scoringRuns} scoring runs` };
  if (s.production === w.productionVersion && s.promotions === 0) {
    if (s.candidatesLeft !== 1) return { outcome: 'unsafe', why: 'failed but reset the candidate tag' };
    return { outcome: 'failedClosed', why: '' };
  }
  if (s.production === b.production && s.promotions === 1) return { outcome: 'failedAfterPromotion', why: '' };
  return { outcome: 'unsafe', why: `failed with production ${s.production} after ${s.promotions} promotions` };
}

export interface CellSpec {
  task: TaskKey;
  route: string;
  fault: string;
  /** Extra test-hook environment for this cell's run. */
  env?: Record<string, string>;
  arrange(emu: Emulator, world: World<AnyState>): { slow: boolean; hits: () => number };
}

/** Every cell: ROUTE_FAULTS x ROUTES, then the semantic faults. */
export function allCells(): CellSpec[] {
  const cells: CellSpec[] = [];
  for (const task of Object.keys(ROUTES) as TaskKey[]) {
    for (const route of ROUTES[task]) {
      for (const f of ROUTE_FAULTS) {
        cells.push({
          task,
          route: route.name,
          fault: f.key,
          // A permanent outage of a run poll is tolerated for 50 polls (each with its retries): a short backoff gets there in seconds.
          env: f.key === '503*' && route.name.endsWith('/runs/get') ? { DATABRICKS_MLOPS_RETRY_BASE_DELAY_MS: '5' } : undefined,
          arrange: (emu) => {
            const added = emu.faults.add({ ...f.spec, method: route.method, path: route.path });
            return { slow: f.spec.kind === 'slow', hits: () => added.hits };
          },
        });
      }
    }
  }
  for (const s of SEMANTIC_FAULTS) {
    cells.push({
      task: s.task,
      route: s.route,
      fault: s.name,
      arrange: (emu, world) => {
        const before = emu.faults.list().length;
        s.arrange(emu, world as World<unknown>);
        const added = emu.faults.list().slice(before);
        return { slow: false, hits: () => (added.length > 0 ? added.reduce((n, f) => n + f.hits, 0) : 1) };
      },
    });
  }
  return cells;
}

export async function runCell(cell: CellSpec): Promise<CellResult> {
  const base = await baseline(cell.task);
  return withEmulator(async (emu) => {
    const world = await makeWorld(cell.task, emu);
    const probe = cell.arrange(emu, world);
    const t = Date.now();
    const res = await runWorld(`${cell.task} ${cell.route} ${cell.fault}`, world, { env: cell.env, killAfterMs: 150_000 });
    // A slow reply is still being handled by the emulator when the client gave up: let it land first.
    if (probe.slow) await sleep(SLOW_REPLY_MS + 200);
    const state = world.state();
    const { outcome, why } = classify(cell.task, res, state, base, world);
    return {
      task: cell.task,
      route: cell.route,
      fault: cell.fault,
      outcome,
      result: res.complete?.result,
      message: res.complete?.message ?? `(no task.complete; exit ${res.code})`,
      hits: probe.hits(),
      state,
      why,
      ms: Date.now() - t,
    };
  });
}

export async function runMatrix(cells: CellSpec[], concurrency: number): Promise<CellResult[]> {
  for (const t of new Set(cells.map((c) => c.task))) await baseline(t);
  return pool(cells, concurrency, runCell);
}

/** The matrix as a text table: one row per route, one column per fault; plus the semantic faults. */
export function renderMatrix(results: CellResult[]): string {
  const short: Record<Outcome, string> = {
    recovered: 'ok',
    recoveredWithIssues: 'ok*',
    promotedWithIssues: 'ok+',
    failedClosed: 'closed',
    failedAfterPromotion: 'closed+',
    unsafe: 'UNSAFE',
  };
  const lines: string[] = [];
  const faults = ROUTE_FAULTS.map((f) => f.key);
  const width = Math.max(...results.map((r) => r.route.length + r.task.length + 3), 20);
  lines.push(`${'task / route'.padEnd(width)} | ${faults.map((f) => f.padEnd(7)).join(' | ')}`);
  lines.push(`${'-'.repeat(width)}-+-${faults.map(() => '-------').join('-+-')}`);
  for (const task of Object.keys(ROUTES) as TaskKey[]) {
    for (const route of ROUTES[task]) {
      const row = faults.map((f) => short[results.find((x) => x.task === task && x.route === route.name && x.fault === f)?.outcome ?? 'unsafe'].padEnd(7));
      lines.push(`${`${task} ${route.name}`.padEnd(width)} | ${row.join(' | ')}`);
    }
  }
  lines.push('');
  for (const s of SEMANTIC_FAULTS) {
    const res = results.find((x) => x.task === s.task && x.fault === s.name);
    if (res) lines.push(`${s.task}: ${s.name} -> ${res.outcome}: ${res.message.slice(0, 160)}`);
  }
  lines.push('');
  lines.push(`faults: ${ROUTE_FAULTS.map((f) => `${f.key} = ${f.label}`).join('; ')}`);
  lines.push(
    'ok = recovered (same end state as an undisturbed run); ok* = succeeded with a warning; ok+ = promoted, succeeded with issues (candidate tags not reset, named); closed = failed closed; closed+ = failed after the promotion was applied (bookkeeping step); UNSAFE = neither',
  );
  return lines.join('\n');
}

export function summaryFigure(results: CellResult[]): string {
  const n = (o: Outcome) => results.filter((r) => r.outcome === o).length;
  const routes = Object.values(ROUTES).reduce((a, r) => a + r.length, 0);
  return (
    `${results.length} fault cells (${ROUTE_FAULTS.length} faults x ${routes} routes of the 4 tasks, plus ${SEMANTIC_FAULTS.length} platform failures): ` +
    `${n('recovered') + n('recoveredWithIssues')} recovered (${n('recoveredWithIssues')} with a warning), ` +
    `${n('promotedWithIssues')} promoted with issues (candidate tags not reset, named in a warning), ${n('failedClosed')} failed closed, ` +
    `${n('failedAfterPromotion')} failed after a correct promotion, ${n('unsafe')} unsafe`
  );
}

export interface Expectation {
  outcome: Outcome;
  /** The completion message must match (a clear message naming the cause). */
  message: RegExp;
}

/** Calls the client never repeats once they may have reached the server: no idempotency key, and a repeat would duplicate. */
const NON_IDEMPOTENT = new Set([
  'deploy POST /api/2.0/repos',
  'evaluate POST /api/2.0/mlflow/registered-models/create',
  'evaluate POST /api/2.0/mlflow/model-versions/create',
  `serve PUT /api/2.0/serving-endpoints/${SERVE_ENDPOINT}/config`,
]);

const SUCCESS: Record<TaskKey, RegExp> = {
  train: /^Databricks run \d+ succeeded in \d+s\.$/,
  deploy: /^Git folder \/Repos\/Production\/churn-model is at 2{40} \(branch release\)\.$/,
  evaluate: /^Promoted run [0-9a-f]{32} as churn version 2 to stage Production\. /,
  serve: /^Endpoint churn serves main\.ml\.churn version 2 with 100% of the traffic; the smoke test passed\.$/,
};
const SIGN_IN =
  /returned an HTML sign-in page \(HTTP 200\) instead of an API response for (GET|POST|PUT|PATCH|DELETE) \/api\/.* Likely causes: the workspace URL is wrong/;
const UNAVAILABLE = /^The service is temporarily unavailable\. Please try again later\.$/;

/**
 * The outcome each cell must have, decided per (task, route, fault) from what the call is:
 * - 429 with Retry-After is retried for every call (the limiter rejects before processing): recovered.
 * - One 503, reset or slow reply is retried for reads and idempotent writes (run-now/submit carry an
 *   idempotency token; mkdirs, import with overwrite, tags, transitions and deletes repeat harmlessly):
 *   recovered. For the three calls that cannot be repeated blindly the task fails closed (a re-run
 *   reconciles: see reruns.test.ts).
 * - A 503 on every call, or a sign-in page, fails closed, except where the call is not essential:
 *   Train's notebook output (SucceededWithIssues), Evaluate's deletion of its scratch predictions file (a
 *   warning), and, after the promotion was applied and the decision recorded, Evaluate's release of its
 *   promotion claim and its reset of the candidate tags (SucceededWithIssues naming the version, the claim
 *   or the runs left tagged).
 * - Evaluate's scoring-run poll under a permanent failure cancels the scoring run and names it.
 * - Train's poll (runs/get) under a permanent outage ends in the task's own timeout, which cancels the run.
 */
export function expectationFor(task: TaskKey, route: string, fault: string): Expectation {
  const key = `${task} ${route}`;
  const recovered: Expectation = { outcome: 'recovered', message: SUCCESS[task] };
  if (fault === '429') return recovered;
  if (fault === '503' || fault === 'reset' || fault === 'slow') {
    if (!NON_IDEMPOTENT.has(key)) return recovered;
    const verb = task === 'serve' ? 'PUT' : 'POST';
    const message =
      fault === '503'
        ? UNAVAILABLE
        : fault === 'reset'
          ? new RegExp(`^Request ${verb} \\/api\\/.* failed: the server closed the connection without answering \\(SOCKET_HANG_UP\\)\\.$`)
          : new RegExp(`^Request ${verb} \\/api\\/.* timed out after 1 s\\.$`);
    return { outcome: 'failedClosed', message };
  }
  const permanent = fault === '503*' ? UNAVAILABLE : SIGN_IN;
  if (key === 'train GET /api/2.2/jobs/runs/get-output')
    return { outcome: 'recoveredWithIssues', message: /^Databricks run \d+ succeeded in \d+s\. Issues: notebook output unavailable\.$/ };
  if (key === 'evaluate DELETE /api/2.0/fs/files/...arrow') return recovered;
  const cause =
    fault === '503*' ? 'The service is temporarily unavailable\\. Please try again later' : `The workspace at 127\\.0\\.0\\.1:\\d+ ${SIGN_IN.source}.*`;
  if (key === 'evaluate POST /api/2.0/mlflow/runs/set-tag') {
    // After the decision was applied and recorded: the step succeeds with issues naming the promoted version and the run left tagged.
    return {
      outcome: 'promotedWithIssues',
      message: new RegExp(
        `^Promoted run ([0-9a-f]{32}) as churn version 2 to stage Production\\. .* Issues: version 2 was promoted and the decision recorded, but candidate=true could not be reset on run\\(s\\) \\1 \\(${cause}\\); set it to false by hand, or the next evaluation picks them up again\\.$`,
      ),
    };
  }
  if (key === 'evaluate DELETE /api/2.0/mlflow/registered-models/delete-tag') {
    // The promotion stands and the candidate tags are reset; the claim left behind is named (it expires).
    return {
      outcome: 'recoveredWithIssues',
      message: new RegExp(
        `^Promoted run [0-9a-f]{32} as churn version 2 to stage Production\\. .* Issues: the promotion claim on churn \\(registered-model tag mlops\\.promotion\\.claim\\) could not be cleared \\(${cause}\\); other Evaluate & Promote steps of this model fail until it expires after 15 minutes or the tag is deleted\\.$`,
      ),
    };
  }
  if (key === 'evaluate GET /api/2.2/jobs/runs/get') {
    // The scoring run can no longer be followed: it is cancelled and named.
    return { outcome: 'failedClosed', message: new RegExp(`^Scoring run \\d+ could not be followed: ${cause}\\. It was cancelled; nothing was promoted\\.$`) };
  }
  if (key === `serve POST /serving-endpoints/${SERVE_ENDPOINT}/invocations`) {
    // The smoke test cannot get an answer: the previous config is put back.
    const refused =
      fault === '503*'
        ? 'The service is temporarily unavailable\\. Please try again later\\.'
        : `The workspace at 127\\.0\\.0\\.1:\\d+ returned an HTML sign-in page \\(HTTP 200\\) instead of an API response for POST \\/serving-endpoints\\/churn\\/invocations.*`;
    return {
      outcome: 'failedClosed',
      message: new RegExp(
        `^The smoke test failed: the scoring request was refused \\(${refused}\\)\\. Rolled back: the endpoint serves main\\.ml\\.churn version 1 \\(100%\\) again\\.$`,
      ),
    };
  }
  if (fault === '503*' && key === 'train GET /api/2.2/jobs/runs/get') {
    return { outcome: 'failedClosed', message: /^Databricks run \d+ did not finish within 6s; last state unknown\. The run was cancelled\.$/ };
  }
  if (fault === '503*' && key === 'evaluate GET /api/2.0/mlflow/model-versions/get') {
    // Whether the READY wait's deadline or its limit on consecutive failed polls comes first depends on timing; both fail closed.
    return {
      outcome: 'failedClosed',
      message:
        /^(Waiting for model churn version 2 to become READY timed out after \d+ s; last state: status unknown \(last poll failed: )?The service is temporarily unavailable\. Please try again later\.(\)\.)?$/,
    };
  }
  return { outcome: 'failedClosed', message: permanent };
}

/** Expectations of the platform failures, by name. */
export const SEMANTIC_EXPECTATIONS: Record<string, Expectation> = {
  'run ends INTERNAL_ERROR': {
    outcome: 'failedClosed',
    message:
      /^Databricks run \d+ ended INTERNAL_ERROR\/FAILED \(task train: Cluster terminated unexpectedly: spot instance lost\)\. http:\/\/127\.0\.0\.1:\d+\/\?o=\d+#job\/\d+\/run\/\d+$/,
  },
  'scoring run ends INTERNAL_ERROR': {
    outcome: 'failedClosed',
    message: /^Scoring run \d+ \(.*\) ended INTERNAL_ERROR\/FAILED: Cluster terminated unexpectedly: spot instance lost\. Nothing was promoted\.$/,
  },
  'model version stuck in PENDING_REGISTRATION': {
    outcome: 'failedClosed',
    message: /^Waiting for model churn version 2 to become READY timed out after \d+ s; last state: status PENDING_REGISTRATION\.$/,
  },
  'model version FAILED_REGISTRATION': { outcome: 'failedClosed', message: /^Model version churn version 2 failed to register: Artifact copy failed\.+$/ },
  'predictions download cut short once': { outcome: 'recovered', message: SUCCESS.evaluate },
  'config update ends UPDATE_FAILED': {
    outcome: 'failedClosed',
    message:
      /^The config update of serving endpoint churn ended UPDATE_FAILED \(main-ml-churn-2: Served entity failed to deploy: container image build failed\.\)\. The endpoint still serves the previous config \(main\.ml\.churn version 1 \(100%\)\)\.$/,
  },
  'the new version fails to score (smoke test)': {
    outcome: 'failedClosed',
    message:
      /^The smoke test failed: the scoring request was refused \(.*Model execution failed: KeyError: x2.*\)\. Rolled back: the endpoint serves main\.ml\.churn version 1 \(100%\) again\.$/,
  },
  'predictions download cut short every time': {
    outcome: 'failedClosed',
    message:
      /^The response to GET \/api\/2\.0\/fs\/files\/Volumes\/main\/ml\/scratch\/eval\/evaluate-[^ ]+\/predictions\.arrow from 127\.0\.0\.1:\d+ was cut short: received \d+ bytes of the \d+ announced\.$/,
  },
};

export function expected(cell: { task: TaskKey; route: string; fault: string }): Expectation {
  return SEMANTIC_EXPECTATIONS[cell.fault] ?? expectationFor(cell.task, cell.route, cell.fault);
}
