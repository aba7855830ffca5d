"""Unit tests of the scoring notebook's logic. MLflow, Spark, dbutils and pyarrow are replaced by small fakes, so
these run with Debian's python3 + pandas: `python3 -m unittest discover -s <notebooks>/tests -t <notebooks>`."""
import importlib.util
import json
import os
import re
import sys
import unittest

import numpy as np
import pandas as pd

_HERE = os.path.dirname(os.path.abspath(__file__))
# The notebook imports spark_compare and spark_sql from its own folder (inlined into the shipped notebook by the task).
sys.path.insert(0, os.path.join(_HERE, ".."))
# MLOPS_SCORING_NOTEBOOK: another file to test, such as the notebook as the task ships it (test/spark/notebook-compose.test.ts).
_NOTEBOOK = os.environ.get("MLOPS_SCORING_NOTEBOOK") or os.path.join(_HERE, "..", "evaluate_models.py")
_spec = importlib.util.spec_from_file_location("evaluate_models", _NOTEBOOK)
nb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nb)


# ---------------------------------------------------------------- fakes


class ProbaModel:
    """An sklearn-like classifier: predict() gives hard labels, predict_proba() the probabilities."""

    def __init__(self, weight, classes=(0, 1), feature_names=("x1", "x2")):
        self.weight = weight
        self.classes_ = np.array(classes)
        self.feature_names_in_ = np.array(feature_names)
        self.seen_columns = None

    def _p(self, X):
        self.seen_columns = list(X.columns)
        z = self.weight * X["x1"].to_numpy() + X["x2"].to_numpy()
        return 1 / (1 + np.exp(-z))

    def predict(self, X):
        return (self._p(X) > 0.5).astype(int)

    def predict_proba(self, X):
        p = self._p(X)
        cols = [1 - p, p] if list(self.classes_).index(1 if 1 in list(self.classes_) else True) == 1 else [p, 1 - p]
        return np.column_stack(cols)


class SklearnWrapper:
    def __init__(self, model):
        self.sklearn_model = model


class PyfuncModel:
    """mlflow.pyfunc.PyFuncModel as the notebook sees it."""

    def __init__(self, raw=None, predict=None, raw_via="get_raw_model", input_names=None):
        self._raw = raw
        self._predict = predict
        if raw is not None and raw_via == "_model_impl":
            self._model_impl = SklearnWrapper(raw)
        self.raw_via = raw_via
        self.metadata = FakeMetadata(input_names)

    def get_raw_model(self):
        if self._raw is None or self.raw_via != "get_raw_model":
            raise NotImplementedError("no raw model for this flavor")
        return self._raw

    def predict(self, X):
        if self._predict is not None:
            return self._predict(X)
        return self._raw.predict(X)


class FakeSchema:
    def __init__(self, names):
        self.names = names

    def input_names(self):
        return self.names


class FakeMetadata:
    def __init__(self, names):
        self.names = names

    def get_input_schema(self):
        return FakeSchema(self.names) if self.names is not None else None


def spark_type_name(series):
    """DataFrame.dtypes spells a column's type in Spark SQL (e.g. bigint, double, string); enough of it for the fakes."""
    return {"i": "bigint", "f": "double", "b": "boolean"}.get(series.dtype.kind, "string")


class FakeDataFrame:
    """A Spark DataFrame as the notebook uses it. `spark_types` overrides the type of some columns (an integer column
    holding nulls reaches pandas as float64; a date column as Python dates)."""

    def __init__(self, pdf, batch_rows=3, schemas_seen=None, spark_types=None):
        self.schemas_seen = schemas_seen if schemas_seen is not None else []
        self.spark_types = spark_types or {}
        self.pdf = pdf.reset_index(drop=True)
        self.batch_rows = batch_rows
        self.columns = list(pdf.columns)
        self.dtypes = [(c, self.spark_types.get(c) or spark_type_name(pdf[c])) for c in pdf.columns]
        self.schema_seen = None

    def limit(self, n):
        return FakeDataFrame(self.pdf.head(n), self.batch_rows, self.schemas_seen, self.spark_types)

    def mapInPandas(self, fn, schema):
        self.schema_seen = schema
        self.schemas_seen.append(schema)
        batches = (self.pdf.iloc[i : i + self.batch_rows] for i in range(0, len(self.pdf), self.batch_rows))
        out = list(fn(batches))
        result = pd.concat(out, ignore_index=True) if out else pd.DataFrame()
        return FakeDataFrame(result, self.batch_rows)

    def toPandas(self):
        return self.pdf.copy()


class FakeConf:
    """spark.conf. Serverless refuses setting most keys (Arrow included; it is on by default there) with
    pyspark's AnalysisException [CONFIG_NOT_AVAILABLE]; a classic cluster accepts them."""

    def __init__(self, serverless, calls):
        self.serverless = serverless
        self.calls = calls

    def set(self, key, value):
        self.calls.append(("conf.set", key, value))
        if self.serverless:
            raise Exception("[CONFIG_NOT_AVAILABLE] Configuration %s is not available. SQLSTATE: 42K0I" % key)


class FakeSpark:
    def __init__(self, tables, serverless=False):
        self.tables = tables
        self.calls = []
        self.conf = FakeConf(serverless, self.calls)

    def table(self, name):
        self.calls.append(("table", name))
        return self.tables[name]

    def sql(self, query):
        self.calls.append(("sql", query))
        return self.tables["__query__"]


class FakeWidgets:
    def __init__(self, values):
        self.values = values

    def get(self, name):
        if name not in self.values:
            raise KeyError("InputWidgetNotDefined: " + name)
        return self.values[name]


class FakeDbutils:
    def __init__(self, values):
        self.widgets = FakeWidgets(values)


class FakeMlflow:
    """mlflow as the notebook uses it. `models:/<name>/<version>` resolves in the registry set with
    set_registry_uri, else in MLflow's default, which depends on the compute: Unity Catalog on serverless and
    with MLflow 3, the workspace registry on classic MLflow 2 clusters (`default_registry`). `registered`
    says which registry each such URI lives in (default: the workspace registry)."""

    def __init__(self, models_by_uri, registered=None, default_registry="databricks-uc"):
        self.models_by_uri = models_by_uri
        self.registered = registered or {}
        self.default_registry = default_registry
        self.registry_uri = None
        self.downloads = []
        self.loads = []
        self.calls = []
        mlflow = self

        class Artifacts:
            @staticmethod
            def download_artifacts(artifact_uri, dst_path):
                mlflow.calls.append(("download_artifacts", artifact_uri))
                if re.match(r"^models:/[^/]+/[^/]+$", artifact_uri):
                    registry = mlflow.registry_uri or mlflow.default_registry
                    if mlflow.registered.get(artifact_uri, "databricks") != registry:
                        raise Exception("RESOURCE_DOES_NOT_EXIST: Registered model %s not found in registry %s" % (artifact_uri, registry))
                mlflow.downloads.append((artifact_uri, dst_path))
                return dst_path + "/model"

        class Pyfunc:
            @staticmethod
            def load_model(path):
                mlflow.loads.append(path)
                uri = next(u for u, d in mlflow.downloads if d + "/model" == path)
                return mlflow.models_by_uri[uri]

        self.artifacts = Artifacts
        self.pyfunc = Pyfunc

    def set_registry_uri(self, uri):
        self.calls.append(("set_registry_uri", uri))
        self.registry_uri = uri


def evaluation_frame(n=12, seed=7):
    rng = np.random.RandomState(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    y = (x1 + 0.5 * rng.normal(size=n) > 0).astype(int)
    y[0], y[1] = 0, 1  # both classes, whatever the seed
    return pd.DataFrame({"x1": x1, "x2": x2, "label": y})


def params(**over):
    base = {
        "models": json.dumps([{"key": "cand_a", "uri": "runs:/abc123/model"}, {"key": "production", "uri": "models:/churn/3"}]),
        "evaluation_table": "main.ml.eval",
        "evaluation_query": "",
        "label_column": "label",
        "max_rows": "",
        "output_path": "/Volumes/main/ml/scratch/eval-42",
        "registry_uri": "databricks",
        "problem_type": "",
        "slice_columns": "",
    }
    base.update(over)
    return base


class Recorder:
    def __init__(self):
        self.written = []
        self.removed = []
        self.made = []

    def write(self, table, path):
        self.written.append((table, path))

    def rmtree(self, path, ignore_errors=False):
        self.removed.append(path)

    def makedirs(self, path, exist_ok=False):
        self.made.append(path)


# ---------------------------------------------------------------- parameter parsing


class ParseModelsTest(unittest.TestCase):
    def test_parses_keys_and_uris_in_order(self):
        got = nb.parse_models('[{"key": "b", "uri": "runs:/r1/model"}, {"key": "a", "uri": "models:/c.s.m/12"}, {"key": "c", "uri": "models:/m-0a1b2c3d4e5f"}]')
        self.assertEqual(got, [{"key": "b", "uri": "runs:/r1/model"}, {"key": "a", "uri": "models:/c.s.m/12"}, {"key": "c", "uri": "models:/m-0a1b2c3d4e5f"}])

    def test_rejects_invalid_json_empty_list_and_non_objects(self):
        for text in ["", "not json", "[]", "{}", '["runs:/r/model"]', '[{"key": 1, "uri": "runs:/r/model"}]']:
            with self.assertRaises(nb.ScoringError, msg=text):
                nb.parse_models(text)

    def test_rejects_duplicate_keys(self):
        with self.assertRaisesRegex(nb.ScoringError, "used twice"):
            nb.parse_models('[{"key": "a", "uri": "runs:/r1/model"}, {"key": "a", "uri": "runs:/r2/model"}]')

    def test_rejects_keys_that_are_not_column_names(self):
        for key in ["1abc", "a-b", "a b", "", "x" * 129]:
            with self.assertRaisesRegex(nb.ScoringError, "not a valid column name", msg=key):
                nb.parse_models(json.dumps([{"key": key, "uri": "runs:/r1/model"}]))

    def test_rejects_uris_that_are_not_runs_or_models(self):
        for uri in ["s3://bucket/model", "runs:/", "models:/name", "file:///tmp/m", "runs:/r1/model; rm -rf"]:
            with self.assertRaisesRegex(nb.ScoringError, "must be runs:/", msg=uri):
                nb.parse_models(json.dumps([{"key": "a", "uri": uri}]))


class ParseParametersTest(unittest.TestCase):
    def test_reads_every_parameter(self):
        got = nb.parse_parameters(FakeWidgets(params(max_rows="500", output_path="dbfs:/scratch/eval/42/")).get)
        self.assertEqual(got["evaluation_table"], "main.ml.eval")
        self.assertIsNone(got["evaluation_query"])
        self.assertEqual(got["max_rows"], 500)
        self.assertEqual(got["output_path"], "dbfs:/scratch/eval/42")
        self.assertEqual([m["key"] for m in got["models"]], ["cand_a", "production"])

    def test_registry_uri_is_required_and_named(self):
        self.assertEqual(nb.parse_parameters(FakeWidgets(params()).get)["registry_uri"], "databricks")
        self.assertEqual(nb.parse_parameters(FakeWidgets(params(registry_uri="databricks-uc")).get)["registry_uri"], "databricks-uc")
        for bad in ["", "databricks-uc://profile", "uc"]:
            with self.assertRaisesRegex(nb.ScoringError, "^registry_uri must be databricks \\(workspace model registry\\) or databricks-uc \\(Unity Catalog\\)", msg=bad):
                nb.parse_parameters(FakeWidgets(params(registry_uri=bad)).get)

    def test_requires_exactly_one_of_table_and_query(self):
        with self.assertRaisesRegex(nb.ScoringError, "exactly one"):
            nb.parse_parameters(FakeWidgets(params(evaluation_table="", evaluation_query="")).get)
        with self.assertRaisesRegex(nb.ScoringError, "exactly one"):
            nb.parse_parameters(FakeWidgets(params(evaluation_query="select 1")).get)

    def test_requires_label_and_rejects_a_key_equal_to_it(self):
        with self.assertRaisesRegex(nb.ScoringError, "label_column is required"):
            nb.parse_parameters(FakeWidgets(params(label_column=" ")).get)
        with self.assertRaisesRegex(nb.ScoringError, "collides with the label"):
            nb.parse_parameters(FakeWidgets(params(label_column="production")).get)

    def test_max_rows(self):
        self.assertIsNone(nb.parse_max_rows(""))
        self.assertIsNone(nb.parse_max_rows("0"))
        self.assertEqual(nb.parse_max_rows(" 1000 "), 1000)
        for bad in ["-1", "1.5", "ten"]:
            with self.assertRaises(nb.ScoringError, msg=bad):
                nb.parse_max_rows(bad)

    def test_output_dir_must_be_a_volume_or_dbfs_folder_without_dot_dot(self):
        self.assertEqual(nb.validate_output_dir("/Volumes/c/s/v/a/"), "/Volumes/c/s/v/a")
        for bad in ["/tmp/x", "/Volumes/c/s", "s3://b/x", "dbfs:/a/../b", "/Volumes/c/s/v/../../x", ""]:
            with self.assertRaises(nb.ScoringError, msg=bad):
                nb.validate_output_dir(bad)


class PathsAndExitTest(unittest.TestCase):
    def test_output_file_keeps_the_form_the_task_passed(self):
        self.assertEqual(nb.output_file("dbfs:/scratch/e/"), "dbfs:/scratch/e/predictions.arrow")
        self.assertEqual(nb.output_file("/Volumes/c/s/v/e"), "/Volumes/c/s/v/e/predictions.arrow")

    def test_local_path_maps_dbfs_to_fuse(self):
        self.assertEqual(nb.local_path("dbfs:/scratch/e/p.arrow"), "/dbfs/scratch/e/p.arrow")
        self.assertEqual(nb.local_path("/Volumes/c/s/v/p.arrow"), "/Volumes/c/s/v/p.arrow")

    def test_exit_value_is_the_contract_json(self):
        self.assertEqual(json.loads(nb.exit_value("/Volumes/c/s/v/p.arrow", np.int64(12))), {"output_path": "/Volumes/c/s/v/p.arrow", "rows": 12})


# ---------------------------------------------------------------- scores


class PositiveClassTest(unittest.TestCase):
    def test_finds_class_one_in_any_position(self):
        self.assertEqual(nb.positive_class_index([0, 1]), 1)
        self.assertEqual(nb.positive_class_index([1, 0]), 0)
        self.assertEqual(nb.positive_class_index([False, True]), 1)
        self.assertEqual(nb.positive_class_index(np.array(["0", "1"])), 1)

    def test_rejects_multiclass_and_unknown_labels(self):
        with self.assertRaisesRegex(nb.ScoringError, "binary"):
            nb.positive_class_index([0, 1, 2])
        with self.assertRaisesRegex(nb.ScoringError, "which class is positive"):
            nb.positive_class_index(["no", "yes"])


class ModelScoresTest(unittest.TestCase):
    def setUp(self):
        self.pdf = evaluation_frame()

    def test_uses_predict_proba_class_one_never_hard_labels(self):
        raw = ProbaModel(2.0)
        scores = nb.model_scores(PyfuncModel(raw), self.pdf, "label")
        z = 2.0 * self.pdf["x1"] + self.pdf["x2"]
        np.testing.assert_allclose(scores, 1 / (1 + np.exp(-z)))
        self.assertEqual(raw.seen_columns, ["x1", "x2"])  # the label never reaches the model
        self.assertGreater(len(np.unique(scores)), 2)

    def test_class_one_when_classes_are_reversed(self):
        raw = ProbaModel(2.0, classes=(1, 0))
        scores = nb.model_scores(PyfuncModel(raw), self.pdf, "label")
        z = 2.0 * self.pdf["x1"] + self.pdf["x2"]
        np.testing.assert_allclose(scores, 1 / (1 + np.exp(-z)))

    def test_finds_the_raw_model_through_the_private_wrapper(self):
        raw = ProbaModel(1.0)
        scores = nb.model_scores(PyfuncModel(raw, raw_via="_model_impl"), self.pdf, "label")
        self.assertEqual(scores.dtype, np.float64)
        self.assertGreater(len(np.unique(scores)), 2)

    def test_falls_back_to_the_raw_continuous_prediction(self):
        model = PyfuncModel(raw=None, predict=lambda X: X["x1"] * 3.0, input_names=["x1"])
        scores = nb.model_scores(model, self.pdf, "label")
        np.testing.assert_allclose(scores, self.pdf["x1"] * 3.0)

    def test_two_column_prediction_gives_column_one(self):
        model = PyfuncModel(raw=None, predict=lambda X: np.column_stack([1 - X["x1"], X["x1"]]))
        np.testing.assert_allclose(nb.model_scores(model, self.pdf, "label"), self.pdf["x1"])

    def test_dataframe_prediction_with_a_probability_column(self):
        model = PyfuncModel(raw=None, predict=lambda X: pd.DataFrame({"label": [0] * len(X), "probability": X["x2"].to_numpy()}))
        np.testing.assert_allclose(nb.model_scores(model, self.pdf, "label"), self.pdf["x2"])

    def test_missing_feature_columns_are_named(self):
        raw = ProbaModel(1.0, feature_names=("x1", "x9"))
        with self.assertRaisesRegex(nb.ScoringError, "lacks feature columns x9"):
            nb.model_scores(PyfuncModel(raw), self.pdf, "label")

    def test_check_scores_rejects_hard_labels_and_non_finite(self):
        with self.assertRaisesRegex(nb.ScoringError, "hard 0/1 labels"):
            nb.check_scores("m", np.array([0.0, 1.0, 1.0, 0.0]))
        with self.assertRaisesRegex(nb.ScoringError, "2 non-finite"):
            nb.check_scores("m", np.array([0.1, np.nan, np.inf, 0.4]))
        nb.check_scores("m", np.array([0.0, 1.0, 0.5]))

    def test_binary_labels(self):
        self.assertEqual(nb.binary_labels([True, False, True], "y").tolist(), [1, 0, 1])
        self.assertEqual(nb.binary_labels([1.0, 0.0], "y").dtype, np.int8)
        with self.assertRaisesRegex(nb.ScoringError, "single class"):
            nb.binary_labels([1, 1, 1], "y")
        with self.assertRaisesRegex(nb.ScoringError, "must be 0/1"):
            nb.binary_labels([0, 1, 2], "y")
        with self.assertRaisesRegex(nb.ScoringError, "1 missing"):
            nb.binary_labels([0, 1, None], "y")


# ---------------------------------------------------------------- the whole notebook


class RunTest(unittest.TestCase):
    def setUp(self):
        self.pdf = evaluation_frame(n=10)
        self.mlflow = FakeMlflow({"runs:/abc123/model": PyfuncModel(ProbaModel(3.0)), "models:/churn/3": PyfuncModel(ProbaModel(0.5))})
        self.rec = Recorder()

    def run_notebook(self, widget_values, spark=None):
        spark = spark or FakeSpark({"main.ml.eval": FakeDataFrame(self.pdf)})
        out = nb.run(FakeDbutils(widget_values), spark, self.mlflow, write_table=self.rec.write, remove_tree=self.rec.rmtree, makedirs=self.rec.makedirs)
        return out, spark

    def test_scores_every_model_on_the_same_rows_and_exits_with_the_file(self):
        out, spark = self.run_notebook(params())
        self.assertEqual(json.loads(out), {"output_path": "/Volumes/main/ml/scratch/eval-42/predictions.arrow", "rows": 10})
        self.assertEqual(spark.calls, [("conf.set", nb.ARROW_CONF, "true"), ("table", "main.ml.eval")])
        [(written, path)] = self.rec.written
        self.assertEqual(path, "/Volumes/main/ml/scratch/eval-42/predictions.arrow")
        self.assertEqual(written.schema(), [("label", "int8"), ("cand_a", "float64"), ("production", "float64")])
        self.assertEqual(written.metadata, {})
        self.assertEqual(written.values("label").tolist(), self.pdf["label"].tolist())
        self.assertEqual(written.values("label").dtype, np.int8)
        self.assertEqual(written.values("cand_a").dtype, np.float64)
        z = 3.0 * self.pdf["x1"] + self.pdf["x2"]
        np.testing.assert_allclose(written.values("cand_a"), 1 / (1 + np.exp(-z)))
        self.assertEqual(spark.tables["main.ml.eval"].schemas_seen, ["`__label` double, `__model_0` double, `__model_1` double"])
        self.assertEqual(
            self.mlflow.downloads,
            [("runs:/abc123/model", "/Volumes/main/ml/scratch/eval-42/models/cand_a"), ("models:/churn/3", "/Volumes/main/ml/scratch/eval-42/models/production")],
        )
        self.assertEqual(self.rec.removed, ["/Volumes/main/ml/scratch/eval-42/models"])

    def test_sets_the_registry_before_any_model_is_read_and_works_on_serverless(self):
        # Serverless: MLflow's default registry is Unity Catalog and spark.conf.set(Arrow) is refused.
        spark = FakeSpark({"main.ml.eval": FakeDataFrame(self.pdf)}, serverless=True)
        logged = []
        out = nb.run(FakeDbutils(params()), spark, self.mlflow, write_table=self.rec.write, remove_tree=self.rec.rmtree, makedirs=self.rec.makedirs, log=logged.append)
        self.assertEqual(json.loads(out)["rows"], 10)
        self.assertEqual(self.mlflow.calls[0], ("set_registry_uri", "databricks"))
        self.assertEqual([c[1] for c in self.mlflow.calls[1:]], ["runs:/abc123/model", "models:/churn/3"])
        self.assertEqual(spark.calls[0], ("conf.set", "spark.sql.execution.arrow.pyspark.enabled", "true"))
        self.assertEqual(len(logged), 1)
        self.assertTrue(logged[0].startswith("Not setting spark.sql.execution.arrow.pyspark.enabled ([CONFIG_NOT_AVAILABLE]"), logged[0])

    def test_without_the_registry_a_workspace_model_is_looked_up_in_unity_catalog_on_serverless(self):
        # What the fake models (and the notebook guards against): the default registry on serverless is UC.
        with self.assertRaisesRegex(Exception, "RESOURCE_DOES_NOT_EXIST: Registered model models:/churn/3 not found in registry databricks-uc"):
            self.mlflow.artifacts.download_artifacts("models:/churn/3", "/tmp/x")
        # A Unity Catalog production model is read from UC when the task passes databricks-uc.
        self.mlflow = FakeMlflow({"runs:/abc123/model": PyfuncModel(ProbaModel(3.0)), "models:/main.ml.churn/3": PyfuncModel(ProbaModel(0.5))}, registered={"models:/main.ml.churn/3": "databricks-uc"}, default_registry="databricks")
        models = json.dumps([{"key": "cand_a", "uri": "runs:/abc123/model"}, {"key": "production", "uri": "models:/main.ml.churn/3"}])
        out, _ = self.run_notebook(params(models=models, registry_uri="databricks-uc"))
        self.assertEqual(json.loads(out)["rows"], 10)
        with self.assertRaisesRegex(Exception, "not found in registry databricks$"):
            self.mlflow.registry_uri = None
            self.mlflow.artifacts.download_artifacts("models:/main.ml.churn/3", "/tmp/x")

    def test_a_classic_cluster_sets_arrow(self):
        out, spark = self.run_notebook(params())
        self.assertEqual(spark.calls[0], ("conf.set", "spark.sql.execution.arrow.pyspark.enabled", "true"))
        self.assertEqual(json.loads(out)["rows"], 10)

    def test_mlflow3_spark_ml_model_scored_by_its_probability_column(self):
        # An MLflow 3 logged Spark ML model (models:/<model_id>): its pyfunc returns Spark ML's columns, prediction
        # (hard labels) and probability (a vector per row); the score is the class-1 probability.
        def spark_ml_predict(X):
            p = 1 / (1 + np.exp(-(2.0 * X["x1"].to_numpy() + X["x2"].to_numpy())))
            return pd.DataFrame({"prediction": (p > 0.5).astype(float), "probability": [np.array([1 - v, v]) for v in p]})

        uri = "models:/m-0123456789abcdef0123456789abcdef"
        self.mlflow.models_by_uri[uri] = PyfuncModel(raw=None, predict=spark_ml_predict)
        models = json.dumps([{"key": "cand_a", "uri": uri}, {"key": "production", "uri": "models:/churn/3"}])
        out, _ = self.run_notebook(params(models=models))
        self.assertEqual(json.loads(out)["rows"], 10)
        [(written, _)] = self.rec.written
        np.testing.assert_allclose(written.values("cand_a"), 1 / (1 + np.exp(-(2.0 * self.pdf["x1"] + self.pdf["x2"]))))
        self.assertEqual([d[0] for d in self.mlflow.downloads], [uri, "models:/churn/3"])

    def test_a_spark_ml_model_returning_only_its_prediction_is_refused_saying_how_to_log_a_probability(self):
        uri = "models:/m-0123456789abcdef0123456789abcdef"
        self.mlflow.models_by_uri[uri] = PyfuncModel(raw=None, predict=lambda X: pd.DataFrame({"prediction": (X["x1"] > 0).astype(float)}))
        models = json.dumps([{"key": "cand_a", "uri": uri}, {"key": "production", "uri": "models:/churn/3"}])
        with self.assertRaisesRegex(nb.ScoringError, r"model cand_a returned hard 0/1 labels, not scores\. .*a Spark ML model \(mlflow\.spark\.log_model\) with a 'probability' output column"):
            self.run_notebook(params(models=models))

    def test_dbfs_output_is_written_through_fuse_and_reported_as_dbfs(self):
        out, _ = self.run_notebook(params(output_path="dbfs:/scratch/eval/42"))
        self.assertEqual(json.loads(out)["output_path"], "dbfs:/scratch/eval/42/predictions.arrow")
        self.assertEqual(self.rec.written[0][1], "/dbfs/scratch/eval/42/predictions.arrow")

    def test_query_and_max_rows(self):
        spark = FakeSpark({"__query__": FakeDataFrame(self.pdf)})
        out, _ = self.run_notebook(params(evaluation_table="", evaluation_query="SELECT * FROM t WHERE d > '2026-01-01'", max_rows="6"), spark)
        self.assertEqual(json.loads(out)["rows"], 6)
        self.assertEqual(spark.calls, [("conf.set", nb.ARROW_CONF, "true"), ("sql", "SELECT * FROM t WHERE d > '2026-01-01'")])

    def test_missing_label_column_fails_before_loading_models(self):
        with self.assertRaisesRegex(nb.ScoringError, "no label column 'target'"):
            self.run_notebook(params(label_column="target"))
        self.assertEqual(self.mlflow.downloads, [])

    def test_a_hard_label_model_fails_and_the_model_folder_is_still_removed(self):
        self.mlflow.models_by_uri["models:/churn/3"] = PyfuncModel(raw=None, predict=lambda X: (X["x1"] > 0).astype(int))
        with self.assertRaisesRegex(nb.ScoringError, "model production returned hard 0/1 labels"):
            self.run_notebook(params())
        self.assertEqual(self.rec.written, [])
        self.assertEqual(self.rec.removed, ["/Volumes/main/ml/scratch/eval-42/models"])

    def test_one_class_in_the_evaluation_rows_fails(self):
        self.pdf["label"] = 1
        with self.assertRaisesRegex(nb.ScoringError, "single class"):
            self.run_notebook(params())

    def test_empty_data_fails(self):
        self.pdf = self.pdf.head(0)
        with self.assertRaisesRegex(nb.ScoringError, "no rows"):
            self.run_notebook(params())


# ---------------------------------------------------------------- problem types and slices (issue 20)


class ProblemTypeAndSliceParametersTest(unittest.TestCase):
    def test_problem_type_is_binary_when_empty_and_otherwise_one_of_three(self):
        self.assertEqual(nb.parse_parameters(FakeWidgets(params()).get)["problem_type"], "binaryClassification")
        for value in ["binaryClassification", "regression", "multiclass"]:
            self.assertEqual(nb.parse_parameters(FakeWidgets(params(problem_type=" %s " % value)).get)["problem_type"], value)
        with self.assertRaises(nb.ScoringError) as caught:
            nb.parse_parameters(FakeWidgets(params(problem_type="Regression")).get)
        self.assertEqual(str(caught.exception), "problem_type must be binaryClassification, regression or multiclass (empty means binaryClassification), got 'Regression'")

    def test_slice_columns_are_split_on_commas_and_newlines(self):
        self.assertEqual(nb.parse_parameters(FakeWidgets(params()).get)["slice_columns"], [])
        self.assertEqual(nb.parse_slice_columns(" region, tier\nplan ,, "), ["region", "tier", "plan"])
        self.assertEqual(nb.parse_slice_columns(" , \n"), [])

    def test_slice_columns_twice_or_colliding_with_the_label_or_a_model_key_fail(self):
        cases = [
            ("region,tier,region", "slice_columns names 'region' twice"),
            ("region,label", "slice column 'label' is the label column"),
            ("production", "slice column 'production' collides with the model key 'production' (both would be columns of the predictions file)"),
        ]
        for text, message in cases:
            with self.assertRaises(nb.ScoringError, msg=text) as caught:
                nb.parse_parameters(FakeWidgets(params(slice_columns=text)).get)
            self.assertEqual(str(caught.exception), message)


def softmax_rows(X, weights):
    """Class probabilities of a small linear model: class k scores weights[k] * x1 + k * x2."""
    z = np.outer(X["x1"].to_numpy(), weights) + np.outer(X["x2"].to_numpy(), np.arange(len(weights)))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class MulticlassProbaModel:
    """A scikit-learn-like multiclass classifier: predict() gives hard labels, predict_proba() one column per class_."""

    def __init__(self, weights, classes=("bronze", "gold", "silver")):
        self.weights = list(weights)
        self.classes_ = np.array(classes)
        self.feature_names_in_ = np.array(["x1", "x2"])

    def predict_proba(self, X):
        return softmax_rows(X, self.weights)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


CLASSES = ["bronze", "gold", "silver"]


def multiclass_frame(n=12, seed=11):
    rng = np.random.RandomState(seed)
    return pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "label": [CLASSES[i % 3] for i in range(n)],
            "region": ["north" if i % 4 else None for i in range(n)],
        }
    )


def by_name(columns):
    """A pyfunc output with one probability column per class, named by the class, in another order than CLASSES."""
    return lambda X: (lambda p: pd.DataFrame({name: p[:, CLASSES.index(name)] for name in columns}))(softmax_rows(X, [0.3, 0.1, -0.4]))


def constant_rows(row):
    return lambda X: pd.DataFrame({name: [row[i]] * len(X) for i, name in enumerate(CLASSES)})


class MulticlassRunTest(unittest.TestCase):
    def setUp(self):
        self.pdf = multiclass_frame()
        self.mlflow = FakeMlflow(
            {"runs:/abc123/model": PyfuncModel(MulticlassProbaModel([1.0, -0.5, 0.2])), "models:/churn/3": PyfuncModel(raw=None, predict=by_name(["silver", "bronze", "gold"]))}
        )
        self.rec = Recorder()
        self.frame = None

    def run_notebook(self, **over):
        self.frame = FakeDataFrame(self.pdf)
        spark = FakeSpark({"main.ml.eval": self.frame})
        values = dict(problem_type="multiclass")
        values.update(over)
        return nb.run(FakeDbutils(params(**values)), spark, self.mlflow, write_table=self.rec.write, remove_tree=self.rec.rmtree, makedirs=self.rec.makedirs)

    def assert_fails(self, message):
        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook()
        self.assertEqual(str(caught.exception), message)
        self.assertEqual(self.rec.written, [])
        self.assertEqual(self.rec.removed, ["/Volumes/main/ml/scratch/eval-42/models"])

    def test_writes_class_indices_probability_lists_in_one_class_order_and_the_classes_metadata(self):
        out = self.run_notebook(slice_columns="region")
        self.assertEqual(json.loads(out), {"output_path": "/Volumes/main/ml/scratch/eval-42/predictions.arrow", "rows": 12})
        [(written, path)] = self.rec.written
        self.assertEqual(path, "/Volumes/main/ml/scratch/eval-42/predictions.arrow")
        self.assertEqual(
            written.schema(),
            [("label", "int32"), ("cand_a", "fixed_size_list<float64>[3]"), ("production", "fixed_size_list<float64>[3]"), ("region", "dictionary<int32, utf8>")],
        )
        self.assertEqual(written.metadata, {"mlops.classes": '["bronze", "gold", "silver"]'})
        self.assertEqual(written.values("label").dtype, np.int32)
        self.assertEqual(written.values("label").tolist(), [0, 1, 2] * 4)
        np.testing.assert_allclose(written.values("cand_a"), softmax_rows(self.pdf, [1.0, -0.5, 0.2]))
        # production named its columns silver, bronze, gold: they are reordered into the shared order.
        np.testing.assert_allclose(written.values("production"), softmax_rows(self.pdf, [0.3, 0.1, -0.4]))
        self.assertEqual(written.values("region"), ["(null)", "north", "north", "north"] * 3)
        self.assertEqual(
            self.frame.schemas_seen,
            ["`__label` string, `__slice_0` string, "
             "`__model_0_0` double, `__model_0_1` double, `__model_0_2` double, `__model_1_0` double, `__model_1_1` double, `__model_1_2` double"],
        )
        # Each model is loaded once on the driver (its classes, on the first rows) and once by the batch scorer.
        self.assertEqual(len(self.mlflow.loads), 4)

    def test_numeric_classes_match_labels_by_value_and_stay_numbers_in_the_metadata(self):
        self.pdf["label"] = [float(i % 3) for i in range(12)]
        self.mlflow.models_by_uri["runs:/abc123/model"] = PyfuncModel(MulticlassProbaModel([1.0, -0.5, 0.2], classes=(0, 1, 2)))
        self.mlflow.models_by_uri["models:/churn/3"] = PyfuncModel(MulticlassProbaModel([0.3, 0.1, -0.4], classes=(0, 1, 2)))
        self.run_notebook()
        [(written, _)] = self.rec.written
        self.assertEqual(written.metadata, {"mlops.classes": "[0, 1, 2]"})
        self.assertEqual(written.values("label").tolist(), [0, 1, 2] * 4)

    def test_hard_labels_are_refused_before_the_spark_job(self):
        self.mlflow.models_by_uri["models:/churn/3"] = PyfuncModel(raw=None, predict=lambda X: np.array(["gold"] * len(X)))
        self.assert_fails(
            "model production returned one value per row (hard labels), not class probabilities; multiclass metrics need one probability "
            "per class. Log a model whose probabilities can be read: a scikit-learn-like classifier with predict_proba and classes_ "
            "(e.g. mlflow.sklearn.log_model), or a mlflow.pyfunc.PythonModel whose predict returns a DataFrame with one "
            "probability column per class, named by the class"
        )
        self.assertEqual(self.frame.schemas_seen, [])

    def test_a_model_with_other_classes_fails_naming_both_class_lists(self):
        self.mlflow.models_by_uri["models:/churn/3"] = PyfuncModel(MulticlassProbaModel([0.3, 0.1, -0.4], classes=("bronze", "gold", "platinum")))
        self.assert_fails(
            'model production has classes ["bronze", "gold", "platinum"] but model cand_a has classes ["bronze", "gold", "silver"]; '
            "every model must be trained on the same classes"
        )
        self.assertEqual(self.frame.schemas_seen, [])

    def test_a_label_value_that_is_not_a_class_fails_naming_it(self):
        self.pdf.loc[4, "label"] = "platinum"
        self.assert_fails("label column 'label' has the value 'platinum' at row 4, which is not one of the models' classes [\"bronze\", \"gold\", \"silver\"] (rows with such values: 1)")

    def test_a_missing_label_fails(self):
        self.pdf.loc[7, "label"] = None
        self.assert_fails("label column 'label' has 1 missing values (first at row 7)")

    def test_probabilities_must_sum_to_one_per_row(self):
        self.mlflow.models_by_uri["models:/churn/3"] = PyfuncModel(raw=None, predict=constant_rows([0.5, 0.25, 0.0]))
        self.assert_fails("model production: the probabilities of row 0 sum to 0.75, not 1 (tolerance 1e-06; 12 rows are off)")

    def test_a_sum_within_the_tolerance_is_accepted(self):
        self.mlflow.models_by_uri["models:/churn/3"] = PyfuncModel(raw=None, predict=constant_rows([0.5, 0.25, 0.25 + 5e-7]))
        self.assertEqual(json.loads(self.run_notebook())["rows"], 12)

    def test_negative_and_non_finite_probabilities_fail(self):
        self.mlflow.models_by_uri["models:/churn/3"] = PyfuncModel(raw=None, predict=constant_rows([1.25, -0.25, 0.0]))
        self.assert_fails('model production produced a negative probability -0.25 at row 0 (class "gold")')
        self.rec = Recorder()
        self.mlflow.models_by_uri["models:/churn/3"] = PyfuncModel(raw=None, predict=constant_rows([0.5, np.nan, 0.5]))
        self.assert_fails("model production produced 12 non-finite probabilities (NaN or infinity; first at row 0)")

    def test_one_hot_hard_labels_are_refused(self):
        self.mlflow.models_by_uri["models:/churn/3"] = PyfuncModel(raw=None, predict=lambda X: pd.DataFrame({c: [1.0 * (i % 3 == k) for i in range(len(X))] for k, c in enumerate(CLASSES)}))
        self.assert_fails("model production returned one-hot hard labels (every probability 0 or 1), not probabilities; multiclass metrics need class probabilities")


class MulticlassProbabilitiesTest(unittest.TestCase):
    def setUp(self):
        self.pdf = multiclass_frame(n=6)

    def error(self, model):
        with self.assertRaises(nb.ScoringError) as caught:
            nb.model_class_probabilities(model, self.pdf, "label", "m")
        return str(caught.exception)

    def test_predict_proba_in_the_models_own_class_order(self):
        matrix, classes = nb.model_class_probabilities(PyfuncModel(MulticlassProbaModel([1, 2, 3], classes=("c", "a", "b"))), self.pdf, "label", "m")
        self.assertEqual(classes, ["c", "a", "b"])
        np.testing.assert_allclose(matrix, softmax_rows(self.pdf, [1, 2, 3]))
        aligned = nb.align_to_classes("m", matrix, classes, ["a", "b", "c"], "first")
        np.testing.assert_allclose(aligned, softmax_rows(self.pdf, [1, 2, 3])[:, [1, 2, 0]])

    def test_predict_proba_without_classes_fails(self):
        raw = MulticlassProbaModel([1, 2, 3])
        del raw.classes_
        self.assertEqual(self.error(PyfuncModel(raw)), "model m has predict_proba but no classes_, so its probability columns cannot be matched to classes")

    def test_a_spark_ml_output_is_not_one_column_per_class(self):
        predict = lambda X: pd.DataFrame({"prediction": [0.0] * len(X), "probability": [np.array([0.2, 0.3, 0.5])] * len(X)})  # noqa: E731
        self.assertEqual(
            self.error(PyfuncModel(raw=None, predict=predict)),
            "model m returned prediction columns ['prediction', 'probability']; multiclass scoring needs one numeric probability column per class, "
            "named by the class (or a model with predict_proba and classes_)",
        )

    def test_an_array_without_class_names_fails(self):
        self.assertEqual(
            self.error(PyfuncModel(raw=None, predict=lambda X: softmax_rows(X, [1, 2, 3]))),
            "model m returned an array of shape (6, 3) without class names; return a DataFrame with one probability column per class, "
            "named by the class, or log a model with predict_proba and classes_",
        )

    def test_a_one_column_output_is_hard_labels(self):
        self.assertTrue(self.error(PyfuncModel(raw=None, predict=lambda X: pd.DataFrame({"label": ["a"] * len(X)}))).startswith("model m returned one value per row (hard labels)"))

    def test_class_values_and_keys(self):
        self.assertEqual([nb.class_value(v) for v in [np.int64(2), np.float64(1.5), "x", True, np.str_("y")]], [2, 1.5, "x", "true", "y"])
        self.assertEqual(nb.class_key(1), nb.class_key(1.0))
        self.assertNotEqual(nb.class_key("1"), nb.class_key(1))
        with self.assertRaises(nb.ScoringError) as caught:
            nb.align_to_classes("m", np.zeros((1, 2)), [1, 1.0], [1, 2], "m")
        self.assertEqual(str(caught.exception), "model m lists a class twice: [1, 1.0]")
        with self.assertRaises(nb.ScoringError) as caught:
            nb.align_to_classes("m", np.ones((1, 1)), ["a"], ["a"], "m")
        self.assertEqual(str(caught.exception), 'model m has classes ["a"]; multiclass needs at least 2 classes')


class RegressionRunTest(unittest.TestCase):
    def setUp(self):
        rng = np.random.RandomState(5)
        self.pdf = pd.DataFrame({"x1": rng.normal(size=9), "x2": rng.normal(size=9)})
        self.pdf["label"] = 2.0 * self.pdf["x1"] + self.pdf["x2"]
        self.mlflow = FakeMlflow(
            {
                # predict_proba must never be called for regression: the raw prediction is the score.
                "runs:/abc123/model": PyfuncModel(raw=NoProba(), predict=lambda X: 2.0 * X["x1"] + X["x2"] + 0.1),
                "models:/churn/3": PyfuncModel(raw=None, predict=lambda X: (X["x1"] > 0).astype(int).to_numpy()),
            }
        )
        self.rec = Recorder()
        self.frame = None

    def run_notebook(self, **over):
        self.frame = FakeDataFrame(self.pdf)
        values = dict(problem_type="regression")
        values.update(over)
        spark = FakeSpark({"main.ml.eval": self.frame})
        return nb.run(FakeDbutils(params(**values)), spark, self.mlflow, write_table=self.rec.write, remove_tree=self.rec.rmtree, makedirs=self.rec.makedirs)

    def assert_fails(self, message):
        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook()
        self.assertEqual(str(caught.exception), message)
        self.assertEqual(self.rec.written, [])

    def test_writes_the_label_and_raw_predictions_as_float64(self):
        self.assertEqual(json.loads(self.run_notebook())["rows"], 9)
        [(written, _)] = self.rec.written
        self.assertEqual(written.schema(), [("label", "float64"), ("cand_a", "float64"), ("production", "float64")])
        self.assertEqual(written.metadata, {})
        np.testing.assert_allclose(written.values("label"), 2.0 * self.pdf["x1"] + self.pdf["x2"])
        np.testing.assert_allclose(written.values("cand_a"), 2.0 * self.pdf["x1"] + self.pdf["x2"] + 0.1)
        # Whole numbers are predictions too in regression (no hard-label check).
        self.assertEqual(written.values("production").tolist(), (self.pdf["x1"] > 0).astype(float).tolist())
        self.assertEqual(self.frame.schemas_seen, ["`__label` double, `__model_0` double, `__model_1` double"])

    def test_a_prediction_with_several_columns_fails(self):
        self.mlflow.models_by_uri["models:/churn/3"] = PyfuncModel(raw=None, predict=lambda X: pd.DataFrame({"mean": X["x1"], "std": X["x2"]}))
        self.assert_fails("model production returned 2 prediction columns ['mean', 'std']; regression needs one numeric prediction per row")

    def test_a_non_numeric_prediction_fails(self):
        self.mlflow.models_by_uri["models:/churn/3"] = PyfuncModel(raw=None, predict=lambda X: np.array(["high"] * len(X), dtype=object))
        self.assert_fails("model production returned non-numeric predictions (string, e.g. 'high'); regression needs one number per row")

    def test_a_non_finite_prediction_fails(self):
        self.mlflow.models_by_uri["models:/churn/3"] = PyfuncModel(raw=None, predict=lambda X: np.where(X.index.to_numpy() == 2, np.inf, 1.0))
        self.assert_fails("model production produced 1 non-finite predictions (NaN or infinity; first at row 2)")

    def test_a_missing_or_non_numeric_label_fails(self):
        self.pdf["label"] = self.pdf["label"].astype(object)
        self.pdf.loc[3, "label"] = None
        self.pdf.loc[5, "label"] = "n/a"
        self.assert_fails("label column 'label' has 2 missing, non-numeric or infinite values (first at row 3); regression needs a finite number on every row")

    def test_one_column_frames_and_column_vectors_are_one_prediction_per_row(self):
        for predict in [lambda X: pd.DataFrame({"p": X["x1"]}), lambda X: X[["x1"]].to_numpy(), lambda X: list(X["x1"])]:
            got = nb.regression_predictions(PyfuncModel(raw=None, predict=predict), self.pdf, "label", "m")
            self.assertEqual(got.dtype, np.float64)
            np.testing.assert_allclose(got, self.pdf["x1"])


class NoProba:
    feature_names_in_ = np.array(["x1", "x2"])

    def predict_proba(self, X):
        raise AssertionError("predict_proba must not be called for regression")


class SliceRunTest(unittest.TestCase):
    def setUp(self):
        self.pdf = evaluation_frame(n=10)
        self.pdf["region"] = ["north", None, "south", "north", "", "south", "north", None, "south", "north"]
        self.pdf["tier"] = [1.0, np.nan, 3.0, 1.0, 2.0, 2.0, 3.0, 1.0, np.nan, 2.0]  # an int column with nulls, as pandas gets it
        self.mlflow = FakeMlflow({"runs:/abc123/model": PyfuncModel(ProbaModel(3.0)), "models:/churn/3": PyfuncModel(ProbaModel(0.5))})
        self.rec = Recorder()
        self.frame = FakeDataFrame(self.pdf, spark_types={"tier": "int"})

    def run_notebook(self, **over):
        spark = FakeSpark({"main.ml.eval": self.frame})
        return nb.run(FakeDbutils(params(**over)), spark, self.mlflow, write_table=self.rec.write, remove_tree=self.rec.rmtree, makedirs=self.rec.makedirs)

    def test_slice_columns_are_written_as_dictionary_strings_with_a_null_segment(self):
        self.assertEqual(json.loads(self.run_notebook(slice_columns="region, tier"))["rows"], 10)
        [(written, _)] = self.rec.written
        self.assertEqual(
            written.schema(),
            [("label", "int8"), ("cand_a", "float64"), ("production", "float64"), ("region", "dictionary<int32, utf8>"), ("tier", "dictionary<int32, utf8>")],
        )
        self.assertEqual(written.values("region"), ["north", "(null)", "south", "north", "", "south", "north", "(null)", "south", "north"])
        self.assertEqual(written.values("tier"), ["1", "(null)", "3", "1", "2", "2", "3", "1", "(null)", "2"])
        self.assertEqual(self.frame.schemas_seen, ["`__label` double, `__slice_0` string, `__slice_1` string, `__model_0` double, `__model_1` double"])

    def test_a_missing_slice_column_fails_listing_the_columns_before_any_model_is_read(self):
        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook(slice_columns="regoin")
        self.assertEqual(str(caught.exception), "slice column 'regoin' is not in the evaluation data (columns: x1, x2, label, region, tier)")
        self.assertEqual(self.mlflow.downloads, [])

    def test_a_slice_column_of_another_type_fails(self):
        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook(slice_columns="x1")
        self.assertEqual(
            str(caught.exception),
            "slice column 'x1' has type double; a slice column must be a string, integer, boolean, date or decimal column (cast or bucket it in evaluation_query)",
        )
        self.assertEqual(self.mlflow.downloads, [])

    def test_segment_names(self):
        import datetime
        import decimal

        cases = [
            ("north", "string", "north"),
            (None, "string", "(null)"),
            (np.nan, "bigint", "(null)"),
            (pd.NaT, "date", "(null)"),
            (7.0, "bigint", "7"),
            (np.int64(7), "int", "7"),
            (True, "boolean", "true"),
            (np.bool_(False), "boolean", "false"),
            (datetime.date(2026, 1, 2), "date", "2026-01-02"),
            (decimal.Decimal("10.50"), "decimal(4,2)", "10.50"),
        ]
        for value, spark_type, name in cases:
            self.assertEqual(nb.segment_name(value, spark_type), name, msg=repr(value))


def real_or_fake_pyarrow():
    """pyarrow when installed (as on Databricks), else a stand-in that records the same calls and spells types as
    pyarrow prints them, so the expected schema below is the one pyarrow gives."""
    try:
        import pyarrow

        return pyarrow
    except ImportError:
        return FakePyarrow


class FakeArrowType:
    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text


class FakeArrowArray:
    def __init__(self, arrow_type, values):
        self.type = arrow_type
        self.values = values

    def __len__(self):
        return len(self.values)

    def to_pylist(self):
        return list(self.values)

    def dictionary_encode(self):
        return FakeArrowArray(FakeArrowType("dictionary<values=%s, indices=int32, ordered=0>" % self.type), self.values)


class FakePyarrow:
    """pyarrow's API as the writer calls it (pa.array, Array.dictionary_encode, FixedSizeListArray.from_arrays,
    pa.field, pa.schema(metadata=...), Table.from_arrays)."""

    int8 = staticmethod(lambda: FakeArrowType("int8"))
    int32 = staticmethod(lambda: FakeArrowType("int32"))
    int64 = staticmethod(lambda: FakeArrowType("int64"))
    float64 = staticmethod(lambda: FakeArrowType("double"))
    string = staticmethod(lambda: FakeArrowType("string"))

    @staticmethod
    def array(values, type):
        return FakeArrowArray(type, np.asarray(values).tolist() if isinstance(values, np.ndarray) else list(values))

    class FixedSizeListArray:
        @staticmethod
        def from_arrays(values, list_size):
            flat = values.values
            rows = [flat[i : i + list_size] for i in range(0, len(flat), list_size)]
            return FakeArrowArray(FakeArrowType("fixed_size_list<item: %s>[%d]" % (values.type, list_size)), rows)

    class Field:
        def __init__(self, name, arrow_type):
            self.name = name
            self.type = arrow_type

    @staticmethod
    def field(name, arrow_type):
        return FakePyarrow.Field(name, arrow_type)

    class Schema(list):
        metadata = None

    @staticmethod
    def schema(fields, metadata=None):
        schema = FakePyarrow.Schema(fields)
        schema.metadata = {k.encode(): v.encode() for k, v in metadata.items()} if metadata else None
        return schema

    class Table:
        def __init__(self, arrays, schema):
            self.schema = schema
            self.num_rows = len(arrays[0])
            self.by_name = {f.name: a for f, a in zip(schema, arrays)}

        @staticmethod
        def from_arrays(arrays, schema):
            return FakePyarrow.Table(arrays, schema)

        def column(self, name):
            return self.by_name[name]


class ArrowTableTest(unittest.TestCase):
    def test_multiclass_schema_types_metadata_and_values(self):
        table = nb.OutputTable()
        table.add("label", nb.INT32, np.array([2, 0], dtype="int32"))
        table.add("cand_a", "fixed_size_list<float64>[3]", np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]))
        table.add("region", nb.DICTIONARY_STRING, ["north", "(null)"])
        table.metadata[nb.CLASSES_METADATA_KEY] = '["bronze", "gold", "silver"]'
        result = nb.arrow_table(table, real_or_fake_pyarrow())
        self.assertEqual(
            [(f.name, str(f.type)) for f in result.schema],
            [("label", "int32"), ("cand_a", "fixed_size_list<item: double>[3]"), ("region", "dictionary<values=string, indices=int32, ordered=0>")],
        )
        self.assertEqual(result.schema.metadata, {b"mlops.classes": b'["bronze", "gold", "silver"]'})
        self.assertEqual(result.num_rows, 2)
        self.assertEqual(result.column("label").to_pylist(), [2, 0])
        self.assertEqual(result.column("cand_a").to_pylist(), [[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
        self.assertEqual(result.column("region").to_pylist(), ["north", "(null)"])

    def test_binary_and_regression_schemas_have_no_metadata(self):
        table = nb.OutputTable()
        table.add("label", nb.INT8, np.array([1, 0]))
        table.add("cand_a", nb.FLOAT64, np.array([0.9, 0.2]))
        result = nb.arrow_table(table, real_or_fake_pyarrow())
        self.assertEqual([(f.name, str(f.type)) for f in result.schema], [("label", "int8"), ("cand_a", "double")])
        self.assertIsNone(result.schema.metadata)
        self.assertEqual(result.column("cand_a").to_pylist(), [0.9, 0.2])


class NotebookFormatTest(unittest.TestCase):
    def test_is_a_databricks_source_notebook_whose_entry_cell_is_guarded(self):
        with open(_NOTEBOOK, encoding="utf-8") as f:
            text = f.read()
        self.assertTrue(text.startswith("# Databricks notebook source\n"))
        self.assertIn("\n# COMMAND ----------\n", text)
        self.assertIn('if __name__ == "__main__" and "dbutils" in globals():', text)
        self.assertIn("dbutils.notebook.exit(run(dbutils, spark, _mlflow))", text)
        # The only Spark conf write is the guarded one in enable_arrow (serverless refuses unguarded ones).
        self.assertEqual(text.count("spark.conf.set("), 1)
        self.assertIn("    try:\n        spark.conf.set(ARROW_CONF, \"true\")\n    except Exception", text)


if __name__ == "__main__":
    unittest.main()
