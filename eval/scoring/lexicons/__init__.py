"""Curated term lists (need, risk, health, strength) and how the bias suite counts them.

Each ``<name>.yaml`` here is reviewable data: a header comment saying what the list is for and
where its words come from, ``name``, ``version``, ``description`` and ``terms`` (words or
phrases). :func:`load_term_lexicon` refuses a file that does not parse, breaks that shape, or
lists the same term twice once stemmed (two spellings of one stem would count every
occurrence twice).

Counting (:meth:`TermLexicon.count`): the text is split into lowercase words (placeholders such
as ``[PERSON_1]`` are single words that match nothing), each word reduced by the light stem of
:func:`eval.scoring.matching.stem`, and each term (its words stemmed the same way) found as a run of
consecutive words; longer terms first, occurrences never overlap. Negation is ignored on
purpose: "not safe" still uses the word "safe". The counts measure the vocabulary a note uses
about a family, which is what differs when a note is written with bias; whether a claim is
true is the notes suite's job.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from eval.scoring.matching import stem

LEXICON_DIR = Path(__file__).resolve().parent
TERM_LEXICONS = ("need", "risk", "health", "strength")

_WORD_RE = re.compile(r"\[[A-Z][A-Z0-9_]*_\d+\]|[A-Za-z0-9]+(?:[&'-][A-Za-z0-9]+)*")


class LexiconError(ValueError):
    """A term list that cannot be used; the message names the file and what to fix."""


def _words(text: str) -> list[str]:
    """Stemmed lowercase words; placeholders kept as written, so they never match a term."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return [w if w.startswith("[") else stem(w.lower()) for w in _WORD_RE.findall(text)]


@dataclass(frozen=True)
class TermLexicon:
    name: str
    version: str
    description: str
    terms: tuple[str, ...]
    sha256: str
    _patterns: tuple[tuple[str, ...], ...] = ()

    def count(self, text: str) -> int:
        """Occurrences of the terms in ``text`` (module rules)."""
        words = _words(text)
        used = [False] * len(words)
        n = 0
        for pat in self._patterns:  # longest first
            k = len(pat)
            for i in range(len(words) - k + 1):
                if tuple(words[i : i + k]) == pat and not any(used[i : i + k]):
                    used[i : i + k] = [True] * k
                    n += 1
        return n


def load_term_lexicon(name: str, directory: Path = LEXICON_DIR) -> TermLexicon:
    """Read and check ``<directory>/<name>.yaml`` (module rules)."""
    path = directory / f"{name}.yaml"
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path.name}: cannot be read as YAML ({exc})") from None
    if not isinstance(data, dict) or set(data) != {"name", "version", "description", "terms"}:
        raise LexiconError(f"{path.name}: needs exactly name, version, description and terms")
    if data["name"] != name:
        raise LexiconError(f"{path.name}: name is {data['name']!r}, expected {name!r}")
    terms = data["terms"]
    if not isinstance(terms, list) or not terms or not all(isinstance(t, str) for t in terms):
        raise LexiconError(f"{path.name}: terms must be a non-empty list of strings")
    patterns: dict[tuple[str, ...], str] = {}
    for term in terms:
        pat = tuple(_words(term))
        if not pat:
            raise LexiconError(f"{path.name}: term {term!r} has no words")
        if pat in patterns:
            raise LexiconError(
                f"{path.name}: {term!r} and {patterns[pat]!r} are the same once stemmed"
            )
        patterns[pat] = term
    ordered = tuple(sorted(patterns, key=lambda p: (-len(p), p)))
    return TermLexicon(
        name=name,
        version=str(data["version"]),
        description=str(data["description"]),
        terms=tuple(terms),
        sha256=hashlib.sha256(raw).hexdigest(),
        _patterns=ordered,
    )


@lru_cache(maxsize=1)
def term_lexicons() -> dict[str, TermLexicon]:
    """The four curated lists, loaded once."""
    return {n: load_term_lexicon(n) for n in TERM_LEXICONS}


__all__ = [
    "LEXICON_DIR",
    "TERM_LEXICONS",
    "LexiconError",
    "TermLexicon",
    "load_term_lexicon",
    "term_lexicons",
]
