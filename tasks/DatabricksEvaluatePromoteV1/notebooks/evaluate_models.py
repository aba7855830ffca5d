# Databricks notebook source
# MAGIC %md
# MAGIC # Score models for Evaluate & Promote
# MAGIC
# MAGIC Imported and run by the **Evaluate & Promote** Azure Pipelines task (or copy it into your own scoring job).
# MAGIC It scores every model on the same evaluation rows and writes one Arrow IPC file: the label column and one
# MAGIC float64 column of class-1 scores per model. The statistics (paired bootstrap, DeLong) run in the task.
# MAGIC
# MAGIC Parameters (widgets): `models` (JSON list of `{"key": <column>, "uri": "runs:/<run>/model" | "models:/<model_id>" |
# MAGIC "models:/<name>/<version>"}`: an MLflow 2 run model, an MLflow 3 logged model, a registered version),
# MAGIC `evaluation_table` or `evaluation_query`, `label_column`, `max_rows` (0 or empty: all rows), `output_path`
# MAGIC (a `/Volumes/...` or `dbfs:/...` folder, unique per pipeline run; serverless compute cannot use `dbfs:/`),
# MAGIC `registry_uri` (`databricks`: workspace model registry, `databricks-uc`: Unity Catalog; the registry
# MAGIC `models:/<name>/<version>` is read from, set explicitly because MLflow's default depends on the compute and
# MAGIC MLflow version: Unity Catalog on serverless and with MLflow 3).
# MAGIC
# MAGIC Exit value: `{"output_path": "<folder>/predictions.arrow", "rows": <n>}`.

# COMMAND ----------

import json
import os
import re
import shutil

import numpy as np
import pandas as pd

PARAMETERS = ("models", "evaluation_table", "evaluation_query", "label_column", "max_rows", "output_path", "registry_uri")
REGISTRY_URIS = ("databricks", "databricks-uc")
ARROW_CONF = "spark.sql.execution.arrow.pyspark.enabled"
OUTPUT_FILE_NAME = "predictions.arrow"
_COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
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
    registry_uri = (get("registry_uri") or "").strip()
    if registry_uri not in REGISTRY_URIS:
        raise ScoringError(
            "registry_uri must be databricks (workspace model registry) or databricks-uc (Unity Catalog), got %r; "
            "MLflow's default registry differs between serverless/MLflow 3 (Unity Catalog) and classic MLflow 2 clusters, so it is set explicitly" % registry_uri
        )
    return {
        "registry_uri": registry_uri,
        "models": models,
        "evaluation_table": table or None,
        "evaluation_query": query or None,
        "label_column": label,
        "max_rows": parse_max_rows(get("max_rows")),
        "output_path": validate_output_dir(get("output_path")),
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


def exit_value(path, rows):
    """The JSON the notebook exits with; the task reads it from runs/get-output."""
    return json.dumps({"output_path": path, "rows": int(rows)}, sort_keys=True)


def binary_labels(values, label_column):
    """Labels as int8 0/1; accepts booleans and numbers that are exactly 0 or 1. Both classes must occur."""
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
    if out.nunique() < 2:
        raise ScoringError("label column %r has a single class; both 0 and 1 are needed to compare models" % label_column)
    return out.to_numpy()


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


def score_table(pdf, models, loaded, label_column):
    """Scores one pandas batch with every model: the label plus one float64 column per model key."""
    out = pd.DataFrame({label_column: binary_labels_lenient(pdf[label_column])})
    for m in models:
        out[m["key"]] = model_scores(loaded[m["key"]], pdf, label_column)
    return out


def binary_labels_lenient(values):
    """Inside a Spark batch the label is carried as float64; validation happens on the whole column later."""
    return pd.to_numeric(pd.Series(values).astype("float64"), errors="coerce").to_numpy()


def make_batch_scorer(models, model_dirs, label_column, load_model):
    """A mapInPandas function; models are loaded once per Python worker from a folder executors can read."""
    cache = {}

    def score_batches(batches):
        if not cache:
            for m in models:
                cache[m["key"]] = load_model(model_dirs[m["key"]])
        for pdf in batches:
            yield score_table(pdf, models, cache, label_column)

    return score_batches


def result_schema(models, label_column):
    return ", ".join(["`%s` double" % label_column] + ["`%s` double" % m["key"] for m in models])


def write_arrow_ipc(pdf, path):
    """Writes an uncompressed Arrow IPC file (the task's Arrow reader does not decode LZ4/ZSTD)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(pdf, preserve_index=False)
    tmp = path + ".tmp"
    with pa.OSFile(tmp, "wb") as sink:
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    os.replace(tmp, path)


def enable_arrow(spark, log=print):
    """Arrow for toPandas where the compute allows setting it. Serverless refuses spark.conf.set of most keys
    ([CONFIG_NOT_AVAILABLE]) and has Arrow on already; classic clusters accept it. Either way scoring continues."""
    try:
        spark.conf.set(ARROW_CONF, "true")
    except Exception as e:  # noqa: BLE001 (serverless raises pyspark's AnalysisException; any refusal is fine)
        log("Not setting %s (%s): this compute manages it (on by default on serverless)." % (ARROW_CONF, str(e).splitlines()[0][:200]))


def run(dbutils, spark, mlflow, write_table=write_arrow_ipc, remove_tree=shutil.rmtree, makedirs=os.makedirs, log=print):
    """Reads the parameters, scores every model on the same rows, writes the Arrow file and returns the exit JSON."""
    params = parse_parameters(dbutils.widgets.get)
    # models:/<name>/<version> is looked up in this registry; without it MLflow uses a default that depends on the
    # compute (serverless and MLflow 3: Unity Catalog), so a workspace-registry model would be looked up in UC.
    mlflow.set_registry_uri(params["registry_uri"])
    enable_arrow(spark, log)
    label = params["label_column"]
    models = params["models"]
    df = spark.table(params["evaluation_table"]) if params["evaluation_table"] else spark.sql(params["evaluation_query"])
    if label not in df.columns:
        raise ScoringError("the evaluation data has no label column %r (columns: %s)" % (label, ", ".join(df.columns[:20])))
    if params["max_rows"] is not None:
        df = df.limit(params["max_rows"])

    out_dir = params["output_path"]
    models_dir = out_dir + "/models"
    makedirs(local_path(out_dir), exist_ok=True)
    try:
        # Executors cannot read the driver's local disk, so each model is downloaded once into the output folder.
        model_dirs = {}
        for m in models:
            dst = local_path(models_dir + "/" + m["key"])
            makedirs(dst, exist_ok=True)
            model_dirs[m["key"]] = mlflow.artifacts.download_artifacts(artifact_uri=m["uri"], dst_path=dst)
        scorer = make_batch_scorer(models, model_dirs, label, mlflow.pyfunc.load_model)
        pdf = df.mapInPandas(scorer, schema=result_schema(models, label)).toPandas()
    finally:
        remove_tree(local_path(models_dir), ignore_errors=True)

    if len(pdf) == 0:
        raise ScoringError("the evaluation data has no rows")
    result = pd.DataFrame({label: binary_labels(pdf[label], label)})
    for m in models:
        check_scores(m["key"], pdf[m["key"]])
        result[m["key"]] = pdf[m["key"]].astype("float64").to_numpy()
    path = output_file(out_dir)
    write_table(result, local_path(path))
    return exit_value(path, len(result))


# COMMAND ----------

if __name__ == "__main__" and "dbutils" in globals():
    import mlflow as _mlflow

    for _name in PARAMETERS:
        dbutils.widgets.text(_name, "")  # noqa: F821 (provided by Databricks)
    dbutils.notebook.exit(run(dbutils, spark, _mlflow))  # noqa: F821
