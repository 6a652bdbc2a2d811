"""The classify style: one call per segment, answered with the section it belongs in."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from assistant.domain import RedactedSegment
from assistant.drafting.chunking import CHAT_OVERHEAD_TOKENS, messages_tokens
from assistant.drafting.llm import TokenCountingLLM
from assistant.drafting.prompt import line
from assistant.drafting.response import label_from_start
from assistant.drafting.statements import excerpts, short_answer
from assistant.drafting.styles.base import Progress, Sections, Style, no_progress
from assistant.drafting.styles.extractive import EXTRACTIVE_MAX_STATEMENTS
from assistant.drafting.templates import NONE_LABEL

log = logging.getLogger(__name__)

CLASSIFY_MAX_TOKENS = 16
"""A classify answer: one section key as a JSON string (the longest key is a few tokens)."""
LABEL_PEEK_TOKENS = 3
"""A classify answer is first read from this many tokens (the opening quote and the key's first
two tokens). The grammar allows only the labels, so once the tokens read are the start of
exactly one label the rest is forced: the label is the one full generation would give, without
generating the rest, the closing quote and the end token (each costs about 70 ms for the
default model on 2 cores). Two would not do: the default model starts both ``worries`` and
``working_well`` with ``wor``, and an unclear start costs a second call for the whole answer."""


class Classify(Style):
    """``style: classify``: statements made as in an extractive template, from the segments
    each section was given."""

    numbered = True

    def bounds(self, max_statements: int | None) -> tuple[int, int]:
        # max_statements is unused: answers are section keys, not lists
        return (
            max_statements or EXTRACTIVE_MAX_STATEMENTS,
            min(self.drafter.max_tokens, self.answer_tokens()),
        )

    def answer_tokens(self) -> int:
        """The most tokens one answer takes."""
        return CLASSIFY_MAX_TOKENS

    def segment_asked(
        self, segments: Sequence[RedactedSegment], asked: Sequence[RedactedSegment] | None
    ) -> str | None:
        # asking about the last of ``asked`` (the first segment when none is given)
        return self.query(list(asked) if asked else list(segments[:1]))

    def query(self, shown: Sequence[RedactedSegment]) -> str:
        """What a classify prompt shows of the segment asked about (the last of ``shown``;
        a short answer comes after its question): their lines, or with ``ask: id`` only their
        numbers as the block shows them ("[12]", or "[12], the answer to [11]")."""
        if self.drafter.template.ask == "id" and shown:  # none shown: sizing the fixed part
            *before, asked = shown
            return ", ".join([f"[{asked.id}]", *(f"the answer to [{s.id}]" for s in before)])
        return "\n".join(line(self.drafter.llm, s) for s in shown)

    def prompt_tokens(self, segments: Sequence[RedactedSegment]) -> int | None:
        """Tokens of the longest question: the two longest lines of the chunk."""
        llm = self.drafter.llm
        if not isinstance(llm, TokenCountingLLM):
            return None
        longest = sorted(segments, key=lambda s: len(line(llm, s)))[-2:]
        messages = self.drafter.messages(segments, asked=longest)
        return messages_tokens(llm, messages) + CHAT_OVERHEAD_TOKENS

    def draft_chunk(
        self, segments: Sequence[RedactedSegment], *, label: str, progress: Progress = no_progress
    ) -> tuple[Sections, int]:
        """One call per segment, each answered with one section key (or ``none``), over the
        same transcript block. Every call's prompt is the system prompt and the block followed
        by the segment asked about, so llama.cpp reads the block once and then only each
        segment's line (a short answer is asked about with its question before it: "Yes."
        alone cannot be placed). Each answer is read from its first tokens
        (:data:`LABEL_PEEK_TOKENS`) and asked for whole only when they could start more than
        one label."""
        d = self.drafter
        schema = d.template.label_schema()
        chosen: dict[str, list[str]] = {key: [] for key in d.template.section_keys}
        most = 0
        started = time.perf_counter()
        for i, segment in enumerate(segments):
            progress(i / len(segments))
            asked = [segment]
            if i > 0 and short_answer(segments[i - 1], segment):
                asked = [segments[i - 1], segment]
            messages = d.messages(segments, asked=asked)
            answer, attempt = self.label(messages, schema, where=f"{label}, segment {segment.id}")
            if answer is not None and answer != NONE_LABEL:
                chosen[answer].append(segment.id)
            most = max(most, attempt)
        return self.classified(chosen, segments, started), most

    def label(
        self, messages: list[dict[str, str]], schema: dict[str, Any], *, where: str
    ) -> tuple[Any, int]:
        """One label for ``messages`` (from ``schema``'s enum) and the attempt that gave it:
        read from the first tokens, asked for whole when they were unclear."""
        answer, unclear = self._peek_label(messages, schema, where=where)
        attempt = 1
        if answer is None:  # an unclear start is not a failed attempt; no label at all is
            answer, attempt, _ = self.ask(
                messages,
                lambda settings: schema,
                lambda data: data,
                where=where,
                first_attempt=1 if unclear else 2,
                reasons=[] if unclear else ["attempt 1: the answer is not a section key"],
            )
        return answer, attempt

    def _peek_label(
        self, messages: list[dict[str, str]], schema: dict[str, Any], *, where: str
    ) -> tuple[str | None, bool]:
        """The label of a classify answer read from its first tokens, or ``None`` with whether
        they were only unclear (the start of more than one label: the whole answer is asked
        for) rather than the start of no label at all (a failed attempt, as a broken grammar
        would give)."""
        peek = self.drafter.label_peek_tokens
        if not peek:
            return None, True
        response = self.complete(
            messages, schema, self.settings(1), peek, where=f"{where}, first tokens"
        )
        try:
            content = response["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            return None, False
        if not isinstance(content, str):
            return None, False
        label = label_from_start(content, schema["enum"])
        if label is not None:
            return label, False
        start = content.strip().removeprefix('"')
        return None, any(key.startswith(start) for key in schema["enum"])

    def classified(
        self,
        chosen: dict[str, list[str]],
        segments: Sequence[RedactedSegment],
        started: float,
        **extra: int,
    ) -> Sections:
        """The sections made from the segment ids each was given (as in an extractive
        template: :func:`assistant.drafting.statements.excerpts`), logged with counts only."""
        sections = {
            spec.key: excerpts(chosen[spec.key], segments, spec)
            for spec in self.drafter.template.sections
        }
        log.info(
            "segments classified",
            extra={
                "segments": len(segments),
                **extra,
                "seconds": round(time.perf_counter() - started, 2),
                "kept": sum(len(v) for v in chosen.values()),
            },
        )
        return sections
