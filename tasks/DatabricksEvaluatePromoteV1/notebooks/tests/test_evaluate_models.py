"""Unit tests of the scoring notebook's logic. MLflow, Spark, dbutils and pyarrow are replaced by small fakes, so
these run with Debian's python3 + pandas: `python3 -m unittest discover -s <notebooks>/tests -t <notebooks>`."""
import importlib.util
import json
import os
import re
import unittest

import numpy as np
import pandas as pd

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("evaluate_models", os.path.join(_HERE, "..", "evaluate_models.py"))
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


class FakeDataFrame:
    def __init__(self, pdf, batch_rows=3):
        self.pdf = pdf.reset_index(drop=True)
        self.batch_rows = batch_rows
        self.columns = list(pdf.columns)
        self.schema_seen = None

    def limit(self, n):
        return FakeDataFrame(self.pdf.head(n), self.batch_rows)

    def mapInPandas(self, fn, schema):
        self.schema_seen = schema
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
    }
    base.update(over)
    return base


class Recorder:
    def __init__(self):
        self.written = []
        self.removed = []
        self.made = []

    def write(self, pdf, path):
        self.written.append((pdf.copy(), path))

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
        self.assertEqual(list(written.columns), ["label", "cand_a", "production"])
        self.assertEqual(written["label"].tolist(), self.pdf["label"].tolist())
        self.assertEqual(str(written["cand_a"].dtype), "float64")
        z = 3.0 * self.pdf["x1"] + self.pdf["x2"]
        np.testing.assert_allclose(written["cand_a"], 1 / (1 + np.exp(-z)))
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
        np.testing.assert_allclose(written["cand_a"], 1 / (1 + np.exp(-(2.0 * self.pdf["x1"] + self.pdf["x2"]))))
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


class NotebookFormatTest(unittest.TestCase):
    def test_is_a_databricks_source_notebook_whose_entry_cell_is_guarded(self):
        with open(os.path.join(_HERE, "..", "evaluate_models.py"), encoding="utf-8") as f:
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
