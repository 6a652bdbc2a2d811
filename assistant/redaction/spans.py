"""What the redaction rules share: the texts and matches they work on, and how text is compared.

* ``Field`` (a segment's text or speaker label) and ``Span`` (a match at offsets into it);
* ``phrase`` and ``phrase_pattern``: the case- and whitespace-blind form values are compared in;
* ``name_tokens``, ``capitalised_tokens``, ``standalone_parts``: which words make up a name, read
  alike by placeholders (``placeholders.py``), propagation (``propagation.py``) and the
  residual check (``redactor.py``);
* span arithmetic: trimming punctuation, overlaps, what is left of a span, applying placeholders.

Nothing here logs or puts text in an exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import regex
from spacy.lang.en.stop_words import STOP_WORDS as _SPACY_STOP_WORDS

STOP_WORDS = frozenset(w.casefold() for w in _SPACY_STOP_WORDS)
SPEAKER_LABEL_RECOGNIZER = "speaker_label"
PROPAGATION_RECOGNIZER = "propagation"
LOCATION_ENTITY = "LOCATION"
EDGE_PUNCT = " \t\r\n,.;:!?\"“”‘()[]{}<>'’-–—"
ALNUM_RE = regex.compile(r"[^\W_]")
_NAME_WORD_RE = regex.compile(r"[\p{L}\p{M}][\p{L}\p{M}'’\-]*")


@dataclass(slots=True)
class Field:
    """One text the redactor works on: a segment's text or its speaker label. ``order`` is its
    position in the transcript, which is also the order placeholders are numbered in."""

    order: int
    segment_id: str
    name: str  # "text" or "speaker"
    text: str


@dataclass(slots=True)
class Span:
    """A match at offsets into ``Field.text`` (the original text). Mutable while the rules
    settle its type and extent; it becomes a frozen ``EntitySpan`` at the end."""

    field: int
    start: int
    end: int
    entity: str
    score: float
    recognizer: str
    placeholder: str = ""

    @property
    def length(self) -> int:
        return self.end - self.start


def name_tokens(surface: str) -> set[str]:
    """Words of a name, case-folded, without possessive 's; hyphenated names add their parts."""
    tokens: set[str] = set()
    for word in _NAME_WORD_RE.findall(surface):
        word = regex.sub(r"['’]s$", "", word.casefold()).strip("'’-")
        if not word:
            continue
        tokens.add(word)
        if "-" in word:
            tokens.update(p for p in word.split("-") if len(p) >= 3)
    return tokens


def capitalised_tokens(surface: str) -> set[str]:
    """:func:`name_tokens` of the words of ``surface`` written with a capital."""
    return {
        part
        for word in _NAME_WORD_RE.findall(surface)
        if word[:1].isupper()
        for part in name_tokens(word)
    }


def standalone_parts(name: str, capitalised: set[str]) -> set[str]:
    """The words of ``name`` that stand alone for the person: all of a one-word name, and of a
    longer one only those some mention wrote with a capital (``capitalised``, from
    :func:`capitalised_tokens`): "Kasia" of "Kasia Nowak", nothing of "bani pentru dentist", a
    Romanian phrase an English model took for a name. The whole name is redacted wherever it
    recurs either way. Propagation and the residual check both read names by this rule."""
    parts = name_tokens(name)
    return parts if len(parts) < 2 else parts & capitalised


def phrase(text: str) -> str:
    """Case-folded with whitespace collapsed: the form values are compared in."""
    return " ".join(text.casefold().split())


def phrase_pattern(phrases: Iterable[str]) -> regex.Pattern[str]:
    """One regex for many phrases: longest first, any case, whole words, any whitespace."""
    alternatives = sorted(phrases, key=len, reverse=True)
    body = "|".join(r"\s+".join(regex.escape(w) for w in p.split()) for p in alternatives)
    return regex.compile(rf"(?<![\w])(?:{body})(?![\w])", regex.IGNORECASE)


def strip_edges(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop whitespace and punctuation at both ends, but keep a bracket whose partner is inside
    ("(0113) 496 0123")."""
    while start < end and text[start] in EDGE_PUNCT:
        if text[start] == "(" and ")" in text[start:end]:
            break
        start += 1
    while end > start and text[end - 1] in EDGE_PUNCT:
        if text[end - 1] == ")" and "(" in text[start:end]:
            break
        end -= 1
    return start, end


def overlaps(a: Span, b: Span) -> bool:
    return a.field == b.field and a.start < b.end and b.start < a.end


def subtract(span: Span, taken: list[Span]) -> list[Span]:
    """The parts of ``span`` not covered by any span in ``taken``."""
    pieces = [(span.start, span.end)]
    for t in taken:
        nxt = []
        for s, e in pieces:
            if t.end <= s or e <= t.start:
                nxt.append((s, e))
                continue
            if s < t.start:
                nxt.append((s, t.start))
            if t.end < e:
                nxt.append((t.end, e))
        pieces = nxt
    if pieces == [(span.start, span.end)]:
        return [span]
    return [replace(span, start=s, end=e) for s, e in pieces]


def apply_spans(text: str, spans: Sequence[Span]) -> str:
    out = []
    cursor = 0
    for span in sorted(spans, key=lambda s: s.start):
        out.append(text[cursor : span.start])
        out.append(span.placeholder)
        cursor = span.end
    out.append(text[cursor:])
    return "".join(out)
