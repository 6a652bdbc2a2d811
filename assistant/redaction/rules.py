"""The rules between the analyzer and the placeholders: what to keep of each match.

``SpanRules`` trims a match to the identifier itself (titles, keep words, stop words and
punctuation at its edges), drops what is left with nothing identifying, reads non-generic speaker
labels as names, types a place the spaCy model found as a person when it is someone spoken to,
and resolves overlaps per text. Which other mentions follow a value found once is
``propagation.py``; ``SpanRules.propagate`` applies it with these rules. Everything is driven by
the configuration (``config/*.yaml``). Nothing here logs or puts text in an exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import regex

from assistant.redaction.config import PERSON_ENTITY, DenyListRecognizerConfig, RedactionConfig
from assistant.redaction.propagation import propagate
from assistant.redaction.spans import (
    ALNUM_RE,
    EDGE_PUNCT,
    LOCATION_ENTITY,
    PROPAGATION_RECOGNIZER,
    SPEAKER_LABEL_RECOGNIZER,
    STOP_WORDS,
    Field,
    Span,
    overlaps,
    phrase,
    strip_edges,
    subtract,
)

#: Entity types whose edges are trimmed of titles, keep words and stop words.
_NAME_LIKE = frozenset({PERSON_ENTITY, "LOCATION"})
#: Entity types that are "<proper name> <generic word>": need a real name part left after trimming.
_INSTITUTIONS = frozenset({"SCHOOL", "GP_SURGERY", "HOSPITAL", "STREET_ADDRESS"})
_STREET_ADDRESS = "STREET_ADDRESS"


def _alternatives(phrases: Iterable[str]) -> str:
    """A regex alternation of ``phrases`` as said: longest first, any run of spaces between
    words, either apostrophe."""
    return "|".join(
        regex.escape(w).replace(r"\ ", r"\s+").replace("'", "['’]")
        for w in sorted(phrases, key=len, reverse=True)
    )


_WORD_RE = regex.compile(r"[\p{L}\p{M}\d][\p{L}\p{M}\d'’\-]*")
_SPEAKER_SPLIT_RE = regex.compile(r"\s[-–—]\s|[()\[\],/:;|]")
_DIGIT_RE = regex.compile(r"\d")
#: A possessive 's at the end of a match: "Kasia's" is Kasia.
_POSSESSIVE_RE = regex.compile(r"['’]s$", regex.IGNORECASE)
#: "the Mrs." / "his Mrs." is someone's wife, and what follows the full stop a new sentence.
_OWNER = r"\b(?i:the|my|his|your|our|their)\s+"


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
        self.not_a_name_part = self._titles | self._keep_words | STOP_WORDS
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
        address = _alternatives(config.names.address_words)
        self._address_before = (
            regex.compile(rf"(?<!\w)(?:{address}),?\s+$", regex.IGNORECASE) if address else None
        )
        self._not_names = frozenset(phrase(w) for w in keep.not_names)
        # where the text says a not-name phrase, none of its words is a name: "Clare" in
        # "Clare's Law", the disclosure scheme
        multiword = _alternatives(w for w in keep.not_names if " " in w)
        self._not_name_phrase = (
            regex.compile(rf"(?<!\w)(?:{multiword})(?!\w)", regex.IGNORECASE) if multiword else None
        )
        # Places a word list names (places.yaml): never a person, never part of a person's name.
        self._places = frozenset(
            phrase(w)
            for rec in config.recognizers
            if isinstance(rec, DenyListRecognizerConfig) and rec.entity == LOCATION_ENTITY
            for w in rec.words
        )
        # What a found name may still propagate: tidy() leaves a keep word in a name only after a
        # naming title ("Miss Head"), and then it is that person's name like any other.
        self._residence_words = frozenset(w.casefold() for w in keep.residence_words)
        self.never_person_parts = self._titles | STOP_WORDS | self._places | self._residence_words

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
            s, e = self._without_roles(f.text, start, pos)
            found = Span(f.order, s, e, PERSON_ENTITY, 1.0, SPEAKER_LABEL_RECOGNIZER)
            tidied = self.tidy(f.text, found)
            if tidied is not None:
                spans.append(tidied)
        return spans

    def _without_roles(self, text: str, start: int, end: int) -> tuple[int, int]:
        """A label piece less the longest role before and after the name: "Key worker Shaun"
        and "Kasia's key worker" name Shaun and Kasia, and "Key" is not a name to propagate."""
        words = list(_WORD_RE.finditer(text, start, end))
        first, last = 0, len(words)
        for i in range(last - 1, 0, -1):
            if self.is_generic_speaker(text[words[0].start() : words[i - 1].end()]):
                first = i
                break
        for i in range(first + 1, last):
            if self.is_generic_speaker(text[words[i].start() : words[-1].end()]):
                last = i
                break
        if first == 0 and last == len(words):
            return start, end
        return words[first].start(), words[last - 1].end()

    def _names_a_residence(self, surface: str) -> bool:
        """Two or more words, the last a capitalised residence word ("Elmfield House")."""
        words = _WORD_RE.findall(surface)
        return (
            len(words) >= 2
            and words[-1][:1].isupper()
            and words[-1].casefold() in self._residence_words
        )

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
        start, end = strip_edges(text, span.start, span.end)
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
                start, end = strip_edges(text, start, digit_word.start())
            if _POSSESSIVE_RE.search(text[start:end]):
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
        if len(ALNUM_RE.findall(surface)) < 2:
            return None
        if span.entity == PERSON_ENTITY and phrase(surface) in self._places:
            span = replace(span, entity=LOCATION_ENTITY)  # "Leeds" is a place, whoever says not
        if span.entity == PERSON_ENTITY and self._names_a_residence(surface):
            span = replace(span, entity=LOCATION_ENTITY)  # "Elmfield House": a home, not a person
        if titled is not None and start <= titled[0] < end:
            return replace(span, start=start, end=end)  # "Mrs Ward", "Dr Church", "Mrs May"
        if phrase(surface) in self._keep_all:
            return None
        if span.entity in _NAME_LIKE and (
            phrase(surface) in self._not_names
            or self.in_not_name_phrase(text, start, end)
            or all(
                w.casefold() in self._not_names or w.casefold() in self.not_a_name_part
                for w in _WORD_RE.findall(surface)
            )
        ):
            return None
        return replace(span, start=start, end=end)

    def in_not_name_phrase(self, text: str, start: int, end: int) -> bool:
        """Whether text[start:end] lies inside a not-name phrase said there ("Clare's Law")."""
        if self._not_name_phrase is None:
            return False
        lo = max(0, start - 40)
        return any(
            m.start() <= start and end <= m.end()
            for m in self._not_name_phrase.finditer(text, lo, min(len(text), end + 40))
        )

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
            or len(ALNUM_RE.findall(word.group())) < 2
            or word.group().casefold() in self._not_after_title
        ):
            return None
        if self._naming_title_before.search(text, max(0, word.start() - 16), word.start()) is None:
            return None
        w_end = word.end()
        if _POSSESSIVE_RE.search(word.group()):
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
        return strip_edges(text, start, end)

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
            for piece in subtract(span, taken):
                tidied = self.tidy(fields[span.field].text, piece) if piece != span else piece
                if tidied is not None and not any(overlaps(tidied, t) for t in taken):
                    taken.append(tidied)
        return kept

    def propagate(
        self, fields: list[Field], per_field: dict[int, list[Span]]
    ) -> dict[int, list[Span]]:
        """Every other mention of a value found once, redacted too (``propagation.propagate``),
        overlaps resolved by these rules."""
        return propagate(self, fields, per_field)
