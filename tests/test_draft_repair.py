"""Repairs made in code before verification: quotes restored to the speaker's exact words or no
longer shown as quotes, and statements attributed to whoever said the words they cite."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from assistant.domain import (
    DraftNote,
    DraftProvenance,
    ModelRef,
    NoteSection,
    RedactedSegment,
    RedactedTranscript,
    Statement,
    StatementKind,
    excerpt,
)
from assistant.drafting.statements import merge_chunks
from assistant.review import (
    FLAG_KIND_CORRECTED,
    FLAG_QUOTE_RESTORED,
    FLAG_SECTION_CORRECTED,
    FLAG_SPEAKER_CORRECTED,
    repair_note,
    speaker_group,
    verify_note,
)

CHILD = (
    "I was in my bed and I heard shouting. I don't like it when they shout. It makes my tummy hurt."
)
SEGMENTS = (
    ("Social worker", "Can you tell me about Saturday night?"),
    ("Child", CHILD),
    ("Mum", "He's exaggerating, he does that. I did bang my arm on the door."),
    ("Social worker", "Mum told me she banged her arm on the door."),
)
TRANSCRIPT = RedactedTranscript(
    segments=tuple(
        RedactedSegment(id=f"s{i:04d}", start=i, end=i + 1, text=t, speaker=sp)
        for i, (sp, t) in enumerate(SEGMENTS, start=1)
    ),
    language="en",
    duration_s=5.0,
    entities=(),
    config_hash="c" * 64,
)


def _note(*statements: Statement) -> DraftNote:
    return DraftNote(
        sections=(NoteSection(key="child_voice", title="Child", statements=statements),),
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


def _quote(text: str, speaker: str | None = "Child", evidence=("s0002",)) -> Statement:
    return Statement(text=text, kind=StatementKind.DIRECT_QUOTE, speaker=speaker, evidence=evidence)


def test_a_paraphrase_labelled_as_a_quote_gets_the_childs_exact_words():
    note, report = repair_note(_note(_quote("I do not like it when they are shouting")), TRANSCRIPT)
    (st,) = note.all_statements()
    assert st.text == "I don't like it when they shout."
    assert FLAG_QUOTE_RESTORED in st.flags and st.kind is StatementKind.DIRECT_QUOTE
    assert report.summary()[FLAG_QUOTE_RESTORED] == 1
    verified, _ = verify_note(note, TRANSCRIPT)
    assert not [f for f in verified.all_statements()[0].flags if f.startswith("unsupported")]


def test_a_quote_that_cannot_be_restored_is_no_longer_shown_as_a_quote():
    note, report = repair_note(
        _note(_quote("The child is frightened of the man at home")), TRANSCRIPT
    )
    (st,) = note.all_statements()
    assert st.kind is StatementKind.REPORTED and FLAG_KIND_CORRECTED in st.flags
    assert st.text == "The child is frightened of the man at home"  # words are never invented
    assert report.summary()[FLAG_KIND_CORRECTED] == 1


def test_a_verbatim_quote_is_left_alone():
    st = _quote("It makes my tummy hurt.")
    note, report = repair_note(_note(st), TRANSCRIPT)
    assert note.all_statements() == [st]
    assert sum(report.summary().values()) == 0


def test_a_statement_is_attributed_to_whoever_said_the_words_it_cites():
    wrong = Statement(
        text="He is exaggerating", kind=StatementKind.REPORTED, speaker="Child", evidence=("s0003",)
    )
    note, report = repair_note(_note(wrong), TRANSCRIPT)
    (st,) = note.all_statements()
    assert st.speaker == "Mum" and FLAG_SPEAKER_CORRECTED in st.flags
    assert report.speakers_corrected == (("child_voice", 0),)


def test_a_report_relayed_by_the_social_worker_keeps_the_person_it_is_about():
    relayed = Statement(
        text="She banged her arm on the door",
        kind=StatementKind.REPORTED,
        speaker="Mum",
        evidence=("s0004",),  # said by the social worker, naming Mum
    )
    note, _ = repair_note(_note(relayed), TRANSCRIPT)
    assert note.all_statements()[0].speaker == "Mum"


def test_a_speaker_named_in_the_text_is_not_relabelled():
    named = Statement(
        text="Mum said the child exaggerates",
        kind=StatementKind.REPORTED,
        speaker="Mum",
        evidence=("s0002",),
    )
    note, _ = repair_note(_note(named), TRANSCRIPT)
    assert note.all_statements()[0].speaker == "Mum"
    assert FLAG_SPEAKER_CORRECTED not in note.all_statements()[0].flags


def test_repair_is_idempotent():
    once, _ = repair_note(
        _note(_quote("I do not like it when they are shouting"), _quote("the man is scary")),
        TRANSCRIPT,
    )
    twice, report = repair_note(once, TRANSCRIPT)
    assert twice == once
    assert sum(report.summary().values()) == 0


# --- sections, by who spoke -------------------------------------------------------------------
def _excerpt(*ids: str, kind: str = "direct_quote") -> Statement:
    """A verbatim statement of these segments, as the classify templates make them."""
    cited = [s for s in TRANSCRIPT.segments if s.id in ids]
    text, speaker = excerpt(cited)
    return Statement(text=text, kind=kind, speaker=speaker, evidence=ids)


def _sections(**statements: Sequence[Statement]) -> DraftNote:
    keys = ("child_voice", "observations", "worries", "parent_carer_views")
    base = _note()
    return base.model_copy(
        update={
            "sections": tuple(
                NoteSection(key=k, title=k, statements=tuple(statements.get(k, ()))) for k in keys
            )
        }
    )


def _keys(note: DraftNote) -> dict[str, list[tuple[str, ...]]]:
    return {s.key: [st.evidence for st in s.statements] for s in note.sections}


def test_a_parents_words_in_the_childs_section_move_to_the_parents_views():
    """Mum's words alone, or answering the practitioner, are her view, not the child's voice;
    they take their place among the parents' views by when they were said."""
    note, report = repair_note(
        _sections(
            child_voice=[_excerpt("s0002"), _excerpt("s0003")],
            parent_carer_views=[_excerpt("s0004", kind="reported")],
        ),
        TRANSCRIPT,
    )
    assert _keys(note)["child_voice"] == [("s0002",)]
    assert _keys(note)["parent_carer_views"] == [("s0003",), ("s0004",)]
    moved = note.sections[3].statements[0]
    assert FLAG_SECTION_CORRECTED in moved.flags and moved.speaker == "Mum"
    assert moved.text == SEGMENTS[2][1] and moved.kind is StatementKind.DIRECT_QUOTE
    assert report.sections_corrected == (("child_voice", 1),)
    assert report.summary()[FLAG_SECTION_CORRECTED] == 1


def test_the_childs_words_in_the_parents_views_or_observations_move_to_the_childs_section():
    note, _ = repair_note(
        _sections(
            observations=[_excerpt("s0001", "s0002")],  # the question and the child's answer
            parent_carer_views=[_excerpt("s0003")],
        ),
        TRANSCRIPT,
    )
    assert _keys(note) == {
        "child_voice": [("s0001", "s0002")],
        "observations": [],
        "worries": [],
        "parent_carer_views": [("s0003",)],
    }


def test_sections_that_hold_anyones_words_and_unknown_speakers_are_left_alone():
    """A child's worry may stay in worries; an exchange of the child and Mum, the practitioner's
    own words, and words of a speaker whose label says nothing (a name) do not move."""
    named = TRANSCRIPT.model_copy(
        update={
            "segments": tuple(
                s.model_copy(update={"speaker": "[PERSON_2]"}) if s.speaker == "Mum" else s
                for s in TRANSCRIPT.segments
            )
        }
    )
    kept = _sections(
        child_voice=[_excerpt("s0002", "s0003"), _excerpt("s0004", kind="reported")],
        worries=[_excerpt("s0002")],
    )
    note, report = repair_note(kept, TRANSCRIPT)
    assert note == kept and report.sections_corrected == ()
    mums = _sections(child_voice=[_excerpt("s0003")])
    assert _keys(repair_note(mums, named)[0]) == _keys(mums)  # "[PERSON_2]" could be anyone
    # audio: no speaker labels, nothing moves
    unlabelled = tuple(s.model_copy(update={"speaker": None}) for s in TRANSCRIPT.segments)
    audio = TRANSCRIPT.model_copy(update={"segments": unlabelled})
    assert repair_note(mums, audio)[0] == mums
    assert _keys(repair_note(mums, TRANSCRIPT)[0])["parent_carer_views"] == [("s0003",)]


def test_section_repair_is_idempotent_and_needs_both_sections():
    once, _ = repair_note(_sections(child_voice=[_excerpt("s0003"), _excerpt("s0002")]), TRANSCRIPT)
    twice, report = repair_note(once, TRANSCRIPT)
    assert twice == once and report.sections_corrected == ()
    lone = _note(_excerpt("s0003"))  # a note with no parents' section: nowhere to move to
    assert repair_note(lone, TRANSCRIPT)[0].all_statements()[0].flags == ()


@pytest.mark.parametrize(
    ("label", "group"),
    [
        ("Child", "child"), ("young  person", "child"), ("Mum", "family"),
        ("Foster carer", "family"), ("foster-carer", "family"), ("Nana", "family"),
        ("Social worker", "practitioner"), ("[PERSON_1]", None), ("Speaker 2", None),
        ("TV", None), (None, None),
    ],
)  # fmt: skip
def test_speaker_groups_come_from_the_label(label, group):
    assert speaker_group(label) == group


def test_chunk_notes_merge_near_duplicates_and_keep_different_statements():
    order = {f"s{i:04d}": i for i in range(1, 10)}
    first = Statement(text="Mum and [PERSON_1] were present.", kind="observed", evidence=("s0001",))
    again = Statement(text="[PERSON_1] and Mum were present", kind="observed", evidence=("s0007",))
    other = Statement(text="Mum was not present.", kind="observed", evidence=("s0008",))
    merged = merge_chunks([{"present": [first]}, {"present": [again, other]}], ["present"], order)
    assert [st.text for st in merged["present"]] == [first.text, other.text]
    assert merged["present"][0].evidence == ("s0001", "s0007")
