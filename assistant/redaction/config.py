"""Load and check the reviewable redaction configuration (the YAML files in ``config/``).

The rules that decide what counts as an identifier are data a reviewer can read, not code: this
module turns the folder into one validated, frozen ``RedactionConfig`` and refuses to go on
(``ConfigurationError``) if a file does not parse, a mapping repeats a key, a recogniser name is
used twice, a regex does not compile or a reference points nowhere. Error messages name files,
sections and recognisers only; configuration holds no personal data, but we keep the habit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal

import regex
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import ConfigurationError
from assistant.redaction.validators import VALIDATORS
from assistant.yamlfiles import load_unique_yaml

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent / "config"

#: The residual check (``residual_identifiers``) knows names by this placeholder prefix.
PERSON_ENTITY = "PERSON"
PERSON_PLACEHOLDER = "PERSON"

_SECTIONS = ("settings", "entities", "fragments", "recognizers", "names", "keep", "spoken")
_FRAGMENT_RE = regex.compile(r"\{\{(\w+)\}\}")
_NAME_RE = r"^[a-z][a-z0-9_]*$"
#: Regex flags for recognisers: Presidio's defaults, minus IGNORECASE when case_sensitive.
CASE_INSENSITIVE_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE
CASE_SENSITIVE_FLAGS = regex.DOTALL | regex.MULTILINE


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Settings(_Strict):
    language: str = "en"
    score_threshold: float = Field(default=0.5, ge=0.0, le=1.0)


class EntityConfig(_Strict):
    placeholder: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    description: str = Field(min_length=1)


class PatternConfig(_Strict):
    name: str = Field(pattern=_NAME_RE)
    regex: str = Field(min_length=1)


class _RecognizerBase(_Strict):
    name: str = Field(pattern=_NAME_RE)
    description: str = Field(min_length=1)
    score: float = Field(ge=0.0, le=1.0)


class PatternRecognizerConfig(_RecognizerBase):
    kind: Literal["pattern"]
    entity: str
    patterns: tuple[PatternConfig, ...] = Field(min_length=1)
    case_sensitive: bool = False
    validator: str | None = None
    context: tuple[str, ...] = ()


class DenyListRecognizerConfig(_RecognizerBase):
    kind: Literal["deny_list"]
    entity: str
    words: tuple[str, ...] = Field(min_length=1)
    case_sensitive: bool = False
    context: tuple[str, ...] = ()


class SpacyNerRecognizerConfig(_RecognizerBase):
    kind: Literal["spacy_ner"]
    labels: dict[str, str] = Field(min_length=1, description="spaCy label -> entity type")


class ProperNounRecognizerConfig(_RecognizerBase):
    kind: Literal["proper_noun"]
    entity: str
    suppress_labels: tuple[str, ...] = ()
    suppress_known_labels: tuple[str, ...] = Field(
        default=(), description="labels that suppress only words in the English dictionary"
    )
    max_acronym_length: int = Field(default=6, ge=0)
    unknown_words: bool = Field(
        default=False, description="also words in no English dictionary, whatever their tag"
    )


class DigitRunRecognizerConfig(_RecognizerBase):
    """Long numbers however they are punctuated (``assistant/redaction/digits.py``): the same
    rule as the residual check's DIGIT_RUN, so redacted output never fails that check."""

    kind: Literal["digit_run"]
    entity: str
    min_digits: int = Field(default=6, ge=4)


class SpeltLettersRecognizerConfig(_RecognizerBase):
    """A word spelt out letter by letter ("S-I-A-N", Whisper's "S .I.", "D A R I U S Z"),
    which people do on a visit only for names and other identifiers
    (``assistant/redaction/recognizers.py`` ``SpeltLettersRecognizer``). Letters that spell a
    word the note needs (keep.yaml: ``words``, ``not_names``, ``acronyms``) are left alone."""

    kind: Literal["spelt_letters"]
    entity: str
    cues: tuple[str, ...] = Field(
        min_length=1,
        description='words that announce a spelling ("spelt", "that\'s", "name") among the '
        "cue_window words before the letters",
    )
    cue_window: int = Field(default=5, ge=1)
    min_letters: int = Field(
        default=2, ge=2, description='letters joined by hyphens or dots ("S .I.") a cue needs'
    )
    min_letters_cue_spaced: int = Field(
        default=3, ge=2, description='letters joined by spaces or commas ("S, I, A") a cue needs'
    )
    min_letters_alone: int = Field(
        default=3,
        ge=2,
        description='letters a run joined by hyphens or dots ("T-O-M") needs without a cue',
    )
    min_letters_spaced: int = Field(
        default=4,
        ge=2,
        description='letters a run joined by spaces or commas ("F, I, O, N") needs without a cue',
    )
    name_window: int = Field(
        default=6,
        ge=0,
        description='words either side searched for the word the letters spell ("Sian, '
        'S .I."): the letters are then a name with no cue needed, and so is that word',
    )


RecognizerConfig = Annotated[
    PatternRecognizerConfig
    | DenyListRecognizerConfig
    | SpacyNerRecognizerConfig
    | ProperNounRecognizerConfig
    | DigitRunRecognizerConfig
    | SpeltLettersRecognizerConfig,
    Field(discriminator="kind"),
]


class NamesConfig(_Strict):
    titles: tuple[str, ...] = Field(min_length=1)
    naming_titles: tuple[str, ...] = Field(
        default=(),
        description="titles, as written (case-sensitive), after which a capitalised word is "
        'always a name ("Mrs Ward"); each must be one of titles',
    )
    not_after_title: tuple[str, ...] = Field(
        default=(),
        description='words that are no name even after a naming title ("I Miss You")',
    )
    particles: tuple[str, ...] = ()
    address_words: tuple[str, ...] = Field(
        default=(),
        description="words and phrases after which a single word the spaCy model calls a place "
        'is a person being spoken to or introduced ("Hiya Bethan", "Thank you, Becky", '
        "\"it's Deniz\"); a place word list's (places.yaml) places stay places",
    )


class KeepConfig(_Strict):
    words: tuple[str, ...]
    generic_speakers: tuple[str, ...]
    generic_speaker_patterns: tuple[str, ...] = ()
    not_names: tuple[str, ...] = ()
    institution_words: tuple[str, ...] = ()
    residence_words: tuple[str, ...] = Field(
        default=(),
        description="last words of a named home or building (House, Lodge): a name ending in "
        "one is a place, and the word alone is never a person's name",
    )
    acronyms: tuple[str, ...] = Field(
        default=(),
        description="letters people say one by one that are words a note needs (GP, CAMHS, "
        "A and E), never a spelt name: the spelt_letters recogniser leaves them alone",
    )


class SpokenConfig(_Strict):
    digits: dict[str, str] = Field(min_length=1)
    numbers: dict[str, Annotated[str, Field(pattern=r"^[1-9]0$|^1[1-9]$")]] = Field(
        default={},
        description='tens and teens: "twelve" -> "12"; a tens word then a digit one to nine is '
        'one number ("twenty three" -> "23")',
    )
    repeats: dict[str, int] = {}
    letter_or_zero: tuple[str, ...] = ()
    min_chars: int = Field(default=3, ge=1)


class RedactionConfig(_Strict):
    """Everything in ``config/*.yaml``, checked, with fragments already expanded."""

    settings: Settings
    entities: dict[str, EntityConfig]
    fragments: dict[str, str] = {}
    recognizers: tuple[RecognizerConfig, ...]
    names: NamesConfig
    keep: KeepConfig
    spoken: SpokenConfig
    config_hash: str = Field(description="config_hash() of the folder this was loaded from")

    def placeholder_prefix(self, entity: str) -> str:
        return self.entities[entity].placeholder

    def entity_rank(self, entity: str) -> int:
        """Position in entities.yaml: the final tie-break between two equally good spans."""
        return list(self.entities).index(entity)


def config_files(config_dir: Path) -> list[Path]:
    return sorted(
        (p for p in config_dir.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml")),
        key=lambda p: p.name,
    )


def config_hash(config_dir: Path = DEFAULT_CONFIG_DIR) -> str:
    """sha256 over the configuration files in name order: each file's name, NUL, bytes, NUL.

    Only ``*.yaml``/``*.yml`` count: README.md changes no behaviour."""
    config_dir = Path(config_dir)
    if not config_dir.is_dir():
        raise ConfigurationError(f"redaction config folder not found: {config_dir}")
    digest = hashlib.sha256()
    for path in config_files(config_dir):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = load_unique_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"redaction config {path.name} is not valid YAML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"redaction config {path.name} cannot be read: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"redaction config {path.name} must be a mapping of sections")
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ConfigurationError(
            f"redaction config {path.name} has unknown section(s) {unknown}; "
            f"allowed: {list(_SECTIONS)}"
        )
    return data


def load_config(config_dir: Path = DEFAULT_CONFIG_DIR) -> RedactionConfig:
    """Read, merge and check every ``*.yaml`` in ``config_dir``; raise ConfigurationError if any
    part is wrong, saying which file and what to fix."""
    config_dir = Path(config_dir)
    digest = config_hash(config_dir)
    files = config_files(config_dir)
    if not files:
        raise ConfigurationError(f"no *.yaml files in redaction config folder {config_dir}")

    merged: dict[str, Any] = {"recognizers": []}
    section_file: dict[str, str] = {}
    name_file: dict[str, str] = {}
    for path in files:
        for section, value in _read_yaml(path).items():
            if section == "recognizers":
                if not isinstance(value, list):
                    raise ConfigurationError(f"{path.name}: 'recognizers' must be a list")
                for item in value:
                    name = item.get("name") if isinstance(item, dict) else None
                    if isinstance(name, str):
                        if name in name_file:
                            raise ConfigurationError(
                                f"duplicate recogniser name {name!r} in {name_file[name]} and "
                                f"{path.name}: each recogniser must be named once"
                            )
                        name_file[name] = path.name
                merged["recognizers"].extend(value)
            elif section in section_file:
                raise ConfigurationError(
                    f"section {section!r} appears in both {section_file[section]} and {path.name}"
                )
            else:
                section_file[section] = path.name
                merged[section] = value

    try:
        raw = RedactionConfig.model_validate({**merged, "config_hash": digest})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(
            f"redaction config in {config_dir} is invalid: {problems}"
        ) from None
    return _check_and_expand(raw)


def _check_unique(values: tuple[str, ...], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        key = value.casefold()
        if key in seen:
            raise ConfigurationError(f"{what} lists {value!r} twice")
        seen.add(key)


def _expand(template: str, fragments: dict[str, str], where: str) -> str:
    for _ in range(10):
        missing = [m for m in _FRAGMENT_RE.findall(template) if m not in fragments]
        if missing:
            raise ConfigurationError(f"{where} uses unknown fragment(s) {sorted(set(missing))}")
        expanded = _FRAGMENT_RE.sub(lambda m: fragments[m.group(1)], template)
        if expanded == template:
            return expanded
        template = expanded
    raise ConfigurationError(f"{where}: fragments nest too deeply (a fragment may refer to itself)")


def _compile(pattern: str, flags: int, where: str) -> None:
    try:
        regex.compile(pattern, flags=flags)
    except regex.error as exc:
        raise ConfigurationError(f"{where}: regex does not compile: {exc}") from None


def _check_and_expand(cfg: RedactionConfig) -> RedactionConfig:
    person = cfg.entities.get(PERSON_ENTITY)
    if person is None or person.placeholder != PERSON_PLACEHOLDER:
        raise ConfigurationError(
            f"entities.yaml must define {PERSON_ENTITY} with placeholder {PERSON_PLACEHOLDER!r}: "
            "the residual identifier check relies on it"
        )
    placeholders = [e.placeholder for e in cfg.entities.values()]
    _check_unique(tuple(placeholders), "entities (placeholders)")

    if "title" in cfg.fragments:
        raise ConfigurationError(
            "fragment 'title' is generated from names.titles; do not define it"
        )
    fragments = dict(cfg.fragments)
    fragments["title"] = "(?:" + "|".join(regex.escape(t) for t in cfg.names.titles) + ")"

    _check_unique(cfg.names.titles, "names.titles")
    _check_unique(cfg.names.naming_titles, "names.naming_titles")
    _check_unique(cfg.names.not_after_title, "names.not_after_title")
    titles = {t.casefold() for t in cfg.names.titles}
    stray = [t for t in cfg.names.naming_titles if t.casefold() not in titles]
    if stray:
        raise ConfigurationError(f"names.naming_titles {stray} are not in names.titles")
    _check_unique(cfg.names.particles, "names.particles")
    for field in (
        "words",
        "generic_speakers",
        "not_names",
        "institution_words",
        "residence_words",
        "acronyms",
    ):
        _check_unique(getattr(cfg.keep, field), f"keep.{field}")
    for i, pattern in enumerate(cfg.keep.generic_speaker_patterns):
        _compile(pattern, regex.IGNORECASE, f"keep.generic_speaker_patterns[{i}]")

    recognizers = []
    for rec in cfg.recognizers:
        where = f"recogniser {rec.name!r}"
        entities = (
            set(rec.labels.values()) if isinstance(rec, SpacyNerRecognizerConfig) else {rec.entity}
        )
        unknown = sorted(entities - set(cfg.entities))
        if unknown:
            raise ConfigurationError(f"{where} emits entity type(s) {unknown} not in entities.yaml")
        if isinstance(rec, PatternRecognizerConfig):
            if rec.validator is not None and rec.validator not in VALIDATORS:
                raise ConfigurationError(
                    f"{where} names validator {rec.validator!r}; known: {sorted(VALIDATORS)}"
                )
            _check_unique(tuple(p.name for p in rec.patterns), f"{where} (pattern names)")
            flags = CASE_SENSITIVE_FLAGS if rec.case_sensitive else CASE_INSENSITIVE_FLAGS
            patterns = []
            for p in rec.patterns:
                expanded = _expand(p.regex, fragments, f"{where} pattern {p.name!r}")
                _compile(expanded, flags, f"{where} pattern {p.name!r}")
                patterns.append(p.model_copy(update={"regex": expanded}))
            rec = rec.model_copy(update={"patterns": tuple(patterns)})
        elif isinstance(rec, DenyListRecognizerConfig):
            _check_unique(rec.words, f"{where} (words)")
        recognizers.append(rec)

    return cfg.model_copy(update={"recognizers": tuple(recognizers), "fragments": fragments})
