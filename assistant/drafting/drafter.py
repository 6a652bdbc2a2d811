"""Drafting stage: RedactedTranscript -> DraftNote, with a local LLM held to a JSON schema.

The drafter accepts only a :class:`RedactedTranscript` (by annotation and by a runtime check), so
"the LLM never sees raw identifiers" can be checked by reading one line. The transcript goes into
the prompt between fixed markers, one segment a line, after anything that could pass for a marker
or a chat-template control token has been defused: the system prompt tells the model that
everything between the markers is data, and no text in a recording can close the data block.

Generation is constrained by the template's JSON schema (compiled by llama.cpp into a grammar
whose evidence enum holds only this transcript's segment ids) and the result is checked again:
an output cut off by ``max_tokens`` is never used, the JSON is validated with ``jsonschema``
against the same schema, and every cited id must belong to the transcript. A failed attempt is
retried with deterministic, tighter settings; temperature stays 0, so the same transcript,
template, model and settings always give the same note.

A transcript too long for the model's context window (counted with the model's own tokenizer)
is drafted in consecutive chunks of whole segments, and the chunk notes are merged section by
section, identical statements once.

Nothing here logs or raises transcript text: ids, counts, token numbers and durations only.

This module holds the coordinator; the parts live beside it: :mod:`.prompt` (the transcript
block), :mod:`.chunking` (long transcripts), :mod:`.response` (checking answers) and
:mod:`.styles` (one module a template style: how a chunk is put to the model).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from assistant.domain import (
    DraftNote,
    DraftProvenance,
    ModelRef,
    NoteSection,
    RedactedSegment,
    RedactedTranscript,
    Statement,
)
from assistant.drafting.chunking import balanced_runs, plan_chunks
from assistant.drafting.llm import ChatLLM
from assistant.drafting.prompt import TRANSCRIPT_END, TRANSCRIPT_START, transcript_block
from assistant.drafting.response import label_from_start
from assistant.drafting.statements import merge_chunks
from assistant.drafting.styles import style_for
from assistant.drafting.styles.base import (
    MIN_WORDS_FOR_CONTENT,
    AttemptSettings,
    attempt_settings,
    default_max_statements,
)
from assistant.drafting.styles.classify import LABEL_PEEK_TOKENS
from assistant.drafting.templates import MAX_EVIDENCE, NoteTemplate
from assistant.errors import DraftingFailed

# Drafter, and names the tests and benchmarks import from here (defined beside it)
__all__ = [
    "LABEL_PEEK_TOKENS",
    "TRANSCRIPT_END",
    "TRANSCRIPT_START",
    "AttemptSettings",
    "Drafter",
    "attempt_settings",
    "balanced_runs",
    "default_max_statements",
    "label_from_start",
]


class Drafter:
    """Drafts a note for one template with one model. Holds no per-transcript state.

    ``max_statements`` (default: the style's, e.g. :func:`default_max_statements`) and
    ``max_evidence`` bound the schema's arrays. ``repeat_penalty`` is the first attempt's; it
    starts at 1.0 because llama.cpp applies it to every recent token, including the braces and
    quotes the grammar forces: with 1.1 SmolLM2 closed every section empty at once. Retries
    raise it (see :func:`attempt_settings`).
    """

    def __init__(
        self,
        llm: ChatLLM,
        template: NoteTemplate,
        *,
        model: ModelRef,
        max_tokens: int = 2048,
        seed: int = 0,
        max_attempts: int = 3,
        max_statements: int | None = None,
        max_evidence: int = MAX_EVIDENCE,
        repeat_penalty: float = 1.0,
        label_peek_tokens: int | None = LABEL_PEEK_TOKENS,
        chunk_tokens: int | None = None,
    ):
        if max_attempts < 1 or max_tokens < 1:
            raise ValueError("max_attempts and max_tokens must be at least 1")
        self._llm = llm
        self.template = template
        self.model = model
        self.max_tokens = max_tokens
        self.seed = seed
        self.max_attempts = max_attempts
        self._style = style_for(template)(self)
        self.max_statements, self.call_max_tokens = self._style.bounds(max_statements)
        """Statements per section, and output tokens per call (the style's bound: a classify
        answer is a few tokens, an extractive one a section's numbers)."""
        self.max_evidence = max_evidence
        self.repeat_penalty = repeat_penalty
        self.label_peek_tokens = label_peek_tokens
        """Classify templates: read each answer from its first tokens (``None``: always the whole
        answer; same labels, slower; see :data:`LABEL_PEEK_TOKENS`)."""
        self.chunk_tokens = chunk_tokens
        """Most tokens one prompt may hold (``None``: the model's context window); a longer
        transcript is drafted in chunks (:func:`assistant.drafting.chunking.plan_chunks`)."""
        self._system = template.system_prompt()

    @property
    def llm(self) -> ChatLLM:
        """The model the styles ask."""
        return self._llm

    def draft(
        self,
        transcript: RedactedTranscript,
        *,
        on_progress: Callable[[float], None] | None = None,
    ) -> DraftNote:
        """Draft a note from a redacted transcript; raises :class:`DraftingFailed` when no
        attempt gives a usable note (the message names attempts and reasons, never text).
        ``on_progress``: the share drafted so far (0..1), as the model's answers come in (per
        segment, run of segments, section or piece, by style; a free-text chunk at its end)."""
        if not isinstance(transcript, RedactedTranscript):
            raise TypeError(
                f"Drafter.draft accepts only a RedactedTranscript, not {type(transcript).__name__}"
            )
        if not transcript.segments:
            raise DraftingFailed("the transcript has no segments to draft from")
        order = {s.id: i for i, s in enumerate(transcript.segments)}
        chunks = self.chunks(transcript)
        results: list[dict[str, list[Statement]]] = []
        attempts_used = 0
        report = on_progress or (lambda fraction: None)
        for index, chunk in enumerate(chunks, start=1):
            label = f"chunk {index} of {len(chunks)}" if len(chunks) > 1 else "transcript"

            def within(fraction: float, done: int = index - 1) -> None:
                share = (done + min(max(fraction, 0.0), 1.0)) / len(chunks)
                if share > 0.0:  # the stage's start is its caller's to say (once)
                    report(share)

            sections, attempts = self._style.draft_chunk(chunk, label=label, progress=within)
            if self._style.numbered:  # back from the numbers shown to the segments' ids
                real = transcript.segments
                sections = {
                    key: [
                        st.model_copy(
                            update={"evidence": tuple(real[int(e) - 1].id for e in st.evidence)}
                        )
                        for st in statements
                    ]
                    for key, statements in sections.items()
                }
            results.append(sections)
            attempts_used = max(attempts_used, attempts)
            within(1.0)
        merged = merge_chunks(results, self.template.section_keys, order)
        words = sum(len(s.text.split()) for s in transcript.segments)
        if self._style.numbered and words >= MIN_WORDS_FOR_CONTENT and not any(merged.values()):
            raise DraftingFailed(
                f"drafting failed: every section came back empty for a transcript of {words} words"
            )
        return DraftNote(
            sections=tuple(
                NoteSection(key=s.key, title=s.title, statements=tuple(merged[s.key]))
                for s in self.template.sections
            ),
            provenance=DraftProvenance(
                template=self.template.id,
                template_version=self.template.version,
                prompt_sha256=self.template.prompt_sha256,
                model=self.model,
                redaction_config_hash=transcript.config_hash,
                attempts=attempts_used,
                seed=self.seed,
            ),
            header=self._style.header(transcript),
        )

    def chunks(self, transcript: RedactedTranscript) -> list[tuple[RedactedSegment, ...]]:
        """The segments as the model is shown them (numbered 1, 2, 3 ... for a verbatim
        template: see :meth:`Extractive.draft_chunk
        <assistant.drafting.styles.extractive.Extractive.draft_chunk>`), in the chunks they are
        drafted in: one unless the transcript outgrows the context window or ``chunk_tokens``."""
        segments = transcript.segments
        if self._style.numbered:
            segments = tuple(
                s.model_copy(update={"id": str(i)}) for i, s in enumerate(segments, start=1)
            )
        return plan_chunks(
            self.llm,
            segments,
            chunk_tokens=self.chunk_tokens,
            call_max_tokens=self.call_max_tokens,
            prompt_tokens=self._prompt_tokens,
        )

    def messages(
        self,
        segments: Sequence[RedactedSegment],
        section: str | None = None,
        *,
        asked: Sequence[RedactedSegment] | None = None,
    ) -> list[dict[str, str]]:
        """The chat messages for these segments (public so tests and audits can read them);
        for an extractive template, the messages asking for ``section`` (the first section when
        none is given: every section's prompt holds the same transcript); for a classify
        template, asking about the last of ``asked`` (the first segment when none is given)."""
        section = self._style.section_asked(section)
        query = self._style.segment_asked(segments, asked)
        return [
            {"role": "system", "content": self._system},
            {
                "role": "user",
                "content": self.template.user_prompt(
                    transcript_block(self.llm, segments), section, segment=query
                ),
            },
        ]

    def _prompt_tokens(self, segments: Sequence[RedactedSegment]) -> int | None:
        """Tokens of the prompt for these segments (the longest section's, when extractive);
        ``None`` when the model cannot count tokens."""
        return self._style.prompt_tokens(segments)
