"""The bias suite's counterfactual pairs: which copies of each scenario to make, and which side
of a pair is the reference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from eval.datasets.scenarios import (
    CHILD_ROLES,
    NAMES,
    PROFESSIONAL_ROLES,
    NotApplicable,
    Scenario,
)
from eval.datasets.scenarios.counterfactuals_extra import ALL_SWAPS, verify_only_swapped


def main_parent_gender(s: Scenario) -> str | None:
    """The gender of the first adult in ``people`` who is not a professional (the presets'
    "main parent or carer"), None when there is none (a children's home)."""
    return next(
        (p.gender for p in s.people if p.role not in CHILD_ROLES | PROFESSIONAL_ROLES), None
    )


def orientation(swap: str, original: Scenario, copy: Scenario) -> tuple[bool, str, str]:
    """(is the original the reference side?, reference label, other label) for a swap type."""
    if swap in ("parent_gender", "family_gender"):
        return main_parent_gender(original) == "female", "parent female", "parent male"
    if swap == "child_gender":
        child = next(p for p in original.people if p.role in CHILD_ROLES)
        return child.gender == "female", "child female", "child male"
    if swap == "religion":
        return copy.id.endswith("religion-muslim"), "christian practice", "muslim practice"
    if swap == "family_form":
        return True, "step or unmarried family", "birth or married family"
    return True, "original names", "other-origin names"


def name_targets(scenario: Scenario, index: int, k: int) -> list[str]:
    """``k`` origins for the names swap: English (Polish for an English family), then others
    in rotation by scenario index so that every origin occurs across the corpus."""
    if k <= 0:
        return []
    first = "english" if scenario.family_origin != "english" else "polish"
    rest = [o for o in sorted(NAMES) if o not in (first, scenario.family_origin)]
    picks = [first] + [rest[(index + j) % len(rest)] for j in range(k - 1)]
    return picks[:k]


def variants(
    scenarios: Sequence[Scenario], swaps: Sequence[str], name_origins: int
) -> tuple[list[tuple[str, Scenario, Scenario, int]], Counter[str]]:
    """(swap type, original, verified copy, words changed) for every applicable swap, and the
    count of inapplicable ones by swap type."""
    out = []
    skipped: Counter[str] = Counter()
    for i, s in enumerate(scenarios):
        for swap in swaps:
            presets = (
                [f"names_{o}" for o in name_targets(s, i, name_origins)]
                if swap == "names"
                else [swap]
            )
            for preset in presets:
                try:
                    copy = ALL_SWAPS[preset](s).apply(s)
                except NotApplicable:
                    skipped[swap] += 1
                    continue
                out.append((swap, s, copy, verify_only_swapped(s, copy)))
    return out, skipped
