"""Keyed Poisson bootstrap weights for the Spark comparison (issue 23), in numpy.

The twin of the TypeScript engine's generator (src/engine/keyed-poisson.ts; definition and test vectors
in docs/keyed-poisson.md): resample b gives the row with integer key k (0 <= k < 2**40) the weight
Pois1(H(seed, k, b)), with

    seed64      = mix64(FNV-1a 64 of the UTF-8 bytes of "mlops-eval:keyed-poisson:v1:" + seed)
    H(s, k, b)  = mix64(s + (k + b * 2**40) * 0x9E3779B97F4A7C15 mod 2**64)
    weight      = #{j : T_j <= H >> 11}, T_j = floor(F(j) * 2**53), F the Poisson(1) CDF

mix64 is SplitMix64's finaliser (Steele, Lea & Flood, OOPSLA 2014). All arithmetic is on numpy uint64,
which wraps modulo 2**64 as the definition requires. `seed` is the seed's text exactly as the task
receives it (the engine uses String(seed)).

Nothing here imports Spark: the functions take and return numpy arrays, so they run in a
`mapInPandas` kernel on the cluster and in the repository's tests with the system python3.
"""

import numpy as np

GENERATOR_VERSION = 1
KEY_LIMIT = 1 << 40
RESAMPLE_INDEX_LIMIT = 1 << 24
LOSS_SCALE_BITS = 40

# floor(F(j) * 2**53) for j = 0..17 (the engine's POISSON1_THRESHOLDS; T_17 = 2**53 - 1).
POISSON1_THRESHOLDS = np.array(
    [
        3313563428353947, 6627126856707895, 8283908570884869, 8836169142277194, 8974234285125275,
        9001847313694891, 9006449485123161, 9007106938184342, 9007189119816990, 9007198251109506,
        9007199164238758, 9007199247250508, 9007199254168154, 9007199254700280, 9007199254738289,
        9007199254740823, 9007199254740982, 9007199254740991,
    ],
    dtype=np.uint64,
)

_PHI = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK64 = (1 << 64) - 1


def _mix64_int(z):
    """SplitMix64's finaliser on a Python int (used once per seed)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def seed64(seed):
    """The generator's 64-bit seed of a seed text."""
    h = 0xCBF29CE484222325
    for byte in ("mlops-eval:keyed-poisson:v1:" + str(seed)).encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & _MASK64
    return _mix64_int(h)


def _mix64(z):
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def keyed_hash(seed_64, keys, b):
    """H(seed64, key, b) for an array of keys (uint64 array out)."""
    keys = np.asarray(keys, dtype=np.uint64)
    if keys.size and int(keys.max()) >= KEY_LIMIT:
        raise ValueError("row keys must be integers from 0 to 2**40 - 1")
    if not 0 <= int(b) < RESAMPLE_INDEX_LIMIT:
        raise ValueError("the resample index must be from 0 to 2**24 - 1")
    counter = keys + np.uint64(int(b) << 40)
    with np.errstate(over="ignore"):
        z = np.uint64(seed_64) + counter * _PHI
    return _mix64(z)


def poisson_of_u53(u53):
    """The Poisson(1) weight of 53-bit integers: the number of thresholds at or below each."""
    return np.searchsorted(POISSON1_THRESHOLDS, np.asarray(u53, dtype=np.uint64), side="right").astype(np.uint8)


def keyed_weights(seed_64, keys, b):
    """The weights of resample index b for each key (uint8 array)."""
    return poisson_of_u53(keyed_hash(seed_64, keys, b) >> np.uint64(11))


def fixed_point_losses(losses):
    """q = floor(loss * 2**40) as int64 (exact: scaling by a power of two, then floor)."""
    return np.floor(np.asarray(losses, dtype=np.float64) * float(1 << LOSS_SCALE_BITS)).astype(np.int64)


def keyed_loss_sums(seed_64, keys, labels, q_columns, b):
    """Sum of weights, of positive weights, and per model of w*q (Python ints, exact) for resample index b."""
    w = keyed_weights(seed_64, keys, b).astype(np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    sums = []
    for q in q_columns:
        q = np.asarray(q, dtype=np.int64)
        # w*q < 2**51; split q at 2**24 so each partial sum stays exact in int64 for up to 2**34 rows.
        hi, lo = q >> 24, q & ((1 << 24) - 1)
        sums.append((int((w * hi).sum()) << 24) + int((w * lo).sum()))
    return int(w.sum()), int((w * labels).sum()), sums
