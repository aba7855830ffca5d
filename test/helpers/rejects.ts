import assert from 'node:assert/strict';
import { DatabricksApiError } from '../../src/databricks/errors';

/** The error `p` rejects with (typed as the client's error, which the callers then assert on); fails if it resolves. */
export async function rejects(p: Promise<unknown>): Promise<DatabricksApiError> {
  try {
    await p;
  } catch (e) {
    return e as DatabricksApiError;
  }
  assert.fail('expected a rejection');
}

/**
 * Awaits `p`, asserting a DatabricksApiError with exactly this status and error code, and a message equal
 * to `message` (a string) or matching it (a RegExp); returns the error for further assertions.
 */
export async function rejectsWith(p: Promise<unknown>, status: number, code: string | number, message?: string | RegExp): Promise<DatabricksApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof DatabricksApiError, `expected DatabricksApiError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    assert.equal(e.status, status, e.message);
    assert.equal(e.errorCode, code, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail('expected a rejection');
}
