"""The scenario schema: the allowed values of every field and the frozen types a file becomes.

Loading and validation are in ``load.py``, counterfactual copies in ``counterfactual.py``; the
package's ``__init__`` says what the corpus is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SCENARIO_DIR = Path(__file__).resolve().parent
"""The scenario files (``*.yaml``) lie beside this module."""

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
