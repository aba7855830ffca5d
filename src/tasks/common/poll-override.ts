/**
 * Undocumented test hook shared by the tasks that poll Databricks: `DATABRICKS_MLOPS_POLL_INTERVAL_MS`
 * overrides the first poll interval and its cap (ms), so a bundled task can run against the local emulator
 * without waiting seconds between polls.
 */
export function pollOverride(): { initialIntervalMs?: number; maxIntervalMs?: number } | undefined {
  const raw = process.env.DATABRICKS_MLOPS_POLL_INTERVAL_MS;
  if (!raw || !/^\d+$/.test(raw)) return undefined;
  const ms = Math.max(10, Number(raw));
  return { initialIntervalMs: ms, maxIntervalMs: ms * 4 };
}
