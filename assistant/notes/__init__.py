"""Notes after drafting: the typed note body, practitioners' edits, the correction burden,
rendering and export. No web and no database here.

``body`` (``NoteBody``), ``edit`` (``validate_edit``, ``edit_distance``), ``render``
(Markdown and plain text) and ``export`` (the formats a case system takes).
"""

from assistant.notes.body import NoteBody
from assistant.notes.edit import edit_distance, validate_edit
from assistant.notes.export import EXPORT_FORMATS, export
from assistant.notes.render import render_markdown, render_text

__all__ = [
    "EXPORT_FORMATS",
    "NoteBody",
    "edit_distance",
    "export",
    "render_markdown",
    "render_text",
    "validate_edit",
]
