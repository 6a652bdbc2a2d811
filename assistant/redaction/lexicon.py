"""Which words are ordinary English, from the spaCy model's own lemmatizer tables.

The name fallback (``ProperNounRecognizer``) needs to tell "tell" and "picks" from "ahmed" and
"struan": Whisper often writes names in lowercase, and a lowercase word that is in no English
dictionary, in any inflected form, is most often a name. The tables ship inside the model folder
(``lemmatizer/lookups``: WordNet-derived lemma lists, irregular forms and suffix rules), so this
reads them from disk without enabling the lemmatizer and downloads nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger(__name__)

_POS = ("noun", "verb", "adj", "adv")


class EnglishLexicon:
    """``word in lexicon``: a lowercase word that is an English lemma, an irregular form of one
    ("rang", "children"), or a regular inflection by the model's suffix rules ("picks",
    "stopping", "carers"). Empty when the model has no tables: the fallback then only finds
    fewer lowercase names, never more."""

    def __init__(
        self,
        lemmas: Iterable[str] = (),
        forms: Iterable[str] = (),
        rules: Iterable[tuple[str, str]] = (),
        *,
        nouns: Iterable[str] = (),
        not_nouns: Iterable[str] = (),
    ):
        self._lemmas = frozenset(lemmas)
        self._forms = frozenset(forms)
        self._rules = tuple(dict.fromkeys(tuple(r) for r in rules))
        self._nouns_only = frozenset(nouns) - frozenset(not_nouns) - self._forms

    @classmethod
    def from_model(cls, spacy_model_path: Path) -> EnglishLexicon:
        from spacy.lookups import Lookups

        folder = Path(spacy_model_path) / "lemmatizer" / "lookups"
        if not folder.is_dir():
            logger.info("spaCy model has no lemmatizer lookups; lowercase name filter off")
            return cls()
        lookups = Lookups().from_disk(folder)
        if not lookups.has_table("lemma_index"):
            logger.info("spaCy model has no lemma_index table; lowercase name filter off")
            return cls()
        index = lookups.get_table("lemma_index")
        exc = lookups.get_table("lemma_exc") if lookups.has_table("lemma_exc") else {}
        rules = lookups.get_table("lemma_rules") if lookups.has_table("lemma_rules") else {}
        lemmas: set[str] = set()
        forms: set[str] = set()
        suffixes: list[tuple[str, str]] = []
        for pos in _POS:
            lemmas.update(w for w in index.get(pos, ()) if w.islower())
            forms.update(w for w in (exc.get(pos) or {}) if w.islower())
            suffixes.extend((old, new) for old, new in rules.get(pos, ()) if old)
        nouns = {w for w in index.get("noun", ()) if w.islower()}
        not_nouns = {w for pos in _POS[1:] for w in index.get(pos, ()) if w.islower()}
        return cls(lemmas, forms, suffixes, nouns=nouns, not_nouns=not_nouns)

    def noun_only(self, word: str) -> bool:
        """A noun lemma that is no verb, adjective or adverb, nor an inflected form: the list
        where WordNet keeps "reuben", "powell" and "robertson" beside "table". Such a word is a
        name candidate where the tagger calls it a proper noun, or straight after a name."""
        return word in self._nouns_only

    def __bool__(self) -> bool:
        return bool(self._lemmas)

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        if word in self._lemmas or word in self._forms:
            return True
        for old, new in self._rules:
            if word.endswith(old) and len(word) > len(old):
                stem = word[: len(word) - len(old)] + new
                if stem in self._lemmas:
                    return True
                # "stopping" -> "stopp" -> "stop"
                if len(stem) > 2 and stem[-1] == stem[-2] and stem[:-1] in self._lemmas:
                    return True
        return False
