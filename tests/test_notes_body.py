"""The typed note body: its JSON form is the shape revisions have always been stored in, so
rows written as plain dicts read back, and bodies written now read the same to old readers."""

from __future__ import annotations

import json
import time
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
    assert json.loads(content) == {"meta": {"a": 1}, **STORED, "approval": None}
    assert media_type == "application/json"
    record = {"kept": 1}
    content, _ = export(NoteBody.from_json(STORED), "json", title="T", meta={}, approval=record)
    assert json.loads(content)["approval"] == record


# --- what became of the AI's statements ----------------------------------------------------
def _body(**sections: list[str | tuple[str, list[str]]]) -> NoteBody:
    """Sections of statements: a text (citing s0001) or (text, evidence)."""

    def st(item):
        text, evidence = item if isinstance(item, tuple) else (item, ["s0001"])
        return {"text": text, "kind": "reported", "speaker": None, "evidence": evidence}

    return NoteBody.from_json(
        {
            "sections": [
                {"key": k, "title": k.title(), "statements": [st(i) for i in items]}
                for k, items in sections.items()
            ]
        }
    )


AI = _body(
    purpose=["Visit to see the family at home.", "The visit was planned."],
    worries=["Mum said the rent is two months late.", "The kitchen was untidy."],
)


@pytest.mark.parametrize(
    ("final", "outcomes", "counts"),
    [
        (AI, ["kept", "kept", "kept", "kept"], (4, 0, 0, 0, 0)),
        (  # one reworded, one dropped, one added
            _body(
                purpose=["Visit to see the family at home.", "The visit was planned."],
                worries=[
                    "Mum said the rent is three months late.",
                    ("School is going well.", ["s0009"]),
                ],
            ),
            ["kept", "kept", "edited", "removed"],
            (2, 1, 1, 0, 1),
        ),
        (  # moved to another section unchanged: kept, and counted as moved
            _body(
                purpose=["Visit to see the family at home."],
                worries=[
                    "The visit was planned.",
                    "Mum said the rent is two months late.",
                    "The kitchen was untidy.",
                ],
            ),
            ["kept", "kept", "kept", "kept"],
            (4, 0, 0, 1, 0),
        ),
        (  # reworded more freely: an edit on the same evidence, a new statement on other
            _body(
                purpose=["Visit to see the family at home.", "The visit was planned."],
                worries=["The rent is late, mum said.", "The kitchen was untidy."],
            ),
            ["kept", "kept", "edited", "kept"],
            (3, 1, 0, 0, 0),
        ),
        (
            _body(
                purpose=["Visit to see the family at home.", "The visit was planned."],
                worries=[("The rent is late, mum said.", ["s0007"]), "The kitchen was untidy."],
            ),
            ["kept", "kept", "removed", "kept"],
            (3, 0, 1, 0, 1),
        ),
        (_body(purpose=[], worries=[]), ["removed"] * 4, (0, 0, 4, 0, 0)),
    ],
)
def test_each_ai_statement_is_kept_edited_or_removed(final, outcomes, counts):
    from assistant.notes import compare

    record = compare(AI, final, revision=3)
    assert [f.outcome for f in record.statements] == outcomes
    assert (record.kept, record.edited, record.removed, record.moved, record.added) == counts
    assert record.ai_statements == 4 and record.revision == 3
    for fate in record.statements:  # where it is now is a real statement of the final body
        if fate.now is not None:
            section = next(s for s in final.sections if s.key == fate.now.section)
            assert fate.now.index < len(section.statements)
    assert "rent" not in record.model_dump_json()  # positions and counts, never text


def test_a_confirmation_hash_changes_with_the_words_not_the_flags():
    from assistant.notes import statement_sha256

    a = Statement(text="She  said so.", evidence=("s0001",))
    assert statement_sha256(a) == statement_sha256(a.model_copy(update={"flags": ("x",)}))
    assert statement_sha256(a) == statement_sha256(a.model_copy(update={"text": "She said so."}))
    assert statement_sha256(a) != statement_sha256(a.model_copy(update={"text": "He said so."}))
    assert statement_sha256(a) != statement_sha256(a.model_copy(update={"evidence": ()}))


# --- statement-level edits -------------------------------------------------------------------
def test_statement_edits_change_add_move_and_remove_one_statement():
    from assistant.errors import NotFound
    from assistant.notes import add_statement, change_statement, remove_statement

    def texts(sections):
        return {s["key"]: [st["text"] for st in s["statements"]] for s in sections}

    flagged = AI.model_copy()
    out = change_statement(flagged, section="worries", index=1, changes={"text": "Tidy."})
    assert texts(out)["worries"] == ["Mum said the rent is two months late.", "Tidy."]
    moved = change_statement(AI, section="worries", index=0, changes={}, to_section="purpose")
    assert texts(moved) == {
        "purpose": [*texts(out)["purpose"], "Mum said the rent is two months late."],
        "worries": ["The kitchen was untidy."],
    }
    up = change_statement(AI, section="purpose", index=1, changes={}, position=0)
    assert texts(up)["purpose"] == ["The visit was planned.", "Visit to see the family at home."]
    added = add_statement(AI, section="worries", statement={"text": "New."}, position=0)
    assert texts(added)["worries"][0] == "New."
    assert texts(remove_statement(AI, section="purpose", index=0))["purpose"] == [
        "The visit was planned."
    ]
    for bad, error in [
        (lambda: remove_statement(AI, section="purpose", index=2), NotFound),
        (lambda: remove_statement(AI, section="nope", index=0), InvalidEdit),
        (lambda: add_statement(AI, section="purpose", statement={}, position=9), InvalidEdit),
        (
            lambda: change_statement(AI, section="purpose", index=0, changes={"flags": []}),
            InvalidEdit,
        ),
    ]:
        with pytest.raises(error):
            bad()


def test_a_reworded_statement_loses_the_flags_of_the_ai_wording():
    from assistant.notes import change_statement

    body = NoteBody.from_json(STORED)
    flagged = body.model_copy(
        update={
            "sections": (
                body.sections[0].model_copy(
                    update={
                        "statements": (
                            body.sections[0]
                            .statements[0]
                            .model_copy(update={"flags": ("unsupported:no_overlap",)}),
                        )
                    }
                ),
                body.sections[1],
            )
        }
    )
    same = change_statement(flagged, section="purpose", index=0, changes={"kind": "reported"})
    assert same[0]["statements"][0]["flags"] == ["unsupported:no_overlap"]
    reworded = change_statement(flagged, section="purpose", index=0, changes={"text": "New."})
    kept = reworded[0]["statements"][0]
    # the AI wording's findings go; a statement someone said is marked as reworded
    assert kept["flags"] == (["reworded_by_practitioner"] if kept.get("speaker") else [])


# --- Word ------------------------------------------------------------------------------------
def test_word_export_has_the_header_sections_statements_and_a_provenance_footer():
    import io

    from docx import Document

    content, media_type = export(
        NoteBody.from_json(STORED),
        "docx",
        title="Visit record",
        meta={"visit_type": "home visit", "approved_at": None},
        footer=["Drafted by AI (m).", "Draft: not approved."],
    )
    assert media_type.endswith("wordprocessingml.document")
    doc = Document(io.BytesIO(content))
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[0] == "Visit record"
    assert "Visit type: home visit" in paragraphs
    assert not any("approved_at" in p for p in paragraphs)  # no empty values
    assert "Purpose of the visit" in paragraphs and "Agreed actions" in paragraphs
    assert "Observed: Visit to see [PERSON_1] at home. — [PERSON_2] [s0001]" in paragraphs
    assert "Nothing recorded." in paragraphs  # the empty section says so
    footer = [p.text for p in doc.sections[0].footer.paragraphs]
    assert footer == ["Drafted by AI (m).", "Draft: not approved."]
    time.sleep(2.1)  # zip entries keep times to 2 s: the next second must not show
    again, _ = export(
        NoteBody.from_json(STORED),
        "docx",
        title="Visit record",
        meta={"visit_type": "home visit", "approved_at": None},
        footer=["Drafted by AI (m).", "Draft: not approved."],
    )
    assert again == content  # same note, same bytes


def test_a_reworded_statement_someone_said_is_never_printed_as_their_quote():
    """Found walking through the app: a practitioner's rewording of a parent's words was still
    exported as 'Mum said: “…”', their words in quotation marks as the parent's. Reworded, it
    is marked and printed without them; a statement nobody said is not marked."""
    from assistant.domain import NoteSection, Statement, StatementKind
    from assistant.notes import change_statement
    from assistant.notes.body import NoteBody
    from assistant.notes.render import attributed_text, render_markdown
    from assistant.notes.statements import REWORDED

    said = Statement(text="I'm struggling with the rent.", kind=StatementKind.DIRECT_QUOTE,
                     speaker="Mum", evidence=("s0002",), flags=("low_confidence_words",))
    plain = Statement(text="The kitchen was untidy.", evidence=("s0003",))
    body = NoteBody(sections=(NoteSection(key="worries", title="Worries",
                                          statements=(said, plain)),))  # fmt: skip
    assert attributed_text(said) == "Mum said: “I'm struggling with the rent.”"
    out = change_statement(body, section="worries", index=0,
                           changes={"text": "Mum is two months behind with the rent."})  # fmt: skip
    reworded = out[0]["statements"][0]
    assert reworded["flags"] == [REWORDED]
    edited = Statement.model_validate(reworded)
    assert attributed_text(edited) == (
        "Mum said (in the practitioner's words): Mum is two months behind with the rent."
    )
    assert "“" not in render_markdown({"sections": out}, title="Note", meta={}).split("Worries")[1]
    # moving it keeps the mark; only changing the speaker or kind adds none
    moved = change_statement(NoteBody.from_json({"sections": out}), section="worries", index=0,
                             changes={"evidence": ["s0002", "s0004"]})  # fmt: skip
    assert moved[0]["statements"][0]["flags"] == [REWORDED]
    kind_only = change_statement(body, section="worries", index=0, changes={"kind": "reported"})
    assert kind_only[0]["statements"][0]["flags"] == ["low_confidence_words"]
    nobody = change_statement(body, section="worries", index=1, changes={"text": "Untidy."})
    assert nobody[0]["statements"][1]["flags"] == []
