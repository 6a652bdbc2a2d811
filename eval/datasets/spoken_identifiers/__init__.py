"""Identifiers said aloud (``sentences.yaml``): spelt names, emails, phone numbers, postcodes,
NHS numbers, dates of birth and house numbers as a family or a worker says them on a visit,
with the tokens whose survival after redaction counts as residue, and a few sentences of
ordinary speech ("A and E", "the GP", "CAMHS") that must come through untouched.

``load()`` reads and checks the file; ``residue(text, tokens)`` says which tokens of an
identifier survive in a redacted text in a recognisable form; ``kept(text, word)`` whether a
keep word survived. The rules are in ``README.md``. Every value is invented.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import regex
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

SENTENCES_PATH = Path(__file__).resolve().parent / "sentences.yaml"
TYPES = (
    "PERSON",
    "EMAIL",
    "UK_PHONE",
    "UK_POSTCODE",
    "UK_NHS",
    "DATE_OF_BIRTH",
    "STREET_ADDRESS",
)
#: A run of digits in the redacted text this long or longer, found inside an identifier's
#: digits, is residue ("900 456" of "07700 900456"); shorter runs are too common to mean it.
MIN_DIGIT_RESIDUE = 3
#: A word sharing this many first letters with a token of ``MIN_FUZZY_TOKEN`` or more letters
#: is residue: Whisper's spelling of a name it half heard ("pritchon" for "Pritchard").
FUZZY_PREFIX = 4
MIN_FUZZY_TOKEN = 5

_PLACEHOLDER = regex.compile(r"\[[A-Z][A-Z0-9_]*_\d+\]")
# Single letters in a row, as Whisper writes a spelt word: "S-I-A-N", "S .I.", "S I A N".
# Words of one to three letters or digits in a row: a code read out ("LS-6-2-QT").
_SHORT_RUN = regex.compile(
    r"(?<![\p{L}\d'’])[\p{L}\d]{1,3}(?:[\s.,\-]+[\p{L}\d]{1,3}(?![\p{L}\d]))+(?![\p{L}\d])"
)
# Not the "s" of "that's".
_SPELT = regex.compile(r"(?<![\p{L}\d'’])\p{L}(?:[\s.,\-]+\p{L}(?![\p{L}\d]))+(?![\p{L}\d])")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Identifier(_Strict):
    type: str
    tokens: tuple[str, ...] = Field(min_length=1)


class Sentence(_Strict):
    id: str = Field(pattern=r"^[a-z]+-\d\d$")
    text: str = Field(min_length=1)
    said: str | None = None
    identifiers: tuple[Identifier, ...] = ()
    keep: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """What the sentence tests: its id's prefix ("name", "email", ..., "keep")."""
        return self.id.split("-")[0]

    @property
    def spoken(self) -> str:
        """What espeak-ng is given."""
        return self.said or self.text


class _File(_Strict):
    version: int = Field(ge=1)
    voices: tuple[str, ...] = Field(min_length=1)
    sentences: tuple[Sentence, ...] = Field(min_length=1)


@dataclass(frozen=True)
class SpokenIdentifiers:
    sentences: tuple[Sentence, ...]
    voices: tuple[str, ...]
    version: int
    sha256: str

    def voice(self, index: int) -> str:
        """The voices take turns, sentence by sentence."""
        return self.voices[index % len(self.voices)]


class SpokenIdentifiersError(ValueError):
    pass


def load(path: Path = SENTENCES_PATH) -> SpokenIdentifiers:
    raw = Path(path).read_bytes()
    try:
        data = _File.model_validate(yaml.safe_load(raw))
    except (yaml.YAMLError, ValidationError) as exc:
        raise SpokenIdentifiersError(f"{Path(path).name}: {exc}") from None
    seen: set[str] = set()
    for s in data.sentences:
        if s.id in seen:
            raise SpokenIdentifiersError(f"{s.id}: duplicate id")
        seen.add(s.id)
        if not s.identifiers and not s.keep:
            raise SpokenIdentifiersError(f"{s.id}: neither identifiers nor keep words")
        for ident in s.identifiers:
            if ident.type not in TYPES:
                raise SpokenIdentifiersError(f"{s.id}: unknown type {ident.type!r}")
            missing = [t for t in ident.tokens if not _present(s.text, t)]
            if [t for t in missing if not any(c.isdigit() for c in t)]:
                # a word must be in the sentence as said (numbers and codes are said in words)
                raise SpokenIdentifiersError(f"{s.id}: token(s) {missing} not in the text")
        for word in s.keep:
            if not kept(s.text, word):
                raise SpokenIdentifiersError(f"{s.id}: keep word {word!r} not in the text")
    return SpokenIdentifiers(
        sentences=data.sentences,
        voices=data.voices,
        version=data.version,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def residue(text: str, tokens: tuple[str, ...]) -> list[str]:
    """The tokens of one identifier that survive in ``text`` (a redacted text) in a recognisable
    form: as a word or phrase, case-insensitive on word boundaries, in the text as written or
    with spoken digits written as digits; a token of digits also when a number in the text
    shares ``MIN_DIGIT_RESIDUE`` or more digits in a row with it ("7-7-1-0, 9-0-0, 4-5-6" of
    "07700900456"); a word also when letters spelt out in the text share two or more letters in
    a row with it ("S .I." of "Sian", "H-O-B-A-N" of "Hodan"), or when a word of the text
    shares its first ``FUZZY_PREFIX`` letters with a token of ``MIN_FUZZY_TOKEN`` or more
    ("pritchon" of "Pritchard"); a code ("LS6", "4DJ") also inside a run of short words read
    out ("LS-6-2-QT", "B, S, 1, 4, D, J")."""
    from assistant.redaction.redactor import written_digits

    cleaned = _PLACEHOLDER.sub(" ", text)
    written = written_digits(cleaned)
    runs = ["".join(regex.findall(r"\d", r)) for r in regex.findall(r"\d[\d\s,.\-]*", written)]
    spelt = [_letters(m.group()) for m in _SPELT.finditer(cleaned)]
    # a code read out a character or two at a time: "LS-6-2-QT", "B, S, 1, 4, D, J"
    codes = [
        "".join(regex.findall(r"[\p{L}\d]", m.group())).casefold()
        for t in (cleaned, written)
        for m in _SHORT_RUN.finditer(t)
    ] + [w.casefold() for w in regex.findall(r"[\p{L}\d]+", written) if regex.search(r"\d", w)]
    prefixes = {
        w.casefold()[:FUZZY_PREFIX]
        for w in regex.findall(r"\p{L}+", cleaned)
        if len(w) >= FUZZY_PREFIX
    }
    out = []
    for token in tokens:
        compact = token.replace(" ", "")
        if _present(cleaned, token) or _present(written, token):
            out.append(token)
        elif not compact.isalpha() and not compact.isdigit():
            if any(compact.casefold() in c for c in codes):
                out.append(token)
        elif compact.isdigit() and len(compact) >= MIN_DIGIT_RESIDUE:
            if any(_common(r, compact) >= MIN_DIGIT_RESIDUE for r in runs):
                out.append(token)
        elif compact.isalpha() and any(_common(s, compact.casefold()) >= 2 for s in spelt):
            out.append(token)
        elif (
            token.isalpha()
            and len(token) >= MIN_FUZZY_TOKEN
            and (token.casefold()[:FUZZY_PREFIX] in prefixes)
        ):
            out.append(token)
    return out


def kept(text: str, word: str) -> bool:
    """Whether a keep word or phrase is in ``text``: as written, or spelt letter by letter
    ("E H C P" for EHCP)."""
    if _present(text, word):
        return True
    letters = word.replace(" ", "").casefold()
    return any(_letters(m.group()) == letters for m in _SPELT.finditer(text))


def _present(text: str, token: str) -> bool:
    words = [regex.escape(w) for w in token.split()]
    pattern = r"(?<![\p{L}\d])" + r"[\s,.\-]+".join(words) + r"(?![\p{L}\d])"
    return regex.search(pattern, text, flags=regex.IGNORECASE) is not None


def _common(a: str, b: str) -> int:
    """The length of the longest run of characters ``a`` and ``b`` share."""
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] not in b:
                break
            best = j - i
    return best


def _letters(run: str) -> str:
    return "".join(c for c in run if c.isalpha()).casefold()
