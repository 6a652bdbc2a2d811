"""Notes after drafting: the typed note body, practitioners' edits, the correction burden,
what became of the AI's statements, rendering and export. No web and no database here.

``body`` (``NoteBody``), ``edit`` (``validate_edit``, ``edit_distance``), ``statements`` (one
statement changed, added, removed or moved), ``changes`` (the AI draft against a later
revision; safeguarding statements and the hash a confirmation is bound to), ``render``
(Markdown and plain text), ``docx`` (Word) and ``export`` (the formats a case system takes).
"""

from assistant.notes.body import NoteBody
from assistant.notes.changes import (
    ChangeRecord,
    FlaggedStatement,
    compare,
    safeguarding_statements,
    statement_sha256,
)
from assistant.notes.edit import edit_distance, validate_edit
from assistant.notes.export import EXPORT_FORMATS, export
from assistant.notes.render import render_markdown, render_text
from assistant.notes.statements import add_statement, change_statement, remove_statement

__all__ = [
    "EXPORT_FORMATS",
    "ChangeRecord",
    "FlaggedStatement",
    "NoteBody",
    "add_statement",
    "change_statement",
    "compare",
    "edit_distance",
    "export",
    "remove_statement",
    "render_markdown",
    "render_text",
    "safeguarding_statements",
    "statement_sha256",
    "validate_edit",
]
