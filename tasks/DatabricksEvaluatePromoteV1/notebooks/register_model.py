# Databricks notebook source
# MAGIC %md
# MAGIC # Register a model version in Unity Catalog for Evaluate & Promote
# MAGIC
# MAGIC Imported and run by the **Evaluate & Promote** Azure Pipelines task when the registry is Unity Catalog.
# MAGIC A Unity Catalog version is registered client-side: MLflow creates the version, uploads the model files to
# MAGIC its storage location with temporary credentials and finalizes it. Only MLflow's own client does that, so
# MAGIC the task runs this notebook on Databricks instead of calling the REST API.
# MAGIC
# MAGIC Parameters (widgets): `model_name` (`<catalog>.<schema>.<model>`), `model_uri` (`runs:/<run_id>/<path>` for an
# MAGIC MLflow 2 model, `models:/<model_id>` for an MLflow 3 logged model), `run_id` (the run the model comes from;
# MAGIC required with `models:/`), `tags` (optional JSON object of string tags for a new version; Unity Catalog tag
# MAGIC keys may not contain `. , - = / :`).
# MAGIC
# MAGIC Idempotent: when a version of the model was already registered from this run and model (and did not fail),
# MAGIC it is reused and nothing is registered.
# MAGIC
# MAGIC Exit value: `{"reused": true|false, "version": "<n>"}`.

# COMMAND ----------

import json
import re

PARAMETERS = ("model_name", "model_uri", "run_id", "tags")
REGISTRY_URI = "databricks-uc"
# Upper bound on MLflow's own wait for READY; the task waits for READY again with its own timeout.
AWAIT_REGISTRATION_SECONDS = 600
_PART = r"[^.\s`'\"/\\]+"
_MODEL_NAME = re.compile(r"^%s\.%s\.%s$" % (_PART, _PART, _PART))
_RUN_URI = re.compile(r"^runs:/([0-9A-Za-z]+)/([A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+)*)$")
# A copy across catalogs (the promote action with targetModelName): model_uri names a version of another model.
_VERSION_URI = re.compile(r"^models:/(%s\.%s\.%s)/([1-9][0-9]*)$" % (_PART, _PART, _PART))
# MLflow 3 logged model: models:/<model_id> (one segment; models:/<name>/<version> is a registered version).
_LOGGED_MODEL_URI = re.compile(r"^models:/([A-Za-z0-9_\-]+)$")
_RUN_ID = re.compile(r"^[0-9A-Za-z]+$")
# Unity Catalog tag keys may not contain these (Databricks, "Apply tags to Unity Catalog securable objects").
_UC_TAG_RESERVED = re.compile(r"[.,\-=/:]")


class RegistrationError(Exception):
    """A problem with the parameters or the registry's answer; the message says what to fix."""


def parse_tags(text):
    """`tags`: empty, or a JSON object whose keys and values are strings."""
    text = (text or "").strip()
    if text == "":
        return {}
    try:
        tags = json.loads(text)
    except ValueError as e:
        raise RegistrationError("tags must be a JSON object of string keys and values: %s" % e)
    if not isinstance(tags, dict):
        raise RegistrationError("tags must be a JSON object of string keys and values")
    for k, v in tags.items():
        if not isinstance(k, str) or k == "" or not isinstance(v, str):
            raise RegistrationError("tags must be a JSON object of non-empty string keys and string values; got %r: %r" % (k, v))
        if _UC_TAG_RESERVED.search(k):
            raise RegistrationError("Unity Catalog tag keys may not contain . , - = / or :; got %r (use letters, digits and underscores)" % k)
    return tags


def parse_parameters(get):
    """Reads and validates every parameter through `get(name) -> str` (dbutils.widgets.get)."""
    name = (get("model_name") or "").strip()
    if not _MODEL_NAME.match(name):
        raise RegistrationError("model_name must be a three-level Unity Catalog name <catalog>.<schema>.<model>; got %r" % name)
    uri = (get("model_uri") or "").strip()
    copy_of = _VERSION_URI.match(uri)
    # A version of model_name itself is not a copy: it falls through to the runs:/ error below.
    if copy_of and copy_of.group(1) != name:
        return {"model_name": name, "model_uri": uri, "copy_of": (copy_of.group(1), copy_of.group(2)), "tags": parse_tags(get("tags"))}
    run_id = (get("run_id") or "").strip()
    if run_id and not _RUN_ID.match(run_id):
        raise RegistrationError("run_id must be an MLflow run id; got %r" % run_id)
    m = _RUN_URI.match(uri)
    if m:
        if run_id and run_id != m.group(1):
            raise RegistrationError("run_id %r is not the run of model_uri %r" % (run_id, uri))
        return {"model_name": name, "model_uri": uri, "run_id": m.group(1), "artifact_path": m.group(2), "model_id": None, "tags": parse_tags(get("tags"))}
    m = _LOGGED_MODEL_URI.match(uri)
    if m:
        if not run_id:
            raise RegistrationError("run_id is required with an MLflow 3 model_uri (models:/<model_id>); got none for %r" % uri)
        return {"model_name": name, "model_uri": uri, "run_id": run_id, "artifact_path": None, "model_id": m.group(1), "tags": parse_tags(get("tags"))}
    raise RegistrationError("model_uri must be runs:/<run_id>/<artifact path> (MLflow 2) or models:/<model_id> (MLflow 3); got %r" % uri)


def source_matches(source, run_id, artifact_path):
    """True when a version's source is this run's model: `runs:/<run>/<path>` or the resolved artifact location."""
    if not source:
        return False
    path = artifact_path.strip("/")
    if source == "runs:/%s/%s" % (run_id, path):
        return True
    return ("/%s/" % run_id) in source and source.rstrip("/").endswith("/" + path)


def iter_versions(client, filter_string):
    """Every version matching the filter, following page tokens (MlflowClient returns one page at a time)."""
    token = None
    while True:
        page = client.search_model_versions(filter_string, page_token=token) if token else client.search_model_versions(filter_string)
        for v in page:
            yield v
        token = getattr(page, "token", None)
        if not token:
            return


def logged_model_matches(version, model_id):
    """True when a version was registered from MLflow 3 logged model `model_id`: its model_id, or a models:/<id> source."""
    mid = getattr(version, "model_id", None)
    if mid:
        return mid == model_id
    source = (version.source or "").rstrip("/")
    return source == "models:/" + model_id or ("/models/%s/" % model_id) in source or source.endswith("/models/" + model_id)


def find_existing(client, model_name, run_id, artifact_path, model_id=None):
    """The highest version of the model registered from this run's model (path, or MLflow 3 model id) that did not fail, or None."""
    def same_model(v):
        if model_id:
            return logged_model_matches(v, model_id)
        return source_matches(v.source, run_id, artifact_path)

    found = [
        v
        for v in iter_versions(client, "name='%s'" % model_name)
        if v.name == model_name and v.run_id == run_id and same_model(v) and str(v.status) != "FAILED_REGISTRATION"
    ]
    if not found:
        return None
    return max(found, key=lambda v: int(v.version))


def exit_value(version, reused):
    """The exit value contract the task reads: `{"reused": <bool>, "version": "<n>"}`."""
    version = str(version)
    if not re.match(r"^[1-9]\d*$", version):
        raise RegistrationError("the registry answered a version that is not a positive integer: %r" % version)
    return json.dumps({"reused": bool(reused), "version": version}, sort_keys=True)


def copy_version(client, params, log=print):
    """Reuses the copy of the source version made earlier (same source URI, not failed), or copies it with MLflow's
    MlflowClient.copy_model_version, which registers source `models:/<model>/<version>` with the source's run id."""
    name, uri = params["model_name"], params["model_uri"]
    found = [v for v in iter_versions(client, "name='%s'" % name) if v.name == name and v.source == uri and str(v.status) != "FAILED_REGISTRATION"]
    if found:
        existing = max(found, key=lambda v: int(v.version))
        log("Reusing %s version %s, already copied from %s." % (name, existing.version, uri))
        return exit_value(existing.version, True)
    mv = client.copy_model_version(uri, name)
    log("Copied %s to %s version %s." % (uri, name, mv.version))
    return exit_value(mv.version, False)


def register(mlflow, client, params, log=print):
    """Reuses the version already registered from this run, or registers one with MLflow's client (upload + finalize)."""
    if params.get("copy_of"):
        return copy_version(client, params, log)
    existing = find_existing(client, params["model_name"], params["run_id"], params["artifact_path"], params.get("model_id"))
    if existing is not None:
        log("Reusing %s version %s, already registered from %s." % (params["model_name"], existing.version, params["model_uri"]))
        return exit_value(existing.version, True)
    mv = mlflow.register_model(params["model_uri"], params["model_name"], await_registration_for=AWAIT_REGISTRATION_SECONDS, tags=params["tags"] or None)
    if getattr(mv, "run_id", None) and mv.run_id != params["run_id"]:
        raise RegistrationError("MLflow registered %s version %s from run %s, not %s" % (params["model_name"], mv.version, mv.run_id, params["run_id"]))
    value = exit_value(mv.version, False)
    log("Registered %s as %s version %s." % (params["model_uri"], params["model_name"], mv.version))
    return value


def run(dbutils, mlflow, log=print):
    """The notebook: parameters, Unity Catalog registry, idempotent registration; returns the exit value."""
    params = parse_parameters(dbutils.widgets.get)
    # Before the client is created: MlflowClient reads the registry URI when it is constructed.
    mlflow.set_registry_uri(REGISTRY_URI)
    client = mlflow.tracking.MlflowClient()
    return register(mlflow, client, params, log)


# COMMAND ----------

if __name__ == "__main__" and "dbutils" in globals():
    import mlflow as _mlflow

    for _name in PARAMETERS:
        dbutils.widgets.text(_name, "")  # noqa: F821 (provided by Databricks)
    dbutils.notebook.exit(run(dbutils, _mlflow))  # noqa: F821
