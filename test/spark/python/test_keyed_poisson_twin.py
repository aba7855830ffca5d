"""The notebook's numpy generator against the published TypeScript vectors (run by test/spark/python-twin.test.ts)."""

import json
import os
import sys
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tasks", "DatabricksEvaluatePromoteV1", "notebooks"))

import spark_compare as sc  # noqa: E402

with open(os.path.join(ROOT, "test", "fixtures", "engine", "keyed-poisson-vectors.json"), encoding="utf-8") as f:
    VECTORS = json.load(f)
with open(os.path.join(ROOT, "test", "fixtures", "engine", "keyed-poisson-sums.json"), encoding="utf-8") as f:
    SUMS = json.load(f)


class KeyedPoissonTwin(unittest.TestCase):
    def test_thresholds(self):
        self.assertEqual([str(int(t)) for t in sc.POISSON1_THRESHOLDS], VECTORS["thresholds"])

    def test_seed64(self):
        for s in VECTORS["seeds"]:
            self.assertEqual(str(sc.seed64(s["seed"])), s["seed64"], s["seed"])

    def test_vectors(self):
        self.assertEqual(len(VECTORS["vectors"]), 140)
        for v in VECTORS["vectors"]:
            s = sc.seed64(v["seed"])
            h = sc.keyed_hash(s, np.array([int(v["key"])], dtype=np.uint64), v["b"])
            self.assertEqual(str(int(h[0])), v["hash"], v)
            self.assertEqual(str(int(h[0] >> np.uint64(11))), v["u53"], v)
            self.assertEqual(int(sc.keyed_weights(s, np.array([int(v["key"])], dtype=np.uint64), v["b"])[0]), v["weight"], v)

    def test_resample_sums(self):
        # The engine's keyedLossSums on a fixed data set, resample by resample (integers as decimal strings).
        keys = np.array([int(k) for k in SUMS["keys"]], dtype=np.uint64)
        q = [np.array([int(x) for x in col], dtype=np.int64) for col in SUMS["q"]]
        s = sc.seed64(SUMS["seed"])
        for r in SUMS["resamples"]:
            weight, positive, sums = sc.keyed_loss_sums(s, keys, SUMS["labels"], q, r["b"])
            self.assertEqual(weight, r["weight"])
            self.assertEqual(positive, r["positiveWeight"])
            self.assertEqual([str(x) for x in sums], r["losses"])

    def test_fixed_point_losses(self):
        self.assertEqual(sc.fixed_point_losses([0.0, 0.5, 2.0**-41]).tolist(), [0, 1 << 39, 0])

    def test_rejects_out_of_range(self):
        with self.assertRaises(ValueError):
            sc.keyed_hash(1, np.array([1 << 40], dtype=np.uint64), 0)
        with self.assertRaises(ValueError):
            sc.keyed_hash(1, np.array([0], dtype=np.uint64), 1 << 24)


if __name__ == "__main__":
    unittest.main()
