"""The abstractive style: one call per chunk, the model writing every section's statements.

The schema's evidence enum holds only this chunk's segment ids, and every cited id is checked
again; a retry asks for fewer statements with a higher repeat penalty, and a note that comes
back empty for a transcript with plenty of speech is asked for again with its first section
required to hold a statement.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from assistant.domain import RedactedSegment, Statement, StatementKind
from assistant.drafting.chunking import CONTEXT_SAFETY_TOKENS
from assistant.drafting.llm import TokenCountingLLM
from assistant.drafting.prompt import clean
from assistant.drafting.response import InvalidAnswer
from assistant.drafting.styles.base import (
    MIN_WORDS_FOR_CONTENT,
    Progress,
    Sections,
    Style,
    default_max_statements,
    no_progress,
)
from assistant.errors import DraftingFailed

log = logging.getLogger(__name__)


class Abstractive(Style):
    """``style: abstractive``: the model writes each statement's text, citing segment ids."""

    def bounds(self, max_statements: int | None) -> tuple[int, int]:
        d = self.drafter
        return (
            max_statements or default_max_statements(d.max_tokens, len(d.template.sections)),
            d.max_tokens,
        )

    def draft_chunk(
        self, segments: Sequence[RedactedSegment], *, label: str, progress: Progress = no_progress
    ) -> tuple[Sections, int]:
        d = self.drafter
        ids = [s.id for s in segments]
        speakers = [s.speaker for s in segments if s.speaker]
        messages = d.messages(segments)
        prompt_tokens = self.prompt_tokens(segments)
        reasons: list[str] = []
        substantive = sum(len(s.text.split()) for s in segments) >= MIN_WORDS_FOR_CONTENT
        came_back_empty = False
        for attempt in range(1, d.max_attempts + 1):
            settings = self.settings(attempt)  # call_max_tokens is max_tokens here
            max_tokens = settings.max_tokens
            if prompt_tokens is not None:  # a retry may not outgrow the context window
                assert isinstance(d.llm, TokenCountingLLM)
                ceiling = d.llm.n_ctx() - prompt_tokens - CONTEXT_SAFETY_TOKENS
                max_tokens = max(1, min(max_tokens, ceiling))
            schema = d.template.json_schema(
                ids,
                speakers=[clean(d.llm, s) for s in speakers],
                max_statements=settings.max_statements,
                max_evidence=d.max_evidence,
                require_first=came_back_empty,
            )
            started = time.perf_counter()
            response = self.complete(
                messages, schema, settings, max_tokens, where=f"{label}, attempt {attempt}"
            )
            elapsed = time.perf_counter() - started
            try:
                sections = self._parse(response, schema, segments, max_tokens=max_tokens)
                if substantive and not any(sections.values()):
                    # Small models sit on a knife edge between "[]" and "[{" for every section
                    # (Qwen2.5-1.5B returned an all-empty note for a 2-minute visit). A visit with
                    # this much speech always gives something to record: retry, requiring the
                    # first section to hold at least one statement.
                    came_back_empty = True
                    raise InvalidAnswer("every section came back empty")
            except InvalidAnswer as invalid:
                reasons.append(f"attempt {attempt}: {invalid.reason}")
                log.warning(
                    "draft attempt rejected",
                    extra={"attempt": attempt, "reason": invalid.reason, "seconds": elapsed},
                )
                continue
            log.info(
                "draft attempt accepted",
                extra={
                    "attempt": attempt,
                    "seconds": round(elapsed, 2),
                    "statements": sum(len(v) for v in sections.values()),
                },
            )
            return sections, attempt
        raise DraftingFailed(
            f"drafting failed after {d.max_attempts} attempts ({label}): " + "; ".join(reasons)
        )

    def _parse(
        self,
        response: Any,
        schema: dict[str, Any],
        segments: Sequence[RedactedSegment],
        *,
        max_tokens: int,
    ) -> Sections:
        data = self.validated(response, schema, max_tokens=max_tokens)
        return {
            key: _statements(data["sections"][key], segments, key)
            for key in self.drafter.template.section_keys
        }


def _statements(
    items: Sequence[Any], segments: Sequence[RedactedSegment], key: str
) -> list[Statement]:
    """Statements from one section's validated items."""
    order = {s.id: i for i, s in enumerate(segments)}
    statements: list[Statement] = []
    for item in items:
        if not set(item["evidence"]) <= order.keys():  # the grammar guarantees it
            raise InvalidAnswer(f"a statement in {key} cites a segment not in the transcript")
        evidence = tuple(sorted(set(item["evidence"]), key=order.__getitem__))
        text = " ".join(item["text"].split())
        if not text:
            continue  # an empty statement says nothing: drop it rather than store it
        statements.append(
            Statement(
                text=text,
                kind=StatementKind(item["kind"]),
                speaker=item["speaker"] or None,
                evidence=evidence,
            )
        )
    return statements
