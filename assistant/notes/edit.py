"""A practitioner's edit of a note, checked against its template and transcript, and the
correction burden (how much the AI draft was changed before approval).

An edit is a whole new body: the AI draft stays revision 1 and every edit is the next one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rapidfuzz.distance import Levenshtein

from assistant.domain import AgreedAction, HeaderField, NoteSection, Statement, StatementKind
from assistant.errors import InvalidEdit
from assistant.notes.body import NoteBody

if TYPE_CHECKING:
    from assistant.drafting.templates import NoteTemplate

#: Flag on a statement the practitioner wrote without citing the transcript.
ADDED_BY_PRACTITIONER = "added_by_practitioner"


def validate_edit(
    sections: Sequence[Mapping[str, Any]],
    *,
    template: NoteTemplate,
    segment_ids: frozenset[str],
    header: Sequence[HeaderField] = (),
) -> NoteBody:
    """Check edited sections (JSON form: ``key`` and ``statements``) against the note's template
    and transcript; return the body normalised (template section order, every template section
    present, titles from the template)."""
    titles = {s.key: s.title for s in template.sections}
    given: dict[str, tuple[Statement, ...]] = {}
    for sec in sections:
        if sec["key"] not in titles:
            raise InvalidEdit(
                f"Unknown section '{sec['key']}' for template {template.id}; "
                f"expected one of {list(titles)}."
            )
        if sec["key"] in given:
            raise InvalidEdit(f"Section '{sec['key']}' appears twice.")
        given[sec["key"]] = tuple(
            _statement(sec["key"], i, st, segment_ids) for i, st in enumerate(sec["statements"])
        )
    return NoteBody(
        sections=tuple(
            NoteSection(key=s.key, title=s.title, statements=given.get(s.key, ()))
            for s in template.sections
        ),
        header=tuple(header),  # found in code at drafting: carried from revision to revision
    )


def _statement(
    key: str, index: int, st: Mapping[str, Any], segment_ids: frozenset[str]
) -> Statement:
    unknown = [e for e in st.get("evidence", []) if e not in segment_ids]
    if unknown:
        raise InvalidEdit(
            f"Section '{key}' statement {index + 1} cites "
            f"{len(unknown)} segment id(s) not in the transcript."
        )
    where = f"Section '{key}' statement {index + 1}"
    if not str(st.get("text") or "").strip():
        raise InvalidEdit(f"{where} has no text: write the statement, or remove it.")
    try:
        kind = StatementKind(st.get("kind", StatementKind.REPORTED))
    except ValueError:
        kinds = [k.value for k in StatementKind]
        raise InvalidEdit(f"{where} has an unknown kind; use one of {kinds}.") from None
    flags = list(st.get("flags", []))
    if not st.get("evidence"):
        flags = sorted(set(flags) | {ADDED_BY_PRACTITIONER})
    return Statement(
        text=st["text"].strip(),
        kind=kind,
        speaker=st.get("speaker"),
        evidence=tuple(st.get("evidence", ())),
        flags=tuple(flags),
        action=AgreedAction.model_validate(st["action"]) if st.get("action") else None,
    )


def edit_distance(ai_draft: NoteBody, final: NoteBody) -> int:
    """Characters inserted, deleted or substituted between the AI draft and the final note:
    the correction burden auditors ask for."""
    return Levenshtein.distance(ai_draft.plain_text(), final.plain_text())
