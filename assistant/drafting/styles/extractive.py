"""The extractive style: one call per section, the model choosing segments by number."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from assistant.domain import RedactedSegment, Statement
from assistant.drafting.statements import excerpts
from assistant.drafting.styles.base import Progress, Sections, Style, no_progress
from assistant.drafting.templates import SectionSpec

log = logging.getLogger(__name__)

TOKENS_PER_EXTRACTIVE_STATEMENT = 6
"""At most what one statement of an extractive template costs as JSON (a number and a comma)."""
EXTRACTIVE_SLACK_TOKENS = 16
"""Braces and the key around one section's ids."""
EXTRACTIVE_MAX_STATEMENTS = 6
"""Segments per section per chunk in an extractive template, when not configured."""


class Extractive(Style):
    """``style: extractive``: a statement's words are its segment's own."""

    numbered = True

    def bounds(self, max_statements: int | None) -> tuple[int, int]:
        # one call per section: the bound is per call, not shared
        most = max_statements or EXTRACTIVE_MAX_STATEMENTS
        return most, min(
            self.drafter.max_tokens,
            most * TOKENS_PER_EXTRACTIVE_STATEMENT + EXTRACTIVE_SLACK_TOKENS,
        )

    def section_asked(self, section: str | None) -> str | None:
        # every section's prompt holds the same transcript: the first stands for them all
        return self.drafter.template.section_keys[0] if section is None else section

    def asked_sections(self) -> Sequence[str | None]:
        return self.drafter.template.section_keys

    def draft_chunk(
        self, segments: Sequence[RedactedSegment], *, label: str, progress: Progress = no_progress
    ) -> tuple[Sections, int]:
        """One call per section over the same transcript block. The block comes first in every
        section's prompt and the section last, so the model reads the system prompt and the
        transcript once (llama.cpp keeps the longest shared prefix of consecutive prompts in
        its cache) and then only each section's short question.

        Segments are numbered 1, 2, 3 ... here (``draft`` maps them back to their ids) and the
        model answers with plain integers: "[12]" is four tokens where "[s0012]" is seven, and
        an integer grammar is small where an enum of every id made llama.cpp check each
        candidate token against hundreds of alternatives (45 tokens of ids took 8 s). A number
        that is not a segment of this chunk is dropped: a statement's words always come from a
        real segment."""
        d = self.drafter
        in_chunk = {s.id for s in segments}
        sections: Sections = {}
        most = 0
        for k, spec in enumerate(d.template.sections):
            progress(k / len(d.template.sections))

            def accept(data: Any, spec: SectionSpec = spec) -> list[Statement]:
                chosen = [str(n) for n in data["segments"]]
                known = [sid for sid in chosen if sid in in_chunk]
                if len(known) < len(chosen):
                    log.info(
                        "numbers outside the chunk dropped",
                        extra={"section": spec.key, "dropped": len(chosen) - len(known)},
                    )
                return excerpts(known, segments, spec)

            sections[spec.key], attempt, elapsed = self.ask(
                d.messages(segments, spec.key),
                lambda settings: d.template.section_schema(max_statements=settings.max_statements),
                accept,
                where=f"{label}, section {spec.key}",
            )
            log.info(
                "section extracted",
                extra={
                    "section": spec.key,
                    "attempt": attempt,
                    "seconds": round(elapsed, 2),
                    "statements": len(sections[spec.key]),
                },
            )
            most = max(most, attempt)
        return sections, most
