"""Rendering a note for people: golden Markdown and plain text, same input same bytes."""

from __future__ import annotations

from assistant.domain import (
    DraftNote,
    DraftProvenance,
    ModelRef,
    NoteSection,
    Statement,
    StatementKind,
)
from assistant.notes.render import render_markdown, render_text

NOTE = DraftNote(
    sections=(
        NoteSection(
            key="purpose",
            title="Purpose of the visit",
            statements=(
                Statement(
                    text="Planned visit to see [PERSON_1].",
                    speaker="Social worker",
                    evidence=("s0001",),
                ),
            ),
        ),
        NoteSection(key="present", title="Who was present"),
        NoteSection(
            key="child_voice",
            title="The child's wishes and feelings",
            statements=(
                Statement(
                    text="I like my new school.",
                    kind=StatementKind.DIRECT_QUOTE,
                    speaker="[PERSON_1]",
                    evidence=("s0003", "s0004"),
                ),
                Statement(
                    text="Wants the dog at the meeting.",
                    kind=StatementKind.OPINION,
                    speaker="[PERSON_1]",
                    evidence=("s0010",),
                    flags=("not_in_evidence", "check_speaker"),
                ),
            ),
        ),
        NoteSection(
            key="actions",
            title="Agreed actions",
            statements=(
                Statement(
                    text="[PERSON_2] to ring the family support worker\nby Friday.",
                    kind=StatementKind.AGREED_ACTION,
                    speaker="[PERSON_2]",
                    evidence=("s0008",),
                ),
                Statement(text="Edited by the worker <b>without</b> a source.", evidence=()),
            ),
        ),
    ),
    provenance=DraftProvenance(
        template="visit_note",
        template_version="v1",
        prompt_sha256="p" * 64,
        model=ModelRef(name="m", sha256="0" * 64),
        redaction_config_hash="c" * 64,
        attempts=1,
        seed=0,
    ),
)
BODY = {"sections": NOTE.model_dump(mode="json")["sections"]}
META = {"Template": "visit_note v1", "Status": "Draft: not yet approved"}

GOLDEN_MARKDOWN = """\
# Home visit note

- **Template:** visit_note v1
- **Status:** Draft: not yet approved

## Purpose of the visit

- Planned visit to see [PERSON_1]. — Social worker [s0001]

## Who was present

_Nothing recorded._

## The child's wishes and feelings

- *Direct quote:* I like my new school. — [PERSON_1] [s0003, s0004]
- *Opinion:* Wants the dog at the meeting. — [PERSON_1] [s0010]
  - ⚠ **Check:** not in evidence; check speaker

## Agreed actions

- *Agreed action:* [PERSON_2] to ring the family support worker
  by Friday. — [PERSON_2] [s0008]
- Edited by the worker &lt;b&gt;without&lt;/b&gt; a source.
"""

GOLDEN_TEXT = """\
Home visit note
===============

Template: visit_note v1
Status: Draft: not yet approved

Purpose of the visit
--------------------
* Planned visit to see [PERSON_1]. — Social worker [s0001]

Who was present
---------------
Nothing recorded.

The child's wishes and feelings
-------------------------------
* (Direct quote) I like my new school. — [PERSON_1] [s0003, s0004]
* (Opinion) Wants the dog at the meeting. — [PERSON_1] [s0010]
  ⚠ Check: not in evidence; check speaker

Agreed actions
--------------
* (Agreed action) [PERSON_2] to ring the family support worker
  by Friday. — [PERSON_2] [s0008]
* Edited by the worker <b>without</b> a source.
"""


def test_markdown_matches_the_golden_file():
    assert render_markdown(BODY, title="Home visit note", meta=META) == GOLDEN_MARKDOWN


def test_text_matches_the_golden_file():
    assert render_text(BODY, title="Home visit note", meta=META) == GOLDEN_TEXT


def test_rendering_is_deterministic_and_accepts_the_bare_section_list():
    for render in (render_markdown, render_text):
        first = render(BODY, title="Home visit note", meta=META)
        assert render(BODY, title="Home visit note", meta=dict(META)) == first
        assert render(BODY["sections"], title="Home visit note", meta=META) == first


def test_placeholders_survive_for_reidentification():
    """Re-identification is a string replacement: escaping [ or _ would break it."""
    body = {
        "sections": [
            {
                "key": "k",
                "title": "T",
                "statements": [
                    {
                        "text": "Call [PHONE_NUMBER_1] or [PERSON_10].",
                        "kind": "reported",
                        "speaker": "[PERSON_1]",
                        "evidence": ["s0001"],
                        "flags": [],
                    }
                ],
            }
        ]
    }
    for render in (render_markdown, render_text):
        out = render(body, title="T", meta={})
        assert "[PHONE_NUMBER_1]" in out and "[PERSON_10]" in out and "[PERSON_1] [s0001]" in out


def test_an_edited_note_with_missing_optional_fields_still_renders():
    body = {
        "sections": [
            {
                "key": "worries",
                "title": "Worries",
                "statements": [{"text": "A worry.", "evidence": ["s0002"]}],
            }
        ]
    }
    assert render_markdown(body, title="T", meta={}) == "# T\n\n## Worries\n\n- A worry. [s0002]\n"
    assert render_text(body, title="T", meta={}) == "T\n=\n\nWorries\n-------\n* A worry. [s0002]\n"


def test_the_head_reads_as_a_person_writes_it_the_template_goes_to_provenance():
    """Found walking through the app: the Markdown export's head showed the internal template
    name ("Template: visit_note") and an ISO timestamp for when the note was approved."""
    from assistant.notes.render import render_markdown

    meta = {
        "visit_date": "2026-12-07",
        "status": "approved",
        "approved_at": "2026-12-07T14:51:03.120000+00:00",
        "template": "visit_note",
        "template_version": "v6",
    }
    out = render_markdown(BODY, title="Home visit note", meta=meta)
    head, _, footer = out.partition("## Provenance")
    assert "- **Approved:** 7 December 2026, 14:51 UTC" in head
    # the visit's day written as the approval beside it is (the hand walk: "2026-12-03")
    assert "- **Visit date:** 7 December 2026" in head and "2026-12-07" not in out
    assert "Template" not in head and "2026-12-07T14:51" not in out
    assert "- **Template:** visit_note" in footer and "- **Template version:** v6" in footer
