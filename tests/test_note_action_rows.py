"""What is not an agreed action (issue 24, action-row precision): the practitioner's own record
of the visit, words about the conversation or the moment, seeing the child alone, an agreement
referred back to, a question reported, "I can't", goodbye; and another practitioner's
commitments as a row each. Each test names the phrasing it stands for; none is a scenario's
sentence copied."""

from __future__ import annotations

import pytest

from assistant.domain import ModelRef, RedactedSegment, RedactedTranscript
from assistant.drafting.actions import action_row, header, visits
from assistant.drafting.drafter import Drafter
from assistant.drafting.selection import select
from assistant.drafting.templates import load_template


def seg(i: int, speaker: str | None, text: str) -> RedactedSegment:
    return RedactedSegment(
        id=f"s{i:04d}", start=float(i), end=float(i) + 1, text=text, speaker=speaker
    )


def rows(visit: list[RedactedSegment]) -> list[tuple[str, str, str | None]]:
    """(who, what, by) of every piece code keeps as a row, as the note style writes it."""
    index = {s.id: i for i, s in enumerate(visit)}
    out = []
    for p in select(visit):
        placed = "commitment" in p.cues or ("next_visit" in p.cues and visits(p.text))
        if placed and "exchange" not in p.cues:
            r = action_row(p.text, p.speaker, visit, index[p.evidence[-1]], told="listed" in p.cues)
            out.append((r.who, r.what, r.by))
    return out


def said_by_worker(text: str) -> list[tuple[str, str, str | None]]:
    return rows(
        [
            seg(1, "Social worker", "How have the mornings been?"),
            seg(2, "Mum", "Better since the new alarm, to be honest."),
            seg(3, "Social worker", text),
            seg(4, "Mum", "Okay."),
        ]
    )


class NoCallLLM:
    def create_chat_completion(self, messages, **kwargs):
        raise AssertionError("a sort: words template asked the model")


def _note(segments: list[RedactedSegment], template: str = "visit_note"):
    transcript = RedactedTranscript(
        segments=tuple(segments), language="en", duration_s=9.0, entities=(), config_hash="0" * 64
    )
    model = ModelRef(name="none", sha256="0" * 64)
    return Drafter(NoCallLLM(), load_template(template), model=model).draft(transcript)


@pytest.mark.parametrize(
    "text",
    [
        "I'll record our chat so I can write my notes up properly.",
        "I'm going to write that down exactly as you told me.",
        "I'll make sure that's written down the way you put it.",
        "Thanks, I'll update that.",
    ],
)
def test_the_practitioners_own_record_of_the_visit_is_not_an_action(text):
    assert said_by_worker(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "I'll write down a safety plan with you before I go.",
        "I can help you write it down at the next visit.",
        "I'll write to the housing officer on Monday.",
        "I'll book an interpreter for the conference on Friday.",
    ],
)
def test_writing_that_is_an_action_stays_a_row(text):
    assert [what for _, what, _ in said_by_worker(text)] == [text]


def test_a_clause_about_the_record_is_cut_from_the_row():
    assert said_by_worker("I'll write that down and I'll take it to the panel on Friday.") == [
        ("The social worker", "I'll take it to the panel on Friday.", "on Friday")
    ]


def test_what_the_worker_writes_down_that_was_seen_is_kept_as_what_they_report():
    note = _note(
        [
            seg(1, "Social worker", "How has he been sleeping?"),
            seg(2, "Dad", "Not great, he's up late on his games."),
            seg(3, "Social worker", "I'm going to write down that the kitchen had no food in it."),
        ]
    )
    found = [
        (s.key, st.action) for s in note.sections for st in s.statements if "no food" in st.text
    ]
    assert found and all(action is None for _, action in found)
    assert "actions" not in [k for k, _ in found]


@pytest.mark.parametrize(
    "text",
    [
        "I'm going to be straight with you about the letter.",
        "I'm going to ask you some hard questions, because it matters.",
        "I'd like to start with how school has been.",
        "I want you to know none of this is your fault.",
        "You'll be fine, it's only a chat.",
        "If nothing changes it may go back to panel, and I'll always tell you what I think.",
        "This is Andreea, the interpreter, she'll interpret everything we both say.",
        "I'll interpret for Mum, so when I say I, that's her speaking.",
    ],
)
def test_words_about_the_conversation_are_not_actions(text):
    assert said_by_worker(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Yes, I'll do it now, she needs a bottle anyway.",
        "Sit yourself down, I'll put the kettle on.",
    ],
)
def test_a_family_members_now_in_the_visit_is_not_an_action(text):
    visit = [
        seg(1, "Social worker", "Thanks for letting me in."),
        seg(2, "Mum", text),
        seg(3, "Social worker", "I'll ring the nursery on Thursday."),
    ]
    assert [who for who, _, _ in rows(visit)] == ["The social worker"]


def test_now_with_another_time_said_is_still_an_action():
    text = "I'm going to ring the duty team now and ask for a meeting today."
    assert [by for _, _, by in said_by_worker(text)] == ["today"]


def test_seeing_the_child_alone_is_kept_but_not_a_row():
    visit = [
        seg(1, "Social worker", "I'd like to talk to [PERSON_2] on her own, if that's okay."),
        seg(2, "Mum", "Course, that is fine by me."),
        seg(3, "Child", "I like my new bike."),
    ]
    assert [who for who, _, _ in rows(visit)] == []
    note = _note(visit)
    found = [(s.key, st.action) for s in note.sections for st in s.statements if "own" in st.text]
    assert found == [("observations", None)]


def test_seeing_the_child_alone_on_a_day_said_is_an_action():
    assert [by for _, _, by in said_by_worker("I'll see her on her own at school on Friday.")] == [
        "on Friday"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for calling me straight away, that's exactly what we agreed.",
        "At the last review we agreed some things.",
        "He might try harder if it's something he's agreed to.",
    ],
)
def test_an_agreement_referred_back_to_is_not_an_action(text):
    assert said_by_worker(text) == []


def test_an_agreement_made_now_is_still_an_action():
    assert len(said_by_worker("He's agreed to ring the college this week.")) == 1


def test_a_question_reported_is_not_an_action():
    assert said_by_worker("She's worried about court and has asked if you or I can go.") == []


def test_i_cant_is_not_a_commitment():
    assert said_by_worker("I can't tell you more than that yet.") == []


def test_goodbye_is_neither_an_action_nor_the_next_visit():
    visit = [
        seg(1, "Social worker", "I'll come back in three weeks."),
        seg(2, "Mum", "That's fine."),
        seg(3, "Social worker", "Right, I'll see you next time."),
    ]
    assert rows(visit) == [("The social worker", "Visit again", "in three weeks")]
    nxt = [h.value for h in header(visit) if h.key == "next_visit"]
    assert nxt == ["in three weeks"]


def test_another_practitioners_two_commitments_are_a_row_each():
    """A residential key worker beside the social worker, as the author's are: each
    commitment its own row with its own by when."""
    visit = [
        seg(1, "Social worker", "Can staff keep a close eye on him this week?"),
        seg(
            2,
            "Key worker",
            "Yes. I'll check on him every hour tonight. I'll take him to the barber on Sunday.",
        ),
        seg(3, "Social worker", "Thank you. I'll ring the school on Monday."),
    ]
    assert rows(visit) == [
        ("Key worker", "I'll check on him every hour tonight.", "tonight"),
        ("Key worker", "I'll take him to the barber on Sunday.", "on Sunday"),
        ("The social worker", "I'll ring the school on Monday.", "on Monday"),
    ]


def test_a_voice_of_no_known_role_doing_something_in_the_visit_is_not_a_row():
    note = _note(
        [
            seg(1, "Social worker", "How has the week been for everyone?"),
            seg(2, "Lodger", "Busy. Sit down there, I'll put the kettle on."),
            seg(3, "Lodger", "I'll drive her to the dentist on Tuesday."),
            seg(4, "Social worker", "I'll ring the school on Friday."),
        ]
    )
    rows_by = [st.action.what for st in note.all_statements() if st.action is not None]
    assert not [w for w in rows_by if "kettle" in w]
    assert any("dentist" in w for w in rows_by)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (
            "I'd also like you to go and see the drug and alcohol service.",
            "I'd also like you to go and see the drug and alcohol service.",
        ),
        (
            "So, I'd like you to make a GP appointment for her by Friday.",
            "I'd like you to make a GP appointment for her by Friday.",
        ),
    ],
)
def test_a_request_row_keeps_who_asks(text, what):
    """cp-002, cp-005: the rows read "like you to make a GP appointment …"."""
    visit = [seg(1, "Social worker", text), seg(2, "Mum", "Okay.")]
    row = action_row(text, "Social worker", visit, 0)
    assert (row.who, row.what) == ("Mum", what)


def _section(note, key: str) -> list[str]:
    return [st.text for s in note.sections if s.key == key for st in s.statements]


def test_the_next_visit_offered_and_agreed_is_in_the_next_visit_section():
    """eh-004: Mum's "Yes, please." to "Shall I come back in four weeks …?" was filed under the
    parents' views, away from the next visit it agrees to."""
    note = _note(
        [
            seg(1, "Practitioner", "Shall I come back in four weeks, after the appointment?"),
            seg(2, "Mum", "Yes, please."),
        ]
    )
    assert any("Mum: “Yes, please.”" in t for t in _section(note, "next_visit"))
    assert not _section(note, "parent_carer_views")


def test_one_voice_saying_when_they_come_back_is_the_next_visit_not_an_action():
    """A recording of one voice (a dictation, or voices not told apart): the header named the
    next visit while its section read "Nothing recorded" and the row sat in the actions."""
    note = _note(
        [
            seg(1, "S1", "He told me he is hungry at bedtime."),
            seg(2, "S1", "I'll come back next Tuesday after school."),
        ]
    )
    assert _section(note, "next_visit") and not _section(note, "actions")
    assert {h.key: h.value for h in note.header}["next_visit"] == "next Tuesday after school"


@pytest.mark.parametrize(
    "text",
    [
        "I'd like to hear how things have been since my last visit.",
        "I'd like to understand what happened on Saturday.",
        "I'd like to talk to you about the plan.",
    ],
)
def test_what_the_worker_wants_from_the_conversation_is_not_an_action(text):
    """Hand walk: "I'd like to hear how things have been …" was an agreed action."""
    note = _note([seg(1, "Social worker", text), seg(2, "Mum", "Okay, yeah.")])
    assert not _section(note, "actions")


def test_what_the_worker_would_like_to_do_after_the_visit_is_still_an_action():
    note = _note(
        [seg(1, "Social worker", "I'd like to ask the school for a meeting."), seg(2, "Mum", "Ok.")]
    )
    assert _section(note, "actions") == ["I'd like to ask the school for a meeting."]


def test_an_answer_naming_a_time_is_not_the_next_visit():
    """Only the worker's offer to come back, answered, is filed under the next visit: "When is
    the hearing?" "Next week, on Tuesday." is not (its answer's "next week" is a cue of the
    answer's own)."""
    note = _note(
        [seg(1, "Social worker", "When is the hearing?"), seg(2, "Mum", "Next week, on Tuesday.")]
    )
    assert not _section(note, "next_visit")
