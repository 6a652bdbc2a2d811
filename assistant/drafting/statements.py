"""Statements made from the model's answers, without the model: the verbatim statements of
extractive and classify templates, and the merging of a long visit's chunks.

A verbatim statement is one chosen segment's own words and speaker (a short answer with the
question it answers; a chosen question and its chosen answer as one exchange), of its section's
kind, except that in an ``observed`` section only the practitioner's words, or unlabelled ones,
are observations. Merging joins chunks' statements section by section and folds statements of
one kind and speaker that say the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from assistant.domain import RedactedSegment, Statement, StatementKind, excerpt
from assistant.drafting.templates import SectionSpec

SHORT_ANSWER_WORDS = 6
"""A chosen segment this short that answers a question (the segment before it, by another
speaker, ends in "?") is shown with that question: "Yes." alone says nothing."""
PRACTITIONER_LABELS = frozenset(
    {"social worker", "practitioner", "key worker", "family support worker", "sw"}
)
"""Speaker labels (case ignored) of the professional recording the visit. In a section whose
kind is ``observed``, a segment said by anyone else is that person's words, not an
observation: it becomes a direct quote of its speaker. Unlabelled segments (audio has no
diarisation) keep the section's kind."""


def excerpts(
    ids: Sequence[str], segments: Sequence[RedactedSegment], spec: SectionSpec
) -> list[Statement]:
    """Statements from one extractive section's chosen ids, in transcript order: each the
    segment's own words and speaker, of the section's kind; a segment chosen twice counts
    once. A chosen question and its chosen answer (the next segment, by another speaker)
    are one exchange, and a short answer chosen alone brings its question with it."""
    order = {s.id: i for i, s in enumerate(segments)}  # the caller keeps ids to these
    assert spec.kind is not None  # checked when the template was loaded
    chosen = sorted({order[sid] for sid in ids})
    groups: list[list[int]] = []
    for i in chosen:
        seg = segments[i]
        answers = i > 0 and is_answer(segments[i - 1], seg)
        if groups and groups[-1][-1] == i - 1 and answers:
            groups[-1].append(i)  # a chosen question and its chosen answer: one exchange
        elif i > 0 and short_answer(segments[i - 1], seg):
            groups.append([i - 1, i])  # a short answer keeps the question it answers
        else:
            groups.append([i])
    statements: list[Statement] = []
    for group in groups:
        cited = [segments[i] for i in group]
        text, speaker = excerpt(cited)
        kind = spec.kind
        if kind is StatementKind.OBSERVED and any(
            s.speaker and s.speaker.casefold() not in PRACTITIONER_LABELS for s in cited
        ):
            kind = StatementKind.DIRECT_QUOTE  # someone's words, not what was seen
        if text:
            statements.append(
                Statement(
                    text=text,
                    kind=kind,
                    speaker=speaker,
                    evidence=tuple(s.id for s in cited),
                )
            )
    return statements


def is_answer(previous: RedactedSegment, segment: RedactedSegment) -> bool:
    """``segment`` answers ``previous``: a question ("?") by another speaker."""
    return previous.text.rstrip().endswith("?") and previous.speaker != segment.speaker


def short_answer(previous: RedactedSegment, segment: RedactedSegment) -> bool:
    """``segment`` is a short answer to ``previous``: it cannot be read without it."""
    return is_answer(previous, segment) and len(segment.text.split()) <= SHORT_ANSWER_WORDS


NEAR_DUPLICATE_JACCARD = 0.8
"""Two statements of one section, kind and speaker whose word sets overlap at least this much
(intersection over union) say the same thing: chunks of a long visit each record who was
present, a small model restates a point in other words."""

_WORD = re.compile(r"\[[A-Z][A-Z0-9_]*_\d+\]|[^\W_]+(?:'[^\W_]+)?")


def _words(text: str) -> frozenset[str]:
    return frozenset(w.casefold() for w in _WORD.findall(text))


def _near(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return a == b
    return len(a & b) / len(a | b) >= NEAR_DUPLICATE_JACCARD


def merge_chunks(
    results: Sequence[Mapping[str, Sequence[Statement]]],
    keys: Sequence[str],
    order: Mapping[str, int],
) -> dict[str, list[Statement]]:
    """Join chunk results section by section, in transcript order. Statements of one kind and
    speaker that say the same thing (the same words, or near duplicates: see
    :data:`NEAR_DUPLICATE_JACCARD`) are one statement, the first wording kept, citing the union
    of their evidence: a model that repeats itself, or two chunks that record the same thing,
    give one line in the note."""
    merged: dict[str, list[Statement]] = {}
    for key in keys:
        kept: list[tuple[frozenset[str], Statement]] = []
        for result in results:
            for st in result.get(key, ()):
                words = _words(st.text)
                for i, (other_words, other) in enumerate(kept):
                    if (other.kind, other.speaker) == (st.kind, st.speaker) and _near(
                        words, other_words
                    ):
                        evidence = tuple(
                            sorted(set(other.evidence) | set(st.evidence), key=order.__getitem__)
                        )
                        kept[i] = (other_words, other.model_copy(update={"evidence": evidence}))
                        break
                else:
                    kept.append((words, st))
        merged[key] = [st for _, st in kept]
    return merged


__all__ = [
    "NEAR_DUPLICATE_JACCARD",
    "PRACTITIONER_LABELS",
    "SHORT_ANSWER_WORDS",
    "excerpts",
    "is_answer",
    "merge_chunks",
    "short_answer",
]
