"""What the practitioner did to the AI draft: each AI statement kept unchanged, edited or
removed (and whether it moved section), and the statements they added. Computed from the AI
draft and a later body alone, so it needs no record of the individual edits, and it holds
positions and counts only (no text): safe to store with the approval and to audit.

Matching, in two passes: first identical statements (same words, kind, speaker and evidence),
preferring the same section; then, among what is left, the most similar text (or the same cited
evidence with some words in common) counts as the AI statement edited. An AI statement with no
match was removed; a final statement with no match was added.

Also here: a statement's content hash (what a safeguarding confirmation is bound to), and which
statements of a body raise a safeguarding category.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz

from assistant.domain import Statement
from assistant.notes.body import NoteBody

#: Text similarity (0..100, rapidfuzz ``ratio``) from which a statement is the AI's edited.
EDITED_MIN_SIMILARITY = 60.0
#: ... or this much, where the two cite some of the same transcript segments. Unrelated short
#: sentences score about 30, so this stays well above that.
EDITED_MIN_SIMILARITY_SAME_EVIDENCE = 45.0

Outcome = Literal["kept", "edited", "removed"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Place(_Frozen):
    section: str
    index: int = Field(description="position in the section, from 0")


class AiStatementFate(_Frozen):
    """What became of one statement of the AI draft."""

    ai: Place
    outcome: Outcome
    now: Place | None = Field(None, description="where it is in the final note (not if removed)")
    moved: bool = Field(False, description="it is now in another section")


class ChangeRecord(_Frozen):
    """The AI draft against a later revision: counts, and each AI statement's fate."""

    revision: int | None = Field(None, description="the revision compared with the AI draft")
    ai_statements: int
    kept: int
    edited: int
    removed: int
    moved: int
    added: int
    statements: tuple[AiStatementFate, ...]
    added_statements: tuple[Place, ...] = ()

    def counts(self) -> dict[str, int]:
        """The figures alone (for the audit trail and a summary line)."""
        return {
            k: getattr(self, k)
            for k in ("ai_statements", "kept", "edited", "removed", "moved", "added")
        }


def _places(body: NoteBody) -> list[tuple[Place, Statement]]:
    return [
        (Place(section=sec.key, index=i), st)
        for sec in body.sections
        for i, st in enumerate(sec.statements)
    ]


def _content(st: Statement) -> tuple[str, str, str | None, tuple[str, ...]]:
    """What makes two statements the same (verification flags do not)."""
    return (" ".join(st.text.split()), st.kind.value, st.speaker, tuple(st.evidence))


def statement_sha256(st: Statement) -> str:
    """The hash a safeguarding confirmation is bound to: words, kind, speaker, evidence."""
    text, kind, speaker, evidence = _content(st)
    canonical = json.dumps([text, kind, speaker, list(evidence)], ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def compare(ai: NoteBody, final: NoteBody, *, revision: int | None = None) -> ChangeRecord:
    """Each AI statement's fate in ``final``, and the statements added (see module doc)."""
    ai_places, final_places = _places(ai), _places(final)
    match: dict[int, int] = {}
    taken: set[int] = set()
    for same_section in (True, False):  # identical statements, same section first
        for a, (ap, ast) in enumerate(ai_places):
            if a in match:
                continue
            for f, (fp, fst) in enumerate(final_places):
                if f in taken or (same_section and fp.section != ap.section):
                    continue
                if _content(ast) == _content(fst):
                    match[a] = f
                    taken.add(f)
                    break
    identical = set(match)
    for _score, a, f in sorted(_similar(ai_places, final_places, match, taken), reverse=True):
        if a not in match and f not in taken:
            match[a] = f
            taken.add(f)
    fates = []
    for a, (ap, _st) in enumerate(ai_places):
        if a not in match:
            fates.append(AiStatementFate(ai=ap, outcome="removed"))
            continue
        now = final_places[match[a]][0]
        outcome: Outcome = "kept" if a in identical else "edited"
        fates.append(
            AiStatementFate(ai=ap, outcome=outcome, now=now, moved=now.section != ap.section)
        )
    added = tuple(fp for f, (fp, _st) in enumerate(final_places) if f not in taken)
    return ChangeRecord(
        revision=revision,
        ai_statements=len(ai_places),
        kept=sum(f.outcome == "kept" for f in fates),
        edited=sum(f.outcome == "edited" for f in fates),
        removed=sum(f.outcome == "removed" for f in fates),
        moved=sum(f.moved for f in fates),
        added=len(added),
        statements=tuple(fates),
        added_statements=added,
    )


def _similar(
    ai_places: list[tuple[Place, Statement]],
    final_places: list[tuple[Place, Statement]],
    matched: dict[int, int],
    taken: set[int],
) -> Iterable[tuple[float, int, int]]:
    """(similarity, ai position, final position) of every pair similar enough to be an edit."""
    for a, (_ap, ast) in enumerate(ai_places):
        if a in matched:
            continue
        for f, (_fp, fst) in enumerate(final_places):
            if f in taken:
                continue
            score = fuzz.ratio(ast.text, fst.text)
            shared = bool(set(ast.evidence) & set(fst.evidence))
            floor = EDITED_MIN_SIMILARITY_SAME_EVIDENCE if shared else EDITED_MIN_SIMILARITY
            if score >= floor:
                yield score + (1.0 if shared else 0.0), a, f


class FlaggedStatement(_Frozen):
    """A statement that raises a safeguarding category, and whether it was confirmed."""

    section: str
    index: int
    categories: tuple[str, ...]
    statement_sha256: str
    confirmed: bool = False


def safeguarding_statements(
    body: NoteBody,
    categories_of: Callable[[str], set[str]],
    confirmed: Iterable[str] = (),
) -> list[FlaggedStatement]:
    """The statements of ``body`` whose text raises a category (``categories_of``: the
    red-flag lexicon's ``categories_in``), each marked confirmed if its hash is in
    ``confirmed``."""
    done = set(confirmed)
    out = []
    for place, st in _places(body):
        categories = categories_of(st.text)
        if categories:
            digest = statement_sha256(st)
            out.append(
                FlaggedStatement(
                    section=place.section,
                    index=place.index,
                    categories=tuple(sorted(categories)),
                    statement_sha256=digest,
                    confirmed=digest in done,
                )
            )
    return out
