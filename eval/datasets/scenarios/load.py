"""Loading, validating and hashing the scenario files.

A file that breaks the schema is refused with the scenario id and the problem, because a wrong
gold label silently corrupts every metric computed from it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from eval.datasets.scenarios.schema import (
    CHILD_ROLES,
    FAMILY_FORMS,
    FEATURES,
    GENDERS,
    ID_PREFIX,
    IDENTIFIER_TYPES,
    LONG_WORDS,
    ORIGINS,
    RED_FLAGS,
    ROLES,
    SCENARIO_DIR,
    SPECIAL_SPEAKERS,
    VISIT_TYPES,
    VOICE_BASES,
    VOICE_VARIANTS,
    Action,
    Fact,
    Gold,
    Identifier,
    Opinion,
    Person,
    Scenario,
    ScenarioError,
    Turn,
    _tokens,
)


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
    _check_people(c, s)
    _check_turns(c, s)
    _check_identifiers(c, s)
    _check_gold(c, s)


def _check_people(c: _Checker, s: Scenario) -> None:
    """Roles, genders and origins from the schema; a speaker label that speaks; a child."""
    for p in s.people:
        c.require(p.role in ROLES, f"{p.name}: unknown role {p.role!r}")
        c.require(p.gender in GENDERS, f"{p.name}: gender must be female or male")
        c.require(p.origin in ORIGINS, f"{p.name}: unknown origin {p.origin!r}")
        if p.speaker is not None:
            c.require(p.speaker in s.speakers, f"{p.name}: speaker {p.speaker!r} never speaks")
    c.require(any(p.role in CHILD_ROLES for p in s.people), "no child in people")


def _check_turns(c: _Checker, s: Scenario) -> None:
    """Turns, voices and the features that depend on who speaks and what is said."""
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


def _check_identifiers(c: _Checker, s: Scenario) -> None:
    """Gold identifiers: a known type, in some turn, invented, and every name inside one."""
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


def _check_gold(c: _Checker, s: Scenario) -> None:
    """Facts, red flags, the child's words, opinions, actions and keep words."""
    g = s.gold
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
