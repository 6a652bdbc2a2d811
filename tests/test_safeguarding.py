"""Safeguarding red flags: the lexicon as data, the gate on unsupported claims, and omissions.

Rule under test: a statement whose text raises a red-flag category must cite at least one
segment whose text uses that category's language, positive or negative; otherwise it is removed
from the draft and the removal recorded. Categories raised in the transcript that no statement
mentions are offered to the practitioner as possible omissions.
"""

from __future__ import annotations

import hashlib
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
from assistant.errors import ConfigurationError
from assistant.review import (
    DEFAULT_LEXICON_PATH,
    categories_in,
    gate_red_flags,
    load_lexicon,
    possible_omissions,
)

REQUIRED = {
    "suicidal_ideation",
    "self_harm",
    "sexual_abuse",
    "physical_abuse",
    "domestic_abuse",
    "neglect",
    "substance_misuse",
    "weapons",
    "exploitation",
    "radicalisation",
    "missing_from_home",
    "eating_disorder",
}


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon()


# --- the lexicon as data --------------------------------------------------------------------
def test_lexicon_loads_with_version_and_hash(lexicon):
    assert lexicon.version == "2.1.0"
    assert lexicon.sha256 == hashlib.sha256(DEFAULT_LEXICON_PATH.read_bytes()).hexdigest()
    assert REQUIRED <= set(lexicon.categories)


def test_category_names_are_unique(lexicon):
    assert len(lexicon.categories) == len(set(lexicon.categories))


@pytest.mark.parametrize("category", sorted(REQUIRED | {"emotional_abuse", "abuse_unspecified"}))
def test_each_category_is_curated(lexicon, category):
    (config,) = [c for c in lexicon.config.categories if c.name == category]
    assert len(config.terms) >= 8
    assert config.negated
    assert config.label and config.description


def test_changelog_names_the_current_version(lexicon):
    changelog = (DEFAULT_LEXICON_PATH.parent / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {lexicon.version}" in changelog


GOOD_CATEGORY = """
  - name: {name}
    label: L
    description: D
    terms: {terms}
    negated: ["no {{self}} harm"]
"""
HEADER = """
version: "0.0.1"
word_classes:
  self: [myself]
negation:
  window: 3
  before: ["no", not]
  after: [denied]
  pseudo: ["not sure"]
  clause_breaks: [but]
categories:
"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            HEADER
            + GOOD_CATEGORY.format(name="a", terms='["x"]')
            + GOOD_CATEGORY.format(name="a", terms='["y"]'),
            "category repeated",
        ),
        (HEADER + GOOD_CATEGORY.format(name="a", terms="[]"), "terms"),
        (HEADER + GOOD_CATEGORY.format(name="a", terms='["x", "X"]'), "repeats"),
        (HEADER + GOOD_CATEGORY.format(name="a", terms='["hurt {nobody}"]'), "unknown word class"),
        (HEADER + GOOD_CATEGORY.format(name="Bad Name", terms='["x"]'), "name"),
        (HEADER + GOOD_CATEGORY.format(name="a", terms='["x ..."]'), "'...'"),
        (
            HEADER.replace("window: 3", "window: 3\n  window: 4")
            + GOOD_CATEGORY.format(name="a", terms='["x"]'),
            "duplicate key",
        ),
        (
            HEADER.replace('before: ["no", not]', "before: [no, not]")
            + GOOD_CATEGORY.format(name="a", terms='["x"]'),
            "before",
        ),  # YAML reads a bare no as false
        (HEADER + "  - [unclosed", "not valid YAML"),
        (HEADER, "categories"),
    ],
    ids=[
        "duplicate-category",
        "empty-terms",
        "repeated-term",
        "unknown-class",
        "bad-name",
        "dangling-gap",
        "duplicate-key",
        "bare-no",
        "bad-yaml",
        "no-categories",
    ],
)
def test_malformed_lexicon_refuses_to_load(tmp_path, body, message):
    path = tmp_path / "lexicon.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message):
        load_lexicon(path)


def test_missing_lexicon_refuses_to_load(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_lexicon(tmp_path / "nope.yaml")


def test_a_minimal_lexicon_works(tmp_path):
    path = tmp_path / "lexicon.yaml"
    path.write_text(HEADER + GOOD_CATEGORY.format(name="a", terms='["hurt {self}"]'), "utf-8")
    small = load_lexicon(path)
    assert small.categories_in("I hurt myself") == {"a"}
    assert small.polarities("I have not hurt myself") == {"a": {"negative"}}


# --- recognising the language ---------------------------------------------------------------
POSITIVE = [
    ("I want to kill myself", "suicidal_ideation"),
    ("sometimes I want to die", "suicidal_ideation"),
    ("I just want to end it all", "suicidal_ideation"),
    ("she said she'd be better off dead", "suicidal_ideation"),
    # 2.1.0: a worker's report of a child's words, in the third person
    ("she thinks everyone would be better off without her", "suicidal_ideation"),
    ("I don't want to be here anymore", "suicidal_ideation"),
    ("he's been having suicidal thoughts", "suicidal_ideation"),
    ("she's been cutting again", "self_harm"),
    ("I cut my arms with a sharpener blade", "self_harm"),
    ("she hurt herself on purpose", "self_harm"),
    ("there were cuts on her thighs", "self_harm"),
    ("he self-harms when he's stressed", "self_harm"),
    ("she took an overdose last year", "self_harm"),
    ("he touched me down there", "sexual_abuse"),
    ("he made me touch his privates", "sexual_abuse"),
    ("he said it was our little secret", "sexual_abuse"),
    ("he showed her porn on his phone", "sexual_abuse"),
    ("dad hit me with a belt", "physical_abuse"),
    ("mum smacked me", "physical_abuse"),
    ("he punched me in the face", "physical_abuse"),
    ("there's a bruise on his arm", "physical_abuse"),
    ("she had a black eye", "physical_abuse"),
    ("mum and dad were fighting and dad hit mum", "domestic_abuse"),
    ("there was shouting and hitting", "domestic_abuse"),
    ("mum's boyfriend threw a plate at mum", "domestic_abuse"),
    ("the police were called again", "domestic_abuse"),
    ("she was referred to MARAC", "domestic_abuse"),
    ("he checks her phone all the time", "domestic_abuse"),
    ("there's no food in the house", "neglect"),
    ("I'm always hungry at school", "neglect"),
    ("she had nits and dirty clothes", "neglect"),
    ("we were left on our own all weekend", "neglect"),
    ("there's no heating and the walls have mould", "neglect"),
    ("dad was drunk again", "substance_misuse"),
    ("he smokes weed in the kitchen", "substance_misuse"),
    ("mum's boyfriend sells cocaine", "substance_misuse"),
    ("she was off her face on ket", "substance_misuse"),
    ("he carries a knife for protection", "weapons"),
    ("his mate got stabbed", "weapons"),
    ("they've got a zombie knife", "weapons"),
    ("he's been going country", "exploitation"),
    ("the police think it's county lines", "exploitation"),
    ("she's got an older boyfriend who buys her things", "exploitation"),
    ("I got a new phone from an older man", "exploitation"),
    ("someone she met online asked for pictures", "exploitation"),
    ("he's been watching extremist videos", "radicalisation"),
    ("the school made a Prevent referral", "radicalisation"),
    ("he talks about a race war", "radicalisation"),
    ("she went missing on Friday", "missing_from_home"),
    ("he ran away from home", "missing_from_home"),
    ("she didn't come home last night", "missing_from_home"),
    ("he had a return home interview", "missing_from_home"),
    ("she's not eating", "eating_disorder"),
    ("she's making herself sick after meals", "eating_disorder"),
    ("she keeps skipping meals", "eating_disorder"),
    ("he thinks he is fat", "eating_disorder"),
    ("mum calls me stupid", "emotional_abuse"),
    ("she locks me in my room", "emotional_abuse"),
    ("he abused me", "abuse_unspecified"),
    ("I'm scared of dad", "abuse_unspecified"),
    ("I don't feel safe at home", "abuse_unspecified"),
]


@pytest.mark.parametrize(("text", "category"), POSITIVE)
def test_red_flag_language_is_recognised(lexicon, text, category):
    assert "positive" in lexicon.polarities(text).get(category, set())


NEGATIVE = [
    ("she denied any thoughts of self-harm", "self_harm"),
    ("No, I've never hurt myself", "self_harm"),
    ("thoughts of self-harm were denied", "self_harm"),
    ("Suicidal thoughts: denied.", "suicidal_ideation"),
    ("she said she is not suicidal", "suicidal_ideation"),
    ("dad has never hit me", "physical_abuse"),
    ("no one has ever hit me", "physical_abuse"),
    ("no marks or bruises were seen", "physical_abuse"),
    ("no concerns about neglect", "neglect"),
    ("he says he has never carried a knife", "weapons"),
    ("I feel safe at home", "abuse_unspecified"),
]

QUESTIONS = [
    ("Have you ever thought about killing yourself?", "suicidal_ideation"),
    ("Have you ever had thoughts of hurting yourself?", "self_harm"),
    ("Does dad ever hit you? Tell me about it.", "physical_abuse"),
    ("You haven't been cutting, have you?", "self_harm"),
]


@pytest.mark.parametrize(("text", "category"), QUESTIONS)
def test_questions_neither_affirm_nor_deny(lexicon, text, category):
    assert lexicon.polarities(text).get(category) == {"question"}


@pytest.mark.parametrize(("text", "category"), NEGATIVE)
def test_mentions_in_the_negative_are_recognised(lexicon, text, category):
    assert lexicon.polarities(text).get(category) == {"negative"}


NOT_NEGATED = [
    ("No, he hit me", "physical_abuse"),  # an answer, not a denial
    ("he wouldn't stop hitting her", "physical_abuse"),
    ("I don't know if he hit her", "physical_abuse"),  # uncertain is still a mention
    ("I can't remember when he last hit me", "physical_abuse"),
    ("I'm not being funny but he hit her", "physical_abuse"),
]


@pytest.mark.parametrize(("text", "category"), NOT_NEGATED)
def test_negation_cues_that_negate_nothing(lexicon, text, category):
    assert lexicon.polarities(text).get(category) == {"positive"}


AVOIDED = [
    "I'm killing time before school",
    "I'm dying to see her",
    "that cake is to die for",
    "I was killing myself laughing",
    "she's cut her hair",
    "I was cutting out shapes",
    "she's fighting for her place in the team",
    "we had a pillow fight",
    "he hit the ball over the fence",
    "she beat me at FIFA",
    "pass me the knife and fork",
    "we made a bath bomb",
    "can I have a can of coke",
    "the dog ran away",
    "my phone went missing",
    "I don't eat meat",
    "she's grooming the dog",
    "we had sex education at school",
    "he shot me a look",
    "she had a flu shot",
]


@pytest.mark.parametrize("text", AVOIDED)
def test_innocuous_phrases_we_can_avoid(lexicon, text):
    assert lexicon.categories_in(text) == set()


KNOWN_FALSE_POSITIVES = [
    # Accepted: recall of red flags matters more than precision. Gating removes only claims
    # whose cited evidence has none of the category's language, and omissions are only
    # suggestions, so each of these costs a practitioner a glance, while a narrower term could
    # let an invented claim through or hide a disclosure.
    ("I'm starving, what's for tea?", "neglect"),
    ("mum and dad fight over the remote", "domestic_abuse"),
    ("she fought with her brother over the iPad", "domestic_abuse"),
    ("I bruised my knee playing football", "physical_abuse"),
    ("she kicked off at school", "physical_abuse"),
    ("she hurt herself falling off her bike", "self_harm"),
    ("the police came to school to talk about safety", "domestic_abuse"),
    ("my older boys help with the shopping", "exploitation"),
    ("the washing was dirty", "neglect"),
    ("mum is losing weight for her wedding", "eating_disorder"),
    ("the kids are better off without [PERSON_4]", "suicidal_ideation"),
]


@pytest.mark.parametrize(("text", "category"), KNOWN_FALSE_POSITIVES)
def test_known_false_positives_are_a_documented_trade_off(lexicon, text, category):
    assert category in lexicon.categories_in(text)


def test_module_level_categories_in_uses_the_default_lexicon():
    assert categories_in("I want to kill myself") == {"suicidal_ideation"}
    assert categories_in("we went to the park") == set()


def test_morphology_and_spelling_variants(lexicon):
    for text in (
        "self harm",
        "self-harming",
        "selfharm",
        "she slapped him",
        "slapping",
        "he's been kicking her",
        "she was dying inside and wants to die",
    ):
        assert lexicon.categories_in(text), text
    assert lexicon.categories_in("I dont want to live") == {"suicidal_ideation"}
    assert lexicon.categories_in("I don\u2019t want to live") == {"suicidal_ideation"}
    assert "domestic_abuse" in lexicon.categories_in("[PERSON_2] hit [PERSON_3]")
    assert "domestic_abuse" in lexicon.categories_in("he hurt [PERSON_3]")


# --- gating ---------------------------------------------------------------------------------
def seg(sid: str, text: str) -> RedactedSegment:
    return RedactedSegment(id=sid, start=0.0, end=1.0, text=text, speaker="[PERSON_1]")


TRANSCRIPT = RedactedTranscript(
    segments=(
        seg("s0001", "How's school going?"),
        seg("s0002", "School's alright, I like maths and my teacher is nice."),
        seg("s0003", "Mum and dad were fighting and dad hit mum."),
        seg("s0004", "Have you ever had thoughts of hurting yourself?"),
        seg("s0005", "No, I've never hurt myself. I'd never do that."),
        seg("s0006", "My brother carries a knife sometimes."),
        seg("s0007", "Sometimes I wish I was dead."),
    ),
    language="en",
    duration_s=60.0,
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


def note_of(*sections: tuple[str, tuple[Statement, ...]]) -> DraftNote:
    return DraftNote(
        sections=tuple(NoteSection(key=k, title=k, statements=s) for k, s in sections),
        provenance=PROVENANCE,
    )


def st(text: str, *evidence: str) -> Statement:
    return Statement(
        text=text, kind=StatementKind.REPORTED, speaker="[PERSON_1]", evidence=evidence
    )


GATE_ROWS = [
    # (statement, kept?, polarity flag or None, unsupported categories if removed)
    pytest.param(
        st("[PERSON_1] said she has had thoughts of suicide.", "s0001", "s0002"),
        False,
        None,
        ("suicidal_ideation",),
        id="invented-suicidal-ideation",
    ),
    pytest.param(
        st("[PERSON_1] said mum and dad were fighting and dad hit mum.", "s0003"),
        True,
        None,
        (),
        id="supported-domestic-abuse",
    ),
    pytest.param(
        st("[PERSON_1] described domestic abuse between her parents.", "s0003"),
        True,
        None,
        (),
        id="label-supported-by-the-childs-words",
    ),
    pytest.param(
        st("[PERSON_1] said dad hits her.", "s0002"),
        False,
        None,
        ("physical_abuse", "domestic_abuse"),
        id="invented-physical-abuse",
    ),
    pytest.param(
        st("She denied any thoughts of self-harm.", "s0004", "s0005"),
        True,
        None,
        (),
        id="denial-with-the-denial-cited",
    ),
    pytest.param(
        st("She denied any thoughts of self-harm.", "s0002"),
        False,
        None,
        ("self_harm",),
        id="invented-reassurance",
    ),
    pytest.param(
        st("[PERSON_1] said she has hurt herself.", "s0005"),
        True,
        "red_flag_not_affirmed:self_harm",
        (),
        id="positive-claim-on-a-denial",
    ),
    pytest.param(
        st("[PERSON_1] said she has hurt herself.", "s0004"),
        True,
        "red_flag_not_affirmed:self_harm",
        (),
        id="positive-claim-on-a-question",
    ),
    pytest.param(
        st("[PERSON_1] said she has hurt herself.", "s0004", "s0005"),
        True,
        "red_flag_not_affirmed:self_harm",
        (),
        id="positive-claim-on-question-and-denial",
    ),
    pytest.param(
        st("[PERSON_1] said she likes maths.", "s0002"), True, None, (), id="no-red-flag-untouched"
    ),
    pytest.param(
        st("[PERSON_1] said her brother carries a knife and dad hit mum.", "s0006"),
        False,
        None,
        ("physical_abuse", "domestic_abuse"),
        id="one-category-unsupported",
    ),
    pytest.param(
        st("[PERSON_1] said she wishes she was dead.", "s0007"),
        True,
        None,
        (),
        id="supported-suicidal-ideation",
    ),
    pytest.param(
        st("[PERSON_1] said she wishes she was dead.", "s9999"),
        False,
        None,
        ("suicidal_ideation",),
        id="unknown-segment-is-no-evidence",
    ),
]


@pytest.mark.parametrize(("statement", "kept", "flag", "unsupported"), GATE_ROWS)
def test_gate_rows(lexicon, statement, kept, flag, unsupported):
    note = note_of(("worries", (st("[PERSON_1] likes maths.", "s0002"), statement)))
    gated, report = gate_red_flags(note, TRANSCRIPT, lexicon)
    statements = gated.sections[0].statements
    assert statements[0].text == "[PERSON_1] likes maths."
    if kept:
        assert len(statements) == 2
        assert statements[1].flags == ((flag,) if flag else ())
        assert report.removed == ()
    else:
        assert len(statements) == 1
        (removal,) = report.removed
        assert (removal.section, removal.index) == ("worries", 1)
        assert removal.unsupported == unsupported
        assert removal.evidence == statement.evidence
        (shown,) = report.practitioner_view
        assert shown.statement == statement
    assert len(report.not_affirmed) == (1 if flag else 0)


def test_removed_text_is_only_in_the_practitioner_view(lexicon):
    invented = st("[PERSON_1] said she has had thoughts of suicide.", "s0002")
    _, report = gate_red_flags(note_of(("worries", (invented,))), TRANSCRIPT, lexicon)
    loggable = json.dumps(report.summary()) + report.model_dump_json() + repr(report)
    assert "suicide" not in loggable and "PERSON" not in loggable
    assert report.practitioner_view[0].statement.text == invented.text
    assert report.summary() == {
        "lexicon_version": lexicon.version,
        "lexicon_sha256": lexicon.sha256,
        "statements": 1,
        "red_flag_statements": 1,
        "removed": 1,
        "removed_by_category": {"suicidal_ideation": 1},
        "not_affirmed": 0,
    }


def test_gate_keeps_sections_order_and_provenance(lexicon):
    note = note_of(
        ("purpose", ()),
        ("worries", (st("[PERSON_1] said she has had thoughts of suicide.", "s0002"),)),
        ("child_voice", (st("[PERSON_1] likes maths.", "s0002"),)),
    )
    gated, report = gate_red_flags(note, TRANSCRIPT, lexicon)
    assert [s.key for s in gated.sections] == ["purpose", "worries", "child_voice"]
    assert [len(s.statements) for s in gated.sections] == [0, 0, 1]
    assert gated.provenance == note.provenance
    assert report.statements == 2 and report.red_flag_statements == 1


# --- omissions ------------------------------------------------------------------------------
def test_possible_omissions_after_gating(lexicon):
    note = note_of(
        (
            "child_voice",
            (
                st("[PERSON_1] said mum and dad were fighting and dad hit mum.", "s0003"),
                st("[PERSON_1] said she has had thoughts of suicide.", "s0002"),  # invented
            ),
        ),
    )
    gated, _ = gate_red_flags(note, TRANSCRIPT, lexicon)
    omissions = possible_omissions(gated, TRANSCRIPT, lexicon)
    by_category = {o.category: o for o in omissions}
    # self-harm was asked about and denied; a knife was mentioned; the child's own words about
    # wishing she was dead (s0007) are not in the note once the invented claim is removed.
    assert list(by_category) == ["suicidal_ideation", "self_harm", "weapons"]
    assert by_category["suicidal_ideation"].segment_ids == ("s0007",)
    assert by_category["suicidal_ideation"].polarities == ("positive",)
    assert by_category["self_harm"].segment_ids == ("s0004", "s0005")
    assert by_category["self_harm"].polarities == ("negative", "question")
    assert by_category["weapons"].label
    assert "physical_abuse" not in by_category and "domestic_abuse" not in by_category


def test_no_omissions_when_the_note_covers_every_category(lexicon):
    note = note_of(
        (
            "worries",
            (
                st("[PERSON_1] said mum and dad were fighting and dad hit mum.", "s0003"),
                st("She denied self-harm.", "s0004", "s0005"),
                st("[PERSON_1] said her brother carries a knife.", "s0006"),
                st("[PERSON_1] said she sometimes wishes she was dead.", "s0007"),
            ),
        )
    )
    gated, report = gate_red_flags(note, TRANSCRIPT, lexicon)
    assert report.removed == ()
    assert possible_omissions(gated, TRANSCRIPT, lexicon) == []


def test_omissions_hold_no_text(lexicon):
    omissions = possible_omissions(note_of(("worries", ())), TRANSCRIPT, lexicon)
    dumped = json.dumps([o.model_dump() for o in omissions])
    assert "knife" not in dumped and "dead" not in dumped


def test_default_lexicon_path_is_in_the_repository():
    assert DEFAULT_LEXICON_PATH == (
        Path(__file__).resolve().parent.parent / "assistant" / "review" / "lexicon" / "lexicon.yaml"
    )
