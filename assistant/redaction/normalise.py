"""Rewrite spoken numbers and spelt-out letters so written-form patterns can match them.

Whisper writes "oh seven seven double oh nine double oh one two three" and "L S six, two A B".
``SpokenNormaliser`` turns runs like these into "07700900123" and "LS6 2AB" and keeps, for every
character of the new text, the span of the original text it came from, so a match in the
normalised text maps back to exact offsets in the original (``NormalisedText.to_original``).
Text outside such runs is copied unchanged. The vocabulary is data (``config/spoken.yaml``).

Whisper also writes the pauses of a number read out in groups as commas, and spells codes with
spaces: "0113, 496, 0427", "LS6, 2QT", "L S 6, 2 Q T", "0 7 7 0 0 9 0 0 1 2 3". A run of written
digits, letters and codes is rewritten the same way ("0113 496 0427", "LS6 2QT", "07700900123")
when it holds a digit, has a pause or a single spelt character to tidy, gives at least five
characters, and has no hyphen (a reference such as "CS-2024-00123" keeps its form); a pause
becomes one space, a space next to a spelt character goes, a space between two groups stays.
A code spelt a character or two at a time with a pause or a hyphen after every one ("B, S, 1,
4, D, J", "LS-6-2-QT") loses them all ("BS14DJ", "LS62QT"): there they mark nothing. A
run of digits only must hold six or more and not read as an everyday number (money, a date, a
list of ages: ``digits.is_everyday_number``), so "flat 3, 45 ...", "12, 14, 15" and
"3, 3, 2015" are left as written. A run of letters and digits that together read as one UK
postcode is rewritten as one however Whisper split it ("M, 12, 5, P, L", "M 12 5 P L",
"M1, 2, 5PL", "M-12-5-P-L" -> "M12 5PL"), when the split between its halves falls between two
pieces and the inward code is one a postcode can have (``_postcode_split``), so "Room 12, 5
P.M." and "Flat B, 12, 5 P.M." stay as written.

Numbers are also read out in pairs, with tens and teens: "M twelve, five P L", "oh four twenty
seven", "nineteen ninety nine". A tens or teens word (``numbers`` in spoken.yaml) is its two
digits, and a tens word straight before a digit word from one to nine is one number ("twenty
three" -> "23"). Those words are everyday speech far more often than codes ("she is twelve",
"twelve, fourteen, fifteen", "twenty minutes"), so a run holding one is rewritten only when it is
a code with a letter of at least five characters ("M12 5PL", "TN 31 62 08 A"), or gives six or
more digits that do not read as an everyday number (the same rule as written runs); otherwise
the words stay, and the patterns that understand number words (dates of birth, house numbers)
read them as said.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import regex

from assistant.redaction.config import SpokenConfig
from assistant.redaction.digits import MIN_DIGITS, is_everyday_number

_TOKEN_RE = regex.compile(r"[^\W_]+")
# Between two units: only spaces, or one punctuation mark (a pause) with spaces around it.
_JOIN_RE = regex.compile(r"\s*[,.;:\-–]?\s*")
_MAX_JOIN = 4
_PAUSE = frozenset(",.;:")
_HYPHENS = frozenset("-–")
#: A written run (no spoken word) is rewritten only if it gives at least this many characters.
_MIN_WRITTEN_CHARS = 5
# A whole UK postcode with nothing between its characters: outward code (1-2 letters, a digit, an
# optional letter or digit), inward code (a digit, two letters). The last two letters are never
# C, I, K, M, O or V (Royal Mail's rule), which keeps "5 P.M." from reading as an inward code.
_POSTCODE_RE = regex.compile(r"[A-Z]{1,2}\d[A-Z\d]?\d[ABD-HJLNP-UW-Z]{2}")
#: A piece of a postcode split up by Whisper is at most this long ("CF10", "5PL").
_MAX_POSTCODE_PIECE = 4


class _Kind(Enum):
    SPOKEN_DIGIT = 1  # "seven", "oh"
    DIGITS = 2  # "07700"
    LETTERS = 3  # "L", "LS"
    CODE = 4  # "ls6", "2ab"
    LETTER_OR_ZERO = 5  # "o": zero before a digit, else the letter O
    REPEAT = 6  # "double", "triple"
    NUMBER = 7  # "twelve", "twenty": tens and teens


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    value: str
    spoken: bool
    is_digit: bool
    number: bool = False  # from a tens or teens word


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """The normalised text and, per character, the original span it stands for.

    ``starts``/``ends`` are None when nothing was rewritten (offsets are then the same)."""

    original: str
    text: str
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        if self.starts is None or self.ends is None:
            return start, end
        if end <= start:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return pos, pos
        return self.starts[start], self.ends[end - 1]


class SpokenNormaliser:
    def __init__(self, spoken: SpokenConfig):
        self._digits = {k.casefold(): v for k, v in spoken.digits.items()}
        self._numbers = {k.casefold(): v for k, v in spoken.numbers.items()}
        self._repeats = {k.casefold(): v for k, v in spoken.repeats.items()}
        self._letter_or_zero = {w.casefold() for w in spoken.letter_or_zero}
        self._min_chars = spoken.min_chars

    def _kind(self, text: str, tok: regex.Match[str]) -> _Kind | None:
        word = tok.group()
        low = word.casefold()
        if tok.start() > 0 and text[tok.start() - 1] in "'’":
            return None  # the "s" of "he's" is not a spelt letter
        if low in self._digits:
            return _Kind.SPOKEN_DIGIT
        if low in self._numbers:
            return _Kind.NUMBER
        if low in self._repeats:
            return _Kind.REPEAT
        if low in self._letter_or_zero:
            return _Kind.LETTER_OR_ZERO
        if word.isascii() and word.isdigit():
            return _Kind.DIGITS
        if word.isascii() and word.isalpha():
            if len(word) == 1 and word not in ("a", "i", "I"):
                return _Kind.LETTERS
            if len(word) == 2 and word.isupper():
                return _Kind.LETTERS
            return None
        if (
            word.isascii()
            and len(word) <= 4
            and any(c.isdigit() for c in word)
            and any(c.isalpha() for c in word)
        ):
            return _Kind.CODE
        return None

    def _units(self, text: str, run: list[tuple[regex.Match[str], _Kind]]) -> list[_Unit]:
        """Turn one run of classified tokens into units, resolving double/triple and O."""
        units: list[_Unit] = []
        i = 0
        while i < len(run):
            tok, kind = run[i]
            if kind is _Kind.REPEAT:
                # Only reached when followed by something repeatable (see normalise()).
                nxt, nkind = run[i + 1]
                base = self._single_value(nxt, nkind, run, i + 1)
                times = self._repeats[tok.group().casefold()]
                units.append(_Unit(tok.start(), nxt.end(), base * times, True, base.isdigit()))
                i += 2
                continue
            if kind is _Kind.NUMBER:
                unit = self._number(text, run, i)
                units.append(unit)
                i += 2 if unit.end > tok.end() else 1
                continue
            value = self._single_value(tok, kind, run, i)
            spoken = kind is _Kind.SPOKEN_DIGIT or (kind is _Kind.LETTER_OR_ZERO and value == "0")
            units.append(_Unit(tok.start(), tok.end(), value, spoken, value.isdigit()))
            i += 1
        return units

    def _number(self, text: str, run: list[tuple[regex.Match[str], _Kind]], i: int) -> _Unit:
        """A tens or teens word; a tens word and the digit word from one to nine straight after
        it (a space or a hyphen between) are one number: "twenty three", "forty-two"."""
        tok = run[i][0]
        value = self._numbers[tok.group().casefold()]
        if value[1] == "0" and value != "10" and i + 1 < len(run):
            nxt, nkind = run[i + 1]
            gap = text[tok.end() : nxt.start()]
            digit = self._digits.get(nxt.group().casefold(), "")
            if (
                nkind is _Kind.SPOKEN_DIGIT
                and len(digit) == 1
                and digit != "0"
                and (gap.isspace() or gap in _HYPHENS)
            ):
                return _Unit(tok.start(), nxt.end(), value[0] + digit, True, True, True)
        return _Unit(tok.start(), tok.end(), value, True, True, True)

    def _single_value(
        self, tok: regex.Match[str], kind: _Kind, run: list[tuple[regex.Match[str], _Kind]], i: int
    ) -> str:
        word = tok.group()
        if kind is _Kind.SPOKEN_DIGIT:
            return self._digits[word.casefold()]
        if kind is _Kind.LETTER_OR_ZERO:
            nxt = run[i + 1][1] if i + 1 < len(run) else None
            digit_next = nxt in (
                _Kind.SPOKEN_DIGIT,
                _Kind.NUMBER,
                _Kind.DIGITS,
                _Kind.REPEAT,
                _Kind.LETTER_OR_ZERO,
            )
            return "0" if digit_next else word.upper()
        return word.upper()

    def _repeatable(self, kind: _Kind | None, tok: regex.Match[str]) -> bool:
        return kind in (_Kind.SPOKEN_DIGIT, _Kind.LETTER_OR_ZERO, _Kind.LETTERS) or (
            kind is _Kind.DIGITS and len(tok.group()) == 1
        )

    def normalise(self, text: str) -> NormalisedText:
        tokens = list(_TOKEN_RE.finditer(text))
        kinds = [self._kind(text, t) for t in tokens]

        runs: list[list[tuple[regex.Match[str], _Kind]]] = []
        current: list[tuple[regex.Match[str], _Kind]] = []
        for i, (tok, kind) in enumerate(zip(tokens, kinds, strict=True)):
            if kind is _Kind.REPEAT:
                nxt_ok = (
                    i + 1 < len(tokens)
                    and self._repeatable(kinds[i + 1], tokens[i + 1])
                    and text[tok.end() : tokens[i + 1].start()].isspace()
                )
                if not nxt_ok:
                    kind = None
            joinable = bool(current) and _joinable(text[current[-1][0].end() : tok.start()])
            if kind is None or (current and not joinable):
                if len(current) > 0:
                    runs.append(current)
                current = [(tok, kind)] if kind is not None else []
            else:
                current.append((tok, kind))
        if current:
            runs.append(current)

        pieces: list[tuple[str, int, int]] = []  # (new text, original start, original end)
        cursor = 0
        changed = False
        for run in runs:
            units = self._units(text, run)
            if not any(c.isdigit() for u in units for c in u.value):
                continue  # letters alone ("double F, I, O, N") are a spelt word: spelt_name's
            spoken = any(u.spoken for u in units)
            postcode = None if spoken else _postcode_split(units)
            if postcode is not None:
                pass  # a postcode however it was split: rewritten whole
            elif any(u.number for u in units):
                if not _rewrite_numbers(text, units):
                    continue
            elif spoken:
                if sum(len(u.value) for u in units) < self._min_chars:
                    continue
            elif not _rewrite_written(text, units):
                continue
            one_by_one = not spoken and _spelt_one_by_one(text, units)
            changed = True
            if cursor < units[0].start:
                pieces.append((text[cursor : units[0].start], -1, -1))
            for k, unit in enumerate(units):
                if k and not one_by_one:
                    gap_start, gap_end = units[k - 1].end, unit.start
                    if postcode is not None:
                        if k == postcode:  # one space between the halves: "M12 5PL"
                            pieces.append((" ", gap_start, gap_end))
                    elif not text[gap_start:gap_end].isspace() or (
                        not spoken and _both_grouped(units[k - 1], unit)
                    ):
                        pieces.append((" ", gap_start, gap_end))
                pieces.append((unit.value, unit.start, unit.end))
            cursor = units[-1].end
        if not changed:
            return NormalisedText(original=text, text=text)
        if cursor < len(text):
            pieces.append((text[cursor:], -1, -1))

        out: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        pos = 0  # original position of copied text
        for new, ostart, oend in pieces:
            out.append(new)
            if ostart < 0:  # copied verbatim: identity mapping
                # verbatim pieces are contiguous with the previous piece's original end
                starts.extend(range(pos, pos + len(new)))
                ends.extend(range(pos + 1, pos + len(new) + 1))
                pos += len(new)
            else:
                starts.extend([ostart] * len(new))
                ends.extend([oend] * len(new))
                pos = oend
        return NormalisedText(
            original=text, text="".join(out), starts=tuple(starts), ends=tuple(ends)
        )


def _rewrite_written(text: str, units: list[_Unit]) -> bool:
    """Whether a run with no spoken word is a Whisper-punctuated number or code worth tidying
    (see the module docstring)."""
    if len(units) < 2 or not any(c.isdigit() for u in units for c in u.value):
        return False
    gaps = [text[a.end : b.start] for a, b in zip(units, units[1:], strict=False)]
    if any(_HYPHENS.intersection(g) for g in gaps) and not _spelt_one_by_one(text, units):
        return False
    pause = any(_PAUSE.intersection(g) for g in gaps)
    spelt = any(u.end - u.start == 1 for u in units)
    if not (pause or spelt) or sum(len(u.value) for u in units) < _MIN_WRITTEN_CHARS:
        return False
    if all(u.value.isdigit() for u in units):
        digits = sum(len(u.value) for u in units)
        return digits >= MIN_DIGITS and not is_everyday_number([u.value for u in units], gaps)
    return True


def _rewrite_numbers(text: str, units: list[_Unit]) -> bool:
    """Whether a run holding a tens or teens word is a code or a long number, not speech: a code
    with a letter of at least five characters ("M12 5PL"), or six or more digits that are not an
    everyday number, grouped as the rewrite will write them ("twelve, fourteen, fifteen" is a
    list of ages; "fourteen, eight, twenty eighteen" a date)."""
    if sum(len(u.value) for u in units) < _MIN_WRITTEN_CHARS:
        return False
    if not all(u.is_digit for u in units):
        return True
    groups = [units[0].value]
    gaps: list[str] = []
    for a, b in zip(units, units[1:], strict=False):
        gap = text[a.end : b.start]
        if gap.isspace():
            groups[-1] += b.value
        else:
            groups.append(b.value)
            gaps.append(gap)
    return sum(len(g) for g in groups) >= MIN_DIGITS and not is_everyday_number(groups, gaps)


def _spelt_one_by_one(text: str, units: list[_Unit]) -> bool:
    """A code spelt a character (or two letters) at a time with a pause or hyphen after each,
    as Whisper writes a postcode read out: "B, S, 1, 4, D, J", "LS-6-2-QT". Its pauses mark
    nothing, so they are dropped ("BS14DJ", "LS62QT"); a reference ("CS-2024-00123") and an
    NI number read in pairs ("JK, 12, 34, 56, C") have longer groups."""
    gaps = [text[a.end : b.start] for a, b in zip(units, units[1:], strict=False)]
    return (
        len(units) >= 2
        and all(u.end - u.start == 1 or (u.end - u.start == 2 and u.value.isalpha()) for u in units)
        and all(not g.isspace() for g in gaps)
    )


def _postcode_split(units: list[_Unit]) -> int | None:
    """The index of the unit the inward code starts with, when a written run of two or more
    short pieces is one UK postcode split by Whisper's spaces, pauses or hyphens ("M, 12, 5, P,
    L", "M1, 2, 5PL", "M-12-5-P-L"); None otherwise. The halves must meet between two pieces,
    as they do when a postcode is read out, not inside one ("B, 125, PL" is not one)."""
    if len(units) < 2 or any(len(u.value) > _MAX_POSTCODE_PIECE for u in units):
        return None
    value = "".join(u.value for u in units).upper()
    if _POSTCODE_RE.fullmatch(value) is None:
        return None
    length = 0
    for k, unit in enumerate(units):
        if length == len(value) - 3:
            return k
        length += len(unit.value)
    return None


def _both_grouped(a: _Unit, b: _Unit) -> bool:
    """In a written run a space is dropped only next to a spelt character ("L S 6" -> "LS6");
    between two groups it stays ("609 139 0996", "JK 98 76"), so separate values stay apart."""
    return a.end - a.start > 1 and b.end - b.start > 1


def _joinable(gap: str) -> bool:
    return 0 < len(gap) <= _MAX_JOIN and _JOIN_RE.fullmatch(gap) is not None
