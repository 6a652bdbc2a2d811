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

The bootstrap is in ``bootstrap.py`` and the tests in ``paired.py``; this module makes the
metrics (``group_metric``, ``paired_metric``) and re-exports what the suites use of the others.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from eval.core import Comparison, GroupValue, Metric
from eval.scoring.bootstrap import (
    LEVEL,
    METHOD,
    RESAMPLES,
    Statistic,
    bootstrap,
    bootstrap_difference,
    bootstrap_mean,
    bootstrap_ratio,
    metric_seed,
)
from eval.scoring.paired import (
    EXACT_WILCOXON_UP_TO,
    MCNEMAR_EXACT_BELOW,
    SIGN_TEST_BELOW,
    apply_holm,
    holm,
    mcnemar,
    paired_comparison,
    sign_test,
    wilcoxon_signed_rank,
)

T = TypeVar("T")


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


__all__ = [
    "EXACT_WILCOXON_UP_TO",
    "LEVEL",
    "MCNEMAR_EXACT_BELOW",
    "METHOD",
    "RESAMPLES",
    "SIGN_TEST_BELOW",
    "Statistic",
    "apply_holm",
    "bootstrap",
    "bootstrap_difference",
    "bootstrap_mean",
    "bootstrap_ratio",
    "group_metric",
    "holm",
    "mcnemar",
    "meets",
    "metric_seed",
    "paired_comparison",
    "paired_metric",
    "sign_test",
    "wilcoxon_signed_rank",
]
