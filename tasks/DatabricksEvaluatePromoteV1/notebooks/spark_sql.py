"""The comparison's cluster side as SQL, for the scoring notebook's Spark path (issue 23).

A line-by-line port of the engine's renderers (src/engine/spark/sql.ts; docs/scale-out.md and
docs/spark-notebook.md): the same templates, the same function names in snake_case, and the same text for
the same parameters (test/spark/python-sql.test.ts renders many parameter sets with both and asserts the
strings are identical; the DuckDB rendering of the templates is tested for integer equality with the
engine in test/spark/sql.test.ts). Both dialects are ported so that the comparison covers both; the
notebook uses "spark".

Numbers are written into the SQL as JavaScript's String(number) writes them (js_number), because the
templates were written against it: integers in decimal, other doubles in their shortest round-trip form
with JavaScript's exponent rules.

Nothing here imports Spark or numpy: the functions take and return plain Python values. The scoring
notebook inlines this module (src/tasks/evaluate/notebook-compose.ts), so its top-level names are
prefixed where they could clash with the notebook's.
"""

import decimal as _sq_decimal
import re as _sq_re

from spark_compare import KEY_LIMIT, POISSON1_THRESHOLDS, seed64

_SQ_M32 = 4294967295
_SQ_TWO32 = 4294967296
_SQ_IDENT = _sq_re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SQ_TABLE = _sq_re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")
_SQ_INTEGER_TEXT = _sq_re.compile(r"^(0|[1-9][0-9]*)$")


def js_number(x):
    """A number as ECMAScript's Number::toString writes it (ECMA-262, Number.prototype.toString, radix 10): the
    shortest digits that round-trip (Python's repr finds the same digits), in plain notation for exponents from
    -7 to 20 and as d.ddde+n / d.ddde-n outside."""
    if isinstance(x, bool):
        raise TypeError("a boolean is not a number here")
    if isinstance(x, int):
        return str(x)
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError("only finite numbers are written into the SQL, got %r" % x)
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    t = _sq_decimal.Decimal(repr(abs(x))).normalize().as_tuple()
    digits = "".join(str(d) for d in t.digits)
    k = len(digits)
    n = t.exponent + k  # the value is 0.digits * 10^n
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return sign + mantissa + "e" + ("+" if e > 0 else "-") + str(abs(e))


def _sq_text(value):
    """String(value) for the strings and numbers the templates join."""
    return value if isinstance(value, str) else js_number(value)


class _SqDialect:
    def __init__(self, name):
        self.name = name

    def xor(self, a, b):
        return "(%s ^ %s)" % (a, b) if self.name == "spark" else "xor(%s, %s)" % (a, b)

    def div(self, a, b):
        return "(%s div %s)" % (a, _sq_text(b)) if self.name == "spark" else "(%s // %s)" % (a, _sq_text(b))

    def ident(self, name):
        return "`%s`" % name if self.name == "spark" else '"%s"' % name

    def range(self, count):
        return "(SELECT id AS b FROM range(%d))" % count if self.name == "spark" else "(SELECT range AS b FROM range(%d))" % count

    def inline(self, alias, columns, rows):
        values = ", ".join("(%s)" % ", ".join(_sq_text(v) for v in r) for r in rows)
        if self.name == "spark":
            return "(SELECT * FROM VALUES %s AS %s(%s))" % (values, alias, ", ".join(columns))
        return "(SELECT * FROM (VALUES %s) AS %s(%s))" % (values, alias, ", ".join(columns))

    def quantiles(self, expr, levels):
        joined = ", ".join(js_number(v) for v in levels)
        if self.name == "spark":
            return "approx_percentile(%s, array(%s), 10000)" % (expr, joined)
        return "quantile_disc(%s, [%s])" % (expr, joined)


def _sq_dialect(dialect):
    if dialect not in ("spark", "duckdb"):
        raise ValueError("unknown SQL dialect '%s' (expected spark or duckdb)" % dialect)
    return _SqDialect(dialect)


def _sq_check_source(src):
    if not _SQ_TABLE.match(src["table"]):
        raise ValueError("table name '%s' must be letters, digits and underscores, up to catalog.schema.table" % src["table"])
    for c in [src["key"], src["label"]] + list(src["scores"]):
        if not _SQ_IDENT.match(c):
            raise ValueError("column name '%s' must be letters, digits and underscores" % c)
    if len(src["scores"]) == 0:
        raise ValueError("at least one score column is needed")


def _sq_cte(name, source, carry, defs):
    cols = list(carry) + ["%s AS %s" % (expr, alias) for alias, expr in defs]
    return "%s AS (SELECT %s FROM %s)" % (name, ", ".join(cols), source)


def _sq_mulmod32(x, c):
    return "(((%s * %d) + ((%s * %d) & 65535) * 65536) & %d)" % (x, c & 0xFFFF, x, c >> 16, _SQ_M32)


def _sq_mul_stages(D, name, source, carry, c_hi, c_lo):
    al = "(lo & 65535)"
    ah = D.div("lo", 65536)
    cl = c_lo & 0xFFFF
    ch = c_lo >> 16
    a = _sq_cte(
        name + "a",
        source,
        carry,
        [
            ("p_ll", "(%s * %d)" % (al, cl)),
            ("p_lh", "(%s * %d)" % (al, ch)),
            ("p_hl", "(%s * %d)" % (ah, cl)),
            ("p_hh", "(%s * %d)" % (ah, ch)),
            ("p_m1", _sq_mulmod32("lo", c_hi)),
            ("p_m2", _sq_mulmod32("hi", c_lo)),
        ],
    )
    mid = "(%s + (p_lh & 65535) + (p_hl & 65535))" % D.div("p_ll", 65536)
    b = _sq_cte(
        name + "b",
        name + "a",
        carry,
        [
            ("lo", "((p_ll + ((p_lh + p_hl) & 65535) * 65536) & %d)" % _SQ_M32),
            ("hi", "((p_hh + %s + %s + %s + p_m1 + p_m2) & %d)" % (D.div("p_lh", 65536), D.div("p_hl", 65536), D.div(mid, 65536), _SQ_M32)),
        ],
    )
    return [a, b]


def _sq_xor_shift(D, name, source, carry, s):
    return _sq_cte(
        name,
        source,
        carry,
        [
            ("hi", D.xor("hi", D.div("hi", 2**s))),
            ("lo", D.xor("lo", "(((hi * %d) & %d) + %s)" % (2 ** (32 - s), _SQ_M32, D.div("lo", 2**s)))),
        ],
    )


def keyed_seed_halves(seed):
    """(hi, lo) of the generator's seed64 for a seed given as the engine takes it (text, or a number written as
    JavaScript's String(number) writes it)."""
    s = seed64(_sq_text(seed))
    return s >> 32, s & _SQ_M32


def keyed_weight_ctes(dialect, seed, source, carry, indices=None):
    """keyedWeightCtes: the CTEs ending in kp_w (columns carry, b, hi, lo, u53, w)."""
    D = _sq_dialect(dialect)
    s_hi, s_lo = keyed_seed_halves(seed)
    c = list(carry) + ["b"]
    b = "b" if indices is None else "kp_i.b"
    out = [
        _sq_cte(
            "kp_x",
            source if indices is None else "%s CROSS JOIN %s AS kp_i" % (source, indices),
            carry,
            [("b", b), ("lo", "(k & %d)" % _SQ_M32), ("hi", "(%s + %s * 256)" % (D.div("k", _SQ_TWO32), b))],
        )
    ]
    out += _sq_mul_stages(D, "kp_phi", "kp_x", c, 0x9E3779B9, 0x7F4A7C15)
    out.append(
        _sq_cte(
            "kp_add",
            "kp_phib",
            c,
            [("lo", "((lo + %d) & %d)" % (s_lo, _SQ_M32)), ("hi", "((hi + %d + %s) & %d)" % (s_hi, D.div("(lo + %d)" % s_lo, _SQ_TWO32), _SQ_M32))],
        )
    )
    out.append(_sq_xor_shift(D, "kp_s30", "kp_add", c, 30))
    out += _sq_mul_stages(D, "kp_m1", "kp_s30", c, 0xBF58476D, 0x1CE4E5B9)
    out.append(_sq_xor_shift(D, "kp_s27", "kp_m1b", c, 27))
    out += _sq_mul_stages(D, "kp_m2", "kp_s27", c, 0x94D049BB, 0x133111EB)
    out.append(_sq_xor_shift(D, "kp_h", "kp_m2b", c, 31))
    thresholds = [int(t) for t in POISSON1_THRESHOLDS]
    cases = " ".join("WHEN u53 < %d THEN %d" % (t, k) for k, t in enumerate(thresholds))
    out.append(_sq_cte("kp_u", "kp_h", c + ["hi", "lo"], [("u53", "(hi * 2097152 + %s)" % D.div("lo", 2048))]))
    out.append(_sq_cte("kp_w", "kp_u", c + ["hi", "lo", "u53"], [("w", "CASE %s ELSE %d END" % (cases, len(thresholds)))]))
    return out


def _sq_is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _sq_indices_table(D, indices):
    """indices: {"count": n} for 0 .. n - 1, or a list of generator indices (redraws use b + a * 2**20)."""
    if isinstance(indices, dict):
        count = indices.get("count")
        if not (_sq_is_int(count) and 1 <= count <= 2**24):
            raise ValueError("count must be from 1 to 2^24, got %s" % (count,))
        return D.range(count)
    if len(indices) == 0 or any(not (_sq_is_int(b) and 0 <= b < 2**24) for b in indices):
        raise ValueError("generator indices must be a non-empty list of integers from 0 to 2^24 - 1")
    return D.inline("kp_idx", ["b"], [["CAST(%d AS BIGINT)" % b] for b in indices])


def render_keyed_hash_sql(dialect, seed, table):
    """renderKeyedHashSql: H and the weight of every (k, b) row of `table`, for test vectors."""
    if not _SQ_TABLE.match(table):
        raise ValueError("table name '%s' must be letters, digits and underscores, up to catalog.schema.table" % table)
    ctes = keyed_weight_ctes(dialect, seed, "(SELECT CAST(k AS BIGINT) AS k, CAST(b AS BIGINT) AS b FROM %s) AS kp_v" % table, ["k"])
    return "WITH %s\nSELECT k, b, hi, lo, u53, w FROM kp_w ORDER BY k, b" % ",\n".join(ctes)


def fixed_point_loss_sql(dialect, loss, score, label):
    """fixedPointLossSql: q = floor(loss * 2^40) of one score column as a BIGINT expression."""
    D = _sq_dialect(dialect)
    p = "CAST(%s AS DOUBLE)" % D.ident(score)
    y = "CAST(%s AS DOUBLE)" % D.ident(label)
    one = "CAST(1 AS DOUBLE)"
    if loss == "brier":
        l = "((%s - %s) * (%s - %s))" % (y, p, y, p)
    elif loss == "log_loss":
        eps = "(%s / CAST(4503599627370496 AS DOUBLE))" % one
        pc = "least(greatest(%s, %s), %s - %s)" % (p, eps, one, eps)
        l = "(-ln(CASE WHEN %s = %s THEN %s ELSE %s - %s END / ((%s - %s) + %s)))" % (y, one, pc, one, pc, one, pc, pc)
    else:
        raise ValueError("unknown loss '%s' (expected log_loss or brier)" % loss)
    return "CAST(floor(%s * CAST(1099511627776 AS DOUBLE)) AS BIGINT)" % l


def render_row_losses_sql(dialect, src, losses):
    """renderRowLossesSql: per row the key and each model's fixed-point loss, ordered by key."""
    _sq_check_source(src)
    D = _sq_dialect(dialect)
    qs = ["%s AS q%d" % (fixed_point_loss_sql(dialect, losses[m], s, src["label"]), m) for m, s in enumerate(src["scores"])]
    return "SELECT CAST(%s AS BIGINT) AS k, %s FROM %s ORDER BY k" % (D.ident(src["key"]), ", ".join(qs), src["table"])


def render_keyed_loss_sums_sql(dialect, src, seed, losses, indices):
    """renderKeyedLossSumsSql: per generator index b, columns b, weight, positive_weight, loss0, loss1, ..."""
    _sq_check_source(src)
    scores = list(src["scores"])
    if len(losses) != len(scores):
        raise ValueError("%d score columns need %d losses, got %d" % (len(scores), len(scores), len(losses)))
    D = _sq_dialect(dialect)
    qs = ["q%d" % m for m in range(len(scores))]
    rows = "kp_rows AS (SELECT CAST(%s AS BIGINT) AS k, CAST(%s AS BIGINT) AS y, %s FROM %s)" % (
        D.ident(src["key"]),
        D.ident(src["label"]),
        ", ".join("%s AS q%d" % (fixed_point_loss_sql(dialect, losses[m], s, src["label"]), m) for m, s in enumerate(scores)),
        src["table"],
    )
    ctes = [rows] + keyed_weight_ctes(dialect, seed, "kp_rows", ["k", "y"] + qs, _sq_indices_table(D, indices))
    sums = ["SUM(CAST(w * %s AS DECIMAL(20,0))) AS loss%d" % (q, m) for m, q in enumerate(qs)]
    return "WITH %s\nSELECT b, SUM(w) AS weight, SUM(w * y) AS positive_weight, %s FROM kp_w GROUP BY b ORDER BY b" % (",\n".join(ctes), ", ".join(sums))


def render_row_key_check_sql(dialect, src):
    """renderRowKeyCheckSql: one row with n, distinct_keys and out_of_range."""
    _sq_check_source(src)
    D = _sq_dialect(dialect)
    k = D.ident(src["key"])
    return "SELECT COUNT(*) AS n, COUNT(DISTINCT %s) AS distinct_keys, SUM(CASE WHEN %s < 0 OR %s >= %d OR %s IS NULL THEN 1 ELSE 0 END) AS out_of_range FROM %s" % (
        k,
        k,
        k,
        KEY_LIMIT,
        k,
        src["table"],
    )


def _sq_long_cte(D, src):
    parts = [
        "SELECT CAST(%s AS BIGINT) AS k, CAST(%s AS BIGINT) AS y, %d AS m, CAST(%s AS DOUBLE) AS s FROM %s" % (D.ident(src["key"]), D.ident(src["label"]), m, D.ident(s), src["table"])
        for m, s in enumerate(src["scores"])
    ]
    return "dl_long AS (%s)" % " UNION ALL ".join(parts)


def _sq_bucket_expr(cuts):
    per_model = []
    for m, c in enumerate(cuts):
        if len(c) > 1000:
            raise ValueError("model %d has %d cut points; at most 1000" % (m, len(c)))
        whens = " ".join("WHEN s < CAST('%s' AS DOUBLE) THEN %d" % (js_number(x), j) for j, x in enumerate(c))
        per_model.append("WHEN m = %d THEN %s" % (m, "0" if len(c) == 0 else "CASE %s ELSE %d END" % (whens, len(c))))
    return "CASE %s END" % " ".join(per_model)


def render_delong_cut_points_sql(dialect, src, buckets):
    """renderDelongCutPointsSql (action 1): approximate score quantiles per model, columns m, cuts."""
    _sq_check_source(src)
    D = _sq_dialect(dialect)
    if not (_sq_is_int(buckets) and 2 <= buckets <= 1001):
        raise ValueError("buckets must be from 2 to 1001, got %s" % (buckets,))
    levels = [(j + 1) / buckets for j in range(buckets - 1)]
    return "WITH %s\nSELECT m, %s AS cuts FROM dl_long GROUP BY m ORDER BY m" % (_sq_long_cte(D, src), D.quantiles("s", levels))


def render_delong_bucket_totals_sql(dialect, src, cuts):
    """renderDelongBucketTotalsSql (action 2): rows of each class per (model, bucket), columns m, bk, pos, neg."""
    _sq_check_source(src)
    D = _sq_dialect(dialect)
    if len(cuts) != len(src["scores"]):
        raise ValueError("%d models need %d cut point lists, got %d" % (len(src["scores"]), len(src["scores"]), len(cuts)))
    return "WITH %s,\ndl_b AS (SELECT k, y, m, s, %s AS bk FROM dl_long)\nSELECT m, bk, SUM(y) AS pos, SUM(1 - y) AS neg FROM dl_b GROUP BY m, bk ORDER BY m, bk" % (
        _sq_long_cte(D, src),
        _sq_bucket_expr(cuts),
    )


def delong_bucket_offsets(totals, models):
    """delongBucketOffsets (the driver's step between actions 2 and 3): totals is a list of {m, bk, pos, neg};
    returns {"positives", "negatives", "rows": [[m, bk, positives below, negatives below], ...]}."""
    ordered = sorted(totals, key=lambda t: (t["m"], t["bk"]))
    rows = []
    acc = [[0, 0] for _ in range(models)]
    for t in ordered:
        a = acc[t["m"]]
        rows.append([t["m"], t["bk"], a[0], a[1]])
        a[0] += t["pos"]
        a[1] += t["neg"]
    p, n = acc[0]
    if any(a[0] != p or a[1] != n for a in acc):
        raise ValueError("the bucket totals differ between models; every model must score the same rows")
    return {"positives": p, "negatives": n, "rows": rows}


def render_delong_sums_sql(dialect, src, cuts, offsets):
    """renderDelongSumsSql (action 3): columns y, n, a0.. and p_r_s (r <= s), DECIMAL; convert with delong_sums_from_rows."""
    _sq_check_source(src)
    D = _sq_dialect(dialect)
    M = len(src["scores"])
    P = offsets["positives"]

    def win(col):
        return "COALESCE(SUM(%s) OVER (PARTITION BY m, bk ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)" % col

    ctes = [
        _sq_long_cte(D, src),
        "dl_b AS (SELECT k, y, m, s, %s AS bk FROM dl_long)" % _sq_bucket_expr(cuts),
        "dl_ties AS (SELECT m, bk, s, SUM(y) AS gp, SUM(1 - y) AS gn FROM dl_b GROUP BY m, bk, s)",
        "dl_off AS %s" % D.inline("o", ["om", "obk", "pos_below", "neg_below"], offsets["rows"]),
        "dl_run AS (SELECT m, bk, s, gp, gn, %s AS pb, %s AS nb FROM dl_ties)" % (win("gp"), win("gn")),
        "dl_grp AS (SELECT r.m, r.s, r.gp, r.gn, o.pos_below + r.pb AS pb, o.neg_below + r.nb AS nb FROM dl_run r JOIN dl_off o ON r.m = o.om AND r.bk = o.obk)",
        "dl_comp AS (SELECT l.k, l.y, l.m, CASE WHEN l.y = 1 THEN 2 * g.nb + g.gn ELSE 2 * (%s - g.pb - g.gp) + g.gp END AS c FROM dl_b l JOIN dl_grp g ON l.m = g.m AND l.s = g.s)"
        % js_number(P),
        "dl_wide AS (SELECT k, y, %s FROM dl_comp GROUP BY k, y)" % ", ".join("MAX(CASE WHEN m = %d THEN c END) AS c%d" % (m, m) for m in range(M)),
    ]
    cols = ["COUNT(*) AS n"]
    cols += ["SUM(CAST(c%d AS DECIMAL(20,0))) AS a%d" % (r, r) for r in range(M)]
    cols += ["SUM(CAST(c%d * c%d AS DECIMAL(20,0))) AS p_%d_%d" % (r, s, r, s) for r in range(M) for s in range(r, M)]
    return "WITH %s\nSELECT y, %s FROM dl_wide GROUP BY y ORDER BY y" % (",\n".join(ctes), ", ".join(cols))


def integer_text(value):
    """A non-negative integer result (int, decimal.Decimal with no fraction, or its decimal text) as decimal text."""
    if isinstance(value, _sq_decimal.Decimal):
        if value != value.to_integral_value():
            raise ValueError("a sum is not an integer: %s" % value)
        value = int(value)
    text = str(value)
    if isinstance(value, bool) or not _SQ_INTEGER_TEXT.match(text):
        raise ValueError("a sum is not a non-negative integer: %s" % text)
    return text


def delong_sums_from_rows(rows, models):
    """delongSumsFromRows: action 3's two rows (dicts) as the DelongSums object (delong-sums.ts), big integers as text."""

    def by_label(y):
        for r in rows:
            if str(r["y"]) == str(y):
                return r
        raise ValueError("the DeLong sums have no row for label %d; both classes are needed" % y)

    def products(row):
        return [integer_text(row["p_%d_%d" % (r, s)]) if r <= s else "0" for r in range(models) for s in range(models)]

    pos, neg = by_label(1), by_label(0)
    return {
        "positives": int(integer_text(pos["n"])),
        "negatives": int(integer_text(neg["n"])),
        "positiveSums": [integer_text(pos["a%d" % r]) for r in range(models)],
        "negativeSums": [integer_text(neg["a%d" % r]) for r in range(models)],
        "positiveProducts": products(pos),
        "negativeProducts": products(neg),
    }


def _sq_score_fixed_point_sum_sql(D, score):
    return "SUM(CAST(CAST(floor(CAST(%s AS DOUBLE) * CAST(1099511627776 AS DOUBLE)) AS BIGINT) AS DECIMAL(20,0)))" % D.ident(score)


def render_fingerprint_sql(dialect, src):
    """renderFingerprintSql: columns n, positives, key_sum, positive_key_sum, score_sum0, ..."""
    _sq_check_source(src)
    D = _sq_dialect(dialect)
    k = "CAST(%s AS BIGINT)" % D.ident(src["key"])
    y = "CAST(%s AS BIGINT)" % D.ident(src["label"])
    cols = [
        "COUNT(*) AS n",
        "SUM(%s) AS positives" % y,
        "SUM(CAST(%s AS DECIMAL(20,0))) AS key_sum" % k,
        "SUM(CAST(%s * %s AS DECIMAL(20,0))) AS positive_key_sum" % (k, y),
    ]
    cols += ["%s AS score_sum%d" % (_sq_score_fixed_point_sum_sql(D, s), m) for m, s in enumerate(src["scores"])]
    return "SELECT %s FROM %s" % (", ".join(cols), src["table"])


def render_loss_totals_sql(dialect, src, losses):
    """renderLossTotalsSql: columns weight, positive_weight, loss0, ... (the unweighted totals)."""
    _sq_check_source(src)
    scores = list(src["scores"])
    if len(losses) != len(scores):
        raise ValueError("%d score columns need %d losses, got %d" % (len(scores), len(scores), len(losses)))
    D = _sq_dialect(dialect)
    sums = ["SUM(CAST(%s AS DECIMAL(20,0))) AS loss%d" % (fixed_point_loss_sql(dialect, losses[m], s, src["label"]), m) for m, s in enumerate(scores)]
    return "SELECT COUNT(*) AS weight, SUM(CAST(%s AS BIGINT)) AS positive_weight, %s FROM %s" % (D.ident(src["label"]), ", ".join(sums), src["table"])


# Keyed regression sums (RMSE, MAE): the port of src/engine/spark/regression-sql.ts and of the scale rule of
# src/engine/keyed-regression.ts (docs/keyed-poisson.md, "Regression losses").

_SQ_REGRESSION_MAX_SCALE_BITS = 1022
_SQ_STEP_BITS = 62


def _sq_number_text(x):
    """String(x) of JavaScript, infinities and NaN included (for messages)."""
    if isinstance(x, float) and x != x:
        return "NaN"
    if isinstance(x, float) and x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    return js_number(x)


def regression_scale_bits(max_loss):
    """regressionScaleBits: s = min(1022, 52 - floor(log2 max_loss)), 1022 when max_loss is 0. The exponent comes
    from math.frexp (x = f * 2**e with 0.5 <= f < 1, so floor(log2 x) = e - 1), exact for subnormals too."""
    import math

    x = float(max_loss)
    if not (0 <= x < float("inf")):
        raise ValueError("the largest loss must be a finite number >= 0, got %s" % _sq_number_text(x))
    if x == 0:
        return _SQ_REGRESSION_MAX_SCALE_BITS
    return min(_SQ_REGRESSION_MAX_SCALE_BITS, 52 - (math.frexp(x)[1] - 1))


def regression_loss_sql(dialect, loss, pred, label):
    """regressionLossSql: the per-row loss as a DOUBLE expression, (y - p) * (y - p) or abs(p - y)."""
    D = _sq_dialect(dialect)
    p = "CAST(%s AS DOUBLE)" % D.ident(pred)
    y = "CAST(%s AS DOUBLE)" % D.ident(label)
    if loss == "rmse":
        return "((%s - %s) * (%s - %s))" % (y, p, y, p)
    if loss == "mae":
        return "abs(%s - %s)" % (p, y)
    raise ValueError("unknown regression loss '%s' (expected rmse or mae)" % (loss,))


def scaled_fixed_point_sql(x, s):
    """scaledFixedPointSql: floor(x * 2^s) as a BIGINT expression, by exact steps of at most 2^62."""
    if not (_sq_is_int(s) and -_SQ_REGRESSION_MAX_SCALE_BITS <= s <= _SQ_REGRESSION_MAX_SCALE_BITS):
        raise ValueError(
            "a scale must be an integer from -%d to %d, got %s" % (_SQ_REGRESSION_MAX_SCALE_BITS, _SQ_REGRESSION_MAX_SCALE_BITS, _sq_number_text(s) if isinstance(s, (int, float)) and not isinstance(s, bool) else s)
        )
    e = x
    k = abs(s)
    while k > 0:
        e = "(%s %s CAST(%d AS DOUBLE))" % (e, "*" if s > 0 else "/", 2 ** min(k, _SQ_STEP_BITS))
        k -= _SQ_STEP_BITS
    return "CAST(floor(%s) AS BIGINT)" % e


def _sq_check_scales(src, scale_bits):
    n = len(src["scores"])
    if not isinstance(scale_bits, list) or len(scale_bits) != n:
        raise ValueError("%d prediction columns need %d scales, got %s" % (n, n, len(scale_bits) if isinstance(scale_bits, list) else "none"))


def render_regression_max_loss_sql(dialect, src, loss):
    """renderRegressionMaxLossSql: columns n, max_loss0, max_loss1, ... (the exact largest loss per model)."""
    _sq_check_source(src)
    cols = ["MAX(%s) AS max_loss%d" % (regression_loss_sql(dialect, loss, p, src["label"]), m) for m, p in enumerate(src["scores"])]
    return "SELECT COUNT(*) AS n, %s FROM %s" % (", ".join(cols), src["table"])


def _sq_regression_fixed_point_columns(dialect, src, loss, scale_bits):
    return ["%s AS q%d" % (scaled_fixed_point_sql(regression_loss_sql(dialect, loss, p, src["label"]), scale_bits[m]), m) for m, p in enumerate(src["scores"])]


def render_regression_row_losses_sql(dialect, src, loss, scale_bits):
    """renderRegressionRowLossesSql: per row the key and each model's fixed-point loss, ordered by key."""
    _sq_check_source(src)
    _sq_check_scales(src, scale_bits)
    D = _sq_dialect(dialect)
    cols = _sq_regression_fixed_point_columns(dialect, src, loss, scale_bits)
    return "SELECT CAST(%s AS BIGINT) AS k, %s FROM %s ORDER BY k" % (D.ident(src["key"]), ", ".join(cols), src["table"])


def render_keyed_regression_sums_sql(dialect, src, seed, loss, scale_bits, indices):
    """renderKeyedRegressionSumsSql: per generator index b, columns b, weight, loss0, loss1, ..."""
    _sq_check_source(src)
    _sq_check_scales(src, scale_bits)
    D = _sq_dialect(dialect)
    qs = ["q%d" % m for m in range(len(src["scores"]))]
    rows = "kp_rows AS (SELECT CAST(%s AS BIGINT) AS k, %s FROM %s)" % (
        D.ident(src["key"]),
        ", ".join(_sq_regression_fixed_point_columns(dialect, src, loss, scale_bits)),
        src["table"],
    )
    ctes = [rows] + keyed_weight_ctes(dialect, seed, "kp_rows", ["k"] + qs, _sq_indices_table(D, indices))
    sums = ["SUM(CAST(w * %s AS DECIMAL(20,0))) AS loss%d" % (q, m) for m, q in enumerate(qs)]
    return "WITH %s\nSELECT b, SUM(w) AS weight, %s FROM kp_w GROUP BY b ORDER BY b" % (",\n".join(ctes), ", ".join(sums))


def render_regression_loss_totals_sql(dialect, src, loss, scale_bits):
    """renderRegressionLossTotalsSql: columns weight (rows), loss0, loss1, ... (the unweighted totals)."""
    _sq_check_source(src)
    _sq_check_scales(src, scale_bits)
    sums = [
        "SUM(CAST(%s AS DECIMAL(20,0))) AS loss%d" % (scaled_fixed_point_sql(regression_loss_sql(dialect, loss, p, src["label"]), scale_bits[m]), m)
        for m, p in enumerate(src["scores"])
    ]
    return "SELECT COUNT(*) AS weight, %s FROM %s" % (", ".join(sums), src["table"])


def truncated_fixed_point_sql(x, s):
    """truncatedFixedPointSql: sign(x) * floor(|x| * 2^s) as a BIGINT expression."""
    return "CASE WHEN %s < 0 THEN -%s ELSE %s END" % (x, scaled_fixed_point_sql("abs(%s)" % x, s), scaled_fixed_point_sql(x, s))


def render_regression_fingerprint_max_sql(dialect, src):
    """renderRegressionFingerprintMaxSql: columns n, key_sum, max_abs_target, max_abs_prediction0, ..."""
    _sq_check_source(src)
    D = _sq_dialect(dialect)

    def _abs(c):
        return "abs(CAST(%s AS DOUBLE))" % D.ident(c)

    cols = [
        "COUNT(*) AS n",
        "SUM(CAST(CAST(%s AS BIGINT) AS DECIMAL(20,0))) AS key_sum" % D.ident(src["key"]),
        "MAX(%s) AS max_abs_target" % _abs(src["label"]),
    ] + ["MAX(%s) AS max_abs_prediction%d" % (_abs(p), m) for m, p in enumerate(src["scores"])]
    return "SELECT %s FROM %s" % (", ".join(cols), src["table"])


def render_regression_fingerprint_sql(dialect, src, target_scale_bits, prediction_scale_bits):
    """renderRegressionFingerprintSql: columns target_sum, prediction_sum0, ... (sums of trunc(v * 2^t))."""
    _sq_check_source(src)
    _sq_check_scales(src, prediction_scale_bits)
    D = _sq_dialect(dialect)

    def _sum(c, s):
        return "SUM(CAST(%s AS DECIMAL(20,0)))" % truncated_fixed_point_sql("CAST(%s AS DOUBLE)" % D.ident(c), s)

    cols = ["%s AS target_sum" % _sum(src["label"], target_scale_bits)] + [
        "%s AS prediction_sum%d" % (_sum(p, prediction_scale_bits[m]), m) for m, p in enumerate(src["scores"])
    ]
    return "SELECT %s FROM %s" % (", ".join(cols), src["table"])


def _sq_rank_sum_ctes():
    """rankSumCtes: tie groups, running sums within (m, bk, b), bucket totals and their offsets (au_g .. au_bk)."""

    def win(col, part, order):
        return "COALESCE(SUM(%s) OVER (PARTITION BY %s ORDER BY %s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)" % (col, part, order)

    def dec(x):
        return "CAST(%s AS DECIMAL(20,0))" % x

    return [
        "au_g AS (SELECT m, bk, s, b, SUM(w * y) AS gp, SUM(w * (1 - y)) AS gn FROM au_w GROUP BY m, bk, s, b)",
        "au_run AS (SELECT m, bk, b, gp, gn, %s AS nb FROM au_g)" % win("gn", "m, bk, b", "s"),
        "au_in AS (SELECT m, bk, b, SUM(%s * %s) AS u2, SUM(gp) AS pw, SUM(gn) AS nw FROM au_run GROUP BY m, bk, b)" % (dec("gp"), dec("2 * nb + gn")),
        "au_bk AS (SELECT m, b, u2, pw, nw, %s AS off FROM au_in)" % win("nw", "m, b", "bk"),
    ]


def _sq_rank_sum_select(models):
    ranks = ["SUM(CASE WHEN m = %d THEN u2 + CAST(pw AS DECIMAL(20,0)) * CAST(2 * off AS DECIMAL(20,0)) END) AS rank%d" % (m, m) for m in range(models)]
    totals = "SUM(CASE WHEN m = 0 THEN pw + nw ELSE 0 END) AS weight, SUM(CASE WHEN m = 0 THEN pw ELSE 0 END) AS positive_weight"
    return "SELECT b, %s, %s FROM au_bk GROUP BY b ORDER BY b" % (totals, ", ".join(ranks))


def _sq_weighted_long_ctes(D, source, cuts):
    M = len(cuts)
    pick = "CASE %s END" % " ".join("WHEN au_mi.m = %d THEN sc%d" % (m, m) for m in range(M))
    models = D.inline("au_mv", ["m"], [[m] for m in range(M)])
    return [
        "au_l AS (SELECT au_mi.m AS m, b, y, w, %s AS s FROM %s CROSS JOIN %s AS au_mi WHERE w > 0)" % (pick, source, models),
        "au_w AS (SELECT m, b, y, w, s, %s AS bk FROM au_l)" % _sq_bucket_expr(cuts),
    ]


def _sq_rank_rows_cte(D, src):
    scores = ", ".join("CAST(%s AS DOUBLE) AS sc%d" % (D.ident(s), m) for m, s in enumerate(src["scores"]))
    return "au_rows AS (SELECT CAST(%s AS BIGINT) AS k, CAST(%s AS BIGINT) AS y, %s FROM %s)" % (D.ident(src["key"]), D.ident(src["label"]), scores, src["table"])


def _sq_check_cuts(src, cuts):
    if len(cuts) != len(src["scores"]):
        raise ValueError("%d models need %d cut point lists, got %d" % (len(src["scores"]), len(src["scores"]), len(cuts)))


def render_keyed_rank_sums_sql(dialect, src, seed, cuts, indices):
    """renderKeyedRankSumsSql: per generator index b, columns b, weight, positive_weight, rank0, rank1, ... (u2 per
    model, twice the weighted Mann-Whitney U). A b whose draw gives no row any weight has no row."""
    _sq_check_source(src)
    _sq_check_cuts(src, cuts)
    D = _sq_dialect(dialect)
    sc = ["sc%d" % m for m in range(len(src["scores"]))]
    ctes = [_sq_rank_rows_cte(D, src)]
    ctes += keyed_weight_ctes(dialect, seed, "au_rows", ["k", "y"] + sc, _sq_indices_table(D, indices))
    ctes += _sq_weighted_long_ctes(D, "kp_w", cuts)
    ctes += _sq_rank_sum_ctes()
    return "WITH %s\n%s" % (",\n".join(ctes), _sq_rank_sum_select(len(sc)))


def render_rank_totals_sql(dialect, src, cuts):
    """renderRankTotalsSql: the unweighted rank sums (every row once), one row: b = 0, weight, positive_weight, rank0, ..."""
    _sq_check_source(src)
    _sq_check_cuts(src, cuts)
    D = _sq_dialect(dialect)
    sc = ["sc%d" % m for m in range(len(src["scores"]))]
    ctes = [_sq_rank_rows_cte(D, src), "au_one AS (SELECT k, y, %s, CAST(0 AS BIGINT) AS b, 1 AS w FROM au_rows)" % ", ".join(sc)]
    ctes += _sq_weighted_long_ctes(D, "au_one", cuts)
    ctes += _sq_rank_sum_ctes()
    return "WITH %s\n%s" % (",\n".join(ctes), _sq_rank_sum_select(len(sc)))


def _sq_ap_sum_ctes(D):
    """apSumCtes: tie groups in descending score, running sums within (m, bk, b), bucket offsets joined back, and the
    fixed-point term pw * floor(TP * 2^56 / D) in two 28-bit BIGINT digits (ap_g .. ap_t)."""

    def run(col):
        return "SUM(%s) OVER (PARTITION BY m, bk, b ORDER BY s DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)" % col

    def off(col):
        return "COALESCE(SUM(%s) OVER (PARTITION BY m, b ORDER BY bk DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)" % col

    two28 = 268435456
    return [
        "ap_g AS (SELECT m, bk, s, b, SUM(w * y) AS gp, SUM(w * (1 - y)) AS gn FROM au_w GROUP BY m, bk, s, b)",
        "ap_run AS (SELECT m, bk, b, gp, %s AS tp_in, %s AS fp_in FROM ap_g)" % (run("gp"), run("gn")),
        "ap_in AS (SELECT m, bk, b, SUM(gp) AS pw, SUM(gn) AS nw FROM ap_g GROUP BY m, bk, b)",
        "ap_bk AS (SELECT m, bk, b, pw, nw, %s AS tp_off, %s AS fp_off FROM ap_in)" % (off("pw"), off("nw")),
        "ap_pr AS (SELECT ap_run.m AS m, ap_run.b AS b, ap_run.gp AS gp, ap_run.tp_in + ap_bk.tp_off AS tp, "
        "ap_run.tp_in + ap_bk.tp_off + ap_run.fp_in + ap_bk.fp_off AS d FROM ap_run JOIN ap_bk ON ap_run.m = ap_bk.m "
        "AND ap_run.bk = ap_bk.bk AND ap_run.b = ap_bk.b WHERE ap_run.gp > 0)",
        "ap_q1 AS (SELECT m, b, gp, d, %s AS q1, tp * %d - %s * d AS r1 FROM ap_pr)"
        % (D.div("tp * %d" % two28, "d"), two28, D.div("tp * %d" % two28, "d")),
        "ap_t AS (SELECT m, b, CAST(gp AS DECIMAL(20,0)) * CAST(q1 * %d + %s AS DECIMAL(20,0)) AS t FROM ap_q1)" % (two28, D.div("r1 * %d" % two28, "d")),
    ]


def _sq_ap_sum_select(models):
    aps = ["COALESCE(SUM(CASE WHEN ap_t.m = %d THEN ap_t.t END), 0) AS ap%d" % (m, m) for m in range(models)]
    totals = "(SELECT b, SUM(pw + nw) AS weight, SUM(pw) AS positive_weight FROM ap_in WHERE m = 0 GROUP BY b) AS ap_tot"
    return (
        "SELECT ap_tot.b AS b, MAX(ap_tot.weight) AS weight, MAX(ap_tot.positive_weight) AS positive_weight, %s FROM %s "
        "LEFT JOIN ap_t ON ap_t.b = ap_tot.b GROUP BY ap_tot.b ORDER BY ap_tot.b" % (", ".join(aps), totals)
    )


def render_keyed_ap_sums_sql(dialect, src, seed, cuts, indices):
    """renderKeyedApSumsSql: per generator index b, columns b, weight, positive_weight, ap0, ap1, ... (per model the
    fixed-point sum of pw_g * floor(TP_g * 2^56 / (TP_g + FP_g))). A b whose draw gives no row any weight has no row."""
    _sq_check_source(src)
    _sq_check_cuts(src, cuts)
    D = _sq_dialect(dialect)
    sc = ["sc%d" % m for m in range(len(src["scores"]))]
    ctes = [_sq_rank_rows_cte(D, src)]
    ctes += keyed_weight_ctes(dialect, seed, "au_rows", ["k", "y"] + sc, _sq_indices_table(D, indices))
    ctes += _sq_weighted_long_ctes(D, "kp_w", cuts)
    ctes += _sq_ap_sum_ctes(D)
    return "WITH %s\n%s" % (",\n".join(ctes), _sq_ap_sum_select(len(sc)))


def render_ap_totals_sql(dialect, src, cuts):
    """renderApTotalsSql: the unweighted AP sums (every row once), one row: b = 0, weight, positive_weight, ap0, ..."""
    _sq_check_source(src)
    _sq_check_cuts(src, cuts)
    D = _sq_dialect(dialect)
    sc = ["sc%d" % m for m in range(len(src["scores"]))]
    ctes = [_sq_rank_rows_cte(D, src), "au_one AS (SELECT k, y, %s, CAST(0 AS BIGINT) AS b, 1 AS w FROM au_rows)" % ", ".join(sc)]
    ctes += _sq_weighted_long_ctes(D, "au_one", cuts)
    ctes += _sq_ap_sum_ctes(D)
    return "WITH %s\n%s" % (",\n".join(ctes), _sq_ap_sum_select(len(sc)))
