/**
 * The agent's cancel window, without the task library, so tasks (which never load it) can plan their
 * cleanup: on cancel the agent sends SIGINT, waits 7.5 s, then SIGTERM and 2.5 s more
 * (microsoft/azure-pipelines-agent, ProcessInvoker `_sigintTimeout` = 7500 ms and `_sigtermTimeout` =
 * 2500 ms in `CancelAndKillProcessTree`). The adapter (entry.ts) ends the process once this budget is spent.
 */
export const CANCEL_CLEANUP_BUDGET_MS = 5000;
