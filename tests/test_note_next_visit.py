"""The note's next visit in the visitor's own words, and action rows whose only object is "it"
or "that" (issue 24). Each test names the phrasing it stands for; none is a scenario's sentence
copied."""

from __future__ import annotations

import pytest

from assistant.domain import ModelRef, RedactedSegment, RedactedTranscript, StatementKind
from assistant.drafting.actions import header, referent
from assistant.drafting.drafter import Drafter
from assistant.drafting.templates import load_template
from assistant.review.verify import verify_note


def seg(i: int, speaker: str | None, text: str) -> RedactedSegment:
    return RedactedSegment(
        id=f"s{i:04d}", start=float(i), end=float(i) + 1, text=text, speaker=speaker
    )


def next_visit(text: str, speaker: str = "Social worker") -> str | None:
    visit = [
        seg(1, "Social worker", "How have the evenings been?"),
        seg(2, "Mum", "Calmer since the new routine."),
        seg(3, speaker, text),
    ]
    return next((h.value for h in header(visit) if h.key == "next_visit"), None)


class NoCallLLM:
    def create_chat_completion(self, messages, **kwargs):
        raise AssertionError("a sort: words template asked the model")


def _note(segments: list[RedactedSegment]):
    transcript = RedactedTranscript(
        segments=tuple(segments), language="en", duration_s=9.0, entities=(), config_hash="0" * 64
    )
    model = ModelRef(name="none", sha256="0" * 64)
    note = Drafter(NoCallLLM(), load_template("visit_note"), model=model).draft(transcript)
    return note, transcript


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("I'll see her again on Thursday with her grandad and the advocate.", "on Thursday"),
        ("I'll pop round on Wednesday after school.", "on Wednesday after school"),
        ("I'll pop in next week.", "next week"),  # "next week", not "in next week"
        ("See you all on the ninth.", "on the ninth"),
        ("We'll see you again in a fortnight.", "in a fortnight"),
        ("I'll visit you both at your aunt's tomorrow afternoon.", "tomorrow afternoon"),
        ("I'll see [PERSON_2] again on Monday.", "on Monday"),
    ],
)
def test_the_visitor_seeing_the_family_again_is_the_next_visit(text: str, due: str) -> None:
    assert next_visit(text) == due


def test_a_voice_of_unknown_role_seeing_the_child_again_is_the_next_visit() -> None:
    assert next_visit("I'll see him again on Tuesday.", speaker="Speaker 1") == "on Tuesday"


@pytest.mark.parametrize(
    "text",
    [
        "The nurse will see him on Friday.",  # someone else's appointment
        "The health visitor will come back next week.",
        "Dad will see them on Saturday.",
        "I'll see you at the core group on the tenth.",  # a meeting, not a visit
        "I'd like to see her on her own, if that's okay.",  # how she is seen in this visit
        "I'll see if the school can help by Friday.",
        "Right, I'll see you next time.",  # goodbye
    ],
)
def test_someone_elses_visit_a_meeting_or_goodbye_is_not_the_next_visit(text: str) -> None:
    assert next_visit(text) is None


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("The review is on the third, and I'll visit again in five weeks.", "in five weeks"),
        (
            "I'll see you at the review on the second, and my next visit is in a month.",
            "in a month",
        ),
    ],
)
def test_the_next_visit_is_the_time_said_with_it(text: str, due: str) -> None:
    """Not the two times of the sentence run together ("on the third, and I'll visit again in
    five weeks"), in the header and in the "Visit again" row."""
    assert next_visit(text) == due
    visit = [
        seg(1, "Social worker", "How is school?"),
        seg(2, "Mum", "Better."),
        seg(3, "Social worker", text),
    ]
    note, _ = _note(visit)
    rows = [st.action for st in note.all_statements() if st.action is not None]
    assert [(r.what, r.by) for r in rows if r.what == "Visit again"] == [("Visit again", due)]


def test_a_row_that_says_only_that_carries_what_that_stands_for() -> None:
    """ "I'll pass that to the police." after the family gives a registration: the row says
    what "that" is, in the words said, and the statement cites the turn they were said in so
    verification still finds every word."""
    visit = [
        seg(1, "Social worker", "Did you see the car he left in?"),
        seg(2, "Mum", "A blue hatchback. The registration is [UK_REG_1]."),
        seg(3, "Social worker", "Thank you. I'll pass that to the police today."),
        seg(4, "Mum", "Okay."),
    ]
    note, transcript = _note(visit)
    rows = [st for st in note.all_statements() if st.action and "police" in st.action.what]
    assert len(rows) == 1
    row = rows[0]
    assert row.kind is StatementKind.AGREED_ACTION
    assert "The registration is [UK_REG_1]" in row.action.what
    assert row.action.what.startswith("I'll pass that to the police today.")
    assert row.action.by == "today"
    assert row.evidence == ("s0002", "s0003")
    checked, report = verify_note(note, transcript)
    assert all(r.supported for r in report.results), report.results


def test_it_at_the_end_of_a_clause_takes_the_start_of_its_sentence() -> None:
    text = "Leaving him alone overnight is a real worry, and I'll have to share it at the meeting."
    visit = [seg(1, "Dad", "He's fifteen, he's fine."), seg(2, "Social worker", text)]
    found = referent(text, visit, 1)
    assert found == ("Leaving him alone overnight is a real worry", "s0002")


@pytest.mark.parametrize(
    "text",
    [
        "I'll ring the school about his attendance today.",  # says what
        "I'll check that he's back in his room by ten.",  # "that" opens a clause
        "Let's agree that before Friday you'll ring me.",
    ],
)
def test_a_row_that_names_what_is_left_as_it_is(text: str) -> None:
    visit = [seg(1, "Mum", "The school rang again about Monday."), seg(2, "Social worker", text)]
    assert referent(text, visit, 1) is None


def test_thanks_is_not_what_that_stands_for() -> None:
    """ "That's helpful, thank you." before "I'll send that today." says nothing: the turn
    before it does."""
    text = "That's helpful, thank you. I'll send that today."
    visit = [seg(1, "Dad", "His NHS number is [NHS_1]."), seg(2, "Social worker", text)]
    assert referent("I'll send that today.", visit, 1) == ("His NHS number is [NHS_1].", "s0001")
