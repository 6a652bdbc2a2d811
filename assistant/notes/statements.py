"""Statement-level edits: change, add, remove or move one statement of a note.

Each takes the note's body as it reads now and returns the whole next body in JSON form, for
``validate_edit`` to check against the template and transcript like any edit: the storage layer
still appends one whole revision per save. A statement is addressed by its section key and its
position in that section (from 0) in the latest revision.

An edited statement loses the verification flags of the AI's wording (they described words that
are gone) and an agreed action's row cut from them; one left without evidence is marked
``added_by_practitioner`` by ``validate_edit``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistant.errors import InvalidEdit, NotFound
from assistant.notes.body import NoteBody

Sections = list[dict[str, Any]]

#: Fields of a statement an edit may set.
EDITABLE = ("text", "kind", "speaker", "evidence")
#: A statement someone said whose words the practitioner changed: the exports print it as what
#: they said in the practitioner's words, never inside quotation marks as theirs.
REWORDED = "reworded_by_practitioner"


def _sections(body: NoteBody) -> Sections:
    return [dict(sec) for sec in body.to_json()["sections"]]


def _section(sections: Sections, key: str) -> dict[str, Any]:
    for sec in sections:
        if sec["key"] == key:
            sec["statements"] = list(sec["statements"])
            return sec
    raise InvalidEdit(f"Unknown section '{key}'; expected one of {[s['key'] for s in sections]}.")


def _check_index(sec: dict[str, Any], index: int) -> None:
    if not 0 <= index < len(sec["statements"]):
        raise NotFound(
            f"Section '{sec['key']}' has no statement {index} "
            f"(it has {len(sec['statements'])}; positions count from 0).",
            code="no_such_statement",
        )


def _insert(sec: dict[str, Any], statement: dict[str, Any], position: int | None) -> None:
    n = len(sec["statements"])
    if position is None:
        position = n
    if not 0 <= position <= n:
        raise InvalidEdit(f"Position {position} is outside section '{sec['key']}' (0 to {n}).")
    sec["statements"].insert(position, statement)


def change_statement(
    body: NoteBody,
    *,
    section: str,
    index: int,
    changes: Mapping[str, Any],
    to_section: str | None = None,
    position: int | None = None,
) -> Sections:
    """Set the given fields of one statement; with ``to_section`` move it there (at
    ``position``, default the end; within its own section ``position`` reorders it)."""
    sections = _sections(body)
    sec = _section(sections, section)
    _check_index(sec, index)
    statement = dict(sec["statements"][index])
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidEdit(f"Cannot set {sorted(unknown)}; a statement has {list(EDITABLE)}.")
    new_words = "text" in changes and changes["text"] != statement.get("text")
    new_evidence = "evidence" in changes and changes["evidence"] != statement.get("evidence")
    # the AI wording's findings describe words or evidence that are gone; the practitioner's
    # wording of what someone said stays marked as theirs
    theirs = new_words or REWORDED in statement.get("flags", ())
    new_row = any(k in changes and changes[k] != statement.get(k) for k in ("kind", "speaker"))
    statement.update(changes)
    if new_words or new_evidence:
        statement["flags"] = [REWORDED] if theirs and statement.get("speaker") else []
    if new_words or new_row:
        # an agreed action's row (who, what, by when) was cut from the AI's words and speaker,
        # and the note prints the row, not the text: changed, it would show the old ones
        statement.pop("action", None)
    target = _section(sections, to_section) if to_section else sec
    if target is sec and position is None:
        sec["statements"][index] = statement
        return sections
    del sec["statements"][index]
    _insert(target, statement, position)
    return sections


def add_statement(
    body: NoteBody, *, section: str, statement: Mapping[str, Any], position: int | None = None
) -> Sections:
    """A new statement in ``section`` at ``position`` (default: the end)."""
    sections = _sections(body)
    _insert(_section(sections, section), {"flags": [], **statement}, position)
    return sections


def remove_statement(body: NoteBody, *, section: str, index: int) -> Sections:
    sections = _sections(body)
    sec = _section(sections, section)
    _check_index(sec, index)
    del sec["statements"][index]
    return sections
