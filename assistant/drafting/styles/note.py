"""The note style: a case note of the words that carry something, attributed in code.

Code keeps each turn's sentences worth keeping (:func:`assistant.drafting.selection.select`) and
places them by who said them and what they are: the child's words in the child's section, word
for word; commitments as action rows (:func:`assistant.drafting.actions.action_row`); the
practitioner's words about the next visit, what they saw and why they came. A family member's
kept words go in one of the sections that hold the family's words: by the words they use (each
section's ``cues``, ``sort: words``, the released templates) or, with ``sort: model``, by asking
the model which section, or none. The model answers with a key from a list the grammar allows,
so it can neither attribute nor reword anything, and it reads the kept words, not the whole
conversation. With the default 1.5B model, asked this way, it put nearly every piece of two
visits in the first section it was offered and never answered none, so the released templates
sort by words; ``sort: model`` is for a council's larger model, measured first.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from collections.abc import Sequence

from assistant.domain import (
    HeaderField,
    RedactedSegment,
    RedactedTranscript,
    Statement,
    StatementKind,
)
from assistant.drafting import prose
from assistant.drafting.actions import (
    VISIT_AGAIN,
    action_row,
    header,
    own_visit,
    referent,
    visits,
)
from assistant.drafting.selection import Piece, own_commitment, select
from assistant.drafting.styles.base import Progress, Sections, no_progress
from assistant.drafting.styles.classify import Classify
from assistant.drafting.templates import NONE_LABEL, NoteTemplate, SectionSpec
from assistant.speakers import THROUGH_INTERPRETER, SpeakerRole, attributed, authors

log = logging.getLogger(__name__)


class Note(Classify):
    """``style: note``."""

    numbered = False  # statements cite the real segment ids; pieces are numbered for the model

    def header(self, transcript: RedactedTranscript) -> tuple[HeaderField, ...]:
        return header(transcript.segments)

    def draft_chunk(
        self, segments: Sequence[RedactedSegment], *, label: str, progress: Progress = no_progress
    ) -> tuple[Sections, int]:
        d = self.drafter
        started = time.perf_counter()
        pieces = select(segments, budget=d.template.budget, protect=protected(d.template))
        author = authors(s.speaker for s in segments)  # a local: drafters are shared
        shown = [_shown(i, p, segments) for i, p in enumerate(pieces, start=1)]
        index = {s.id: i for i, s in enumerate(segments)}
        sections: Sections = {key: [] for key in d.template.section_keys}
        family = [s.key for s in d.template.filled_by("family")]
        schema = d.template.choice_schema(family)
        asked = most = rewritten = 0
        for n, (piece, line) in enumerate(zip(pieces, shown, strict=True)):
            progress(n / len(pieces))
            spec, kind = self._placed(piece, author)
            if spec is None and family and _askable(piece) and d.template.sort == "words":
                spec = by_words(piece.words, d.template.filled_by("family"))
            elif spec is None and family and _askable(piece):
                asked += 1
                key, attempt = self._choose(shown, line, schema, where=f"{label}, piece {line.id}")
                most = max(most, attempt)
                spec = next((s for s in d.template.sections if s.key == key), None)
            if spec is None:
                continue
            statement = self._statement(piece, spec, kind, segments, index)
            if d.template.prose and spec.fill == "family" and statement.speaker:
                statement, written = self._prose(statement, piece, segments, label=label)
                rewritten += written
                asked += 1
            sections[spec.key].append(statement)
        log.info(
            "note drafted",
            extra={
                "segments": len(segments),
                "pieces": len(pieces),
                "asked": asked,
                "prose_kept": rewritten,
                "seconds": round(time.perf_counter() - started, 2),
            },
        )
        return sections, max(most, 1)

    def _placed(
        self, piece: Piece, author: frozenset[str] = frozenset()
    ) -> tuple[SectionSpec | None, StatementKind | None]:
        """The section code places ``piece`` in, or ``None`` (the model is asked, or it is
        left out); and a kind that overrides the section's."""
        t = self.drafter.template

        def first(fill: str) -> SectionSpec | None:
            found = t.filled_by(fill)
            return found[0] if found else None

        if piece.role is SpeakerRole.CHILD:
            return first("child"), StatementKind.DIRECT_QUOTE
        if "visit_offered" in piece.cues:  # the worker's offer to come back, answered
            return first("next_visit") or first("actions"), None
        practitioner = piece.role in (SpeakerRole.SOCIAL_WORKER, SpeakerRole.PROFESSIONAL)
        if "next_visit" in piece.cues and practitioner and visits(piece.text):
            return first("next_visit") or first("actions"), None
        if (
            "next_visit" in piece.cues
            and piece.role is SpeakerRole.UNKNOWN
            and "exchange" not in piece.cues
            and own_visit(piece.text)
        ):  # one voice, or a voice of no known role: the header says it is the next visit too
            return first("next_visit") or first("actions"), None
        if (
            "commitment" in piece.cues
            and (practitioner or piece.family)
            and ("exchange" not in piece.cues)
        ):
            return first("actions"), None
        if (
            piece.role is SpeakerRole.UNKNOWN
            and "exchange" not in piece.cues
            and own_commitment(piece.text)
        ):  # "I'll put him on higher observations." by a voice of no known role: still a row
            return first("actions"), None
        if practitioner and "observed" in piece.cues:
            # asking to see the child alone is kept with what was seen, as what was said
            said = StatementKind.REPORTED if "alone" in piece.cues else None
            return first("observations"), said
        if practitioner and "purpose" in piece.cues:
            return first("purpose"), None
        if practitioner and "reported" in piece.cues:  # "He told me he has smoked cannabis."
            cued = [s for s in t.filled_by("family") if s.cues]
            return by_words(piece.text, cued) or first("observations"), StatementKind.REPORTED
        if practitioner and piece.speaker not in author:
            # another practitioner at the visit (a residential key worker beside the social
            # worker, a teacher): their account is information the note needs, kept where a
            # section's cues place it ("He went missing ... police found him" is a worry)
            cued = [s for s in t.filled_by("family") if s.cues]
            found = by_words(piece.text, cued)
            return (found, StatementKind.REPORTED) if found else (None, None)
        if practitioner:
            return None, None  # kept only for what it is (above); not the family's words
        return None, StatementKind.DIRECT_QUOTE

    def _choose(
        self,
        shown: list[RedactedSegment],
        line: RedactedSegment,
        schema: dict,
        *,
        where: str,
    ) -> tuple[str | None, int]:
        messages = self.drafter.messages(shown, asked=[line])
        answer, attempt = self.label(messages, schema, where=where)
        return (None if answer == NONE_LABEL else answer), attempt

    def _prose(
        self, verbatim: Statement, piece: Piece, segments: Sequence[RedactedSegment], *, label: str
    ) -> tuple[Statement, int]:
        """``verbatim`` rewritten as one sentence by the model when the sentence passes every
        check (:mod:`assistant.drafting.prose`); otherwise ``verbatim``, flagged."""
        d = self.drafter
        assert d.template.prose_template is not None  # checked when the template was loaded
        messages = prose.messages(d.template.prose_template, attributed(piece.speaker), piece.words)
        response = self.complete(
            messages,
            prose.SCHEMA,
            self.settings(1),
            prose.PROSE_MAX_TOKENS,
            where=f"{label}, prose",
        )
        try:
            sentence = json.loads(response["choices"][0]["message"]["content"])["sentence"]
        except (KeyError, IndexError, TypeError, ValueError):
            sentence = ""
        outcome = prose.checked(str(sentence), verbatim, segments, piece.words)
        return outcome.statement, int(outcome.accepted)

    def _statement(
        self,
        piece: Piece,
        spec: SectionSpec,
        kind: StatementKind | None,
        segments: Sequence[RedactedSegment],
        index: dict[str, int],
    ) -> Statement:
        assert spec.kind is not None  # checked when the template was loaded
        action = None
        text, evidence = piece.text, piece.evidence
        if spec.fill in ("actions", "next_visit") and "exchange" not in piece.cues:
            at = index[piece.evidence[-1]]
            action = action_row(
                piece.text, piece.speaker, segments, at, told="listed" in piece.cues
            )
            kind = StatementKind.AGREED_ACTION
            found = referent(piece.text, segments, at) if action.what != VISIT_AGAIN else None
            if found is not None:
                # "I'll send that today." cannot be read alone: the row carries the words "that"
                # stands for, and the statement holds and cites them so verification finds them
                context, sid = found
                action = action.model_copy(update={"what": f"{action.what} (re: “{context}”)"})
                if context not in piece.text:
                    text = f"{context} {piece.text}"
                if sid not in evidence:
                    evidence = (sid, *evidence)
        # an exchange says it in its text ("Mum: (through the interpreter) “…”")
        through = "interpreted" in piece.cues and "exchange" not in piece.cues
        return Statement(
            text=text,
            kind=kind or spec.kind,
            speaker=piece.speaker,
            evidence=evidence,
            flags=(THROUGH_INTERPRETER,) if through else (),
            action=action,
        )


def protected(template: NoteTemplate) -> re.Pattern[str] | None:
    """The words that keep a family member's sentence whatever the budget: the cues of the
    sections marked ``keep``."""
    cues = tuple(c for s in template.filled_by("family") if s.keep for c in s.cues)
    return _cue_pattern(cues) if cues else None


def by_words(text: str, family: Sequence[SectionSpec]) -> SectionSpec | None:
    """The first of the ``family`` sections whose cues ``text`` uses; else the first one with
    no cues (it takes the rest); ``None`` when there is neither. Words in the safeguarding
    lexicon go to the worries, whatever else they say."""
    from assistant.review.safeguarding import categories_in  # the review's lexicon

    if categories_in(text):  # "better off without her" is not what is working well
        worries = next((s for s in family if s.key == "worries"), None)
        if worries is not None:
            return worries
    text = _IDIOMS.sub(" ", text)
    for spec in family:
        if spec.cues and _cue_pattern(spec.cues).search(text):
            return spec
    return next((s for s in family if not s.cues), None)


_IDIOMS = re.compile(r"\bno worries\b", re.IGNORECASE)
"""Set phrases that use a cue word without its meaning: "Yeah, no worries, come in" is a
welcome, and filed the greeting under the family's worries."""


@functools.cache
def _cue_pattern(cues: tuple[str, ...]) -> re.Pattern[str]:
    parts = [re.escape(c[:-1]) + r"\w*" if c.endswith("*") else re.escape(c) for c in cues]
    return re.compile(r"\b(?:" + "|".join(parts) + r")\b", re.IGNORECASE)


def _askable(piece: Piece) -> bool:
    """The model sorts the family's words, an exchange the family answered, and the words of a
    speaker whose role is not known."""
    return piece.family or piece.role is SpeakerRole.UNKNOWN


def _shown(n: int, piece: Piece, segments: Sequence[RedactedSegment]) -> RedactedSegment:
    """A kept piece as a line of the transcript the model reads: numbered, with its speaker."""
    first = next(s for s in segments if s.id == piece.evidence[0])
    return first.model_copy(update={"id": str(n), "text": piece.text, "speaker": piece.speaker})
