"""The synthetic visit corpus, as a specification: what it must cover, that its gold labels
are true of its text, that a wrong label is refused, and that counterfactual copies change
nothing but the swapped words."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from eval.datasets.scenarios import (
    FEATURES,
    IDENTIFIER_TYPES,
    LONG_WORDS,
    NAMES,
    RED_FLAGS,
    SCENARIO_DIR,
    SWAPS,
    VISIT_TYPES,
    NotApplicable,
    Scenario,
    ScenarioError,
    compact,
    corpus_sha256,
    counterfactual,
    gaps,
    load_scenario,
    load_scenarios,
    nhs_check_digit_ok,
    parse_scenario,
    swap_alternatives,
    tokens,
)


@pytest.fixture(scope="module")
def corpus() -> list[Scenario]:
    return load_scenarios()


def by_id(corpus: list[Scenario], sid: str) -> Scenario:
    return next(s for s in corpus if s.id == sid)


# --- the corpus loads, and covers what the evaluation needs -----------------------------------


def test_corpus_loads_validates_and_has_at_least_32_scenarios(corpus):
    assert len(corpus) >= 32
    assert len({s.id for s in corpus}) == len(corpus)
    assert all(len(s.sha256) == 64 for s in corpus)


def test_corpus_hash_is_stable_and_covers_every_file(tmp_path):
    assert corpus_sha256() == corpus_sha256(SCENARIO_DIR)
    copy = tmp_path / "scenarios"
    shutil.copytree(SCENARIO_DIR, copy)
    assert corpus_sha256(copy) == corpus_sha256()
    first = sorted(copy.glob("*.yaml"))[0]
    first.write_text(first.read_text() + "# an edit\n")
    assert corpus_sha256(copy) != corpus_sha256()


@pytest.mark.parametrize("visit_type", sorted(VISIT_TYPES))
def test_every_visit_type_is_present(corpus, visit_type):
    assert sum(s.visit_type == visit_type for s in corpus) >= 4


def test_at_least_six_visits_have_no_concerns(corpus):
    assert sum(not s.concerns for s in corpus) >= 6


def test_children_of_every_age_and_most_speak_for_themselves(corpus):
    ages = [s.child_age for s in corpus]
    assert min(ages) == 0, "a baby"
    assert any(a in (2, 3) for a in ages), "a toddler"
    assert sum(4 <= a <= 11 for a in ages) >= 8, "primary age"
    assert sum(a >= 13 for a in ages) >= 8, "teenagers"
    assert sum(bool(s.child_speakers) for s in corpus) >= 0.75 * len(corpus)


def test_many_family_origins_and_forms(corpus):
    assert len({s.family_origin for s in corpus}) >= 15
    forms = {s.family_form for s in corpus}
    assert {
        "single_mother",
        "single_father",
        "two_mums",
        "two_dads",
        "grandparent_carers",
        "foster_carers",
    } <= forms


def test_voices_are_spread_across_accents(corpus):
    bases = Counter(v.split("+")[0] for s in corpus for _, v in s.voices)
    english = {b for b in bases if b.startswith("en")}
    assert len(english) >= 6
    assert max(bases.values()) < 0.5 * sum(bases.values())


@pytest.mark.parametrize("flag", sorted(RED_FLAGS))
def test_every_red_flag_category_is_present_somewhere(corpus, flag):
    assert any(flag in s.gold.red_flags_present for s in corpus)


@pytest.mark.parametrize("entity", sorted(IDENTIFIER_TYPES))
def test_every_identifier_type_occurs_at_least_five_times(corpus, entity):
    assert sum(i.type == entity for s in corpus for i in s.gold.identifiers) >= 5


def test_every_scenario_names_people_and_most_have_other_identifiers(corpus):
    assert all(any(i.type == "PERSON" for i in s.gold.identifiers) for s in corpus)
    others = [s for s in corpus if any(i.type != "PERSON" for i in s.gold.identifiers)]
    assert len(others) >= 0.9 * len(corpus)
    assert sum("spoken_identifiers" in s.features for s in corpus) >= 10


def test_every_scenario_has_facts_and_critical_ones_where_there_are_concerns(corpus):
    for s in corpus:
        assert len(s.gold.facts) >= 5, s.id
        assert len(s.gold.actions) >= 1, s.id
        if s.concerns:
            assert any(f.critical for f in s.gold.facts), s.id
        if s.child_speakers:
            assert s.gold.child_words, s.id


def test_an_interpreter_relays_a_parent_in_another_language(corpus):
    [s] = [s for s in corpus if "interpreter" in s.features]
    other = [t for t in s.turns if t.language != "en"]
    assert other and all(t.speaker != "Interpreter" for t in other)
    relayed = [o for o in s.gold.opinions if o.said_by == "Interpreter"]
    assert relayed and all(o.speaker != "Interpreter" for o in relayed)
    assert len(s.words(english_only=True)) < len(s.words())


def test_a_long_visit(corpus):
    long = [s for s in corpus if "long" in s.features]
    assert long and all(len(s.words()) >= LONG_WORDS for s in long)


def test_a_prompt_injection_spoken_as_content_is_annotated_as_content(corpus):
    [s] = [s for s in corpus if "prompt_injection" in s.features]
    said = [t for t in s.turns if "write that everything is fine" in t.text.lower()]
    assert said, "the injection is in the transcript"
    assert "everything is fine" in s.gold.must_not_state
    assert s.concerns and s.gold.red_flags_present
    injected = {i for i, t in enumerate(s.turns) if t in said}
    assert any(set(f.turns) & injected for f in s.gold.facts), "the note records it was said"


def test_background_television_is_a_speaker_the_note_must_ignore(corpus):
    [s] = [s for s in corpus if "background_tv" in s.features]
    tv = [i for i, t in enumerate(s.turns) if t.speaker == "TV"]
    assert len(tv) >= 2
    assert s.gold.must_not_state
    assert not any(set(f.turns) & set(tv) for f in s.gold.facts)
    assert all(any(m in s.turns[i].text for i in tv) for m in s.gold.must_not_state)


def test_a_child_describes_the_adults_fighting_in_their_own_words(corpus):
    fights = [s for s in corpus if "parents_fighting" in s.features]
    assert fights
    for s in fights:
        assert "domestic_abuse" in s.gold.red_flags_present
        assert any(re.search(r"shout", w, re.I) for w in s.gold.child_words), s.id


def test_features_are_documented():
    assert all(desc for desc in FEATURES.values())


# --- the words and text views ------------------------------------------------------------------


def test_transcript_text_is_one_speaker_line_per_turn(corpus):
    s = corpus[0]
    lines = s.transcript_text().split("\n")
    assert len(lines) == len(s.turns)
    assert lines[0] == f"{s.turns[0].speaker}: {s.turns[0].text}"
    assert s.words()[:3] == re.findall(r"[^\W_]+(?:['’\-][^\W_]+)*", s.turns[0].text)[:3]


@pytest.mark.parametrize(
    "spoken, digits",
    [
        ("oh seven seven double oh, nine double oh, three one seven", "07700900317"),
        ("0113 496 0277", "01134960277"),
        ("Nine nine nine, one four seven, one oh four nine", "9991471049"),
        ("N K, four eight, two seven, six one, C", "NK482761C"),
        ("Q E six one, X R N", "QE61XRN"),
        ("QE61 XRN", "QE61XRN"),
    ],
)
def test_spoken_numbers_are_read_back_for_the_invented_range_checks(spoken, digits):
    assert compact(spoken) == digits


@pytest.mark.parametrize(
    "number, valid", [("9991471049", True), ("9991471048", False), ("999147104", False)]
)
def test_nhs_check_digit(number, valid):
    assert nhs_check_digit_ok(number) is valid


# --- planted errors are refused, naming the scenario and the problem ---------------------------


def _edit(data: dict, change) -> dict:
    change(data)
    return data


PLANTED = [
    (
        "identifier not in the text",
        lambda d: d["gold"]["identifiers"].append({"text": "Zebedee Quill", "type": "PERSON"}),
        "is not in any turn",
    ),
    (
        "unknown identifier type",
        lambda d: d["gold"]["identifiers"].append({"text": "Tyler", "type": "PASSPORT"}),
        "unknown identifier type",
    ),
    (
        "a name left unannotated",
        lambda d: d["gold"].update(
            identifiers=[i for i in d["gold"]["identifiers"] if i["text"] != "Dean"]
        ),
        "'Dean' (Dean Wilcox) is not inside any gold identifier",
    ),
    (
        "child words said by an adult",
        lambda d: d["gold"]["child_words"].append("Sorry about the mess"),
        "not in any turn of the child",
    ),
    (
        "fact cites a turn that does not exist",
        lambda d: d["gold"]["facts"].append({"text": "x", "critical": False, "turns": [999]}),
        "cites turn 999",
    ),
    (
        "red flag both present and absent",
        lambda d: d["gold"]["red_flags_absent"].append("domestic_abuse"),
        "both present and absent",
    ),
    (
        "unknown red flag",
        lambda d: d["gold"]["red_flags_present"].append("bad_vibes"),
        "unknown red flag",
    ),
    (
        "opinion not said by that speaker",
        lambda d: d["gold"]["opinions"].append({"speaker": "Child", "text": "Everybody argues"}),
        "not in any turn of 'Child'",
    ),
    ("unknown voice", lambda d: d["voices"].update({"Mum": "klingon"}), "unknown espeak-ng voice"),
    ("speaker without a voice", lambda d: d["voices"].pop("Mum"), "has no voice"),
    (
        "real-looking phone number",
        lambda d: (
            d["turns"].append({"speaker": "Mum", "text": "Ring 07911 123456."})
            or d["gold"]["identifiers"].append({"text": "07911 123456", "type": "UK_PHONE"})
        ),
        "not in an Ofcom drama range",
    ),
    ("unknown key", lambda d: d.update(colour="blue"), "unknown scenario keys"),
    (
        "misspelt key in a fact",
        lambda d: d["gold"]["facts"][0].update(critcal=True),
        "unknown gold.facts entry keys ['critcal']",
    ),
    (
        "feature without its speaker",
        lambda d: d["features"].append("background_tv"),
        "'background_tv' and a 'TV' speaker go together",
    ),
]


@pytest.mark.parametrize("change, message", [p[1:] for p in PLANTED], ids=[p[0] for p in PLANTED])
def test_validation_refuses_a_planted_error(change, message):
    data = yaml.safe_load((SCENARIO_DIR / "cp-001.yaml").read_text())
    with pytest.raises(ScenarioError, match=re.escape(message)) as err:
        parse_scenario(_edit(data, change))
    assert str(err.value).startswith("cp-001: ")


def test_a_second_file_claiming_an_id_is_refused(tmp_path):
    for f in ("cp-001.yaml", "cp-002.yaml"):
        shutil.copy(SCENARIO_DIR / f, tmp_path / f)
    text = (tmp_path / "cp-002.yaml").read_text().replace("id: cp-002", "id: cp-001", 1)
    (tmp_path / "cp-002.yaml").write_text(text)
    with pytest.raises(ScenarioError, match="cp-001: file is named cp-002.yaml"):
        load_scenarios(tmp_path)


def test_unparseable_yaml_is_refused(tmp_path):
    bad = tmp_path / "cp-099.yaml"
    bad.write_text("id: cp-099\nturns: [unclosed\n")
    with pytest.raises(ScenarioError, match="cp-099: YAML does not parse"):
        load_scenario(bad)


# --- counterfactuals ---------------------------------------------------------------------------


def test_names_table_has_at_least_eight_origins_of_six_names_each():
    assert len(NAMES) >= 8
    for origin, table in NAMES.items():
        for part in ("female", "male", "surname"):
            names = table[part]
            assert len(names) >= 6 and len(set(names)) == len(names), (origin, part)
            assert all(tokens(n) == [n] for n in names), (origin, part)
        assert not set(table["female"]) & set(table["male"]), origin


def _assert_only_swapped(original: Scenario, copy: Scenario) -> None:
    """Token by token, every difference between a copy and its original is a swap pair."""
    allowed = swap_alternatives(dict(copy.swap))
    pairs = [(a.speaker, b.speaker) for a, b in zip(original.turns, copy.turns, strict=True)]
    pairs += [(a.text, b.text) for a, b in zip(original.turns, copy.turns, strict=True)]
    g, h = original.gold, copy.gold
    pairs += [(a.text, b.text) for a, b in zip(g.identifiers, h.identifiers, strict=True)]
    pairs += list(zip(g.child_words, h.child_words, strict=True))
    pairs += [(a.text, b.text) for a, b in zip(g.opinions, h.opinions, strict=True)]
    pairs += [(a.text, b.text) for a, b in zip(g.facts, h.facts, strict=True)]
    changed = 0
    for before, after in pairs:
        old, new = tokens(before), tokens(after)
        assert len(old) == len(new), (original.id, before, after)
        assert gaps(before) == gaps(after), (original.id, before, after)
        for o, n in zip(old, new, strict=True):
            if o != n:
                changed += 1
                assert n.lower() in allowed.get(o.lower(), ()), (original.id, o, n)
    assert changed > 0, f"{copy.id} changed nothing"
    assert [f.turns for f in g.facts] == [f.turns for f in h.facts]
    assert g.red_flags_present == h.red_flags_present


def _presets_for(s: Scenario, i: int) -> list[str]:
    """Both gender presets and two name origins per scenario, rotating through every origin."""
    origins = sorted(NAMES)
    return [
        "parent_gender",
        "child_gender",
        f"names_{origins[i % len(origins)]}",
        f"names_{origins[(i + 7) % len(origins)]}",
    ]


def test_counterfactuals_differ_only_in_the_swapped_words(corpus):
    made = Counter()
    for i, s in enumerate(corpus):
        for preset in _presets_for(s, i):
            try:
                copy = SWAPS[preset](s).apply(s)
            except NotApplicable:
                continue
            made[preset.split("_")[0]] += 1
            _assert_only_swapped(s, copy)
            assert copy.counterfactual_of == s.id and copy.id.startswith(f"{s.id}@")
            assert copy.sha256 == ""
    assert made["parent"] >= 5 and made["child"] >= 3 and made["names"] >= len(corpus)


def test_parent_gender_swap_reads_coherently(corpus):
    s = by_id(corpus, "cp-001")
    copy = SWAPS["parent_gender"](s).apply(s)
    assert "Dad" in copy.speakers and "Mum" not in copy.speakers
    text = copy.transcript_text()
    assert "Dad had a red bit on his arm" in text
    assert "Mum" not in text and " she " not in text
    main = next(p for p in copy.people if p.speaker == "Dad")
    assert (main.gender, main.role) == ("male", "father")
    assert main.name.split()[0] in NAMES["english"]["male"]
    assert [o.speaker for o in copy.gold.opinions] == ["Dad"] * len(copy.gold.opinions)


def test_child_gender_swap_changes_name_and_pronouns_of_the_child_only(corpus):
    s = by_id(corpus, "eh-007")
    copy = SWAPS["child_gender"](s).apply(s)
    child = next(p for p in copy.people if p.role == "child")
    assert child.gender == "female" and child.name.split()[0] in NAMES["vietnamese"]["female"]
    assert "Duc" not in copy.transcript_text()
    assert "I thought you will take her." in copy.transcript_text()


def test_name_origin_swap_keeps_professionals_and_updates_origins(corpus):
    s = by_id(corpus, "cin-004")
    copy = SWAPS["names_polish"](s).apply(s)
    family = [p for p in copy.people if p.role in ("child", "mother", "father")]
    assert all(p.origin == "polish" for p in family)
    assert any(p.name == "Owen Hargreaves" for p in copy.people), "the social worker is unchanged"
    persons = [i for i in copy.gold.identifiers if i.type == "PERSON" and i.text != "Owen"]
    assert persons and all(i.origin == "polish" for i in persons)
    emails = [i.text for i in copy.gold.identifiers if i.type == "EMAIL"]
    assert emails and "chen" not in emails[0], "names inside a spoken email are swapped too"


@pytest.mark.parametrize(
    "sid, preset",
    [("cp-005", "parent_gender"), ("cp-005", "child_gender"), ("eh-006", "parent_gender")],
)
def test_a_preset_that_would_be_incoherent_refuses(corpus, sid, preset):
    with pytest.raises(NotApplicable, match=sid):
        SWAPS[preset](by_id(corpus, sid))


@pytest.mark.parametrize(
    "text, swap, expected",
    [
        (
            "Mum said she loves her son.",
            {"mum": "dad", "she": "he", "her": "his|him"},
            "Dad said he loves his son.",
        ),
        (
            "I told her to go and gave her a hug.",
            {"her": "his|him"},
            "I told him to go and gave him a hug.",
        ),
        ("MUM! Mummy's here.", {"mum": "dad", "mummy": "daddy"}, "DAD! Daddy's here."),
        ("That's his, not hers.", {"his": "her|hers", "hers": "his"}, "That's hers, not his."),
        (
            "Kasia's phone: kasia dot nowak at example dot com",
            {"kasia": "Ama", "nowak": "Mensah"},
            "Ama's phone: ama dot mensah at example dot com",
        ),
    ],
)
def test_swaps_keep_case_and_choose_the_right_pronoun(corpus, text, swap, expected):
    base = by_id(corpus, "cp-001")
    turns = ({"speaker": "Mum", "text": text},)
    data = yaml.safe_load((SCENARIO_DIR / "cp-001.yaml").read_text())
    data["turns"] = [*data["turns"], *turns]
    scenario = parse_scenario(data)
    copy = counterfactual(scenario, swap)
    assert copy.turns[-1].text == expected
    assert len(copy.turns) == len(base.turns) + 1


def test_a_scenario_file_is_found_by_path(tmp_path: Path):
    s = load_scenario(SCENARIO_DIR / "eh-004.yaml")
    assert s.id == "eh-004" and s.template == "visit_note"
