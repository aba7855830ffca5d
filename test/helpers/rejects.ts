import assert from 'node:assert/strict';
import type { DatabricksApiError } from '../../src/databricks/errors';

/** The error `p` rejects with (typed as the client's error, which the callers then assert on); fails if it resolves. */
export async function rejects(p: Promise<unknown>): Promise<DatabricksApiError> {
  try {
    await p;
  } catch (e) {
    return e as DatabricksApiError;
  }
  assert.fail('expected a rejection');
}
