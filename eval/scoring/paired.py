"""Paired tests (Wilcoxon signed-rank, sign test, McNemar) and Holm's correction across a suite.

Rules in ``eval.scoring.stats``; ``paired_metric`` there builds a metric's comparisons with
``paired_comparison``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as _scipy

from eval.core import Comparison, Metric
from eval.scoring.bootstrap import LEVEL, RESAMPLES, percentile_interval

SIGN_TEST_BELOW = 6
"""Below this many non-zero paired differences the Wilcoxon test gives way to an exact sign
test (with five or fewer pairs no test can reach p < 0.05 anyway; the sign test says so
plainly)."""
EXACT_WILCOXON_UP_TO = 50
"""Up to this many non-zero differences the Wilcoxon p-value is exact: the null distribution of
the signed-rank sum is counted over all 2^n sign flips with the observed (mid)ranks, so ties
are handled exactly; above it scipy's normal approximation."""
MCNEMAR_EXACT_BELOW = 25


# --- paired tests --------------------------------------------------------------------------------
def wilcoxon_signed_rank(differences: Sequence[float]) -> tuple[float, str]:
    """Two-sided p-value for paired differences (other - reference) and the test's name.

    Zero differences are dropped (Wilcoxon's own method). No non-zero difference: p = 1."""
    d = np.asarray([x for x in differences if x == x], dtype=float)
    nz = d[d != 0]
    n = int(nz.size)
    if n == 0:
        return 1.0, "wilcoxon signed-rank (paired; no item differed)"
    if n < SIGN_TEST_BELOW:
        return sign_test(nz)
    try:
        if n <= EXACT_WILCOXON_UP_TO:
            p = _exact_signed_rank_p(nz)
            name = "wilcoxon signed-rank, exact (paired)"
        else:
            p = float(_scipy.wilcoxon(nz).pvalue)
            name = "wilcoxon signed-rank (paired)"
    except (ValueError, TypeError, FloatingPointError):
        return sign_test(nz)
    if not math.isfinite(p):
        return sign_test(nz)
    return min(1.0, p), name


def _exact_signed_rank_p(nonzero: np.ndarray) -> float:
    """Two-sided exact p of the signed-rank sum: the number of sign patterns giving each sum,
    counted by convolution over the doubled midranks (integers even with ties)."""
    doubled = np.rint(2 * _scipy.rankdata(np.abs(nonzero))).astype(int)
    total = int(doubled.sum())
    dist = np.zeros(total + 1)
    dist[0] = 1.0
    for r in doubled:
        shifted = np.zeros_like(dist)
        shifted[r:] = dist[: total + 1 - r]
        dist = 0.5 * (dist + shifted)
    t = int(doubled[nonzero > 0].sum())
    return float(min(1.0, 2 * min(dist[: t + 1].sum(), dist[t:].sum())))


def sign_test(differences: Sequence[float]) -> tuple[float, str]:
    """Exact two-sided sign test on the non-zero differences."""
    d = [x for x in differences if x]
    if not d:
        return 1.0, "sign test, exact (paired; no item differed)"
    positive = sum(1 for x in d if x > 0)
    p = float(_scipy.binomtest(positive, len(d), 0.5).pvalue)
    return min(1.0, p), "sign test, exact (paired)"


def mcnemar(reference: Sequence[bool], other: Sequence[bool]) -> tuple[float, str]:
    """Two-sided McNemar test for paired yes/no outcomes; exact below 25 discordant pairs."""
    if len(reference) != len(other):
        raise ValueError("McNemar needs paired outcomes of equal length")
    only_ref = sum(1 for a, b in zip(reference, other, strict=True) if a and not b)
    only_other = sum(1 for a, b in zip(reference, other, strict=True) if b and not a)
    discordant = only_ref + only_other
    if discordant == 0:
        return 1.0, "mcnemar (paired; no discordant pair)"
    if discordant < MCNEMAR_EXACT_BELOW:
        p = float(_scipy.binomtest(only_ref, discordant, 0.5).pvalue)
        return min(1.0, p), "mcnemar, exact binomial (paired)"
    chi2 = (abs(only_ref - only_other) - 1) ** 2 / discordant
    return float(_scipy.chi2.sf(chi2, 1)), "mcnemar, chi-squared with continuity correction"


def paired_comparison(
    reference: str,
    other: str,
    reference_values: Sequence[float],
    other_values: Sequence[float],
    *,
    reference_denominators: Sequence[float] | None = None,
    other_denominators: Sequence[float] | None = None,
    binary: bool = False,
    seed: int = 0,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
) -> Comparison:
    """Compare two conditions measured on the same items, item k in both.

    The statistic is the mean, or with denominators the ratio of sums (corpus WER); the
    difference interval comes from resampling items, both conditions with the same draw.
    The test is McNemar when ``binary``, else Wilcoxon signed-rank on per-item rates."""
    n = len(reference_values)
    if len(other_values) != n:
        raise ValueError("paired conditions need the same items")
    ref_den = np.asarray(reference_denominators if reference_denominators else [1.0] * n, float)
    oth_den = np.asarray(other_denominators if other_denominators else [1.0] * n, float)
    ref_num = np.asarray(reference_values, float)
    oth_num = np.asarray(other_values, float)

    def stat(num: np.ndarray, den: np.ndarray) -> float | None:
        total = den.sum()
        return float(num.sum() / total) if total else None

    ref_value, oth_value = stat(ref_num, ref_den), stat(oth_num, oth_den)
    difference = None if ref_value is None or oth_value is None else oth_value - ref_value
    ratio = (oth_value / ref_value) if ref_value and oth_value is not None else None

    interval = None
    if n >= 2 and resamples > 0:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, n, size=(resamples, n))
        with np.errstate(divide="ignore", invalid="ignore"):
            draws = oth_num[idx].sum(1) / oth_den[idx].sum(1) - ref_num[idx].sum(1) / ref_den[
                idx
            ].sum(1)
        interval = percentile_interval(draws, level=level, resamples=resamples)

    if binary:
        p, test = mcnemar([bool(x) for x in ref_num], [bool(x) for x in oth_num])
    else:
        keep = (ref_den > 0) & (oth_den > 0)
        diffs = oth_num[keep] / oth_den[keep] - ref_num[keep] / ref_den[keep]
        p, test = wilcoxon_signed_rank(diffs.tolist())
    return Comparison(
        reference=reference,
        other=other,
        difference=difference,
        ratio=ratio,
        difference_interval=interval,
        test=test,
        p_value=p,
    )


# --- multiple comparisons -----------------------------------------------------------------------
def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment; None entries are passed through and not counted."""
    present = [(p, k) for k, p in enumerate(p_values) if p is not None]
    m = len(present)
    adjusted: list[float | None] = list(p_values)
    running = 0.0
    for rank, (p, k) in enumerate(sorted(present)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[k] = running
    return adjusted


def apply_holm(metrics: Sequence[Metric]) -> list[Metric]:
    """Fill ``p_adjusted`` (Holm, over every tested comparison of these metrics together)."""
    where = [
        (i, j)
        for i, m in enumerate(metrics)
        for j, c in enumerate(m.comparisons)
        if c.p_value is not None
    ]
    adjusted = holm([metrics[i].comparisons[j].p_value for i, j in where])
    updates: dict[int, dict[int, float | None]] = {}
    for (i, j), p in zip(where, adjusted, strict=True):
        updates.setdefault(i, {})[j] = p
    out = []
    for i, m in enumerate(metrics):
        if i not in updates:
            out.append(m)
            continue
        comps = [
            c.model_copy(
                update={
                    "p_adjusted": updates[i][j],
                    "correction": f"holm over {len(where)} tests in the suite",
                }
            )
            if j in updates[i]
            else c
            for j, c in enumerate(m.comparisons)
        ]
        out.append(m.model_copy(update={"comparisons": comps}))
    return out
