/** The CLI's usage error and exit codes, shared by the option parsing (main.ts) and the replay (replay.ts). */

/** A usage or input error: printed on stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';

  /** `hint`: also point to --help (for flag errors, not for an unreadable file). */
  constructor(
    message: string,
    readonly hint = true,
  ) {
    super(message);
  }
}

/**
 * Exit codes a CI step can test. `notSameRows` and `sumsDiffer` are the replay's (`--spark-sums`): the file does
 * not hold the rows and scores Spark compared (the fingerprint differs), or it does but another sum differs.
 */
export const EXIT = { ok: 0, internal: 1, badInput: 2, kept: 3, notSameRows: 4, sumsDiffer: 5 } as const;
