"""The typed note body: its JSON form is the shape revisions have always been stored in, so
rows written as plain dicts read back, and bodies written now read the same to old readers."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from assistant.domain import (
    DraftNote,
    DraftProvenance,
    ModelRef,
    NoteSection,
    PseudonymMap,
    Statement,
    StatementKind,
)
from assistant.errors import InvalidEdit
from assistant.notes import NoteBody, edit_distance, export, validate_edit

STORED = {
    "sections": [
        {
            "key": "purpose",
            "title": "Purpose of the visit",
            "statements": [
                {
                    "text": "Visit to see [PERSON_1] at home.",
                    "kind": "observed",
                    "speaker": "[PERSON_2]",
                    "evidence": ["s0001"],
                    "flags": [],
                }
            ],
        },
        {"key": "actions", "title": "Agreed actions", "statements": []},
    ]
}


def _draft() -> DraftNote:
    return DraftNote(
        sections=(
            NoteSection(
                key="purpose",
                title="Purpose of the visit",
                statements=(
                    Statement(
                        text="Visit to see [PERSON_1] at home.",
                        kind=StatementKind.OBSERVED,
                        speaker="[PERSON_2]",
                        evidence=("s0001",),
                    ),
                ),
            ),
            NoteSection(key="actions", title="Agreed actions"),
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


def test_a_stored_body_reads_and_writes_back_unchanged():
    body = NoteBody.from_json(STORED)
    assert body.to_json() == STORED
    assert NoteBody.from_json(STORED["sections"]) == body  # the bare list of sections


def test_the_pipeline_draft_converts_to_the_same_body():
    draft = _draft()
    assert NoteBody.from_draft(draft).to_json() == STORED
    # a draft stored whole carries provenance beside its sections: only sections are read
    assert NoteBody.from_json(draft.model_dump(mode="json")) == NoteBody.from_draft(draft)


def test_reidentified_swaps_every_placeholder_and_leaves_the_body_alone():
    body = NoteBody.from_json(STORED)
    mapping = PseudonymMap(entries={"[PERSON_1]": "Amara", "[PERSON_2]": "Mum"})
    real = body.reidentified(mapping)
    st = real.sections[0].statements[0]
    assert (st.text, st.speaker) == ("Visit to see Amara at home.", "Mum")
    assert body.to_json() == STORED


def _template():
    sections = [SimpleNamespace(key="purpose", title="Purpose of the visit")]
    sections.append(SimpleNamespace(key="actions", title="Agreed actions"))
    return SimpleNamespace(id="visit_note", sections=sections)


def test_an_edit_is_normalised_to_the_stored_shape():
    ring = {"text": " Ring school. ", "kind": "agreed_action", "speaker": None, "evidence": []}
    edited = [{"key": "actions", "statements": [ring]}]
    body = validate_edit(edited, template=_template(), segment_ids=frozenset({"s0001"}))
    assert body.to_json() == {
        "sections": [
            {"key": "purpose", "title": "Purpose of the visit", "statements": []},
            {
                "key": "actions",
                "title": "Agreed actions",
                "statements": [
                    {
                        "text": "Ring school.",
                        "kind": "agreed_action",
                        "speaker": None,
                        "evidence": [],
                        "flags": ["added_by_practitioner"],
                    }
                ],
            },
        ]
    }
    unknown = {"text": "x", "kind": "observed", "evidence": ["s9999"]}
    with pytest.raises(InvalidEdit):
        validate_edit(
            [{"key": "purpose", "statements": [unknown]}],
            template=_template(),
            segment_ids=frozenset({"s0001"}),
        )


def test_edit_distance_counts_characters_changed_in_the_statements():
    def body(text: str) -> NoteBody:
        statement = Statement(text=text, evidence=("s0001",))
        return NoteBody(sections=(NoteSection(key="k", title="T", statements=(statement,)),))

    assert edit_distance(body("The cat sat."), body("The cat sat.")) == 0
    assert edit_distance(body("The cat sat."), body("The cut sat!")) == 2


def test_json_export_is_the_body_with_its_meta():
    content, media_type = export(NoteBody.from_json(STORED), "json", title="T", meta={"a": 1})
    assert json.loads(content) == {"meta": {"a": 1}, **STORED}
    assert media_type == "application/json"
