"""Renders SQL with the notebook's spark_sql.py for test/spark/python-sql.test.ts: reads a JSON list of
{"fn": <snake_case name>, "args": [...]} from stdin and prints the JSON list of the results (a rendered
string, or {"error": message} when the renderer refuses the parameters)."""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tasks", "DatabricksEvaluatePromoteV1", "notebooks"))

import spark_sql  # noqa: E402


def main():
    cases = json.load(sys.stdin)
    out = []
    for case in cases:
        try:
            if case["fn"] == "seed64":
                # Decimal text: a 64-bit integer does not survive JSON.parse as a number.
                out.append(str(spark_sql.seed64(spark_sql.js_number(case["args"][0]) if not isinstance(case["args"][0], str) else case["args"][0])))
            else:
                result = getattr(spark_sql, case["fn"])(*case["args"])
                # A list of CTEs is compared as one text, joined as the TypeScript side joins it.
                out.append("\n--\n".join(result) if isinstance(result, list) else result)
        except (ValueError, TypeError) as e:
            out.append({"error": str(e)})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
