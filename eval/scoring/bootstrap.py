"""Seeded percentile bootstrap: a metric's value and interval from resampled items or clusters.

A metric is a *mean* (a rate per item, a proportion), a *ratio of sums* (corpus WER = errors /
reference words, resampled by item, never an average of per-item rates) or a *sum* (a count of
leaks). With clusters, whole clusters are resampled; fewer than two give no interval (rules in
``eval.scoring.stats``).
"""

from __future__ import annotations

import zlib
from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np

from eval.core import Interval

Statistic = Literal["mean", "ratio", "sum"]

RESAMPLES = 1000
LEVEL = 0.95
METHOD = "percentile bootstrap"


def metric_seed(seed: int, *names: str) -> int:
    """A per-metric seed: stable across runs and independent of the order metrics are made."""
    return (seed * 1_000_003 + zlib.crc32("/".join(names).encode())) % (2**32)


# --- bootstrap ---------------------------------------------------------------------------------
def percentile_interval(samples: np.ndarray, *, level: float, resamples: int) -> Interval | None:
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
    return value, percentile_interval(
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
    return percentile_interval(draws_b - draws_a, level=level, resamples=resamples)
