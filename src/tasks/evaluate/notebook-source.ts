/**
 * The scoring notebook, bundled into the task as text (esbuild's `.py` text loader), so the task folder
 * needs no file beside index.js. Only the bundle can load this module; tests read the .py file directly.
 */
import source from '../../../tasks/DatabricksEvaluatePromoteV1/notebooks/evaluate_models.py';

export const SCORING_NOTEBOOK_SOURCE: string = source;
