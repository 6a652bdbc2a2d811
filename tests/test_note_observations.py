"""What the worker saw, smelt or examined (note style, "What was observed"). The notes suite's
misses of 2026-12-07: "When I came in, I could smell cannabis in the hallway" (cp-005), "There
are no marks or bruises. … His nappy area is clean" after "I can see his face, his ears …"
(cp-003) and "The bedding on the children's mattress is damp to touch." (cp-007) were left
out; asking to see the child alone was written "The social worker observed: “I'd like to …”"."""

from __future__ import annotations

import pytest

from assistant.domain import ModelRef, RedactedSegment, RedactedTranscript, StatementKind
from assistant.drafting.drafter import Drafter
from assistant.drafting.templates import load_template


class NoCallLLM:
    def create_chat_completion(self, messages, **kwargs):
        raise AssertionError("a sort: words template asked the model")


def seg(i: int, speaker: str, text: str) -> RedactedSegment:
    return RedactedSegment(
        id=f"s{i:04d}", start=float(i), end=float(i) + 1, text=text, speaker=speaker
    )


def _observed(worker_says: str) -> list[tuple[str, StatementKind]]:
    segments = [
        seg(1, "Mum", "Come in, he's just had his bottle."),
        seg(2, "Social worker", worker_says),
        seg(3, "Mum", "Yes, that's fine."),
    ]
    transcript = RedactedTranscript(
        segments=tuple(segments), language="en", duration_s=9.0, entities=(), config_hash="0" * 64
    )
    model = ModelRef(name="none", sha256="0" * 64)
    note = Drafter(NoCallLLM(), load_template("visit_note"), model=model).draft(transcript)  # type: ignore[arg-type]
    seen = next(s for s in note.sections if s.key == "observations")
    return [(st.text, st.kind) for st in seen.statements]


@pytest.mark.parametrize(
    "text",
    [
        "When I came in, I could smell cannabis in the hallway and the living room.",
        "I looked at his cheek at school, there was a faint red mark.",
        "The bedding on the children's mattress is damp to touch.",
        "I could hear the baby crying upstairs the whole time.",
    ],
)
def test_what_the_worker_smelt_heard_or_examined_is_observed(text):
    assert _observed(text) == [(text, StatementKind.OBSERVED)]


def test_the_sentences_that_go_on_describing_what_was_seen_are_observed_too():
    said = (
        "I can see his face, his ears, his arms, tummy, back and legs. There are no marks or "
        "bruises. He's got a bit of dry skin on his cheeks. His nappy area is clean, no "
        "soreness. Can we get him dressed again?"
    )
    assert [t for t, _ in _observed(said)] == [
        "I can see his face, his ears, his arms, tummy, back and legs.",
        "There are no marks or bruises.",
        "He's got a bit of dry skin on his cheeks.",
        "His nappy area is clean, no soreness.",
    ]


@pytest.mark.parametrize(
    "after",
    [
        "The worry for me is the children's health and missing school.",  # what they think
        "The plan is that you ring me if he comes round.",  # about the plan, to Mum
        "I'll ring the health visitor about it tomorrow.",  # a commitment: a row of its own
    ],
)
def test_what_the_worker_thinks_or_will_do_is_not_described_as_seen(after):
    texts = [t for t, _ in _observed(f"I can see black mould on the wall behind the bed. {after}")]
    assert texts == ["I can see black mould on the wall behind the bed."]


def test_asking_to_see_the_child_alone_is_said_not_observed():
    asked = "I'd like to see [PERSON_2] on his own, if that's alright."
    assert _observed(asked) == [(asked, StatementKind.REPORTED)]
