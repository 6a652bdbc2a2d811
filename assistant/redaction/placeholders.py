"""One placeholder per person or value in a recording: ``[PERSON_1]``, ``[UK_PHONE_2]`` ...

Placeholders are numbered per type in order of first appearance. Name mentions that share words
("Kasia Nowak", "Kasia", "Mrs Nowak") are one person; other values are one when their letters
and digits match once spoken numbers are written ("+44 7700 900123" and "07700 900123").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import regex

from assistant.redaction.config import PERSON_ENTITY, RedactionConfig
from assistant.redaction.normalise import SpokenNormaliser
from assistant.redaction.spans import ALNUM_RE, name_tokens

ALPHA_RE = regex.compile(r"\p{L}+")


@dataclass(slots=True)
class _Person:
    index: int
    tokens: set[str]
    surface: str
    surface_words: int


@dataclass(slots=True)
class Placeholders:
    """Assigns placeholders for one recording and remembers what each one stands for."""

    config: RedactionConfig
    normaliser: SpokenNormaliser
    counters: Counter[str] = field(default_factory=Counter)
    values: dict[tuple[str, str], str] = field(default_factory=dict)
    people: list[_Person] = field(default_factory=list)
    entries: dict[str, str] = field(default_factory=dict)

    def _new(self, entity: str) -> str:
        prefix = self.config.placeholder_prefix(entity)
        self.counters[prefix] += 1
        return f"[{prefix}_{self.counters[prefix]}]"

    def assign(self, entity: str, surface: str) -> str:
        if entity == PERSON_ENTITY:
            return self._person(surface)
        key = (entity, _canonical(entity, self.normaliser.normalise(surface).text))
        if key not in self.values:
            placeholder = self._new(entity)
            self.values[key] = placeholder
            self.entries[placeholder] = surface
        return self.values[key]

    def _person(self, surface: str) -> str:
        """Mentions sharing name words are one person: an exact match first, then the first
        person whose words include this mention's ("Nowak" -> Kasia Nowak; a surname two people
        share goes to the first), then the first whose words this mention includes."""
        tokens = name_tokens(surface)
        if not tokens:
            tokens = {surface.casefold()}
        spelt = self._spelt(surface)
        if spelt:
            # "Sian, that's S-I-A-N" (or Whisper's "S .I."): the letters are the name's
            tokens = {spelt}
            known = next((p for p in self.people if any(_spells(spelt, t) for t in p.tokens)), None)
            if known is not None:
                return self.values[(PERSON_ENTITY, str(known.index))]
        match = next((p for p in self.people if p.tokens == tokens), None)
        match = match or next((p for p in self.people if tokens <= p.tokens), None)
        match = match or next((p for p in self.people if p.tokens <= tokens), None)
        words = len(surface.split())
        if match is None:
            match = _Person(len(self.people), set(tokens), surface, words)
            self.people.append(match)
            placeholder = self._new(PERSON_ENTITY)
            self.values[(PERSON_ENTITY, str(match.index))] = placeholder
            self.entries[placeholder] = surface
            return placeholder
        match.tokens |= tokens
        placeholder = self.values[(PERSON_ENTITY, str(match.index))]
        if (words, len(surface)) > (match.surface_words, len(match.surface)):
            match.surface, match.surface_words = surface, words
            self.entries[placeholder] = surface
        return placeholder

    def _spelt(self, surface: str) -> str | None:
        """The letters of a name spelt out ("S-I-A-N", "double F, I, O, N" -> "sian",
        "ffion"), or None when ``surface`` is not letters alone."""
        letters, times = "", 1
        for word in ALPHA_RE.findall(surface):
            low = word.casefold()
            if low in self.config.spoken.repeats:
                times = self.config.spoken.repeats[low]
            elif len(word) == 1:
                letters += low * times
                times = 1
            else:
                return None
        return letters if len(letters) >= 2 else None


def _spells(letters: str, token: str) -> bool:
    """Whether spelt ``letters`` are (part of) the name word ``token``: its start ("S .I." of
    Sian), or three or more of its letters ("F-I-O-N" of Ffion, "double" left outside)."""
    return token.startswith(letters) or (len(letters) >= 3 and letters in token)


def _canonical(entity: str, normalised: str) -> str:
    """The comparison key of a value: letters and digits only, case-folded; phone numbers in
    national form, so "+44 7700 900123" and "07700 900123" are the same number."""
    key = "".join(ALNUM_RE.findall(normalised.casefold()))
    if entity == "UK_PHONE":
        if key.startswith("440"):
            key = key[2:]
        elif key.startswith("44"):
            key = "0" + key[2:]
    return key
