"""From analyzer matches to consistent, non-overlapping spans with placeholders.

Split from ``assistant/redaction/redactor.py`` (the stage) by concern: this module holds the rules that act
on matches once found (tidying, overlap resolution, propagation to every other mention, one
placeholder per person or value) and the small value types they share. It never logs, and
nothing here puts text in an exception.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import regex
from spacy.lang.en.stop_words import STOP_WORDS as _SPACY_STOP_WORDS

from assistant.redaction.config import (
    PERSON_ENTITY,
    DenyListRecognizerConfig,
    RedactionConfig,
)
from assistant.redaction.normalise import SpokenNormaliser

STOP_WORDS = frozenset(w.casefold() for w in _SPACY_STOP_WORDS)
SPEAKER_LABEL_RECOGNIZER = "speaker_label"
PROPAGATION_RECOGNIZER = "propagation"
LOCATION_ENTITY = "LOCATION"
#: Entity types whose edges are trimmed of titles, keep words and stop words.
_NAME_LIKE = frozenset({PERSON_ENTITY, "LOCATION"})
#: Entity types that are "<proper name> <generic word>": need a real name part left after trimming.
_INSTITUTIONS = frozenset({"SCHOOL", "GP_SURGERY", "HOSPITAL", "STREET_ADDRESS"})
_STREET_ADDRESS = "STREET_ADDRESS"
EDGE_PUNCT = " \t\r\n,.;:!?\"“”‘()[]{}<>'’-–—"
_WORD_RE = regex.compile(r"[\p{L}\p{M}\d][\p{L}\p{M}\d'’\-]*")
_NAME_WORD_RE = regex.compile(r"[\p{L}\p{M}][\p{L}\p{M}'’\-]*")
_SPEAKER_SPLIT_RE = regex.compile(r"\s[-–—]\s|[()\[\],/:;|]")
_ALNUM_RE = regex.compile(r"[^\W_]")
_DIGIT_RE = regex.compile(r"\d")
#: "the Mrs." / "his Mrs." is someone's wife, and what follows the full stop a new sentence.
_OWNER = r"\b(?i:the|my|his|your|our|their)\s+"


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


def _canonical(entity: str, normalised: str) -> str:
    """The comparison key of a value: letters and digits only, case-folded; phone numbers in
    national form, so "+44 7700 900123" and "07700 900123" are the same number."""
    key = "".join(_ALNUM_RE.findall(normalised.casefold()))
    if entity == "UK_PHONE":
        if key.startswith("440"):
            key = key[2:]
        elif key.startswith("44"):
            key = "0" + key[2:]
    return key


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


class SpanRules:
    """What to keep of each match, how overlaps resolve, and which other mentions follow a value
    found once: the configuration-driven rules between the analyzer and the placeholders."""

    def __init__(self, config: RedactionConfig):
        self._config = config
        keep = config.keep
        self._titles = frozenset(t.casefold() for t in config.names.titles)
        self._particles = frozenset(config.names.particles)
        self._keep_words = frozenset(w.casefold() for w in keep.words if " " not in w)
        self._keep_phrases = tuple(
            sorted((phrase(w) for w in keep.words if " " in w), key=len, reverse=True)
        )
        self._keep_all = frozenset(phrase(w) for w in keep.words)
        self._institution_words = frozenset(w.casefold() for w in keep.institution_words)
        self._generic_speakers = (
            frozenset(phrase(w) for w in keep.generic_speakers) | self._keep_all
        )
        self._generic_speaker_res = tuple(
            regex.compile(p, regex.IGNORECASE) for p in keep.generic_speaker_patterns
        )
        # Never a name part, never propagated on its own.
        self._not_a_name_part = self._titles | self._keep_words | STOP_WORDS
        # A capitalised word straight after one of these is a name, whatever else it is.
        naming = "|".join(regex.escape(t) for t in config.names.naming_titles)
        self._naming_title_before = (
            regex.compile(rf"(?<![\w.])(?:(?<!{_OWNER}){naming}\.|{naming})\s+$")
            if naming
            else None
        )
        self._not_after_title = frozenset(w.casefold() for w in config.names.not_after_title)
        self._spacy_recognizers = frozenset(
            rec.name for rec in config.recognizers if rec.kind == "spacy_ner"
        )
        address = "|".join(
            regex.escape(w).replace(r"\ ", r"\s+").replace("'", "['’]")
            for w in sorted(config.names.address_words, key=len, reverse=True)
        )
        self._address_before = (
            regex.compile(rf"(?<!\w)(?:{address}),?\s+$", regex.IGNORECASE) if address else None
        )
        self._not_names = frozenset(phrase(w) for w in keep.not_names)
        # Places a word list names (places.yaml): never a person, never part of a person's name.
        self._places = frozenset(
            phrase(w)
            for rec in config.recognizers
            if isinstance(rec, DenyListRecognizerConfig) and rec.entity == LOCATION_ENTITY
            for w in rec.words
        )
        # What a found name may still propagate: tidy() leaves a keep word in a name only after a
        # naming title ("Miss Head"), and then it is that person's name like any other.
        self._never_person_parts = self._titles | STOP_WORDS | self._places

    def speaker_spans(self, f: Field) -> list[Span]:
        """A speaker label that is not a role is a name; "Mum (Kasia)" names only Kasia."""
        if self.is_generic_speaker(f.text):
            return []
        spans = []
        pos = 0
        for piece in [*_SPEAKER_SPLIT_RE.split(f.text)]:
            start = f.text.index(piece, pos)
            pos = start + len(piece)
            if not piece.strip() or self.is_generic_speaker(piece):
                continue
            span = Span(f.order, start, pos, PERSON_ENTITY, 1.0, SPEAKER_LABEL_RECOGNIZER)
            span = self.tidy(f.text, span)
            if span is not None:
                spans.append(span)
        return spans

    def is_generic_speaker(self, label: str) -> bool:
        """A label naming a role ("Social worker", "Speaker 1"), not a person."""
        words = phrase(label.strip(EDGE_PUNCT))
        return (
            not words
            or words in self._generic_speakers
            or any(p.fullmatch(words) for p in self._generic_speaker_res)
        )

    def tidy(self, text: str, span: Span) -> Span | None:
        """Trim a match to the identifier itself, or drop it if nothing identifying is left."""
        start, end = _strip_edges(text, span.start, span.end)
        titled: tuple[int, int] | None = None  # "Ward" in "Mrs Ward": a name, never trimmed
        if span.entity == PERSON_ENTITY:
            titled = self._titled_word(text, start, end)
        if span.entity in _NAME_LIKE:
            # no name or place has a digit: "Postcode ZE3, 7QX" is a postcode after a word
            digit_word = next(
                (w for w in _WORD_RE.finditer(text, start, end) if _DIGIT_RE.search(w.group())),
                None,
            )
            if digit_word is not None:
                start, end = _strip_edges(text, start, digit_word.start())
            if regex.search(r"['’]s$", text[start:end], flags=regex.IGNORECASE):
                end -= 2
            if span.entity == PERSON_ENTITY:
                # before cutting at a title: "rang Dr Whitaker" is Whitaker, not "rang"
                start, end = self._trim_lowercase_edges(text, start, end)
            protect = titled[0] if titled is not None else -1
            start, end = self._trim_words(
                text,
                start,
                end,
                cut_inside=span.entity == PERSON_ENTITY,
                extra=self._institution_words,
                protect=protect,
            )
            start, end = self._trim_trailing(
                text, start, end, extra=self._institution_words, protect=protect
            )
            if span.entity == PERSON_ENTITY:
                start, end = self._trim_lowercase_edges(text, start, end)
        elif span.entity in _INSTITUTIONS:
            start, end = self._trim_words(
                text,
                start,
                end,
                extra=self._institution_words,
                # a house number said in words is not a stop word to trim: "twenty three Oak Road"
                stop_words=span.entity != _STREET_ADDRESS,
            )
            if len(_WORD_RE.findall(text[start:end])) < 2:
                return None
        surface = text[start:end]
        if len(_ALNUM_RE.findall(surface)) < 2:
            return None
        if span.entity == PERSON_ENTITY and phrase(surface) in self._places:
            span = replace(span, entity=LOCATION_ENTITY)  # "Leeds" is a place, whoever says not
        if titled is not None and start <= titled[0] < end:
            return replace(span, start=start, end=end)  # "Mrs Ward", "Dr Church", "Mrs May"
        if phrase(surface) in self._keep_all:
            return None
        if span.entity in _NAME_LIKE and (
            phrase(surface) in self._not_names
            or all(
                w.casefold() in self._not_names or w.casefold() in self._not_a_name_part
                for w in _WORD_RE.findall(surface)
            )
        ):
            return None
        return replace(span, start=start, end=end)

    def _titled_word(self, text: str, start: int, end: int) -> tuple[int, int] | None:
        """The capitalised word straight after a naming title (names.naming_titles: "Mrs Ward",
        "Dr Church") that begins the match once titles are passed, or None. Such a word is a name
        even when it is an everyday, keep or institution word ("ward", "May", "Church")."""
        if self._naming_title_before is None:
            return None
        words = list(_WORD_RE.finditer(text, start, end))
        i = 0
        while i < len(words) and words[i].group().casefold().rstrip(".") in self._titles:
            i += 1
        if i == len(words):
            return None
        word = words[i]
        if (
            not word.group()[:1].isupper()
            or len(_ALNUM_RE.findall(word.group())) < 2
            or word.group().casefold() in self._not_after_title
        ):
            return None
        if self._naming_title_before.search(text, max(0, word.start() - 16), word.start()) is None:
            return None
        w_end = word.end()
        if regex.search(r"['’]s$", word.group(), flags=regex.IGNORECASE):
            w_end -= 2
        return word.start(), w_end

    def _skippable(
        self, word: str, extra: frozenset[str] = frozenset(), *, stop_words: bool = True
    ) -> bool:
        low = word.casefold()
        if (
            low in self._titles
            or low.rstrip(".") in self._titles
            or low in self._keep_words
            or low in extra
        ):
            return True
        # A lowercase stop word ("and", "the"); a capitalised one may be a name ("Will").
        return stop_words and low in STOP_WORDS and not word[:1].isupper()

    def _trim_words(
        self,
        text: str,
        start: int,
        end: int,
        *,
        cut_inside: bool = False,
        extra: frozenset[str] = frozenset(),
        protect: int = -1,
        stop_words: bool = True,
    ) -> tuple[int, int]:
        """Drop leading titles, keep words, lowercase stop words (unless not ``stop_words``) and
        ``extra`` words; with ``cut_inside``, also end the span before the first such word inside
        it. The word that starts at ``protect`` (a name after a title) is never dropped."""
        words = list(_WORD_RE.finditer(text, start, end))
        i = 0
        while i < len(words):
            if words[i].start() == protect:
                break
            rest = phrase(text[words[i].start() : end])
            keep = next(
                (p for p in self._keep_phrases if rest == p or rest.startswith(p + " ")), None
            )
            if keep is not None:
                i += len(keep.split())
                continue
            if not self._skippable(words[i].group(), extra, stop_words=stop_words):
                break
            i += 1
        if i >= len(words):
            return start, start
        start = words[i].start()
        if cut_inside:
            for w in words[i + 1 :]:
                if w.start() != protect and self._skippable(
                    w.group(), extra, stop_words=stop_words
                ):
                    end = w.start()
                    break
        return _strip_edges(text, start, end)

    def _trim_lowercase_edges(self, text: str, start: int, end: int) -> tuple[int, int]:
        """In a name written with capitals, lowercase words at the edges are not part of it
        ("Stefan Ionescu rang"), unless they are name particles ("de Souza")."""
        words = list(_WORD_RE.finditer(text, start, end))
        if not any(w.group()[:1].isupper() for w in words):
            return start, end  # all lowercase, as Whisper sometimes writes names: leave it

        def loose(w: regex.Match[str]) -> bool:
            return w.group()[:1].islower() and w.group() not in self._particles

        while words and loose(words[0]):
            words.pop(0)
        while words and words[-1].group()[:1].islower():
            words.pop()
        if not words:
            return start, start
        return words[0].start(), words[-1].end()

    def _trim_trailing(
        self,
        text: str,
        start: int,
        end: int,
        *,
        extra: frozenset[str] = frozenset(),
        protect: int = -1,
    ) -> tuple[int, int]:
        words = list(_WORD_RE.finditer(text, start, end))
        while words and words[-1].start() != protect and self._skippable(words[-1].group(), extra):
            words.pop()
        if not words:
            return start, start
        return start, words[-1].end()

    def addressed(self, text: str, span: Span) -> bool:
        """Whether a one-word place from the spaCy model is really a person spoken to or
        introduced: straight after an address or family word (names.address_words: "Hiya
        Bethan", "Thank you, Becky", "it's Deniz", "Auntie Mai"), opening a sentence before a
        comma ("Bethan, Osian seems settled") or closing one after a comma ("nobody sees,
        Eilidh."). The small model calls many names places; the same name then gets
        [PERSON_n] in one family's recording and [LOCATION_n] in another's. Places a word list
        names (places.yaml) stay places."""
        if span.entity != LOCATION_ENTITY or span.recognizer not in self._spacy_recognizers:
            return False
        word = text[span.start : span.end]
        if " " in word.strip() or phrase(word) in self._places:
            return False
        if self._address_before is not None and self._address_before.search(
            text, max(0, span.start - 24), span.start
        ):
            return True
        before = text[max(0, span.start - 3) : span.start]
        after = text[span.end : span.end + 1]
        # a turn or sentence opened by the word, then a comma: "Bethan, Osian seems settled"
        opens = not text[: span.start].strip() or regex.search(r"[.!?]\s+$", before) is not None
        # said to someone at a sentence's end: "make sure nobody sees, Eilidh."
        closes = regex.search(r",\s+$", before) is not None and after in (".", "?", "!")
        return (opens and after == ",") or closes

    def type_addressed(self, fields: list[Field], spans: list[Span]) -> list[Span]:
        """The detected spans, each place that is a person spoken to (:meth:`addressed`) typed
        PERSON; once per recording, before overlaps are resolved."""
        for span in spans:
            if self.addressed(fields[span.field].text, span):
                span.entity = PERSON_ENTITY
        return spans

    def resolve(self, fields: list[Field], spans: list[Span]) -> dict[int, list[Span]]:
        """Per text, keep non-overlapping spans: longer first, then higher score, then entity
        listed first; a span that loses keeps whatever part of it does not overlap."""
        rank = self._config.entity_rank
        ordered = sorted(
            spans,
            key=lambda s: (
                -s.length,
                -s.score,
                s.recognizer == PROPAGATION_RECOGNIZER,
                rank(s.entity),
                s.start,
            ),
        )
        kept: dict[int, list[Span]] = {}
        for span in ordered:
            taken = kept.setdefault(span.field, [])
            for piece in _subtract(span, taken):
                tidied = self.tidy(fields[span.field].text, piece) if piece != span else piece
                if tidied is not None and not any(_overlaps(tidied, t) for t in taken):
                    taken.append(tidied)
        return kept

    def propagate(
        self, fields: list[Field], per_field: dict[int, list[Span]]
    ) -> dict[int, list[Span]]:
        """Give each value one type for the whole recording and redact every other mention of it
        (and of each part of a name) on word boundaries, in any case. Repeated until no new value
        appears (a span cut by an overlap can yield one), so the residual check's KNOWN_* rules
        never fire on our own output."""
        seen: set[str] = set()
        for _ in range(4):
            known = self._known_values(fields, per_field)
            if not known or known.keys() <= seen:
                break
            seen |= known.keys()
            per_field = self._redact_known(fields, per_field, known)
        return per_field

    def _known_values(
        self, fields: list[Field], per_field: dict[int, list[Span]]
    ) -> dict[str, tuple[str, float]]:
        """phrase -> (entity, score) for every value found, and every part of every name."""
        best: dict[str, Span] = {}
        capitals: dict[str, set[str]] = {}  # value -> its words written with a capital somewhere
        for group in per_field.values():
            for span in group:
                surface = fields[span.field].text[span.start : span.end]
                key = phrase(surface)
                capitals.setdefault(key, set()).update(capitalised_tokens(surface))
                if key not in best or (span.score, span.entity == PERSON_ENTITY) > (
                    best[key].score,
                    best[key].entity == PERSON_ENTITY,
                ):
                    best[key] = span
        person_parts: dict[str, float] = {}
        for key, span in best.items():
            if span.entity == PERSON_ENTITY:
                for part in standalone_parts(key, capitals[key]):
                    if len(part) >= 2 and part not in self._never_person_parts:
                        person_parts[part] = max(person_parts.get(part, 0.0), span.score)
        known: dict[str, tuple[str, float]] = {}
        for key, span in best.items():
            entity = span.entity
            if entity == LOCATION_ENTITY and key in person_parts:
                entity = PERSON_ENTITY  # "Nowak" alone, mislabelled a place, is Kasia Nowak's name
            never = self._never_person_parts if entity == PERSON_ENTITY else self._not_a_name_part
            if key not in never and len(_ALNUM_RE.findall(key)) >= 2:
                known[key] = (entity, span.score)
        for part, score in person_parts.items():
            known.setdefault(part, (PERSON_ENTITY, score))
        return known

    def _redact_known(
        self,
        fields: list[Field],
        per_field: dict[int, list[Span]],
        known: dict[str, tuple[str, float]],
    ) -> dict[int, list[Span]]:
        for group in per_field.values():
            for span in group:
                key = phrase(fields[span.field].text[span.start : span.end])
                span.entity = known.get(key, (span.entity,))[0]
        pattern = phrase_pattern(known)
        extra: list[Span] = []
        for f in fields:
            if f.name == "speaker" and self.is_generic_speaker(f.text):
                continue
            for m in pattern.finditer(f.text):
                hit = known.get(phrase(m.group()))
                if hit is not None:
                    entity, score = hit
                    extra.append(
                        Span(f.order, m.start(), m.end(), entity, score, PROPAGATION_RECOGNIZER)
                    )
        combined = [s for group in per_field.values() for s in group] + extra
        return self.resolve(fields, combined)


def phrase_pattern(phrases: Iterable[str]) -> regex.Pattern[str]:
    """One regex for many phrases: longest first, any case, whole words, any whitespace."""
    alternatives = sorted(phrases, key=len, reverse=True)
    body = "|".join(r"\s+".join(regex.escape(w) for w in p.split()) for p in alternatives)
    return regex.compile(rf"(?<![\w])(?:{body})(?![\w])", regex.IGNORECASE)


def _strip_edges(text: str, start: int, end: int) -> tuple[int, int]:
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


def _overlaps(a: Span, b: Span) -> bool:
    return a.field == b.field and a.start < b.end and b.start < a.end


def _subtract(span: Span, taken: list[Span]) -> list[Span]:
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
