/**
 * How often each wait polls, in one place: the first interval and its cap (intervals grow 1.5x in
 * wait.ts). A caller's options override them; the tasks' test hook (DATABRICKS_MLOPS_POLL_INTERVAL_MS)
 * shortens them against the local emulator.
 */
export const POLL_DEFAULTS = {
  /** A job run (`jobs/runs/get`): 2 s growing to 30 s; wait.ts's DEFAULT_WAIT and the Jobs client start from it. */
  jobRun: { initialIntervalMs: 2000, maxIntervalMs: 30_000 },
  /** A serving endpoint's config update (`serving-endpoints/{name}`): minutes long, so no faster than 5 s. */
  servingEndpoint: { initialIntervalMs: 5000, maxIntervalMs: 30_000 },
  /** A model version leaving PENDING_REGISTRATION (`model-versions/get`): usually seconds. */
  modelVersion: { initialIntervalMs: 1000, maxIntervalMs: 10_000 },
} as const;
