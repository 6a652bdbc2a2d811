"""Intervals, group comparisons and paired tests for the evaluation suites.

Everything here is seeded: the same items and seed give the same intervals on every machine.

* **Bootstrap.** Percentile intervals from ``resamples`` draws of the items with replacement.
  A metric is a *mean* (a rate per item, a proportion), a *ratio of sums* (corpus WER =
  errors / reference words, resampled by item, never an average of per-item rates) or a *sum*
  (a count of leaks). When ``cluster_fn`` is given, whole clusters are resampled (the turns of
  one speaker in one visit are not independent), so intervals are not made falsely narrow by
  correlated items. Fewer than two clusters give no interval: a zero-width interval from one
  item would look like certainty.
* **Groups** (fairlearn ``MetricFrame`` habits). ``group_metric`` reports the metric overall and
  per group, each with its interval, and compares the best group with the worst: their
  difference (worst - best) and ratio (worst / best), with a bootstrap interval of the
  difference from resampling each group on its own. Best and worst are chosen after looking,
  so no p-value is given for them: read the interval, and the group sizes.
* **Paired variants** (the same item under two conditions: one sentence in two voices, one
  clip clean and in noise) use paired tests: Wilcoxon signed-rank on per-item differences
  (exact null distribution, ties included, up to ``EXACT_WILCOXON_UP_TO`` pairs, scipy's normal
  approximation above; an exact sign test when fewer than ``SIGN_TEST_BELOW`` items differ),
  McNemar for paired yes/no outcomes (exact binomial below 25 discordant
  pairs). ``apply_holm`` adjusts every p-value of a suite together (Holm's step-down), because
  a suite that runs ten tests will find one "significant" difference by chance.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Hashable, Sequence
from typing import Literal, TypeVar

import numpy as np
from scipy import stats as _scipy

from eval.core import Comparison, GroupValue, Interval, Metric

T = TypeVar("T")
Statistic = Literal["mean", "ratio", "sum"]

RESAMPLES = 1000
LEVEL = 0.95
METHOD = "percentile bootstrap"
SIGN_TEST_BELOW = 6
"""Below this many non-zero paired differences the Wilcoxon test gives way to an exact sign
test (with five or fewer pairs no test can reach p < 0.05 anyway; the sign test says so
plainly)."""
EXACT_WILCOXON_UP_TO = 50
"""Up to this many non-zero differences the Wilcoxon p-value is exact: the null distribution of
the signed-rank sum is counted over all 2^n sign flips with the observed (mid)ranks, so ties
are handled exactly; above it scipy's normal approximation."""
MCNEMAR_EXACT_BELOW = 25


def metric_seed(seed: int, *names: str) -> int:
    """A per-metric seed: stable across runs and independent of the order metrics are made."""
    return (seed * 1_000_003 + zlib.crc32("/".join(names).encode())) % (2**32)


# --- bootstrap ---------------------------------------------------------------------------------
def _interval(samples: np.ndarray, *, level: float, resamples: int) -> Interval | None:
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(samples, [tail, 100 - tail])
    return Interval(
        low=float(low), high=float(high), level=level, method=METHOD, resamples=resamples
    )


def _point(num: np.ndarray, den: np.ndarray, statistic: Statistic) -> float | None:
    if num.size == 0:
        return None
    if statistic == "sum":
        return float(num.sum())
    total = float(den.sum())
    return float(num.sum()) / total if total else None


def _draws(
    num: np.ndarray, den: np.ndarray, statistic: Statistic, rng: np.random.Generator, n: int
) -> np.ndarray:
    """``n`` bootstrap replicates of the statistic (NaN where a draw has a zero denominator)."""
    k = num.size
    idx = rng.integers(0, k, size=(n, k))
    sums = num[idx].sum(axis=1)
    if statistic == "sum":
        return sums
    dens = den[idx].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(dens > 0, sums / np.where(dens > 0, dens, 1), np.nan)


def _clustered(
    nums: Sequence[float], dens: Sequence[float], clusters: Sequence[Hashable] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Sum numerators and denominators within each cluster (or keep items as they are)."""
    if clusters is None:
        return np.asarray(nums, dtype=float), np.asarray(dens, dtype=float)
    order: dict[Hashable, int] = {}
    for c in clusters:
        order.setdefault(c, len(order))
    num = np.zeros(len(order))
    den = np.zeros(len(order))
    for c, x, d in zip(clusters, nums, dens, strict=True):
        num[order[c]] += x
        den[order[c]] += d
    return num, den


def bootstrap(
    values: Sequence[float],
    denominators: Sequence[float] | None = None,
    *,
    statistic: Statistic | None = None,
    clusters: Sequence[Hashable] | None = None,
    seed: int = 0,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
) -> tuple[float | None, Interval | None]:
    """The statistic and its percentile bootstrap interval.

    ``statistic`` defaults to "ratio" when ``denominators`` are given (sum of values / sum of
    denominators: a corpus WER), else "mean". Returns (None, None) for no items, and no
    interval for fewer than two items (or clusters)."""
    statistic = statistic or ("ratio" if denominators is not None else "mean")
    dens = denominators if denominators is not None else [1.0] * len(values)
    if len(dens) != len(values):
        raise ValueError(f"{len(values)} values but {len(dens)} denominators")
    num, den = _clustered(values, dens, clusters)
    value = _point(num, den, statistic)
    if num.size < 2 or resamples <= 0 or value is None:
        return value, None
    rng = np.random.default_rng(seed)
    return value, _interval(
        _draws(num, den, statistic, rng, resamples), level=level, resamples=resamples
    )


def bootstrap_mean(values: Sequence[float], **kw) -> tuple[float | None, Interval | None]:
    """Mean (or proportion, for 0/1 values) with its interval."""
    return bootstrap(values, statistic="mean", **kw)


def bootstrap_ratio(
    numerators: Sequence[float], denominators: Sequence[float], **kw
) -> tuple[float | None, Interval | None]:
    """Ratio of sums (errors / words) resampled by item, with its interval."""
    return bootstrap(numerators, denominators, statistic="ratio", **kw)


def bootstrap_difference(
    a: tuple[Sequence[float], Sequence[float], Sequence[Hashable] | None],
    b: tuple[Sequence[float], Sequence[float], Sequence[Hashable] | None],
    *,
    statistic: Statistic,
    seed: int = 0,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
) -> Interval | None:
    """Interval of stat(b) - stat(a) for two independent samples, each resampled on its own
    (by cluster when clusters are given). Each is ``(values, denominators, clusters)``."""
    num_a, den_a = _clustered(*a)
    num_b, den_b = _clustered(*b)
    if num_a.size < 2 or num_b.size < 2 or resamples <= 0:
        return None
    rng = np.random.default_rng(seed)
    draws_a = _draws(num_a, den_a, statistic, rng, resamples)
    draws_b = _draws(num_b, den_b, statistic, rng, resamples)
    return _interval(draws_b - draws_a, level=level, resamples=resamples)


# --- groups --------------------------------------------------------------------------------------
def meets(value: float | None, goal: float | None, higher_is_better: bool) -> bool | None:
    if value is None or goal is None:
        return None
    return value >= goal if higher_is_better else value <= goal


def group_metric(
    items: Sequence[T],
    value_fn: Callable[[T], float],
    group_fn: Callable[[T], str | None] | None = None,
    *,
    name: str,
    description: str,
    higher_is_better: bool,
    unit: str = "proportion",
    group_by: str | None = None,
    denominator_fn: Callable[[T], float] | None = None,
    statistic: Statistic | None = None,
    cluster_fn: Callable[[T], Hashable] | None = None,
    goal: float | None = None,
    seed: int = 0,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
    min_group_n: int = 1,
) -> Metric:
    """One metric overall and by group, with intervals and the best-vs-worst comparison.

    ``value_fn`` gives each item's value (its errors, for a ratio of sums with
    ``denominator_fn`` giving its words); ``group_fn`` its group (None leaves it out of the
    groups, not the overall figure). Groups with fewer than ``min_group_n`` items are reported
    but not compared; with clusters, groups of two or more clusters are preferred for the
    comparison (one speaker is not a group). ``n`` counts items (not clusters, not words)."""
    statistic = statistic or ("ratio" if denominator_fn is not None else "mean")
    values = [float(value_fn(i)) for i in items]
    dens = [float(denominator_fn(i)) if denominator_fn else 1.0 for i in items]
    clusters = [cluster_fn(i) for i in items] if cluster_fn else None

    def sample(idx: list[int]) -> tuple[list[float], list[float], list[Hashable] | None]:
        return (
            [values[k] for k in idx],
            [dens[k] for k in idx],
            [clusters[k] for k in idx] if clusters is not None else None,
        )

    every = list(range(len(items)))
    value, interval = bootstrap(
        *sample(every)[:2],
        statistic=statistic,
        clusters=clusters,
        seed=metric_seed(seed, name),
        resamples=resamples,
        level=level,
    )
    members: dict[str, list[int]] = {}
    if group_fn is not None:
        for k, item in enumerate(items):
            g = group_fn(item)
            if g is not None:
                members.setdefault(str(g), []).append(k)
    groups: dict[str, GroupValue] = {}
    for g in sorted(members):
        vals, ds, cl = sample(members[g])
        gv, gi = bootstrap(
            vals,
            ds,
            statistic=statistic,
            clusters=cl,
            seed=metric_seed(seed, name, g),
            resamples=resamples,
            level=level,
        )
        groups[g] = GroupValue(value=gv, n=len(members[g]), interval=gi)

    comparisons: list[Comparison] = []
    ranked = [g for g, v in groups.items() if v.value is not None and v.n >= max(1, min_group_n)]
    # Prefer groups that can carry an interval (two or more clusters) when two such exist, so
    # the comparison is not between a one-speaker group and another.
    if clusters is not None:
        sizable = [g for g in ranked if len({clusters[k] for k in members[g]}) >= 2]
        if len(sizable) >= 2:
            ranked = sizable
    if len(ranked) >= 2:

        def score(g: str) -> float:
            value = groups[g].value
            assert value is not None
            return value if higher_is_better else -value

        # Ties go to the group with the most items (the best-supported figure), then by name.
        best = min(ranked, key=lambda g: (-score(g), -groups[g].n, g))
        worst = min((g for g in ranked if g != best), key=lambda g: (score(g), -groups[g].n, g))
        b, w = groups[best].value, groups[worst].value
        assert b is not None and w is not None
        comparisons.append(
            Comparison(
                reference=best,
                other=worst,
                difference=w - b,
                ratio=(w / b) if b else None,
                difference_interval=bootstrap_difference(
                    sample(members[best]),
                    sample(members[worst]),
                    statistic=statistic,
                    seed=metric_seed(seed, name, "difference"),
                    resamples=resamples,
                    level=level,
                ),
                test=None,
            )
        )
    return Metric(
        name=name,
        description=description,
        higher_is_better=higher_is_better,
        unit=unit,
        value=value,
        n=len(items),
        interval=interval,
        goal=goal,
        meets_goal=meets(value, goal, higher_is_better),
        group_by=group_by if group_fn is not None else None,
        groups=groups,
        comparisons=comparisons,
    )


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
        interval = _interval(draws, level=level, resamples=resamples)

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


def paired_metric(
    items: Sequence[T],
    value_fn: Callable[[T], float],
    condition_fn: Callable[[T], str],
    pair_fn: Callable[[T], Hashable],
    *,
    reference: str,
    name: str,
    description: str,
    higher_is_better: bool,
    unit: str = "proportion",
    group_by: str = "condition",
    denominator_fn: Callable[[T], float] | None = None,
    binary: bool = False,
    goal: float | None = None,
    seed: int = 0,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
) -> Metric:
    """A metric measured on the same items under several conditions (variants).

    Overall and per condition as ``group_metric`` gives them (each condition's interval from
    resampling its items), but the comparisons are each condition against ``reference`` on the
    items present in both, with a paired test (``paired_comparison``); run ``apply_holm`` over
    the suite afterwards."""
    base = group_metric(
        items,
        value_fn,
        condition_fn,
        name=name,
        description=description,
        higher_is_better=higher_is_better,
        unit=unit,
        group_by=group_by,
        denominator_fn=denominator_fn,
        goal=goal,
        seed=seed,
        resamples=resamples,
        level=level,
    )
    by_condition: dict[str, dict[Hashable, T]] = {}
    for item in items:
        by_condition.setdefault(condition_fn(item), {})[pair_fn(item)] = item
    comparisons = []
    ref_items = by_condition.get(reference, {})
    for condition in sorted(by_condition):
        if condition == reference:
            continue
        keys = [k for k in ref_items if k in by_condition[condition]]
        if not keys:
            continue
        ref = [ref_items[k] for k in keys]
        oth = [by_condition[condition][k] for k in keys]
        comparisons.append(
            paired_comparison(
                reference,
                condition,
                [value_fn(i) for i in ref],
                [value_fn(i) for i in oth],
                reference_denominators=[denominator_fn(i) for i in ref] if denominator_fn else None,
                other_denominators=[denominator_fn(i) for i in oth] if denominator_fn else None,
                binary=binary,
                seed=metric_seed(seed, name, reference, condition),
                resamples=resamples,
                level=level,
            )
        )
    return base.model_copy(update={"comparisons": comparisons})
