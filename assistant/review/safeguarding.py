"""Safeguarding red flags: gate unsupported red-flag claims and surface possible omissions.

Why: AI case-recording tools have been found inventing a reference to suicidal ideation that
was never discussed. A red-flag claim in a case note changes what happens to a family, so it
must rest on what was said. The language of each category (suicidal ideation, self-harm,
sexual abuse, domestic abuse, neglect, exploitation ...) is reviewable, versioned data in
``assistant/review/lexicon/lexicon.yaml``, compiled by :mod:`assistant.review.redflag_lexicon`;
this module applies two rules:

* :func:`gate_red_flags`: a statement whose text raises a category must cite at least one
  segment whose text uses that category's language, positive or negative (a question about it
  counts too). Otherwise the statement is removed from the draft and the removal recorded.
  Either polarity counts because "she denied any thoughts of self-harm" is a claim about
  self-harm too: an invented denial is false reassurance, and a recorded denial rests on a
  segment where self-harm was discussed.
  A positive claim whose cited evidence only denies the category or asks about it ("she said
  she wants to die" citing "I'd never want to die", or only the question "Do you ever want to
  die?") is kept but flagged ``red_flag_not_affirmed:<category>``: polarity is read by simple
  rules that can be wrong, and removing a true disclosure would be worse than a warning on it.
* :func:`possible_omissions`: categories raised anywhere in the transcript (in any polarity)
  that no statement of the final note mentions, with the segment ids, for the practitioner.

The lexicon favours recall over precision (see its header): gating removes only claims whose
evidence has none of the category's language, and omissions are suggestions.

Reports are loggable: section keys, indexes, categories, segment ids and counts. The text of a
removed statement is kept only in ``GatingReport.practitioner_view``, which is excluded from
``repr`` and ``model_dump``, so that the note's owner can see and restore what was removed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.domain import DraftNote, RedactedTranscript, Statement
from assistant.review.redflag_lexicon import (
    POLARITIES,
    Lexicon,
    Polarity,
    default_lexicon,
)

FLAG_NOT_AFFIRMED_PREFIX = "red_flag_not_affirmed:"
REMOVAL_REASON = "no_cited_evidence_for_category"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def categories_in(text: str, lexicon: Lexicon | None = None) -> set[str]:
    """Red-flag categories whose language ``text`` uses (in any polarity)."""
    return (lexicon or default_lexicon()).categories_in(text)


# --- reports --------------------------------------------------------------------------------
class Removal(_Strict):
    """A statement removed by the gate; loggable (no text)."""

    section: str
    index: int = Field(description="position in the section before any removal")
    categories: tuple[str, ...] = Field(description="every category the statement raised")
    unsupported: tuple[str, ...] = Field(description="categories its cited segments do not use")
    evidence: tuple[str, ...]
    reason: str = REMOVAL_REASON


class NotAffirmed(_Strict):
    """A kept statement that makes a positive claim on evidence that only denies the category
    or asks about it."""

    section: str
    index: int
    category: str


class RemovedStatement(_Strict):
    """What was removed, for the practitioner's review screen only. Holds transcript-derived
    text: never log it, never send it anywhere but to the note's owner."""

    section: str
    index: int
    categories: tuple[str, ...]
    statement: Statement


class GatingReport(_Strict):
    """What the gate did. Everything but ``practitioner_view`` is safe to log and store: keys,
    indexes, categories, segment ids, counts, and the lexicon's version and sha256."""

    lexicon_version: str
    lexicon_sha256: str
    statements: int
    red_flag_statements: int
    removed: tuple[Removal, ...] = ()
    not_affirmed: tuple[NotAffirmed, ...] = ()
    practitioner_view: tuple[RemovedStatement, ...] = Field(
        default=(),
        repr=False,
        exclude=True,
        description="PRACTITIONER VIEW ONLY: the removed statements with their text",
    )

    def summary(self) -> dict[str, Any]:
        """Counts for logs and metrics."""
        by_category = Counter(c for r in self.removed for c in r.unsupported)
        return {
            "lexicon_version": self.lexicon_version,
            "lexicon_sha256": self.lexicon_sha256,
            "statements": self.statements,
            "red_flag_statements": self.red_flag_statements,
            "removed": len(self.removed),
            "removed_by_category": dict(sorted(by_category.items())),
            "not_affirmed": len(self.not_affirmed),
        }


class Omission(_Strict):
    """A category raised in the transcript that no statement of the note mentions."""

    category: str
    label: str
    segment_ids: tuple[str, ...]
    polarities: tuple[Polarity, ...] = Field(
        description="how the transcript uses the language: positive, negative, question"
    )


# --- the rules ------------------------------------------------------------------------------
def _evidence_polarities(
    evidence: Iterable[str], texts: Mapping[str, str], order: Mapping[str, int], lexicon: Lexicon
) -> dict[str, set[str]]:
    ids = sorted({e for e in evidence if e in texts}, key=order.__getitem__)
    out: dict[str, set[str]] = defaultdict(set)
    chunks = [texts[i] for i in ids]
    if len(chunks) > 1:  # a phrase may run across two cited segments
        chunks.append(" ".join(chunks))
    for chunk in chunks:
        for cat, pols in lexicon.polarities(chunk).items():
            out[cat] |= pols
    return out


def gate_red_flags(
    note: DraftNote, transcript: RedactedTranscript, lexicon: Lexicon | None = None
) -> tuple[DraftNote, GatingReport]:
    """Remove every statement that raises a red-flag category its cited segments do not use;
    flag a positive claim whose evidence only denies or asks about it (module docstring)."""
    lexicon = lexicon or default_lexicon()
    texts = {s.id: s.text for s in transcript.segments}
    order = {s.id: i for i, s in enumerate(transcript.segments)}
    removed: list[Removal] = []
    view: list[RemovedStatement] = []
    flags: list[NotAffirmed] = []
    total = raised = 0
    sections = []
    for section in note.sections:
        kept: list[Statement] = []
        for idx, st in enumerate(section.statements):
            total += 1
            mine = lexicon.polarities(st.text)
            if not mine:
                kept.append(st)
                continue
            raised += 1
            cats = tuple(c for c in lexicon.categories if c in mine)
            evidence = _evidence_polarities(st.evidence, texts, order, lexicon)
            missing = tuple(c for c in cats if c not in evidence)
            if missing:
                removed.append(
                    Removal(
                        section=section.key,
                        index=idx,
                        categories=cats,
                        unsupported=missing,
                        evidence=tuple(st.evidence),
                    )
                )
                view.append(
                    RemovedStatement(section=section.key, index=idx, categories=cats, statement=st)
                )
                continue
            new_flags = list(st.flags)
            for c in cats:
                if "positive" in mine[c] and "positive" not in evidence[c]:
                    flags.append(NotAffirmed(section=section.key, index=idx, category=c))
                    flag = f"{FLAG_NOT_AFFIRMED_PREFIX}{c}"
                    if flag not in new_flags:
                        new_flags.append(flag)
            if new_flags != list(st.flags):
                st = st.model_copy(update={"flags": tuple(new_flags)})
            kept.append(st)
        sections.append(section.model_copy(update={"statements": tuple(kept)}))
    report = GatingReport(
        lexicon_version=lexicon.version,
        lexicon_sha256=lexicon.sha256,
        statements=total,
        red_flag_statements=raised,
        removed=tuple(removed),
        not_affirmed=tuple(flags),
        practitioner_view=tuple(view),
    )
    return note.model_copy(update={"sections": tuple(sections)}), report


def possible_omissions(
    note: DraftNote, transcript: RedactedTranscript, lexicon: Lexicon | None = None
) -> list[Omission]:
    """Categories raised in the transcript (any polarity) that no statement of ``note``
    mentions, in lexicon order, with the segments that raise them. Run it on the final note
    (after gating), so a removed claim's category reappears here when the transcript has it."""
    lexicon = lexicon or default_lexicon()
    in_note: set[str] = set()
    for st in note.all_statements():
        in_note |= lexicon.categories_in(st.text)
    where: dict[str, list[str]] = defaultdict(list)
    pols: dict[str, set[str]] = defaultdict(set)
    for seg in transcript.segments:
        for cat, p in lexicon.polarities(seg.text).items():
            where[cat].append(seg.id)
            pols[cat] |= p
    out = []
    for cat in lexicon.categories:
        if cat in where and cat not in in_note:
            out.append(
                Omission(
                    category=cat,
                    label=lexicon.label(cat),
                    segment_ids=tuple(where[cat]),
                    polarities=tuple(p for p in POLARITIES if p in pols[cat]),
                )
            )
    return out


__all__ = [
    "FLAG_NOT_AFFIRMED_PREFIX",
    "GatingReport",
    "NotAffirmed",
    "Omission",
    "Removal",
    "RemovedStatement",
    "categories_in",
    "default_lexicon",  # re-exported: the evaluation imports it from here
    "gate_red_flags",
    "possible_omissions",
]
