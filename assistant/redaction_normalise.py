"""Rewrite spoken numbers and spelt-out letters so written-form patterns can match them.

Whisper writes "oh seven seven double oh nine double oh one two three" and "L S six, two A B".
``SpokenNormaliser`` turns runs like these into "07700900123" and "LS6 2AB" and keeps, for every
character of the new text, the span of the original text it came from, so a match in the
normalised text maps back to exact offsets in the original (``NormalisedText.to_original``).
Text outside such runs is copied unchanged. The vocabulary is data (``redaction/spoken.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import regex

from assistant.redaction_config import SpokenConfig

_TOKEN_RE = regex.compile(r"[^\W_]+")
# Between two units: only spaces, or one punctuation mark (a pause) with spaces around it.
_JOIN_RE = regex.compile(r"\s*[,.;:\-–]?\s*")
_MAX_JOIN = 4


class _Kind(Enum):
    SPOKEN_DIGIT = 1  # "seven", "oh"
    DIGITS = 2  # "07700"
    LETTERS = 3  # "L", "LS"
    CODE = 4  # "ls6", "2ab"
    LETTER_OR_ZERO = 5  # "o": zero before a digit, else the letter O
    REPEAT = 6  # "double", "triple"


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    value: str
    spoken: bool
    is_digit: bool


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
            value = self._single_value(tok, kind, run, i)
            spoken = kind is _Kind.SPOKEN_DIGIT or (kind is _Kind.LETTER_OR_ZERO and value == "0")
            units.append(_Unit(tok.start(), tok.end(), value, spoken, value.isdigit()))
            i += 1
        return units

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
            if not any(u.spoken for u in units):
                continue
            if sum(len(u.value) for u in units) < self._min_chars:
                continue
            changed = True
            if cursor < units[0].start:
                pieces.append((text[cursor : units[0].start], -1, -1))
            for k, unit in enumerate(units):
                if k:
                    gap_start, gap_end = units[k - 1].end, unit.start
                    if not text[gap_start:gap_end].isspace():
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


def _joinable(gap: str) -> bool:
    return 0 < len(gap) <= _MAX_JOIN and _JOIN_RE.fullmatch(gap) is not None
