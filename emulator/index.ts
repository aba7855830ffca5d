/**
 * The local workspace emulator: a Databricks + MLflow + Entra ID + Azure DevOps OIDC stand-in on
 * 127.0.0.1, used by tests and `npm run demo`. Never bundled into a task.
 *
 * ```ts
 * const emu = await startEmulator();
 * // ... drive a client at emu.url with EMULATOR_DEFAULTS.pat ...
 * assert.deepStrictEqual(emu.writes(), []);
 * await emu.close();
 * ```
 */
import type { Clock } from '../src/databricks/clock';
import { cancelledFrom } from '../src/databricks/errors';
import type { EmulatorCore, RequestLogEntry } from './contracts';
import { EmulatorAuth, EmulatorSecrets } from './auth';
import { createEmulatorClock, EmulatorClock } from './clock';
import { FaultRegistry } from './faults';
import { createEmulatorServer, EmulatorRouter, isWrite, listen } from './server';
import * as filesRoutes from './routes/files';
import * as workspaceRoutes from './routes/workspace';
import * as reposRoutes from './routes/repos';
import * as mlflowRoutes from './routes/mlflow';
import * as jobsRoutes from './routes/jobs';
import * as clustersRoutes from './routes/clusters';
import * as experimentsSearchRoutes from './routes/experiments-search';
import * as servingRoutes from './routes/serving';

export { ApiFault } from './contracts';
export type { EmulatorCore, RequestLogEntry, EmulatorRequest, EmulatorResponse, Router } from './contracts';
export { EMULATOR_DEFAULTS, AZURE_DATABRICKS_SCOPE, ADO_OIDC_ISSUER, ADO_OIDC_AUDIENCE, adoOidcSubject } from './auth';
export type { EmulatorSecrets, EntraApp, IssuedRecord, FederationPolicy } from './auth';
export type { FaultSpec, Fault, FaultKind } from './faults';
export { READ_ONLY_POST_PATHS, isWrite } from './server';

export interface EmulatorOptions {
  /** Port on 127.0.0.1; random when absent. */
  port?: number;
  /** Accepted credentials and token lifetimes; defaults in EMULATOR_DEFAULTS. */
  secrets?: EmulatorSecrets;
  /** Workspace id for `x-databricks-org-id` and `?o=` URLs. */
  workspaceId?: string;
}

export interface Emulator {
  /** `http://127.0.0.1:<port>`, the workspace URL (also the Entra authority host and the ADO org URL). */
  readonly url: string;
  readonly workspaceId: string;
  readonly core: EmulatorCore;
  readonly router: EmulatorRouter;
  readonly requests: RequestLogEntry[];
  readonly clock: EmulatorClock;
  readonly faults: FaultRegistry;
  readonly auth: EmulatorAuth;
  readonly files: ReturnType<typeof filesRoutes.install>;
  readonly workspace: ReturnType<typeof workspaceRoutes.install>;
  readonly repos: ReturnType<typeof reposRoutes.install>;
  readonly mlflow: ReturnType<typeof mlflowRoutes.install>;
  readonly jobs: ReturnType<typeof jobsRoutes.install>;
  readonly clusters: ReturnType<typeof clustersRoutes.install>;
  readonly serving: ReturnType<typeof servingRoutes.install>;
  readonly experimentsSearch: ReturnType<typeof experimentsSearchRoutes.install>;
  /** `System.OidcRequestUri` pointing at this emulator's Azure DevOps OIDC endpoint. */
  readonly oidcRequestUri: string;
  /** Requests to `path` (exact, or a RegExp) with `method`. */
  callsTo(method: string, path: string | RegExp): RequestLogEntry[];
  /** Every write attempt to the workspace API (non-GET to /api/, except read-only POSTs such as runs/search). */
  writes(): RequestLogEntry[];
  /** Empties the request log (seq keeps counting). */
  clearRequests(): void;
  /**
   * A client Clock tied to emulated time: `now()` and `monotonic()` are the emulator's time and `sleep(ms)` advances it
   * (then yields once), so a client that waits ten minutes finishes at once and tokens expire on cue.
   */
  linkedClock(): Clock & { readonly sleeps: number[] };
  close(): Promise<void>;
}

/** Starts an emulator on 127.0.0.1 (random port unless given) with every API module installed. */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const clock = createEmulatorClock();
  const router = new EmulatorRouter();
  const requests: RequestLogEntry[] = [];
  const faults = new FaultRegistry();
  const auth = new EmulatorAuth(opts.secrets, clock);
  const workspaceId = opts.workspaceId ?? '1234567890123456';
  const core: EmulatorCore = { router, requests, clock, workspaceId, modules: {} };
  auth.install(router);
  // Order matters: jobs reaches the others through core.modules when notebooks write files or log runs.
  const files = filesRoutes.install(core);
  const workspace = workspaceRoutes.install(core);
  const repos = reposRoutes.install(core);
  const mlflow = mlflowRoutes.install(core);
  const jobs = jobsRoutes.install(core);
  const clusters = clustersRoutes.install(core);
  const experimentsSearch = experimentsSearchRoutes.install(core);
  const serving = servingRoutes.install(core);

  const server = createEmulatorServer({ router, auth, faults, clock, workspaceId, requests });
  const url = await listen(server, opts.port);

  const matches = (e: RequestLogEntry, method: string, path: string | RegExp) =>
    e.method === method.toUpperCase() && (typeof path === 'string' ? e.path === path : path.test(e.path));

  return {
    url,
    workspaceId,
    core,
    router,
    requests,
    clock,
    faults,
    auth,
    files,
    workspace,
    repos,
    mlflow,
    jobs,
    clusters,
    serving,
    experimentsSearch,
    oidcRequestUri: `${url}/mlops/_apis/distributedtask/hubs/build/plans/8a9b0c1d-2e3f-4a5b-8c7d-9e0f1a2b3c4d/jobs/5d3e8d4c-1c7b-5b8f-9a1c-2f3b4c5d6e7f/oidctoken`,
    callsTo: (method, path) => requests.filter((e) => matches(e, method, path)),
    writes: () => requests.filter(isWrite),
    clearRequests: () => {
      requests.length = 0;
    },
    linkedClock() {
      const sleeps: number[] = [];
      return {
        sleeps,
        now: () => clock.now(),
        // Emulated time is the real wall clock plus an offset that only grows: the tests take it as monotonic too.
        monotonic: () => clock.now(),
        async sleep(ms: number, signal?: AbortSignal) {
          if (signal?.aborted) throw cancelledFrom(signal);
          sleeps.push(ms);
          clock.advance(Math.max(0, ms));
          await new Promise<void>((r) => setImmediate(r));
        },
      };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
