"""The scoring notebook's switch and its comparison on Spark (issue 23; docs/spark-notebook.md), with the fakes of
test_evaluate_models plus a Spark session that answers the SQL it expects (any other statement fails the test), so
the statements sent are checked against spark_sql's rendering and the exit JSON is checked exactly."""
import decimal
import json
import math
import os
import sys
import unittest

import numpy as np
import pandas as pd

import test_evaluate_models as base

sys.path.insert(0, os.path.join(base._HERE, ".."))
import spark_sql as sq  # noqa: E402

nb = base.nb
D = decimal.Decimal
OUT = "/Volumes/main/ml/scratch/eval-42"
SRC = {"table": "mlops_eval_scores", "key": "k", "label": "y", "scores": ["s0", "s1"]}
# keyedSeed64Decimal('release-7') in the TypeScript engine.
SEED64_RELEASE_7 = "8304300664119214597"
NO_POSITIVES = "slices (sliceColumns)"


class Row:
    def __init__(self, values):
        self.values = values

    def asDict(self):
        return dict(self.values)


class SqlResult:
    def __init__(self, rows):
        self.rows = rows

    def collect(self):
        return [Row(r) for r in self.rows]


class Writer:
    def __init__(self, frame):
        self.frame = frame
        self.how = None

    def mode(self, how):
        self.how = how
        return self

    def parquet(self, path):
        self.frame.log.append(("write.parquet", self.how, path))
        self.frame.files[path] = self.frame.pdf.copy()


class SparkFrame(base.FakeDataFrame):
    """A DataFrame that also counts, writes Parquet and registers a temporary view, logging each action."""

    def __init__(self, pdf, log, files, spark_types=None):
        super().__init__(pdf, batch_rows=3, spark_types=spark_types)
        self.log, self.files = log, files

    def limit(self, n):
        return SparkFrame(self.pdf.head(n), self.log, self.files, self.spark_types)

    def count(self):
        self.log.append(("count",))
        return len(self.pdf)

    def mapInPandas(self, fn, schema):
        self.log.append(("mapInPandas", schema))
        return SparkFrame(super().mapInPandas(fn, schema).pdf, self.log, self.files)

    @property
    def write(self):
        return Writer(self)

    def createOrReplaceTempView(self, name):
        self.log.append(("view", name))
        self.files["view:" + name] = self.pdf


class SparkSession:
    """spark as the Spark path uses it. `answer(query, view)` returns the rows of an expected statement, else None."""

    def __init__(self, frame, answer):
        self.frame, self.answer = frame, answer
        self.calls = frame.log
        self.conf = base.FakeConf(False, self.calls)
        self.sent = []
        session = self

        class Read:
            @staticmethod
            def parquet(path):
                session.calls.append(("read.parquet", path))
                return SparkFrame(frame.files[path], session.calls, frame.files)

        class Catalog:
            @staticmethod
            def dropTempView(name):
                session.calls.append(("dropTempView", name))
                return frame.files.pop("view:" + name, None) is not None

        self.read, self.catalog = Read, Catalog

    def table(self, name):
        self.calls.append(("table", name))
        return self.frame

    def sql(self, query):
        self.sent.append(query)
        rows = self.answer(query, self.frame.files.get("view:mlops_eval_scores"))
        if rows is None:
            raise AssertionError("unexpected SQL: " + query[:400])
        return SqlResult(rows)


def key_check(view):
    keys = view["k"].tolist()
    return [{"n": len(keys), "distinct_keys": len(set(keys)), "out_of_range": 0}]


def fingerprint_of(view):
    """renderFingerprintSql's row, computed from the scored rows with Python integers."""
    k = [int(x) for x in view["k"]]
    y = [int(x) for x in view["y"]]
    row = {"n": len(k), "positives": sum(y), "key_sum": D(sum(k)), "positive_key_sum": D(sum(a * b for a, b in zip(k, y)))}
    for m in range(2):
        row["score_sum%d" % m] = D(sum(math.floor(float(s) * 2.0**40) for s in view["s%d" % m]))
    return [row]


def comparison(method="delong", metric="roc_auc", seed="release-7", resamples=200, unsupported=None):
    return json.dumps({"metric": metric, "method": method, "seed": seed, "resamples": resamples, "unsupported": unsupported})


class SparkPathBase(unittest.TestCase):
    def setUp(self):
        self.pdf = base.evaluation_frame(n=10)
        self.pdf["rid"] = [1000 + 7 * i for i in range(10)]
        self.mlflow = base.FakeMlflow({"runs:/abc123/model": base.PyfuncModel(base.ProbaModel(3.0)), "models:/churn/3": base.PyfuncModel(base.ProbaModel(0.5))})
        self.rec = base.Recorder()
        self.texts = []
        self.positives = int(self.pdf["label"].sum())
        self.spark_types = {"rid": "bigint"}

    def run_notebook(self, answer=lambda q, v: None, **over):
        self.frame = SparkFrame(self.pdf, [], {}, spark_types=self.spark_types)
        self.spark = SparkSession(self.frame, answer)
        values = base.params(**over)
        out = nb.run(
            base.FakeDbutils(values),
            self.spark,
            self.mlflow,
            write_table=self.rec.write,
            remove_tree=self.rec.rmtree,
            makedirs=self.rec.makedirs,
            write_text=lambda path, text: self.texts.append((path, text)),
        )
        return json.loads(out)

    def fingerprint_json(self):
        view = self.scored
        [row] = fingerprint_of(view)
        return {
            "rows": "10",
            "positives": str(self.positives),
            "keySum": str(row["key_sum"]),
            "positiveKeySum": str(row["positive_key_sum"]),
            "scoreSums": [str(row["score_sum0"]), str(row["score_sum1"])],
        }

    def common_answer(self, query, view):
        self.scored = view
        if query == sq.render_row_key_check_sql("spark", SRC):
            return key_check(view)
        if query == sq.render_fingerprint_sql("spark", SRC):
            return fingerprint_of(view)
        return None


class SwitchTest(SparkPathBase):
    def test_at_the_limit_the_local_path_runs_and_says_so(self):
        out = self.run_notebook(local_row_limit="10", comparison=comparison())
        self.assertEqual(out, {"comparison": "local", "local_row_limit": 10, "output_path": OUT + "/predictions.arrow", "rows": 10})
        self.assertEqual(self.frame.log[:2], [("conf.set", nb.ARROW_CONF, "true"), ("table", "main.ml.eval")])
        self.assertEqual(self.frame.log[2], ("count",))
        self.assertEqual(self.frame.log[3], ("mapInPandas", "`__label` double, `__model_0` double, `__model_1` double"))
        self.assertEqual(len(self.rec.written), 1)

    def test_one_row_above_the_limit_the_comparison_runs_on_spark(self):
        def answer(query, view):
            return self.common_answer(query, view) or (
                [{"m": 0, "cuts": [0.5]}, {"m": 1, "cuts": [0.5]}]
                if query == sq.render_delong_cut_points_sql("spark", SRC, 2)
                else [{"m": m, "bk": 0, "pos": self.positives, "neg": 10 - self.positives} for m in range(2)]
                if query == sq.render_delong_bucket_totals_sql("spark", SRC, [[0.5], [0.5]])
                else None
            )

        with self.assertRaises(AssertionError) as caught:  # the third action is not answered here; the next test does it
            self.run_notebook(answer, local_row_limit="9", comparison=comparison(), row_key_column="rid")
        self.assertTrue(str(caught.exception).startswith("unexpected SQL: WITH dl_long AS (SELECT CAST(`k` AS BIGINT) AS k"), str(caught.exception))
        self.assertEqual(self.frame.log[2], ("count",))
        self.assertEqual(self.frame.log[3], ("mapInPandas", "`k` bigint, `y` int, `s0` double, `s1` double"))
        # Cleaned up even though it failed: the view, the models and the scores.
        self.assertEqual(self.frame.log[-1], ("dropTempView", "mlops_eval_scores"))
        self.assertEqual(self.rec.removed, [OUT + "/models", OUT + "/spark-scores"])

    def test_without_a_limit_nothing_is_counted_and_the_exit_json_is_unchanged(self):
        out = self.run_notebook(comparison=comparison(unsupported="anything"))
        self.assertEqual(out, {"output_path": OUT + "/predictions.arrow", "rows": 10})
        self.assertNotIn(("count",), self.frame.log)

    def test_max_rows_applies_before_the_count(self):
        out = self.run_notebook(local_row_limit="5", max_rows="5", comparison=comparison())
        self.assertEqual(out["comparison"], "local")
        self.assertEqual(out["rows"], 5)


class SparkDelongTest(SparkPathBase):
    def test_delong_three_actions_and_the_exact_sums_json(self):
        P, N = self.positives, 10 - self.positives
        cuts = [[0.25, 0.25], [0.5]]
        totals = [
            {"m": 1, "bk": 1, "pos": P - 2, "neg": N - 1},
            {"m": 0, "bk": 0, "pos": 1, "neg": 2},
            {"m": 0, "bk": 2, "pos": P - 1, "neg": N - 2},
            {"m": 1, "bk": 0, "pos": 2, "neg": 1},
        ]
        # The driver's step, written out: per model, the positives and negatives of the earlier buckets.
        offsets = {"positives": P, "negatives": N, "rows": [[0, 0, 0, 0], [0, 2, 1, 2], [1, 0, 0, 0], [1, 1, 2, 1]]}
        sums_rows = [
            {"y": 1, "n": P, "a0": D("61"), "a1": D("55"), "p_0_0": D("801"), "p_0_1": D("702"), "p_1_1": D("650")},
            {"y": 0, "n": N, "a0": D("61"), "a1": D("55"), "p_0_0": D("931"), "p_0_1": D("840"), "p_1_1": D("777")},
        ]
        expected_sql = [
            sq.render_row_key_check_sql("spark", SRC),
            sq.render_fingerprint_sql("spark", SRC),
            sq.render_delong_cut_points_sql("spark", SRC, 2),
            sq.render_delong_bucket_totals_sql("spark", SRC, cuts),
            sq.render_delong_sums_sql("spark", SRC, cuts, offsets),
        ]
        canned = {
            expected_sql[2]: [{"m": 1, "cuts": [0.5]}, {"m": 0, "cuts": [0.25, 0.25]}],
            expected_sql[3]: totals,
            expected_sql[4]: sums_rows,
        }
        out = self.run_notebook(lambda q, v: self.common_answer(q, v) or canned.get(q), local_row_limit="9", comparison=comparison(), row_key_column="rid")
        self.assertEqual(self.spark.sent, expected_sql)
        self.assertEqual(
            out,
            {
                "comparison": "spark",
                "rows": 10,
                "local_row_limit": 9,
                "result": {
                    "format": "mlopspipelines.spark-sums/v1",
                    "generator": 1,
                    "lossScaleBits": 40,
                    "rows": "10",
                    "positives": str(P),
                    "models": ["cand_a", "production"],
                    "fingerprint": self.fingerprint_json(),
                    "delong": {
                        "positives": P,
                        "negatives": N,
                        "positiveSums": ["61", "55"],
                        "negativeSums": ["61", "55"],
                        "positiveProducts": ["801", "702", "0", "650"],
                        "negativeProducts": ["931", "840", "0", "777"],
                    },
                    "bootstrap": None,
                },
            },
        )
        # The scored view holds the keys, the labels and both models' scores.
        self.assertEqual(self.scored["k"].tolist(), self.pdf["rid"].tolist())
        self.assertEqual(self.scored["y"].tolist(), self.pdf["label"].tolist())
        z = 3.0 * self.pdf["x1"] + self.pdf["x2"]
        np.testing.assert_allclose(self.scored["s0"], 1 / (1 + np.exp(-z)))
        self.assertEqual(
            [c for c in self.frame.log if c[0] in ("write.parquet", "read.parquet", "view", "dropTempView")],
            [("write.parquet", "overwrite", OUT + "/spark-scores"), ("read.parquet", OUT + "/spark-scores"), ("view", "mlops_eval_scores"), ("dropTempView", "mlops_eval_scores")],
        )
        self.assertEqual(self.rec.written, [])
        self.assertEqual(self.texts, [])
        self.assertEqual(self.rec.removed, [OUT + "/models", OUT + "/spark-scores"])
        self.assertEqual([d[0] for d in self.mlflow.downloads], ["runs:/abc123/model", "models:/churn/3"])

    def test_totals_that_disagree_with_the_scored_rows_fail(self):
        canned_cuts = [{"m": 0, "cuts": []}, {"m": 1, "cuts": []}]

        def answer(q, v):
            if q == sq.render_delong_cut_points_sql("spark", SRC, 2):
                return canned_cuts
            if q == sq.render_delong_bucket_totals_sql("spark", SRC, [[], []]):
                return [{"m": m, "bk": 0, "pos": 1, "neg": 9} for m in range(2)]
            return self.common_answer(q, v)

        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook(answer, local_row_limit="9", comparison=comparison(), row_key_column="rid")
        self.assertEqual(
            str(caught.exception),
            "the DeLong bucket totals (1 positives, 9 negatives) differ from the scored rows (%d positives of 10); the data changed while they were compared" % self.positives,
        )

    def test_repeated_keys_fail_on_the_key_check(self):
        self.pdf["rid"] = [100] * 2 + list(range(8))
        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook(self.common_answer, local_row_limit="9", comparison=comparison(), row_key_column="rid")
        self.assertEqual(str(caught.exception), "row_key_column 'rid' repeats keys: 9 distinct keys for 10 rows; each row needs a distinct key")
        self.assertEqual(self.spark.sent, [sq.render_row_key_check_sql("spark", SRC)])


def draw_row(b, weight, positive, losses=("1000", "2000")):
    return {"b": b, "weight": weight, "positive_weight": positive, "loss0": D(losses[0]), "loss1": D(losses[1])}


class SparkBootstrapTest(SparkPathBase):
    LOSSES = ["brier", "brier"]

    def test_keyed_sums_with_redraws_until_both_classes(self):
        R = 1 << 20
        expected_sql = [
            sq.render_row_key_check_sql("spark", SRC),
            sq.render_fingerprint_sql("spark", SRC),
            sq.render_loss_totals_sql("spark", SRC, self.LOSSES),
            sq.render_keyed_loss_sums_sql("spark", SRC, "release-7", self.LOSSES, {"count": 3}),
            sq.render_keyed_loss_sums_sql("spark", SRC, "release-7", self.LOSSES, [1 + R]),
            sq.render_keyed_loss_sums_sql("spark", SRC, "release-7", self.LOSSES, [1 + 2 * R]),
        ]
        canned = {
            expected_sql[2]: [{"weight": 10, "positive_weight": self.positives, "loss0": D("1234567890123"), "loss1": D("2345678901234")}],
            # Resample 1 has no positive weight, then no negative weight: two redraws.
            expected_sql[3]: [draw_row(2, 12, 6), draw_row(0, 11, 5), draw_row(1, 9, 0)],
            expected_sql[4]: [draw_row(1 + R, 10, 10)],
            expected_sql[5]: [draw_row(1 + 2 * R, 8, 3, ("77", "88"))],
        }
        out = self.run_notebook(
            lambda q, v: self.common_answer(q, v) or canned.get(q),
            local_row_limit="9",
            comparison=comparison("bootstrap", "brier", resamples=3),
            row_key_column="rid",
        )
        self.assertEqual(self.spark.sent, expected_sql)

        def draw(b, weight, positive, losses=("1000", "2000")):
            return {"b": b, "weight": weight, "positiveWeight": positive, "losses": list(losses)}

        self.assertEqual(
            out["result"]["bootstrap"],
            {
                "metric": "brier",
                "seed": "release-7",
                "seed64": SEED64_RELEASE_7,
                "resamples": 3,
                "full": {"weight": "10", "positiveWeight": str(self.positives), "losses": ["1234567890123", "2345678901234"]},
                "draws": [draw(0, "11", "5"), draw(1, "9", "0"), draw(2, "12", "6"), draw(1 + R, "10", "10"), draw(1 + 2 * R, "8", "3", ("77", "88"))],
            },
        )
        self.assertIsNone(out["result"]["delong"])
        self.assertEqual(out["result"]["fingerprint"], self.fingerprint_json())
        self.assertEqual(sorted(out), ["comparison", "local_row_limit", "result", "rows"])

    def test_keyed_roc_auc_rank_sums_with_cut_points_redraws_and_an_empty_draw(self):
        R = 1 << 20
        cuts = [[0.25], [0.5, 0.75]]
        expected_sql = [
            sq.render_row_key_check_sql("spark", SRC),
            sq.render_fingerprint_sql("spark", SRC),
            sq.render_delong_cut_points_sql("spark", SRC, 2),
            sq.render_rank_totals_sql("spark", SRC, cuts),
            sq.render_keyed_rank_sums_sql("spark", SRC, "release-7", cuts, {"count": 3}),
            sq.render_keyed_rank_sums_sql("spark", SRC, "release-7", cuts, [1 + R]),
            sq.render_keyed_rank_sums_sql("spark", SRC, "release-7", cuts, [1 + 2 * R]),
        ]

        def rank_row(b, weight, positive, ranks):
            return {"b": b, "weight": weight, "positive_weight": positive, "rank0": D(ranks[0]), "rank1": D(ranks[1])}

        canned = {
            expected_sql[2]: [{"m": 1, "cuts": [0.5, 0.75]}, {"m": 0, "cuts": [0.25]}],
            expected_sql[3]: [rank_row(0, 10, self.positives, ("30", "25"))],
            # Resample 1 has no negative weight; its first redraw gives no row any weight (no row back), the second has both.
            expected_sql[4]: [rank_row(2, 12, 6, ("40", "50")), rank_row(0, 11, 5, ("41", "42")), rank_row(1, 9, 9, ("0", "0"))],
            expected_sql[5]: [],
            expected_sql[6]: [rank_row(1 + 2 * R, 8, 3, ("17", "19"))],
        }
        out = self.run_notebook(
            lambda q, v: self.common_answer(q, v) or canned.get(q),
            local_row_limit="9",
            comparison=comparison("bootstrap", "roc_auc", resamples=3),
            row_key_column="rid",
        )
        self.assertEqual(self.spark.sent, expected_sql)

        def draw(b, weight, positive, ranks):
            return {"b": b, "weight": weight, "positiveWeight": positive, "rankSums": list(ranks)}

        self.assertEqual(
            out["result"]["bootstrap"],
            {
                "metric": "roc_auc",
                "seed": "release-7",
                "seed64": SEED64_RELEASE_7,
                "resamples": 3,
                "full": {"weight": "10", "positiveWeight": str(self.positives), "rankSums": ["30", "25"]},
                "draws": [
                    draw(0, "11", "5", ("41", "42")),
                    draw(1, "9", "9", ("0", "0")),
                    draw(2, "12", "6", ("40", "50")),
                    draw(1 + R, "0", "0", ("0", "0")),
                    draw(1 + 2 * R, "8", "3", ("17", "19")),
                ],
            },
        )
        self.assertIsNone(out["result"]["delong"])

    def test_keyed_rank_sums_for_an_index_not_asked_for_fail(self):
        cuts = [[0.25], [0.5]]

        def answer(q, v):
            if q == sq.render_delong_cut_points_sql("spark", SRC, 2):
                return [{"m": 0, "cuts": [0.25]}, {"m": 1, "cuts": [0.5]}]
            if q == sq.render_rank_totals_sql("spark", SRC, cuts):
                return [{"b": 0, "weight": 10, "positive_weight": 3, "rank0": D(1), "rank1": D(1)}]
            if q == sq.render_keyed_rank_sums_sql("spark", SRC, "7", cuts, {"count": 1}):
                return [{"b": 5, "weight": 4, "positive_weight": 2, "rank0": D(1), "rank1": D(1)}]
            return self.common_answer(q, v)

        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook(answer, local_row_limit="9", comparison=comparison("bootstrap", "roc_auc", seed="7", resamples=1), row_key_column="rid")
        self.assertEqual(str(caught.exception), "the keyed resample sums came back for other generator indices than asked (2 rows for 1 indices)")

    def test_sixteen_draws_without_both_classes_fail_as_the_engine_does(self):
        def answer(q, v):
            if q == sq.render_loss_totals_sql("spark", SRC, self.LOSSES):
                return [{"weight": 10, "positive_weight": 3, "loss0": D(1), "loss1": D(1)}]
            for a in range(16):
                indices = {"count": 1} if a == 0 else [a << 20]
                if q == sq.render_keyed_loss_sums_sql("spark", SRC, "7", self.LOSSES, indices):
                    return [draw_row(a << 20, 4, 0)]
            return self.common_answer(q, v)

        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook(answer, local_row_limit="9", comparison=comparison("bootstrap", "brier", seed="7", resamples=1), row_key_column="rid")
        self.assertEqual(str(caught.exception), "keyed Poisson resample 0 missed a class in 16 draws; the data are too small to bootstrap")
        self.assertEqual(len(self.spark.sent), 3 + 16)

    def test_large_sums_go_to_the_volume_and_the_exit_value_names_the_file(self):
        B = 20000
        sums_query = sq.render_keyed_loss_sums_sql("spark", SRC, "release-7", self.LOSSES, {"count": B})

        def answer(q, v):
            if q == sq.render_loss_totals_sql("spark", SRC, self.LOSSES):
                return [{"weight": 10, "positive_weight": self.positives, "loss0": D(5), "loss1": D(6)}]
            if q == sums_query:
                return [draw_row(b, 10 + b % 3, 4, ("123456789012", "234567890123")) for b in range(B)]
            return self.common_answer(q, v)

        out = self.run_notebook(answer, local_row_limit="9", comparison=comparison("bootstrap", "brier", resamples=B), row_key_column="rid")
        self.assertEqual(out, {"comparison": "spark", "rows": 10, "local_row_limit": 9, "result_path": OUT + "/spark-sums.json"})
        [(path, text)] = self.texts
        self.assertEqual(path, OUT + "/spark-sums.json")
        self.assertGreater(len(text.encode("utf-8")), 1000000)
        sums = json.loads(text)
        self.assertEqual(len(sums["bootstrap"]["draws"]), B)
        self.assertEqual(sums["bootstrap"]["draws"][B - 1], {"b": B - 1, "weight": "11", "positiveWeight": "4", "losses": ["123456789012", "234567890123"]})
        self.assertEqual(text, json.dumps(sums, separators=(",", ":")))

    def test_the_inline_limit_is_1000000_bytes_of_sums(self):
        params = {"output_path": OUT, "local_row_limit": 9}
        for size, inline in ((1000000, True), (1000001, False)):
            sums = {"pad": "x" * (size - len('{"pad":""}'))}
            written = []
            out = json.loads(nb.spark_exit_value(params, 10, sums, lambda p, t: written.append((p, t))))
            self.assertEqual("result" in out, inline, size)
            self.assertEqual(written, [] if inline else [(OUT + "/spark-sums.json", json.dumps(sums, separators=(",", ":")))])


class ShiftingLimit(SparkFrame):
    """df.limit(n) as Spark may run it without an ordering: every action takes n rows, but not the same n rows
    (each action starts 3 rows further into the table)."""

    def __init__(self, full, n, log, files, spark_types):
        super().__init__(full.head(n), log, files, spark_types)
        self.full, self.n, self.picked = full, n, []

    def pick(self):
        start = 3 * len(self.picked)
        rows = self.full.iloc[[(start + i) % len(self.full) for i in range(self.n)]].reset_index(drop=True)
        self.picked.append(rows)
        return rows

    def count(self):
        self.log.append(("count",))
        return len(self.pick())

    def mapInPandas(self, fn, schema):
        self.pdf = self.pick()
        return super().mapInPandas(fn, schema)


class TableWithShiftingLimit(SparkFrame):
    def limit(self, n):
        self.limited = ShiftingLimit(self.pdf, n, self.log, self.files, self.spark_types)
        return self.limited


class MaxRowsOnSparkTest(SparkPathBase):
    """With max_rows, the rows counted and the rows scored may be different rows (limit without an ordering); every sum
    must come from the scored rows, read back from their Parquet files, so the sums describe one set of rows."""

    def test_every_sum_is_computed_from_the_scored_rows_not_from_the_limited_source(self):
        self.pdf = base.evaluation_frame(n=14)
        self.pdf["rid"] = [1000 + 7 * i for i in range(14)]
        losses = ["brier", "brier"]

        def answer(q, v):
            if q == sq.render_loss_totals_sql("spark", SRC, losses):
                return [{"weight": 10, "positive_weight": int(v["y"].sum()), "loss0": D(5), "loss1": D(6)}]
            if q == sq.render_keyed_loss_sums_sql("spark", SRC, "release-7", losses, {"count": 1}):
                return [draw_row(0, 10, 4)]
            return self.common_answer(q, v)

        self.frame = TableWithShiftingLimit(self.pdf, [], {}, spark_types=self.spark_types)
        self.spark = SparkSession(self.frame, answer)
        values = base.params(max_rows="10", local_row_limit="9", comparison=comparison("bootstrap", "brier", resamples=1), row_key_column="rid")
        dbutils = base.FakeDbutils(values)
        out = json.loads(nb.run(dbutils, self.spark, self.mlflow, write_table=self.rec.write, remove_tree=self.rec.rmtree, makedirs=self.rec.makedirs))
        counted, scored = self.frame.limited.picked
        # The fake did pick other rows for the scoring than for the count, with the same number of rows.
        self.assertNotEqual(sorted(counted["rid"]), sorted(scored["rid"]))
        # Two actions on the limited source, the count and the scoring (written once as Parquet); every statement after
        # them reads the view over the Parquet files.
        source_actions = [c for c in self.frame.log if c[0] in ("count", "mapInPandas")]
        self.assertEqual(source_actions, [("count",), ("mapInPandas", "`k` bigint, `y` int, `s0` double, `s1` double")])
        self.assertEqual([c for c in self.frame.log if c[0] == "read.parquet"], [("read.parquet", OUT + "/spark-scores")])
        self.assertEqual(sorted(self.scored["k"].tolist()), sorted(scored["rid"].tolist()))
        result = out["result"]
        self.assertEqual((out["rows"], result["rows"], result["fingerprint"]["rows"]), (10, "10", "10"))
        self.assertEqual(result["fingerprint"]["keySum"], str(sum(scored["rid"])))
        self.assertNotEqual(result["fingerprint"]["keySum"], str(sum(counted["rid"])))
        self.assertEqual(result["fingerprint"]["positives"], str(int(scored["label"].sum())))
        self.assertEqual(result["bootstrap"]["full"]["positiveWeight"], str(int(scored["label"].sum())))


class SparkRefusalTest(SparkPathBase):
    def assert_refused(self, message, **over):
        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook(**over)
        self.assertEqual(str(caught.exception), message)
        # Refused after the count, before any model is downloaded or any folder made.
        self.assertEqual(self.frame.log[-1], ("count",))
        self.assertEqual(self.mlflow.downloads, [])
        self.assertEqual(self.rec.made, [])

    def test_an_unsupported_comparison_names_rows_limit_reason_and_max_rows(self):
        self.assert_refused(
            "10 rows is above the local row limit 9, and the comparison on Spark does not support slices (sliceColumns); set maxRows to at most 9 "
            "to compare on the agent, or raise localRowLimit (the agent needs about under 1 MB for 10 rows)",
            local_row_limit="9",
            comparison=comparison(unsupported=NO_POSITIVES),
            row_key_column="rid",
        )

    def test_the_notebook_checks_what_it_can_compute_even_when_the_task_did_not(self):
        refusal = "10 rows is above the local row limit 9, and the comparison on Spark does not support %s; set maxRows to at most 9 to compare on the agent, or raise localRowLimit (the agent needs about under 1 MB for 10 rows)"
        self.assert_refused(
            refusal % "log_loss by delong (it computes roc_auc by delong, and roc_auc, average_precision, log_loss or brier by the keyed bootstrap)",
            local_row_limit="9",
            comparison=comparison("delong", "log_loss"),
            row_key_column="rid",
        )
        self.pdf["region"] = ["north", "south"] * 5
        self.assert_refused(refusal % "slices (slice_columns are judged on the agent only)", local_row_limit="9", comparison=comparison(), row_key_column="rid", slice_columns="region")
        self.assert_refused(
            refusal % "roc_auc by delong for regression (it computes rmse or mae by the keyed bootstrap)", local_row_limit="9", comparison=comparison(), row_key_column="rid", problem_type="regression"
        )

    def test_no_row_key_column(self):
        self.assert_refused(
            "10 rows is above the local row limit 9, so the comparison runs on Spark, which needs rowKeyColumn: a column of the evaluation data holding "
            "a distinct integer from 0 to 2^40 - 1 (1099511627776) per row (the keyed bootstrap draws each row's weights from its key, and DeLong's sums "
            "pair each row's components by it); set rowKeyColumn, or set maxRows to at most 9 to compare on the agent",
            local_row_limit="9",
            comparison=comparison(),
        )

    def test_the_agent_estimate_grows_with_rows_and_models(self):
        self.assertEqual(nb.agent_bytes_text(10**9, 3), "66.0 GB")
        self.assertEqual(nb.agent_bytes_text(10**6, 2), "44 MB")

    def test_a_bad_score_or_key_fails_inside_the_spark_job(self):
        # A bigint column with a null reaches pandas as float64 with NaN.
        self.pdf.loc[4, "rid"] = np.nan
        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook(self.common_answer, local_row_limit="9", comparison=comparison(), row_key_column="rid")
        self.assertEqual(str(caught.exception), "row_key_column 'rid' has 1 missing or non-numeric values; every row needs its own integer key")
        self.pdf["rid"] = range(10)
        self.mlflow.models_by_uri["models:/churn/3"] = base.PyfuncModel(predict=lambda X: np.where(X["x1"] > 0, np.inf, 0.5))
        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook(self.common_answer, local_row_limit="9", comparison=comparison(), row_key_column="rid")
        self.assertEqual(str(caught.exception), "model production produced %d non-finite scores (NaN or infinity)" % int((self.pdf["x1"].iloc[:3] > 0).sum()))
        self.mlflow.models_by_uri["models:/churn/3"] = base.PyfuncModel(predict=lambda X: X["x1"] * 2.0**24)
        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook(self.common_answer, local_row_limit="9", comparison=comparison(), row_key_column="rid")
        self.assertTrue(str(caught.exception).endswith("; the comparison on Spark takes scores between -2^23 and 2^23"), str(caught.exception))


class SwitchParametersTest(unittest.TestCase):
    def parse(self, **over):
        return nb.parse_parameters(base.FakeWidgets(base.params(**over)).get)

    def assert_message(self, message, **over):
        with self.assertRaises(nb.ScoringError) as caught:
            self.parse(**over)
        self.assertEqual(str(caught.exception), message)

    def test_absent_parameters_mean_no_switch(self):
        p = self.parse()
        self.assertEqual((p["local_row_limit"], p["comparison"], p["row_key_column"]), (None, None, None))

    def test_valid_parameters(self):
        p = self.parse(local_row_limit=" 150000000 ", comparison=comparison("bootstrap", "log_loss", seed=42, resamples=1000), row_key_column="rid")
        self.assertEqual(p["local_row_limit"], 150000000)
        self.assertEqual(p["comparison"], {"metric": "log_loss", "method": "bootstrap", "seed": "42", "resamples": 1000, "unsupported": None})
        self.assertEqual(p["row_key_column"], "rid")

    def test_the_limit_is_a_positive_whole_number(self):
        for bad in ("0", "-5", "1.5", "1e6", "auto"):
            self.assert_message("local_row_limit must be a positive whole number (empty: always compare on the agent), got %r" % bad, local_row_limit=bad, comparison=comparison())

    def test_the_comparison_is_required_and_checked(self):
        self.assert_message("comparison is required with local_row_limit (it says what to compute if the rows are above the limit)", local_row_limit="5")
        self.assert_message(
            'comparison must be a JSON object {"metric", "method", "seed", "resamples", "unsupported"}, got list', local_row_limit="5", comparison="[]"
        )
        self.assert_message("comparison.method must be delong or bootstrap, got 'permutation'", local_row_limit="5", comparison=comparison("permutation"))
        self.assert_message("comparison.resamples must be a positive whole number, got 0", local_row_limit="5", comparison=comparison(resamples=0))
        self.assert_message("comparison.seed must be the seed's text (a string), got None", local_row_limit="5", comparison=comparison(seed=None))
        self.assert_message("comparison.unsupported must be null or a reason in words, got ' '", local_row_limit="5", comparison=comparison(unsupported=" "))
        self.assert_message(
            "comparison.metric must be a metric name such as roc_auc, log_loss or brier, got 'AUC; drop'", local_row_limit="5", comparison=comparison(metric="AUC; drop")
        )

    def test_the_key_column_is_a_column_name_of_its_own(self):
        self.assert_message("row_key_column 'row-id' is not a column name (letters, digits, _; at most 128)", row_key_column="row-id")
        self.assert_message("row_key_column 'label' is the label column", row_key_column="label")
        self.assert_message("row_key_column 'cand_a' collides with the model key 'cand_a' (both would be columns of the predictions file)", row_key_column="cand_a")


class LocalPathKeyTest(SparkPathBase):
    def test_the_file_carries_the_key_column_as_int64(self):
        out = self.run_notebook(row_key_column="rid")
        self.assertEqual(out, {"output_path": OUT + "/predictions.arrow", "rows": 10})
        [(written, _)] = self.rec.written
        self.assertEqual(written.schema(), [("label", "int8"), ("cand_a", "float64"), ("production", "float64"), ("rid", "int64")])
        self.assertEqual(written.values("rid").tolist(), [1000 + 7 * i for i in range(10)])
        self.assertEqual(written.values("rid").dtype, np.int64)
        self.assertEqual(self.frame.log[2], ("mapInPandas", "`__label` double, `__key` bigint, `__model_0` double, `__model_1` double"))

    def test_repeated_or_out_of_range_keys_fail(self):
        self.pdf["rid"] = [3, 3, 4, 4, 4] + list(range(10, 15))
        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook(row_key_column="rid")
        self.assertEqual(str(caught.exception), "row_key_column 'rid' repeats keys (5 rows share a key with another row, e.g. 3); each row needs a distinct key")
        self.pdf["rid"] = [2**40] + list(range(9))
        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook(row_key_column="rid")
        self.assertEqual(str(caught.exception), "row_key_column 'rid' holds 1099511627776, which is not an integer from 0 to 2^40 - 1 (1099511627776)")

    def test_a_key_column_that_is_missing_or_not_integral_fails_before_any_model_is_read(self):
        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook(row_key_column="x1")
        self.assertEqual(
            str(caught.exception), "row_key_column 'x1' has type double; it must be an integer column (tinyint, smallint, int or bigint) holding a distinct key from 0 to 2^40 - 1 per row"
        )
        with self.assertRaises(nb.ScoringError) as caught:
            self.run_notebook(row_key_column="ridd")
        self.assertEqual(str(caught.exception), "the evaluation data has no row_key_column 'ridd' (columns: x1, x2, label, rid)")
        self.assertEqual(self.mlflow.downloads, [])


class ArrowInt64Test(unittest.TestCase):
    def test_int64_column(self):
        pa = base.real_or_fake_pyarrow()
        array = nb.arrow_array(pa, nb.INT64, np.array([0, 2**40 - 1], dtype="int64"))
        self.assertEqual(str(array.type), "int64")


if __name__ == "__main__":
    unittest.main()
