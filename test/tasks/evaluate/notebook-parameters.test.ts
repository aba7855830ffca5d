/**
 * The task and the bundled scoring notebook name the same parameters: every base_parameters key the task can
 * send is a widget the notebook reads (its PARAMETERS tuple), and the notebook reads nothing the task never
 * sends. A parameter renamed on one side only would otherwise reach the notebook as a parameter it never reads,
 * silently ignored, while the notebook reads its own widget's empty default.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FEATURE_PARAMETER_NAMES, PARAMETER_NAMES, SCALE_PARAMETER_NAMES } from '../../../src/tasks/evaluate/scoring';

const NOTEBOOK = path.resolve(__dirname, '..', '..', '..', '..', 'tasks', 'DatabricksEvaluatePromoteV1', 'notebooks', 'evaluate_models.py');

function notebookParameters(): string[] {
  const source = readFileSync(NOTEBOOK, 'utf8');
  const tuple = /^PARAMETERS = \(([^)]*)\)/m.exec(source);
  assert.ok(tuple, 'evaluate_models.py defines PARAMETERS = (...)');
  return [...tuple[1].matchAll(/"([a-z_]+)"/g)].map((m) => m[1]);
}

describe('Evaluate & Promote: the scoring notebook reads the parameters the task sends', () => {
  it('PARAMETERS in evaluate_models.py is exactly the base, feature (issue 20) and scale (issue 23) parameter names, in that order', () => {
    assert.deepEqual(notebookParameters(), [...PARAMETER_NAMES, ...FEATURE_PARAMETER_NAMES, ...SCALE_PARAMETER_NAMES]);
    assert.deepEqual(
      [...SCALE_PARAMETER_NAMES, ...FEATURE_PARAMETER_NAMES],
      ['local_row_limit', 'comparison', 'row_key_column', 'problem_type', 'slice_columns'],
    );
  });
});
