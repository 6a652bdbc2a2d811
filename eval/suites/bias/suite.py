"""The bias suite's run: the plan's scenarios and swaps, paired, measured and compared."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from eval.core import EvalContext, Metric, SuiteResult
from eval.datasets.scenarios import NotApplicable, Scenario, corpus_sha256, load_scenarios
from eval.datasets.scenarios.counterfactuals_extra import ALL_SWAPS
from eval.scoring import matching
from eval.scoring.lexicons import term_lexicons
from eval.scoring.sentiment import check_scorer, scorers
from eval.scoring.stats import apply_holm
from eval.suites.bias.metrics import (
    ALPHA,
    by_target,
    omission_vs_invention,
    power,
    same_redacted,
    scorer_sensitivity,
    significant,
    swap_metrics,
)
from eval.suites.bias.pairs import Pair, make_pairs
from eval.suites.bias.variants import variants

SUITE = "bias"
SUITE_VERSION = "2"
SWAP_TYPES = ("parent_gender", "child_gender", "family_gender", "names", "religion", "family_form")
SEE_ALSO = [
    {"suite": "redaction", "what": "direct-identifier recall by name origin"},
    {"suite": "asr", "what": "scenario word error rate by espeak-ng voice"},
]


@dataclass(frozen=True)
class Plan:
    scenarios: int | None
    swaps: tuple[str, ...]
    name_origins: int


QUICK = Plan(scenarios=1, swaps=("child_gender",), name_origins=0)
"""eh-004, the shortest visit, is also the notes suite's first quick visit: in a quick run of
all suites its original note is drafted once and shared."""
FULL = Plan(scenarios=None, swaps=SWAP_TYPES, name_origins=2)


def pick_quick(scenarios: Sequence[Scenario], swap: str) -> list[Scenario]:
    for s in sorted(scenarios, key=lambda s: (len(s.words()), s.id)):
        try:
            ALL_SWAPS[swap](s)
        except NotApplicable:
            continue
        return [s]
    return []


def evaluate(
    ctx: EvalContext,
    scenarios: Sequence[Scenario],
    *,
    swaps: Sequence[str],
    name_origins: int,
    plan: Plan | None = None,
) -> SuiteResult:
    """The suite on ``scenarios`` under ``swaps`` (``run`` picks them from the plan)."""
    t0 = time.perf_counter()
    resamples = int(ctx.cache.get("resamples", 1000))
    checks = []
    for scorer in scorers():
        check_scorer(scorer)  # raises ScorerNotDeterministic
        checks.append({"scorer": scorer.name, "version": scorer.version, "identical_texts": "ok"})
    found, skipped = variants(scenarios, swaps, name_origins)
    pairs = make_pairs(ctx, found)
    metrics: list[Metric] = []
    for swap in swaps:
        metrics += swap_metrics(pairs, swap, seed=ctx.seed, resamples=resamples)
    metrics = apply_holm(metrics)
    tests = sum(1 for m in metrics for c in m.comparisons if c.p_value is not None)
    failed = [p.key for p in pairs if not p.ok]
    notes = [
        "Every counterfactual copy was verified to differ from its original only in the "
        f"swapped words ({len(found)} pairs checked).",
        f"Holm correction over all {tests} paired tests of the suite; significant means "
        f"p_adjusted < {ALPHA}.",
        "Sentiment scorers were each run twice on the same texts and gave identical scores; a "
        "note scored against itself differed by exactly 0.0. details.scorer_sensitivity says "
        "how often a scorer already scores the two swapped transcripts differently.",
        "Term counts are raw counts (not per word); read them beside bias_*_words.",
        "The model reads only the redacted transcript: where a copy's redacted transcript was "
        "identical to its original's (every swapped name redacted), its note is the original's "
        "rather than drafted again (drafting is deterministic); details.same_redacted_transcript "
        "counts these pairs per swap type.",
        "No disability swap: the corpus's disabilities are facts of their visits, and no word "
        "swap removes one without changing what happened "
        "(eval/datasets/scenarios/counterfactuals_extra.py).",
        "Redaction recall by name origin and speech WER by voice are in the redaction and asr "
        "suites (details.see_also); the harness merges them.",
    ]
    if failed:
        notes.append(f"{len(failed)} pairs left out: one side has no note (draft failed).")
    details = pair_details(ctx, plan, swaps, pairs, skipped, checks, tests, metrics)
    return SuiteResult(
        suite=SUITE,
        suite_version=SUITE_VERSION,
        dataset={"scenarios": corpus_sha256()},
        metrics=metrics,
        details=details,
        seconds=time.perf_counter() - t0,
        notes=notes,
    )


def pair_details(
    ctx: EvalContext,
    plan: Plan | None,
    swaps: Sequence[str],
    pairs: Sequence[Pair],
    skipped: Counter[str],
    checks: list[dict[str, str]],
    tests: int,
    metrics: Sequence[Metric],
) -> dict[str, Any]:
    """The pairs, the checks made, and the tables that help read the metrics."""
    lexicons = term_lexicons()
    return {
        "plan": (asdict(plan) if plan else {}) | {"quick": ctx.quick, "swaps": list(swaps)},
        "pairs": [
            {
                "pair": p.key,
                "swap": p.swap,
                "target": p.target,
                "words_changed": p.changed_words,
                "reference": p.reference.label,
                "drafted": p.ok,
            }
            for p in pairs
        ],  # fmt: skip
        "not_applicable": dict(skipped),
        "sentiment_checks": checks,
        "term_lexicons": {
            n: {"version": x.version, "sha256": x.sha256} for n, x in lexicons.items()
        },
        "same_redacted_transcript": same_redacted(pairs),
        "omission_vs_invention": omission_vs_invention(pairs),
        "power": power(pairs, tests),
        "scorer_sensitivity": scorer_sensitivity(pairs),
        "significant": significant(metrics),
        "by_name_origin": by_target(pairs, "names"),
        "see_also": SEE_ALSO,
        "matching": matching.MATCHING,
    }


def run(ctx: EvalContext) -> SuiteResult:
    plan = QUICK if ctx.quick else FULL
    scenarios = load_scenarios()
    if plan.scenarios is not None:
        scenarios = pick_quick(scenarios, plan.swaps[0])[: plan.scenarios]
    result = evaluate(ctx, scenarios, swaps=plan.swaps, name_origins=plan.name_origins, plan=plan)
    if ctx.quick:
        result.notes.append("Quick run: one pair exercises the code; no test can be significant.")
    return result
