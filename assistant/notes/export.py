"""A note exported for a case management system: Markdown, plain text or JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from assistant.errors import BadInput
from assistant.notes.body import NoteBody
from assistant.notes.render import render_markdown, render_text

EXPORT_FORMATS = {
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json",
}


def export(body: NoteBody, fmt: str, *, title: str, meta: Mapping[str, Any]) -> tuple[str, str]:
    """(content, media type) of ``body`` in format ``fmt``, headed by ``title`` and ``meta``."""
    if fmt not in EXPORT_FORMATS:
        raise BadInput(
            f"Unknown export format '{fmt}'; use md, txt or json.", code="unknown_format"
        )
    if fmt == "md":
        content = render_markdown(body, title=title, meta=meta)
    elif fmt == "txt":
        content = render_text(body, title=title, meta=meta)
    else:
        content = json.dumps({"meta": dict(meta), **body.to_json()}, indent=2, ensure_ascii=False)
    return content, EXPORT_FORMATS[fmt]
