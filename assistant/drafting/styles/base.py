"""What every drafting style shares: the retry policy and asking the model one question.

A style (the template's ``style``, and ``batch``) decides how a chunk of the transcript is put
to the model and how the answers become sections; it works for one :class:`Drafter`, reading
its model, template and settings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from assistant.domain import HeaderField, RedactedSegment, RedactedTranscript, Statement
from assistant.drafting.chunking import CHAT_OVERHEAD_TOKENS, messages_tokens
from assistant.drafting.llm import TokenCountingLLM
from assistant.drafting.response import InvalidAnswer, validated
from assistant.drafting.templates import MAX_STATEMENTS
from assistant.errors import DraftingFailed

if TYPE_CHECKING:
    from assistant.drafting.drafter import Drafter

log = logging.getLogger(__name__)
_T = TypeVar("_T")

Sections = dict[str, list[Statement]]
"""A chunk's statements by section key."""

#: Told the share of a chunk drafted so far (0..1), as the model's answers come in.
Progress = Callable[[float], None]


def no_progress(fraction: float) -> None:
    """Progress nobody follows."""


TOKENS_PER_STATEMENT = 50
"""About what one short statement costs as JSON (text, kind, speaker, one or two ids)."""
MIN_WORDS_FOR_CONTENT = 40
"""A transcript with at least this many words is expected to yield at least one statement."""


# --- retry policy ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AttemptSettings:
    """Generation settings for one attempt. Temperature is always 0 (greedy)."""

    max_statements: int
    repeat_penalty: float
    max_tokens: int


def default_max_statements(max_tokens: int, n_sections: int) -> int:
    """Statements allowed per section when not configured: as many as fit ``max_tokens`` if
    every section were full, between 1 and :data:`MAX_STATEMENTS`. A model that fills every
    array it is allowed (small ones do) then still finishes: 1024 tokens over 9 sections give
    2, 2048 give 4, 3600 and more give 8."""
    return max(1, min(MAX_STATEMENTS, max_tokens // (n_sections * TOKENS_PER_STATEMENT)))


def attempt_settings(
    attempt: int, *, max_statements: int, repeat_penalty: float, max_tokens: int
) -> AttemptSettings:
    """Settings for attempt ``attempt`` (1-based): the first uses the configured values; each
    retry allows fewer statements per section (x0.6, at least 1), penalises repetition more
    (+0.1) and allows more output tokens (x1.5, later clipped to the context window). A small
    model that loops or runs long gets a shorter, less repetitive job, deterministically."""
    retry = attempt - 1
    return AttemptSettings(
        max_statements=max(1, round(max_statements * 0.6**retry)),
        repeat_penalty=round(repeat_penalty + 0.1 * retry, 2),
        max_tokens=int(max_tokens * 1.5**retry),
    )


# --- the strategy ---------------------------------------------------------------------------
class Style:
    """How one template style drafts a chunk of segments (subclasses: one a style)."""

    numbered: ClassVar[bool] = False
    """The model is shown the segments numbered 1, 2, 3 ... (a verbatim style), and the
    statements' evidence is mapped back to the segments' ids by the drafter."""

    def __init__(self, drafter: Drafter):
        self.drafter = drafter

    def bounds(self, max_statements: int | None) -> tuple[int, int]:
        """Statements allowed per section and output tokens allowed per call, given the
        configured ``max_statements`` (``None``: the style's default)."""
        raise NotImplementedError

    def section_asked(self, section: str | None) -> str | None:
        """The section a prompt asks for (the user prompt's ``{{section}}``), given the one
        :meth:`Drafter.messages` was asked for."""
        return section

    def segment_asked(
        self, segments: Sequence[RedactedSegment], asked: Sequence[RedactedSegment] | None
    ) -> str | None:
        """What a prompt over ``segments`` shows of the segments it asks about (the user
        prompt's ``{{segment}}``), given those :meth:`Drafter.messages` was asked about."""
        return None

    def asked_sections(self) -> Sequence[str | None]:
        """The sections one prompt each is built for (``None``: one prompt for all)."""
        return (None,)

    def prompt_tokens(self, segments: Sequence[RedactedSegment]) -> int | None:
        """Tokens of the prompt for these segments (the longest, when there are several);
        ``None`` when the model cannot count them."""
        llm = self.drafter.llm
        if not isinstance(llm, TokenCountingLLM):
            return None
        return (
            max(
                messages_tokens(llm, self.drafter.messages(segments, key))
                for key in self.asked_sections()
            )
            + CHAT_OVERHEAD_TOKENS
        )

    def draft_chunk(
        self, segments: Sequence[RedactedSegment], *, label: str, progress: Progress = no_progress
    ) -> tuple[Sections, int]:
        """The sections drafted from one chunk and the most attempts any question took;
        ``progress`` is told the share of the chunk done (0..1) as its questions are answered."""
        raise NotImplementedError

    def header(self, transcript: RedactedTranscript) -> tuple[HeaderField, ...]:
        """The note's header, found in code from the whole transcript (none before the note
        style)."""
        return ()

    # -- asking the model -------------------------------------------------------------------
    def settings(self, attempt: int) -> AttemptSettings:
        d = self.drafter
        return attempt_settings(
            attempt,
            max_statements=d.max_statements,
            repeat_penalty=d.repeat_penalty,
            max_tokens=d.call_max_tokens,
        )

    def complete(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        settings: AttemptSettings,
        max_tokens: int,
        *,
        where: str,
    ) -> Any:
        """One greedy, schema-constrained completion. A model fault is not retried: it will
        not get better."""
        try:
            return self.drafter.llm.create_chat_completion(
                messages,
                response_format={"type": "json_object", "schema": schema},
                temperature=0.0,
                seed=self.drafter.seed,
                max_tokens=max_tokens,
                repeat_penalty=settings.repeat_penalty,
            )
        except Exception as exc:
            raise DraftingFailed(
                f"drafting failed ({where}): the model raised {type(exc).__name__}"
            ) from exc

    def validated(self, response: Any, schema: dict[str, Any], *, max_tokens: int) -> Any:
        """The response's JSON, checked complete and valid against ``schema``."""
        return validated(
            response,
            schema,
            max_tokens=max_tokens,
            section_keys=self.drafter.template.section_keys,
        )

    def ask(
        self,
        messages: list[dict[str, str]],
        schema_for: Callable[[AttemptSettings], dict[str, Any]],
        accept: Callable[[Any], _T],
        *,
        where: str,
        first_attempt: int = 1,
        reasons: list[str] | None = None,
    ) -> tuple[_T, int, float]:
        """One question to the model, asked up to ``max_attempts`` times: each attempt's
        answer is checked against its schema and then by ``accept`` (which raises
        :class:`InvalidAnswer` to ask again). Returns what ``accept`` made of the first good
        answer, the attempt that gave it and the seconds it took; raises
        :class:`DraftingFailed` naming ``where`` and every attempt's reason (never the
        answer's text)."""
        max_attempts = self.drafter.max_attempts
        reasons = list(reasons or [])
        for attempt in range(first_attempt, max_attempts + 1):
            settings = self.settings(attempt)
            schema = schema_for(settings)
            started = time.perf_counter()
            response = self.complete(
                messages, schema, settings, settings.max_tokens, where=f"{where}, attempt {attempt}"
            )
            elapsed = time.perf_counter() - started
            try:
                return (
                    accept(self.validated(response, schema, max_tokens=settings.max_tokens)),
                    attempt,
                    elapsed,
                )
            except InvalidAnswer as invalid:
                reasons.append(f"attempt {attempt}: {invalid.reason}")
                log.warning(
                    "model answer rejected",
                    extra={"where": where, "attempt": attempt, "reason": invalid.reason},
                )
        raise DraftingFailed(
            f"drafting failed after {max_attempts} attempts ({where}): " + "; ".join(reasons)
        )
