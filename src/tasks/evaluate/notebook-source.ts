/**
 * The bundled notebooks, included in the task as text (esbuild's `.py` text loader), so the task folder
 * needs no file beside index.js. Only the bundle can load this module; tests read the .py files directly.
 */
import registerSource from '../../../tasks/DatabricksEvaluatePromoteV1/notebooks/register_model.py';
import scoringSource from '../../../tasks/DatabricksEvaluatePromoteV1/notebooks/evaluate_models.py';

/** Scores the candidates and production on the evaluation rows (predictionsSource = scoringNotebook). */
export const SCORING_NOTEBOOK_SOURCE: string = scoringSource;
/** Registers a Unity Catalog model version with MLflow's own client (upload + finalize happen on Databricks). */
export const REGISTER_NOTEBOOK_SOURCE: string = registerSource;
