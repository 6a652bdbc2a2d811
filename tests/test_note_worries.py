"""Worries in the note style (templates v6): a family member's disclosure of physical harm or
coercive control is sorted into worries by its own words, not into what is working well by
another word of the same turn ("He's a good dad really"). Near misses stay out of worries."""

from __future__ import annotations

import pytest

from assistant.domain import ModelRef, RedactedSegment, RedactedTranscript
from assistant.drafting.drafter import Drafter
from assistant.drafting.styles.note import by_words
from assistant.drafting.templates import PROMPTS_DIR, load_template

TEMPLATES = ["visit_note", "cp_statutory_visit", "cin_visit", "lac_visit"]


class NoCallLLM:
    """The released templates sort by words: asking the model anything is a failure."""

    def create_chat_completion(self, messages, **kwargs):
        raise AssertionError("a sort: words template asked the model")


def seg(i: int, speaker: str, text: str) -> RedactedSegment:
    return RedactedSegment(
        id=f"s{i:04d}", start=float(i), end=float(i) + 1, text=text, speaker=speaker
    )


# eval/datasets/scenarios/cp-001.yaml, turns 28 to 33, names as redaction leaves them
CP001 = [
    seg(
        28,
        "Social worker",
        "[PERSON_1], can I have a word while [PERSON_2] finishes his Lego? [PERSON_2] told me "
        "he heard shouting on Saturday night and a loud bang, and that you were crying in the "
        "kitchen. He also said you had a red mark on your arm in the morning. I need to ask you "
        "about that.",
    ),
    seg(
        29,
        "Mum",
        "He's exaggerating, he does that. I did bang it. Okay. It was [PERSON_3]. He grabbed my "
        "arm when I wouldn't give him money, and he slammed the door on his way out. But he "
        "didn't mean it, he's not like that normally. He's a good dad to [PERSON_2] really, "
        "even though he's not his dad.",
    ),
    seg(
        30,
        "Social worker",
        "Thank you for being honest with me, [PERSON_1], I know that's not easy to say. I'm "
        "worried about you both.",
    ),
    seg(31, "Mum", "I know. I know. I just didn't want it all kicking off again with you lot."),
    seg(32, "Social worker", "I understand. Can I ask, did you call the police?"),
    seg(33, "Mum", "No. I didn't want him getting arrested over a grab on the arm."),
]


def _section_of(name: str, version: str, words: str) -> str:
    transcript = RedactedTranscript(
        segments=tuple(CP001), language="en", duration_s=6.0, entities=(), config_hash="0" * 64
    )
    template = load_template(name, version)
    model = ModelRef(name="none", sha256="0" * 64)
    note = Drafter(NoCallLLM(), template, model=model).draft(transcript)  # type: ignore[arg-type]
    found = [s.key for s in note.sections for st in s.statements if words in st.text]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("name", TEMPLATES)
def test_mums_disclosure_of_being_grabbed_is_a_worry_not_what_is_working_well(name: str):
    assert load_template(name).version == "v6"  # the default: the latest version
    assert _section_of(name, "v6", "He grabbed my arm") == "worries"
    assert _section_of(name, "v6", "a grab on the arm") == "worries"  # police not called
    # the released v5 filed it by "good" ("He's a good dad ... really"); since 2026-12-07 any
    # words in the safeguarding lexicon go to worries whatever a template's cues say, so v5
    # does too (its cues are unchanged: a word of physical harm alone is filed by them)
    assert _section_of(name, "v5", "He grabbed my arm") == "worries"


def _sorted(name: str, version: str, text: str) -> str:
    spec = by_words(text, load_template(name, version).filled_by("family"))
    assert spec is not None
    return spec.key


@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize(
    "text",
    [
        "He grabbed me by the hair, but he's a good dad.",
        "He pushed me against the wall and then he was lovely after.",
        "She shoved him down the stairs.",
        "He kicked her when she was on the floor.",
        "He punched the wall next to my head.",
        "He threw a plate at me, but we're happy now.",
        "He had me by the throat.",
        "He pinned me down on the bed.",
        "He locked me in the bedroom overnight.",
        "He threatened to take the kids if I told anyone.",
        "There's a bruise on her leg from the weekend.",
        "He kicks off every night at bedtime.",  # a tantrum is still a worry
        "He checks my phone every night, it's better that way.",
        "He won't let me see my friends.",
        "He controls the money, I get twenty pounds a week.",
        "They're grooming him, the older lads.",
    ],
)
def test_physical_harm_and_coercive_control_are_worries(name: str, text: str):
    assert _sorted(name, "v6", text) == "worries"


@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize(
    "text",
    [
        "We're pushing for a referral to the speech group.",
        "He threw a birthday party for her on Saturday.",
        "I forgot my pin number at the shop.",
        "I grabbed a coffee on the way to school.",
        "He kicked a ball about in the park with his dad.",
        "The tablets are locked in the cupboard now.",
        "She pushed herself to go to college and she's loving it.",
    ],
)
def test_near_misses_of_the_harm_words_are_not_worries(name: str, text: str):
    assert _sorted(name, "v6", text) != "worries"


@pytest.mark.parametrize("name", TEMPLATES)
def test_v6_only_adds_worries_cues_to_v5(name: str):
    """v6 is v5 with words added to worries: every other section, cue, setting and prompt file
    is v5's."""
    v5, v6 = load_template(name, "v5"), load_template(name, "v6")
    for a, b in zip(v5.sections, v6.sections, strict=True):
        assert a.model_copy(update={"cues": ()}) == b.model_copy(update={"cues": ()})
        if a.key == "worries":
            assert set(a.cues) < set(b.cues)
        else:
            assert a.cues == b.cues
    assert (v5.style, v5.sort, v5.budget, v5.prose) == (v6.style, v6.sort, v6.budget, v6.prose)
    for prompt in ("system.md", "user.md"):
        assert (PROMPTS_DIR / name / "v5" / prompt).read_bytes() == (
            PROMPTS_DIR / name / "v6" / prompt
        ).read_bytes()
