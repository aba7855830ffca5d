"""The registration notebook's copy mode (the promote action with targetModelName): model_uri models:/<model>/<version>
copies that version into model_name with MlflowClient.copy_model_version, or reuses a copy made earlier."""
import importlib.util
import os
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("register_model_copy_mode", os.path.join(_HERE, "..", "register_model.py"))
nb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nb)

SOURCE = "models:/dev.ml.churn/3"


class Version:
    def __init__(self, name, version, source, status="READY"):
        self.name, self.version, self.source, self.status = name, version, source, status


class Client:
    def __init__(self, versions):
        self.versions = versions
        self.calls = []

    def search_model_versions(self, filter_string, page_token=None):
        self.calls.append(("search_model_versions", filter_string))
        return list(self.versions)

    def copy_model_version(self, src_model_uri, dst_name):
        self.calls.append(("copy_model_version", src_model_uri, dst_name))
        return Version(dst_name, "7", src_model_uri)


def params(uri=SOURCE, name="prod.ml.churn"):
    values = {"model_name": name, "model_uri": uri, "tags": ""}
    return nb.parse_parameters(values.get)


class CopyMode(unittest.TestCase):
    def test_parses_a_version_uri_of_another_model(self):
        self.assertEqual(params()["copy_of"], ("dev.ml.churn", "3"))
        with self.assertRaises(nb.RegistrationError):
            params(name="dev.ml.churn")
        with self.assertRaises(nb.RegistrationError):
            params(uri="models:/dev.ml.churn@champion")

    def test_copies_with_mlflow_when_no_copy_exists(self):
        client = Client([Version("prod.ml.churn", "2", "models:/dev.ml.churn/1")])
        self.assertEqual(nb.register(None, client, params(), log=lambda m: None), '{"reused": false, "version": "7"}')
        self.assertEqual(client.calls, [("search_model_versions", "name='prod.ml.churn'"), ("copy_model_version", SOURCE, "prod.ml.churn")])

    def test_a_rerun_reuses_the_copy_and_never_a_failed_one(self):
        client = Client([Version("prod.ml.churn", "4", SOURCE), Version("prod.ml.churn", "5", SOURCE, status="FAILED_REGISTRATION")])
        self.assertEqual(nb.register(None, client, params(), log=lambda m: None), '{"reused": true, "version": "4"}')
        self.assertEqual([c[0] for c in client.calls], ["search_model_versions"])


if __name__ == "__main__":
    unittest.main()
