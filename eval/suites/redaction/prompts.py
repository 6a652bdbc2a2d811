"""Identifiers surviving into drafting prompts: each scenario redacted and made into the prompt
the drafter would send (``Drafter.messages``, no LLM call), searched for its gold identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from eval.core import Metric
from eval.datasets.scenarios import Scenario
from eval.scoring.stats import group_metric

PROMPT_TYPES = frozenset(
    "PERSON UK_PHONE UK_POSTCODE UK_NHS UK_NINO STREET_ADDRESS EMAIL DATE_OF_BIRTH".split()
)
"""Direct identifiers: none of them may reach the language model."""


@dataclass(frozen=True)
class PromptLeak:
    scenario: str
    identifier: str
    type: str
    origin: str
    found: bool
    blocked: bool


def scenario_transcript(scenario: Scenario):
    """The scenario's turns as a text transcript: one segment per turn, speaker labels kept."""
    from assistant.domain import Segment, Transcript
    from assistant.transcription.whisper import segment_id

    segments, clock = [], 0.0
    for i, turn in enumerate(scenario.turns, start=1):
        length = max(len(turn.text.split()) / 2.5, 0.5)
        segments.append(
            Segment(
                id=segment_id(i),
                start=round(clock, 2),
                end=round(clock + length, 2),
                text=turn.text,
                speaker=turn.speaker,
            )
        )
        clock += length
    return Transcript(
        segments=tuple(segments), language="en", duration_s=round(clock, 2), source="text"
    )


def identifier_pattern(text: str) -> re.Pattern[str]:
    """Case-insensitive, on word boundaries, any run of spaces where the gold has a space."""
    body = r"\s+".join(re.escape(part) for part in text.split())
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def prompt_text(messages: Sequence[dict[str, str]]) -> str:
    return "\n\n".join(m["content"] for m in messages)


def prompt_leaks(engines, scenarios: Sequence[Scenario]) -> tuple[list[PromptLeak], list[str]]:
    from assistant.redaction.redactor import residual_identifiers

    leaks: list[PromptLeak] = []
    notes: list[str] = []
    for s in scenarios:
        redacted, mapping = engines.redactor.redact(scenario_transcript(s))
        drafter = engines.drafter(s.template)
        prompt = prompt_text(drafter.messages(redacted.segments))
        empty = prompt_text(drafter.messages([]))
        blocked = bool(
            residual_identifiers(redacted, mapping, getattr(engines.redactor, "rules", None))
        )
        seen: set[tuple[str, str]] = set()
        for ident in s.gold.identifiers:
            if ident.type not in PROMPT_TYPES or (ident.text.lower(), ident.type) in seen:
                continue
            seen.add((ident.text.lower(), ident.type))
            pattern = identifier_pattern(ident.text)
            if pattern.search(empty):
                notes.append(
                    f"{s.id}: a gold {ident.type} also occurs in the prompt template itself; "
                    "not counted."
                )
                continue
            leaks.append(
                PromptLeak(
                    scenario=s.id,
                    identifier=ident.text,
                    type=ident.type,
                    origin=ident.origin or s.family_origin,
                    found=bool(pattern.search(prompt)),
                    blocked=blocked,
                )
            )
    return leaks, notes


def prompt_metrics(leaks: Sequence[PromptLeak], *, seed: int, resamples: int) -> list[Metric]:
    common = dict(
        group_fn=lambda x: x.origin,
        group_by="name_origin",
        cluster_fn=lambda x: x.scenario,
        higher_is_better=False,
        seed=seed,
        resamples=resamples,
    )
    found = lambda x: 1.0 if x.found else 0.0  # noqa: E731
    return [
        group_metric(
            leaks,
            found,
            name="identifiers_in_prompt",
            description="Distinct gold direct identifiers of the synthetic visits still present "
            "(case-insensitive, whole words) in the drafting prompt built from the redacted "
            "transcript; a count over scenarios, by name origin (non-name identifiers take the "
            "family's origin).",
            unit="count",
            statistic="sum",
            goal=0.0,
            **common,
        ),
        group_metric(
            leaks,
            found,
            name="identifiers_in_prompt_rate",
            description="The same as a share of the gold direct identifiers.",
            goal=0.0,
            **common,
        ),
        group_metric(
            leaks,
            lambda x: 1.0 if x.found and not x.blocked else 0.0,
            name="identifiers_reaching_llm",
            description="Identifiers in prompts that the pipeline's residual check would not "
            "block, i.e. that would reach the language model (a count).",
            unit="count",
            statistic="sum",
            goal=0.0,
            **common,
        ),
    ]
