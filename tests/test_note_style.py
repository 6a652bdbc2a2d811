"""The note style (templates v5): what code keeps of each turn, who said it, actions as rows,
the header, and a real draft with the test model that is a note, not the transcript."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.domain import (
    AgreedAction,
    RedactedSegment,
    RedactedTranscript,
    Statement,
    StatementKind,
)
from assistant.drafting.actions import action_row, header, when
from assistant.drafting.selection import is_phatic, select, sentences
from assistant.notes.body import NoteBody
from assistant.notes.render import render_markdown, render_text
from assistant.speakers import SpeakerRole, attributed, role_of
from tests.conftest import REPO


def seg(i: int, speaker: str | None, text: str) -> RedactedSegment:
    return RedactedSegment(
        id=f"s{i:04d}", start=float(i), end=float(i) + 1, text=text, speaker=speaker
    )


VISIT = [
    seg(
        1,
        "Social worker",
        "Hiya [PERSON_1], thanks for having me. So this is our child in "
        "need visit, to see how the plan's going. Is it okay to record?",
    ),
    seg(2, "Mum", "Yeah, that's fine, love. Come in."),
    seg(3, "Social worker", "How has he been sleeping?"),
    seg(
        4,
        "Mum",
        "Honestly, better. He sleeps through most nights now. We had one bad night "
        "last week when the neighbours were shouting.",
    ),
    seg(5, "Social worker", "Can I have a chat with [PERSON_2] on his own?"),
    seg(6, "Mum", "Yes."),
    seg(7, "Child", "I like my new bed. It's got a rocket on it. Like a real one."),
    seg(8, "Social worker", "Do you feel safe at home?"),
    seg(9, "Child", "Yes."),
    seg(
        10,
        "Social worker",
        "Thanks. I can see the kitchen is clean and there is food in the fridge.",
    ),
    seg(
        11,
        "Social worker",
        "I'll ring the school by Friday about the bus. I'll come back in three weeks.",
    ),
    seg(12, "Mum", "Thanks, [PERSON_3]. Bye."),
]


def test_sentences_are_verbatim_pieces():
    text = "Mr Hopkins has a timetable. I like knowing! Do you? Yes… fine"
    parts = sentences(text)
    assert parts == ["Mr Hopkins has a timetable.", "I like knowing!", "Do you?", "Yes…", "fine"]
    assert all(p in text for p in parts)


@pytest.mark.parametrize(
    "text",
    [
        "Yeah, that's fine, love.",
        "Thanks, [PERSON_3].",
        "Hiya!",
        "Okay, brilliant.",
        "Bye.",
        "It's [EMAIL_1].",
    ],
)
def test_greetings_thanks_and_identifier_only_sentences_are_phatic(text):
    assert is_phatic(text)


@pytest.mark.parametrize("text", ["He sleeps through most nights now.", "I miss Dad."])
def test_sentences_that_say_something_are_not_phatic(text):
    assert not is_phatic(text)


def test_select_keeps_what_carries_something_and_leaves_the_rest():
    pieces = select(VISIT)
    kept = {p.evidence: p for p in pieces}
    said = " ".join(p.text for p in pieces)
    # small talk, a question about the recording and the goodbye are left out
    assert "Hiya" not in said and "Come in" not in said and "Bye" not in said
    assert "record" not in said
    # the purpose, the family's account and the child's words are kept verbatim
    assert kept[("s0001",)].text == (
        "So this is our child in need visit, to see how the plan's going."
    )
    assert "purpose" in kept[("s0001",)].cues
    # an answer keeps the question it answers, each in quotation marks with its speaker
    answer = kept[("s0003", "s0004")]
    assert answer.text.startswith(
        "Social worker: “How has he been sleeping?” Mum: “Honestly, better. He sleeps through"
    )
    assert answer.words.startswith("Honestly, better.") and "exchange" in answer.cues
    assert kept[("s0007",)].text == "I like my new bed. It's got a rocket on it. Like a real one."
    # a bare "Yes." is kept only with the question it answers
    assert kept[("s0008", "s0009")].text == (
        "Social worker: “Do you feel safe at home?” Child: “Yes.”"
    )
    assert kept[("s0008", "s0009")].role is SpeakerRole.CHILD
    # the worker's observation and commitments are kept, tagged
    assert "observed" in kept[("s0010",)].cues
    assert kept[("s0010",)].text.startswith("I can see the kitchen")
    assert {"commitment", "next_visit"} <= kept[("s0011",)].cues
    every = sum(len(s.text.split()) for s in VISIT)
    assert sum(len(p.text.split()) for p in pieces) < every


def test_a_repeated_sentence_is_kept_once():
    pieces = select(
        [
            seg(1, "Mum", "He has been sleeping much better since the new bed."),
            seg(2, "Social worker", "That's good."),
            seg(3, "Mum", "Yeah he has been sleeping much better since the new bed."),
        ]
    )
    assert [p.evidence for p in pieces] == [("s0001",)]


def test_roles_and_attribution_come_from_the_label():
    assert role_of("Mum") is SpeakerRole.PARENT
    assert role_of("Young person") is SpeakerRole.CHILD
    assert role_of("Parent 2") is SpeakerRole.PARENT
    assert role_of("Foster carer") is SpeakerRole.CARER
    assert role_of("S3") is SpeakerRole.UNKNOWN
    assert role_of(None) is SpeakerRole.UNKNOWN
    assert attributed("Child") == "The child"
    assert attributed("Social worker") == "The social worker"
    assert attributed("Mum") == "Mum"
    assert attributed(None) == "Someone"


def test_actions_are_rows_of_who_what_and_by_when():
    row = action_row("I'll ring the school by Friday about the bus.", "Social worker", VISIT, 10)
    assert row == AgreedAction(
        who="The social worker",
        what="I'll ring the school by Friday about the bus.",
        by="by Friday",
    )
    said_to = action_row("Can you book the dentist?", "Social worker", VISIT, 1)
    assert said_to.who == "Mum"  # "you": the person the worker was talking to
    assert when("We'll meet in three weeks.") == "in three weeks"
    assert when("We'll sort it out.") is None


def test_the_header_is_found_in_code_with_evidence():
    fields = {h.key: h for h in header(VISIT)}
    assert fields["present"].value == "The social worker, Mum, the child"
    assert fields["present"].evidence == ("s0001", "s0002", "s0007")
    assert fields["child_seen"].value.startswith("Yes") and fields["child_seen"].evidence
    assert fields["seen_alone"].evidence == ("s0005",)
    assert fields["next_visit"].value.startswith("in three weeks")
    no_child = {h.key: h for h in header(VISIT[:4])}
    assert no_child["child_seen"].value.startswith("Not heard")
    assert "seen_alone" not in no_child


def test_a_note_body_renders_its_header_attribution_and_rows_not_reprs():
    body = NoteBody.from_json(
        {
            "header": [
                {
                    "key": "present",
                    "title": "Who spoke at the visit",
                    "value": "The social worker, Mum",
                    "evidence": ["s0001", "s0002"],
                }
            ],
            "sections": [
                {
                    "key": "worries",
                    "title": "Worries",
                    "statements": [
                        Statement(
                            text="He wets the bed.",
                            kind="direct_quote",
                            speaker="Mum",
                            evidence=("s0004",),
                        ).model_dump(mode="json")
                    ],
                },
                {
                    "key": "actions",
                    "title": "Agreed actions",
                    "statements": [
                        Statement(
                            text="I'll ring the school by Friday.",
                            kind="agreed_action",
                            speaker="Social worker",
                            evidence=("s0011",),
                            action=AgreedAction(
                                who="The social worker",
                                what="I'll ring the school by Friday.",
                                by="by Friday",
                            ),
                        ).model_dump(mode="json")
                    ],
                },
            ],
        }
    )
    meta = {
        "visit_type": "child_in_need",
        "model": {"name": "qwen", "sha256": "ab" * 32},
        "prompt_sha256": "cd" * 32,
        "approved_at": None,
    }
    md = render_markdown(body, title="Visit record", meta=meta)
    assert "- **Visit type:** Child in need" in md
    assert "- **Who spoke at the visit:** The social worker, Mum [s0001, s0002]" in md
    assert "- Mum said: “He wets the bed.” [s0004]" in md
    assert "- The social worker: I'll ring the school by Friday. — when: by Friday [s0011]" in md
    head, footer = md.split("## Provenance")
    assert "sha256" not in head and "{" not in md and "None" not in md
    assert "qwen (sha256 " in footer
    text = render_text(body, title="Visit record", meta=meta)
    assert "Mum said: “He wets the bed.” [s0004]" in text and "Provenance\n----------" in text


def test_old_bodies_without_header_or_action_read_back_unchanged():
    old = {
        "sections": [
            {
                "key": "k",
                "title": "T",
                "statements": [
                    {
                        "text": "A.",
                        "kind": "reported",
                        "speaker": None,
                        "evidence": ["s0001"],
                        "flags": [],
                    }
                ],
            }
        ]
    }
    body = NoteBody.from_json(old)
    assert body.header == () and body.statements()[0].action is None


def test_a_draft_with_the_test_model_is_a_note_not_the_transcript(engines):
    """End to end on the real test model: redaction, the note style (v6), review."""
    from assistant.pipeline import draft_note

    transcript = RedactedTranscript(
        segments=tuple(VISIT), language="en", duration_s=12.0, entities=(), config_hash="0" * 64
    )
    note = draft_note(engines, transcript, template="visit_note")
    assert note.provenance.template_version == "v6"
    sections = {s.key: s for s in note.sections}
    child = sections["child_voice"].statements
    assert child and all(st.speaker == "Child" or st.speaker is None for st in child)
    assert any(st.action and st.action.by == "by Friday" for st in sections["actions"].statements)
    assert {h.key for h in note.header} >= {"present", "child_seen", "next_visit"}
    words = sum(len(st.text.split()) for st in note.all_statements())
    assert words < sum(len(s.text.split()) for s in VISIT)
    assert note.review is not None and note.review.verification["unsupported"] == 0


def test_the_childs_questions_are_kept_and_an_echo_is_not_a_repeat():
    pieces = select(
        [
            seg(1, "Social worker", "Do you feel safe at home?"),
            seg(2, "Child", "Yes. Honestly. I feel safe. When can I go home to Mummy?"),
        ]
    )
    # the child's "I feel safe." echoes the worker's words: it is the child's answer, kept
    assert [p.words for p in pieces] == ["Yes. Honestly. I feel safe. When can I go home to Mummy?"]


def test_the_workers_summary_of_what_they_were_told_is_kept_as_reported():
    pieces = select(
        [
            seg(1, "Social worker", "He told me he's smoked some cannabis when he's out. Okay?"),
            seg(2, "Dad", "I didn't know that."),
        ]
    )
    assert [(p.text, "reported" in p.cues) for p in pieces][0] == (
        "He told me he's smoked some cannabis when he's out.",
        True,
    )


def test_a_family_members_own_commitment_is_a_row_apart_from_their_account():
    pieces = select(
        [
            seg(1, "Social worker", "Has the dentist been in touch?"),
            seg(2, "Mum", "The dentist never rang back. I'll ring them in the morning."),
        ]
    )
    assert [(p.words, "commitment" in p.cues) for p in pieces] == [
        ("The dentist never rang back.", False),
        ("I'll ring them in the morning.", True),
    ]


def test_one_voice_for_the_whole_recording_keeps_what_it_says():
    """A dictation, or a recording whose speakers were not told apart: one label throughout.
    Its role cannot say which words are the record, so every sentence that says something is
    kept (not only the worker's commitments)."""
    pieces = select(
        [
            seg(1, "Social worker", "How are things at home? Better, he is sleeping well."),
            seg(2, "Social worker", "Sometimes when my dad does not come on Saturday, I miss him."),
        ]
    )
    assert [p.text for p in pieces] == [
        "Better, he is sleeping well.",
        "Sometimes when my dad does not come on Saturday, I miss him.",
    ]


def test_one_unknown_voice_is_attributed_to_nobody_and_the_header_says_why(engines):
    """A recording where separation found one voice (role unknown, ``S1``): no statement is
    the social worker's, no row names the worker, and the header says who said what is not
    marked, so the reader knows before reading the quotes."""
    from assistant.pipeline import draft_note

    one = tuple(s.model_copy(update={"speaker": "S1"}) for s in VISIT)
    transcript = RedactedTranscript(
        segments=one, language="en", duration_s=12.0, entities=(), config_hash="0" * 64
    )
    note = draft_note(engines, transcript, template="visit_note")
    said = {st.speaker for st in note.all_statements()}
    assert "Social worker" not in said and said <= {"S1", None}
    rows = [st.action for st in note.all_statements() if st.action is not None]
    assert all("social worker" not in a.who.lower() for a in rows)
    present = {h.key: h.value for h in note.header}["present"]
    assert present.startswith("One voice heard (S1)") and "not marked" in present
    assert "child_seen" not in {h.key for h in note.header}  # no role says the child spoke
    text = render_text(NoteBody.from_draft(note), title="Visit record", meta={})
    assert "S1 said: “" in text and "social worker said" not in text.lower()


def test_a_voice_of_unknown_role_gives_the_next_visit_only_in_the_visitors_words():
    """One voice of unknown role may be a parent's: "go back in the summer" (the dentist) is
    not the next visit; "I will come back in four weeks" is, even said earlier."""
    fields = header(
        [
            seg(1, "S1", "I will come back in four weeks on the 12th of March."),
            seg(2, "S1", "He saw the dentist in January, he needs to go back in the summer."),
        ]
    )
    nxt = {h.key: h for h in fields}["next_visit"]
    assert nxt.value.startswith("in four weeks") and nxt.evidence == ("s0001",)
    # a known practitioner keeps the wider rule
    worker = header([seg(1, "Social worker", "See you next week, then.")])
    assert {h.key for h in worker} >= {"next_visit"}


# --- a council's options: a length budget, prose statements --------------------------------
LONG = [
    seg(1, "Social worker", "How have things been since I last came?"),
    seg(
        2,
        "Mum",
        "It's been up and down. The weather's been awful, we've hardly been out. "
        "The telly's broken as well.",
    ),
    seg(3, "Social worker", "How's school?"),
    seg(
        4,
        "Mum",
        "He was off school four days in November with his chest. "
        "The school nurse has seen him twice.",
    ),
    seg(5, "Social worker", "And how are you doing yourself?"),
    seg(
        6,
        "Mum",
        "I've been drinking more than I should, if I'm honest, mostly at weekends. "
        "The neighbours are nice enough.",
    ),
    seg(7, "Child", "I like my new bed. It's got a rocket on it."),
    seg(8, "Social worker", "I'll ring the school by Friday about his attendance."),
    seg(9, "Social worker", "Anything else on your mind?"),
    seg(10, "Mum", "I'm worried about his sleep. Honestly. He's scared of the dark."),
]


def council_version(tmp_path: Path, extra: str, files: dict[str, str] | None = None) -> Path:
    """A council's prompts folder: the released visit_note v5 copied as v6 with ``extra``
    added to its template.yaml (the way docs/configuration.md says to do it)."""
    from assistant.drafting.templates import PROMPTS_DIR

    root = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR / "visit_note" / "v5", root / "visit_note" / "v6")
    yaml_file = root / "visit_note" / "v6" / "template.yaml"
    text = yaml_file.read_text(encoding="utf-8").replace("version: v5", "version: v6")
    text = text.replace(
        "  - key: worries\n    fill: family\n",
        "  - key: worries\n    fill: family\n    keep: true\n",
    )
    yaml_file.write_text(text.replace("sort: words\n", "sort: words\n" + extra), encoding="utf-8")
    for name, body in (files or {}).items():
        (root / "visit_note" / "v6" / name).write_text(body, encoding="utf-8")
    return root


def _words(pieces) -> int:
    return sum(len(p.text.split()) for p in pieces)


@pytest.fixture
def protect(tmp_path):
    from assistant.drafting.styles.note import protected
    from assistant.drafting.templates import load_template

    template = load_template("visit_note", root=council_version(tmp_path, "budget: 0.3\n"))
    assert template.version == "v6" and template.budget == 0.3
    return protected(template)


def test_a_budget_ranks_the_familys_turns_and_keeps_what_a_note_must(protect):
    every = select(LONG)
    short = select(LONG, budget=0.75, protect=protect)
    assert _words(short) < _words(every)
    said = " ".join(p.text for p in short)
    # what a note keeps whatever the budget: the child's words, the worker's action, and the
    # turns that use the words of the template's worries (drinking; worried, scared)
    tiny = " ".join(p.text for p in select(LONG, budget=0.01, protect=protect))
    for must in (
        "I like my new bed.",
        "I'll ring the school by Friday",
        "I've been drinking",
        "He's scared of the dark.",
    ):
        assert must in said and must in tiny
    # of the family's other turns, the one that says most for its length comes first: the
    # days off school (numbers, rare words), not the weather; tiny keeps neither
    assert "He was off school four days in November with his chest." in said
    assert "The weather's been awful" not in said
    assert "off school" not in tiny


def test_sentences_left_out_between_kept_ones_are_marked_with_an_ellipsis(protect):
    short = select(LONG, budget=0.3, protect=protect)
    assert "I'm worried about his sleep. … He's scared of the dark." in [p.words for p in short]
    joined = [p for p in short if "…" in p.text]
    assert joined, [p.text for p in short]
    for piece in joined:
        source = next(s for s in LONG if s.id == piece.evidence[-1]).text
        for part in piece.words.split("…"):
            assert part.strip() in source  # each part verbatim
    again = select(LONG, budget=0.3, protect=protect)
    assert [p.text for p in again] == [p.text for p in short]  # same input, same note


def test_an_ellipsis_quote_passes_verification_each_part_found():
    from assistant.review.verify import check_statement

    st = Statement(
        text="I'm worried about his sleep. … He's scared of the dark.",
        kind=StatementKind.DIRECT_QUOTE,
        speaker="Mum",
        evidence=("s0010",),
    )
    assert check_statement(st, LONG)[1].supported
    wrong = st.model_copy(update={"text": "I'm worried about his sleep. … He's scared of Dad."})
    assert not check_statement(wrong, LONG)[1].supported


def test_no_budget_keeps_every_sentence_that_carries_something():
    """The released templates (v5) have no budget: no ellipsis, every kept sentence."""
    from assistant.drafting.templates import load_template

    assert load_template("visit_note").budget is None
    assert load_template("visit_note").prose is False
    assert all("…" not in p.text for p in select(LONG))


@pytest.mark.parametrize(
    "extra, files, message",
    [
        ("budget: 0\n", {}, "budget"),
        ("budget: 1.5\n", {}, "budget"),
        ("prose: true\n", {}, "prose.md"),
    ],
    ids=["budget-zero", "budget-over-one", "prose-without-instruction"],
)
def test_a_bad_budget_or_prose_setting_is_refused_at_load(tmp_path, extra, files, message):
    from assistant.drafting.templates import load_template
    from assistant.errors import ConfigurationError

    root = council_version(tmp_path, extra, files)
    with pytest.raises((ConfigurationError, ValueError)) as info:
        load_template("visit_note", root=root)
    assert message in str(info.value)


# prose: each check, one case
MUM = Statement(
    text="He was off school four days in November with his chest. The school nurse has seen "
    "him twice.",
    kind=StatementKind.DIRECT_QUOTE,
    speaker="Mum",
    evidence=("s0004",),
)


@pytest.mark.parametrize(
    "sentence, reason",
    [
        ("Mum said he was off school four days in November with his chest.", None),
        ("The child said he was off school four days in November.", "attribution"),
        ("Mum said I was off school four days in November.", "first_person"),
        ("Mum said he was off school five days in November.", "verification:number"),
        ("Mum said he was never off school in November.", "verification:negation"),
        ("Mum said he was off school because he was hit.", "safeguarding_category"),
        (
            "Mum said he was off school four days in November with his chest and the school "
            "nurse has seen him twice, which she was glad about and relieved.",
            "not_shorter",
        ),
        ("", "attribution"),
    ],
    ids=[
        "kept",
        "attribution",
        "first-person",
        "number",
        "negation",
        "category",
        "longer",
        "empty",
    ],
)
def test_a_prose_sentence_is_used_only_when_every_check_passes(sentence, reason):
    from assistant.drafting import prose

    out = prose.checked(sentence, MUM, LONG, MUM.text)
    assert out.accepted is (reason is None)
    if reason is None:
        assert out.statement.text == sentence and out.statement.kind is StatementKind.REPORTED
        assert prose.FLAG_PROSE_REPLACED not in out.statement.flags
    else:
        assert out.reason is not None and out.reason.startswith(reason)
        # never dropped: the verbatim words take its place, flagged for the practitioner
        assert out.statement.text == MUM.text
        assert out.statement.flags == (prose.FLAG_PROSE_REPLACED,)


def test_prose_with_the_real_test_model_is_checked_and_never_loses_words(engines, tmp_path):
    """End to end on the real (tiny) test model with prose on: every family statement is
    either a sentence that passed every check or the verbatim words, flagged."""
    from assistant.drafting.drafter import Drafter
    from assistant.drafting.prose import FLAG_PROSE_REPLACED
    from assistant.drafting.templates import load_template
    from assistant.review.run import review_note

    instruction = (REPO / "docs" / "templates" / "prose.md").read_text(encoding="utf-8")
    root = council_version(tmp_path, "prose: true\n", {"prose.md": instruction})
    template = load_template("visit_note", root=root)
    assert template.prose and template.prose_template == instruction
    drafter = Drafter(
        engines.llm, template, model=engines.models.llm, max_tokens=512, seed=0, chunk_tokens=None
    )
    transcript = RedactedTranscript(
        segments=tuple(LONG), language="en", duration_s=8.0, entities=(), config_hash="0" * 64
    )
    note = review_note(drafter.draft(transcript), transcript, lexicon=engines.lexicon)
    family = [
        st
        for key in ("worries", "working_well", "parent_carer_views")
        for section in note.sections
        if section.key == key
        for st in section.statements
        if st.speaker  # an exchange (a question and its answer) is kept as said
    ]
    assert family
    for st in family:
        if FLAG_PROSE_REPLACED in st.flags:
            assert st.kind is StatementKind.DIRECT_QUOTE  # the verbatim words
        else:
            assert st.kind is StatementKind.REPORTED and st.text.startswith("Mum ")
        assert not [f for f in st.flags if f.startswith("unsupported:")]
    again = review_note(drafter.draft(transcript), transcript, lexicon=engines.lexicon)
    assert again.sections == note.sections  # same input and settings, same note


def test_a_request_is_an_action_for_the_person_asked_and_a_question_is_not():
    visit = [
        seg(1, "Social worker", "Are you still in touch with the domestic abuse worker?"),
        seg(2, "Mum", "Not really, I missed the last two."),
        seg(3, "Social worker", "Can you tell me about school? Could you ring her by Wednesday?"),
        seg(4, "Mum", "Yeah, I will."),
        seg(5, "Social worker", "I'd like you to make a GP appointment for her by Friday."),
    ]
    pieces = {p.text: p for p in select(visit)}
    assert "Could you ring her by Wednesday?" in pieces
    assert "Can you tell me about school?" not in " ".join(pieces)
    # her answer is kept with the request it answers: the note shows she agreed
    assert "Social worker: “Could you ring her by Wednesday?” Mum: “Yeah, I will.”" in pieces
    row = action_row("Could you ring her by Wednesday?", "Social worker", visit, 2)
    assert (row.who, row.by) == ("Mum", "by Wednesday")
    row = action_row(pieces[visit[4].text].text, "Social worker", visit, 4)
    assert (row.who, row.by) == ("Mum", "by Friday")


@pytest.mark.parametrize(
    "text, by",
    [
        (
            "I'll come back next Thursday, after school, about half three.",
            "next Thursday, after school, about half three",
        ),
        (
            "I'll come back after the school meeting to see how it's going.",
            "after the school meeting",
        ),
        ("Can you take her on Tuesday at three?", "on Tuesday at three"),
        ("I'll ring on Monday. Then we'll see in two weeks.", "in two weeks"),
        ("I'll send the form.", None),
    ],
)
def test_by_when_takes_the_time_said_with_what_was_said_just_before(text, by):
    assert when(text) == by


def test_the_practitioners_next_visit_is_a_visit_again_row():
    visit = [seg(1, "Social worker", "I'll come back in six weeks, after the annual review.")]
    row = action_row(visit[0].text, "Social worker", visit, 0)
    assert row.what == "Visit again" and row.by == "in six weeks, after the annual review"
    # a parent's "I'll come back" is their own words, not the next visit
    assert action_row("I'll come back in an hour.", "Mum", visit, 0).what.startswith("I'll come")


def test_a_safety_plan_step_is_an_action_for_the_person_told():
    visit = [
        seg(1, "Mum", "He said he might come round at the weekend."),
        seg(2, "Social worker", "If he turns up, you don't open the door and you ring 999."),
        seg(3, "Social worker", "If you like, I can sit here while you make the tea?"),
        seg(
            4,
            "Social worker",
            "If she has a fall that leaves a mark, it's worth letting the school know.",
        ),
    ]
    kept = {p.text: p for p in select(visit)}
    assert "commitment" in kept[visit[1].text].cues
    assert "commitment" in kept[visit[3].text].cues
    assert visit[2].text not in kept  # an offer put as a question, not a step of a plan
    row = action_row(visit[1].text, "Social worker", visit, 1)
    assert row.who == "Mum"


def test_telling_the_family_what_to_do_is_their_action_and_a_prompt_is_not():
    """ "Keep going to stay and play." told to Mum is Mum's row; "I'd also like you to …" is a
    request like "I'd like you to …"; "Take your time." and "Give me a minute." are the visit
    talking, not actions."""
    visit = [
        seg(1, "Mum", "He's saying more words now."),
        seg(2, "Practitioner", "Keep going to stay and play, and keep adding to the word list."),
        seg(3, "Practitioner", "Take your time."),
        seg(4, "Practitioner", "Give me a minute to write that down."),
        seg(5, "Practitioner", "I'd also like you to go and see the drug and alcohol service."),
        seg(6, "Practitioner", "I'm making an urgent referral today."),
    ]
    kept = {p.text: p for p in select(visit)}
    assert "commitment" in kept[visit[1].text].cues
    assert visit[2].text not in kept and visit[3].text not in kept
    assert "commitment" in kept[visit[4].text].cues
    assert "commitment" in kept[visit[5].text].cues
    assert action_row(visit[1].text, "Practitioner", visit, 1).who == "Mum"
    assert action_row(visit[4].text, "Practitioner", [visit[0], visit[4]], 1).who == "Mum"
    row = action_row(visit[5].text, "Practitioner", visit, 5)
    assert (row.who, row.what, row.by) == (
        "Practitioner",
        "I'm making an urgent referral today.",
        "today",
    )


@pytest.mark.parametrize(
    "text",
    [
        "Can I talk to Matas on his own?",
        "I'll see Esi on her own for a bit as usual.",
        "Shall we go to your room for a chat, just you and me?",
        "Could I have a chat with Hamza on his own for a few minutes?",
        "I spoke to Kyle alone in his room.",
        "Can I talk to him on my own for a bit?",
    ],
)
def test_the_practitioner_seeing_the_child_alone_is_the_seen_alone_field(text):
    segs = [seg(1, "Social worker", text)]
    fields = {h.key: h for h in header(segs)}
    verb = "asked" if text.endswith("?") else "said"
    assert fields["seen_alone"].value == f"The social worker {verb}: “{text}”"


@pytest.mark.parametrize(
    "text",
    [
        "How are you doing, in yourself? It's a lot on your own.",  # to a single parent
        "How often is Matas on his own overnight?",  # a child left alone
        "Has he talked to you on your own, outside the server?",  # someone else's contact
        "You can be seen on your own at your age.",
        "No drinking when you're on your own with the children.",
        "The plan is that Musa is not left alone with either of you.",
    ],
)
def test_other_talk_of_being_alone_is_not_the_child_seen_alone(text):
    fields = {h.key: h for h in header([seg(1, "Social worker", text)])}
    assert "seen_alone" not in fields


def test_no_worries_is_a_welcome_not_a_worry():
    from assistant.drafting.styles.note import by_words
    from assistant.drafting.templates import load_template

    family = load_template("visit_note").filled_by("family")
    welcome = by_words("Yeah, no worries, come in, excuse the state of it.", family)
    assert welcome is not None and welcome.key != "worries"
    worry = by_words("I'm worried about his sleep, no worries otherwise.", family)
    assert worry is not None and worry.key == "worries"


def test_the_child_saying_it_again_is_kept_and_so_is_their_last_word():
    """A child's repetition is emphasis, and "Ever." ends what they said (cin-003, s47-003:
    "Nobody listens to lads like me." was dropped as a repeat, "Ever." as small talk)."""
    pieces = select(
        [
            seg(1, "Young person", "He says lads like me get ignored and nobody listens."),
            seg(2, "Social worker", "Do you feel like nobody listens to you?"),
            seg(3, "Young person", "Nobody listens to lads like me. Teachers don't."),
            seg(4, "Social worker", "How does that sound?"),
            seg(5, "Young person", "Good. I just want him gone. I don't want him back. Ever."),
        ]
    )
    said = " ".join(p.text for p in pieces)
    assert "Nobody listens to lads like me. Teachers don't." in said
    assert "I just want him gone. I don't want him back. Ever." in said


def test_a_yes_to_where_the_worker_sits_and_an_arrival_are_not_the_record():
    pieces = select(
        [
            seg(1, "Mum", "The social worker's coming up."),
            seg(2, "Social worker", "Can I sit on the end of the bed?"),
            seg(3, "Young person", "Yeah."),
            seg(4, "Social worker", "Who do you sit with at lunch?"),
            seg(5, "Young person", "Nobody."),
        ]
    )
    assert [p.evidence for p in pieces] == [("s0004", "s0005")]


def test_a_short_yes_to_a_second_question_is_an_answer_not_a_repeat():
    """eh-003: Mum's "Yes, please." to "Would you like me to come with you?" was dropped as a
    repeat of her "Please, sit." at the door, leaving a bare "Thank you." in her views."""
    pieces = select(
        [
            seg(1, "Mum", "Please, sit. He works nights."),
            seg(2, "Practitioner", "Would you like me to set that up and come with you?"),
            seg(3, "Mum", "Yes, please. Thank you."),
        ]
    )
    texts = [p.text for p in pieces]
    assert (
        "Practitioner: “Would you like me to set that up and come with you?” "
        "Mum: “Yes, please. Thank you.”"
    ) in texts


@pytest.mark.parametrize(
    "text",
    [
        "[PERSON_3], say hello to Auntie [PERSON_2].",
        "[PERSON_3], beta, come and talk to [PERSON_2].",
        "[PERSON_3], go with [PERSON_2] to the kitchen.",
        "[PERSON_4], bring the lady some water.",
        "Sit down there, I'll put the kettle on.",
        "Mind how you go in that rain.",
        "Thank you, Auntie [PERSON_2].",
        "Yeah, that's grand, go ahead.",
        "[PERSON_2], for God's sake.",
        "Born on the [DATE_OF_BIRTH_1].",
        "My mobile is [PHONE_2].",
        "And the postcode is [UK_POSTCODE_1]?",
    ],
)
def test_what_the_household_says_as_hosts_and_details_for_the_record_are_not_kept(text):
    """Read in the drafts as a user would (notes suite, 2026-12-07): each of these sat in
    "Parents' and carers' views"."""
    assert is_phatic(text)


@pytest.mark.parametrize(
    "text",
    [
        "Talk to his teacher, she'll tell you.",
        "Bring him back by six or I ring the police.",
        "He doesn't have the address.",
        "My mobile was taken by him.",
        "Mind the trampoline, he's had it moved indoors for the winter.",
    ],
)
def test_a_family_members_account_that_names_such_things_is_kept(text):
    assert not is_phatic(text)


def test_a_confirmed_address_is_not_an_exchange_in_the_note():
    pieces = select(
        [
            seg(1, "Social worker", "And the postcode is [UK_POSTCODE_1]?"),
            seg(2, "Grandma", "Yes."),
            seg(3, "Social worker", "It's [ADDRESS_1], isn't it?"),
            seg(4, "Mum", "Yes, [ADDRESS_1]."),
        ]
    )
    assert pieces == []


@pytest.mark.parametrize(
    "text",
    [
        "I'm glad you've told me.",
        "I'll write that down as what you've told me.",
        "[PERSON_1], [PERSON_3]'s told me some things.",
        "I can hear how worried and frustrated you are.",
    ],
)
def test_the_workers_empathy_and_empty_reports_are_not_the_record(text):
    assert select([seg(1, "Social worker", text), seg(2, "Mum", "Okay.")]) == []


def test_the_workers_report_of_what_was_said_and_what_they_heard_are_kept():
    pieces = select(
        [
            seg(1, "Social worker", "She told me she's worried about you."),
            seg(2, "Social worker", "I could hear shouting upstairs."),
        ]
    )
    assert [sorted(p.cues & {"observed", "reported"}) for p in pieces] == [
        ["reported"],
        ["observed"],
    ]


def test_what_another_professional_said_is_kept_as_reported():
    """cp-003: the paediatrician's view of the bruise, told to the parents by the worker, was
    left out of the note (a critical fact)."""
    pieces = select(
        [
            seg(
                1,
                "Social worker",
                "I understand. The paediatrician at [LOCATION_2] said a bruise like that, on a "
                "baby who can't move about yet, isn't usually caused by a bouncer.",
            ),
            seg(2, "Mum", "We would never hurt him."),
        ]
    )
    assert "reported" in pieces[0].cues
    assert pieces[0].text.startswith("The paediatrician at [LOCATION_2] said a bruise")


def test_a_date_asked_for_or_a_school_confirmed_is_still_the_record():
    pieces = select(
        [
            seg(1, "Social worker", "Have you got a date for that?"),
            seg(2, "Mum", "It's next Tuesday at ten o'clock."),
            seg(3, "Social worker", "Is he still at [SCHOOL_1]?"),
            seg(4, "Auntie", "He is."),
        ]
    )
    assert [p.evidence for p in pieces] == [("s0001", "s0002"), ("s0003", "s0004")]


@pytest.mark.parametrize("name", ["visit_note", "cin_visit", "cp_statutory_visit", "lac_visit"])
def test_safeguarding_language_is_sorted_into_worries_not_what_is_working_well(name):
    """cin-004 from audio: the worker's "She's told me she has thought … everyone would be
    better off without her." was filed under "What is working well" for its "better"."""
    from assistant.drafting.styles.note import by_words
    from assistant.drafting.templates import load_template

    family = load_template(name, "v6").filled_by("family")
    text = "She's told me she has thought everyone would be better off without her."
    assert by_words(text, family).key == "worries"
    assert by_words("He's settled, he's happy with us.", family).key != "worries"


@pytest.mark.parametrize(
    "text",
    [
        "Hello, I'm the social worker.",
        "Hi, my name is [PERSON_1], I'm the social worker from [ORGANIZATION_1].",
        "Good morning, I'm [PERSON_1] from children's services, nice to meet you.",
        "Hiya, I'm [PERSON_1] and I'm [PERSON_2]'s social worker.",
    ],
)
def test_the_visitor_saying_who_they_are_is_not_kept(text):
    assert is_phatic(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm the social worker and I'm worried about [PERSON_2].",
        "Hi, I'm [PERSON_1], the social worker, here today to see how the plan's going.",
        "I'm [PERSON_2]'s mum.",
    ],
)
def test_an_introduction_that_goes_on_to_say_something_is_kept(text):
    assert not is_phatic(text)


def test_one_voice_leaves_out_the_workers_introduction():
    """A dictation, or speakers not told apart: the worker's "Hello, I'm the social worker."
    sat in "Parents' and carers' views"."""
    pieces = select(
        [
            seg(1, "S1", "Hello, I'm the social worker."),
            seg(2, "S1", "Hi, my name is [PERSON_1], I'm the social worker from [ORGANIZATION_1]."),
            seg(3, "S1", "I'm the social worker and I'm worried about the bruise on his arm."),
            seg(4, "S1", "He sleeps through most nights now."),
        ]
    )
    assert [p.text for p in pieces] == [
        "I'm the social worker and I'm worried about the bruise on his arm.",
        "He sleeps through most nights now.",
    ]
