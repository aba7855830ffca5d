/**
 * Jobs API 2.2 (and 2.1) emulation: saved jobs, run-now, one-time runs (runs/submit), runs/get with the
 * full life cycle, runs/get-output, runs/cancel and idempotency tokens (docs/databricks-api-notes.md §1 and §10).
 * The state and behaviour are `JobsStore` (jobs/store.ts); the routes here parse a request, call the store
 * and answer what it returns. Paths as the JS SDK calls them (`dist/apis/jobs/api.js`, e.g. `/api/2.2/jobs/runs/get`);
 * 2.1 is served too.
 */
import { createHash } from 'node:crypto';
import type { EmulatorCore, EmulatorRequest } from '../contracts';
import type { JobSettings } from './jobs/model';
import { JobsStore } from './jobs/store';
import { badParam, firstQueryValue, isPlainObject, parseId } from './jobs/validate';

export {
  NotebookError,
  RunInternalError,
  defaultRegistryUri,
  type EmulatedJob,
  type EmulatedRun,
  type EmulatedTaskRun,
  type JobParameterDefinition,
  type JobSettings,
  type JobsDurations,
  type JobTaskSettings,
  type NotebookContext,
  type NotebookHandler,
  type NotebookOptions,
} from './jobs/model';
export { JobsStore } from './jobs/store';

/** The handle tests use as `emu.jobs`. */
export type JobsEmulator = JobsStore;

const DEFAULT_PRINCIPAL = 'emulator-user@example.com';

function hostOf(req: EmulatorRequest): string {
  const h = req.headers.host ?? '127.0.0.1';
  return `http://${h}`;
}

const bodyObject = (req: EmulatorRequest): Record<string, unknown> => (isPlainObject(req.body) ? req.body : {});

function listLimit(req: EmulatorRequest): number {
  const limitRaw = req.query.limit;
  const limit = limitRaw === undefined ? 20 : Number(firstQueryValue(limitRaw));
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw badParam(`Invalid limit ${String(limitRaw)}: must be between 1 and 100.`);
  return limit;
}

/** Registers the Jobs routes under /api/2.1/jobs and /api/2.2/jobs; returns `emu.jobs`. */
export function install(core: EmulatorCore): JobsStore {
  const store = new JobsStore(core);
  const route = (method: string, suffix: string, handler: (req: EmulatorRequest) => unknown) => {
    for (const version of ['2.1', '2.2']) {
      core.router.add(method, `/api/${version}/jobs/${suffix}`, async (req) => ({ status: 200, body: await handler(req) }));
    }
  };
  route('POST', 'create', (req) => ({ job_id: store.createJob((req.body ?? {}) as JobSettings, { creator: req.principal ?? DEFAULT_PRINCIPAL }) }));
  route('GET', 'list', (req) =>
    store.listJobs({
      limit: listLimit(req),
      name: firstQueryValue(req.query.name),
      expandTasks: String(req.query.expand_tasks ?? '') === 'true',
      pageToken: firstQueryValue(req.query.page_token),
    }),
  );
  route('GET', 'get', (req) => store.getJob(parseId(req.query.job_id, 'job_id'), firstQueryValue(req.query.page_token)));
  route('POST', 'run-now', (req) => store.runNow(bodyObject(req), req.principal));
  route('POST', 'runs/submit', (req) => store.submitRun(bodyObject(req), req.principal));
  route('GET', 'runs/get', (req) => store.runsGet(parseId(req.query.run_id, 'run_id'), hostOf(req), firstQueryValue(req.query.page_token)));
  route('GET', 'runs/get-output', (req) => store.runOutput(parseId(req.query.run_id, 'run_id'), hostOf(req)));
  route('POST', 'runs/cancel', async (req) => {
    await store.cancelRun(parseId(bodyObject(req).run_id, 'run_id'));
    return {};
  });
  core.modules.jobs = store;
  return store;
}

/** A stable digest, used by tests to compare request bodies without caring about key order. */
export function canonicalDigest(value: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : isPlainObject(v)
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canon(v[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canon(value)))
    .digest('hex');
}
