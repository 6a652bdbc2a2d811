"""Polarity: which words of a text a negation cue negates, and how many of a gold text's slots
a statement fills (the rules are in ``eval.scoring.matching``'s docstring).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from assistant.domain import Statement
from eval.scoring.words import STOPWORDS, canon, content_key, content_words, raw_tokens, value_spans

Slot = frozenset[str]
"""The keys that fill one content position of a gold text (a word's key, or a name's
placeholders and words)."""


NEGATIONS = frozenset(
    """not no never nobody nothing none neither nor without cannot deny denies denied refuse
    refuses refused""".split()
)
"""Negation cues for the polarity rule ("n't" is read as "not")."""

NEGATION_SCOPE = 6
"""How many words after a negation cue it negates, at most (within the clause): "she's not
missed one in three weeks" negates "missed", "one", "3", "weeks"."""

_SCOPE_BREAKERS = frozenset(
    "and but so because while whereas then though although however who which".split()
)
"""Words that end a negation's scope: "no breakfast and is hungry" negates "breakfast" only
("or" does not end it: "not dealing or holding")."""
_SENTENCE_END_RE = re.compile(r"[.!?]+(?=\s|$)")
_CLAUSE_END_RE = re.compile(r"[;:,]+(?=\s|$)|\s[-\u2013\u2014]+\s")


class _Scope:
    """Reads a text's words in order and says which a negation cue negates (module rules);
    the state carries across pieces, so a name between two pieces counts as one word."""

    def __init__(self) -> None:
        self.left = 0

    def words(self, chunk: str) -> list[tuple[str, bool | None]]:
        """``chunk``'s raw tokens (:func:`raw_tokens`), each with whether it is negated; None
        for the words of a question, which asserts nothing ("Has anyone talked about weapons?"
        is as much the question before "No." as before "Yes.")."""
        out: list[tuple[str, bool | None]] = []
        for sentence, end in _pieces(chunk, _SENTENCE_END_RE):
            question = "?" in end
            for clause, clause_end in _pieces(sentence, _CLAUSE_END_RE):
                for tok in raw_tokens(clause):
                    if tok in NEGATIONS:
                        self.left = NEGATION_SCOPE
                        negated = False  # the cue itself is a word like any other
                    else:
                        if tok in _SCOPE_BREAKERS:
                            self.left = 0
                        negated = self.step()
                    out.append((tok, None if question else negated))
                if clause_end:
                    self.left = 0
            if end:
                self.left = 0
        return out

    def step(self) -> bool:
        """One word read: whether it is negated."""
        negated = self.left > 0
        self.left = max(0, self.left - 1)
        return negated


def _pieces(text: str, ends: re.Pattern[str]) -> list[tuple[str, str]]:
    """``text`` cut after each match of ``ends``: (piece, the match; "" for the last)."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in ends.finditer(text):
        out.append((text[pos : m.start()], m.group()))
        pos = m.end()
    out.append((text[pos:], ""))
    return out


PolarSlot = tuple[Slot, bool]
"""A slot and whether its word is negated (:data:`NEGATION_SCOPE`)."""


def polar_slots(
    text: str,
    inverse: Mapping[str, frozenset[str]] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> list[PolarSlot]:
    """``text`` as content slots, each with its polarity: each mapping value found in it is one
    slot (its placeholders, or its own words when it was not redacted); each other content
    word is one slot; a word in ``aliases`` (lowercase role word -> a person's name, e.g.
    "mum" -> "Gemma Marsh") is also filled by that person's placeholders."""
    inverse = inverse or {}
    aliases = {k.lower(): v for k, v in (aliases or {}).items()}
    out: list[PolarSlot] = []
    scope = _Scope()
    pos = 0

    def words(chunk: str) -> None:
        for tok, polarity in scope.words(chunk):
            neg = bool(polarity)  # a gold text's question, if any, is read as asserted
            key = content_key(tok)
            if key is None:
                continue
            keys = {key}
            if tok in aliases:
                name = " ".join(aliases[tok].lower().split())
                keys |= set(inverse.get(name, ()))
                for part in name.split():
                    keys |= set(inverse.get(part, ()))
            out.append((frozenset(keys), neg))

    for start, end, value in value_spans(text, inverse):
        words(text[pos:start])
        keys = set(inverse[value]) | {canon(t) for t in raw_tokens(value) if t not in STOPWORDS}
        out.append((frozenset(keys), scope.step()))
        pos = end
    words(text[pos:])
    return out


def slots(
    text: str,
    inverse: Mapping[str, frozenset[str]] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> list[Slot]:
    """``text`` as content slots (:func:`polar_slots` without the polarity)."""
    return [slot for slot, _ in polar_slots(text, inverse, aliases)]


def statement_keys(st: Statement) -> frozenset[str]:
    """What a statement can fill: the keys of its text and of its speaker label."""
    return frozenset(content_words(st.text)) | frozenset(content_words(st.speaker or ""))


def polar_keys(st: Statement) -> frozenset[tuple[str, bool | None]]:
    """What a statement can fill, each key with its polarity where it occurs (a key both
    negated and not somewhere in the text occurs twice; None inside a question, which fills
    a slot of either polarity); the speaker label is never negated."""
    said = {
        (key, neg) for tok, neg in _Scope().words(st.text) if (key := content_key(tok)) is not None
    }
    return frozenset(said | {(k, False) for k in content_words(st.speaker or "")})


def polar_coverage(gold: Sequence[PolarSlot], keys: Iterable[tuple[str, bool | None]]) -> float:
    """Share of ``gold``'s slots filled by a key of the same polarity, or by one asked about
    in a question (1.0 for a gold text with no slot)."""
    if not gold:
        return 1.0
    have = set(keys)
    return sum(
        any((k, neg) in have or (k, None) in have for k in slot) for slot, neg in gold
    ) / len(gold)


def coverage(gold: Sequence[Slot], keys: Iterable[str]) -> float:
    """Share of ``gold``'s slots with a key in ``keys`` (1.0 for a gold text with no slot)."""
    if not gold:
        return 1.0
    have = set(keys)
    return sum(bool(slot & have) for slot in gold) / len(gold)
