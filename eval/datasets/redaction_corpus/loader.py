"""Load and check the redaction corpus (``corpus.jsonl``, built by ``build.py``).

A wrong gold offset silently corrupts every figure computed from it, so ``load_corpus`` refuses a
record whose spans fall outside its text, start or end with whitespace, overlap, or have an unknown
type, naming the record and never its text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CORPUS_PATH = Path(__file__).resolve().parent / "corpus.jsonl"

GOLD_TYPES = frozenset(
    {
        "PERSON", "UK_NHS", "UK_NINO", "UK_POSTCODE", "STREET_ADDRESS", "UK_PHONE", "EMAIL",
        "DATE_OF_BIRTH", "SCHOOL", "GP_SURGERY", "HOSPITAL", "CASE_REFERENCE", "UK_VEHICLE_REG",
        "LOCATION",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class GoldSpan:
    start: int
    end: int
    type: str
    origin: str | None = None
    name_form: str | None = None


@dataclass(frozen=True, slots=True)
class KeepSpan:
    start: int
    end: int
    kind: str


@dataclass(frozen=True, slots=True)
class Utterance:
    id: str
    template: str
    group: str
    split: str
    form: str
    text: str
    spans: tuple[GoldSpan, ...]
    keep: tuple[KeepSpan, ...]


@dataclass(frozen=True, slots=True)
class Corpus:
    utterances: tuple[Utterance, ...]
    sha256: str
    path: str

    def where(self, predicate: Callable[[Utterance], bool]) -> Corpus:
        return Corpus(tuple(u for u in self.utterances if predicate(u)), self.sha256, self.path)


class CorpusError(ValueError):
    """A corpus record breaks the schema; the message names the record, never its text."""


def load_corpus(path: Path | str = CORPUS_PATH) -> Corpus:
    """Read and check the JSONL corpus: every span inside its text, on no whitespace edge, not
    overlapping another gold span, of a known type; ids unique."""
    path = Path(path)
    raw = path.read_bytes()
    utterances = []
    seen: set[str] = set()
    for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        rec = json.loads(line)
        uid = rec.get("id", f"line {n}")
        if uid in seen:
            raise CorpusError(f"{uid}: duplicate id")
        seen.add(uid)
        text = rec["text"]
        spans = tuple(
            GoldSpan(s["start"], s["end"], s["type"], s.get("origin"), s.get("name_form"))
            for s in rec["spans"]
        )
        keep = tuple(KeepSpan(k["start"], k["end"], k["kind"]) for k in rec["keep"])
        for s in (*spans, *keep):
            if not 0 <= s.start < s.end <= len(text):
                raise CorpusError(f"{uid}: span {s.start}-{s.end} outside the text")
            surface = text[s.start : s.end]
            if surface != surface.strip():
                raise CorpusError(f"{uid}: span {s.start}-{s.end} has whitespace at an edge")
        for s in spans:
            if s.type not in GOLD_TYPES:
                raise CorpusError(f"{uid}: unknown gold type {s.type}")
        ordered = sorted((*spans, *keep), key=lambda s: s.start)
        for a, b in zip(ordered, ordered[1:], strict=False):
            if b.start < a.end:
                raise CorpusError(f"{uid}: spans {a.start}-{a.end} and {b.start}-{b.end} overlap")
        if rec["split"] not in ("tune", "heldout") or rec["form"] not in ("written", "whisper"):
            raise CorpusError(f"{uid}: bad split or form")
        utterances.append(
            Utterance(
                uid, rec["template"], rec["group"], rec["split"], rec["form"], text, spans, keep
            )
        )
    return Corpus(tuple(utterances), hashlib.sha256(raw).hexdigest(), str(path))
