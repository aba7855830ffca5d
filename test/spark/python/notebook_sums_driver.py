"""Runs the scoring notebook's Spark-path steps (evaluate_models.spark_sums) with DuckDB as the SQL engine, for
test/spark/notebook-duckdb.test.ts. Protocol, one JSON object per line: the first line read from stdin holds
{"params": ..., "rows": n}; then for every statement the notebook sends, this prints {"sql": <text>} and reads the
result rows (a JSON list of objects) from stdin; at the end it prints {"result": <sums JSON>} or {"error": <message>}."""

import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
NOTEBOOKS = os.path.join(ROOT, "tasks", "DatabricksEvaluatePromoteV1", "notebooks")
sys.path.insert(0, NOTEBOOKS)
_spec = importlib.util.spec_from_file_location("evaluate_models", os.path.join(NOTEBOOKS, "evaluate_models.py"))
nb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nb)


class Result:
    def __init__(self, rows):
        self.rows = rows

    def collect(self):
        return [dict(r) for r in self.rows]


class RemoteSql:
    """spark.sql answered by the test over stdin/stdout."""

    def sql(self, query):
        sys.stdout.write(json.dumps({"sql": query}) + "\n")
        sys.stdout.flush()
        return Result(json.loads(sys.stdin.readline()))


def main():
    request = json.loads(sys.stdin.readline())
    try:
        result = nb.spark_sums(RemoteSql(), request["params"], request["rows"], dialect="duckdb")
        sys.stdout.write(json.dumps({"result": result}) + "\n")
    except nb.ScoringError as e:
        sys.stdout.write(json.dumps({"error": str(e)}) + "\n")


if __name__ == "__main__":
    main()
