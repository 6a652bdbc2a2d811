"""A visit through an interpreter (note style): the family member's words in another language,
then the interpreter's English. The English is theirs, said through the interpreter (cp-007:
Mum's account was left out, every interpreter turn dropped, and her Romanian turns, redacted
into "[PERSON_8] știu unde să merg", filled the parents' and carers' views)."""

from __future__ import annotations

import pytest

from assistant.domain import ModelRef, RedactedSegment, RedactedTranscript
from assistant.drafting.drafter import Drafter
from assistant.drafting.selection import foreign, interpreted
from assistant.drafting.templates import load_template
from assistant.notes.body import NoteBody
from assistant.notes.render import attributed_text, render_markdown
from assistant.review.run import review_note
from assistant.speakers import THROUGH_INTERPRETER


class NoCallLLM:
    def create_chat_completion(self, messages, **kwargs):
        raise AssertionError("a sort: words template asked the model")


def seg(i: int, speaker: str, text: str) -> RedactedSegment:
    return RedactedSegment(
        id=f"s{i:04d}", start=float(i), end=float(i) + 1, text=text, speaker=speaker
    )


VISIT = [
    seg(1, "Social worker", "Hello, I'm the social worker. This is the interpreter."),
    seg(2, "Child", "Okay. I'm doing my Lego."),
    seg(3, "Interpreter", 'I\'ll interpret in the first person, so when I say "I", that\'s Mum.'),
    seg(4, "Social worker", "Has he seen a dentist?"),
    seg(5, "Mum", "Nu. Nu am bani pentru dentist. Nu știu unde să merg."),
    seg(6, "Interpreter", "No. I don't have money for the dentist. I don't know where to go."),
    seg(7, "Social worker", "Thank you. I'd like to see the bedroom now."),
    seg(8, "Mum", "Mucegaiul e peste tot. Am sunat proprietarul de multe ori, dar nu vine."),
    seg(9, "Interpreter", "The mould is everywhere. I've rung the landlord many times."),
    seg(10, "Social worker", "Has his dad been back to visit?"),
    seg(11, "Mum", "Nu, de la [PERSON_3] nu a mai venit."),
    seg(12, "Interpreter", "No, he hasn't come since Christmas."),
    seg(13, "Social worker", "What would you like to tell me?"),
    seg(14, "Child", "Mi-e frică de întuneric și mă doare dintele noaptea."),
    seg(15, "Interpreter", "I'm scared of the dark and my tooth hurts at night."),
]


def _note(segments=VISIT):
    transcript = RedactedTranscript(
        segments=tuple(segments), language="en", duration_s=99.0, entities=(), config_hash="0" * 64
    )
    model = ModelRef(name="none", sha256="0" * 64)
    drafter = Drafter(NoCallLLM(), load_template("visit_note"), model=model)  # type: ignore[arg-type]
    return review_note(drafter.draft(transcript), transcript)


def _statements(note):
    return [(s.key, st) for s in note.sections for st in s.statements]


def test_the_interpreters_english_is_the_family_members_said_through_them():
    found = {st.text: (key, st) for key, st in _statements(_note())}
    key, st = found["The mould is everywhere. I've rung the landlord many times."]
    assert key == "worries"
    assert st.speaker == "Mum"
    assert st.evidence == ("s0008", "s0009")  # her own words, then the interpreter's
    assert st.flags == (THROUGH_INTERPRETER,)  # and nothing unsupported: verification passed
    assert attributed_text(st) == (
        "Mum said (through the interpreter): “The mould is everywhere. I've rung the landlord "
        "many times.”"
    )


def test_words_in_another_language_are_not_a_statement_of_their_own():
    texts = " ".join(st.text for _, st in _statements(_note()))
    for words in ("Nu am bani", "Mucegaiul", "nu a mai venit", "întuneric"):
        assert words not in texts


def test_an_answer_through_the_interpreter_keeps_its_question():
    texts = [st.text for _, st in _statements(_note())]
    assert (
        "Social worker: “Has his dad been back to visit?” Mum: (through the interpreter) "
        "“No, he hasn't come since Christmas.”"
    ) in texts


def test_the_childs_words_through_the_interpreter_are_the_childs():
    placed = [(key, st.text) for key, st in _statements(_note()) if "scared of the dark" in st.text]
    assert placed == [
        (
            "child_voice",
            "Social worker: “What would you like to tell me?” Child: (through the interpreter) "
            "“I'm scared of the dark and my tooth hurts at night.”",
        )
    ]


def test_the_interpreter_speaking_for_themself_is_nobodys_account():
    """After English words, an interpreter's turn is their own, not the child's before it."""
    assert interpreted(VISIT) == {5: 4, 8: 7, 11: 10, 14: 13}
    texts = " ".join(st.text for _, st in _statements(_note()))
    assert "interpret in the first person" not in texts


def test_the_export_says_it_once_and_asks_nothing_to_be_checked():
    md = render_markdown(NoteBody.from_draft(_note()), title="Visit record", meta={})
    assert "Mum said (through the interpreter): “I don't have money for the dentist." in md
    assert "through_interpreter" not in md


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nu. Nu am bani pentru dentist. Nu știu unde să merg.", True),
        ("Da, e bine. Intrați, vă rog.", True),
        ("Nie wiem, gdzie on jest teraz.", True),
        ("[PERSON_8], de la [PERSON_21] [PERSON_8] a [PERSON_22].", True),  # redaction's marks
        ("Okay. I'm doing my Lego.", False),
        ("No. I don't have money for the dentist.", False),
        ("[PERSON_1] went to [LOCATION_2] with [PERSON_3] on Saturday.", False),
        ("[PERSON_1].", False),  # nothing but a name: nothing to tell
    ],
)
def test_words_in_another_language(text, expected):
    assert foreign(text) is expected
