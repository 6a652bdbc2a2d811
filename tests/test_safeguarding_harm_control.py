"""Safeguarding lexicon 2.0.0: physical harm by holding, pinning, slamming and throwing at
someone, and coercive control (money, isolation, monitoring, being locked in).

1.0.0 fired nothing on cp-001 Mum's "He grabbed my arm" and "a grab on the arm", nor on the
disclosures below, so a note could leave them out without an omission being shown, and a claim
about them could not find its evidence. Each new term must name a person harmed or controlled:
the near misses below must fire nothing.
"""

from __future__ import annotations

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
from assistant.review import gate_red_flags, load_lexicon, possible_omissions
from eval.datasets.scenarios.load import SCENARIO_DIR, load_scenario

HARM = {"physical_abuse", "domestic_abuse"}
DA = {"domestic_abuse"}


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon()


@pytest.mark.parametrize("turn", [29, 33])
def test_cp001_mums_disclosure_fires_physical_and_domestic_abuse(lexicon, turn):
    text = load_scenario(SCENARIO_DIR / "cp-001.yaml").turns[turn].text
    assert "grab" in text  # the turns this test is about: "grabbed my arm", "a grab on the arm"
    polarities = lexicon.polarities(text)
    for category in HARM:
        assert "positive" in polarities.get(category, set()), category


DISCLOSURES = [
    # the colleague's list, each exactly the categories it should raise
    ("He grabbed my arm when I wouldn't give him money, and he slammed the door.", HARM),
    ("I didn't want him getting arrested over a grab on the arm.", HARM),
    ("he threw a plate at me", HARM),
    ("he pinned me against the wall", HARM),
    ("he locked me in the bedroom", DA | {"emotional_abuse"}),
    ("he slammed me against the door", HARM),
    ("he controls the money", DA),
    ("he won't let me see my friends", DA),
    # the same harm in other words
    ("Dean grabbed Mum by the arm", HARM),
    ("he grabbed her by the hair", HARM),
    ("he grabbed hold of me", HARM),
    ("she's been throwing things at him", HARM),
    ("he threw a mug at [PERSON_2]", HARM),
    ("he pinned her to the floor", HARM),
    ("he slammed her head against the wall", HARM),
    ("he had his hands round her neck", HARM),
    ("he headbutted me", HARM),
    ("he stamped on me", HARM),
    ("he pushed me", HARM),
    ("he controls all the money", DA),
    ("he's so controlling", DA),
    ("he stops me seeing my family", DA),
    ("he keeps me away from my friends", DA),
    ("I'm not allowed to see my friends, he says", DA),
    ("he went through my phone", DA),
    ("he put a tracker on my car", DA),
    ("he locked us inside the flat", DA | {"emotional_abuse"}),
]


@pytest.mark.parametrize(("text", "categories"), DISCLOSURES)
def test_disclosures_fire_the_right_categories(lexicon, text, categories):
    assert lexicon.categories_in(text) == categories
    polarities = lexicon.polarities(text)
    assert all("positive" in polarities[c] for c in categories)


NEAR_MISSES = [
    "I grabbed a coffee on the way",
    "I'll grab you a coffee",  # physical_abuse in 1.0.0
    "we'll ask about a grab rail",
    "we're pushing for a referral",
    "the tablets are locked in the cupboard",
    "they threw a party",
    "she threw a party at her house",
    "she threw up at mum's",  # domestic_abuse in 1.0.0 ("threw ... at {adult}")
    "he threw a tantrum at me",
    "I'm going to throw a few questions at you",
    "what's your pin number",
    "she pinned the poster to the wall",
    "is your asthma well controlled?",
    "that should control your symptoms",
    "let me have a look at your throat",
    "she's allowed to see her friends",
    "I go out with my friends at the weekend",
    "I went through my emails",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_fire_nothing(lexicon, text):
    assert lexicon.categories_in(text) == set()


def test_denied_and_asked_harm_keep_their_polarity(lexicon):
    assert lexicon.polarities("he has never pinned me against the wall") == {
        "physical_abuse": {"negative"},
        "domestic_abuse": {"negative"},
    }
    assert lexicon.polarities("Has he ever stopped you seeing your friends?") == {
        "domestic_abuse": {"question"}
    }


KNOWN_FALSE_POSITIVES = [
    # Accepted for recall, as in test_safeguarding.py: each could be harm said the same way.
    ("he threw the ball at me", "physical_abuse"),
    ("I locked them in the cupboard", "domestic_abuse"),  # the tablets
    ("since I came into care I'm not allowed to see my family", "domestic_abuse"),
    ("mum won't let me see my friends till I've done my homework", "domestic_abuse"),
]


@pytest.mark.parametrize(("text", "category"), KNOWN_FALSE_POSITIVES)
def test_known_false_positives_are_a_documented_trade_off(lexicon, text, category):
    assert category in lexicon.categories_in(text)


# --- what the new language does in review ---------------------------------------------------
def seg(sid: str, text: str) -> RedactedSegment:
    return RedactedSegment(id=sid, start=0.0, end=1.0, text=text, speaker="[PERSON_1]")


TRANSCRIPT = RedactedTranscript(
    segments=(
        seg("s0001", "How have things been at home?"),
        seg("s0002", "He grabbed my arm when I wouldn't give him money."),
        seg("s0003", "And he won't let me see my friends."),
    ),
    language="en",
    duration_s=3.0,
    entities=(),
    config_hash="c" * 64,
)


def note_of(*statements: Statement) -> DraftNote:
    return DraftNote(
        sections=(NoteSection(key="worries", title="Worries", statements=statements),),
        provenance=DraftProvenance(
            template="visit_note",
            template_version="v6",
            prompt_sha256="p" * 64,
            model=ModelRef(name="fake", sha256="0" * 64),
            redaction_config_hash="c" * 64,
            attempts=1,
            seed=0,
        ),
    )


def st(text: str, *evidence: str) -> Statement:
    return Statement(
        text=text, kind=StatementKind.REPORTED, speaker="[PERSON_1]", evidence=evidence
    )


def test_a_note_that_leaves_the_disclosure_out_shows_a_possible_omission(lexicon):
    note = note_of(st("[PERSON_1] said things have been up and down.", "s0001"))
    omissions = {o.category: o for o in possible_omissions(note, TRANSCRIPT, lexicon)}
    assert set(omissions) == {"physical_abuse", "domestic_abuse"}
    assert omissions["physical_abuse"].segment_ids == ("s0002",)
    assert omissions["domestic_abuse"].segment_ids == ("s0002", "s0003")


def test_a_harm_claim_stands_on_the_disclosure_and_falls_without_it(lexicon):
    # 1.0.0 removed both: "grabbed her arm" was physical abuse, "grabbed my arm" nothing
    invented = st("[PERSON_1] said he grabbed her arm.", "s0001")
    supported = st("[PERSON_1] said he grabbed her arm.", "s0002")
    gated, report = gate_red_flags(note_of(invented, supported), TRANSCRIPT, lexicon)
    assert gated.sections[0].statements == (supported,)
    (removal,) = report.removed
    assert removal.unsupported == ("physical_abuse", "domestic_abuse")
