# Databricks notebook source
# MAGIC %md
# MAGIC # Score models for Evaluate & Promote
# MAGIC
# MAGIC Imported and run by the **Evaluate & Promote** Azure Pipelines task (or copy it into your own scoring job).
# MAGIC It scores every model on the same evaluation rows and writes one uncompressed Arrow IPC file; the statistics
# MAGIC (paired bootstrap, DeLong) run in the task. The file's layout depends on `problem_type`:
# MAGIC - binary classification: the label as int8 0/1 and one float64 column of class-1 scores per model;
# MAGIC - regression: the label as float64 and one float64 column of raw predictions per model;
# MAGIC - multiclass: the label as int32 class index and one FixedSizeList<Float64>[K] column of class probabilities per
# MAGIC   model, in the class order of the schema metadata `mlops.classes` (a JSON list of the original class values);
# MAGIC - slice columns (any problem type): copied as dictionary-encoded strings, a null as the segment `(null)`.
# MAGIC
# MAGIC Parameters (widgets): `models` (JSON list of `{"key": <column>, "uri": "runs:/<run>/model" | "models:/<model_id>" |
# MAGIC "models:/<name>/<version>"}`: an MLflow 2 run model, an MLflow 3 logged model, a registered version),
# MAGIC `evaluation_table` or `evaluation_query`, `label_column`, `max_rows` (0 or empty: all rows), `output_path`
# MAGIC (a `/Volumes/...` or `dbfs:/...` folder, unique per pipeline run; serverless compute cannot use `dbfs:/`),
# MAGIC `registry_uri` (`databricks`: workspace model registry, `databricks-uc`: Unity Catalog; the registry
# MAGIC `models:/<name>/<version>` is read from, set explicitly because MLflow's default depends on the compute and
# MAGIC MLflow version: Unity Catalog on serverless and with MLflow 3), `problem_type` (`binaryClassification`, also when
# MAGIC empty; `regression`; `multiclass`), `slice_columns` (comma-separated column names of the evaluation data; empty: none),
# MAGIC `local_row_limit` (empty: always score to the file; a positive whole number: above it the comparison runs on Spark),
# MAGIC `comparison` (JSON `{"metric", "method", "seed", "resamples", "unsupported"}`, with `local_row_limit`),
# MAGIC `row_key_column` (a column holding a distinct integer from 0 to 2^40 - 1 per row; needed on Spark, and copied into
# MAGIC the file as int64 when given).
# MAGIC
# MAGIC Exit value: `{"output_path": "<folder>/predictions.arrow", "rows": <n>}`, plus `"comparison": "local"` and
# MAGIC `"local_row_limit"` when a limit was given; above the limit `{"comparison": "spark", "rows", "local_row_limit",
# MAGIC "result": <integer sums>}` or `"result_path": "<folder>/spark-sums.json"` (docs/spark-notebook.md).

# COMMAND ----------

import datetime
import json
import math
import numbers
import os
import re
import shutil

import numpy as np
import pandas as pd

# BEGIN INLINED MODULES: the task ships one notebook, so src/tasks/evaluate/notebook-compose.ts replaces this block
# with the code of these modules (single-line `from <module> import <names>` statements only).
from spark_compare import GENERATOR_VERSION, KEY_LIMIT, LOSS_SCALE_BITS, seed64
from spark_sql import delong_bucket_offsets, delong_sums_from_rows, integer_text, render_delong_bucket_totals_sql, render_delong_cut_points_sql
from spark_sql import render_delong_sums_sql, render_fingerprint_sql, render_keyed_loss_sums_sql, render_loss_totals_sql, render_row_key_check_sql
from spark_sql import regression_scale_bits, render_keyed_regression_sums_sql, render_regression_fingerprint_max_sql, render_regression_fingerprint_sql
from spark_sql import render_regression_loss_totals_sql, render_regression_max_loss_sql
from spark_sql import render_keyed_rank_sums_sql, render_rank_totals_sql, render_keyed_ap_sums_sql, render_ap_totals_sql
# END INLINED MODULES

PARAMETERS = (
    "models",
    "evaluation_table",
    "evaluation_query",
    "label_column",
    "max_rows",
    "output_path",
    "registry_uri",
    "problem_type",
    "slice_columns",
    "local_row_limit",
    "comparison",
    "row_key_column",
)
REGISTRY_URIS = ("databricks", "databricks-uc")
BINARY = "binaryClassification"
REGRESSION = "regression"
MULTICLASS = "multiclass"
PROBLEM_TYPES = (BINARY, REGRESSION, MULTICLASS)
ARROW_CONF = "spark.sql.execution.arrow.pyspark.enabled"
OUTPUT_FILE_NAME = "predictions.arrow"
CLASSES_METADATA_KEY = "mlops.classes"
NULL_SEGMENT = "(null)"
ROW_SUM_TOLERANCE = 1e-6
# Rows read on the driver to learn each multiclass model's classes (and fail early) before the Spark job.
PROBE_ROWS = 100
# Arrow types the writer knows (see arrow_array); the fixed-size list takes its K from the matrix.
INT8, INT32, INT64, FLOAT64, DICTIONARY_STRING = "int8", "int32", "int64", "float64", "dictionary<int32, utf8>"
_FIXED_LIST = re.compile(r"^fixed_size_list<float64>\[(\d+)\]$")
# Spark SQL type names (DataFrame.dtypes) a slice column may have: each value names a segment.
_SLICE_TYPES = re.compile(r"^(string|varchar\(\d+\)|char\(\d+\)|tinyint|smallint|int|bigint|boolean|date|decimal\(\d+,\d+\))$")
_INTEGRAL_TYPES = ("tinyint", "smallint", "int", "bigint")
_COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# ---- the comparison on Spark (issue 23; docs/spark-notebook.md)
COMPARISON_METHODS = ("delong", "bootstrap")
# What the Spark path computes: ROC AUC by DeLong's exact test, the mean-type losses and (opt in) ROC AUC by the keyed
# Poisson bootstrap.
SPARK_COMPARISONS = (("delong", "roc_auc"), ("bootstrap", "log_loss"), ("bootstrap", "brier"), ("bootstrap", "roc_auc"), ("bootstrap", "average_precision"))
# Regression on Spark: RMSE and MAE by the keyed bootstrap, per-row losses in fixed point at a data-derived scale.
SPARK_REGRESSION_METRICS = ("rmse", "mae")
SPARK_VIEW = "mlops_eval_scores"
SPARK_SCORES_DIR = "spark-scores"
SUMS_FILE_NAME = "spark-sums.json"
SUMS_FORMAT = "mlopspipelines.spark-sums/v1"
# Above this many bytes the sums go to a file: the Jobs API's runs/get-output "returns the first 5 MB of the output",
# and dbutils.notebook.exit values are limited as well, so the exit value stays far below both.
INLINE_SUMS_LIMIT = 1000000
MAX_KEYED_RESAMPLES = 1 << 20
MAX_KEYED_ATTEMPTS = 16
# floor(s * 2^40) of the fingerprint must fit a BIGINT.
SCORE_LIMIT = float(1 << 23)
# Each DeLong bucket (a window partition of the tie table) covers about this many rows per model.
DELONG_ROWS_PER_BUCKET = 1000000
# The agent's memory per row and model for the local comparison (1.29 GB for 2e7 rows x 3 models at B = 200, issue 23).
AGENT_BYTES_PER_ROW_AND_MODEL = 22
_MODEL_URI = re.compile(r"^(runs:/[0-9A-Za-z]+/\S+|models:/[^/\s]+/(\d+|@?[A-Za-z0-9_\-]+)|models:/m-[0-9A-Za-z]+)$")


class ScoringError(Exception):
    """A problem with the parameters, the data or a model; the message says what to fix."""


def parse_models(text):
    """Parses the `models` parameter into a list of {"key", "uri"} dicts, validating every entry."""
    try:
        models = json.loads(text or "")
    except ValueError as e:
        raise ScoringError("models must be a JSON list of {\"key\", \"uri\"} objects: %s" % e)
    if not isinstance(models, list) or not models:
        raise ScoringError("models must be a non-empty JSON list of {\"key\", \"uri\"} objects")
    seen = set()
    parsed = []
    for i, m in enumerate(models):
        if not isinstance(m, dict) or not isinstance(m.get("key"), str) or not isinstance(m.get("uri"), str):
            raise ScoringError("models[%d] must be an object with string fields key and uri" % i)
        key, uri = m["key"], m["uri"].strip()
        if not _COLUMN_NAME.match(key):
            raise ScoringError("models[%d].key %r is not a valid column name (letters, digits, _; at most 128)" % (i, key))
        if key in seen:
            raise ScoringError("models[%d].key %r is used twice" % (i, key))
        if not _MODEL_URI.match(uri):
            raise ScoringError("models[%d].uri %r must be runs:/<run_id>/<path>, models:/<model_id> or models:/<name>/<version>" % (i, uri))
        seen.add(key)
        parsed.append({"key": key, "uri": uri})
    return parsed


def parse_max_rows(text):
    """`max_rows`: empty or 0 means every row; otherwise a positive whole number."""
    text = (text or "").strip()
    if text == "" or text == "0":
        return None
    if not re.match(r"^\d+$", text):
        raise ScoringError("max_rows must be a whole number, got %r" % text)
    return int(text)


def parse_problem_type(text):
    """`problem_type`: empty (older tasks and user jobs that do not pass it) means binary classification."""
    value = (text or "").strip()
    if value == "":
        return BINARY
    if value not in PROBLEM_TYPES:
        raise ScoringError("problem_type must be binaryClassification, regression or multiclass (empty means binaryClassification), got %r" % value)
    return value


def parse_slice_columns(text):
    """`slice_columns`: column names separated by commas (or newlines); empty means no slices."""
    names = [n.strip() for n in re.split(r"[,\n]", text or "")]
    names = [n for n in names if n]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ScoringError("slice_columns names %r twice" % twice)
    return names


def parse_local_row_limit(text):
    """`local_row_limit`: empty means no switch (always the local path); otherwise a positive whole number."""
    text = (text or "").strip()
    if text == "":
        return None
    if not re.match(r"^[0-9]+$", text) or int(text) < 1:
        raise ScoringError("local_row_limit must be a positive whole number (empty: always compare on the agent), got %r" % text)
    return int(text)


def parse_comparison(text):
    """`comparison`: the JSON object the task sends with local_row_limit, saying what the Spark path would compute."""
    try:
        value = json.loads(text or "")
    except ValueError as e:
        raise ScoringError("comparison must be a JSON object {\"metric\", \"method\", \"seed\", \"resamples\", \"unsupported\"}: %s" % e)
    if not isinstance(value, dict):
        raise ScoringError("comparison must be a JSON object {\"metric\", \"method\", \"seed\", \"resamples\", \"unsupported\"}, got %s" % type(value).__name__)
    metric, method, seed, resamples = value.get("metric"), value.get("method"), value.get("seed"), value.get("resamples")
    unsupported = value.get("unsupported")
    if not isinstance(metric, str) or not re.match(r"^[a-z_0-9]+$", metric):
        raise ScoringError("comparison.metric must be a metric name such as roc_auc, log_loss or brier, got %r" % (metric,))
    if method not in COMPARISON_METHODS:
        raise ScoringError("comparison.method must be delong or bootstrap, got %r" % (method,))
    if isinstance(seed, bool) or not isinstance(seed, (str, int)):
        raise ScoringError("comparison.seed must be the seed's text (a string), got %r" % (seed,))
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 1:
        raise ScoringError("comparison.resamples must be a positive whole number, got %r" % (resamples,))
    if unsupported is not None and (not isinstance(unsupported, str) or not unsupported.strip()):
        raise ScoringError("comparison.unsupported must be null or a reason in words, got %r" % (unsupported,))
    return {"metric": metric, "method": method, "seed": str(seed), "resamples": resamples, "unsupported": unsupported}


def parse_row_key_column(text):
    """`row_key_column`: empty (none) or a column name."""
    name = (text or "").strip()
    if name == "":
        return None
    if not _COLUMN_NAME.match(name):
        raise ScoringError("row_key_column %r is not a column name (letters, digits, _; at most 128)" % name)
    return name


def optional_parameter(get, name):
    """The switch's parameters are optional: a scoring job built from a copy of this notebook may define no widget for
    them, and dbutils.widgets.get raises for an undefined widget, which then means "not given"."""
    try:
        return get(name)
    except Exception:  # noqa: BLE001 (InputWidgetNotDefined arrives as a py4j error; any refusal means absent)
        return ""


def parse_switch(get, label, models, slice_columns):
    """local_row_limit, comparison and row_key_column, validated together."""
    limit = parse_local_row_limit(optional_parameter(get, "local_row_limit"))
    comparison = None
    if limit is not None:
        if not (optional_parameter(get, "comparison") or "").strip():
            raise ScoringError("comparison is required with local_row_limit (it says what to compute if the rows are above the limit)")
        comparison = parse_comparison(optional_parameter(get, "comparison"))
    key = parse_row_key_column(optional_parameter(get, "row_key_column"))
    if key is not None:
        if key == label:
            raise ScoringError("row_key_column %r is the label column" % key)
        if key in set(m["key"] for m in models):
            raise ScoringError("row_key_column %r collides with the model key %r (both would be columns of the predictions file)" % (key, key))
        if key in slice_columns:
            raise ScoringError("row_key_column %r is also a slice column" % key)
    return {"local_row_limit": limit, "comparison": comparison, "row_key_column": key}


def parse_parameters(get):
    """Reads and validates every parameter through `get(name) -> str` (dbutils.widgets.get)."""
    table = (get("evaluation_table") or "").strip()
    query = (get("evaluation_query") or "").strip()
    if bool(table) == bool(query):
        raise ScoringError("set exactly one of evaluation_table and evaluation_query")
    label = (get("label_column") or "").strip()
    if not label:
        raise ScoringError("label_column is required")
    models = parse_models(get("models"))
    for m in models:
        if m["key"] == label:
            raise ScoringError("model key %r collides with the label column" % m["key"])
    slice_columns = parse_slice_columns(get("slice_columns"))
    keys = set(m["key"] for m in models)
    for name in slice_columns:
        if name == label:
            raise ScoringError("slice column %r is the label column" % name)
        if name in keys:
            raise ScoringError("slice column %r collides with the model key %r (both would be columns of the predictions file)" % (name, name))
    registry_uri = (get("registry_uri") or "").strip()
    if registry_uri not in REGISTRY_URIS:
        raise ScoringError(
            "registry_uri must be databricks (workspace model registry) or databricks-uc (Unity Catalog), got %r; "
            "MLflow's default registry differs between serverless/MLflow 3 (Unity Catalog) and classic MLflow 2 clusters, so it is set explicitly" % registry_uri
        )
    switch = parse_switch(get, label, models, slice_columns)
    return {
        "registry_uri": registry_uri,
        "models": models,
        "evaluation_table": table or None,
        "evaluation_query": query or None,
        "label_column": label,
        "max_rows": parse_max_rows(get("max_rows")),
        "output_path": validate_output_dir(get("output_path")),
        "problem_type": parse_problem_type(get("problem_type")),
        "slice_columns": slice_columns,
        "local_row_limit": switch["local_row_limit"],
        "comparison": switch["comparison"],
        "row_key_column": switch["row_key_column"],
    }


def validate_output_dir(path):
    """The output folder: /Volumes/<catalog>/<schema>/<volume>/... or dbfs:/..., without `..` segments."""
    path = (path or "").strip().rstrip("/")
    if not (re.match(r"^/Volumes/[^/]+/[^/]+/[^/]+(/.*)?$", path) or re.match(r"^dbfs:/.+", path)):
        raise ScoringError("output_path must be a /Volumes/<catalog>/<schema>/<volume>/... or dbfs:/... folder, got %r" % path)
    if ".." in path.split("/"):
        raise ScoringError("output_path must not contain '..'")
    return path


def output_file(output_dir):
    """The Arrow file the task downloads, named in the form the task passed (not the FUSE form)."""
    return output_dir.rstrip("/") + "/" + OUTPUT_FILE_NAME


def local_path(path):
    """The FUSE path the driver and executors can open: dbfs:/x -> /dbfs/x; /Volumes/... unchanged."""
    if path.startswith("dbfs:/"):
        return "/dbfs/" + path[len("dbfs:/"):].lstrip("/")
    return path


def exit_value(path, rows, local_row_limit=None):
    """The JSON the notebook exits with; the task reads it from runs/get-output. With a local row limit it also says
    which path ran (the rows were at or under the limit)."""
    value = {"output_path": path, "rows": int(rows)}
    if local_row_limit is not None:
        value.update({"comparison": "local", "local_row_limit": int(local_row_limit)})
    return json.dumps(value, sort_keys=True)


def binary_labels(values, label_column):
    """Labels as int8 0/1; accepts booleans and numbers that are exactly 0 or 1. Both classes must occur."""
    out = binary_label_values(values, label_column)
    if out.nunique() < 2:
        raise ScoringError("label column %r has a single class; both 0 and 1 are needed to compare models" % label_column)
    return out.to_numpy()


def binary_label_values(values, label_column):
    """Labels as an int8 0/1 Series; booleans and numbers that are exactly 0 or 1 (any batch of the rows)."""
    s = pd.Series(values)
    if s.isna().any():
        raise ScoringError("label column %r has %d missing or non-numeric values" % (label_column, int(s.isna().sum())))
    if s.dtype == bool:
        out = s.astype("int8")
    else:
        try:
            numeric = pd.to_numeric(s)
        except (ValueError, TypeError):
            raise ScoringError("label column %r must be 0/1 or boolean" % label_column)
        bad = ~numeric.isin([0, 1])
        if bad.any():
            raise ScoringError("label column %r must be 0/1 or boolean; found %r" % (label_column, numeric[bad].iloc[0]))
        out = numeric.astype("int8")
    return out


def row_keys(values, key_column):
    """The row keys of a batch as int64: integers from 0 to 2^40 - 1, none missing (distinctness is checked on all rows)."""
    numeric = pd.to_numeric(pd.Series(values), errors="coerce")
    missing = numeric.isna()
    if missing.any():
        raise ScoringError("row_key_column %r has %d missing or non-numeric values; every row needs its own integer key" % (key_column, int(missing.sum())))
    keys = numeric.to_numpy()
    bad = (keys < 0) | (keys >= KEY_LIMIT) | (keys != np.floor(keys))
    if bad.any():
        raise ScoringError("row_key_column %r holds %r, which is not an integer from 0 to 2^40 - 1 (1099511627776)" % (key_column, keys[bad][0].item()))
    return keys.astype("int64")


def distinct_row_keys(keys, key_column):
    """All rows' keys, checked for repeats (a repeated key would give its rows the same weight in every resample)."""
    keys = np.asarray(keys, dtype="int64")
    unique, counts = np.unique(keys, return_counts=True)
    if len(unique) != len(keys):
        raise ScoringError("row_key_column %r repeats keys (%d rows share a key with another row, e.g. %d); each row needs a distinct key" % (key_column, int(counts[counts > 1].sum()), int(unique[counts > 1][0])))
    return keys


def underlying_model(pyfunc_model):
    """The flavor's own model object behind a pyfunc wrapper (for predict_proba), or None."""
    get_raw = getattr(pyfunc_model, "get_raw_model", None)
    if callable(get_raw):
        try:
            return get_raw()
        except Exception:  # not every flavor supports it; fall back to the private wrapper below
            pass
    impl = getattr(pyfunc_model, "_model_impl", None)
    if impl is None:
        return None
    for attr in ("sklearn_model", "xgb_model", "lgb_model", "python_model"):
        inner = getattr(impl, attr, None)
        if inner is not None:
            return inner
    return impl


def positive_class_index(classes):
    """Index of class 1 in a binary classifier's classes_ (1, True or "1")."""
    classes = list(classes)
    if len(classes) != 2:
        raise ScoringError("expected a binary classifier, got classes %r" % (classes,))
    for i, c in enumerate(classes):
        if isinstance(c, (bool, np.bool_)) and c:
            return i
        if not isinstance(c, (bool, np.bool_)) and str(c).strip().lower() in ("1", "1.0", "true"):
            return i
    raise ScoringError("cannot tell which class is positive in %r; train with 0/1 labels" % (classes,))


def feature_frame(pyfunc_model, raw, pdf, label_column):
    """The columns the model was trained on, without the label."""
    names = getattr(raw, "feature_names_in_", None) if raw is not None else None
    if names is None:
        metadata = getattr(pyfunc_model, "metadata", None)
        schema = metadata.get_input_schema() if metadata is not None and hasattr(metadata, "get_input_schema") else None
        if schema is not None and hasattr(schema, "input_names"):
            names = [n for n in schema.input_names() if n is not None]
    features = pdf.drop(columns=[label_column])
    if names is not None and len(names) > 0:
        missing = [n for n in names if n not in features.columns]
        if missing:
            raise ScoringError("the evaluation data lacks feature columns %s" % ", ".join(map(str, missing[:10])))
        features = features[list(names)]
    return features


def scores_from_prediction(pred):
    """Turns a pyfunc prediction into one score per row: a 2-column output gives column 1."""
    if isinstance(pred, pd.DataFrame):
        if pred.shape[1] == 1:
            return pred.iloc[:, 0].to_numpy()
        for name in ("probability", "probabilities", "score", "1", 1):
            if name in pred.columns:
                return scores_from_prediction(np.vstack(pred[name].to_numpy()) if pred[name].dtype == object else pred[name].to_numpy())
        if pred.shape[1] == 2:
            return pred.iloc[:, 1].to_numpy()
        raise ScoringError("cannot pick a score column from prediction columns %r" % (list(pred.columns),))
    if isinstance(pred, pd.Series):
        return pred.to_numpy()
    arr = np.asarray(pred)
    if arr.ndim == 2 and arr.shape[1] == 2:
        return arr[:, 1]
    if arr.ndim == 2 and arr.shape[1] == 1:
        return arr[:, 0]
    if arr.ndim == 1:
        return arr
    raise ScoringError("a prediction of shape %r is not one score per row" % (arr.shape,))


def model_scores(pyfunc_model, pdf, label_column):
    """Class-1 probabilities when the model has predict_proba, else the raw (continuous) prediction."""
    raw = underlying_model(pyfunc_model)
    features = feature_frame(pyfunc_model, raw, pdf, label_column)
    proba = getattr(raw, "predict_proba", None) if raw is not None else None
    if callable(proba):
        p = np.asarray(proba(features))
        if p.ndim == 2:
            scores = p[:, positive_class_index(getattr(raw, "classes_", [0, 1]))]
        else:
            scores = p
    else:
        scores = scores_from_prediction(pyfunc_model.predict(features))
    try:
        scores = np.asarray(scores, dtype="float64")
    except (ValueError, TypeError):
        raise ScoringError("the model returned non-numeric predictions")
    if scores.shape != (len(pdf),):
        raise ScoringError("the model returned %r scores for %d rows" % (scores.shape, len(pdf)))
    return scores


def check_scores(key, scores):
    """Finite, and not hard 0/1 labels (a ranking metric on hard labels is meaningless)."""
    scores = np.asarray(scores, dtype="float64")
    bad = ~np.isfinite(scores)
    if bad.any():
        raise ScoringError("model %s produced %d non-finite scores (NaN or infinity)" % (key, int(bad.sum())))
    distinct = np.unique(scores)
    if len(distinct) <= 2 and set(distinct.tolist()) <= {0.0, 1.0}:
        raise ScoringError(
            "model %s returned hard 0/1 labels, not scores. Log it so that its pyfunc output is the class-1 probability: "
            "scikit-learn with predict_proba available (e.g. mlflow.sklearn.log_model(..., pyfunc_predict_fn='predict_proba')); "
            "a Spark ML model (mlflow.spark.log_model) with a 'probability' output column, e.g. a final stage that keeps "
            "probability (vector_to_array(probability)[1]) or a mlflow.pyfunc.PythonModel wrapper whose predict returns it; "
            "or any model that returns a continuous score" % key
        )


# ---------------------------------------------------------------- regression


def regression_labels(values, label_column):
    """Labels as finite float64 (the batch scorer carried them as float64, non-numeric values as NaN)."""
    labels = pd.to_numeric(pd.Series(values), errors="coerce").astype("float64").to_numpy()
    bad = ~np.isfinite(labels)
    if bad.any():
        raise ScoringError(
            "label column %r has %d missing, non-numeric or infinite values (first at row %d); regression needs a finite number on every row"
            % (label_column, int(bad.sum()), int(np.argmax(bad)))
        )
    return labels


def regression_predictions(pyfunc_model, pdf, label_column, key):
    """The model's raw pyfunc prediction as float64: one number per row (never predict_proba)."""
    features = feature_frame(pyfunc_model, underlying_model(pyfunc_model), pdf, label_column)
    pred = pyfunc_model.predict(features)
    if isinstance(pred, pd.DataFrame):
        if pred.shape[1] != 1:
            raise ScoringError(
                "model %s returned %d prediction columns %r; regression needs one numeric prediction per row" % (key, pred.shape[1], [str(c) for c in pred.columns])
            )
        pred = pred.iloc[:, 0]
    arr = pred.to_numpy() if isinstance(pred, pd.Series) else np.asarray(pred)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or len(arr) != len(pdf):
        raise ScoringError("model %s returned predictions of shape %r for %d rows; regression needs one number per row" % (key, arr.shape, len(pdf)))
    kind = pd.api.types.infer_dtype(arr, skipna=True)
    if len(arr) > 0 and kind not in ("floating", "integer", "mixed-integer-float", "decimal", "empty"):
        raise ScoringError("model %s returned non-numeric predictions (%s, e.g. %r); regression needs one number per row" % (key, kind, arr[0]))
    return arr.astype("float64")


def check_predictions(key, predictions):
    """Regression predictions must be finite (the metrics are sums over rows)."""
    bad = ~np.isfinite(np.asarray(predictions, dtype="float64"))
    if bad.any():
        raise ScoringError("model %s produced %d non-finite predictions (NaN or infinity; first at row %d)" % (key, int(bad.sum()), int(np.argmax(bad))))


# ---------------------------------------------------------------- multiclass


def class_value(value):
    """A class as the metadata's JSON carries it: integers and floats stay numbers, booleans become "true"/"false",
    anything else (strings included) its string."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Number):
        return float(value)
    return str(value)


def class_key(value):
    """Identity of a class or a label value: numbers compare by value (1 == 1.0), strings as strings ("1" != 1)."""
    v = class_value(value)
    return ("number", float(v)) if isinstance(v, (int, float)) else ("string", v)


def hard_label_error(key):
    return ScoringError(
        "model %s returned one value per row (hard labels), not class probabilities; multiclass metrics need one probability "
        "per class. Log a model whose probabilities can be read: a scikit-learn-like classifier with predict_proba and classes_ "
        "(e.g. mlflow.sklearn.log_model), or a mlflow.pyfunc.PythonModel whose predict returns a DataFrame with one "
        "probability column per class, named by the class" % key
    )


def probabilities_from_prediction(key, pred):
    """(matrix, classes) from a pyfunc output with one numeric probability column per class, named by the class."""
    if isinstance(pred, pd.DataFrame) and pred.shape[1] >= 2:
        if not all(pd.api.types.is_numeric_dtype(pred[c]) for c in pred.columns):
            raise ScoringError(
                "model %s returned prediction columns %r; multiclass scoring needs one numeric probability column per class, "
                "named by the class (or a model with predict_proba and classes_)" % (key, [str(c) for c in pred.columns])
            )
        return pred.to_numpy(), list(pred.columns)
    arr = pred.to_numpy() if isinstance(pred, (pd.DataFrame, pd.Series)) else np.asarray(pred)
    if arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] == 1):
        raise hard_label_error(key)
    raise ScoringError(
        "model %s returned an array of shape %r without class names; return a DataFrame with one probability column per class, "
        "named by the class, or log a model with predict_proba and classes_" % (key, arr.shape)
    )


def model_class_probabilities(pyfunc_model, pdf, label_column, key):
    """The model's class probabilities (rows x classes, in the model's own class order) and its classes.

    predict_proba of the underlying model with its classes_ when it has them, because a scikit-learn pyfunc's predict
    gives hard labels: MLflow's _SklearnModelWrapper.predict returns sklearn_model.predict(data) unless the model was
    logged with pyfunc_predict_fn, and PyFuncModel.get_raw_model() returns the flavor's model where the wrapper
    implements get_raw_model (mlflow/sklearn/__init__.py, mlflow/pyfunc/__init__.py in mlflow/mlflow). scikit-learn
    orders predict_proba's columns like classes_ ("The returned estimates for all classes are ordered by the label of
    classes", LogisticRegression.predict_proba). Otherwise the pyfunc output, when it is one column per class."""
    raw = underlying_model(pyfunc_model)
    features = feature_frame(pyfunc_model, raw, pdf, label_column)
    proba = getattr(raw, "predict_proba", None) if raw is not None else None
    if callable(proba):
        classes = getattr(raw, "classes_", None)
        if classes is None:
            raise ScoringError("model %s has predict_proba but no classes_, so its probability columns cannot be matched to classes" % key)
        matrix, classes = proba(features), list(classes)
    else:
        matrix, classes = probabilities_from_prediction(key, pyfunc_model.predict(features))
    matrix = np.asarray(matrix)
    if matrix.ndim == 1:
        raise hard_label_error(key)
    try:
        matrix = matrix.astype("float64")
    except (ValueError, TypeError):
        raise ScoringError("model %s returned non-numeric probabilities" % key)
    if matrix.shape != (len(pdf), len(classes)):
        raise ScoringError("model %s returned probabilities of shape %r for %d rows and %d classes" % (key, matrix.shape, len(pdf), len(classes)))
    return matrix, [class_value(c) for c in classes]


def align_to_classes(key, matrix, classes, shared_classes, reference_key):
    """Reorders a model's probability columns into the shared class order. Every model must have the same classes."""
    own = [class_key(c) for c in classes]
    if len(set(own)) != len(own):
        raise ScoringError("model %s lists a class twice: %s" % (key, json.dumps(classes)))
    if len(classes) < 2:
        raise ScoringError("model %s has classes %s; multiclass needs at least 2 classes" % (key, json.dumps(classes)))
    shared = [class_key(c) for c in shared_classes]
    if set(own) != set(shared):
        raise ScoringError(
            "model %s has classes %s but model %s has classes %s; every model must be trained on the same classes"
            % (key, json.dumps(classes), reference_key, json.dumps(shared_classes))
        )
    return matrix[:, [own.index(k) for k in shared]]


def check_probabilities(key, matrix, classes):
    """Finite, non-negative, rows summing to 1 within ROW_SUM_TOLERANCE, and not one-hot hard labels."""
    bad = ~np.isfinite(matrix)
    if bad.any():
        row = int(np.argmax(bad.any(axis=1)))
        raise ScoringError("model %s produced %d non-finite probabilities (NaN or infinity; first at row %d)" % (key, int(bad.sum()), row))
    negative = matrix < 0
    if negative.any():
        row = int(np.argmax(negative.any(axis=1)))
        col = int(np.argmax(negative[row]))
        raise ScoringError("model %s produced a negative probability %r at row %d (class %s)" % (key, float(matrix[row, col]), row, json.dumps(classes[col])))
    sums = matrix.sum(axis=1)
    off = np.abs(sums - 1.0) > ROW_SUM_TOLERANCE
    if off.any():
        row = int(np.argmax(off))
        raise ScoringError(
            "model %s: the probabilities of row %d sum to %r, not 1 (tolerance %g; %d rows are off)" % (key, row, float(sums[row]), ROW_SUM_TOLERANCE, int(off.sum()))
        )
    if len(matrix) > 0 and np.all((matrix == 0.0) | (matrix == 1.0)):
        raise ScoringError("model %s returned one-hot hard labels (every probability 0 or 1), not probabilities; multiclass metrics need class probabilities" % key)


def multiclass_labels(values, label_column, classes):
    """Each label value's index in the shared class order, as int32; a value that is not a class fails, naming it."""
    series = pd.Series(values).reset_index(drop=True)
    missing = series.isna()
    if missing.any():
        raise ScoringError("label column %r has %d missing values (first at row %d)" % (label_column, int(missing.sum()), int(np.argmax(missing.to_numpy()))))
    index_of = {class_key(c): i for i, c in enumerate(classes)}
    codes, uniques = pd.factorize(series)
    lookup = np.array([index_of.get(class_key(u), -1) for u in uniques], dtype="int64")
    labels = lookup[codes]
    unknown = labels < 0
    if unknown.any():
        row = int(np.argmax(unknown))
        raise ScoringError(
            "label column %r has the value %r at row %d, which is not one of the models' classes %s (rows with such values: %d)"
            % (label_column, class_value(series.iloc[row]), row, json.dumps(classes), int(unknown.sum()))
        )
    return labels.astype("int32")


def probe_classes(df, models, model_dirs, label_column, load_model):
    """The shared class order (the first model's) and the model it comes from, checked for every model on a few rows
    on the driver, so that a model without probabilities or with other classes fails before the Spark job."""
    sample = df.limit(PROBE_ROWS).toPandas()
    if len(sample) == 0:
        raise ScoringError("the evaluation data has no rows")
    shared, reference = None, None
    for m in models:
        matrix, classes = model_class_probabilities(load_model(model_dirs[m["key"]]), sample, label_column, m["key"])
        if shared is None:
            shared, reference = classes, m["key"]
        align_to_classes(m["key"], matrix, classes, shared, reference)
    return shared, reference


# ---------------------------------------------------------------- slices


def slice_column_types(df, slice_columns):
    """The Spark SQL type of each slice column; a missing column or a type without segment names fails."""
    columns = list(df.columns)
    types = dict(df.dtypes)
    for name in slice_columns:
        if name not in columns:
            listed = ", ".join(columns[:100]) + (" ... (%d more)" % (len(columns) - 100) if len(columns) > 100 else "")
            raise ScoringError("slice column %r is not in the evaluation data (columns: %s)" % (name, listed))
        if not _SLICE_TYPES.match(types[name]):
            raise ScoringError(
                "slice column %r has type %s; a slice column must be a string, integer, boolean, date or decimal column "
                "(cast or bucket it in evaluation_query)" % (name, types[name])
            )
    return [(name, types[name]) for name in slice_columns]


def segment_name(value, spark_type):
    """A slice value as its segment name. Integer columns arrive as floats when they hold nulls, so they are printed
    as integers; booleans as Spark SQL prints them; a null is the segment "(null)"."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return NULL_SEGMENT
    if spark_type in _INTEGRAL_TYPES:
        return str(int(value))
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def slice_strings(values, spark_type):
    return [segment_name(v, spark_type) for v in pd.Series(values).tolist()]


# ---------------------------------------------------------------- scoring on Spark


def label_out():
    return "__label"


def key_out():
    return "__key"


def slice_out(j):
    return "__slice_%d" % j


def model_out(i, k=None):
    """The mapInPandas output columns are named by position, so no table column name reaches the schema string."""
    return "__model_%d" % i if k is None else "__model_%d_%d" % (i, k)


def scoring_plan(params, df):
    """What the batch scorer produces and the driver assembles; the label and slice columns are checked here."""
    label = params["label_column"]
    if label not in df.columns:
        raise ScoringError("the evaluation data has no label column %r (columns: %s)" % (label, ", ".join(df.columns[:20])))
    key = params.get("row_key_column")
    if key is not None:
        if key not in df.columns:
            raise ScoringError("the evaluation data has no row_key_column %r (columns: %s)" % (key, ", ".join(df.columns[:20])))
        if dict(df.dtypes)[key] not in _INTEGRAL_TYPES:
            raise ScoringError("row_key_column %r has type %s; it must be an integer column (tinyint, smallint, int or bigint) holding a distinct key from 0 to 2^40 - 1 per row" % (key, dict(df.dtypes)[key]))
    return {
        "problem_type": params["problem_type"],
        "label": label,
        "label_type": dict(df.dtypes)[label],
        "slices": slice_column_types(df, params["slice_columns"]),
        "models": params["models"],
        "classes": None,
        "classes_from": None,
        "row_key": key,
    }


def result_schema(plan):
    """The DDL schema of the mapInPandas output (DataFrame.mapInPandas accepts "a DDL-formatted type string"). A
    multiclass label keeps its own Spark type as DataFrame.dtypes spells it (classes may be strings); binary and
    regression labels travel as double (validated on the driver)."""
    label_type = plan["label_type"] if plan["problem_type"] == MULTICLASS else "double"
    fields = ["`%s` %s" % (label_out(), label_type)]
    fields += ["`%s` string" % slice_out(j) for j in range(len(plan["slices"]))]
    if plan.get("row_key") is not None:
        fields.append("`%s` bigint" % key_out())
    for i in range(len(plan["models"])):
        if plan["problem_type"] == MULTICLASS:
            fields += ["`%s` double" % model_out(i, k) for k in range(len(plan["classes"]))]
        else:
            fields.append("`%s` double" % model_out(i))
    return ", ".join(fields)


def score_table(pdf, plan, loaded):
    """Scores one pandas batch with every model into the columns of result_schema(plan), in that order."""
    label = plan["label"]
    out = {}
    if plan["problem_type"] == MULTICLASS:
        out[label_out()] = pdf[label].to_numpy()
    else:
        out[label_out()] = binary_labels_lenient(pdf[label])
    for j, (name, spark_type) in enumerate(plan["slices"]):
        out[slice_out(j)] = slice_strings(pdf[name], spark_type)
    if plan.get("row_key") is not None:
        out[key_out()] = row_keys(pdf[plan["row_key"]], plan["row_key"])
    for i, m in enumerate(plan["models"]):
        model = loaded[m["key"]]
        if plan["problem_type"] == BINARY:
            out[model_out(i)] = model_scores(model, pdf, label)
        elif plan["problem_type"] == REGRESSION:
            out[model_out(i)] = regression_predictions(model, pdf, label, m["key"])
        else:
            matrix, classes = model_class_probabilities(model, pdf, label, m["key"])
            matrix = align_to_classes(m["key"], matrix, classes, plan["classes"], plan["classes_from"])
            for k in range(matrix.shape[1]):
                out[model_out(i, k)] = matrix[:, k]
    return pd.DataFrame(out)


def binary_labels_lenient(values):
    """Inside a Spark batch the label is carried as float64; validation happens on the whole column later, so a value
    that is not a number becomes NaN here (reported there as missing or non-numeric) instead of failing the worker."""
    series = pd.Series(values)
    try:
        return series.astype("float64").to_numpy()
    except (ValueError, TypeError):
        return pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()


def make_batch_scorer(plan, model_dirs, load_model, score=None):
    """A mapInPandas function applying `score(pdf, plan, models)` (default: score_table) to every batch; models
    are loaded once per Python worker from a folder executors can read."""
    cache = {}
    score = score or score_table

    def score_batches(batches):
        if not cache:
            for m in plan["models"]:
                cache[m["key"]] = load_model(model_dirs[m["key"]])
        for pdf in batches:
            yield score(pdf, plan, cache)

    return score_batches


# ---------------------------------------------------------------- the predictions file


class OutputTable:
    """What the notebook writes, free of pyarrow (so the layout is testable without it): the columns in file order,
    each with its Arrow type (INT8, INT32, FLOAT64, DICTIONARY_STRING or fixed_size_list<float64>[K]) and values,
    and the schema metadata."""

    def __init__(self):
        self.columns = []
        self.metadata = {}

    def add(self, name, arrow_type, values):
        self.columns.append((name, arrow_type, values))

    @property
    def rows(self):
        return len(self.columns[0][2])

    def schema(self):
        return [(name, arrow_type) for name, arrow_type, _ in self.columns]

    def values(self, name):
        return next(v for n, _, v in self.columns if n == name)


def assemble_output(pdf, plan):
    """Validates the scored rows and lays them out: label, one column per model key, then the slice columns."""
    if len(pdf) == 0:
        raise ScoringError("the evaluation data has no rows")
    problem, label = plan["problem_type"], plan["label"]
    table = OutputTable()
    if problem == BINARY:
        table.add(label, INT8, binary_labels(pdf[label_out()], label))
    elif problem == REGRESSION:
        table.add(label, FLOAT64, regression_labels(pdf[label_out()], label))
    else:
        table.add(label, INT32, multiclass_labels(pdf[label_out()], label, plan["classes"]))
        table.metadata[CLASSES_METADATA_KEY] = json.dumps(plan["classes"])
    for i, m in enumerate(plan["models"]):
        if problem == MULTICLASS:
            k = len(plan["classes"])
            matrix = pdf[[model_out(i, c) for c in range(k)]].to_numpy(dtype="float64")
            check_probabilities(m["key"], matrix, plan["classes"])
            table.add(m["key"], "fixed_size_list<float64>[%d]" % k, matrix)
        else:
            values = pdf[model_out(i)].astype("float64").to_numpy()
            (check_scores if problem == BINARY else check_predictions)(m["key"], values)
            table.add(m["key"], FLOAT64, values)
    for j, (name, _) in enumerate(plan["slices"]):
        table.add(name, DICTIONARY_STRING, pdf[slice_out(j)].tolist())
    if plan.get("row_key") is not None:
        # The task's keyed bootstrap reads the key from the file (same name, int64).
        table.add(plan["row_key"], INT64, distinct_row_keys(pdf[key_out()].to_numpy(), plan["row_key"]))
    return table


def arrow_array(pa, arrow_type, values):
    """One column as a pyarrow array (pyarrow API: pa.array, Array.dictionary_encode, FixedSizeListArray.from_arrays)."""
    if arrow_type == FLOAT64:
        return pa.array(np.asarray(values, dtype="float64"), type=pa.float64())
    if arrow_type == INT8:
        return pa.array(np.asarray(values, dtype="int8"), type=pa.int8())
    if arrow_type == INT32:
        return pa.array(np.asarray(values, dtype="int32"), type=pa.int32())
    if arrow_type == INT64:
        return pa.array(np.asarray(values, dtype="int64"), type=pa.int64())
    if arrow_type == DICTIONARY_STRING:
        return pa.array(list(values), type=pa.string()).dictionary_encode()
    fixed = _FIXED_LIST.match(arrow_type)
    if fixed:
        matrix = np.ascontiguousarray(values, dtype="float64")
        return pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1), type=pa.float64()), int(fixed.group(1)))
    raise ValueError("unknown column type %r" % arrow_type)


def arrow_table(table, pa):
    """The pyarrow Table of an OutputTable, with its schema metadata (pyarrow: pa.schema(fields, metadata=...),
    Table.from_arrays(arrays, schema=...); the metadata is stored as bytes and written into the IPC file's schema)."""
    arrays = [arrow_array(pa, arrow_type, values) for _, arrow_type, values in table.columns]
    fields = [pa.field(name, array.type) for (name, _, _), array in zip(table.columns, arrays)]
    schema = pa.schema(fields, metadata=dict(table.metadata) or None)
    return pa.Table.from_arrays(arrays, schema=schema)


def write_arrow_ipc(table, path):
    """Writes an uncompressed Arrow IPC file (the task's Arrow reader does not decode LZ4/ZSTD)."""
    import pyarrow as pa

    result = arrow_table(table, pa)
    tmp = path + ".tmp"
    with pa.OSFile(tmp, "wb") as sink:
        with pa.ipc.new_file(sink, result.schema) as writer:
            writer.write_table(result)
    os.replace(tmp, path)


def enable_arrow(spark, log=print):
    """Arrow for toPandas where the compute allows setting it. Serverless refuses spark.conf.set of most keys
    ([CONFIG_NOT_AVAILABLE]) and has Arrow on already; classic clusters accept it. Either way scoring continues."""
    try:
        spark.conf.set(ARROW_CONF, "true")
    except Exception as e:  # noqa: BLE001 (serverless raises pyspark's AnalysisException; any refusal is fine)
        log("Not setting %s (%s): this compute manages it (on by default on serverless)." % (ARROW_CONF, str(e).splitlines()[0][:200]))


# ---------------------------------------------------------------- the comparison on Spark (issue 23)


def agent_bytes_text(rows, models):
    """About how much memory the agent needs to compare `rows` rows of `models` models locally, in words."""
    need = float(rows) * models * AGENT_BYTES_PER_ROW_AND_MODEL
    if need >= 1e9:
        return "%.1f GB" % (need / 1e9)
    return "%.0f MB" % (need / 1e6) if need >= 1e6 else "under 1 MB"


def spark_refusal(params, rows):
    """Why the comparison of `rows` rows (above the limit) cannot run on Spark, in words, or None. Checked before any
    model is downloaded. The task fills comparison.unsupported; the problem type, slices and the method are
    checked here as well, so a task that forgot one still fails closed."""
    comparison = params["comparison"]
    if comparison["unsupported"] is not None:
        return comparison["unsupported"].strip()
    if params["problem_type"] == REGRESSION:
        return regression_spark_refusal(params)
    if params["problem_type"] != BINARY:
        return "the problem type %s (binary classification only)" % params["problem_type"]
    if params["slice_columns"]:
        return "slices (slice_columns are judged on the agent only)"
    if (comparison["method"], comparison["metric"]) not in SPARK_COMPARISONS:
        return "%s by %s (it computes roc_auc by delong, and roc_auc, average_precision, log_loss or brier by the keyed bootstrap)" % (comparison["metric"], comparison["method"])
    if comparison["method"] == "bootstrap" and comparison["resamples"] > MAX_KEYED_RESAMPLES:
        return "%d resamples (the keyed bootstrap takes at most 2^20 = %d)" % (comparison["resamples"], MAX_KEYED_RESAMPLES)
    return None


def regression_spark_refusal(params):
    """spark_refusal for regression: RMSE or MAE by the keyed bootstrap, without slices, at most 2^20 resamples."""
    comparison = params["comparison"]
    if params["slice_columns"]:
        return "slices (slice_columns are judged on the agent only)"
    if comparison["method"] != "bootstrap" or comparison["metric"] not in SPARK_REGRESSION_METRICS:
        return "%s by %s for regression (it computes rmse or mae by the keyed bootstrap)" % (comparison["metric"], comparison["method"])
    if comparison["resamples"] > MAX_KEYED_RESAMPLES:
        return "%d resamples (the keyed bootstrap takes at most 2^20 = %d)" % (comparison["resamples"], MAX_KEYED_RESAMPLES)
    return None


def check_spark_comparison(params, rows):
    """Raises ScoringError, before any model is downloaded, when the rows above the limit cannot be compared on Spark."""
    limit = params["local_row_limit"]
    reason = spark_refusal(params, rows)
    if reason is not None:
        raise ScoringError(
            "%d rows is above the local row limit %d, and the comparison on Spark does not support %s; set maxRows to at most %d to compare "
            "on the agent, or raise localRowLimit (the agent needs about %s for %d rows)" % (rows, limit, reason, limit, agent_bytes_text(rows, len(params["models"])), rows)
        )
    if params["row_key_column"] is None:
        raise ScoringError(
            "%d rows is above the local row limit %d, so the comparison runs on Spark, which needs rowKeyColumn: a column of the evaluation data "
            "holding a distinct integer from 0 to 2^40 - 1 (1099511627776) per row (the keyed bootstrap draws each row's weights from its key, and "
            "DeLong's sums pair each row's components by it); set rowKeyColumn, or set maxRows to at most %d to compare on the agent" % (rows, limit, limit)
        )


def spark_schema(models, problem_type=BINARY):
    """The mapInPandas output of the Spark path: the key, the label (0/1, or a double for regression) and one score or
    prediction per model, named by position."""
    return ", ".join(["`k` bigint", "`y` double" if problem_type == REGRESSION else "`y` int"] + ["`s%d` double" % i for i in range(models)])


def spark_score_table(pdf, plan, loaded):
    """Scores one batch for the Spark path (columns of spark_schema). The label, the key and the scores are checked
    row by row here, since no driver sees all rows: 0/1 labels, integer keys, finite scores within +-2^23."""
    out = {
        "k": row_keys(pdf[plan["row_key"]], plan["row_key"]),
        "y": binary_label_values(pdf[plan["label"]], plan["label"]).astype("int32").to_numpy(),
    }
    for i, m in enumerate(plan["models"]):
        scores = model_scores(loaded[m["key"]], pdf, plan["label"])
        bad = ~np.isfinite(scores)
        if bad.any():
            raise ScoringError("model %s produced %d non-finite scores (NaN or infinity)" % (m["key"], int(bad.sum())))
        large = np.abs(scores) >= SCORE_LIMIT
        if large.any():
            raise ScoringError("model %s produced the score %r; the comparison on Spark takes scores between -2^23 and 2^23" % (m["key"], float(scores[large][0])))
        out["s%d" % i] = scores
    return pd.DataFrame(out)


def regression_spark_score_table(pdf, plan, loaded):
    """spark_score_table for regression: the key, the label as a finite double and each model's finite prediction. No
    bound on their size: the sums' fixed-point scales are derived from the data (spark_sql.regression_scale_bits)."""
    out = {"k": row_keys(pdf[plan["row_key"]], plan["row_key"]), "y": regression_labels(pdf[plan["label"]], plan["label"])}
    for i, m in enumerate(plan["models"]):
        predictions = regression_predictions(loaded[m["key"]], pdf, plan["label"], m["key"])
        check_predictions(m["key"], predictions)
        out["s%d" % i] = predictions
    return pd.DataFrame(out)


def make_spark_scorer(plan, model_dirs, load_model):
    """The mapInPandas function of the Spark path: (k, y, s0..) per batch; models are loaded once per Python worker."""
    return make_batch_scorer(plan, model_dirs, load_model, regression_spark_score_table if plan["problem_type"] == REGRESSION else spark_score_table)


def sql_rows(spark, query):
    """The rows of one Spark SQL action as dicts (pyspark Row.asDict)."""
    return [r.asDict() if hasattr(r, "asDict") else dict(r) for r in spark.sql(query).collect()]


def signed_integer_text(value):
    """An integer result that may be negative (a score sum) as decimal text."""
    text = str(value)
    return "-" + integer_text(text[1:]) if text.startswith("-") else integer_text(value)


def spark_source(models):
    return {"table": SPARK_VIEW, "key": "k", "label": "y", "scores": ["s%d" % i for i in range(models)]}


def check_row_keys(spark, src, rows, key_column, dialect="spark"):
    """The key check on all rows (one action): as many rows as counted, every key in range and distinct."""
    [check] = sql_rows(spark, render_row_key_check_sql(dialect, src))
    n, distinct, out_of_range = int(check["n"]), int(check["distinct_keys"]), int(check["out_of_range"] or 0)
    if n != rows:
        raise ScoringError("the evaluation data changed while it was compared: %d rows were counted and %d scored; compare a table or query that does not change" % (rows, n))
    if out_of_range:
        raise ScoringError("row_key_column %r has %d values outside 0 to 2^40 - 1 (1099511627776) or missing" % (key_column, out_of_range))
    if distinct != n:
        raise ScoringError("row_key_column %r repeats keys: %d distinct keys for %d rows; each row needs a distinct key" % (key_column, distinct, n))


def fingerprint(spark, src, models, dialect="spark"):
    """Exact, row-order independent integers of the scored rows, so a local replay can check its file."""
    [row] = sql_rows(spark, render_fingerprint_sql(dialect, src))
    return {
        "rows": integer_text(row["n"]),
        "positives": integer_text(row["positives"]),
        "keySum": integer_text(row["key_sum"]),
        "positiveKeySum": integer_text(row["positive_key_sum"]),
        "scoreSums": [signed_integer_text(row["score_sum%d" % m]) for m in range(models)],
    }


def score_cut_points(spark, src, rows, models, dialect="spark"):
    """Approximate score quantiles per model (one action), one bucket per DELONG_ROWS_PER_BUCKET rows: they only split
    the work of DeLong's sums and of the keyed rank sums (any cut points give the same integers)."""
    buckets = min(1001, max(2, -(-rows // DELONG_ROWS_PER_BUCKET)))
    cut_rows = sorted(sql_rows(spark, render_delong_cut_points_sql(dialect, src, buckets)), key=lambda r: int(r["m"]))
    if [int(r["m"]) for r in cut_rows] != list(range(models)):
        raise ScoringError("the cut point query returned models %r, expected 0 to %d" % ([r["m"] for r in cut_rows], models - 1))
    return [[float(x) for x in r["cuts"]] for r in cut_rows]


def delong_on_spark(spark, src, rows, positives, models, dialect="spark"):
    """DeLong's integer sums in three actions: cut points, bucket totals, then the sums with the driver's offsets."""
    cuts = score_cut_points(spark, src, rows, models, dialect)
    totals = [{"m": int(r["m"]), "bk": int(r["bk"]), "pos": int(r["pos"]), "neg": int(r["neg"])} for r in sql_rows(spark, render_delong_bucket_totals_sql(dialect, src, cuts))]
    offsets = delong_bucket_offsets(totals, models)
    if offsets["positives"] != positives or offsets["negatives"] != rows - positives:
        raise ScoringError(
            "the DeLong bucket totals (%d positives, %d negatives) differ from the scored rows (%d positives of %d); the data changed while they were compared"
            % (offsets["positives"], offsets["negatives"], positives, rows)
        )
    return delong_sums_from_rows(sql_rows(spark, render_delong_sums_sql(dialect, src, cuts, offsets)), models)


def keyed_draws(spark, query, indices, field, column, models):
    """One action of keyed resample sums: one entry per generator index, with both classes' weights and the metric's
    per-model sums (`field`: losses, rankSums or apSums, from the columns `column` % m). The rank and AP sums' SQL
    returns no row for a draw that gives no row any weight; such a draw is all zeros."""
    draws = [
        {
            "b": int(r["b"]),
            "weight": integer_text(r["weight"]),
            "positiveWeight": integer_text(r["positive_weight"]),
            field: [integer_text(r[column % m]) for m in range(models)],
        }
        for r in sql_rows(spark, query)
    ]
    wanted = list(range(indices["count"])) if isinstance(indices, dict) else sorted(indices)
    if field in ("rankSums", "apSums"):
        present = set(d["b"] for d in draws)
        draws += [{"b": b, "weight": "0", "positiveWeight": "0", field: ["0"] * models} for b in wanted if b not in present]
    if sorted(d["b"] for d in draws) != wanted:
        raise ScoringError("the keyed resample sums came back for other generator indices than asked (%d rows for %d indices)" % (len(draws), len(wanted)))
    return sorted(draws, key=lambda d: d["b"])


def both_classes(draw):
    return 0 < int(draw["positiveWeight"]) < int(draw["weight"])


def keyed_bootstrap_on_spark(spark, src, comparison, models, rows, dialect="spark"):
    """The keyed Poisson resample sums of indices 0..B-1 and, for a draw without both classes, the redraws b + a*2^20
    (a = 1..15) until one has both, as runKeyedPoisson (src/engine/keyed-poisson.ts) does locally. log_loss and brier:
    Sigma w*q per model ("losses"); roc_auc: the rank sums u2 per model ("rankSums"), after one cut point action;
    average_precision: the fixed-point sums of pw_g * floor(TP_g * 2^56 / (TP_g + FP_g)) per model ("apSums"), likewise."""
    metric, seed, resamples = comparison["metric"], comparison["seed"], comparison["resamples"]
    if metric == "roc_auc":
        # Sorted once per model into score buckets; per resample a running sum of the negative weight (spark_sql.py).
        cuts = score_cut_points(spark, src, rows, models, dialect)
        field, column = "rankSums", "rank%d"
        full_query = render_rank_totals_sql(dialect, src, cuts)

        def query(indices):
            return render_keyed_rank_sums_sql(dialect, src, seed, cuts, indices)

    elif metric == "average_precision":
        # The same tie groups in descending score; offsets of the higher buckets joined back per group (spark_sql.py).
        cuts = score_cut_points(spark, src, rows, models, dialect)
        field, column = "apSums", "ap%d"
        full_query = render_ap_totals_sql(dialect, src, cuts)

        def query(indices):
            return render_keyed_ap_sums_sql(dialect, src, seed, cuts, indices)

    else:
        losses = [metric] * models
        field, column = "losses", "loss%d"
        full_query = render_loss_totals_sql(dialect, src, losses)

        def query(indices):
            return render_keyed_loss_sums_sql(dialect, src, seed, losses, indices)

    def draws_of(indices):
        return keyed_draws(spark, query(indices), indices, field, column, models)

    [full] = sql_rows(spark, full_query)
    draws = draws_of({"count": resamples})
    missing = [d["b"] for d in draws if not both_classes(d)]
    attempt = 1
    while missing:
        if attempt == MAX_KEYED_ATTEMPTS:
            raise ScoringError("keyed Poisson resample %d missed a class in %d draws; the data are too small to bootstrap" % (missing[0], MAX_KEYED_ATTEMPTS))
        redraws = draws_of([b + attempt * MAX_KEYED_RESAMPLES for b in missing])
        draws += redraws
        missing = [d["b"] - attempt * MAX_KEYED_RESAMPLES for d in redraws if not both_classes(d)]
        attempt += 1
    return {
        "metric": metric,
        "seed": seed,
        "seed64": str(seed64(seed)),
        "resamples": resamples,
        "full": {
            "weight": integer_text(full["weight"]),
            "positiveWeight": integer_text(full["positive_weight"]),
            field: [integer_text(full[column % m]) for m in range(models)],
        },
        "draws": draws,
    }


def spark_sums(spark, params, rows, dialect="spark"):
    """The sums JSON (format mlopspipelines.spark-sums/v1; docs/spark-notebook.md) from the scored view. `dialect` is
    "spark" on Databricks; the repository's tests also run these steps on DuckDB ("duckdb") against the engine."""
    if params.get("problem_type") == REGRESSION:
        return regression_spark_sums(spark, params, rows, dialect)
    models = len(params["models"])
    src = spark_source(models)
    check_row_keys(spark, src, rows, params["row_key_column"], dialect)
    fp = fingerprint(spark, src, models, dialect)
    positives = int(fp["positives"])
    if positives == 0 or positives == rows:
        raise ScoringError("label column %r has a single class; both 0 and 1 are needed to compare models" % params["label_column"])
    comparison = params["comparison"]
    return {
        "format": SUMS_FORMAT,
        "generator": GENERATOR_VERSION,
        "lossScaleBits": LOSS_SCALE_BITS,
        "rows": fp["rows"],
        "positives": fp["positives"],
        "models": [m["key"] for m in params["models"]],
        "fingerprint": fp,
        "delong": delong_on_spark(spark, src, rows, positives, models, dialect) if comparison["method"] == "delong" else None,
        "bootstrap": keyed_bootstrap_on_spark(spark, src, comparison, models, rows, dialect) if comparison["method"] == "bootstrap" else None,
    }


# ---------------------------------------------------------------- regression sums on Spark


def scale_of(value, what):
    """regression_scale_bits of an exact maximum from Spark, refusing an overflowed (infinite) one with a clear message."""
    try:
        return regression_scale_bits(float(value))
    except (TypeError, ValueError):
        raise ScoringError("%s is %r: a squared error or a value overflows a double, so it cannot be compared" % (what, value))


def regression_fingerprint(spark, src, models, dialect="spark"):
    """n, the key sum and, per column (label, then each model), a scale from its exact largest |value| and the sum of
    trunc(value * 2^scale): two actions, exact and row-order independent (docs/scale-out.md)."""
    [mx] = sql_rows(spark, render_regression_fingerprint_max_sql(dialect, src))
    target_scale = scale_of(mx["max_abs_target"], "the largest |label|")
    prediction_scales = [scale_of(mx["max_abs_prediction%d" % m], "the largest |prediction| of model %d" % m) for m in range(models)]
    [row] = sql_rows(spark, render_regression_fingerprint_sql(dialect, src, target_scale, prediction_scales))
    return {
        "rows": integer_text(mx["n"]),
        "keySum": integer_text(mx["key_sum"]),
        "targetScaleBits": target_scale,
        "targetSum": signed_integer_text(row["target_sum"]),
        "predictionScaleBits": prediction_scales,
        "predictionSums": [signed_integer_text(row["prediction_sum%d" % m]) for m in range(models)],
    }


def regression_draws(spark, src, seed, metric, scales, indices, models, dialect="spark"):
    """One action of keyed regression sums: one entry per generator index (Σw and Σw·q per model)."""
    draws = [
        {"b": int(r["b"]), "weight": integer_text(r["weight"]), "losses": [integer_text(r["loss%d" % m]) for m in range(models)]}
        for r in sql_rows(spark, render_keyed_regression_sums_sql(dialect, src, seed, metric, scales, indices))
    ]
    wanted = list(range(indices["count"])) if isinstance(indices, dict) else sorted(indices)
    if sorted(d["b"] for d in draws) != wanted:
        raise ScoringError("the keyed resample sums came back for other generator indices than asked (%d rows for %d indices)" % (len(draws), len(wanted)))
    return sorted(draws, key=lambda d: d["b"])


def regression_bootstrap_on_spark(spark, src, comparison, models, rows, dialect="spark"):
    """The keyed bootstrap of RMSE or MAE: each model's scale from its exact largest loss, the totals, the sums of
    indices 0..B-1 and, for a draw whose weights are all 0, the redraws b + a*2^20, as runKeyedRegression
    (src/engine/keyed-regression.ts) does locally."""
    metric, seed, resamples = comparison["metric"], comparison["seed"], comparison["resamples"]
    [mx] = sql_rows(spark, render_regression_max_loss_sql(dialect, src, metric))
    if int(mx["n"]) != rows:
        raise ScoringError("the evaluation data changed while it was compared: %d rows were counted and %d scored; compare a table or query that does not change" % (rows, int(mx["n"])))
    largest = [float(mx["max_loss%d" % m]) for m in range(models)]
    scales = [scale_of(largest[m], "the largest %s loss of model %d" % (metric, m)) for m in range(models)]
    [full] = sql_rows(spark, render_regression_loss_totals_sql(dialect, src, metric, scales))
    draws = regression_draws(spark, src, seed, metric, scales, {"count": resamples}, models, dialect)
    empty = [d["b"] for d in draws if int(d["weight"]) == 0]
    attempt = 1
    while empty:
        if attempt == MAX_KEYED_ATTEMPTS:
            raise ScoringError("keyed Poisson resample %d drew weight 0 for every row in %d draws; the data are too small to bootstrap" % (empty[0], MAX_KEYED_ATTEMPTS))
        redraws = regression_draws(spark, src, seed, metric, scales, [b + attempt * MAX_KEYED_RESAMPLES for b in empty], models, dialect)
        draws += redraws
        empty = [d["b"] - attempt * MAX_KEYED_RESAMPLES for d in redraws if int(d["weight"]) == 0]
        attempt += 1
    return {
        "metric": metric,
        "seed": seed,
        "seed64": str(seed64(seed)),
        "resamples": resamples,
        "lossScaleBits": scales,
        # floor(largest * 2^s): exact, since a product with a power of two is exact below 2^53.
        "maxLosses": [str(int(math.floor(math.ldexp(largest[m], scales[m])))) for m in range(models)],
        "full": {"weight": integer_text(full["weight"]), "losses": [integer_text(full["loss%d" % m]) for m in range(models)]},
        "draws": draws,
    }


def regression_spark_sums(spark, params, rows, dialect="spark"):
    """The regression form of the sums JSON (docs/scale-out.md, "Keyed regression sums"): no classes, per-model scales."""
    models = len(params["models"])
    src = spark_source(models)
    check_row_keys(spark, src, rows, params["row_key_column"], dialect)
    fp = regression_fingerprint(spark, src, models, dialect)
    return {
        "format": SUMS_FORMAT,
        "generator": GENERATOR_VERSION,
        "problem": REGRESSION,
        "rows": fp["rows"],
        "models": [m["key"] for m in params["models"]],
        "fingerprint": fp,
        "delong": None,
        "bootstrap": regression_bootstrap_on_spark(spark, src, params["comparison"], models, rows, dialect),
    }


def write_text_file(path, text):
    """Writes a UTF-8 text file through a temporary name, so the task never reads half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def spark_exit_value(params, rows, sums, write_text):
    """The exit JSON of the Spark path: the sums inline, or in <output_path>/spark-sums.json when they are large."""
    value = {"comparison": "spark", "rows": int(rows), "local_row_limit": params["local_row_limit"]}
    text = json.dumps(sums, separators=(",", ":"))
    if len(text.encode("utf-8")) > INLINE_SUMS_LIMIT:
        path = params["output_path"] + "/" + SUMS_FILE_NAME
        write_text(local_path(path), text)
        value["result_path"] = path
    else:
        value["result"] = sums
    return json.dumps(value, sort_keys=True)


def download_models(models, models_dir, mlflow, makedirs):
    """Each model once, into the output folder: executors cannot read the driver's local disk."""
    model_dirs = {}
    for m in models:
        dst = local_path(models_dir + "/" + m["key"])
        makedirs(dst, exist_ok=True)
        model_dirs[m["key"]] = mlflow.artifacts.download_artifacts(artifact_uri=m["uri"], dst_path=dst)
    return model_dirs


def compare_on_spark(params, plan, df, rows, spark, mlflow, remove_tree, makedirs, write_text):
    """Scores on Spark into Parquet files in the output folder (so every action reads the same scores and the models run
    once), registers them as a temporary view and computes the sums with Spark SQL."""
    out_dir = params["output_path"]
    models_dir = out_dir + "/models"
    scores_dir = out_dir + "/" + SPARK_SCORES_DIR
    makedirs(local_path(out_dir), exist_ok=True)
    try:
        model_dirs = download_models(params["models"], models_dir, mlflow, makedirs)
        scorer = make_spark_scorer(plan, model_dirs, mlflow.pyfunc.load_model)
        df.mapInPandas(scorer, schema=spark_schema(len(params["models"]), params["problem_type"])).write.mode("overwrite").parquet(scores_dir)
        spark.read.parquet(scores_dir).createOrReplaceTempView(SPARK_VIEW)
        sums = spark_sums(spark, params, rows)
    finally:
        spark.catalog.dropTempView(SPARK_VIEW)
        remove_tree(local_path(models_dir), ignore_errors=True)
        remove_tree(local_path(scores_dir), ignore_errors=True)
    return spark_exit_value(params, rows, sums, write_text)


def run(dbutils, spark, mlflow, write_table=write_arrow_ipc, remove_tree=shutil.rmtree, makedirs=os.makedirs, log=print, write_text=write_text_file):
    """Reads the parameters, scores every model on the same rows and returns the exit JSON: the Arrow file's path, or,
    above the local row limit, the comparison's integer sums computed on Spark."""
    params = parse_parameters(dbutils.widgets.get)
    # models:/<name>/<version> is looked up in this registry; without it MLflow uses a default that depends on the
    # compute (serverless and MLflow 3: Unity Catalog), so a workspace-registry model would be looked up in UC.
    mlflow.set_registry_uri(params["registry_uri"])
    enable_arrow(spark, log)
    models = params["models"]
    df = spark.table(params["evaluation_table"]) if params["evaluation_table"] else spark.sql(params["evaluation_query"])
    plan = scoring_plan(params, df)
    if params["max_rows"] is not None:
        df = df.limit(params["max_rows"])
    limit = params["local_row_limit"]
    if limit is not None:
        # One Spark action, before any model is downloaded: the switch between the two paths.
        rows = int(df.count())
        if rows > limit:
            check_spark_comparison(params, rows)
            return compare_on_spark(params, plan, df, rows, spark, mlflow, remove_tree, makedirs, write_text)

    out_dir = params["output_path"]
    models_dir = out_dir + "/models"
    makedirs(local_path(out_dir), exist_ok=True)
    try:
        model_dirs = download_models(models, models_dir, mlflow, makedirs)
        if plan["problem_type"] == MULTICLASS:
            plan["classes"], plan["classes_from"] = probe_classes(df, models, model_dirs, plan["label"], mlflow.pyfunc.load_model)
        scorer = make_batch_scorer(plan, model_dirs, mlflow.pyfunc.load_model)
        pdf = df.mapInPandas(scorer, schema=result_schema(plan)).toPandas()
    finally:
        remove_tree(local_path(models_dir), ignore_errors=True)

    table = assemble_output(pdf, plan)
    path = output_file(out_dir)
    write_table(table, local_path(path))
    return exit_value(path, table.rows, limit)


# COMMAND ----------

if __name__ == "__main__" and "dbutils" in globals():
    import mlflow as _mlflow

    for _name in PARAMETERS:
        dbutils.widgets.text(_name, "")  # noqa: F821 (provided by Databricks)
    dbutils.notebook.exit(run(dbutils, spark, _mlflow))  # noqa: F821
