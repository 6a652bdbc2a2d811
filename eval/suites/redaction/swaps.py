"""The same visit with other names redacts to the same text: the bias suite's names swaps,
each compared with its original after redaction (seconds, where the bias suite needs drafts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eval.core import Metric
from eval.datasets.scenarios import Scenario
from eval.scoring.stats import group_metric


@dataclass(frozen=True)
class NamesSwap:
    scenario: str
    target: str
    """The copy's names: 'names-somali' ..."""
    same: bool


def names_swaps(redactor, scenarios: Sequence[Scenario]) -> list[NamesSwap]:
    """The bias suite's names swaps of ``scenarios``, each with whether the copy redacts to the
    original's text (compared as the bias suite compares them: ``notes.redacted_digest`` of the
    service's text transcript)."""
    from eval.suites.bias import FULL, variants
    from eval.suites.notes import redacted_digest
    from eval.suites.notes import scenario_transcript as text_transcript

    found, _ = variants(scenarios, ("names",), FULL.name_origins)
    digests: dict[str, str] = {}

    def digest(s: Scenario) -> str:
        if s.id not in digests:
            redacted, _ = redactor.redact(text_transcript(s))
            digests[s.id] = redacted_digest(redacted)
        return digests[s.id]

    return [
        NamesSwap(original.id, copy.id.rsplit("@", 1)[-1], digest(original) == digest(copy))
        for _, original, copy, _ in found
    ]


def names_swap_metric(swaps: Sequence[NamesSwap], *, seed: int, resamples: int) -> Metric:
    return group_metric(
        swaps,
        lambda x: 1.0 if x.same else 0.0,
        lambda x: x.target,
        name="names_swap_same_redaction",
        description="Share of the bias suite's names swaps (each scenario with its family's "
        "names changed to another origin's) whose redacted transcript is identical to the "
        "original's, by the copy's name origin; where it differs, the drafting model reads "
        "different words for a family only because of its names.",
        higher_is_better=True,
        group_by="copy_name_origin",
        cluster_fn=lambda x: x.scenario,
        seed=seed,
        resamples=resamples,
    )
