"""The Python half of the redaction rules: only what a regex or a word list cannot express.

* ``ConfiguredPatternRecognizer``: a pattern recogniser whose matches must pass a named check
  from ``validators.py`` (NHS number mod-11, UK phone prefixes), named from YAML by ``validator:``.
* ``ProperNounRecognizer``: proper-noun runs from the spaCy tagger, and words in no English
  dictionary, a fallback for names.
* ``DigitRunRecognizer``: long numbers however Whisper punctuates them (``digits.py``).
* ``SpeltLettersRecognizer``: a word spelt out letter by letter ("S-I-A-N", Whisper's "S .I."),
  which needs the words around it to tell a spelt name from "the G P".
* ``WholeWordContextEnhancer``: Presidio's context boost without logging the surrounding words
  (Presidio's lemma enhancer logs them at DEBUG, which would put personal data in logs).
* ``OfflineSpacyNlpEngine``: Presidio's spaCy engine around a model already loaded from disk,
  with loading by name and downloading disabled.
* ``build_recognizers``: turns the YAML recogniser list into Presidio recognisers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

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
from assistant.redaction.config import (
    CASE_INSENSITIVE_FLAGS,
    CASE_SENSITIVE_FLAGS,
    DenyListRecognizerConfig,
    DigitRunRecognizerConfig,
    PatternRecognizerConfig,
    ProperNounRecognizerConfig,
    RedactionConfig,
    SpacyNerRecognizerConfig,
    SpeltLettersRecognizerConfig,
)
from assistant.redaction.digits import digit_runs
from assistant.redaction.lexicon import EnglishLexicon
from assistant.redaction.validators import VALIDATORS

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts
    from spacy.language import Language

#: A text of at least this many words, more than this share of them in no English dictionary,
#: is taken to be another language: the unknown-word name rule is off for it.
_MIN_WORDS_FOR_LANGUAGE_GUESS = 6
_MAX_UNKNOWN_SHARE = 0.5
_JOINERS = ("-", "'", "’")


class ConfiguredPatternRecognizer(PatternRecognizer):
    """A PatternRecognizer whose optional check is a named validator from VALIDATORS."""

    def __init__(self, *, validator: Callable[[str], bool] | None = None, **kwargs):
        super().__init__(**kwargs)
        self._validator = validator

    def validate_result(self, pattern_text: str) -> bool | None:
        return None if self._validator is None else self._validator(pattern_text)


class _RuleRecognizer(LocalRecognizer):
    """A recogniser of one entity type at one score whose rule is code here, not a model."""

    name: str  # set by EntityRecognizer.__init__; declared because mypy cannot infer it there

    def __init__(self, *, name: str, entity: str, score: float, language: str):
        super().__init__(supported_entities=[entity], name=name, supported_language=language)
        self._entity = entity
        self._score = score

    def load(self) -> None:  # a rule, nothing to load (the tagger ran in the NLP engine)
        pass

    def _result(self, start: int, end: int) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self._entity,
            start=start,
            end=end,
            score=self._score,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


class ProperNounRecognizer(_RuleRecognizer):
    """Runs of proper nouns (spaCy ``PROPN``) that nothing else claims, as names; with
    ``unknown_words``, also runs of words that are in no English dictionary in any case or
    inflection ("hamish", "Nojus"), whatever the tagger guessed.

    The small spaCy model labels many names of non-English origin as ORG or GPE, or not at all,
    and on Whisper's lowercase names its tagger guesses noun, verb or adjective as often as
    proper noun; a word no dictionary knows is, in a transcript of English speech, most often a
    name (the rest are dialect, brands and medicines: keep.yaml ``not_names``)."""

    def __init__(
        self,
        *,
        name: str,
        entity: str,
        score: float,
        language: str,
        suppress_labels: Iterable[str],
        max_acronym_length: int,
        suppress_known_labels: Iterable[str] = (),
        skip_words: frozenset[str],
        skip_phrases: frozenset[str],
        institution_words: frozenset[str],
        lexicon: EnglishLexicon | None = None,
        unknown_words: bool = False,
    ):
        super().__init__(name=name, entity=entity, score=score, language=language)
        self._suppress = frozenset(suppress_labels)
        self._suppress_known = frozenset(suppress_known_labels)
        self._max_acronym = max_acronym_length
        self._skip_words = skip_words
        self._skip_phrases = skip_phrases
        self._phrases_from: dict[str, list[list[str]]] = {}  # first word -> kept phrases
        for p in skip_phrases:
            if " " in p:
                self._phrases_from.setdefault(p.split()[0], []).append(p.split())
        self._institution_words = institution_words
        self._lexicon = lexicon or EnglishLexicon()
        self._unknown_words = unknown_words and bool(self._lexicon)

    def _strong(self, tok, unknown_words: bool) -> bool:
        """A word that is a name on its own: a proper noun not known as a lowercase English word
        (a lowercase one only if a noun and nothing else: "ruta", "sian"), or, with
        ``unknown_words``, any word no dictionary knows."""
        text = tok.text
        if not self._plausible(tok):
            return False
        low = text.casefold()
        if tok.pos_ == "PROPN":
            # "tell" in "tell ahmed ...": the tagger's guess on lowercase text
            return (
                not text.islower()
                or low not in self._lexicon
                or (len(text) >= 3 and self._lexicon.noun_only(low))
            )
        return (
            unknown_words
            and len(text) >= 3
            and text[0].isalpha()  # not "'cause"
            and all(c.isalpha() or c in "'’-" for c in text)
            and low not in self._lexicon
        )

    def _mostly_unknown(self, doc) -> bool:
        """Whether most words of the text are in no English dictionary: speech in another
        language (an interpreted visit), where the unknown-word rule would take every word for
        a name. Proper nouns are still found there."""
        words = [t for t in doc if t.is_alpha and len(t.text) >= 2]
        if len(words) < _MIN_WORDS_FOR_LANGUAGE_GUESS:
            return False
        unknown = sum(
            1
            for t in words
            if t.text.casefold() not in self._lexicon and t.text.casefold() not in self._skip_words
        )
        return unknown / len(words) > _MAX_UNKNOWN_SHARE

    def _weak(self, tok) -> bool:
        """A word that is a name only straight after one, in a family name's place: a lowercase
        noun ("struan munro", "cerys price"), or a word that is only ever a noun whatever the
        tagger guessed ("amelia fletcher"); never a verb ("hamish picks")."""
        text = tok.text
        if not (self._plausible(tok) and text.islower() and len(text) >= 3):
            return False
        if tok.pos_ in ("NOUN", "PROPN") and text in self._lexicon:
            return True
        return tok.pos_ not in ("VERB", "AUX") and self._lexicon.noun_only(text)

    def _plausible(self, tok) -> bool:
        text = tok.text
        if len(text) < 2 or tok.like_num or tok.like_email or tok.like_url:
            return False
        if any(c.isdigit() for c in text) or not any(c.isalpha() for c in text):
            return False
        if text.isupper() and len(text) <= self._max_acronym:
            return False
        return text.casefold() not in self._skip_words

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if nlp_artifacts is None or nlp_artifacts.tokens is None or self._entity not in entities:
            return []
        doc = nlp_artifacts.tokens
        suppressed: set[int] = set()  # never part of a name
        known: set[int] = set()  # not a name on its own, but may follow one ("Sohel Islam")
        for ent in doc.ents:
            if ent.label_ in self._suppress:
                suppressed.update(range(ent.start, ent.end))
            elif ent.label_ in self._suppress_known:
                # spaCy calls many names NORP ("Hamish", "qian"); a real nationality or
                # religion ("Polish", "Muslim") is a dictionary word
                known.update(
                    t.i for t in ent if t.text.casefold() in self._lexicon or not t.is_alpha
                )
        suppressed.update(self._in_skip_phrases(doc))
        unknown_words = self._unknown_words and not self._mostly_unknown(doc)
        return self._results(text, self._runs(doc, suppressed, known, unknown_words))

    def _in_skip_phrases(self, doc) -> set[int]:
        """Tokens inside a kept phrase of several words ("National Referral Mechanism"): a kept
        word in the middle ("referral") would otherwise end the run and leave its neighbours
        as two names."""
        words = [t.text.casefold() for t in doc]
        inside: set[int] = set()
        for i, word in enumerate(words):
            for parts in self._phrases_from.get(word, ()):
                if words[i : i + len(parts)] == parts:
                    inside.update(range(i, i + len(parts)))
        return inside

    def _runs(self, doc, suppressed: set[int], known: set[int], unknown_words: bool) -> list[list]:
        runs: list[list] = []
        current: list = []
        for tok in doc:
            joiner = tok.text in _JOINERS and not tok.whitespace_ and current
            strong = self._strong(tok, unknown_words)
            if tok.i not in suppressed and tok.i not in known and (strong or joiner):
                current.append(tok)
                continue
            if current and tok.i not in suppressed and self._weak(tok):
                current.append(tok)  # a surname after a name; the run ends here
            if current:
                runs.append(current)
            current = []
        if current:
            runs.append(current)
        return runs

    def _results(self, text: str, runs: list[list]) -> list[RecognizerResult]:
        results = []
        for run in runs:
            while run and run[-1].text in _JOINERS:  # a hyphen or apostrophe left at the end
                run = run[:-1]
            if not run:
                continue
            start, end = run[0].idx, run[-1].idx + len(run[-1].text)
            words = [t.text.casefold() for t in run]
            phrase = " ".join(text[start:end].casefold().split())
            if self._institution_words.intersection(words) or phrase in self._skip_phrases:
                continue
            results.append(self._result(start, end))
        return results


class DigitRunRecognizer(_RuleRecognizer):
    """Runs of ``min_digits`` or more digits split by spaces, commas, hyphens or dots that are
    not everyday numbers (money, dates, lists of ages): the rule in ``digits.py``, which
    the residual check applies too."""

    def __init__(self, *, name: str, entity: str, score: float, language: str, min_digits: int):
        super().__init__(name=name, entity=entity, score=score, language=language)
        self._min_digits = min_digits

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if self._entity not in entities:
            return []
        return [self._result(run.start, run.end) for run in digit_runs(text, self._min_digits)]


#: A word as the spelt-letters rule reads it: "that's" is one word, so its "s" is no letter.
_SPELT_WORD_RE = regex.compile(r"[\p{L}\p{M}\d]+(?:['’][\p{L}\p{M}]+)*")
#: Between two spelt letters: spaces, or one hyphen, dot or comma ("S-I", "S .I.", "S, I").
_SPELT_GAP_RE = regex.compile(r"\s*[.,\-–]?\s*")
#: One-letter English words: letters made only of these and joined by spaces or commas are
#: speech ("I, I think"), not spelling.
_LETTER_WORDS = frozenset("ia")


class SpeltLettersRecognizer(_RuleRecognizer):
    """A word spelt out: two or more single letters in a row, joined by spaces, hyphens, dots or
    commas, as Whisper writes them ("S-I-A-N", "S .I.", "D A R I U S Z", "O, K, A, F"), "double
    F" counting as two. Spelling aloud is what people do for names, emails and postcodes, so the
    run is an identifier when

    * a cue word (``cues``: "spelt", "that's", "name" ...) is among the ``cue_window`` words
      before it and it has ``min_letters`` letters joined by hyphens or dots ("S .I.") or
      ``min_letters_cue_spaced`` joined otherwise ("S, I, A"; "it's A, B or C" is a choice), or
    * it has ``min_letters_alone`` letters joined by hyphens or dots alone ("T-O-M"), or
      ``min_letters_spaced`` joined otherwise ("F, I, O, N"), or
    * a word within ``name_window`` words either side begins with its letters: the word being
      spelt ("Sian, S .I."), which is then reported too.

    Never when the letters spell a word the note needs (``skip``: "G P", "C A M H S", "O K")
    and no nearby word begins with them,
    and never for letters made only of the one-letter words "I" and "a" joined by spaces or
    commas. Lowercase letters count only when joined by hyphens or dots ("s-i-a-n"): a lowercase
    "a" or "i" between spaces is a word."""

    def __init__(
        self,
        *,
        name: str,
        entity: str,
        score: float,
        language: str,
        cues: Iterable[str],
        cue_window: int,
        min_letters: int,
        min_letters_cue_spaced: int,
        min_letters_alone: int,
        min_letters_spaced: int,
        name_window: int,
        repeats: dict[str, int],
        skip: frozenset[str],
        skip_words: frozenset[str],
    ):
        super().__init__(name=name, entity=entity, score=score, language=language)
        self._cues = frozenset(_fold(c) for c in cues)
        self._cue_window = cue_window
        self._min_letters = min_letters
        self._min_cue_spaced = min_letters_cue_spaced
        self._min_alone = min_letters_alone
        self._min_spaced = min_letters_spaced
        self._name_window = name_window
        self._repeats = {k.casefold(): v for k, v in repeats.items()}
        self._skip = skip
        self._skip_words = skip_words

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if self._entity not in entities:
            return []
        words = list(_SPELT_WORD_RE.finditer(text))
        results: list[RecognizerResult] = []
        for first, last, letters, explicit in self._runs(text, words):
            if len(letters) < self._min_letters:
                continue
            if not explicit and not set(letters.casefold()) - _LETTER_WORDS:
                continue
            spelt = self._spelt_word(words, first, last, letters.casefold())
            if spelt is None and letters.casefold() in self._skip:
                continue  # "the G P", "C A M H S"; but "Danielle, D A" is her name
            cue = len(letters) >= (self._min_letters if explicit else self._min_cue_spaced) and any(
                _fold(w.group()) in self._cues
                for w in words[max(0, first - self._cue_window) : first]
            )
            alone = len(letters) >= (self._min_alone if explicit else self._min_spaced)
            if not (cue or alone or spelt is not None):
                continue
            results.append(self._result(words[first].start(), words[last].end()))
            if spelt is not None:
                results.append(self._result(spelt.start(), spelt.end()))
        return results

    def _runs(self, text: str, words: list) -> list[tuple[int, int, str, bool]]:
        """(first word, last word, letters, joined only by hyphens or dots) for each run of
        letters; lowercase letters only in a run so joined."""
        runs = []
        i = 0
        while i < len(words):
            j, letters, gaps = i, "", []
            while j < len(words):
                step, more = self._letters_at(text, words, j)
                if not step:
                    break
                if j > i:
                    gap = text[words[j - 1].end() : words[j].start()]
                    if not _SPELT_GAP_RE.fullmatch(gap):
                        break
                    gaps.append(gap)
                letters += more
                j += step
            if len(letters) >= 2:
                explicit = bool(gaps) and all(g.strip() in ("-", "–", ".") for g in gaps)
                if explicit or letters.isupper():
                    runs.append((i, j - 1, letters, explicit))
            i = max(j, i + 1)
        return runs

    def _letters_at(self, text: str, words: list, j: int) -> tuple[int, str]:
        """(words taken, letters) at word ``j``: one letter, or "double F" as two words."""
        w = words[j].group()
        if len(w) == 1 and w.isalpha():
            return 1, w
        times = self._repeats.get(w.casefold())
        if times and j + 1 < len(words):
            nxt = words[j + 1].group()
            if (
                len(nxt) == 1
                and nxt.isalpha()
                and text[words[j].end() : words[j + 1].start()].isspace()
            ):
                return 2, nxt * times
        return 0, ""

    def _spelt_word(self, words: list, first: int, last: int, letters: str):
        """The word within ``name_window`` words of the run that begins with its letters."""
        near = words[max(0, first - self._name_window) : first]
        near += words[last + 1 : last + 1 + self._name_window]
        for w in near:
            word = w.group().casefold()
            if len(word) >= 3 and word.startswith(letters) and word not in self._skip_words:
                return w
        return None


def _fold(word: str) -> str:
    return word.casefold().replace("’", "'")


class WholeWordContextEnhancer(ContextAwareEnhancer):
    """Raise a result's score when one of its recogniser's context words is among the few words
    before it. Whole words, case-insensitive; logs nothing about the text.

    ``context`` (``analyze(context=...)``) is what was said just before the text: the redactor
    passes the previous segment, so for a match among a segment's first words the words before it
    run on into the end of the turn before ("His date of birth?" / "The fourteenth of August
    ..."). It counts only within the same few words, never for a match further into the text."""

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
            if context and result.start <= 100 and len(before) < self.context_prefix_count:
                said_before = [w for c in context for w in self._WORD.findall(c.casefold())]
                before = said_before + before
            window = set(before[-self.context_prefix_count :])
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
        # Presidio declares ``nlp`` as None until its load() fills it; ours is filled here.
        self.nlp = {language: nlp}  # type: ignore[assignment]

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
    lexicon: EnglishLexicon | None = None,
) -> tuple[list[EntityRecognizer], NerModelConfiguration]:
    """Presidio recognisers for every YAML recogniser, plus the NER configuration for the
    spaCy engine (entity mapping, and every other label of the model ignored). ``lexicon``
    tells the proper-noun fallback which lowercase words are English, never names."""
    language = config.settings.language
    recognizers: list[EntityRecognizer] = []
    ner_config: NerModelConfiguration | None = None
    for rec in config.recognizers:
        if isinstance(rec, PatternRecognizerConfig | DenyListRecognizerConfig):
            recognizers.append(_pattern_recognizer(rec, language))
        elif isinstance(rec, SpacyNerRecognizerConfig):
            if ner_config is not None:
                raise ConfigurationError("only one spacy_ner recogniser may be configured")
            ner_config = NerModelConfiguration(
                model_to_presidio_entity_mapping=dict(rec.labels),
                labels_to_ignore=sorted(set(ner_labels) - set(rec.labels)),
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
        elif isinstance(rec, DigitRunRecognizerConfig):
            recognizers.append(
                DigitRunRecognizer(
                    name=rec.name,
                    entity=rec.entity,
                    score=rec.score,
                    language=language,
                    min_digits=rec.min_digits,
                )
            )
        elif isinstance(rec, ProperNounRecognizerConfig):
            recognizers.append(_proper_noun_recognizer(rec, config, stop_words, lexicon))
        elif isinstance(rec, SpeltLettersRecognizerConfig):
            recognizers.append(_spelt_letters_recognizer(rec, config, stop_words))
    if ner_config is None:
        raise ConfigurationError("a spacy_ner recogniser must be configured")
    return recognizers, ner_config


def _pattern_recognizer(
    rec: PatternRecognizerConfig | DenyListRecognizerConfig, language: str
) -> PatternRecognizer:
    """A regex recogniser, or a word-list one (longest words first, so they win)."""
    kwargs: dict[str, Any] = dict(
        supported_entity=rec.entity,
        name=rec.name,
        supported_language=language,
        context=list(rec.context) or None,
        global_regex_flags=CASE_SENSITIVE_FLAGS if rec.case_sensitive else CASE_INSENSITIVE_FLAGS,
    )
    if isinstance(rec, PatternRecognizerConfig):
        patterns = [Pattern(name=p.name, regex=p.regex, score=rec.score) for p in rec.patterns]
        validator = VALIDATORS[rec.validator] if rec.validator else None
        return ConfiguredPatternRecognizer(patterns=patterns, validator=validator, **kwargs)
    words = sorted(rec.words, key=len, reverse=True)
    return PatternRecognizer(deny_list=words, deny_list_score=rec.score, **kwargs)


def _proper_noun_recognizer(
    rec: ProperNounRecognizerConfig,
    config: RedactionConfig,
    stop_words: frozenset[str],
    lexicon: EnglishLexicon | None,
) -> ProperNounRecognizer:
    """The name fallback, told which words and phrases are never names: keep words, known
    non-names, titles and stop words."""
    keep = config.keep
    single = {w.casefold() for w in keep.words + keep.not_names if " " not in w}
    phrases = {w.casefold() for w in keep.words + keep.not_names if " " in w}
    titles = {t.casefold() for t in config.names.titles}
    return ProperNounRecognizer(
        name=rec.name,
        entity=rec.entity,
        score=rec.score,
        language=config.settings.language,
        suppress_labels=rec.suppress_labels,
        max_acronym_length=rec.max_acronym_length,
        suppress_known_labels=rec.suppress_known_labels,
        skip_words=frozenset(single | titles | stop_words),
        skip_phrases=frozenset(phrases),
        institution_words=frozenset(w.casefold() for w in keep.institution_words),
        lexicon=lexicon,
        unknown_words=rec.unknown_words,
    )


def _spelt_letters_recognizer(
    rec: SpeltLettersRecognizerConfig, config: RedactionConfig, stop_words: frozenset[str]
) -> SpeltLettersRecognizer:
    """Told which letter strings are words a note needs (keep words, known non-names and
    acronyms, punctuation dropped: "A&E" is "ae") and which words are never the word spelt."""
    keep = config.keep
    skip = frozenset(
        "".join(c for c in w.casefold() if c.isalnum())
        for w in keep.words + keep.not_names + keep.acronyms
    )
    titles = {t.casefold() for t in config.names.titles}
    single = {w.casefold() for w in keep.words + keep.not_names + keep.acronyms if " " not in w}
    return SpeltLettersRecognizer(
        name=rec.name,
        entity=rec.entity,
        score=rec.score,
        language=config.settings.language,
        cues=rec.cues,
        cue_window=rec.cue_window,
        min_letters=rec.min_letters,
        min_letters_cue_spaced=rec.min_letters_cue_spaced,
        min_letters_alone=rec.min_letters_alone,
        min_letters_spaced=rec.min_letters_spaced,
        name_window=rec.name_window,
        repeats=dict(config.spoken.repeats),
        skip=skip,
        skip_words=frozenset(single | titles | stop_words),
    )
