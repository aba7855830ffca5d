/**
 * The contract between the emulator core (server.ts: HTTP server, router, auth checks, request log, fault
 * injection) and the per-API route modules (routes/jobs.ts, routes/repos.ts, routes/mlflow.ts, ...).
 * Route modules export `install(core: EmulatorCore)`, which registers the routes, puts the module's handle in
 * `core.modules` and returns it (see README.md, "How to add a route").
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ClustersEmulator } from './routes/clusters';
import type { ExperimentSearch } from './routes/experiments-search';
import type { FilesEmulator } from './routes/files';
import type { JobsStore } from './routes/jobs/store';
import type { MlflowEmulator } from './routes/mlflow';
import type { ReposEmulator } from './routes/repos';
import type { ServingEmulator } from './routes/serving';
import type { WorkspaceEmulator } from './routes/workspace';

export interface EmulatorRequest {
  method: string;
  /** Path without the query string, e.g. `/api/2.2/jobs/runs/get` or `/api/2.0/fs/files/Volumes/a/b.arrow`. */
  path: string;
  /** Query parameters; a repeated key gives an array. */
  query: Record<string, string | string[]>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when none), and the raw bytes (for Files/DBFS uploads). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any request's JSON as sent; each route validates the fields it reads, as the service does
  body: any;
  rawBody: Buffer;
  /** Path parameters captured by the route pattern (`/api/2.0/repos/:id`). */
  params: Record<string, string>;
  /** The authenticated principal (set by the core's auth check). */
  principal?: string;
}

export interface EmulatorResponse {
  status?: number;
  /** JSON-serialised unless it is a Buffer or string. */
  body?: unknown;
  headers?: Record<string, string>;
}

export type RouteHandler = (req: EmulatorRequest) => EmulatorResponse | Promise<EmulatorResponse>;

export interface Router {
  /** `pattern` is a path with `:name` segments, or a trailing `*rest` that captures the remainder. */
  add(method: string, pattern: string, handler: RouteHandler, opts?: { auth?: boolean }): void;
}

/** A parsed JSON body that is an object (`typeof` says so for arrays too): its fields are then read and checked one by one. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * Throw this from a handler to answer with the Databricks error body
 * `{"error_code": code, "message": message}` and the given status.
 */
export class ApiFault extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string | number,
    message: string,
  ) {
    super(message);
  }
}

/** One request as the emulator saw it; tests assert exact calls, counts and bodies with it. */
export interface RequestLogEntry {
  seq: number;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the logged request's JSON, which tests read field by field to assert the exact request sent
  body: any;
  status: number;
  /** Which fault answered, if any. */
  fault?: string;
  /** The principal that was authenticated (never the token). */
  principal?: string;
  /** Emulated time when the request arrived (ms since epoch). */
  at: number;
  /** The `x-request-id` the emulator answered with. */
  requestId?: string;
  /** Request headers without Authorization, Proxy-Authorization and Cookie. */
  headers?: Record<string, string>;
  /** The raw request bytes when the body was not JSON or a form (Files API / DBFS uploads). */
  rawBody?: Buffer;
  /** Message of an unexpected handler exception (answered 500 INTERNAL_ERROR). */
  error?: string;
}

/**
 * Shared core every route module receives: registering routes, the request log, emulated time and a
 * way to reach the other modules (notebooks run by Jobs write files and log MLflow runs).
 */
export interface EmulatorCore {
  router: Router;
  readonly requests: RequestLogEntry[];
  /** Emulated wall clock in ms; tests can advance it (`clock.advance(ms)`) so waits take no real time. */
  clock: { now(): number; advance(ms: number): void };
  /** Databricks workspace id used in URLs (`?o=<id>`) and the `x-databricks-org-id` header. */
  workspaceId: string;
  /** Module registry: route modules put their handle here under their name (`core.modules.files`). */
  modules: EmulatorModules;
}

/**
 * The handle of each installed route module, by name. A module is absent until `install` ran, so a module
 * that needs another checks for it (index.ts installs files, workspace, repos, mlflow, jobs, clusters,
 * experiments/search, serving, in that order).
 */
export interface EmulatorModules {
  files?: FilesEmulator;
  workspace?: WorkspaceEmulator;
  repos?: ReposEmulator;
  mlflow?: MlflowEmulator;
  jobs?: JobsStore;
  clusters?: ClustersEmulator;
  experimentsSearch?: ExperimentSearch;
  serving?: ServingEmulator;
}
