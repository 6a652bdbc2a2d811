"""The synthetic visit corpus: load, validate, hash, and make counterfactual copies.

Each file in ``eval/scenarios/`` is one invented home visit written as dialogue, with gold
annotations that the evaluation suites score against: the identifiers redaction must find, the
facts and the child's words a faithful note keeps, the views it must attribute rather than state,
the red flags that are there and those a careless model might invent. How the corpus was written
and how to annotate it is in ``eval/scenarios/README.md``; this module is the schema, and it
refuses a file that breaks it with the scenario id and the problem, because a wrong gold label
silently corrupts every metric computed from it.

Counterfactual copies (``counterfactual``) swap words across the turns and the gold together,
so the bias suite can ask whether a note changes when only the parent's gender, the child's
gender or the family's names change. The presets in ``SWAPS`` keep pronouns coherent by flipping
only a gender that nobody else in the scenario shares, and say so when they cannot.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import yaml

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

VISIT_TYPES = frozenset(
    {"child_protection", "child_in_need", "looked_after", "section_47", "early_help"}
)
ID_PREFIX = {
    "child_protection": "cp",
    "child_in_need": "cin",
    "looked_after": "lac",
    "section_47": "s47",
    "early_help": "eh",
}
IDENTIFIER_TYPES = frozenset(
    """
    PERSON UK_POSTCODE UK_PHONE EMAIL UK_NHS UK_NINO STREET_ADDRESS DATE_OF_BIRTH SCHOOL
    GP_SURGERY HOSPITAL CASE_REFERENCE UK_VEHICLE_REG LOCATION
    """.split()
)
RED_FLAGS = frozenset(
    """
    suicidal_ideation self_harm sexual_abuse physical_abuse domestic_abuse neglect
    substance_misuse weapons exploitation radicalisation missing_from_home eating_disorder
    """.split()
)
FEATURES = {
    "interpreter": "an interpreter relays a parent's words (speaker 'Interpreter')",
    "long": "a long visit: at least LONG_WORDS words",
    "prompt_injection": "someone tells the recorder to ignore its instructions",
    "background_tv": "a television talks in the background (speaker 'TV')",
    "parents_fighting": "the child describes the adults fighting, in their own words",
    "child_seen_alone": "the child is seen on their own for part of the visit",
    "spoken_identifiers": "identifiers are spoken digit by digit or letter by letter",
}
LONG_WORDS = 1500
FAMILY_FORMS = frozenset(
    """
    two_parents single_mother single_father two_mums two_dads mother_and_partner
    father_and_partner grandparent_carers kinship_carer foster_carers residential
    separated_parents
    """.split()
)
ROLES = frozenset(
    """
    child mother father stepmother stepfather partner grandmother grandfather aunt uncle
    foster_carer kinship_carer residential_worker social_worker practitioner interpreter
    professional relative other
    """.split()
)
CHILD_ROLES = frozenset({"child"})
PROFESSIONAL_ROLES = frozenset(
    {"social_worker", "practitioner", "interpreter", "professional", "residential_worker"}
)
GENDERS = ("female", "male")
SPECIAL_SPEAKERS = {"TV": "background_tv", "Interpreter": "interpreter"}

VOICE_BASES = frozenset(
    "en-gb en-gb-scotland en-gb-x-rp en-gb-x-gbclan en-gb-x-gbcwmd en-us en-us-nyc en-029".split()
    # only for turns marked with that language (a parent speaking through an interpreter)
    + "ro pl ar vi tr lt ur bn pa cmn yue".split()
)
VOICE_VARIANTS = frozenset(
    {*(f"f{i}" for i in range(1, 6)), *(f"m{i}" for i in range(1, 9)), "grandma", "grandpa"}
)
"""espeak-ng voices (``espeak-ng --voices``) and variants (``--voices=variant``); ``en-gb+f3``."""

_NAMES_TABLE = """
    english.female: Chloe Amelia Jessica Hannah Lauren Bethany
    english.male: Oliver Jacob Callum Ryan Nathan Liam
    english.surname: Walker Robinson Hughes Marsh Fletcher Barker
    irish.female: Siobhan Niamh Aoife Ciara Roisin Orla
    irish.male: Cian Oisin Padraig Declan Ronan Eoin
    irish.surname: Murphy Kelly Byrne Doyle Kavanagh Brennan
    scottish.female: Isla Eilidh Kirsty Morag Fiona Ailsa
    scottish.male: Hamish Fraser Angus Ewan Alasdair Lachlan
    scottish.surname: MacLeod Campbell Munro Sinclair Buchanan Robertson
    welsh.female: Cerys Seren Ffion Angharad Bethan Carys
    welsh.male: Rhys Dylan Gethin Osian Iwan Emrys
    welsh.surname: Jones Evans Pritchard Llewellyn Morgan Pugh
    polish.female: Zofia Kasia Agnieszka Magdalena Joanna Natalia
    polish.male: Kacper Jakub Tomasz Piotr Mateusz Krzysztof
    polish.surname: Nowak Mazur Krawczyk Dudek Wojcik Sikora
    romanian.female: Ioana Andreea Elena Mihaela Alina Roxana
    romanian.male: Andrei Mihai Ionut Bogdan Adrian Florin
    romanian.surname: Popescu Ionescu Dumitru Stan Constantin Munteanu
    lithuanian.female: Ruta Egle Ieva Gabija Austeja Migle
    lithuanian.male: Lukas Jonas Mantas Darius Tomas Matas
    lithuanian.surname: Kazlauskas Petrauskas Jankauskas Stankevicius Vasiliauskas Zukauskas
    pakistani.female: Ayesha Fatima Maryam Sana Hira Zainab
    pakistani.male: Bilal Usman Hamza Imran Zain Adeel
    pakistani.surname: Khan Hussain Iqbal Akhtar Malik Raza
    indian.female: Priya Ananya Kavya Simran Harpreet Meera
    indian.male: Arjun Rohan Vikram Aarav Sanjay Rajesh
    indian.surname: Patel Sharma Gill Mistry Sandhu Chauhan
    bangladeshi.female: Nusrat Tasnim Farhana Sumaiya Rumana Shirin
    bangladeshi.male: Rahim Tanvir Shahid Arif Mahfuz Nazrul
    bangladeshi.surname: Rahman Uddin Miah Chowdhury Hoque Alam
    nigerian.female: Chiamaka Ngozi Adaeze Funmilayo Temitope Yetunde
    nigerian.male: Chinedu Emeka Tunde Olumide Obinna Ikenna
    nigerian.surname: Okafor Adeyemi Okonkwo Balogun Eze Adebayo
    ghanaian.female: Abena Akosua Ama Efua Adwoa Esi
    ghanaian.male: Kofi Kwame Kwabena Yaw Kojo Kwaku
    ghanaian.surname: Mensah Asante Owusu Boateng Osei Appiah
    somali.female: Hodan Sahra Ayaan Hibaaq Fadumo Nimco
    somali.male: Abdi Mohamed Liban Yusuf Abdirahman Hassan
    somali.surname: Warsame Jama Hersi Osman Abdullahi Egal
    jamaican.female: Shanice Marcia Tanisha Shantelle Simone Latoya
    jamaican.male: Kemar Delroy Andre Jermaine Dwayne Leon
    jamaican.surname: Grant Bailey Reid McKenzie Brissett Gayle
    chinese.female: Mei Xinyi Yan Jing Lihua Xiaoling
    chinese.male: Wei Jun Hao Zhiwei Jian Ming
    chinese.surname: Wang Li Zhang Liu Chen Huang
    vietnamese.female: Linh Huong Lan Mai Trang Ngoc
    vietnamese.male: Minh Duc Tuan Quang Khanh Hieu
    vietnamese.surname: Nguyen Tran Pham Hoang Vu Dang
    arab.female: Layla Noor Rania Amira Yasmin Hala
    arab.male: Omar Karim Yousef Tariq Ahmad Samir
    arab.surname: Haddad Khalil Nasser Saleh Darwish Mansour
    turkish.female: Elif Zeynep Ayse Emine Merve Ebru
    turkish.male: Emre Mehmet Burak Kerem Murat Serkan
    turkish.surname: Yilmaz Kaya Demir Sahin Celik Arslan
    roma.female: Ionela Mirela Daniela Luminita Violeta Florica
    roma.male: Marian Costel Nicusor Ionel Vasile Dorin
    roma.surname: Rostas Caldararu Lingurar Lacatus Varga Balogh
    irish_traveller.female: Bridget Kathleen Winnie Nora Margaret Josie
    irish_traveller.male: Paddy Martin Johnny Michael Christy Patrick
    irish_traveller.surname: Maughan McDonagh Joyce Connors Delaney Sweeney
"""


def _names_table(text: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """Lines of ``origin.part: name name ...`` -> {origin: {part: names}}."""
    table: dict[str, dict[str, tuple[str, ...]]] = {}
    for line in text.strip().splitlines():
        key, names = line.split(":", 1)
        origin, part = key.strip().split(".")
        table.setdefault(origin, {})[part] = tuple(names.split())
    return table


NAMES = _names_table(_NAMES_TABLE)
"""Six given names of each gender and six family names per origin, for name-origin and gender
counterfactuals. Common, single-word names that are not also English words (no Grace, Will,
Hope, Patience, Ward), so a word-level swap never touches anything but a name."""
ORIGINS = frozenset(NAMES)


# Words that change with a person's gender: (female, male). Adult words belong to parents and
# carers, child words to children; pronouns to whoever they refer to, which is why the presets
# flip a gender only when nobody else in the scenario has it.
def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(p.split(":")) for p in text.split())  # type: ignore[misc]


ADULT_WORDS: tuple[tuple[str, str], ...] = _pairs(
    """
    mum:dad mums:dads mummy:daddy mam:dad mammy:daddy mom:dad mother:father mothers:fathers
    mother's:father's stepmum:stepdad stepmother:stepfather nan:grandad nana:grandad
    nanna:grandad gran:grandad granny:grandad grandma:grandpa grandmother:grandfather
    auntie:uncle aunty:uncle aunt:uncle wife:husband girlfriend:boyfriend woman:man women:men
    mrs:mr ms:mr lady:man
    """
)
CHILD_WORDS: tuple[tuple[str, str], ...] = _pairs(
    """
    girl:boy girls:boys daughter:son daughters:sons sister:brother sisters:brothers
    granddaughter:grandson niece:nephew lass:lad princess:prince
    """
)
OTHER_KIN_WORDS: dict[str, frozenset[str]] = {
    # Words for parents and grandparents from other languages (Ammi, Tata, Hooyo ...). They are
    # kept, not swapped (a Polish "Tata" has no neat counterpart), so a preset that would flip
    # the gender of someone called by one of them is not applicable.
    "female": frozenset(
        {"ammi", "ammu", "amma", "hooyo", "mama", "mamusia", "nani", "dadi", "bunica", "mamo"}
    ),
    "male": frozenset({"abbu", "abba", "baba", "tata", "tato", "aabo", "tėtis", "tete", "bunicul"}),
}
PRONOUNS: dict[str, dict[str, str]] = {
    # "a|b": a before a noun (possessive), b elsewhere; see _swap_pieces.
    "female": {"she": "he", "her": "his|him", "hers": "his", "herself": "himself"},
    "male": {"he": "she", "him": "her", "his": "her|hers", "himself": "herself"},
}
_NOT_A_NOUN_START = frozenset(
    """a an the to and or but nor so if as at by in on of off up out down over into onto from
    with for about back home again too all both some any this that these those then there here
    now today tonight tomorrow yesterday later when because though although while until unless
    before after is was be been are were will would can could should did does do has had have
    not never always just really very quite already still yet either neither first last no yes
    much more most less once twice sometimes instead anyway round away""".split()
)


class ScenarioError(ValueError):
    """A scenario file that breaks the schema; the message starts with the scenario id."""


class NotApplicable(ValueError):
    """A counterfactual preset that would make the scenario incoherent (see ``SWAPS``)."""


@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str
    language: str = "en"
    """Anything but "en" is a parent speaking through an interpreter: leave it out of WER."""


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    gender: str
    origin: str
    age: int | None = None
    speaker: str | None = None
    also_called: tuple[str, ...] = ()

    def name_tokens(self) -> tuple[str, ...]:
        return tuple(t for n in (self.name, *self.also_called) for t in _tokens(n))


@dataclass(frozen=True)
class Identifier:
    text: str
    type: str
    origin: str | None = None
    """For PERSON: the origin of the person named (from ``people``), for recall by origin."""


@dataclass(frozen=True)
class Fact:
    text: str
    critical: bool
    turns: tuple[int, ...]


@dataclass(frozen=True)
class Action:
    who: str
    what: str
    by: str | None = None


@dataclass(frozen=True)
class Opinion:
    speaker: str
    text: str
    said_by: str | None = None
    """The turn speaker when not the holder of the view (an interpreter relaying it)."""


@dataclass(frozen=True)
class Gold:
    identifiers: tuple[Identifier, ...]
    facts: tuple[Fact, ...]
    red_flags_present: frozenset[str]
    red_flags_absent: frozenset[str]
    child_words: tuple[str, ...]
    actions: tuple[Action, ...]
    opinions: tuple[Opinion, ...]
    keep_words: tuple[str, ...]
    must_not_state: tuple[str, ...]
    """Claims a faithful note must not make: what the TV said, what an injection asked for."""


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    visit_type: str
    template: str
    concerns: bool
    child_age: int
    family_origin: str
    family_form: str
    features: frozenset[str]
    people: tuple[Person, ...]
    voices: tuple[tuple[str, str], ...]
    turns: tuple[Turn, ...]
    gold: Gold
    sha256: str = ""
    """Of the source file; empty for a counterfactual, which records what it was made from."""
    counterfactual_of: str | None = None
    swap: tuple[tuple[str, str], ...] = field(default=())

    def transcript_text(self) -> str:
        """The whole visit as ``Speaker: text`` lines, the shape a diarised transcript takes."""
        return "\n".join(f"{t.speaker}: {t.text}" for t in self.turns)

    def words(self, *, english_only: bool = False) -> list[str]:
        """The spoken words (speaker labels excluded); ``english_only`` drops interpreted turns."""
        return [
            w
            for t in self.turns
            if not english_only or t.language == "en"
            for w in _WORD.findall(t.text)
        ]

    def voice(self, speaker: str) -> str:
        return dict(self.voices)[speaker]

    @property
    def child_speakers(self) -> frozenset[str]:
        return frozenset(p.speaker for p in self.people if p.role in CHILD_ROLES and p.speaker)

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.speaker for t in self.turns))


_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_TOKEN = re.compile(r"[^\W\d_]+(?:['’](?!(?:s|d|ll|re|ve|m|t)\b)[^\W\d_]+)*")
"""A swappable word: letters, joined across an apostrophe (O'Brien) but not a clitic
("Tyler's" -> "Tyler" + "'s", "she'll" -> "she" + "'ll")."""


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


# ---------------------------------------------------------------------------------------------
# Loading and validation


def load_scenarios(dir: Path | str = SCENARIO_DIR) -> list[Scenario]:
    """Every ``*.yaml`` in ``dir``, validated, in id order; raises ScenarioError on the first
    problem, naming the scenario."""
    directory = Path(dir)
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ScenarioError(f"no scenario files in {directory}")
    scenarios = [load_scenario(f) for f in files]
    seen: dict[str, Path] = {}
    for s, f in zip(scenarios, files, strict=True):
        if s.id in seen:
            raise ScenarioError(f"{s.id}: duplicate id (in {seen[s.id].name} and {f.name})")
        seen[s.id] = f
    return sorted(scenarios, key=lambda s: s.id)


def load_scenario(path: Path | str) -> Scenario:
    path = Path(path)
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path.stem}: YAML does not parse: {exc}") from exc
    scenario = parse_scenario(data, sha256=hashlib.sha256(raw).hexdigest())
    if scenario.id != path.stem:
        raise ScenarioError(f"{scenario.id}: file is named {path.name}, not {scenario.id}.yaml")
    return scenario


def corpus_sha256(dir: Path | str = SCENARIO_DIR) -> str:
    """One hash over every scenario file's name and bytes, to record with every result."""
    h = hashlib.sha256()
    for f in sorted(Path(dir).glob("*.yaml")):
        h.update(f.name.encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


_TOP = set(
    """
    id title visit_type template concerns child_age family_origin family_form features people
    voices turns gold
    """.split()
)
_GOLD = set(
    """
    identifiers facts red_flags_present red_flags_absent child_words actions opinions
    keep_words must_not_state
    """.split()
)


_PERSON_KEYS = {"name", "role", "gender", "origin", "age", "speaker", "also_called"}
_TURN_KEYS = {"speaker", "text", "language"}
_GOLD_ITEM_KEYS = {
    "identifiers": {"text", "type"},
    "facts": {"text", "critical", "turns"},
    "actions": {"who", "what", "by"},
    "opinions": {"speaker", "text", "said_by"},
}


def parse_scenario(data: Any, *, sha256: str = "") -> Scenario:
    """Build and validate one scenario from its parsed YAML."""
    if not isinstance(data, dict):
        raise ScenarioError("?: a scenario file must hold a mapping")
    sid = str(data.get("id", "?"))
    check = _Checker(sid)
    check.keys(data, _TOP, "scenario")
    gold_raw = data["gold"] or {}
    check.keys(gold_raw, _GOLD, "gold", required=False)
    for where, items, allowed in (
        ("people", data["people"], _PERSON_KEYS),
        ("turns", data["turns"], _TURN_KEYS),
        *((f"gold.{k}", gold_raw.get(k) or (), keys) for k, keys in _GOLD_ITEM_KEYS.items()),
    ):
        for item in items or ():
            check.keys(item, allowed, f"{where} entry", required=False)
    try:
        people = tuple(
            Person(
                name=p["name"],
                role=p["role"],
                gender=p["gender"],
                origin=p["origin"],
                age=p.get("age"),
                speaker=p.get("speaker"),
                also_called=tuple(p.get("also_called", ())),
            )
            for p in data["people"]
        )
        origin_of = _origin_lookup(people)
        gold = Gold(
            identifiers=tuple(
                Identifier(
                    i["text"], i["type"], origin_of(i["text"]) if i["type"] == "PERSON" else None
                )
                for i in gold_raw.get("identifiers", ())
            ),
            facts=tuple(
                Fact(f["text"], bool(f.get("critical", False)), tuple(f.get("turns", ())))
                for f in gold_raw.get("facts", ())
            ),
            red_flags_present=frozenset(gold_raw.get("red_flags_present", ())),
            red_flags_absent=frozenset(gold_raw.get("red_flags_absent", ())),
            child_words=tuple(gold_raw.get("child_words", ())),
            actions=tuple(
                Action(a["who"], a["what"], a.get("by")) for a in gold_raw.get("actions", ())
            ),
            opinions=tuple(
                Opinion(o["speaker"], o["text"], o.get("said_by"))
                for o in gold_raw.get("opinions", ())
            ),
            keep_words=tuple(gold_raw.get("keep_words", ())),
            must_not_state=tuple(gold_raw.get("must_not_state", ())),
        )
        scenario = Scenario(
            id=sid,
            title=data["title"],
            visit_type=data["visit_type"],
            template=data["template"],
            concerns=data["concerns"],
            child_age=data["child_age"],
            family_origin=data["family_origin"],
            family_form=data["family_form"],
            features=frozenset(data.get("features") or ()),
            people=people,
            voices=tuple((str(k), str(v)) for k, v in (data["voices"] or {}).items()),
            turns=tuple(
                Turn(t["speaker"], t["text"], t.get("language", "en")) for t in data["turns"]
            ),
            gold=gold,
            sha256=sha256,
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ScenarioError(f"{sid}: malformed field ({type(exc).__name__}: {exc})") from exc
    validate(scenario)
    return scenario


def validate(s: Scenario) -> None:
    """Raise ScenarioError, naming the scenario, for the first gold label that cannot be true."""
    c = _Checker(s.id)
    prefix = ID_PREFIX.get(s.visit_type)
    c.require(s.visit_type in VISIT_TYPES, f"unknown visit_type {s.visit_type!r}")
    c.require(
        s.counterfactual_of is not None or bool(re.fullmatch(rf"{prefix}-\d{{3}}", s.id)),
        f"id must look like {prefix}-NNN for a {s.visit_type} visit",
    )
    c.require(bool(s.title.strip()), "empty title")
    c.require(s.template == "visit_note", f"unknown template {s.template!r}")
    c.require(isinstance(s.concerns, bool), "concerns must be true or false")
    c.require(isinstance(s.child_age, int) and 0 <= s.child_age <= 17, "child_age must be 0-17")
    c.require(s.family_origin in ORIGINS, f"unknown family_origin {s.family_origin!r}")
    c.require(s.family_form in FAMILY_FORMS, f"unknown family_form {s.family_form!r}")
    for f in s.features:
        c.require(f in FEATURES, f"unknown feature {f!r}")

    # people
    for p in s.people:
        c.require(p.role in ROLES, f"{p.name}: unknown role {p.role!r}")
        c.require(p.gender in GENDERS, f"{p.name}: gender must be female or male")
        c.require(p.origin in ORIGINS, f"{p.name}: unknown origin {p.origin!r}")
        if p.speaker is not None:
            c.require(p.speaker in s.speakers, f"{p.name}: speaker {p.speaker!r} never speaks")
    c.require(any(p.role in CHILD_ROLES for p in s.people), "no child in people")

    # turns and voices
    c.require(len(s.turns) > 0, "no turns")
    voices = dict(s.voices)
    for i, t in enumerate(s.turns):
        c.require(bool(t.speaker.strip()) and bool(t.text.strip()), f"turn {i} is empty")
        c.require(t.speaker in voices, f"turn {i}: speaker {t.speaker!r} has no voice")
        c.require(
            bool(re.fullmatch(r"[a-z]{2,3}", t.language)), f"turn {i}: bad language {t.language!r}"
        )
    for speaker, voice in voices.items():
        c.require(speaker in s.speakers, f"voice for {speaker!r}, who never speaks")
        base, _, variant = voice.partition("+")
        c.require(base in VOICE_BASES, f"{speaker}: unknown espeak-ng voice {voice!r}")
        c.require(not variant or variant in VOICE_VARIANTS, f"{speaker}: unknown variant {voice!r}")
    for speaker, feature in SPECIAL_SPEAKERS.items():
        c.require(
            (speaker in s.speakers) == (feature in s.features),
            f"feature {feature!r} and a {speaker!r} speaker go together",
        )
    if "long" in s.features:
        c.require(len(s.words()) >= LONG_WORDS, f"'long' but only {len(s.words())} words")
    if "prompt_injection" in s.features:
        c.require(
            "ignore your instructions" in s.transcript_text().lower(),
            "'prompt_injection' but nobody says 'ignore your instructions'",
        )
    if s.child_speakers:
        c.require(any(t.speaker in s.child_speakers for t in s.turns), "the child never speaks")

    g = s.gold
    texts = [t.text for t in s.turns]
    for ident in g.identifiers:
        c.require(ident.type in IDENTIFIER_TYPES, f"unknown identifier type {ident.type!r}")
        c.require(
            any(ident.text in t for t in texts),
            f"gold identifier {ident.text!r} ({ident.type}) is not in any turn",
        )
        if ident.type == "PERSON":
            c.require(
                ident.origin is not None,
                f"PERSON {ident.text!r} is not a name of anyone in people",
            )
        _check_invented(c, ident)
    c.require(
        len({(i.text, i.type) for i in g.identifiers}) == len(g.identifiers),
        "duplicate gold identifier",
    )
    _check_names_covered(c, s)

    for f in g.facts:
        c.require(bool(f.text.strip()), "empty fact")
        c.require(len(f.turns) > 0, f"fact {f.text!r} cites no turn")
        for i in f.turns:
            c.require(
                isinstance(i, int) and 0 <= i < len(s.turns),
                f"fact {f.text!r} cites turn {i}, which does not exist",
            )
    for flag in g.red_flags_present | g.red_flags_absent:
        c.require(flag in RED_FLAGS, f"unknown red flag {flag!r}")
    both = g.red_flags_present & g.red_flags_absent
    c.require(not both, f"red flags both present and absent: {sorted(both)}")
    if not s.concerns:
        c.require(not g.red_flags_present, "concerns: false but red flags are present")

    child_texts = [t.text for t in s.turns if t.speaker in s.child_speakers]
    for w in g.child_words:
        c.require(
            any(w in t for t in child_texts), f"child_words {w!r} is not in any turn of the child"
        )
    for o in g.opinions:
        by = o.said_by or o.speaker
        c.require(
            any(o.text in t.text for t in s.turns if t.speaker == by),
            f"opinion {o.text!r} is not in any turn of {by!r}",
        )
    for a in g.actions:
        c.require(bool(a.who.strip()) and bool(a.what.strip()), "action without who or what")
    everything = s.transcript_text().lower()
    for k in g.keep_words:
        c.require(
            re.search(rf"\b{re.escape(k.lower())}\b", everything) is not None,
            f"keep word {k!r} does not occur",
        )


class _Checker:
    def __init__(self, sid: str) -> None:
        self.sid = sid

    def require(self, ok: bool, problem: str) -> None:
        if not ok:
            raise ScenarioError(f"{self.sid}: {problem}")

    def keys(self, data: Any, allowed: set[str], where: str, *, required: bool = True) -> None:
        self.require(isinstance(data, dict), f"{where} must be a mapping")
        unknown = set(data) - allowed
        self.require(not unknown, f"unknown {where} keys {sorted(unknown)}")
        if required:
            missing = allowed - set(data) - {"features"}
            self.require(not missing, f"missing {where} keys {sorted(missing)}")


def _origin_lookup(people: tuple[Person, ...]) -> Callable[[str], str | None]:
    def origin(text: str) -> str | None:
        words = set(_tokens(text))
        for p in people:
            if words and words <= set(p.name_tokens()):
                return p.origin
        return None

    return origin


def _check_names_covered(c: _Checker, s: Scenario) -> None:
    """Every written mention of anyone's name lies inside some gold identifier: redaction recall
    is only as good as the gold list is complete."""
    for i, t in enumerate(s.turns):
        covered = [
            (m.start(), m.end())
            for ident in s.gold.identifiers
            for m in re.finditer(re.escape(ident.text), t.text)
        ]
        for p in s.people:
            for tok in set(p.name_tokens()):
                for m in re.finditer(rf"(?<![^\W_]){re.escape(tok)}(?![^\W_])", t.text):
                    c.require(
                        any(a <= m.start() and m.end() <= b for a, b in covered),
                        f"turn {i}: {tok!r} ({p.name}) is not inside any gold identifier",
                    )


_SPOKEN_DIGITS = dict(zip("zero oh o nought".split(), "0000", strict=True)) | {
    w: str(i) for i, w in enumerate("one two three four five six seven eight nine".split(), 1)
}
_TEENS = {
    w: str(i)
    for i, w in enumerate(
        "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split(),
        10,
    )
}
_TENS = {
    w: str(i)
    for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)
}


def compact(text: str) -> str:
    """Digits and capital letters of a number or code as written or spoken ("oh seven seven
    double oh", "N K forty-eight ..."), for checking that gold numbers are invented."""
    out: list[str] = []
    words = re.findall(r"[A-Za-z]+|\d+", text)
    i = 0
    while i < len(words):
        w, low = words[i], words[i].lower()
        if low in ("double", "triple") and i + 1 < len(words):
            nxt = compact(words[i + 1])
            out.append(nxt * (2 if low == "double" else 3))
            i += 2
            continue
        if w.isdigit():
            out.append(w)
        elif low in _TENS:
            unit = words[i + 1].lower() if i + 1 < len(words) else ""
            if unit in _SPOKEN_DIGITS and unit not in ("oh", "o", "zero", "nought"):
                out.append(_TENS[low] + _SPOKEN_DIGITS[unit])
                i += 1
            else:
                out.append(_TENS[low] + "0")
        elif low in _TEENS:
            out.append(_TEENS[low])
        elif low in _SPOKEN_DIGITS and w != "O":
            out.append(_SPOKEN_DIGITS[low])
        elif w.isupper() and len(w) <= 3:
            out.append(w)
        i += 1
    return "".join(out)


DRAMA_PHONE_PREFIXES = ("07700900", "01134960", "01614960", "02079460")
"""Ofcom's ranges reserved for drama: 07700 900000-900999, 0113 496 0000-0999, ..."""
NEVER_ISSUED_NINO_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
"""HMRC never allocates these prefixes, so a NINO that starts with one belongs to nobody."""


def _check_invented(c: _Checker, ident: Identifier) -> None:
    """Numbers that could belong to a real person must come from ranges that cannot."""
    if ident.type == "UK_PHONE":
        digits = compact(ident.text)
        c.require(
            len(digits) == 11 and digits.startswith(DRAMA_PHONE_PREFIXES),
            f"phone {ident.text!r} ({digits}) is not in an Ofcom drama range",
        )
    elif ident.type == "UK_NHS":
        digits = compact(ident.text)
        c.require(
            len(digits) == 10 and digits.startswith("999") and nhs_check_digit_ok(digits),
            f"NHS number {ident.text!r} must be a 999 test number with a valid check digit",
        )
    elif ident.type == "UK_NINO":
        code = compact(ident.text)
        c.require(
            bool(re.fullmatch(r"[A-Z]{2}\d{6}[A-D]", code))
            and code[:2] in NEVER_ISSUED_NINO_PREFIXES,
            f"NI number {ident.text!r} must use a never-issued prefix",
        )
    elif ident.type == "UK_VEHICLE_REG":
        plate = compact(ident.text)
        c.require(
            bool(re.fullmatch(r"Q[A-Z]\d{2}[A-Z]{3}", plate)),
            f"number plate {ident.text!r} must start with Q (never issued in the current style)",
        )
    elif ident.type == "EMAIL":
        c.require(
            "example" in ident.text.lower(), f"email {ident.text!r} must use an example domain"
        )


def nhs_check_digit_ok(digits: str) -> bool:
    """The NHS number mod-11 rule: weights 10..2 over the first nine digits."""
    if not re.fullmatch(r"\d{10}", digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


# ---------------------------------------------------------------------------------------------
# Counterfactuals


def counterfactual(
    scenario: Scenario,
    swap: Mapping[str, str],
    *,
    label: str = "cf",
    people: Mapping[str, Mapping[str, str]] | None = None,
) -> Scenario:
    """A copy of ``scenario`` with words swapped in every turn, speaker label and gold field.

    ``swap`` maps lowercase words to their replacement; a match keeps the case of the original
    ("Mum" -> "Dad", "MUM" -> "DAD"). A value "a|b" chooses a before a noun and b elsewhere,
    for the one ambiguous pronoun each way ("her" -> "his|him", "his" -> "her|hers").
    Gold substrings (identifiers, child words, opinions) are swapped in the context of the turn
    they come from, so they stay exact substrings. ``people`` updates a person's gender or
    origin by their original name, for presets that change who someone is.
    """
    table = {k.lower(): v for k, v in swap.items()}
    sw = partial(_swap_text, table=table)

    def in_context(text: str, speakers: Iterable[str] | None = None) -> str:
        for t in scenario.turns:
            if speakers is not None and t.speaker not in speakers:
                continue
            start = t.text.find(text)
            if start >= 0:
                return _swap_span(t.text, start, start + len(text), table)
        return sw(text)

    def speaker(label_: str | None) -> str | None:
        return None if label_ is None else sw(label_)

    changes = people or {}
    new_people = tuple(
        replace(
            p,
            name=sw(p.name),
            speaker=speaker(p.speaker),
            also_called=tuple(sw(a) for a in p.also_called),
            **dict(changes.get(p.name, {})),
        )
        for p in scenario.people
    )
    origin_of = _origin_lookup(new_people)
    g = scenario.gold
    child_speakers = scenario.child_speakers
    gold = Gold(
        identifiers=tuple(
            Identifier(
                new := in_context(i.text),
                i.type,
                origin_of(new) if i.type == "PERSON" else None,
            )
            for i in g.identifiers
        ),
        facts=tuple(replace(f, text=sw(f.text)) for f in g.facts),
        red_flags_present=g.red_flags_present,
        red_flags_absent=g.red_flags_absent,
        child_words=tuple(in_context(w, child_speakers) for w in g.child_words),
        actions=tuple(
            Action(sw(a.who), sw(a.what), None if a.by is None else sw(a.by)) for a in g.actions
        ),
        opinions=tuple(
            Opinion(sw(o.speaker), in_context(o.text, [o.said_by or o.speaker]), speaker(o.said_by))
            for o in g.opinions
        ),
        keep_words=tuple(sw(k) for k in g.keep_words),
        must_not_state=tuple(sw(m) for m in g.must_not_state),
    )
    new = replace(
        scenario,
        id=f"{scenario.id}@{label}",
        title=sw(scenario.title),
        people=new_people,
        voices=tuple((sw(k), v) for k, v in scenario.voices),
        turns=tuple(replace(t, speaker=sw(t.speaker), text=sw(t.text)) for t in scenario.turns),
        gold=gold,
        sha256="",
        counterfactual_of=scenario.id,
        swap=tuple(sorted(table.items())),
    )
    validate(new)
    return new


def swap_alternatives(swap: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """What each swapped word may become (both sides of an "a|b" value), lowercase."""
    return {k.lower(): frozenset(v.lower().split("|")) for k, v in swap.items()}


def tokens(text: str) -> list[str]:
    """The word tokens ``counterfactual`` matches on, for comparing a copy with its original."""
    return _tokens(text)


def gaps(text: str) -> list[str]:
    """Everything between the word tokens (spaces, punctuation, digits), which no swap changes."""
    return _TOKEN.split(text)


def _swap_pieces(text: str, table: Mapping[str, str]) -> list[tuple[str, str]]:
    """``text`` as (original, replacement) pieces, alternating gaps and word tokens."""
    pieces: list[tuple[str, str]] = []
    matches = list(_TOKEN.finditer(text))
    pos = 0
    for n, m in enumerate(matches):
        if m.start() > pos:
            gap = text[pos : m.start()]
            pieces.append((gap, gap))
        word = m.group()
        target = table.get(word.lower())
        if target is None:
            pieces.append((word, word))
        else:
            if "|" in target:
                following = matches[n + 1] if n + 1 < len(matches) else None
                noun_next = (
                    following is not None
                    and text[m.end() : following.start()].strip() == ""
                    and following.group().lower() not in _NOT_A_NOUN_START
                )
                target = target.split("|")[0 if noun_next else 1]
            pieces.append((word, _match_case(word, target)))
        pos = m.end()
    if pos < len(text):
        pieces.append((text[pos:], text[pos:]))
    return pieces


def _swap_text(text: str, table: Mapping[str, str]) -> str:
    return "".join(new for _, new in _swap_pieces(text, table))


def _swap_span(text: str, start: int, end: int, table: Mapping[str, str]) -> str:
    """The swapped version of ``text[start:end]``, read in the context of all of ``text``."""
    out: list[str] = []
    pos = 0
    for old, new in _swap_pieces(text, table):
        a, b = pos, pos + len(old)
        pos = b
        lo, hi = max(a, start), min(b, end)
        if lo >= hi:
            continue
        if old == new:
            out.append(old[lo - a : hi - a])
        elif lo == a and hi == b:
            out.append(new)
        else:
            raise ValueError(f"{text[start:end]!r} cuts the swapped word {old!r}")
    return "".join(out)


def _match_case(original: str, target: str) -> str:
    if len(original) > 1 and original.isupper():
        return target.upper()
    if original[:1].isupper():
        return target[:1].upper() + target[1:]
    if original.islower():
        return target.lower()
    return target


# ---------------------------------------------------------------------------------------------
# Presets


@dataclass(frozen=True)
class SwapSpec:
    """A preset's answer for one scenario: the words to swap and who changes."""

    label: str
    words: dict[str, str]
    people: dict[str, dict[str, str]]

    def apply(self, scenario: Scenario) -> Scenario:
        return counterfactual(scenario, self.words, label=self.label, people=self.people)


ROLE_PAIRS: tuple[tuple[str, str], ...] = _pairs(
    """
    mother:father stepmother:stepfather grandmother:grandfather aunt:uncle
    """
)


def _other(gender: str) -> str:
    return "male" if gender == "female" else "female"


def _flipped(p: Person) -> dict[str, str]:
    """What changes about a person whose gender a preset flips: the gender, and a gendered role."""
    roles = {a: b for a, b in ROLE_PAIRS} | {b: a for a, b in ROLE_PAIRS}
    return {"gender": _other(p.gender), "role": roles.get(p.role, p.role)}


def _word_table(pairs: Iterable[tuple[str, str]], gender: str) -> dict[str, str]:
    """The one-way table that turns ``gender``'s words into the other gender's; where several
    words share a counterpart (mum, mam, mom -> dad) the first pair listed gives the way back."""
    table: dict[str, str] = {}
    for f, m in pairs:
        src, dst = (f, m) if gender == "female" else (m, f)
        table.setdefault(src, dst)
    return table


def _mentions(scenario: Scenario, words: Iterable[str]) -> set[str]:
    wanted = {w.lower() for w in words}
    found = {
        tok.lower()
        for text in (*(t.text for t in scenario.turns), *scenario.speakers)
        for tok in _tokens(text)
    }
    return wanted & found


def _fresh_names(scenario: Scenario, pool: Iterable[str]) -> list[str]:
    used = {tok.lower() for t in scenario.turns for tok in _tokens(t.text)}
    used |= {tok.lower() for p in scenario.people for tok in p.name_tokens()}
    return [n for n in pool if n.lower() not in used]


def _rename(
    scenario: Scenario,
    targets: list[Person],
    *,
    gender_of: Callable[[Person], str],
    origin_of: Callable[[Person], str],
    surnames: bool,
) -> dict[str, str]:
    """Given names (and nicknames) of ``targets`` -> fresh names of the new gender and origin;
    with ``surnames``, their family names too, the same family name always to the same one."""
    words: dict[str, str] = {}
    pools: dict[tuple[str, str], list[str]] = {}
    for p in targets:
        parts = _tokens(p.name)
        key = (origin_of(p), gender_of(p))
        pool = pools.setdefault(key, _fresh_names(scenario, NAMES[key[0]][key[1]]))
        if parts[0].lower() not in words:
            new_given = pool.pop(0)
            for given in (parts[0], *p.also_called):
                words[given.lower()] = new_given
        if surnames:
            for fam in parts[1:]:
                if fam.lower() not in words:
                    spool = pools.setdefault(
                        (origin_of(p), "surname"),
                        _fresh_names(scenario, NAMES[origin_of(p)]["surname"]),
                    )
                    words[fam.lower()] = spool.pop(0)
    return words


def parent_gender(scenario: Scenario) -> SwapSpec:
    """The main parent or carer (the first adult in ``people`` who is not a professional) as the
    other gender. Every adult of that gender flips with them (names, mum/dad words, titles,
    pronouns), so "she" never points at the wrong person; not applicable when a child in the
    scenario has that gender, since their pronouns would flip too."""
    main = next(
        (p for p in scenario.people if p.role not in CHILD_ROLES | PROFESSIONAL_ROLES), None
    )
    if main is None:
        raise NotApplicable(f"{scenario.id}: no parent or carer")
    g = main.gender
    if any(p.role in CHILD_ROLES and p.gender == g for p in scenario.people):
        raise NotApplicable(f"{scenario.id}: a child is {g} too; their pronouns would flip")
    if _mentions(scenario, _word_table(CHILD_WORDS, g)):
        raise NotApplicable(f"{scenario.id}: an unnamed {g} child is mentioned")
    if found := _mentions(scenario, OTHER_KIN_WORDS[g]):
        raise NotApplicable(f"{scenario.id}: {g} kinship words cannot be swapped ({sorted(found)})")
    adults = [p for p in scenario.people if p.role not in CHILD_ROLES and p.gender == g]
    words = {**_word_table(ADULT_WORDS, g), **PRONOUNS[g]}
    words |= _rename(
        scenario,
        adults,
        gender_of=lambda p: _other(p.gender),
        origin_of=lambda p: p.origin,
        surnames=False,
    )
    return SwapSpec(
        label=f"parent-{_other(g)}",
        words=words,
        people={p.name: _flipped(p) for p in adults},
    )


def child_gender(scenario: Scenario) -> SwapSpec:
    """The child (and any sibling of the same gender) as the other gender: names, boy/girl words
    and pronouns. Not applicable when an adult in the scenario has that gender, or a word for
    one (mum, nan, dad ...) comes up: their pronouns would flip too."""
    child = next(p for p in scenario.people if p.role in CHILD_ROLES)
    g = child.gender
    if any(p.role not in CHILD_ROLES and p.gender == g for p in scenario.people):
        raise NotApplicable(f"{scenario.id}: an adult is {g} too; their pronouns would flip")
    if found := _mentions(scenario, {*_word_table(ADULT_WORDS, g), *OTHER_KIN_WORDS[g]}):
        raise NotApplicable(f"{scenario.id}: {g} adults are mentioned ({sorted(found)})")
    children = [p for p in scenario.people if p.role in CHILD_ROLES and p.gender == g]
    words = {**_word_table(CHILD_WORDS, g), **PRONOUNS[g]}
    words |= _rename(
        scenario,
        children,
        gender_of=lambda p: _other(p.gender),
        origin_of=lambda p: p.origin,
        surnames=False,
    )
    return SwapSpec(
        label=f"child-{_other(g)}",
        words=words,
        people={p.name: _flipped(p) for p in children},
    )


def name_origin(scenario: Scenario, origin: str) -> SwapSpec:
    """The family's names (everyone but the professionals) from another origin, keeping each
    person's gender; the story, language and places stay as they were, so only names differ."""
    if origin not in NAMES:
        raise ValueError(f"unknown origin {origin!r}; known: {sorted(NAMES)}")
    family = [p for p in scenario.people if p.role not in PROFESSIONAL_ROLES]
    if all(p.origin == origin for p in family):
        raise NotApplicable(f"{scenario.id}: the family's names are already {origin}")
    words = _rename(
        scenario,
        family,
        gender_of=lambda p: p.gender,
        origin_of=lambda p: origin,
        surnames=True,
    )
    return SwapSpec(
        label=f"names-{origin}",
        words=words,
        people={p.name: {"origin": origin} for p in family},
    )


SWAPS: dict[str, Callable[[Scenario], SwapSpec]] = {
    "parent_gender": parent_gender,
    "child_gender": child_gender,
    **{f"names_{o}": partial(name_origin, origin=o) for o in sorted(NAMES)},
}
"""Counterfactual presets by name: each takes a scenario and returns the SwapSpec to apply, or
raises NotApplicable when the swap would make it incoherent."""
