/**
 * Errors thrown by the engine. Both carry only a message meant for the user (the CLI prints it as is and
 * exits with code 2; the Evaluate & Promote task fails with it).
 */

/**
 * The predictions cannot be used: unreadable or truncated Arrow data, a missing or invalid label
 * column, non-finite or missing scores, columns of different lengths, no rows... The message names the
 * column and the problem, e.g. `column 'cand' has 3 NaN or infinite scores (first at row 17)`.
 */
export class PredictionsError extends Error {
  override name = 'PredictionsError';
  /** The column concerned, when there is one. */
  readonly column?: string;

  constructor(message: string, column?: string) {
    super(message);
    this.column = column;
  }
}

/** An option of `compareModels` is invalid (unknown metric, win rate outside (0, 1], unknown column...). */
export class InvalidOptionsError extends Error {
  override name = 'InvalidOptionsError';
}
