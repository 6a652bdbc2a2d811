"""The safeguarding red-flag lexicon: read, checked and compiled from reviewable, versioned data.

``assistant/review/lexicon/lexicon.yaml`` holds each category's language (terms, negated
phrases, excluded idioms), shared word classes and the negation rules; its header documents the
term grammar and ``lexicon/CHANGELOG.md`` its versions. :func:`load_lexicon` validates the file
(schema, unique keys, names and terms) and compiles every entry to a regular expression, so a
bad lexicon fails at start-up with a message saying what to fix. :meth:`Lexicon.mentions` then
finds where a text uses a category's language and with which polarity; the rules that act on
it are in :mod:`assistant.review.safeguarding`. Mentions hold offsets only, never text.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import ConfigurationError
from assistant.review.wording import BOUNDARY, INTERJECTION_NEXT, normalise
from assistant.yamlfiles import load_unique_yaml

DEFAULT_LEXICON_PATH = Path(__file__).resolve().parent / "lexicon" / "lexicon.yaml"

Polarity = Literal["positive", "negative", "question"]
"""How a text uses a category's language: affirms it, denies it, or asks about it (the sentence
ends with a question mark; a question neither affirms nor denies)."""

_NAME_RE = r"^[a-z][a-z0-9_]*$"
_FUNCTION_WORDS = frozenset(
    """a an the to of in on at by for from with and or as is was be been are were it its this
    that my me i you your he him his she her we us our they them their all any no not off up
    out own too so do did does has had have am""".split()
)
_PLACEHOLDER_ENTRY = "[PERSON]"
_SEP = r"[\s\-]+"
_HYPHEN = r"[\s\-]?"
_GAP = r"(?:[\s,\-]+[\w'\[\]]+){0,4}?[\s,\-]+"
_TOKEN_RE = re.compile(r"\[[A-Za-z0-9_]+\]|[\w']+|[.,;:!?]")


# --- the file -------------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NegationConfig(_Strict):
    window: int = Field(ge=1, le=10)
    before: tuple[str, ...] = Field(min_length=1)
    after: tuple[str, ...] = Field(min_length=1)
    pseudo: tuple[str, ...] = Field(min_length=1)
    clause_breaks: tuple[str, ...] = Field(min_length=1)


class CategoryConfig(_Strict):
    name: str = Field(pattern=_NAME_RE)
    label: str = Field(min_length=1)
    description: str = Field(min_length=1)
    terms: tuple[str, ...] = Field(min_length=1)
    negated: tuple[str, ...] = Field(min_length=1)
    exclude: tuple[str, ...] = ()


class LexiconFile(_Strict):
    version: str = Field(min_length=1)
    word_classes: dict[str, tuple[str, ...]]
    negation: NegationConfig
    categories: tuple[CategoryConfig, ...] = Field(min_length=1)


# --- compiled -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mention:
    """One place where a text uses a category's language: offsets only, no text."""

    category: str
    polarity: Polarity
    start: int
    end: int


@dataclass(frozen=True)
class _Category:
    name: str
    label: str
    terms: tuple[re.Pattern[str], ...]
    negated: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...]


class Lexicon:
    """A loaded, compiled lexicon. Build with :func:`load_lexicon`."""

    def __init__(self, data: LexiconFile, *, sha256: str, source: str):
        self.version = data.version
        self.sha256 = sha256
        self.source = source
        self.config = data
        classes = data.word_classes
        self._categories = tuple(
            _Category(
                name=c.name,
                label=c.label,
                terms=tuple(_compile(t, classes, where=f"{c.name}.terms") for t in c.terms),
                negated=tuple(_compile(t, classes, where=f"{c.name}.negated") for t in c.negated),
                exclude=tuple(_compile(t, classes, where=f"{c.name}.exclude") for t in c.exclude),
            )
            for c in data.categories
        )
        neg = data.negation
        self._window = neg.window
        self._before = frozenset(w.casefold() for w in neg.before)
        self._after = tuple(tuple(p.casefold().split()) for p in neg.after)
        self._pseudo = tuple(_compile(p, classes, where="negation.pseudo") for p in neg.pseudo)
        self._breaks = frozenset(w.casefold() for w in neg.clause_breaks)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(c.name for c in self._categories)

    def label(self, category: str) -> str:
        return next(c.label for c in self._categories if c.name == category)

    def mentions(self, text: str) -> list[Mention]:
        """Every use of a category's language in ``text``, with its polarity."""
        text = normalise(text)
        found: list[Mention] = []
        pseudo = [m.span() for p in self._pseudo for m in p.finditer(text)]
        for cat in self._categories:
            excluded = [m.span() for p in cat.exclude for m in p.finditer(text)]
            negs = [m.span() for p in cat.negated for m in p.finditer(text)]
            poss = [
                m.span()
                for p in cat.terms
                for m in p.finditer(text)
                if not any(_overlap(m.span(), x) for x in excluded)
            ]
            for span in negs:  # the longer of overlapping matches wins; a tie goes to negative
                if not any(_overlap(span, p) and _len(p) > _len(span) for p in poss):
                    polarity: Polarity = "question" if _asked(text, span) else "negative"
                    found.append(Mention(cat.name, polarity, *span))
            for span in poss:
                if any(_overlap(span, n) and _len(n) >= _len(span) for n in negs):
                    continue
                if _asked(text, span):
                    polarity = "question"
                elif self._negated(text, span, pseudo):
                    polarity = "negative"
                else:
                    polarity = "positive"
                found.append(Mention(cat.name, polarity, *span))
        return sorted(set(found), key=lambda m: (m.start, m.end, m.category, m.polarity))

    def categories_in(self, text: str) -> set[str]:
        """Categories whose language ``text`` uses, in any polarity."""
        return {m.category for m in self.mentions(text)}

    def polarities(self, text: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = defaultdict(set)
        for m in self.mentions(text):
            out[m.category].add(m.polarity)
        return dict(out)

    # -- negation ----------------------------------------------------------------------------
    def _negated(self, text: str, span: tuple[int, int], pseudo: Sequence[tuple[int, int]]) -> bool:
        return self._cue_before(text, span, pseudo) or self._denied_after(text, span[1])

    def _cue_before(
        self, text: str, span: tuple[int, int], pseudo: Sequence[tuple[int, int]]
    ) -> bool:
        """A cue at most ``window`` words before the term, in its clause, and not part of a
        pseudo-negation ("wouldn't stop"); "no" before a pronoun is an answer, not a cue."""
        start, end = span
        clause: list[tuple[str, int, int]] = []
        for item in reversed(_tokens_with_offsets(text[:start])):
            if item[0] in BOUNDARY or item[0] in self._breaks:
                break
            clause.insert(0, item)
        words = clause[-(self._window + 1) :]
        for i, (tok, s, e) in enumerate(words):
            if not self._is_cue(tok):
                continue
            if tok in ("no", "nah"):
                nxt = (
                    words[i + 1][0] if i + 1 < len(words) else text[start:end].split()[0].casefold()
                )
                if nxt in INTERJECTION_NEXT:
                    continue
            if any(ps <= s and e <= pe for ps, pe in pseudo):
                continue
            return True
        return False

    def _denied_after(self, text: str, end: int) -> bool:
        """A denial phrase at most ``window`` words after the term, in its clause."""
        after: list[str] = []
        for tok, _, _ in _tokens_with_offsets(text[end:]):
            if tok == ":":  # a note's "thoughts of suicide: denied"
                continue
            if tok in BOUNDARY or tok in self._breaks:
                break
            after.append(tok)
            if len(after) >= self._window + 2:
                break
        for phrase in self._after:
            for i in range(0, min(self._window, len(after)) + 1):
                if tuple(after[i : i + len(phrase)]) == phrase:
                    return True
        return False

    def _is_cue(self, tok: str) -> bool:
        return tok in self._before or tok.endswith("n't")


POLARITIES: tuple[Polarity, ...] = ("positive", "negative", "question")
_SENTENCE_END = re.compile(r"[.!?]")


def _asked(text: str, span: tuple[int, int]) -> bool:
    """Whether the sentence holding ``span`` ends with a question mark."""
    end = _SENTENCE_END.search(text, span[1])
    return end is not None and end.group() == "?"


def _tokens_with_offsets(text: str) -> list[tuple[str, int, int]]:
    return [(m.group().casefold(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _len(span: tuple[int, int]) -> int:
    return span[1] - span[0]


# --- term grammar ---------------------------------------------------------------------------
def _forms(word: str) -> list[str]:
    """The word and its regular inflections (over-generation is harmless: "hitted")."""
    w = word.casefold()
    if len(w) < 3 or w in _FUNCTION_WORDS or not w.isalpha():
        return [w]
    forms = {w, w + "s", w + "es"}
    if w.endswith("y") and w[-2] not in "aeiou":
        forms |= {w[:-1] + "ies", w[:-1] + "ied"}
    if w.endswith("ie"):
        forms |= {w[:-2] + "ying", w + "d", w + "s"}
    elif w.endswith("e"):
        forms |= {w + "d", w[:-1] + "ing"}
    else:
        forms |= {w + "ed", w + "ing"}
    if len(w) >= 3 and w[-1] not in "aeiouwxy" and w[-2] in "aeiou" and w[-3] not in "aeiou":
        forms |= {w + w[-1] + "ed", w + w[-1] + "ing"}
    return sorted(forms, key=len, reverse=True)


def _word_regex(word: str) -> str:
    return re.escape(word).replace("'", "'?")


def _phrase_regex(entry: str) -> str:
    if entry == _PLACEHOLDER_ENTRY:
        return r"\[PERSON_\d+\]"
    return _SEP.join(_word_regex(w.casefold()) for w in entry.split())


def _compile(term: str, classes: Mapping[str, Sequence[str]], *, where: str) -> re.Pattern[str]:
    items = term.split()
    if not items or items[0] == "..." or items[-1] == "...":
        raise ConfigurationError(f"safeguarding lexicon: empty or badly placed '...' in {where}")
    pieces: list[str] = []
    gap = False
    for item in items:
        if item == "...":
            gap = True
            continue
        if item.startswith("{") and item.endswith("}"):
            name = item[1:-1]
            if name not in classes:
                raise ConfigurationError(
                    f"safeguarding lexicon: unknown word class {{{name}}} in {where}"
                )
            entries = sorted(classes[name], key=len, reverse=True)
            piece = "(?:" + "|".join(_phrase_regex(e) for e in entries) + ")"
        elif item.startswith("="):
            piece = _word_regex(item[1:].casefold())
        else:
            parts = [p for p in item.split("-") if p]
            piece = _HYPHEN.join(
                "(?:" + "|".join(_word_regex(f) for f in _forms(p)) + ")" for p in parts
            )
        if pieces:
            pieces.append(_GAP if gap else _SEP)
        pieces.append(piece)
        gap = False
    try:
        return re.compile(r"(?<![\w\[])" + "".join(pieces) + r"(?![\w\]])", re.IGNORECASE)
    except re.error as exc:  # pragma: no cover - the grammar escapes everything it is given
        raise ConfigurationError(f"safeguarding lexicon: {where} does not compile: {exc}") from None


# --- loading --------------------------------------------------------------------------------
def load_lexicon(path: Path | str = DEFAULT_LEXICON_PATH) -> Lexicon:
    """Read, check and compile a lexicon; raise ConfigurationError saying what to fix if the
    file is missing, is not valid YAML, breaks the schema, repeats a category name or a term,
    leaves a list empty or uses an unknown word class."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = load_unique_yaml(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"safeguarding lexicon {path.name} cannot be read: {exc}"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(
            f"safeguarding lexicon {path.name} is not valid YAML: {exc}"
        ) from None
    try:
        parsed = LexiconFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'/'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise ConfigurationError(
            f"safeguarding lexicon {path.name} is invalid: {problems}"
        ) from None
    _check_unique(parsed, path.name)
    return Lexicon(parsed, sha256=hashlib.sha256(raw).hexdigest(), source=path.name)


def _check_unique(data: LexiconFile, filename: str) -> None:
    names = Counter(c.name for c in data.categories)
    dupes = sorted(n for n, k in names.items() if k > 1)
    if dupes:
        raise ConfigurationError(f"safeguarding lexicon {filename}: category repeated: {dupes}")
    for name, entries in data.word_classes.items():
        if not entries:
            raise ConfigurationError(f"safeguarding lexicon {filename}: word class {name} is empty")
    for c in data.categories:
        for field in ("terms", "negated", "exclude"):
            values = Counter(" ".join(t.casefold().split()) for t in getattr(c, field))
            repeated = sorted(t for t, k in values.items() if k > 1)
            if repeated:
                raise ConfigurationError(
                    f"safeguarding lexicon {filename}: {c.name}.{field} repeats {repeated}"
                )


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The repository's lexicon, loaded once (start-up should call it to fail closed)."""
    return load_lexicon(DEFAULT_LEXICON_PATH)
