"""The Whisper form of a corpus utterance: the same speech as Whisper writes it.

``whisper_form`` rewrites every annotated span of a written utterance by its type (rules in
README.md beside this file: lowercase names, digits as words or in comma-separated groups, spelt
postcodes ...) and copies the text between spans unchanged, so the gold offsets are carried over
exactly. Every choice comes from a generator seeded with the utterance id: the same input always
gives the same output.
"""

from __future__ import annotations

import random
import re
import unicodedata
from typing import Any

SEED = "caseassist-redaction-corpus-v1"

MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip
UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = [
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen",
]  # fmt: skip
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ORDINALS = [
    "", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth", "twenty first", "twenty second",
    "twenty third", "twenty fourth", "twenty fifth", "twenty sixth", "twenty seventh",
    "twenty eighth", "twenty ninth", "thirtieth", "thirty first",
]  # fmt: skip
# Ofcom numbers reserved for drama (never allocated): area code and local prefix, then free digits.


def _suffix(day: int) -> str:
    if day in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ı": "i", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O"})


def _fold(text: str) -> str:
    """Letters without accents, one character for one ("Wójcik" -> "Wojcik")."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in text if not unicodedata.combining(c))


# --- the transform ---------------------------------------------------------------------------
def whisper_form(utt: dict[str, Any]) -> dict[str, Any]:
    """The same utterance as Whisper would write it (rules in README.md): every gold and keep
    span is rewritten by its type, the text between them is copied, and offsets are carried over
    span by span. Choices come from a generator seeded with the utterance id."""
    rng = random.Random(f"{SEED}:whisper:{utt['id']}")
    text = utt["text"]
    marks = sorted(
        [("gold", s) for s in utt["spans"]] + [("keep", k) for k in utt["keep"]],
        key=lambda m: m[1]["start"],
    )
    out, spans, keep, cursor = "", [], [], 0
    for kind, mark in marks:
        out += text[cursor : mark["start"]]
        surface = text[mark["start"] : mark["end"]]
        new = (
            _whisper_gold(mark["type"], surface, rng)
            if kind == "gold"
            else _whisper_keep(mark["kind"], surface)
        )
        entry = {**mark, "start": len(out), "end": len(out) + len(new)}
        (spans if kind == "gold" else keep).append(entry)
        out += new
        cursor = mark["end"]
    out += text[cursor:]
    return {
        **utt,
        "id": utt["id"].rsplit(".", 1)[0] + ".whisper",
        "form": "whisper",
        "text": out,
        "spans": spans,
        "keep": keep,
    }


def _spoken_digits(digits: str, rng: random.Random) -> str:
    """ "0113" -> "oh one one three", sometimes "oh double one three"."""
    words, i = [], 0
    use_double = rng.random() < 0.5
    while i < len(digits):
        d = digits[i]
        word = "oh" if d == "0" else UNITS[int(d)]
        if use_double and i + 1 < len(digits) and digits[i + 1] == d:
            words.append(f"double {word}")
            i += 2
        else:
            words.append(word)
            i += 1
    return " ".join(words)


def _groups(digits: str, sizes: list[int]) -> list[str]:
    out, i = [], 0
    for size in sizes:
        out.append(digits[i : i + size])
        i += size
    if i < len(digits):
        out[-1] += digits[i:]
    return out


def _phone_groups(digits: str) -> list[str]:
    if digits.startswith("07"):
        return _groups(digits, [5, 3, 3])
    if digits.startswith("02"):
        return _groups(digits, [3, 4, 4])
    if digits.startswith("01632"):
        return _groups(digits, [5, 3, 3])
    return _groups(digits, [4, 3, 4])


def _number_words(n: int) -> str:
    if n < 10:
        return UNITS[n]
    if n < 20:
        return TEENS[n - 10]
    tens, unit = divmod(n, 10)
    return TENS[tens] + (f" {UNITS[unit]}" if unit else "")


def _year_words(year: int) -> str:
    if 2000 <= year <= 2009:
        return "two thousand" + (f" and {UNITS[year - 2000]}" if year > 2000 else "")
    hi, lo = divmod(year, 100)
    lo_words = f"oh {UNITS[lo]}" if lo < 10 else _number_words(lo)
    return f"{_number_words(hi)} {lo_words}"


_DATE_NUMERIC = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})")
_DATE_WORDS = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?(?: of)? (\w+) (\d{4})")


def _whisper_gold(kind: str, surface: str, rng: random.Random) -> str:
    if kind == "PERSON":
        return _fold(surface).lower()
    if kind == "UK_PHONE":
        digits = re.sub(r"\D", "", surface)
        if digits.startswith("44"):
            digits = "0" + digits[2:]
        groups = _phone_groups(digits)
        style = rng.randrange(4)
        if style == 0:
            return ", ".join(groups)
        if style == 1:
            return ", ".join(_spoken_digits(g, rng) for g in groups)
        if style == 2:
            return " ".join(groups)
        return " ".join(digits)
    if kind == "UK_NHS":
        digits = re.sub(r"\D", "", surface)
        groups = _groups(digits, [3, 3, 4])
        style = rng.randrange(4)
        if style == 0:
            return ", ".join(groups)
        if style == 1:
            return ", ".join(_spoken_digits(g, rng) for g in groups)
        if style == 2:
            return "-".join(groups)
        return " ".join(groups)
    if kind == "UK_NINO":
        compact = surface.replace(" ", "")
        letters, digits, suffix = compact[:2], compact[2:8], compact[8]
        pairs = [digits[i : i + 2] for i in (0, 2, 4)]
        style = rng.randrange(4)
        if style == 0:
            return f"{letters}, {', '.join(pairs)}, {suffix}"
        if style == 1:
            spoken = ", ".join(" ".join(UNITS[int(c)] for c in p) for p in pairs)
            return f"{letters[0]} {letters[1]} {spoken}, {suffix}"
        if style == 2:
            return f"{letters} {' '.join(pairs)} {suffix}"
        return f"{letters[0]} {letters[1]} {' '.join(digits)} {suffix}"
    if kind == "UK_POSTCODE":
        compact = surface.replace(" ", "")
        outward, inward = compact[:-3], compact[-3:]
        style = rng.randrange(5)
        if style == 0:
            return f"{outward}, {inward}"
        if style == 1:
            return f"{outward} {inward}".lower()
        if style == 2:
            return f"{' '.join(outward)}, {' '.join(inward)}"
        if style == 3:

            def spell(code: str) -> str:
                return " ".join(UNITS[int(c)] if c.isdigit() else c for c in code)

            return f"{spell(outward)}, {spell(inward)}"
        return compact
    if kind == "STREET_ADDRESS":
        return surface.lower() if rng.random() < 0.25 else surface
    if kind == "EMAIL":
        style = rng.randrange(3)
        if style == 0:
            local, domain = surface.split("@")
            return f"{local.replace('.', ' dot ')} at {domain.replace('.', ' dot ')}"
        if style == 1:
            return surface.replace("@", " at ")
        return surface
    if kind == "DATE_OF_BIRTH":
        m = _DATE_NUMERIC.fullmatch(surface)
        if m:
            day, month, year = int(m[1]), int(m[2]), int(m[3])
        else:
            m = _DATE_WORDS.fullmatch(surface)
            if m is None:
                raise ValueError("unparsed date of birth")
            day, month, year = int(m[1]), MONTHS.index(m[2]) + 1, int(m[3])
        style = rng.randrange(4)
        if style == 0:
            return f"{day}, {month}, {year}"
        if style == 1:
            return f"{day}{_suffix(day)} of {MONTHS[month - 1]} {year}"
        if style == 2:
            return f"{ORDINALS[day]} of {MONTHS[month - 1]} {_year_words(year)}"
        return f"{day}/{month}/{year}"
    if kind == "CASE_REFERENCE":
        if surface.isdigit():
            style = rng.randrange(2)
            if style == 0:
                return ", ".join(_groups(surface, [3, 3]))
            return " ".join(UNITS[int(c)] for c in surface)
        return surface
    if kind == "UK_VEHICLE_REG":
        compact = surface.replace(" ", "")
        style = rng.randrange(3)
        if style == 0:
            return surface
        spelt_tail = " ".join(compact[4:])
        if style == 1:
            return f"{compact[0]} {compact[1]} {compact[2]} {compact[3]}, {spelt_tail}"
        age = " ".join(UNITS[int(c)] for c in compact[2:4])
        return f"{compact[0]} {compact[1]} {age}, {spelt_tail}"
    return surface  # SCHOOL, GP_SURGERY, HOSPITAL, LOCATION: Whisper capitalises proper names


_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


def _whisper_keep(kind: str, surface: str) -> str:
    if kind == "age" and surface.isdigit():
        return _number_words(int(surface))
    if kind == "time":
        m = _CLOCK.fullmatch(surface)
        if m:
            return f"{m[1]}, {m[2]}"
        if surface.isdigit():
            return _number_words(int(surface))
    return surface
