"""Agreed actions as rows (templates v5, issue 24): how a practitioner or a parent agrees an
action, whose it is, and by when. Each test names the phrasing it stands for; none is a
scenario's sentence copied."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from assistant.domain import RedactedSegment
from assistant.drafting.actions import action_row, header, visits
from assistant.drafting.agreeing import clauses, when
from assistant.drafting.selection import select
from assistant.drafting.styles.note import Note
from assistant.drafting.templates import load_template
from assistant.speakers import SpeakerRole


def seg(i: int, speaker: str | None, text: str) -> RedactedSegment:
    return RedactedSegment(
        id=f"s{i:04d}", start=float(i), end=float(i) + 1, text=text, speaker=speaker
    )


def rows(visit: list[RedactedSegment]) -> list[tuple[str, str, str | None]]:
    """(who, what, by) of every piece code keeps as a row (a commitment, the next visit), as the
    note style writes it."""
    index = {s.id: i for i, s in enumerate(visit)}
    out = []
    for p in select(visit):
        placed = "commitment" in p.cues or ("next_visit" in p.cues and visits(p.text))
        if placed and "exchange" not in p.cues:
            r = action_row(p.text, p.speaker, visit, index[p.evidence[-1]], told="listed" in p.cues)
            out.append((r.who, r.what, r.by))
    return out


@pytest.mark.parametrize(
    "text, by",
    [
        ("I've booked you onto the group on Thursday morning.", "on Thursday morning"),
        ("I'll visit you both tomorrow afternoon.", "tomorrow afternoon"),
        ("I'll help you with the form at the next visit.", "at the next visit"),
        # an ordinal that numbers a list is not a date; "the tenth" is
        ("Second, no drinking when you're on your own.", None),
        ("The meeting is on the tenth.", "on the tenth"),
        # "the day after" counts from the time said before it
        (
            "The panel meets at the end of the month, and I'll ring you the day after.",
            "at the end of the month … the day after",
        ),
    ],
)
def test_by_when_keeps_the_part_of_the_day_the_next_visit_and_what_a_relative_time_counts_from(
    text, by
):
    assert when(text) == by


@pytest.mark.parametrize(
    "sentence, parts",
    [
        # two people's actions
        (
            "You'll send the code to nursery, and I'll put your name down on Saturday.",
            ["You'll send the code to nursery", "I'll put your name down on Saturday."],
        ),
        # two times
        (
            "I'll make the referral today, and I'll bring the leaflet next Wednesday.",
            ["I'll make the referral today", "I'll bring the leaflet next Wednesday."],
        ),
        (
            "I'll send the form off by Friday, and help with the claim at the next visit.",
            ["I'll send the form off by Friday", "help with the claim at the next visit."],
        ),
        # one action told in two verbs, and an action whose time is said with the other
        ("I'll recommend no further action, and I'll write to you to confirm.", None),
        ("I'll bring the leaflet, and I'll come back next Monday.", None),
        ("There's a meeting tomorrow, and I'll ring you after it.", None),
        ("I can't promise, but I'll ask them today.", None),
    ],
)
def test_a_sentence_of_two_actions_is_a_row_each_only_where_who_or_by_when_differs(sentence, parts):
    assert clauses(sentence) == (parts or [sentence])


def test_two_actions_in_one_sentence_are_two_rows_each_with_its_own_by_when():
    visit = [
        seg(
            1, "Practitioner", "I'll make the referral today, and I'll bring the leaflet next week."
        ),
        seg(2, "Mum", "Thank you."),
        seg(3, "Practitioner", "You'll ring the nursery, and I'll write to the school."),
        seg(4, "Dad", "Okay."),
    ]
    assert rows(visit) == [
        ("Practitioner", "I'll make the referral today", "today"),
        ("Practitioner", "I'll bring the leaflet next week.", "next week"),
        ("Dad", "You'll ring the nursery", None),
        ("Practitioner", "I'll write to the school.", None),
    ]


def test_the_items_of_a_list_of_what_is_agreed_are_rows_for_the_person_told():
    visit = [
        seg(1, "Mum", "I know I need to sort it."),
        seg(
            2,
            "Social worker",
            "Can we agree some things? First, the clinic appointment on Monday at two. "
            "Second, no smoking in the flat. Take care of yourself.",
        ),
        seg(3, "Mum", "Fine."),
        seg(
            4,
            "Social worker",
            "So, actions. I'll email the solicitor this week. Happy birthday to him, if I "
            "don't see you before.",
        ),
        seg(5, "Mum", "Thanks."),
    ]
    got = rows(visit)
    assert ("Mum", "First, the clinic appointment on Monday at two.", "on Monday at two") in got
    assert ("Mum", "Second, no smoking in the flat.", None) in got
    assert ("The social worker", "I'll email the solicitor this week.", "this week") in got
    said = " ".join(what for _, what, _ in got)
    assert "Take care" not in said and "birthday" not in said  # not actions
    # the same sentences with no list opened before them are not rows
    visit[1] = seg(2, "Social worker", "First, the clinic. Second, no smoking in the flat.")
    assert not rows(visit[:3])


def test_a_request_after_the_name_of_the_person_told_or_a_lead_in_is_theirs():
    visit = [
        seg(1, "Social worker", "[PERSON_1], can you take both children to school next week?"),
        seg(2, "Mum", "Yes."),
        seg(3, "Social worker", "[PERSON_2], please book to see your GP this week."),
        seg(4, "Dad", "I will."),
        seg(5, "Social worker", "And at home, try to keep mealtimes calm."),
        seg(6, "Mum", "Okay."),
    ]
    got = rows(visit)
    assert ("Mum", "next week") in {(who, by) for who, what, by in got if "both children" in what}
    assert any(who == "Dad" and "book to see your GP" in what for who, what, _ in got)
    assert any(who == "Mum" and "mealtimes calm" in what for who, what, _ in got)


def test_a_request_going_on_in_the_next_sentence_is_one_row():
    visit = [
        seg(
            1,
            "Social worker",
            "Could you lock the tablets away tonight? And keep the knives out of her room.",
        ),
        seg(2, "Mum", "Yes."),
        seg(
            3,
            "Social worker",
            "Can you keep the phone off? And keep an eye on her tonight, and ring the out of "
            "hours team if you're worried?",
        ),
        seg(4, "Foster carer", "I will."),
    ]
    assert rows(visit) == [
        ("Mum", visit[0].text, "tonight"),
        ("Foster carer", visit[2].text, "tonight"),
    ]


def test_the_next_visit_offered_as_a_question_is_a_visit_again_row():
    visit = [
        seg(1, "Practitioner", "Shall I come back in four weeks, after the speech therapy review?"),
        seg(2, "Mum", "Yes please."),
    ]
    assert rows(visit) == [
        ("Practitioner", "Visit again", "in four weeks, after the speech therapy review")
    ]


@pytest.mark.parametrize(
    "text, again",
    [
        ("I'll come back in six weeks.", True),
        ("Next visit's in six weeks.", True),
        ("I'd like to do my next visit in about ten days.", True),
        ("I'll ring the nursery tomorrow to see if they have space from next month.", False),
        ("I'll ask the school to put him back on the breakfast club.", False),
        ("I'll help you with the form at the next visit.", False),
    ],
)
def test_visit_again_is_only_what_says_the_visitor_comes_again(text, again):
    assert visits(text) is again
    row = action_row(text, "Social worker", [seg(1, "Social worker", text)], 0)
    assert (row.what == "Visit again") is again


def test_an_appointment_named_with_its_time_is_an_action_for_the_person_told():
    visit = [
        seg(1, "Mum", "He's saying more words."),
        seg(
            2,
            "Practitioner",
            "So, the speech and language appointment on the fifteenth. The last review was "
            "on the second of May.",
        ),
        seg(3, "Mum", "Yes."),
    ]
    assert rows(visit) == [
        ("Mum", "So, the speech and language appointment on the fifteenth.", "on the fifteenth")
    ]


def test_booking_the_family_onto_something_is_theirs_to_go_to():
    visit = [
        seg(1, "Social worker", "I've booked you onto the parenting group on Thursday morning."),
        seg(2, "Dad", "Right."),
    ]
    assert rows(visit)[0][0] == "Dad"


def test_a_parents_i_can_and_maybe_i_are_their_rows_said_with_their_time():
    visit = [
        seg(1, "Social worker", "Could you ask for different shifts?"),
        seg(
            2,
            "Mum",
            "My sister might help. I can ask the factory for day shifts, there is a list. "
            "Thursday, I will ask my manager.",
        ),
        seg(3, "Social worker", "He misses you."),
        seg(4, "Dad", "Okay. Maybe I take him fishing this Sunday. I can see he is sad."),
    ]
    pieces = [p for p in select(visit) if "commitment" in p.cues]
    texts = [p.text for p in pieces]
    assert (
        "I can ask the factory for day shifts, there is a list. Thursday, I will ask my manager."
        in texts
    )
    assert "Maybe I take him fishing this Sunday." in texts
    assert not any("I can see" in t for t in texts)  # not a commitment


def test_if_worried_you_can_ring_is_a_step_for_the_person_told():
    visit = [
        seg(1, "Social worker", "If you get worried before then, the GP, or you can ring me."),
        seg(2, "Dad", "Thank you."),
    ]
    assert rows(visit) == [("Dad", visit[0].text, None)]


def test_a_voice_of_no_known_role_saying_what_it_will_do_is_a_row():
    note = Note(SimpleNamespace(template=load_template("visit_note")))
    visit = [
        seg(1, "Social worker", "Can staff keep an eye on him tonight?"),
        seg(2, "[PERSON_4] worker", "Right. I'll put him on higher observations tonight."),
    ]
    piece = next(p for p in select(visit) if p.speaker == "[PERSON_4] worker")
    assert piece.role is SpeakerRole.UNKNOWN
    spec, _kind = note._placed(piece)
    assert spec is not None and spec.fill == "actions"


def test_the_next_visit_header_is_the_visitors_time_and_not_any_time_said():
    """The header gives the time alone (the sentence is the "Visit again" row); a time that is
    not the visitor coming again is not the next visit, and an offered visit is."""
    fields = header([seg(1, "Social worker", "I'll come back in three weeks, after school.")])
    assert {h.key: h.value for h in fields}["next_visit"] == "in three weeks, after school"
    said = [
        seg(1, "Social worker", "He said the man told him to come again next week."),
        seg(2, "Social worker", "I'll ring the nursery to see if they have space next month."),
    ]
    assert "next_visit" not in {h.key for h in header(said)}
    said.append(seg(3, "Practitioner", "Shall I come back in four weeks?"))
    assert {h.key: h.value for h in header(said)}["next_visit"] == "in four weeks"
