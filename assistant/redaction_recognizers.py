"""The Python half of the redaction rules: only what a regex or a word list cannot express.

* ``VALIDATORS``: checks a pattern match must pass (NHS number mod-11, UK phone prefixes),
  named from YAML by ``validator:``.
* ``ProperNounRecognizer``: proper-noun runs from the spaCy tagger, a fallback for names.
* ``WholeWordContextEnhancer``: Presidio's context boost without logging the surrounding words
  (Presidio's lemma enhancer logs them at DEBUG, which would put personal data in logs).
* ``OfflineSpacyNlpEngine``: Presidio's spaCy engine around a model already loaded from disk,
  with loading by name and downloading disabled.
* ``build_recognizers``: turns the YAML recogniser list into Presidio recognisers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import regex
from presidio_analyzer import (
    EntityRecognizer,
    LocalRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from assistant.errors import ConfigurationError

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts
    from spacy.language import Language

    from assistant.redaction_config import RedactionConfig

_NON_DIGIT = regex.compile(r"\D")


# --- validators ---------------------------------------------------------------------------
def nhs_mod11(text: str) -> bool:
    """NHS number check digit: weights 10..2 over the first nine digits, 11 - (sum mod 11),
    11 means 0 and 10 means the number is invalid."""
    digits = _NON_DIGIT.sub("", text)
    if len(digits) != 10 or len(set(digits)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def uk_phone(text: str) -> bool:
    """A UK number once +44 / +44 (0) is turned into 0: eleven digits with a prefix in use for
    landlines (01, 02, 03), corporate/mobile (05, 07) or non-geographic (08) numbers, or ten
    digits for the few 01 areas and 0800/0500 freephone numbers that have them."""
    digits = _NON_DIGIT.sub("", text)
    if digits.startswith("440"):
        digits = digits[2:]
    elif digits.startswith("44"):
        digits = "0" + digits[2:]
    elif digits.startswith("00440"):
        digits = digits[4:]
    elif digits.startswith("0044"):
        digits = "0" + digits[4:]
    if len(digits) == 11:
        return digits[0] == "0" and digits[1] in "123578"
    # Ten digits: a few 01 areas and 0800/0500 freephone numbers.
    return len(digits) == 10 and digits.startswith(("01", "0800", "0500"))


VALIDATORS: dict[str, Callable[[str], bool]] = {"nhs_mod11": nhs_mod11, "uk_phone": uk_phone}


class ConfiguredPatternRecognizer(PatternRecognizer):
    """A PatternRecognizer whose optional check is a named validator from VALIDATORS."""

    def __init__(self, *, validator: Callable[[str], bool] | None = None, **kwargs):
        super().__init__(**kwargs)
        self._validator = validator

    def validate_result(self, pattern_text: str) -> bool | None:
        return None if self._validator is None else self._validator(pattern_text)


class ProperNounRecognizer(LocalRecognizer):
    """Runs of proper nouns (spaCy ``PROPN``) that nothing else claims, as names.

    The small spaCy model labels many names of non-English origin as ORG or GPE, or not at all,
    but its tagger still calls them proper nouns, even in lowercase."""

    def __init__(
        self,
        *,
        name: str,
        entity: str,
        score: float,
        language: str,
        suppress_labels: Iterable[str],
        max_acronym_length: int,
        skip_words: frozenset[str],
        skip_phrases: frozenset[str],
        institution_words: frozenset[str],
        dictionary: frozenset[str] = frozenset(),
    ):
        super().__init__(supported_entities=[entity], name=name, supported_language=language)
        self._entity = entity
        self._score = score
        self._suppress = frozenset(suppress_labels)
        self._max_acronym = max_acronym_length
        self._skip_words = skip_words
        self._skip_phrases = skip_phrases
        self._institution_words = institution_words
        self._dictionary = dictionary

    def load(self) -> None:  # nothing to load: the tagger ran in the NLP engine
        pass

    def _usable(self, tok) -> bool:
        text = tok.text
        if tok.pos_ != "PROPN" or len(text) < 2 or tok.like_num or tok.like_email or tok.like_url:
            return False
        if any(c.isdigit() for c in text) or not any(c.isalpha() for c in text):
            return False
        if text.isupper() and len(text) <= self._max_acronym:
            return False
        if text.islower() and text in self._dictionary:
            return False  # "tell" in "tell ahmed ...": the tagger's guess on lowercase text
        return text.casefold() not in self._skip_words

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if nlp_artifacts is None or nlp_artifacts.tokens is None or self._entity not in entities:
            return []
        doc = nlp_artifacts.tokens
        suppressed: set[int] = set()
        for ent in doc.ents:
            if ent.label_ in self._suppress:
                suppressed.update(range(ent.start, ent.end))
        runs: list[list] = []
        current: list = []
        for tok in doc:
            joiner = tok.text in ("-", "'", "’") and not tok.whitespace_ and current
            if (self._usable(tok) or joiner) and tok.i not in suppressed:
                current.append(tok)
            else:
                if current:
                    runs.append(current)
                current = []
        if current:
            runs.append(current)

        results = []
        for run in runs:
            while run and not self._usable(run[-1]):
                run = run[:-1]
            if not run:
                continue
            start, end = run[0].idx, run[-1].idx + len(run[-1].text)
            words = [t.text.casefold() for t in run]
            phrase = " ".join(text[start:end].casefold().split())
            if self._institution_words.intersection(words) or phrase in self._skip_phrases:
                continue
            results.append(
                RecognizerResult(
                    entity_type=self._entity,
                    start=start,
                    end=end,
                    score=self._score,
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    },
                )
            )
        return results


class WholeWordContextEnhancer(ContextAwareEnhancer):
    """Raise a result's score when one of its recogniser's context words is among the few words
    before it. Whole words, case-insensitive; logs nothing about the text."""

    _WORD = regex.compile(r"[\w']+")

    def __init__(self, *, factor: float = 0.35, min_score: float = 0.4, prefix_words: int = 5):
        super().__init__(
            context_similarity_factor=factor,
            min_score_with_context_similarity=min_score,
            context_prefix_count=prefix_words,
            context_suffix_count=0,
        )

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: list[EntityRecognizer],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        by_id = {rec.id: rec for rec in recognizers}
        for result in raw_results:
            meta = result.recognition_metadata or {}
            rec = by_id.get(meta.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            if rec is None or not rec.context:
                continue
            before = self._WORD.findall(text[max(0, result.start - 100) : result.start].casefold())
            window = set(before[-self.context_prefix_count :]) | {
                c.casefold() for c in context or ()
            }
            if window.intersection(w.casefold() for w in rec.context):
                result.score = min(
                    self.MAX_SCORE,
                    max(
                        result.score + self.context_similarity_factor,
                        self.min_score_with_context_similarity,
                    ),
                )
        return raw_results


class OfflineSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine around an already-loaded ``spacy.Language``.

    ``SpacyNlpEngine.load()`` resolves a model *name* and downloads it if missing; here the model
    is always handed in, loaded from a folder on disk, and both paths refuse to run."""

    def __init__(
        self, nlp: Language, *, language: str, ner_model_configuration: NerModelConfiguration
    ):
        super().__init__(
            models=[{"lang_code": language, "model_name": "preloaded-from-disk"}],
            ner_model_configuration=ner_model_configuration,
        )
        self.nlp = {language: nlp}

    def load(self) -> None:
        raise ConfigurationError(
            "OfflineSpacyNlpEngine is given a loaded spaCy model; it never loads or downloads one"
        )

    @staticmethod
    def _download_spacy_model_if_needed(model_name: str) -> None:
        raise ConfigurationError("downloading spaCy models is disabled (offline deployment)")


def build_recognizers(
    config: RedactionConfig,
    *,
    ner_labels: Iterable[str],
    stop_words: frozenset[str],
    dictionary: frozenset[str] = frozenset(),
) -> tuple[list[EntityRecognizer], NerModelConfiguration]:
    """Presidio recognisers for every YAML recogniser, plus the NER configuration for the
    spaCy engine (entity mapping, and every other label of the model ignored). ``dictionary``
    holds lowercase English words that the proper-noun fallback never takes as a lowercase name."""
    from assistant.redaction_config import (
        CASE_INSENSITIVE_FLAGS,
        CASE_SENSITIVE_FLAGS,
        DenyListRecognizerConfig,
        PatternRecognizerConfig,
        ProperNounRecognizerConfig,
        SpacyNerRecognizerConfig,
    )

    language = config.settings.language
    keep = config.keep
    recognizers: list[EntityRecognizer] = []
    ner_config: NerModelConfiguration | None = None
    for rec in config.recognizers:
        if isinstance(rec, PatternRecognizerConfig | DenyListRecognizerConfig):
            flags = CASE_SENSITIVE_FLAGS if rec.case_sensitive else CASE_INSENSITIVE_FLAGS
            kwargs = dict(
                supported_entity=rec.entity,
                name=rec.name,
                supported_language=language,
                context=list(rec.context) or None,
                global_regex_flags=flags,
            )
            if isinstance(rec, PatternRecognizerConfig):
                patterns = [
                    Pattern(name=p.name, regex=p.regex, score=rec.score) for p in rec.patterns
                ]
                validator = VALIDATORS[rec.validator] if rec.validator else None
                recognizers.append(
                    ConfiguredPatternRecognizer(patterns=patterns, validator=validator, **kwargs)
                )
            else:
                words = sorted(rec.words, key=len, reverse=True)
                recognizers.append(
                    PatternRecognizer(deny_list=words, deny_list_score=rec.score, **kwargs)
                )
        elif isinstance(rec, SpacyNerRecognizerConfig):
            if ner_config is not None:
                raise ConfigurationError("only one spacy_ner recogniser may be configured")
            ignore = sorted(set(ner_labels) - set(rec.labels))
            ner_config = NerModelConfiguration(
                model_to_presidio_entity_mapping=dict(rec.labels),
                labels_to_ignore=ignore,
                default_score=rec.score,
                low_score_entity_names=[],
            )
            recognizers.append(
                SpacyRecognizer(
                    supported_language=language,
                    supported_entities=sorted(set(rec.labels.values())),
                    ner_strength=rec.score,
                    name=rec.name,
                )
            )
        elif isinstance(rec, ProperNounRecognizerConfig):
            single = {w.casefold() for w in keep.words + keep.not_names if " " not in w}
            phrases = {w.casefold() for w in keep.words + keep.not_names if " " in w}
            titles = {t.casefold() for t in config.names.titles}
            recognizers.append(
                ProperNounRecognizer(
                    name=rec.name,
                    entity=rec.entity,
                    score=rec.score,
                    language=language,
                    suppress_labels=rec.suppress_labels,
                    max_acronym_length=rec.max_acronym_length,
                    skip_words=frozenset(single | titles | stop_words),
                    skip_phrases=frozenset(phrases),
                    institution_words=frozenset(w.casefold() for w in keep.institution_words),
                    dictionary=dictionary,
                )
            )
    if ner_config is None:
        raise ConfigurationError("a spacy_ner recogniser must be configured")
    return recognizers, ner_config
