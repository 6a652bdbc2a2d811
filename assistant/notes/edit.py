"""Practitioner-facing note operations that need no web or database: edits, correction
burden, exports.

A note body is ``{"sections": [{"key", "title", "statements": [{"text", "kind", "speaker",
"evidence", "flags"}]}]}``: the AI draft is revision 1 and every edit is a whole new body.
"""

from __future__ import annotations

import json

from rapidfuzz.distance import Levenshtein

from assistant.errors import BadInput, InvalidEdit
from assistant.notes.render import render_markdown, render_text
from assistant.drafting.templates import NoteTemplate

EXPORT_FORMATS = {
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json",
}


def validate_edit(
    sections: list[dict], *, template: NoteTemplate, segment_ids: frozenset[str]
) -> dict:
    """Check an edited body against the note's template and transcript; return it normalised
    (template section order, every template section present, titles from the template)."""
    titles = {s.key: s.title for s in template.sections}
    given: dict[str, list[dict]] = {}
    for sec in sections:
        if sec["key"] not in titles:
            raise InvalidEdit(
                f"Unknown section '{sec['key']}' for template {template.id}; "
                f"expected one of {list(titles)}."
            )
        if sec["key"] in given:
            raise InvalidEdit(f"Section '{sec['key']}' appears twice.")
        statements = []
        for i, st in enumerate(sec["statements"]):
            unknown = [e for e in st.get("evidence", []) if e not in segment_ids]
            if unknown:
                raise InvalidEdit(
                    f"Section '{sec['key']}' statement {i + 1} cites "
                    f"{len(unknown)} segment id(s) not in the transcript."
                )
            flags = list(st.get("flags", []))
            if not st.get("evidence"):
                flags = sorted(set(flags) | {"added_by_practitioner"})
            statements.append(
                {
                    "text": st["text"].strip(),
                    "kind": str(st["kind"]),
                    "speaker": st.get("speaker"),
                    "evidence": list(st["evidence"]),
                    "flags": flags,
                }
            )
        given[sec["key"]] = statements
    return {
        "sections": [
            {"key": s.key, "title": s.title, "statements": given.get(s.key, [])}
            for s in template.sections
        ]
    }


def note_plain_text(body: dict) -> str:
    return "\n".join(st["text"] for sec in body["sections"] for st in sec["statements"])


def edit_distance(ai_draft: dict, final: dict) -> int:
    """Characters inserted, deleted or substituted between the AI draft and the final note:
    the correction burden auditors ask for."""
    return Levenshtein.distance(note_plain_text(ai_draft), note_plain_text(final))


def export(body: dict, fmt: str, *, title: str, meta: dict) -> tuple[str, str]:
    if fmt not in EXPORT_FORMATS:
        raise BadInput(
            f"Unknown export format '{fmt}'; use md, txt or json.", code="unknown_format"
        )
    if fmt == "md":
        content = render_markdown(body, title=title, meta=meta)
    elif fmt == "txt":
        content = render_text(body, title=title, meta=meta)
    else:
        content = json.dumps({"meta": meta, **body}, indent=2, ensure_ascii=False)
    return content, EXPORT_FORMATS[fmt]


def reidentify_body(body: dict, mapping) -> dict:
    """Swap placeholders back to real values, for the recording's owner only."""

    def walk(value):
        if isinstance(value, str):
            return mapping.reidentify(value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return walk(body)
