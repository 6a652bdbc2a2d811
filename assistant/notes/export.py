"""A note exported for a case management system: Markdown, plain text, JSON or Word."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.errors import BadInput
from assistant.notes.body import NoteBody
from assistant.notes.docx import MEDIA_TYPE as DOCX_MEDIA_TYPE
from assistant.notes.docx import render_docx
from assistant.notes.render import render_markdown, render_text

EXPORT_FORMATS = {
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json",
    "docx": DOCX_MEDIA_TYPE,
}


def export(
    body: NoteBody,
    fmt: str,
    *,
    title: str,
    meta: Mapping[str, Any],
    approval: Mapping[str, Any] | None = None,
    footer: Sequence[str] = (),
) -> tuple[str | bytes, str]:
    """(content, media type) of ``body`` in format ``fmt``, headed by ``title`` and ``meta``.
    ``approval`` (the approval record: which AI statements were kept, edited, removed) goes
    into the JSON; ``footer`` (provenance lines) into the Word document's page footer."""
    if fmt not in EXPORT_FORMATS:
        raise BadInput(
            f"Unknown export format '{fmt}'; use {', '.join(EXPORT_FORMATS)}.",
            code="unknown_format",
        )
    content: str | bytes
    if fmt == "md":
        content = render_markdown(body, title=title, meta=meta)
    elif fmt == "txt":
        content = render_text(body, title=title, meta=meta)
    elif fmt == "docx":
        content = render_docx(body, title=title, meta=meta, footer=footer)
    else:
        document = {"meta": dict(meta), **body.to_json(), "approval": approval}
        content = json.dumps(document, indent=2, ensure_ascii=False)
    return content, EXPORT_FORMATS[fmt]
