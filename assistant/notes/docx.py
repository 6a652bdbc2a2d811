"""A note as a Word document (``.docx``), for councils whose case system takes Word: the title
and the visit's details, each section with its statements (kind and speaker: who holds the
view), and a provenance footer on every page (how the draft was made, and its approval).

python-docx writes the file. The same note gives the same bytes: the package's document
properties and its zip entries carry fixed timestamps, not the clock's.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from assistant.notes.body import NoteBody
from assistant.notes.render import (
    DEFAULT_KIND,
    EMPTY_SECTION,
    KIND_LABELS,
    attributed_text,
    checks,
    header_items,
    meta_items,
    reworded_note,
)

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: Fixed document timestamps (the same note gives the same document).
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def render_docx(
    body: NoteBody, *, title: str, meta: Mapping[str, Any], footer: Sequence[str] = ()
) -> bytes:
    """The .docx bytes: heading, the ``meta`` a person reads as "key: value" lines (the
    provenance keys are the footer's: ``footer`` lines in the page footer), the note's header,
    the sections."""
    from docx import Document  # imported here: only this export needs it

    doc = Document()
    props = doc.core_properties
    props.title, props.author, props.comments = title, "caseassist", ""
    props.created = props.modified = _EPOCH
    doc.add_heading(title, level=0)
    for key, value in [*meta_items(meta, footer=False), *header_items(body)]:
        para = doc.add_paragraph()
        para.add_run(f"{key}: ").bold = True
        para.add_run(value)
    attributed = bool(body.header)  # a note-style body: "Mum said: “...”", actions as rows
    for section in body.sections:
        doc.add_heading(section.title or section.key, level=1)
        if not section.statements:
            doc.add_paragraph(EMPTY_SECTION).runs[0].italic = True
            continue
        for st in section.statements:
            para = doc.add_paragraph(style="List Bullet")
            if attributed:
                para.add_run(" ".join(attributed_text(st).split()))
                if st.evidence:
                    para.add_run(f" [{', '.join(st.evidence)}]")
                if flagged := checks(st):
                    para.add_run(f" (check: {'; '.join(flagged)})").italic = True
                continue
            if st.kind != DEFAULT_KIND:
                para.add_run(f"{KIND_LABELS[st.kind]}: ").italic = True
            para.add_run(" ".join(st.text.split()))
            if st.speaker:
                para.add_run(f" — {st.speaker}").bold = True
                if note := reworded_note(st):
                    para.add_run(note)
            if st.evidence:
                para.add_run(f" [{', '.join(st.evidence)}]")
            if flagged := checks(st):
                para.add_run(f" (check: {'; '.join(flagged)})").italic = True
    paragraphs = doc.sections[0].footer.paragraphs
    paragraphs[0].text = footer[0] if footer else ""
    for line in footer[1:]:
        doc.sections[0].footer.add_paragraph(line)
    out = io.BytesIO()
    doc.save(out)
    return _fixed_zip(out.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The package again with every entry stamped ``_EPOCH`` (zip keeps each file's time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for entry in src.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=_EPOCH.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(entry.filename))
    return out.getvalue()
