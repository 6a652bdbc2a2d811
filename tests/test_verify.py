"""Verifying a draft in code: each statement against the transcript segments it cites.

One transcript, one table of statements: each row is a statement as a model might draft it and
the findings verification must attach. Unsupported statements are flagged, never deleted.
"""

from __future__ import annotations

import json
from pathlib import Path

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
)
from assistant.review import (
    CONTENT_SUPPORT_THRESHOLD,
    Reason,
    VerificationReport,
    numbers,
    quote_tokens,
    verify_note,
)

CHILD = "[PERSON_1]"
SW = "SPEAKER_SW"


def seg(sid: str, text: str, speaker: str | None = CHILD, unsure: tuple[str, ...] = ()):
    return RedactedSegment(
        id=sid, start=0.0, end=1.0, text=text, speaker=speaker, low_confidence_words=unsure
    )


TRANSCRIPT = RedactedTranscript(
    segments=(
        seg("s0001", "Hello [PERSON_1], how many brothers and sisters have you got?", SW),
        seg("s0002", "I've got two brothers, [PERSON_2] and [PERSON_3], and a little sister."),
        seg("s0003", "I don't feel safe at home when dad is shouting."),
        seg("s0004", "Mum and dad were fighting and dad hit mum."),
        seg("s0005", "I want to live with my nan. She's nice to me."),
        seg("s0006", "I'll come back at half past ten on Tuesday the 3rd.", SW),
        seg("s0007", "No, I like school, it's fine. My teacher is kind."),
        seg("s0008", "I'm twelve and I'm in Year 7 at [LOCATION_1].", CHILD, ("Year",)),
        seg("s0009", "I get scared at night, I hear them screaming.", CHILD, ("screaming",)),
        seg("s0010", "Mum says she never drinks when the kids are home.", "[PERSON_4]"),
        seg("s0011", "I'm going to ring the school nurse on Monday,", "[PERSON_4]"),
        seg("s0012", "and the GP about his asthma.", "[PERSON_4]"),
        seg("s0013", "Do you get scared at night? Have you got friends?", SW),
        seg("s0014", "Yeah, I get scared at night. I haven't got any friends."),
    ),
    language="en",
    duration_s=120.0,
    entities=(),
    config_hash="c" * 64,
)
PROVENANCE = DraftProvenance(
    template="visit_note",
    template_version="v1",
    prompt_sha256="p" * 64,
    model=ModelRef(name="fake", sha256="0" * 64),
    redaction_config_hash="c" * 64,
    attempts=1,
    seed=0,
)


def note_of(*statements: Statement, key: str = "child_voice") -> DraftNote:
    return DraftNote(
        sections=(NoteSection(key=key, title="Section", statements=statements),),
        provenance=PROVENANCE,
    )


def st(text, *evidence, kind=StatementKind.REPORTED, speaker=None, flags=()):
    return Statement(text=text, kind=kind, speaker=speaker, evidence=evidence, flags=flags)


Q = StatementKind.DIRECT_QUOTE

# (statement, flags the verified statement carries, evidence after verification or None = same)
ROWS = [
    # supported ----------------------------------------------------------------------------
    pytest.param(
        st("[PERSON_1] said she has two brothers and a sister.", "s0002"), (), None, id="supported"
    ),
    pytest.param(
        st("[PERSON_1] said she has 2 brothers.", "s0002"), (), None, id="digits-match-number-words"
    ),
    pytest.param(
        st("[PERSON_1] said she does not feel safe at home.", "s0003"), (), None, id="negation-kept"
    ),
    pytest.param(
        st("[PERSON_1] said she feels unsafe at home when her father shouts.", "s0003"),
        (),
        None,
        id="unsafe-means-not-safe",
    ),
    pytest.param(
        st("[PERSON_1] said mum and dad were fighting and dad hit mum.", "s0004"),
        (),
        None,
        id="reported-account",
    ),
    pytest.param(
        st("[PERSON_1] is 12 and in Year 7.", "s0008"),
        ("low_confidence_words",),
        None,
        id="age-and-school-year",
    ),
    pytest.param(
        st(
            "The social worker will visit again at 10:30 on Tuesday 3rd.",
            "s0006",
            kind=StatementKind.AGREED_ACTION,
        ),
        (),
        None,
        id="time-and-date",
    ),
    pytest.param(
        st("[PERSON_1] said no one at school is unkind to her.", "s0007"),
        ("unsupported:negation",),
        None,
        id="no-one-is-not-a-number",
    ),
    pytest.param(
        st(
            "[PERSON_4] said she never drinks when the children are at home.",
            "s0010",
            speaker="[PERSON_4]",
        ),
        (),
        None,
        id="never-kept-children-synonym",
    ),
    pytest.param(
        st(
            "[PERSON_1] said she gets scared at night because she has no friends.", "s0013", "s0014"
        ),
        (),
        None,
        id="question-asserts-nothing",
    ),
    # numbers ------------------------------------------------------------------------------
    pytest.param(
        st("[PERSON_1] said she has three brothers.", "s0002"),
        ("unsupported:number",),
        None,
        id="wrong-number",
    ),
    pytest.param(
        st(
            "The social worker will visit at 11:30 on Tuesday.",
            "s0006",
            kind=StatementKind.AGREED_ACTION,
        ),
        ("unsupported:number",),
        None,
        id="wrong-time",
    ),
    pytest.param(
        st("[PERSON_1] is thirteen.", "s0008"), ("unsupported:number",), None, id="wrong-age"
    ),
    # negation -----------------------------------------------------------------------------
    pytest.param(
        st("[PERSON_1] said she feels safe at home.", "s0003"),
        ("unsupported:negation",),
        None,
        id="flipped-negation",
    ),
    pytest.param(
        st("[PERSON_1] said she does not like school.", "s0007"),
        ("unsupported:negation",),
        None,
        id="invented-negation",
    ),
    pytest.param(
        st("[PERSON_1] said her teacher is not kind.", "s0007"),
        ("unsupported:negation",),
        None,
        id="negation-of-asserted-words",
    ),
    pytest.param(
        st("[PERSON_4] said she drinks when the children are home.", "s0010", speaker="[PERSON_4]"),
        ("unsupported:negation",),
        None,
        id="dropped-never",
    ),
    # placeholders -------------------------------------------------------------------------
    pytest.param(
        st("[PERSON_5] is her brother.", "s0002"),
        ("unsupported:placeholder",),
        None,
        id="placeholder-not-in-evidence",
    ),
    pytest.param(
        st("[PERSON_1] said she has a brother called [PERSON_2].", "s0002"),
        (),
        None,
        id="placeholder-from-speaker-and-text",
    ),
    # quotes -------------------------------------------------------------------------------
    pytest.param(
        st('"I want to live with my nan."', "s0005", kind=Q, speaker=CHILD),
        (),
        None,
        id="quote-verbatim",
    ),
    pytest.param(
        st("I want to live with my Nan", "s0005", kind=Q, speaker=CHILD),
        (),
        None,
        id="quote-without-marks-case-and-punctuation",
    ),
    pytest.param(
        st(
            "[PERSON_1] said: \u201cI do not feel safe at home\u201d",
            "s0003",
            kind=Q,
            speaker=CHILD,
        ),
        (),
        None,
        id="quote-curly-and-contraction",
    ),
    pytest.param(
        st('"I want to live with my grandad"', "s0005", kind=Q, speaker=CHILD),
        ("quote_not_found",),
        None,
        id="quote-not-in-transcript",
    ),
    pytest.param(
        st('"I want to live with my nan"', "s0002", kind=Q, speaker=CHILD),
        ("evidence_corrected",),
        ("s0005",),
        id="quote-in-other-segment",
    ),
    pytest.param(
        st(
            '"I\'m going to ring the school nurse on Monday, and the GP"',
            "s0011",
            kind=Q,
            speaker="[PERSON_4]",
        ),
        ("evidence_corrected",),
        ("s0011", "s0012"),
        id="quote-across-two-segments",
    ),
    pytest.param(
        st('"I want to live with my nan ... she\'s nice to me"', "s0005", kind=Q, speaker=CHILD),
        (),
        None,
        id="quote-with-ellipsis",
    ),
    pytest.param(
        st('[PERSON_1] said school was "really boring"', "s0007"),
        ("quote_not_found",),
        None,
        id="quote-inside-reported-statement",
    ),
    # low confidence -----------------------------------------------------------------------
    pytest.param(
        st("[PERSON_1] said she hears them screaming at night.", "s0009"),
        ("low_confidence_words",),
        None,
        id="low-confidence-word",
    ),
    pytest.param(
        st("[PERSON_1] said she gets scared at night.", "s0009"),
        (),
        None,
        id="low-confidence-word-not-used",
    ),
    # content ------------------------------------------------------------------------------
    pytest.param(
        st("[PERSON_1] described her bedroom and the new puppy she got for Christmas.", "s0005"),
        ("unsupported:content",),
        None,
        id="content-mostly-absent",
    ),
    pytest.param(
        st("[PERSON_1] said dad threw a bottle at the television and broke a window.", "s0004"),
        ("unsupported:content",),
        None,
        id="content-below-threshold",
    ),
    # attribution and evidence -------------------------------------------------------------
    pytest.param(
        st("[PERSON_1] said she wants to live with her nan.", "s0005", speaker="[PERSON_4]"),
        ("unsupported:speaker",),
        None,
        id="misattributed-speaker",
    ),
    pytest.param(
        st("[PERSON_1] likes school.", kind=StatementKind.OBSERVED),
        ("unsupported:no_evidence",),
        None,
        id="no-evidence",
    ),
    pytest.param(
        st("[PERSON_1] likes school.", "s0007", "s9999"),
        ("unsupported:unknown_evidence",),
        None,
        id="unknown-evidence",
    ),
]


@pytest.mark.parametrize(("statement", "flags", "evidence"), ROWS)
def test_verification_rows(statement: Statement, flags, evidence):
    verified, report = verify_note(note_of(statement), TRANSCRIPT)
    (out,) = verified.sections[0].statements
    assert out.flags == flags
    assert out.evidence == (evidence or statement.evidence)
    assert out.text == statement.text  # flagged, never rewritten
    (result,) = report.results
    unsupported = tuple(f for f in flags if f not in ("evidence_corrected", "low_confidence_words"))
    assert result.supported is (not unsupported)
    assert result.evidence_corrected is ("evidence_corrected" in flags)
    assert result.low_confidence is ("low_confidence_words" in flags)


def test_unsupported_statements_are_kept_and_counted():
    statements = [r.values[0] for r in ROWS]
    verified, report = verify_note(note_of(*statements), TRANSCRIPT)
    assert len(verified.sections[0].statements) == len(statements)
    assert [r.index for r in report.results] == list(range(len(statements)))
    assert {r.section for r in report.results} == {"child_voice"}
    expected_unsupported = sum(
        any(f not in ("evidence_corrected", "low_confidence_words") for f in r.values[1])
        for r in ROWS
    )
    summary = report.summary()
    assert summary["total"] == len(statements)
    assert summary["unsupported"] == expected_unsupported
    assert summary["supported"] == len(statements) - expected_unsupported
    assert summary["by_reason"]["number"] == 3
    assert summary["by_reason"]["quote_not_found"] == 2
    assert summary["evidence_corrected"] == 2
    assert summary["threshold"] == CONTENT_SUPPORT_THRESHOLD


def test_report_holds_no_statement_or_transcript_text():
    statements = [r.values[0] for r in ROWS]
    _, report = verify_note(note_of(*statements), TRANSCRIPT)
    dumped = json.dumps(report.summary()) + report.model_dump_json() + repr(report)
    for word in ("brothers", "nan", "grandad", "puppy", "screaming", "PERSON", "safe"):
        assert word not in dumped


def test_report_is_frozen():
    _, report = verify_note(note_of(st("[PERSON_1] likes school.", "s0007")), TRANSCRIPT)
    assert isinstance(report, VerificationReport)
    with pytest.raises(ValueError):
        report.results = ()  # type: ignore[misc]


def test_verifying_again_replaces_findings_and_keeps_other_flags():
    statement = st(
        "[PERSON_1] said she has three brothers.",
        "s0002",
        flags=("red_flag_not_affirmed:self_harm",),
    )
    once, _ = verify_note(note_of(statement), TRANSCRIPT)
    twice, _ = verify_note(once, TRANSCRIPT)
    assert twice == once
    assert twice.sections[0].statements[0].flags == (
        "red_flag_not_affirmed:self_harm",
        "unsupported:number",
    )
    fixed = (
        once.sections[0]
        .statements[0]
        .model_copy(update={"text": "[PERSON_1] said she has two brothers."})
    )
    again, _ = verify_note(note_of(fixed), TRANSCRIPT)
    assert again.sections[0].statements[0].flags == ("red_flag_not_affirmed:self_harm",)


def test_corrected_evidence_is_history_and_survives_a_second_run():
    once, _ = verify_note(note_of(st('"I want to live with my nan"', "s0002", kind=Q)), TRANSCRIPT)
    twice, report = verify_note(once, TRANSCRIPT)
    assert twice.sections[0].statements[0].flags == ("evidence_corrected",)
    assert twice.sections[0].statements[0].evidence == ("s0005",)
    assert report.results[0].evidence_corrected is False  # nothing changed this time


def test_sections_keep_their_keys_and_provenance():
    note = DraftNote(
        sections=(
            NoteSection(key="purpose", title="P", statements=()),
            NoteSection(
                key="worries",
                title="W",
                statements=(st("[PERSON_1] said she has three brothers.", "s0002"),),
            ),
        ),
        provenance=PROVENANCE,
    )
    verified, report = verify_note(note, TRANSCRIPT)
    assert [s.key for s in verified.sections] == ["purpose", "worries"]
    assert verified.provenance == PROVENANCE
    assert report.results[0].section == "worries"
    assert report.results[0].reasons == (Reason.NUMBER,)


def test_threshold_is_a_parameter():
    statement = st(
        "[PERSON_1] said dad threw a bottle at the television and broke a window.", "s0004"
    )
    _, strict = verify_note(note_of(statement), TRANSCRIPT)
    _, loose = verify_note(note_of(statement), TRANSCRIPT, threshold=0.1)
    assert Reason.CONTENT in strict.results[0].reasons
    assert loose.results[0].supported
    assert 0.1 <= strict.results[0].content_support < CONTENT_SUPPORT_THRESHOLD


def test_known_gap_one_invented_detail_among_supported_words():
    """The content check is a ratio: one invented detail among supported words passes
    ("with a bottle": 3 of 4 content words found). Red-flag claims are gated separately
    (assistant.review.safeguarding); a single invented noun in an ordinary statement is not
    caught."""
    statement = st("[PERSON_1] said her mother hit her father with a bottle.", "s0004")
    verified, report = verify_note(note_of(statement), TRANSCRIPT)
    assert verified.sections[0].statements[0].flags == ()
    assert report.results[0].content_support == 0.75


@pytest.mark.parametrize(
    ("text", "generous", "expected"),
    [
        ("two brothers", False, {"2"}),
        ("twenty-one years", False, {"21"}),
        ("one hundred and twenty", False, {"120"}),
        ("a hundred", False, {"100"}),
        ("at half past ten", False, {"10", "30"}),
        ("quarter to three", False, {"45", "2", "3"}),
        ("10:30am", False, {"10", "30"}),
        ("at 3pm", True, {"3", "15"}),
        ("at 15:00", True, {"15", "3"}),
        ("the 3rd of May 2024", False, {"3", "2024"}),
        ("03/05/2024", False, {"3", "5", "2024"}),
        ("a 7-year-old", False, {"7"}),
        ("2.5 hours", False, {"2.5"}),
        ("no one came, one of them left", False, set()),
        ("no one came", True, {"1"}),
        ("one o'clock", False, {"1"}),
        ("the first time", False, set()),
        ("the first of March", False, {"1"}),
        ("twice a week", True, {"2"}),
        ("[PERSON_12] and [DATE_3]", False, set()),
    ],
)
def test_numbers(text, generous, expected):
    assert numbers(text, generous=generous) == expected


def test_quote_normalisation():
    assert quote_tokens("I DON'T, um, wanna go\u2026") == ["i", "do", "not", "want", "to", "go"]
    assert quote_tokens("I\u2019m twelve [PERSON_1]") == ["i", "am", "12", "[person_1]"]


@pytest.mark.models
def test_spacy_lemmas_can_add_support():
    """With a loaded spaCy pipeline the content check also compares lemmas."""
    spacy = pytest.importorskip("spacy")
    model = Path(__file__).resolve().parent.parent / "var" / "models" / "en_core_web_sm-3.8.0"
    if not (model / "config.cfg").is_file():
        pytest.skip("en_core_web_sm-3.8.0 is not installed under var/models")
    nlp = spacy.load(model, exclude=["ner", "parser"])
    statement = st("[PERSON_1] said she has two brothers and a sister.", "s0002")
    verified, report = verify_note(note_of(statement), TRANSCRIPT, nlp=nlp)
    assert verified.sections[0].statements[0].flags == ()
    assert report.results[0].content_support == 1.0
