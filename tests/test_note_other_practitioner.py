"""Another practitioner's account (note style): a residential key worker beside the social
worker, a teacher. Their account is information the note needs; only the note author's own
words are cut to what they will do, saw and came for. (lac-003: the key worker's "He went
missing ... Police found him on Thursday" was left out once "Key worker" was read as the
social worker's role.)"""

from __future__ import annotations

from assistant.domain import ModelRef, RedactedSegment, RedactedTranscript
from assistant.drafting.drafter import Drafter
from assistant.drafting.templates import load_template
from assistant.speakers import authors


class NoCallLLM:
    def create_chat_completion(self, messages, **kwargs):
        raise AssertionError("a sort: words template asked the model")


def seg(i: int, speaker: str, text: str) -> RedactedSegment:
    return RedactedSegment(
        id=f"s{i:04d}", start=float(i), end=float(i) + 1, text=text, speaker=speaker
    )


MISSING = (
    "He went missing from [LOCATION_1] on Tuesday about seven in the evening. Police found "
    "him on Thursday morning in [LOCATION_2]."
)


def _note(segments: list[RedactedSegment], template: str = "lac_visit"):
    transcript = RedactedTranscript(
        segments=tuple(segments), language="en", duration_s=9.0, entities=(), config_hash="0" * 64
    )
    model = ModelRef(name="none", sha256="0" * 64)
    return Drafter(NoCallLLM(), load_template(template), model=model).draft(transcript)  # type: ignore[arg-type]


def _placed(note, words: str) -> list[tuple[str, str | None]]:
    return [(s.key, st.speaker) for s in note.sections for st in s.statements if words in st.text]


def test_a_key_worker_beside_the_social_worker_is_kept_as_a_worry():
    note = _note(
        [
            seg(1, "Social worker", "What happened last week?"),
            seg(2, "Key worker", MISSING),
            seg(3, "Young person", "I don't want to talk about it."),
        ]
    )
    # kept with the question it answers: attributed in the text ("Key worker: “He went ...”")
    found = [(s.key, st) for s in note.sections for st in s.statements if "went missing" in st.text]
    assert [k for k, _ in found] == ["worries"]
    assert found[0][1].speaker == "Key worker" or "Key worker: “He went" in found[0][1].text


def test_a_teacher_at_the_visit_is_kept_where_the_words_place_it():
    note = _note(
        [
            seg(1, "Social worker", "How has he been in class?"),
            seg(2, "Teacher", "He's been late every day this term and he's worried about his mum."),
            seg(3, "Child", "I like my teacher."),
        ],
        template="cin_visit",
    )
    assert [k for k, _ in _placed(note, "late every day")] == ["worries"]


def test_the_author_alone_is_still_cut_to_what_they_will_do():
    """On an early-help visit the key worker is the practitioner writing the note: their
    account of the visit is not kept as information from someone else."""
    segments = [
        seg(1, "Key worker", "It's lovely to see you. He went missing last year, didn't he?"),
        seg(2, "Mum", "Yes, the police found him at his nan's."),
        seg(3, "Key worker", "I'll ring the school on Friday."),
    ]
    assert authors(s.speaker for s in segments) == frozenset({"Key worker"})
    note = _note(segments, template="visit_note")
    assert _placed(note, "lovely to see you") == []
    assert [k for k, _ in _placed(note, "ring the school")] == ["actions"]


def test_the_social_worker_is_the_author_when_there_is_one():
    segments = [
        seg(1, "Key worker", "Hello."),
        seg(2, "Social worker 2", "Hi."),
        seg(3, "Mum", "Hi."),
    ]
    assert authors(s.speaker for s in segments) == frozenset({"Social worker 2"})
    assert authors(["Practitioner", "Mum", None]) == {"Practitioner"}
