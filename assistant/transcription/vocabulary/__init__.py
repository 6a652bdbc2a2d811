"""Words to prime Whisper with: the council's list (versioned data, ``v1.yaml`` beside this file)
and an optional list given with one upload (names of local schools, estates and services).

``load_vocabulary(path)`` reads and checks the council's file, refusing a broken one with a
``ConfigurationError`` that says what to fix; ``parse_upload_terms(text)`` checks an upload's
list and raises ``BadInput`` naming the problem (never the words, which may be names);
``hint_text(upload, council)`` is the text Whisper is given, the upload's terms first.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import BadInput, ConfigurationError
from assistant.yamlfiles import load_unique_yaml

DEFAULT_VOCABULARY_PATH = Path(__file__).resolve().parent / "v1.yaml"

#: Most terms one upload may add, and the longest term: Whisper reads at most about 220 tokens
#: of hints in all, and the council's list needs room too.
MAX_UPLOAD_TERMS = 30
MAX_TERM_CHARS = 60
_TERM = re.compile(r"^[\w][\w '’&.\-/]*$")


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    term: str = Field(min_length=1, max_length=MAX_TERM_CHARS)
    meaning: str | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = Field(ge=1)
    terms: list[_Entry] = Field(min_length=1)


@dataclass(frozen=True)
class Vocabulary:
    """The council's terms, in the file's order, with the file's version and sha256 (recorded
    with results so they say which list produced them)."""

    terms: tuple[str, ...]
    version: int
    sha256: str
    source: str


def load_vocabulary(path: Path | str = DEFAULT_VOCABULARY_PATH) -> Vocabulary:
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = load_unique_yaml(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"vocabulary {path.name} cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"vocabulary {path.name} is not valid YAML: {exc}") from None
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'/'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise ConfigurationError(f"vocabulary {path.name} is invalid: {problems}") from None
    terms = tuple(e.term.strip() for e in parsed.terms)
    seen: set[str] = set()
    for term in terms:
        if not _TERM.match(term):
            raise ConfigurationError(
                f"vocabulary {path.name}: '{term}' has characters a term may not hold"
            )
        if term.lower() in seen:
            raise ConfigurationError(f"vocabulary {path.name} lists '{term}' twice")
        seen.add(term.lower())
    return Vocabulary(
        terms=terms,
        version=parsed.version,
        sha256=hashlib.sha256(raw).hexdigest(),
        source=path.name,
    )


def parse_upload_terms(text: str | None) -> tuple[str, ...]:
    """An upload's own terms, one a line or separated by commas or semicolons; empty: none.

    Refused (``BadInput``, code ``invalid_vocabulary``): more than ``MAX_UPLOAD_TERMS`` terms,
    a term longer than ``MAX_TERM_CHARS`` or with characters other than letters, digits,
    spaces and ' & . - /. The message names the term's position, never the term."""
    if not text or not text.strip():
        return ()
    terms = [t.strip() for t in re.split(r"[,;\n]", text) if t.strip()]
    if len(terms) > MAX_UPLOAD_TERMS:
        raise BadInput(
            f"vocabulary has {len(terms)} terms; at most {MAX_UPLOAD_TERMS} are allowed.",
            code="invalid_vocabulary",
        )
    for n, term in enumerate(terms, start=1):
        if len(term) > MAX_TERM_CHARS:
            raise BadInput(
                f"vocabulary term {n} is longer than {MAX_TERM_CHARS} characters.",
                code="invalid_vocabulary",
            )
        if not _TERM.match(term):
            raise BadInput(
                f"vocabulary term {n} may hold only letters, digits, spaces and ' & . - /.",
                code="invalid_vocabulary",
            )
    return tuple(dict.fromkeys(terms))  # repeated terms once, first order kept


def hint_text(
    upload: Sequence[str] = (), council: Sequence[str] = (), *, separator: str = ", "
) -> str | None:
    """The text Whisper is primed with: the upload's terms first (Whisper cuts a long hint at
    its end), then the council's not already given, ``separator`` between them; None when
    there are none."""
    seen = {t.lower() for t in upload}
    terms = [*upload, *(t for t in council if t.lower() not in seen)]
    return separator.join(terms) + "." if terms else None


def _words(text: str) -> list[str]:
    """Lowercase words with single letters run together ("E H C P" -> "ehcp"), so a term is
    found however Whisper spaced or dotted it."""
    out: list[str] = []
    run = ""
    for word in re.findall(r"[a-z0-9']+", text.lower().replace(".", " ")):
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            out.append(run)
            run = ""
        out.append(word.strip("'"))
    if run:
        out.append(run)
    return out


def mentions(text: str, terms: Sequence[str]) -> bool:
    """Whether ``text`` has any of ``terms`` (whole words, in order, case and dots ignored)."""
    hay = _words(text)
    for term in terms:
        needle = _words(term)
        n = len(needle)
        if n and any(hay[i : i + n] == needle for i in range(len(hay) - n + 1)):
            return True
    return False
