/**
 * The bundled notebooks, included in the task as text (esbuild's `.py` text loader), so the task folder
 * needs no file beside index.js. Only the bundle can load this module; tests read the .py files directly
 * (and compose the scoring notebook with notebook-compose.ts, as here).
 */
import registerSource from '../../../tasks/DatabricksEvaluatePromoteV1/notebooks/register_model.py';
import scoringSource from '../../../tasks/DatabricksEvaluatePromoteV1/notebooks/evaluate_models.py';
import sparkCompareSource from '../../../tasks/DatabricksEvaluatePromoteV1/notebooks/spark_compare.py';
import sparkSqlSource from '../../../tasks/DatabricksEvaluatePromoteV1/notebooks/spark_sql.py';
import { composeNotebookSource } from './notebook-compose';

/**
 * Scores the candidates and production on the evaluation rows (predictionsSource = scoringNotebook), with its
 * helper modules for the comparison on Spark inlined (the workspace receives one notebook).
 */
export const SCORING_NOTEBOOK_SOURCE: string = composeNotebookSource(scoringSource, { spark_compare: sparkCompareSource, spark_sql: sparkSqlSource });
/** Registers a Unity Catalog model version with MLflow's own client (upload + finalize happen on Databricks). */
export const REGISTER_NOTEBOOK_SOURCE: string = registerSource;
