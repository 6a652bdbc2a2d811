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
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from assistant.domain import (
    DraftNote,
    DraftProvenance,
    ModelRef,
    NoteSection,
    RedactedSegment,
    RedactedTranscript,
    Statement,
    StatementKind,
)
from assistant.drafting.chunking import (
    CHAT_OVERHEAD_TOKENS,
    CONTEXT_SAFETY_TOKENS,
    balanced_runs,
    messages_tokens,
    plan_chunks,
)
from assistant.drafting.llm import ChatLLM, TokenCountingLLM
from assistant.drafting.prompt import (
    TRANSCRIPT_END,
    TRANSCRIPT_START,
    clean,
    line,
    transcript_block,
)
from assistant.drafting.response import InvalidAnswer, label_from_start, validated
from assistant.drafting.statements import (
    excerpts,
    merge_chunks,
    short_answer,
)
from assistant.drafting.templates import (
    MAX_EVIDENCE,
    MAX_STATEMENTS,
    NONE_LABEL,
    VERBATIM_STYLES,
    NoteTemplate,
    SectionSpec,
)
from assistant.errors import DraftingFailed

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

log = logging.getLogger(__name__)
_T = TypeVar("_T")

TOKENS_PER_STATEMENT = 50
"""About what one short statement costs as JSON (text, kind, speaker, one or two ids)."""
TOKENS_PER_EXTRACTIVE_STATEMENT = 6
"""At most what one statement of an extractive template costs as JSON (a number and a comma)."""
EXTRACTIVE_SLACK_TOKENS = 16
"""Braces and the key around one section's ids."""
EXTRACTIVE_MAX_STATEMENTS = 6
"""Segments per section per chunk in an extractive template, when not configured."""
CLASSIFY_MAX_TOKENS = 16
"""A classify answer: one section key as a JSON string (the longest key is a few tokens)."""
BATCH_TOKENS_PER_LABEL = 8
"""At most what one label of a batched classify answer costs (its key, quotes and comma; the
longest key is a few tokens)."""
BATCH_SLACK_TOKENS = 8
"""The brackets around a batched answer, and the end token."""
LABEL_PEEK_TOKENS = 3
"""A classify answer is first read from this many tokens (the opening quote and the key's first
two tokens). The grammar allows only the labels, so once the tokens read are the start of
exactly one label the rest is forced: the label is the one full generation would give, without
generating the rest, the closing quote and the end token (each costs about 70 ms for the
default model on 2 cores). Two would not do: the default model starts both ``worries`` and
``working_well`` with ``wor``, and an unclear start costs a second call for the whole answer."""


# --- retry policy ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AttemptSettings:
    """Generation settings for one attempt. Temperature is always 0 (greedy)."""

    max_statements: int
    repeat_penalty: float
    max_tokens: int


# A transcript with at least this many words is expected to yield at least one statement.
MIN_WORDS_FOR_CONTENT = 40


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


class Drafter:
    """Drafts a note for one template with one model. Holds no per-transcript state.

    ``max_statements`` (default: :func:`default_max_statements`) and ``max_evidence`` bound
    the schema's arrays. ``repeat_penalty`` is the first attempt's; it starts at 1.0 because
    llama.cpp applies it to every recent token, including the braces and quotes the grammar
    forces: with 1.1 SmolLM2 closed every section empty at once. Retries raise it (see
    :func:`attempt_settings`).
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
        self.extractive = template.style == "extractive"
        self.classify = template.style == "classify"
        self.numbered = template.style in VERBATIM_STYLES
        self.batched = self.classify and template.batch > 1
        if self.classify:  # one call per segment (or batch), answered with section keys
            self.max_statements = max_statements or EXTRACTIVE_MAX_STATEMENTS  # unused
            self.call_max_tokens = min(
                max_tokens,
                template.batch * BATCH_TOKENS_PER_LABEL + BATCH_SLACK_TOKENS
                if self.batched
                else CLASSIFY_MAX_TOKENS,
            )
        elif self.extractive:  # one call per section: the bound is per call, not shared
            self.max_statements = max_statements or EXTRACTIVE_MAX_STATEMENTS
            self.call_max_tokens = min(
                max_tokens,
                self.max_statements * TOKENS_PER_EXTRACTIVE_STATEMENT + EXTRACTIVE_SLACK_TOKENS,
            )
        else:
            self.max_statements = max_statements or default_max_statements(
                max_tokens, len(template.sections)
            )
            self.call_max_tokens = max_tokens
        self.max_evidence = max_evidence
        self.repeat_penalty = repeat_penalty
        self.label_peek_tokens = label_peek_tokens
        """Classify templates: read each answer from its first tokens (``None``: always the whole
        answer; same labels, slower; see :data:`LABEL_PEEK_TOKENS`)."""
        self.chunk_tokens = chunk_tokens
        """Most tokens one prompt may hold (``None``: the model's context window); a longer
        transcript is drafted in chunks (:func:`assistant.drafting.chunking.plan_chunks`)."""
        self._system = template.system_prompt()

    # -- public ---------------------------------------------------------------------------
    def draft(self, transcript: RedactedTranscript) -> DraftNote:
        """Draft a note from a redacted transcript; raises :class:`DraftingFailed` when no
        attempt gives a usable note (the message names attempts and reasons, never text)."""
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
        for index, chunk in enumerate(chunks, start=1):
            label = f"chunk {index} of {len(chunks)}" if len(chunks) > 1 else "transcript"
            if self.numbered:
                if self.classify:
                    sections, attempts = self._classify_chunk(chunk, label=label)
                else:
                    sections, attempts = self._extract_chunk(chunk, label=label)
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
            else:
                sections, attempts = self._draft_chunk(chunk, label=label)
            results.append(sections)
            attempts_used = max(attempts_used, attempts)
        merged = merge_chunks(results, self.template.section_keys, order)
        words = sum(len(s.text.split()) for s in transcript.segments)
        if self.numbered and words >= MIN_WORDS_FOR_CONTENT and not any(merged.values()):
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
        )

    def chunks(self, transcript: RedactedTranscript) -> list[tuple[RedactedSegment, ...]]:
        """The segments as the model is shown them (numbered 1, 2, 3 ... for a verbatim
        template: see :meth:`_extract_chunk`), in the chunks they are drafted in
        (:func:`assistant.drafting.chunking.plan_chunks`): one unless the transcript outgrows
        the context window or ``chunk_tokens``."""
        segments = transcript.segments
        if self.numbered:
            segments = tuple(
                s.model_copy(update={"id": str(i)}) for i, s in enumerate(segments, start=1)
            )
        return plan_chunks(
            self._llm,
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
        if self.extractive and section is None:
            section = self.template.section_keys[0]
        query = None
        if self.classify:
            shown = list(asked) if asked else list(segments[:1])
            query = self._query(shown)
        return [
            {"role": "system", "content": self._system},
            {
                "role": "user",
                "content": self.template.user_prompt(
                    transcript_block(self._llm, segments), section, segment=query
                ),
            },
        ]

    # -- prompt ---------------------------------------------------------------------------
    def _query(self, shown: Sequence[RedactedSegment]) -> str:
        """What a classify prompt shows of the segment asked about (the last of ``shown``;
        a short answer comes after its question): their lines, or with ``ask: id`` only their
        numbers as the block shows them ("[12]", or "[12], the answer to [11]")."""
        if self.batched and shown:  # a run of consecutive segments, by number
            first, last = shown[0].id, shown[-1].id
            if len(shown) == 1:
                return f"[{first}]"
            return f"[{first}] and [{last}]" if len(shown) == 2 else f"[{first}] to [{last}]"
        if self.template.ask == "id" and shown:  # none shown: sizing the prompt's fixed part
            *before, asked = shown  # not ``last``: that name holds an id above
            return ", ".join([f"[{asked.id}]", *(f"the answer to [{s.id}]" for s in before)])
        return "\n".join(line(self._llm, s) for s in shown)

    # -- long transcripts -----------------------------------------------------------------
    def _prompt_tokens(self, segments: Sequence[RedactedSegment]) -> int | None:
        """Tokens of the prompt for these segments (the longest section's, when extractive)."""
        if not isinstance(self._llm, TokenCountingLLM):
            return None
        if self.classify:  # the longest question: the two longest lines of the chunk
            longest = sorted(segments, key=lambda s: len(line(self._llm, s)))[-2:]
            messages = self.messages(segments, asked=longest)
            return messages_tokens(self._llm, messages) + CHAT_OVERHEAD_TOKENS
        keys: Sequence[str | None] = self.template.section_keys if self.extractive else (None,)
        return (
            max(messages_tokens(self._llm, self.messages(segments, key)) for key in keys)
            + CHAT_OVERHEAD_TOKENS
        )

    # -- one chunk --------------------------------------------------------------------------
    def _draft_chunk(
        self, segments: Sequence[RedactedSegment], *, label: str
    ) -> tuple[dict[str, list[Statement]], int]:
        ids = [s.id for s in segments]
        speakers = [s.speaker for s in segments if s.speaker]
        messages = self.messages(segments)
        prompt_tokens = self._prompt_tokens(segments)
        reasons: list[str] = []
        substantive = sum(len(s.text.split()) for s in segments) >= MIN_WORDS_FOR_CONTENT
        came_back_empty = False
        for attempt in range(1, self.max_attempts + 1):
            settings = attempt_settings(
                attempt,
                max_statements=self.max_statements,
                repeat_penalty=self.repeat_penalty,
                max_tokens=self.max_tokens,
            )
            max_tokens = settings.max_tokens
            if prompt_tokens is not None:  # a retry may not outgrow the context window
                assert isinstance(self._llm, TokenCountingLLM)
                ceiling = self._llm.n_ctx() - prompt_tokens - CONTEXT_SAFETY_TOKENS
                max_tokens = max(1, min(max_tokens, ceiling))
            schema = self.template.json_schema(
                ids,
                speakers=[clean(self._llm, s) for s in speakers],
                max_statements=settings.max_statements,
                max_evidence=self.max_evidence,
                require_first=came_back_empty,
            )
            started = time.perf_counter()
            response = self._complete(
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
            f"drafting failed after {self.max_attempts} attempts ({label}): " + "; ".join(reasons)
        )

    def _complete(
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
            return self._llm.create_chat_completion(
                messages,
                response_format={"type": "json_object", "schema": schema},
                temperature=0.0,
                seed=self.seed,
                max_tokens=max_tokens,
                repeat_penalty=settings.repeat_penalty,
            )
        except Exception as exc:
            raise DraftingFailed(
                f"drafting failed ({where}): the model raised {type(exc).__name__}"
            ) from exc

    def _extract_chunk(
        self, segments: Sequence[RedactedSegment], *, label: str
    ) -> tuple[dict[str, list[Statement]], int]:
        """An extractive template: one call per section over the same transcript block. The
        block comes first in every section's prompt and the section last, so the model reads
        the system prompt and the transcript once (llama.cpp keeps the longest shared prefix of
        consecutive prompts in its cache) and then only each section's short question.

        Segments are numbered 1, 2, 3 ... here (``draft`` maps them back to their ids) and the
        model answers with plain integers: "[12]" is four tokens where "[s0012]" is seven, and
        an integer grammar is small where an enum of every id made llama.cpp check each
        candidate token against hundreds of alternatives (45 tokens of ids took 8 s). A number
        that is not a segment of this chunk is dropped: a statement's words always come from a
        real segment."""
        in_chunk = {s.id for s in segments}
        sections: dict[str, list[Statement]] = {}
        most = 0
        for spec in self.template.sections:

            def accept(data: Any, spec: SectionSpec = spec) -> list[Statement]:
                chosen = [str(n) for n in data["segments"]]
                known = [sid for sid in chosen if sid in in_chunk]
                if len(known) < len(chosen):
                    log.info(
                        "numbers outside the chunk dropped",
                        extra={"section": spec.key, "dropped": len(chosen) - len(known)},
                    )
                return excerpts(known, segments, spec)

            sections[spec.key], attempt, elapsed = self._ask(
                self.messages(segments, spec.key),
                lambda settings: self.template.section_schema(
                    max_statements=settings.max_statements
                ),
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

    def _settings(self, attempt: int) -> AttemptSettings:
        return attempt_settings(
            attempt,
            max_statements=self.max_statements,
            repeat_penalty=self.repeat_penalty,
            max_tokens=self.call_max_tokens,
        )

    def _ask(
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
        :class:`InvalidAnswer` to ask again). Returns what ``accept`` made of the first good answer,
        the attempt that gave it and the seconds it took; raises :class:`DraftingFailed` naming
        ``where`` and every attempt's reason (never the answer's text)."""
        reasons = list(reasons or [])
        for attempt in range(first_attempt, self.max_attempts + 1):
            settings = self._settings(attempt)
            schema = schema_for(settings)
            started = time.perf_counter()
            response = self._complete(
                messages, schema, settings, settings.max_tokens, where=f"{where}, attempt {attempt}"
            )
            elapsed = time.perf_counter() - started
            try:
                return (
                    accept(self._validated(response, schema, max_tokens=settings.max_tokens)),
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
            f"drafting failed after {self.max_attempts} attempts ({where}): " + "; ".join(reasons)
        )

    def _peek_label(
        self, messages: list[dict[str, str]], schema: dict[str, Any], *, where: str
    ) -> tuple[str | None, bool]:
        """The label of a classify answer read from its first tokens, or ``None`` with whether
        they were only unclear (the start of more than one label: the whole answer is asked
        for) rather than the start of no label at all (a failed attempt, as a broken grammar
        would give)."""
        if not self.label_peek_tokens:
            return None, True
        response = self._complete(
            messages,
            schema,
            self._settings(1),
            self.label_peek_tokens,
            where=f"{where}, first tokens",
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

    def _classify_chunk(
        self, segments: Sequence[RedactedSegment], *, label: str
    ) -> tuple[dict[str, list[Statement]], int]:
        """A classify template: one call per segment, each answered with one section key (or
        ``none``), over the same transcript block. Every call's prompt is the system prompt and
        the block followed by the segment asked about, so llama.cpp reads the block once and
        then only each segment's line (a short answer is asked about with its question before
        it: "Yes." alone cannot be placed). Each answer is read from its first tokens
        (:data:`LABEL_PEEK_TOKENS`) and asked for whole only when they could start more than
        one label. The segments of each section become statements as in an extractive template
        (:func:`assistant.drafting.statements.excerpts`)."""
        if self.batched:
            return self._classify_batches(segments, label=label)
        schema = self.template.label_schema()
        chosen: dict[str, list[str]] = {key: [] for key in self.template.section_keys}
        most = 0
        started = time.perf_counter()
        for i, segment in enumerate(segments):
            asked = [segment]
            if i > 0 and short_answer(segments[i - 1], segment):
                asked = [segments[i - 1], segment]
            messages = self.messages(segments, asked=asked)
            where = f"{label}, segment {segment.id}"
            answer, unclear = self._peek_label(messages, schema, where=where)
            attempt = 1
            if answer is None:  # an unclear start is not a failed attempt; no label at all is
                answer, attempt, _ = self._ask(
                    messages,
                    lambda settings: schema,
                    lambda data: data,
                    where=where,
                    first_attempt=1 if unclear else 2,
                    reasons=[] if unclear else ["attempt 1: the answer is not a section key"],
                )
            if answer is not None and answer != NONE_LABEL:
                chosen[answer].append(segment.id)
            most = max(most, attempt)
        return self._classified(chosen, segments, started), most

    def _classify_batches(
        self, segments: Sequence[RedactedSegment], *, label: str
    ) -> tuple[dict[str, list[Statement]], int]:
        """A batched classify template (:attr:`NoteTemplate.batch`): each call asks about a run
        of consecutive segments by their numbers ("[12] to [19]") and is answered with a list
        of exactly that many labels, the grammar allowing only labels. A run whose answer fails
        every attempt is asked again one segment at a time (a list of one label), so one bad
        answer costs a run's calls, not the draft. The segments are numbered consecutively in
        ``draft``, so "to" names every segment between."""
        chosen: dict[str, list[str]] = {key: [] for key in self.template.section_keys}
        most = 0
        calls = 0
        started = time.perf_counter()
        runs = balanced_runs(segments, self.template.batch)
        for run in runs:
            try:
                labels, attempt = self._ask_run(segments, run, label=label)
                calls += 1
            except DraftingFailed:
                log.warning("batched answer failed: asking one segment at a time")
                labels, attempt = [], self.max_attempts  # the run used them all
                for segment in run:
                    (one,), tries = self._ask_run(segments, (segment,), label=label)
                    labels.append(one)
                    attempt = max(attempt, tries)
                    calls += 1
            for segment, answer in zip(run, labels, strict=True):
                if answer != NONE_LABEL:
                    chosen[answer].append(segment.id)
            most = max(most, attempt)
        return self._classified(chosen, segments, started, calls=calls), most

    def _classified(
        self,
        chosen: dict[str, list[str]],
        segments: Sequence[RedactedSegment],
        started: float,
        **extra: int,
    ) -> dict[str, list[Statement]]:
        """The sections made from the segment ids each was given (as in an extractive
        template: :func:`assistant.drafting.statements.excerpts`), logged with counts only."""
        sections = {
            spec.key: excerpts(chosen[spec.key], segments, spec) for spec in self.template.sections
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

    def _ask_run(
        self,
        segments: Sequence[RedactedSegment],
        run: Sequence[RedactedSegment],
        *,
        label: str,
    ) -> tuple[list[str], int]:
        """The labels of one run of segments and the attempt that gave them."""
        schema = self.template.batch_schema(len(run))
        where = f"{label}, segments {run[0].id} to {run[-1].id}"
        labels, attempt, _ = self._ask(
            self.messages(segments, asked=run),
            lambda settings: schema,
            lambda data: data,
            where=where,
        )
        return list(labels), attempt

    def _parse(
        self,
        response: Any,
        schema: dict[str, Any],
        segments: Sequence[RedactedSegment],
        *,
        max_tokens: int,
    ) -> dict[str, list[Statement]]:
        data = self._validated(response, schema, max_tokens=max_tokens)
        return {
            key: self._statements(data["sections"][key], segments, key)
            for key in self.template.section_keys
        }

    def _validated(self, response: Any, schema: dict[str, Any], *, max_tokens: int) -> Any:
        """The response's JSON, checked complete and valid against ``schema``."""
        return validated(
            response, schema, max_tokens=max_tokens, section_keys=self.template.section_keys
        )

    def _statements(
        self, items: Sequence[Any], segments: Sequence[RedactedSegment], key: str
    ) -> list[Statement]:
        """Statements from one section's validated items (abstractive)."""
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
