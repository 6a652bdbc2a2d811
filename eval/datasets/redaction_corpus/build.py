"""Build the synthetic redaction corpus (``corpus.jsonl``) from ``templates.yaml``/``pools.yaml``.

    .venv/bin/python -m eval.datasets.redaction_corpus.build          # write corpus.jsonl
    .venv/bin/python -m eval.datasets.redaction_corpus.build --check  # exit 1 if it is stale

Deterministic: every random choice comes from ``random.Random`` seeded with a string made of
``SEED``, the template id and the group (string seeds are hashed with SHA-512 by ``random``, so
the result does not depend on ``PYTHONHASHSEED`` or the machine). Each template is filled once
per origin group ("written" form: what a careful typist would write), then ``whisper_form``
rewrites every gold span the way Whisper writes speech (documented in README.md beside this file)
and carries the gold offsets over exactly. Every value is invented: phone numbers in Ofcom's drama
ranges, NHS numbers random with a valid mod-11 check digit, National Insurance numbers with
allowed prefixes, e-mail domains under example.* (reserved by RFC 2606).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from eval.datasets.redaction_corpus.whisper import MONTHS, SEED, _fold, _suffix, whisper_form

HERE = Path(__file__).resolve().parent
CORPUS_PATH = HERE / "corpus.jsonl"
TUNE_SHARE = 0.7

FEMALE_ROLES = {"mum", "nan", "hv"}
MALE_ROLES = {"dad", "partner", "uncle"}
FAMILY_SURNAME_ROLES = {"child", "sib", "dad"}
ROLES = {
    "child", "sib", "mum", "dad", "partner", "nan", "uncle", "friend", "other", "sw", "sw2",
    "teacher", "gp", "hv", "nurse",
}  # fmt: skip
PRONOUNS = {
    "female": {"he": "she", "He": "She", "his": "her", "His": "Her", "him": "her"},
    "male": {"he": "he", "He": "He", "his": "his", "His": "His", "him": "him"},
}
LANDLINES = [
    ("0113", "496 0"), ("0114", "496 0"), ("0115", "496 0"), ("0116", "496 0"),
    ("0117", "496 0"), ("0118", "496 0"), ("0121", "496 0"), ("0131", "496 0"),
    ("0141", "496 0"), ("0151", "496 0"), ("0161", "496 0"), ("020", "7946 0"),
    ("029", "2018 0"), ("028", "9649 6"), ("01632", "960"),
]  # fmt: skip
POSTCODE_AREAS = [
    "LS", "BD", "M", "B", "S", "L", "G", "CF", "E", "N", "NE", "HU", "NG", "LE", "BS", "EH",
    "BT", "SW", "OL", "WF", "HD", "BB", "SR", "TS", "CV", "WS", "DE", "PE", "LU", "SL",
]  # fmt: skip
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # no C I K M O V
NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"
NINO_BANNED = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
REG_MEMORY = [
    "YK",
    "YA",
    "YB",
    "YC",
    "YD",
    "YE",
    "YG",
    "YH",
    "YJ",
    "MA",
    "MB",
    "MC",
    "BD",
    "BF",
    "LA",
    "LB",
    "LC",
    "SA",
    "SB",
    "SC",
    "DA",
    "DB",
    "FD",
    "FE",
    "NA",
    "NB",
]
REG_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXYZ"
CASE_PREFIXES = ["CS", "CIN", "LAC", "EH", "CP", "MASH"]

_MARKUP_RE = re.compile(r"\{(\w+)(?:\.(\w+)|:(\w+))?\}|\[\[(\w+):([^\]]+)\]\]")


# --- pools ---------------------------------------------------------------------------------
def _split(values: list[Any], split: str) -> list[Any]:
    """The first 70% (rounded up) of a pool for tuning, the rest for the held-out split."""
    k = math.ceil(len(values) * TUNE_SHARE)
    return list(values[:k]) if split == "tune" else list(values[k:])


def load_sources(folder: Path = HERE) -> tuple[list[dict[str, str]], dict[str, Any]]:
    templates = yaml.safe_load((folder / "templates.yaml").read_text(encoding="utf-8"))
    pools = yaml.safe_load((folder / "pools.yaml").read_text(encoding="utf-8"))
    return templates["templates"], pools


@dataclass
class Person:
    gender: str
    given: str
    surname: str
    nickname: str
    order: str
    middle: str


@dataclass
class Filler:
    """Fills one template for one group: people and values on first use, from the split's pools."""

    group: str
    split: str
    pools: dict[str, Any]
    rng: random.Random
    people: dict[str, Person] = field(default_factory=dict)
    family_surname: str = ""
    used_given: set[str] = field(default_factory=set)

    def pool(self, name: str) -> list[Any]:
        return _split(self.pools[name], self.split)

    def group_pool(self, name: str) -> list[str]:
        return _split(self.pools["groups"][self.group][name], self.split)

    def person(self, role: str) -> Person:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        if role in self.people:
            return self.people[role]
        g = self.pools["groups"][self.group]
        if role in FEMALE_ROLES:
            gender = "female"
        elif role in MALE_ROLES:
            gender = "male"
        else:
            gender = self.rng.choice(["female", "male"])
        given = self.rng.choice([n for n in self.group_pool(gender) if n not in self.used_given])
        self.used_given.add(given)
        if not self.family_surname:
            self.family_surname = self.rng.choice(self.group_pool("surname"))
        if role in FAMILY_SURNAME_ROLES or (role == "mum" and self.rng.random() < 0.6):
            surname = self.family_surname
        else:
            surname = self.rng.choice(
                [s for s in self.group_pool("surname") if s != self.family_surname]
            )
        nicknames = self.group_pool("nickname")
        nickname = self.rng.choice(nicknames) if nicknames else given
        middle = (g.get("middle") or {}).get(gender, "")
        person = Person(gender, given, surname, nickname, g.get("full_name_order", ""), middle)
        self.people[role] = person
        return person

    def name(self, role: str, form: str) -> tuple[str, str, str]:
        """(text before the gold span, the gold span, text after): titles stay outside."""
        p = self.person(role)
        if form == "first":
            return "", p.given, ""
        if form == "last":
            return "", p.surname, ""
        if form == "nick":
            return "", p.nickname, ""
        if form == "full":
            if p.order == "family_first":
                parts = [p.surname, p.middle, p.given]
                return "", " ".join(x for x in parts if x), ""
            return "", f"{p.given} {p.surname}", ""
        if form == "title":
            return f"{self._title(role, p)} ", p.surname, ""
        raise ValueError(f"unknown name form {form!r}")

    def _title(self, role: str, p: Person) -> str:
        if role == "gp":
            return "Dr"
        if p.gender == "male":
            return "Mr"
        if role == "mum":
            return self.rng.choice(["Mrs", "Ms", "Miss"])
        return self.rng.choice(["Mrs", "Miss", "Ms"])

    # -- identifiers -----------------------------------------------------------------------
    def value(self, kind: str, variant: str | None) -> str:
        rng = self.rng
        if kind == "UK_PHONE":
            if variant == "landline":
                area, prefix = rng.choice(LANDLINES)
                free = 9 - len(area) - len(prefix.replace(" ", "")) + 2
                number = f"{area} {prefix}{_digits(rng, free)}"
                style = rng.random()
                if style < 0.15:
                    return f"({area}) {number[len(area) + 1 :]}"
                if style < 0.3:
                    return number.replace(" ", "")
                return number
            local = f"900{_digits(rng, 3)}"
            style = rng.random()
            if style < 0.5:
                return f"07700 {local}"
            if style < 0.7:
                return f"07700{local}"
            if style < 0.85:
                return f"+44 7700 {local}"
            return f"07700 {local[:3]} {local[3:]}"
        if kind == "UK_NHS":
            digits = _nhs_number(rng)
            style = rng.random()
            if style < 0.6:
                return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
            if style < 0.85:
                return digits
            return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
        if kind == "UK_NINO":
            while True:
                prefix = rng.choice(NINO_FIRST) + rng.choice(NINO_SECOND)
                if prefix not in NINO_BANNED:
                    break
            d = _digits(rng, 6)
            suffix = rng.choice("ABCD")
            if rng.random() < 0.6:
                return f"{prefix} {d[:2]} {d[2:4]} {d[4:]} {suffix}"
            return f"{prefix}{d}{suffix}"
        if kind == "UK_POSTCODE":
            area = rng.choice(POSTCODE_AREAS)
            district = str(rng.randint(1, 29))
            inward = f"{rng.randint(0, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
            return (
                f"{area}{district}{inward}" if rng.random() < 0.1 else f"{area}{district} {inward}"
            )
        if kind == "STREET_ADDRESS":
            street = rng.choice(self.pool("streets"))
            number = rng.randint(1, 180)
            if variant == "flat":
                return f"flat {rng.randint(1, 12)}, {number} {street}"
            return f"{number} {street}"
        if kind == "EMAIL":
            if variant == "council":
                p = self.person("sw")
                return f"{_ascii(p.given)}.{_ascii(p.surname)}@example.gov.uk".lower()
            p = self.person("mum")
            local = rng.choice(
                [f"{_ascii(p.given)}.{_ascii(p.surname)}", f"{_ascii(p.given)}{rng.randint(1, 99)}"]
            )
            return f"{local.lower()}@{rng.choice(['example.com', 'example.co.uk', 'example.org'])}"
        if kind == "DATE_OF_BIRTH":
            lo, hi = (2008, 2023) if variant == "child" else (1975, 2002)
            year, month, day = rng.randint(lo, hi), rng.randint(1, 12), rng.randint(1, 28)
            style = rng.random()
            if style < 0.35:
                return f"{day:02d}/{month:02d}/{year}"
            if style < 0.65:
                return f"{day}{_suffix(day)} of {MONTHS[month - 1]} {year}"
            if style < 0.85:
                return f"{day} {MONTHS[month - 1]} {year}"
            return f"{day:02d}.{month:02d}.{year}"
        if kind == "SCHOOL":
            name = rng.choice(self.pool("school_names"))
            if variant == "primary":
                style = rng.random()
                if style < 0.5:
                    return f"{name} Primary School"
                if style < 0.75:
                    return f"St {rng.choice(self.pool('saints'))}'s Catholic Primary School"
                return f"{name} Primary"
            if variant == "nursery":
                return f"{name} Nursery"
            return f"{name} {rng.choice(['High School', 'Academy', 'High'])}"
        if kind == "GP_SURGERY":
            name = rng.choice(self.pool("surgery_names"))
            return f"{name} {rng.choice(['Surgery', 'Medical Centre', 'Health Centre'])}"
        if kind == "HOSPITAL":
            return rng.choice(self.pool("hospitals"))
        if kind == "CASE_REFERENCE":
            if rng.random() < 0.6:
                sep = rng.choice(["-", "/"])
                year = rng.randint(2019, 2025)
                return f"{rng.choice(CASE_PREFIXES)}{sep}{year}{sep}{_digits(rng, 5)}"
            return str(rng.randint(1, 9)) + _digits(rng, rng.choice([6, 7]))
        if kind == "UK_VEHICLE_REG":
            age = rng.choice([f"{n:02d}" for n in (*range(2, 25), *range(51, 75))])
            tail = "".join(rng.choice(REG_LETTERS) for _ in range(3))
            memory = rng.choice(REG_MEMORY)
            return f"{memory}{age}{tail}" if rng.random() < 0.2 else f"{memory}{age} {tail}"
        if kind == "LOCATION":
            return rng.choice(self.pool("towns"))
        raise ValueError(f"unknown identifier type {kind!r}")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


def nhs_check_digit(nine: str) -> int | None:
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def _nhs_number(rng: random.Random) -> str:
    while True:
        nine = str(rng.randint(4, 7)) + _digits(rng, 8)
        check = nhs_check_digit(nine)
        if check is not None and len(set(nine)) > 1:
            return nine + str(check)


def _ascii(text: str) -> str:
    return re.sub(r"[^A-Za-z]", "", _fold(text))


# --- filling templates -----------------------------------------------------------------------
def fill(template: dict[str, str], group: str, pools: dict[str, Any]) -> dict[str, Any]:
    """The written form of one template for one group, with gold spans and keep spans."""
    tid, split = template["id"], template["split"]
    filler = Filler(group, split, pools, random.Random(f"{SEED}:{tid}:{group}"))
    text, spans, keep = "", [], []
    cursor = 0
    src = template["text"]
    for m in _MARKUP_RE.finditer(src):
        text += src[cursor : m.start()]
        cursor = m.end()
        head, attr, variant, keep_kind, keep_text = m.groups()
        if keep_kind:
            keep.append({"start": len(text), "end": len(text) + len(keep_text), "kind": keep_kind})
            text += keep_text
        elif head in ROLES:
            p = filler.person(head)
            if attr in PRONOUNS[p.gender]:
                text += PRONOUNS[p.gender][attr]
                continue
            before, name, after = filler.name(head, attr or "first")
            text += before
            spans.append(
                {
                    "start": len(text),
                    "end": len(text) + len(name),
                    "type": "PERSON",
                    "origin": group,
                    "role": head,
                    "name_form": attr,
                }
            )
            text += name + after
        else:
            value = filler.value(head, variant)
            spans.append({"start": len(text), "end": len(text) + len(value), "type": head})
            text += value
    text += src[cursor:]
    return {
        "id": f"{tid}.{group}.written",
        "template": tid,
        "group": group,
        "split": split,
        "form": "written",
        "text": text,
        "spans": spans,
        "keep": keep,
    }


# --- the corpus --------------------------------------------------------------------------------
def build(folder: Path = HERE) -> list[dict[str, Any]]:
    templates, pools = load_sources(folder)
    records = []
    for template in templates:
        for group in pools["groups"]:
            written = fill(template, group, pools)
            records.append(written)
            records.append(whisper_form(written))
    return records


def dumps(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if corpus.jsonl is stale")
    args = parser.parse_args(argv)
    text = dumps(build())
    if args.check:
        current = CORPUS_PATH.read_text(encoding="utf-8") if CORPUS_PATH.exists() else ""
        if current != text:
            print(
                "corpus.jsonl is stale: run python -m eval.datasets.redaction_corpus.build",
                file=sys.stderr,
            )
            return 1
        print("corpus.jsonl is up to date")
        return 0
    CORPUS_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {CORPUS_PATH.name}: {text.count(chr(10))} utterances")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
