"""The evaluation harness's shared types: what a suite receives and what it returns.

Every suite is a function ``run(ctx: EvalContext) -> SuiteResult``. A ``Metric`` is reported
overall and by group, with bootstrap intervals, the difference and the ratio between the best
and worst groups, and whether higher is better (lm-evaluation-harness and fairlearn habits).
The harness imports the pipeline's stages, never the web app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Interval(BaseModel):
    model_config = ConfigDict(frozen=True)

    low: float
    high: float
    level: float = 0.95
    method: str = "percentile bootstrap"
    resamples: int = 1000


class GroupValue(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: float | None
    n: int
    interval: Interval | None = None


class Comparison(BaseModel):
    """Best group against worst group (or variant against original, for paired designs)."""

    model_config = ConfigDict(frozen=True)

    reference: str
    other: str
    difference: float | None = Field(description="other - reference")
    ratio: float | None = Field(description="other / reference (None when reference is 0)")
    difference_interval: Interval | None = None
    test: str | None = Field(None, description="e.g. 'wilcoxon signed-rank (paired)'")
    p_value: float | None = None
    p_adjusted: float | None = Field(None, description="after multiple-comparison correction")
    correction: str | None = Field(None, description="e.g. 'holm' over the suite's tests")


class Metric(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    higher_is_better: bool
    unit: str = "proportion"
    value: float | None
    n: int
    interval: Interval | None = None
    goal: float | None = Field(None, description="the release goal, if the issue set one")
    meets_goal: bool | None = None
    group_by: str | None = Field(None, description="e.g. 'voice', 'name_origin', 'entity_type'")
    groups: dict[str, GroupValue] = Field(default_factory=dict)
    comparisons: list[Comparison] = Field(default_factory=list)


class SuiteResult(BaseModel):
    suite: str
    suite_version: str
    dataset: dict[str, str] = Field(description="dataset name -> sha256")
    metrics: list[Metric]
    details: dict[str, Any] = Field(default_factory=dict, description="tables for the report")
    runs: int = 1
    seconds: float = 0.0
    notes: list[str] = Field(default_factory=list, description="limits an auditor should read")


@dataclass
class EvalContext:
    """What a suite gets. ``engines`` loads the profile's models once, on first use."""

    profile: str
    quick: bool
    seed: int
    out_dir: Path
    settings: Any  # assistant.settings.Settings
    _engines_factory: Callable[[], Any] | None = None
    _engines: Any = None
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def engines(self):
        if self._engines is None:
            assert self._engines_factory is not None
            self._engines = self._engines_factory()
        return self._engines
