"""Unit tests of the Unity Catalog registration notebook. MLflow and dbutils are replaced by small fakes that record
every call: `python3 -m unittest discover -s <notebooks>/tests`."""
import importlib.util
import json
import os
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("register_model", os.path.join(_HERE, "..", "register_model.py"))
nb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nb)

MODEL = "main.ml.churn"
RUN = "0123456789abcdef0123456789abcdef"
URI = "runs:/%s/model" % RUN
MODEL_ID = "m-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
URI3 = "models:/%s" % MODEL_ID


# ---------------------------------------------------------------- fakes


class Version:
    def __init__(self, name, version, run_id, source, status="READY", model_id=None):
        self.name = name
        self.version = version
        self.run_id = run_id
        self.source = source
        self.status = status
        if model_id is not None:
            # MLflow 3's ModelVersion entity has model_id; MLflow 2's has no such attribute.
            self.model_id = model_id


class Page(list):
    """mlflow.store.entities.PagedList: a list with the next page token."""

    def __init__(self, items, token=None):
        super().__init__(items)
        self.token = token


class FakeClient:
    def __init__(self, pages, calls):
        self.pages = pages
        self.calls = calls

    def search_model_versions(self, filter_string, page_token=None):
        self.calls.append(("search_model_versions", filter_string, page_token))
        return self.pages[page_token]


class FakeMlflow:
    """The mlflow module as the notebook uses it: registry URI, client, register_model."""

    def __init__(self, pages=None, registered=None):
        self.calls = []
        self.pages = pages if pages is not None else {None: Page([])}
        self.registered = registered
        outer = self

        class Tracking:
            @staticmethod
            def MlflowClient():
                outer.calls.append(("MlflowClient",))
                return FakeClient(outer.pages, outer.calls)

        self.tracking = Tracking

    def set_registry_uri(self, uri):
        self.calls.append(("set_registry_uri", uri))

    def register_model(self, model_uri, name, await_registration_for=None, tags=None):
        self.calls.append(("register_model", model_uri, name, await_registration_for, tags))
        return self.registered


class FakeWidgets:
    def __init__(self, values):
        self.values = values

    def get(self, name):
        if name not in self.values:
            raise KeyError("InputWidgetNotDefined: %s" % name)
        return self.values[name]


class FakeDbutils:
    def __init__(self, values):
        self.widgets = FakeWidgets(values)


def params(**over):
    values = {"model_name": MODEL, "model_uri": URI, "run_id": "", "tags": ""}
    values.update(over)
    return values


# ---------------------------------------------------------------- tests


class ParseParametersTest(unittest.TestCase):
    def test_reads_the_name_the_run_and_the_artifact_path(self):
        p = nb.parse_parameters(params(tags='{"mlops_build_id": "42"}').get)
        self.assertEqual(p, {"model_name": MODEL, "model_uri": URI, "run_id": RUN, "artifact_path": "model", "model_id": None, "tags": {"mlops_build_id": "42"}})
        self.assertEqual(nb.parse_parameters(params(run_id=RUN).get)["run_id"], RUN)
        self.assertEqual(nb.parse_parameters(params(model_uri="runs:/%s/models/clf" % RUN).get)["artifact_path"], "models/clf")

    def test_rejects_names_that_are_not_three_level_or_carry_quotes(self):
        for bad in ["churn", "main.churn", "a.b.c.d", "main.ml.chu'rn", "main.ml.ch urn", ""]:
            with self.assertRaisesRegex(nb.RegistrationError, "^model_name must be a three-level Unity Catalog name"):
                nb.parse_parameters(params(model_name=bad).get)

    def test_reads_an_mlflow3_logged_model_uri_with_its_run(self):
        p = nb.parse_parameters(params(model_uri=URI3, run_id=RUN).get)
        self.assertEqual(p, {"model_name": MODEL, "model_uri": URI3, "run_id": RUN, "artifact_path": None, "model_id": MODEL_ID, "tags": {}})
        with self.assertRaisesRegex(nb.RegistrationError, r"^run_id is required with an MLflow 3 model_uri \(models:/<model_id>\)"):
            nb.parse_parameters(params(model_uri=URI3).get)
        with self.assertRaisesRegex(nb.RegistrationError, "^run_id 'abc' is not the run of model_uri"):
            nb.parse_parameters(params(run_id="abc").get)

    def test_rejects_uris_that_are_not_a_run_model(self):
        for bad in ["models:/main.ml.churn/3", "runs:/%s/" % RUN, "runs:/%s/../x" % RUN, "dbfs:/x", ""]:
            with self.assertRaisesRegex(nb.RegistrationError, r"^model_uri must be runs:/<run_id>/<artifact path> \(MLflow 2\) or models:/<model_id> \(MLflow 3\)"):
                nb.parse_parameters(params(model_uri=bad, run_id=RUN).get)

    def test_tag_keys_must_be_unity_catalog_safe(self):
        for bad in ['{"mlops.evaluation.build_id": "1"}', '{"a-b": "1"}', '{"a:b": "1"}', '{"a/b": "1"}', '{"a=b": "1"}', '{"a,b": "1"}']:
            with self.assertRaisesRegex(nb.RegistrationError, "^Unity Catalog tag keys may not contain"):
                nb.parse_tags(bad)

    def test_tags_must_be_an_object_of_strings(self):
        self.assertEqual(nb.parse_tags(""), {})
        self.assertEqual(nb.parse_tags(" "), {})
        for bad in ["[1]", '{"a": 1}', '{"": "x"}', "{nope"]:
            with self.assertRaisesRegex(nb.RegistrationError, "^tags must be a JSON object"):
                nb.parse_tags(bad)


class FindExistingTest(unittest.TestCase):
    def test_matches_run_and_path_skips_failed_and_other_models_and_follows_pages(self):
        pages = {
            None: Page(
                [
                    Version(MODEL, "1", RUN, URI),
                    Version(MODEL, "2", "other", "runs:/other/model"),
                    Version(MODEL, "5", RUN, URI, status="FAILED_REGISTRATION"),
                    Version(MODEL, "6", RUN, "runs:/%s/other_model" % RUN),
                ],
                token="p2",
            ),
            "p2": Page([Version(MODEL, "3", RUN, "dbfs:/databricks/mlflow-tracking/7/%s/artifacts/model" % RUN), Version("main.ml.other", "9", RUN, URI)]),
        }
        calls = []
        found = nb.find_existing(FakeClient(pages, calls), MODEL, RUN, "model")
        self.assertEqual(found.version, "3")
        self.assertEqual(calls, [("search_model_versions", "name='main.ml.churn'", None), ("search_model_versions", "name='main.ml.churn'", "p2")])

    def test_mlflow3_matches_the_model_id_or_a_models_source_never_another_logged_model(self):
        pages = {
            None: Page(
                [
                    Version(MODEL, "7", RUN, "models:/m-other", model_id="m-other"),
                    Version(MODEL, "6", RUN, URI),
                    Version(MODEL, "5", RUN, URI3, status="FAILED_REGISTRATION", model_id=MODEL_ID),
                    Version(MODEL, "4", RUN, URI3),
                ]
            )
        }
        self.assertEqual(nb.find_existing(FakeClient(pages, []), MODEL, RUN, None, MODEL_ID).version, "4")
        pages = {None: Page([Version(MODEL, "2", RUN, "dbfs:/databricks/mlflow-tracking/7/models/%s/artifacts" % MODEL_ID)])}
        self.assertEqual(nb.find_existing(FakeClient(pages, []), MODEL, RUN, None, MODEL_ID).version, "2")
        pages = {None: Page([Version(MODEL, "3", "other", URI3, model_id=MODEL_ID)])}
        self.assertIsNone(nb.find_existing(FakeClient(pages, []), MODEL, RUN, None, MODEL_ID))

    def test_none_when_nothing_matches(self):
        self.assertIsNone(nb.find_existing(FakeClient({None: Page([Version(MODEL, "1", "other", "runs:/other/model")])}, []), MODEL, RUN, "model"))


class RunTest(unittest.TestCase):
    def test_registers_with_mlflow_in_unity_catalog_and_exits_with_the_version(self):
        mlflow = FakeMlflow(registered=Version(MODEL, 4, RUN, URI))
        logged = []
        out = nb.run(FakeDbutils(params(tags='{"k": "v"}')), mlflow, logged.append)
        self.assertEqual(out, '{"reused": false, "version": "4"}')
        self.assertEqual(logged, ["Registered %s as main.ml.churn version 4." % URI])
        self.assertEqual(json.loads(out), {"reused": False, "version": "4"})
        # The registry URI is set before the client is created (the client reads it when constructed).
        self.assertEqual(
            mlflow.calls,
            [
                ("set_registry_uri", "databricks-uc"),
                ("MlflowClient",),
                ("search_model_versions", "name='main.ml.churn'", None),
                ("register_model", URI, MODEL, nb.AWAIT_REGISTRATION_SECONDS, {"k": "v"}),
            ],
        )

    def test_reuses_the_version_of_this_run_without_registering(self):
        mlflow = FakeMlflow(pages={None: Page([Version(MODEL, "2", RUN, URI, status="PENDING_REGISTRATION"), Version(MODEL, "1", RUN, URI)])})
        logged = []
        out = nb.run(FakeDbutils(params()), mlflow, logged.append)
        self.assertEqual(out, '{"reused": true, "version": "2"}')
        self.assertEqual(logged, ["Reusing main.ml.churn version 2, already registered from %s." % URI])
        self.assertFalse([c for c in mlflow.calls if c[0] == "register_model"])

    def test_registers_an_mlflow3_logged_model_by_models_uri_and_reuses_it_on_a_rerun(self):
        mlflow = FakeMlflow(registered=Version(MODEL, "3", RUN, URI3, model_id=MODEL_ID))
        out = nb.run(FakeDbutils(params(model_uri=URI3, run_id=RUN, tags='{"mlops_build_id": "42"}')), mlflow, lambda _: None)
        self.assertEqual(out, '{"reused": false, "version": "3"}')
        self.assertEqual(mlflow.calls[-1], ("register_model", URI3, MODEL, nb.AWAIT_REGISTRATION_SECONDS, {"mlops_build_id": "42"}))
        again = FakeMlflow(pages={None: Page([Version(MODEL, "3", RUN, URI3, model_id=MODEL_ID)])})
        self.assertEqual(nb.run(FakeDbutils(params(model_uri=URI3, run_id=RUN)), again, lambda _: None), '{"reused": true, "version": "3"}')
        self.assertFalse([c for c in again.calls if c[0] == "register_model"])

    def test_without_tags_passes_none(self):
        mlflow = FakeMlflow(registered=Version(MODEL, "1", RUN, URI))
        nb.run(FakeDbutils(params()), mlflow, lambda _: None)
        self.assertEqual(mlflow.calls[-1], ("register_model", URI, MODEL, nb.AWAIT_REGISTRATION_SECONDS, None))

    def test_bad_parameters_fail_before_any_mlflow_call(self):
        mlflow = FakeMlflow()
        with self.assertRaises(nb.RegistrationError):
            nb.run(FakeDbutils(params(model_name="churn")), mlflow)
        self.assertEqual(mlflow.calls, [])

    def test_a_version_from_another_run_or_not_a_number_is_an_error(self):
        with self.assertRaisesRegex(nb.RegistrationError, "registered main.ml.churn version 4 from run other, not %s" % RUN):
            nb.run(FakeDbutils(params()), FakeMlflow(registered=Version(MODEL, "4", "other", URI)), lambda _: None)
        with self.assertRaisesRegex(nb.RegistrationError, "not a positive integer"):
            nb.run(FakeDbutils(params()), FakeMlflow(registered=Version(MODEL, "x", RUN, URI)), lambda _: None)


class NotebookFormatTest(unittest.TestCase):
    def test_is_a_databricks_source_notebook_whose_entry_cell_defines_the_widgets_and_exits_with_run(self):
        with open(os.path.join(_HERE, "..", "register_model.py"), encoding="utf-8") as f:
            text = f.read()
        self.assertTrue(text.startswith("# Databricks notebook source\n"))
        self.assertIn("\n# COMMAND ----------\n", text)
        entry = text.split("\n# COMMAND ----------\n")[-1]
        self.assertIn('if __name__ == "__main__" and "dbutils" in globals():', entry)
        self.assertIn("for _name in PARAMETERS:\n        dbutils.widgets.text(_name, \"\")", entry)
        self.assertIn("dbutils.notebook.exit(run(dbutils, _mlflow))", entry)
        self.assertEqual(nb.PARAMETERS, ("model_name", "model_uri", "run_id", "tags"))


if __name__ == "__main__":
    unittest.main()
