"""Verification stage: DraftNote -> (DraftNote with findings, VerificationReport), checked in code.

Why in code: AI case-recording tools have been found inventing things nobody said (a reference
to suicidal ideation) and garbling what a child did say. Asking the model whether it made
something up is no check, so every statement is compared, deterministically and without a
model, with the text of the transcript segments it cites. Nothing is deleted here: a statement
that fails a check keeps its place and gains a flag, so the practitioner sees it as unverified
rather than as fact (red-flag claims are gated separately by :mod:`assistant.review.safeguarding`).

Rules, in the order they run (flag in brackets; ``<reason>`` is a :class:`Reason`):

* **evidence** (``unsupported:no_evidence``, ``unsupported:unknown_evidence``): a statement must
  cite at least one segment of this transcript.
* **quotes** (``quote_not_found``, ``evidence_corrected``): words inside quotation marks, and the
  whole text of a ``direct_quote`` without them, must occur verbatim in the transcript after
  normalising case, punctuation, whitespace, curly quotes, contractions ("don't" = "do not"),
  single number words ("two" = "2") and fillers ("um", "er"). An ellipsis splits a quote into
  parts that must each be found. Found only in other segments: the evidence is replaced by the
  segments where it was found (``evidence_corrected``) and the other checks use those. A
  statement whose text is exactly its cited segments' words (:func:`~assistant.domain.excerpt`:
  how extractive templates build every statement) is the transcript by construction and needs
  no search. The matching lives in :mod:`assistant.review.quotes`.
* **placeholder** (``unsupported:placeholder``): every ``[PERSON_1]``-style placeholder in the
  statement appears in a cited segment's text or speaker label.
* **number** (``unsupported:number``): every number in the statement (digits, number words,
  ordinals, times, ages, dates) appears in the cited segments. The statement is read strictly
  ("one" counts only where it is plainly a number: "one o'clock", "twenty-one"; "first" only in
  a date) and the evidence generously ("one", "once", "twice", "half past", "3pm" = 15), so a
  difference is a real difference.
* **negation** (``unsupported:negation``): a statement with a negation ("not", "never", "no",
  "n't", "nobody", "denied", "refused", "without", "unsafe" ...) needs one in its evidence, and
  the words it negates must not appear in the evidence only un-negated; a statement without
  one must not assert words the evidence uses only under a negation (flipped polarity). A
  negation governs the next ``NEGATION_WINDOW`` words of its clause; questions in the evidence
  ("Have you ever hurt yourself?") neither assert nor deny.
* **content** (``unsupported:content``): at least :data:`CONTENT_SUPPORT_THRESHOLD` of the
  statement's distinct content words (stopwords, reporting verbs such as "said" and the
  attribution before them dropped) are found in the cited segments by light stem, with a small
  synonym table (mum = mother, scared = frightened, hurt = harm ...) and prefix tolerance.
  Pass a loaded spaCy pipeline as ``nlp`` to compare by lemma as well.
* **speaker** (``unsupported:speaker``): a reported, opinion or quoted statement attributed to a
  speaker should cite at least one segment that speaker said (or that names them).
* **low confidence** (``low_confidence_words``): the statement uses a word the recogniser was
  unsure of in a cited segment (content words, numbers and negations; not "the" or "and").

The rules from placeholder on read the statement and its cited segments through
:mod:`assistant.review.evidence` (``NEGATION_WINDOW`` is there), which reads words, stems and
numbers through :mod:`assistant.review.wording`.

``evidence_corrected`` and ``low_confidence_words`` are warnings: the statement still counts as
supported. Running ``verify_note`` again replaces this module's earlier findings (except
``evidence_corrected``, which records a change already made) and keeps other modules' flags.

Nothing here logs, raises or reports statement or transcript text: the report holds section
keys, indexes, reasons and counts only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict

from assistant.domain import (
    DraftNote,
    RedactedSegment,
    RedactedTranscript,
    Statement,
    StatementKind,
)
from assistant.review.evidence import (
    TextView,
    content_support,
    merge_views,
    negation_mismatch,
    significant,
    text_view,
)
from assistant.review.quotes import (
    QuoteIndex,
    check_quotes,
    is_excerpt,
    quoted_spans,
    strip_attribution,
)
from assistant.review.wording import word_tokens

CONTENT_SUPPORT_THRESHOLD = 0.5
"""Share of a statement's distinct content words that must be found in its cited segments.
0.5 lets a statement paraphrase ("the child said she likes school" for "I like it at school")
while catching one that is mostly about something the evidence does not mention."""

FLAG_UNSUPPORTED_PREFIX = "unsupported:"
FLAG_QUOTE_NOT_FOUND = "quote_not_found"
FLAG_EVIDENCE_CORRECTED = "evidence_corrected"
FLAG_LOW_CONFIDENCE = "low_confidence_words"


class Reason(StrEnum):
    """Why a statement is unsupported. Stable: flags and report counts use these values."""

    NO_EVIDENCE = "no_evidence"
    UNKNOWN_EVIDENCE = "unknown_evidence"
    QUOTE_NOT_FOUND = "quote_not_found"
    PLACEHOLDER = "placeholder"
    NUMBER = "number"
    NEGATION = "negation"
    CONTENT = "content"
    SPEAKER = "speaker"


def flag_for(reason: Reason) -> str:
    """The flag for ``reason``: ``quote_not_found`` or ``unsupported:<reason>``."""
    if reason is Reason.QUOTE_NOT_FOUND:
        return FLAG_QUOTE_NOT_FOUND
    return f"{FLAG_UNSUPPORTED_PREFIX}{reason.value}"


_OWN_FLAGS = frozenset({flag_for(r) for r in Reason} | {FLAG_LOW_CONFIDENCE})
"""Findings recomputed on every run (``evidence_corrected`` is history and stays)."""


# --- report ---------------------------------------------------------------------------------
class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StatementCheck(_Frozen):
    """The result for one statement, addressed by section key and index; no text."""

    section: str
    index: int
    reasons: tuple[Reason, ...] = ()
    content_support: float = 1.0
    evidence_corrected: bool = False
    low_confidence: bool = False

    @property
    def supported(self) -> bool:
        return not self.reasons


class VerificationReport(_Frozen):
    """What verification found, safe to log: keys, indexes, reasons and counts only."""

    threshold: float
    results: tuple[StatementCheck, ...]

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def supported(self) -> int:
        return sum(r.supported for r in self.results)

    @property
    def unsupported(self) -> int:
        return self.total - self.supported

    @property
    def by_reason(self) -> dict[str, int]:
        counts = Counter(reason.value for r in self.results for reason in r.reasons)
        return {reason.value: counts[reason.value] for reason in Reason}

    def summary(self) -> dict[str, Any]:
        """Counts for logs and metrics."""
        return {
            "total": self.total,
            "supported": self.supported,
            "unsupported": self.unsupported,
            "by_reason": self.by_reason,
            "evidence_corrected": sum(r.evidence_corrected for r in self.results),
            "low_confidence_words": sum(r.low_confidence for r in self.results),
            "threshold": self.threshold,
        }


# --- the check ------------------------------------------------------------------------------
ATTRIBUTED_KINDS = frozenset(
    {StatementKind.REPORTED, StatementKind.OPINION, StatementKind.DIRECT_QUOTE}
)
"""Kinds of statement that speak for someone: their speaker label is checked (and repaired)."""


def verify_note(
    note: DraftNote,
    transcript: RedactedTranscript,
    *,
    nlp: Any = None,
    threshold: float = CONTENT_SUPPORT_THRESHOLD,
) -> tuple[DraftNote, VerificationReport]:
    """Check every statement against its cited segments; return the note with findings added
    to each statement's ``flags`` (and quote evidence corrected) plus a loggable report.

    ``nlp``: an optional loaded spaCy pipeline, used only for lemmas in the content check."""
    ctx = _Context(transcript.segments, nlp=nlp, threshold=threshold)
    results: list[StatementCheck] = []
    new_sections = []
    for section in note.sections:
        new_statements = []
        for idx, st in enumerate(section.statements):
            checked, check = _check_statement(st, section.key, idx, ctx)
            new_statements.append(checked)
            results.append(check)
        new_sections.append(section.model_copy(update={"statements": tuple(new_statements)}))
    report = VerificationReport(threshold=threshold, results=tuple(results))
    return note.model_copy(update={"sections": tuple(new_sections)}), report


def check_statement(
    st: Statement,
    segments: Sequence[RedactedSegment],
    *,
    nlp: Any = None,
    threshold: float = CONTENT_SUPPORT_THRESHOLD,
) -> tuple[Statement, StatementCheck]:
    """One statement checked against ``segments`` by the same rules as :func:`verify_note`
    (the drafter uses it to test a sentence before it is put in a draft)."""
    return _check_statement(st, "", 0, _Context(segments, nlp=nlp, threshold=threshold))


@dataclass
class _Context:
    """One transcript, read once: segments by id and position, each segment's view computed
    on first use, and the quote index built only when a statement quotes."""

    transcript: Sequence[RedactedSegment]
    nlp: Any
    threshold: float
    segments: dict[str, RedactedSegment] = field(init=False)
    order: dict[str, int] = field(init=False)
    _views: dict[str, TextView] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.segments = {s.id: s for s in self.transcript}
        self.order = {s.id: i for i, s in enumerate(self.transcript)}

    @cached_property
    def quote_index(self) -> QuoteIndex:
        return QuoteIndex(self.transcript)

    def view(self, sid: str) -> TextView:
        if sid not in self._views:
            seg = self.segments[sid]
            text = seg.text if not seg.speaker else f"{seg.text}\n{seg.speaker}"
            self._views[sid] = text_view(text, generous=True, nlp=self.nlp, content_text=seg.text)
        return self._views[sid]


@dataclass
class _Findings:
    """What the rules found for one statement, in the order they found it."""

    evidence: tuple[str, ...]
    known: tuple[str, ...]
    reasons: list[Reason] = field(default_factory=list)
    corrected: bool = False
    support: float = 0.0
    low_confidence: bool = False


def _check_statement(
    st: Statement, section: str, idx: int, ctx: _Context
) -> tuple[Statement, StatementCheck]:
    evidence = tuple(st.evidence)
    found = _Findings(evidence=evidence, known=tuple(e for e in evidence if e in ctx.segments))
    if not evidence:
        found.reasons.append(Reason.NO_EVIDENCE)
    elif len(found.known) < len(evidence):
        found.reasons.append(Reason.UNKNOWN_EVIDENCE)
    _check_quoted(st, found, ctx)
    if found.known:
        _check_against_evidence(st, found, ctx)

    flags = [f for f in st.flags if f not in _OWN_FLAGS]
    new = [flag_for(r) for r in found.reasons]
    if found.corrected:
        new.append(FLAG_EVIDENCE_CORRECTED)
    if found.low_confidence:
        new.append(FLAG_LOW_CONFIDENCE)
    flags += [f for f in new if f not in flags]
    checked = st.model_copy(update={"flags": tuple(flags), "evidence": found.evidence})
    check = StatementCheck(
        section=section,
        index=idx,
        reasons=tuple(found.reasons),
        content_support=round(found.support if found.known else 0.0, 3),
        evidence_corrected=found.corrected,
        low_confidence=found.low_confidence,
    )
    return checked, check


def _check_quoted(st: Statement, found: _Findings, ctx: _Context) -> None:
    """The quotes rule: a quote not in the transcript is flagged; one found only in other
    segments moves the evidence there (and then the statement has evidence after all)."""
    quoted = st.kind is StatementKind.DIRECT_QUOTE or bool(quoted_spans(st.text))
    if not quoted or is_excerpt(st, [ctx.segments[sid] for sid in found.known]):
        return  # an excerpt is the cited segments' own words, turn by turn: nothing to look for
    ok, new_evidence = check_quotes(st, ctx.quote_index, frozenset(found.known))
    if not ok:
        found.reasons.append(Reason.QUOTE_NOT_FOUND)
    elif new_evidence is not None:
        found.evidence = found.known = tuple(sorted(new_evidence, key=ctx.order.__getitem__))
        found.corrected = True
        for reason in (Reason.NO_EVIDENCE, Reason.UNKNOWN_EVIDENCE):
            if reason in found.reasons:
                found.reasons.remove(reason)


def _check_against_evidence(st: Statement, found: _Findings, ctx: _Context) -> None:
    """The placeholder, number, negation, content, speaker and low-confidence rules."""
    ev = merge_views([ctx.view(sid) for sid in found.known])
    toks = word_tokens(st.text)
    content_toks = strip_attribution(toks)
    content_text = " ".join(content_toks) if content_toks else st.text
    sv = text_view(st.text, generous=False, nlp=ctx.nlp, content_text=content_text)
    if not sv.placeholders <= ev.placeholders:
        found.reasons.append(Reason.PLACEHOLDER)
    if not sv.numbers <= ev.numbers:
        found.reasons.append(Reason.NUMBER)
    if negation_mismatch(sv, ev):
        found.reasons.append(Reason.NEGATION)
    found.support = content_support(sv.stems, ev.stems)
    if found.support < ctx.threshold:
        found.reasons.append(Reason.CONTENT)
    if _wrong_speaker(st, found.known, ctx.segments, ev):
        found.reasons.append(Reason.SPEAKER)
    unsure = {
        t
        for sid in found.known
        for word in ctx.segments[sid].low_confidence_words
        for t in word_tokens(word)
        if significant(t)
    }
    found.low_confidence = bool(unsure & set(toks))


def _wrong_speaker(
    st: Statement, known: tuple[str, ...], segments: Mapping[str, RedactedSegment], ev: TextView
) -> bool:
    if not (st.speaker and st.kind in ATTRIBUTED_KINDS):
        return False
    speakers = {segments[sid].speaker for sid in known if segments[sid].speaker}
    return bool(speakers) and st.speaker not in speakers and st.speaker not in ev.placeholders
