"""Redaction stage: Transcript -> (RedactedTranscript, PseudonymMap).

Identifiers are found by Presidio recognisers configured from ``config/*.yaml`` (see
``config/README.md``) on top of the bundled spaCy model, loaded from a folder on disk: nothing
is ever downloaded. Each identifier becomes a numbered placeholder (``[PERSON_1]``,
``[PHONE_1]`` ...) that stays the same for the same person or value throughout one recording, and
the placeholder -> original value map is returned separately, for the recording's owner only.

Personal data never reaches logs or exception messages: this module logs counts, ids and entity
types only.

The rules that act on matches once found live in ``rules.py`` (tidying, overlaps),
``propagation.py`` (every other mention) and ``placeholders.py``, on the types in ``spans.py``;
configuration loading in ``config.py``; the recognisers that need code in ``recognizers.py``
(their checks in ``validators.py``); the spoken-number normaliser in ``normalise.py``.

How one recording is redacted (``Redactor.redact``):
 1. spoken numbers and spelt letters are normalised per segment, keeping an offset map;
 2. the spaCy pipeline runs once over all segment texts (``nlp.pipe``), then every recogniser,
    with the segment before as context (a date answering "His date of birth?" is one);
 3. non-generic speaker labels are names;
 4. each match is tidied (titles, keep words and stop words trimmed) and overlaps resolved per
    text: the longer span wins, then the higher score, then the entity listed first;
 5. each value found anywhere gets one entity type for the recording, and every other mention of
    it, and of each part of a name, is redacted too (case-insensitive, whole words);
 6. placeholders are numbered per type in order of first appearance; name mentions that share
    words ("Kasia Nowak", "Kasia", "Mrs Nowak") are one person.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import regex
import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult

from assistant.domain import (
    EntitySpan,
    PseudonymMap,
    RedactedSegment,
    RedactedTranscript,
    Segment,
    Transcript,
)
from assistant.errors import ConfigurationError
from assistant.redaction.config import (
    DEFAULT_CONFIG_DIR,
    PERSON_PLACEHOLDER,
    SpokenConfig,
    config_hash,
    load_config,
)
from assistant.redaction.digits import MIN_DIGITS, digit_runs
from assistant.redaction.lexicon import EnglishLexicon
from assistant.redaction.normalise import NormalisedText, SpokenNormaliser
from assistant.redaction.placeholders import Placeholders
from assistant.redaction.recognizers import (
    OfflineSpacyNlpEngine,
    WholeWordContextEnhancer,
    build_recognizers,
)
from assistant.redaction.rules import SpanRules
from assistant.redaction.spans import (
    EDGE_PUNCT,
    STOP_WORDS,
    Field,
    Span,
    apply_spans,
    capitalised_tokens,
    phrase,
    phrase_pattern,
    standalone_parts,
)

if TYPE_CHECKING:
    from spacy.pipeline import EntityRecognizer as SpacyNer

__all__ = [
    "RedactionAnalyzer",
    "Redactor",
    "build_analyzer",
    "config_hash",
    "residual_identifiers",
    "written_digits",
]

logger = logging.getLogger(__name__)

#: Words below this Whisper probability are listed for the practitioner to check.
LOW_CONFIDENCE = 0.5
#: spaCy components the recognisers do not use; leaving them out roughly halves spaCy's time.
_SPACY_EXCLUDE = ("parser", "lemmatizer", "senter")
_SPACY_REQUIRED = ("tagger", "attribute_ruler", "ner")
_DIGIT_RE = regex.compile(r"\d")
_PLACEHOLDER_RE = regex.compile(r"\[[A-Z][A-Z0-9_]*_\d+\]")
# Residual check: independent of the YAML on purpose, so a configuration mistake cannot switch
# the safety net off. DIGIT_RUN is the id_number recogniser's rule (digits.py), applied
# after spoken digits are written as digits with this fixed vocabulary (a subset of spoken.yaml),
# so clean output passes and "oh one one three, four nine six, ..." left in the text does not.
# Tens and teens too, so a spoken postcode left in the text ("M twelve, five P L" -> "M12 5PL")
# has the postcode shape; the normaliser rewrites them only in codes and long numbers.
_RESIDUAL_SPOKEN = SpokenConfig(
    digits={
        "zero": "0", "oh": "0", "nought": "0", "one": "1", "two": "2", "three": "3",
        "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    },
    numbers={
        "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
        "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18",
        "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50",
        "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
    },
    repeats={"double": 2, "triple": 3},
    letter_or_zero=("o",),
    min_chars=3,
)  # fmt: skip
# A postcode with or without a space, or with a comma where Whisper heard a pause ("LS6, 2QT").
_RESIDUAL_POSTCODE = regex.compile(
    r"\b[A-Z]{1,2}\d[A-Z\d]?(?:\s*,\s*|\s*)\d[A-Z]{2}\b", regex.IGNORECASE
)
# A title as written, then a capitalised word of two or more letters that is not a stop word:
# "Mrs Ward" left in the text. The redactor takes any such word for a name (names.naming_titles),
# so "Mrs [PERSON_1]" passes, and "Mr and Mrs [PERSON_1]" and "I Miss You" too.
# "the Mrs. Mum came" is someone's wife and a new sentence.
_RESIDUAL_TITLE_NAME = regex.compile(
    r"(?<![\w.])(?:(?<!\b(?i:the|my|his|your|our|their)\s+)(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.|"
    r"(?:Mr|Mrs|Ms|Miss|Mx|Dr))\s+(\p{Lu}[\p{L}\p{M}'’\-]*[\p{L}\p{M}])"
)


class RedactionAnalyzer(AnalyzerEngine):
    """An AnalyzerEngine that remembers which redaction configuration built it."""

    config_hash: str
    spacy_model_path: Path


def build_analyzer(
    *, spacy_model_path: Path, config_dir: Path = DEFAULT_CONFIG_DIR
) -> RedactionAnalyzer:
    """Build Presidio from the YAML recognisers and the spaCy model folder at ``spacy_model_path``.

    Offline by construction: the model is read with ``spacy.load(<folder>)`` and handed to the
    NLP engine already loaded, so Presidio's load-by-name-and-download path is never taken.
    Raises ConfigurationError if the folder or the configuration is wrong."""
    config = load_config(config_dir)
    spacy_model_path = Path(spacy_model_path)
    if not (spacy_model_path / "config.cfg").is_file():
        raise ConfigurationError(
            f"spaCy model folder not found or incomplete: {spacy_model_path} (expected the "
            "unpacked en_core_web_sm-3.8.0 package folder with config.cfg; models are never "
            "downloaded at run time)"
        )
    try:
        nlp = spacy.load(spacy_model_path, exclude=list(_SPACY_EXCLUDE))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"cannot load spaCy model from {spacy_model_path}: {exc}"
        ) from None
    missing = [p for p in _SPACY_REQUIRED if p not in nlp.pipe_names]
    if missing:
        raise ConfigurationError(f"spaCy model {spacy_model_path} lacks component(s) {missing}")

    language = config.settings.language
    recognizers, ner_config = build_recognizers(
        config,
        ner_labels=cast("SpacyNer", nlp.get_pipe("ner")).labels,
        stop_words=STOP_WORDS,
        lexicon=EnglishLexicon.from_model(spacy_model_path),
    )
    engine = OfflineSpacyNlpEngine(nlp, language=language, ner_model_configuration=ner_config)
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[language])
    analyzer = RedactionAnalyzer(
        registry=registry,
        nlp_engine=engine,
        supported_languages=[language],
        default_score_threshold=config.settings.score_threshold,
        context_aware_enhancer=WholeWordContextEnhancer(),
    )
    analyzer.config_hash = config.config_hash
    analyzer.spacy_model_path = spacy_model_path
    logger.info(
        "redaction analyzer built: recognizers=%d config_hash=%s",
        len(recognizers),
        config.config_hash[:12],
    )
    return analyzer


# --- the stage ----------------------------------------------------------------------------
class Redactor:
    """Pseudonymises transcripts with an analyzer from ``build_analyzer``.

    Stateless between calls (safe to share across threads that take turns on the analyzer)."""

    def __init__(
        self,
        analyzer: AnalyzerEngine,
        *,
        config_dir: Path = DEFAULT_CONFIG_DIR,
        score_threshold: float | None = None,
    ):
        self._config = load_config(config_dir)
        built_with = getattr(analyzer, "config_hash", None)
        if built_with != self._config.config_hash:
            raise ConfigurationError(
                "the analyzer was not built from this redaction configuration; build it with "
                "build_analyzer(config_dir=...) from the same folder"
            )
        self._analyzer = analyzer
        self._language = self._config.settings.language
        self._threshold = (
            self._config.settings.score_threshold if score_threshold is None else score_threshold
        )
        if not 0.0 <= self._threshold <= 1.0:
            raise ConfigurationError("score_threshold must be between 0 and 1")
        self._normaliser = SpokenNormaliser(self._config.spoken)
        self._rules = SpanRules(self._config)
        # Asked once: analyze(entities=None) would ask (and log at INFO) for every segment.
        self._entities = sorted(analyzer.get_supported_entities(self._language))

    # -- public API ------------------------------------------------------------------------
    @property
    def rules(self) -> SpanRules:
        """The span rules this redactor resolves and propagates with (the residual check
        reads them so it counts what redaction leaves by design as no leak)."""
        return self._rules

    def redact(self, transcript: Transcript) -> tuple[RedactedTranscript, PseudonymMap]:
        fields: list[Field] = []
        for seg in transcript.segments:
            if seg.speaker is not None:
                fields.append(Field(len(fields), seg.id, "speaker", seg.speaker))
            fields.append(Field(len(fields), seg.id, "text", seg.text))
        spans, placeholders = self._redact_fields(fields)

        by_field: dict[int, list[Span]] = {}
        for span in spans:
            by_field.setdefault(span.field, []).append(span)
        redacted_segments = []
        cursor = 0
        for seg in transcript.segments:
            speaker = None
            if seg.speaker is not None:
                speaker = apply_spans(fields[cursor].text, by_field.get(cursor, []))
                cursor += 1
            text_spans = by_field.get(cursor, [])
            text = apply_spans(seg.text, text_spans)
            cursor += 1
            redacted_segments.append(
                RedactedSegment(
                    id=seg.id,
                    start=seg.start,
                    end=seg.end,
                    text=text,
                    speaker=speaker,
                    low_confidence_words=self._low_confidence(seg, text_spans, placeholders),
                )
            )
        redacted = RedactedTranscript(
            segments=tuple(redacted_segments),
            language=transcript.language,
            duration_s=transcript.duration_s,
            entities=tuple(self._entity_span(fields, s) for s in spans),
            config_hash=self._config.config_hash,
        )
        mapping = PseudonymMap(entries=dict(placeholders.entries))
        self._log(len(transcript.segments), spans)
        return redacted, mapping

    def redact_text(self, text: str) -> tuple[str, list[EntitySpan], PseudonymMap]:
        """Redact one free text (``caseassist redact FILE``); spans carry segment_id "text"."""
        fields = [Field(0, "text", "text", text)]
        spans, placeholders = self._redact_fields(fields)
        self._log(1, spans)
        return (
            apply_spans(text, spans),
            [self._entity_span(fields, s) for s in spans],
            PseudonymMap(entries=dict(placeholders.entries)),
        )

    # -- pipeline --------------------------------------------------------------------------
    def _redact_fields(self, fields: list[Field]) -> tuple[list[Span], Placeholders]:
        found = self._detect(fields)
        per_field = self._rules.resolve(fields, self._rules.type_addressed(fields, found))
        per_field = self._rules.propagate(fields, per_field)
        spans = sorted(
            (s for group in per_field.values() for s in group), key=lambda s: (s.field, s.start)
        )
        placeholders = Placeholders(self._config, self._normaliser)
        for span in spans:
            span.placeholder = placeholders.assign(
                span.entity, fields[span.field].text[span.start : span.end]
            )
        return spans, placeholders

    def _detect(self, fields: list[Field]) -> list[Span]:
        found: list[Span] = []
        texts = [f for f in fields if f.name == "text" and f.text.strip()]
        for f in fields:
            if f.name == "speaker":
                found.extend(self._rules.speaker_spans(f))
        normalised = [self._normaliser.normalise(f.text) for f in texts]
        engine = self._analyzer.nlp_engine
        batches = engine.process_batch(
            [n.text for n in normalised], language=self._language, batch_size=64
        )
        previous = ""  # the segment before: "His date of birth?" answered in the next turn
        for f, norm, (_, artifacts) in zip(texts, normalised, batches, strict=True):
            results = self._analyzer.analyze(
                text=norm.text,
                language=self._language,
                entities=self._entities,
                nlp_artifacts=artifacts,
                score_threshold=self._threshold,
                context=[previous] if previous else None,
            )
            found.extend(self._from_results(f, norm, results))
            previous = f.text
        return found

    def _from_results(
        self, f: Field, norm: NormalisedText, results: Iterable[RecognizerResult]
    ) -> list[Span]:
        spans = []
        for r in results:
            start, end = norm.to_original(r.start, r.end)
            name = (r.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_NAME_KEY, "")
            span = self._rules.tidy(f.text, Span(f.order, start, end, r.entity_type, r.score, name))
            if span is not None:
                spans.append(span)
        return spans

    def _low_confidence(
        self, seg: Segment, spans: Sequence[Span], placeholders: Placeholders
    ) -> tuple[str, ...]:
        """Words Whisper was unsure of (probability < 0.5), for the practitioner to check;
        words inside a redacted span are left out."""
        words = []
        cursor = 0
        text = seg.text
        lowered = text.casefold()
        known = [v.casefold() for v in placeholders.entries.values()]
        for word in seg.words:
            token = word.text.strip()
            if not token:
                continue
            idx = text.find(token, cursor)
            if idx < 0:
                idx = lowered.find(token.casefold(), cursor)
            if idx >= 0:
                cursor = idx + len(token)
                redacted = any(s.start < idx + len(token) and idx < s.end for s in spans)
            else:  # cannot place the word in the text: drop it if it could be an identifier
                low = token.casefold()
                redacted = any(low in v or v in low for v in known) or bool(_DIGIT_RE.search(token))
            if word.probability < LOW_CONFIDENCE and not redacted:
                clean = token.strip(EDGE_PUNCT)
                if clean:
                    words.append(clean)
        return tuple(words)

    def _entity_span(self, fields: list[Field], span: Span) -> EntitySpan:
        f = fields[span.field]
        return EntitySpan(
            segment_id=f.segment_id,
            field=f.name,
            start=span.start,
            end=span.end,
            entity_type=span.entity,
            placeholder=span.placeholder,
            score=round(span.score, 4),
            recognizer=span.recognizer,
        )

    def _log(self, segments: int, spans: list[Span]) -> None:
        by_type = Counter(s.entity for s in spans)
        logger.info(
            "redacted: segments=%d entities=%d by_type=%s config_hash=%s",
            segments,
            len(spans),
            dict(sorted(by_type.items())),
            self._config.config_hash[:12],
        )


# --- safety net ---------------------------------------------------------------------------
def written_digits(text: str) -> str:
    """``text`` with spoken digit runs written as digits by the residual check's fixed
    vocabulary ("oh one one three" -> "0113"), as that check reads a redacted text."""
    return SpokenNormaliser(_RESIDUAL_SPOKEN).normalise(text).text


def residual_identifiers(
    redacted: RedactedTranscript, mapping: PseudonymMap, rules: SpanRules | None = None
) -> list[str]:
    """What in a redacted transcript still looks like an identifier, as finding types only:
    ``DIGIT_RUN`` (six or more digits in groups split by spaces, commas, hyphens or dots, digits
    spoken as words included, unless money, a date or a short list of ages: the rule in
    ``digits.py``), ``UK_POSTCODE_SHAPE`` (with a space, a comma or nothing between the
    halves, or spelt out, tens and teens included: "M twelve, five P L"), ``TITLE_NAME`` (Mr, Mrs,
    Ms, Miss, Mx or Dr, as written, then a capitalised word: "Mrs Ward"), ``KNOWN_NAME`` (a name
    from the map, or a word of it of three or more letters that is not a stop word) and
    ``KNOWN_VALUE`` (any other original value from the map), case-insensitive on word boundaries.
    The pipeline refuses to draft when this is not empty. With the redactor's ``rules``, a name's
    word that redaction never carries to other mentions (a place, a home's word such as "house",
    a title) or a mention inside a phrase that is no name ("disability living allowance") is not
    counted: redaction leaves those by design, and an hour's recording whose Whisper wrote
    "House" as a name once was refused for every "the house" after it."""
    phrases: dict[str, str] = {}
    for placeholder, value in mapping.entries.items():
        is_name = placeholder.startswith(f"[{PERSON_PLACEHOLDER}_")
        kind = "KNOWN_NAME" if is_name else "KNOWN_VALUE"
        whole = phrase(value)
        never = rules.never_person_parts if (rules is not None and is_name) else frozenset()
        if whole and whole not in STOP_WORDS and whole not in never:  # "US" is not "us"
            phrases.setdefault(whole, kind)
        if is_name:
            for part in standalone_parts(value, capitalised_tokens(value)):
                if len(part) >= 3 and part not in STOP_WORDS and part not in never:
                    phrases.setdefault(part, kind)
    checks: list[tuple[regex.Pattern[str], str]] = []
    for kind in ("KNOWN_NAME", "KNOWN_VALUE"):
        alts = [p for p, k in phrases.items() if k == kind]
        if alts:
            checks.append((phrase_pattern(alts), kind))

    normaliser = SpokenNormaliser(_RESIDUAL_SPOKEN)
    findings: set[str] = set()
    for seg in redacted.segments:
        for text in (seg.text, seg.speaker or "", *seg.low_confidence_words):
            cleaned = _PLACEHOLDER_RE.sub(" ", text)
            written = normaliser.normalise(cleaned).text
            if "DIGIT_RUN" not in findings and digit_runs(written, MIN_DIGITS):
                findings.add("DIGIT_RUN")
            if "UK_POSTCODE_SHAPE" not in findings and (
                _RESIDUAL_POSTCODE.search(cleaned) or _RESIDUAL_POSTCODE.search(written)
            ):
                findings.add("UK_POSTCODE_SHAPE")
            if "TITLE_NAME" not in findings and any(
                m.group(1).casefold() not in STOP_WORDS
                for m in _RESIDUAL_TITLE_NAME.finditer(cleaned)
            ):
                findings.add("TITLE_NAME")
            for pattern, kind in checks:
                if kind not in findings and any(
                    kind != "KNOWN_NAME"
                    or rules is None
                    or not rules.in_not_name_phrase(cleaned, m.start(), m.end())
                    for m in pattern.finditer(cleaned)
                ):
                    findings.add(kind)
    return sorted(findings)
