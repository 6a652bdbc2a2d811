"""Frozen value types shared by every pipeline stage.

The data flow is upload -> job -> Transcript (speakers labelled) -> RedactedTranscript ->
DraftNote -> revisions -> approved note. Each value carries its provenance (which model, which
prompt version, which redaction configuration produced it) so an auditor can trace any note
back to its inputs.

This module imports nothing from the rest of the package: every other module may import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelRef(_Frozen):
    """Which weights produced a value: a name for people and the sha256 for auditors."""

    name: str
    sha256: str


class Word(_Frozen):
    start: float
    end: float
    text: str
    probability: float


class Segment(_Frozen):
    """One utterance. ``id`` is stable for the life of the recording (``s0001``, ``s0002`` ...)
    and is what every statement in a note cites as evidence."""

    id: str
    start: float
    end: float
    text: str
    speaker: str | None = None
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    words: tuple[Word, ...] = ()


class VoiceMatch(_Frozen):
    """The recording owner's enrolled voice compared with each speaker's: the speaker it was
    recognised as (own label, ``S2``), or None when no speaker was similar enough and the roles
    came from the words alone; the best speaker's cosine similarity and the threshold it had
    to reach. No embedding is kept here. ``merged``: the voice was recognised, but it was the
    only voice found and its words read as a conversation (questions answered at once), so
    other people's words are in it and nobody was named the social worker."""

    label: str | None
    similarity: float
    threshold: float
    merged: bool = False


class Diarisation(_Frozen):
    """How the speaker labels of an audio transcript were found: which speaker encoder, how
    many speakers, within which bounds (and whether the upper one was reached), from how many
    embedded windows of speech, how loud each speaker is beside the others, and (when the
    recording's owner had enrolled their voice) what the comparison with it found."""

    model: ModelRef
    speakers: int
    min_speakers: int
    max_speakers: int
    windows: int
    at_max_speakers: bool = Field(
        default=False,
        description="the voices were split into max_speakers groups, the most allowed: there "
        "may be more voices than speakers, some sharing a label",
    )
    level_db: dict[str, float] = Field(
        default_factory=dict,
        description="each speaker's (S1 …) loudness: the median level of its windows of speech, "
        "in dB below the loudest speaker's (0 for the loudest). A voice far quieter than the "
        "others (below -10) is likely a television, a radio or someone in another room",
    )
    voice: VoiceMatch | None = Field(
        default=None, description="null when the recording's owner had no enrolled voice"
    )


class Speaker(_Frozen):
    """One speaker the diarisation found: its own label (``S1`` …), the role suggested from the
    words or set by the practitioner (``assistant.diarisation.roles.ROLES``), how sure the
    suggestion is, whether a practitioner confirmed it, and the label its segments carry
    (``Social worker``, ``Parent 2``; ``S3`` while the role is unknown); ``by_voice`` when the
    role came from the owner's enrolled voice rather than the words. Never a name."""

    label: str
    role: str = "unknown"
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    confirmed: bool = False
    display: str
    #: the social worker because their voice is the recording owner's enrolled voice
    by_voice: bool = False


class Transcript(_Frozen):
    """Raw (identifying) transcript. Never handed to the drafter."""

    segments: tuple[Segment, ...]
    language: str
    duration_s: float
    source: str = Field(description="'audio' or 'text' (transcription skipped)")
    model: ModelRef | None = None
    diarisation: Diarisation | None = Field(
        default=None, description="set once speakers were found from the audio"
    )
    speakers: tuple[Speaker, ...] = Field(
        default=(), description="the diarised speakers and their roles (audio only)"
    )

    @property
    def segment_ids(self) -> frozenset[str]:
        return frozenset(s.id for s in self.segments)


class EntitySpan(_Frozen):
    """Where an identifier was found, by offsets into the *original* segment text.

    Carries no original text itself, so a list of spans is safe to log or store beside the
    redacted transcript."""

    segment_id: str
    field: str = Field(default="text", description="'text' or 'speaker'")
    start: int
    end: int
    entity_type: str
    placeholder: str
    score: float
    recognizer: str


class RedactedSegment(_Frozen):
    id: str
    start: float
    end: float
    text: str
    speaker: str | None = None
    low_confidence_words: tuple[str, ...] = ()


class RedactedTranscript(_Frozen):
    """Pseudonymised transcript: the only transcript type the drafter accepts."""

    segments: tuple[RedactedSegment, ...]
    language: str
    duration_s: float
    entities: tuple[EntitySpan, ...]
    config_hash: str = Field(description="sha256 of the redaction configuration used")

    @property
    def segment_ids(self) -> frozenset[str]:
        return frozenset(s.id for s in self.segments)


class PseudonymMap(_Frozen):
    """Placeholder -> original value for one recording. Stored apart from the redacted
    transcript, shown only to the recording's owner, never given to the LLM or logged."""

    entries: dict[str, str]

    def reidentify(self, text: str) -> str:
        # Longest placeholders first so [PERSON_10] is not clobbered by [PERSON_1].
        for placeholder in sorted(self.entries, key=len, reverse=True):
            text = text.replace(placeholder, self.entries[placeholder])
        return text


class StatementKind(StrEnum):
    OBSERVED = "observed"
    REPORTED = "reported"
    OPINION = "opinion"
    AGREED_ACTION = "agreed_action"
    DIRECT_QUOTE = "direct_quote"


class AgreedAction(_Frozen):
    """An agreed action as a row: who will do it, what, and by when (``None`` when no time was
    said). Filled in code from the statement's own words and its speaker's role, never by the
    model: ``what`` is the statement's words from the commitment on."""

    who: str
    what: str
    by: str | None = None


class Statement(_Frozen):
    text: str
    kind: StatementKind = StatementKind.REPORTED
    speaker: str | None = None
    evidence: tuple[str, ...] = Field(description="ids of the transcript segments it rests on")
    flags: tuple[str, ...] = Field(
        default=(), description="verification findings shown to the practitioner"
    )
    action: AgreedAction | None = Field(
        default=None,
        description="an agreed action's who, what and by when (actions only)",
        exclude_if=lambda v: v is None,  # stored rows keep the shape they had before rows
    )


class HeaderField(_Frozen):
    """One line of a note's header, found in code from the transcript (never by the model):
    who was present, whether the child was seen and seen alone, where, the next visit."""

    key: str
    title: str
    value: str
    evidence: tuple[str, ...] = ()


class NoteSection(_Frozen):
    key: str
    title: str
    statements: tuple[Statement, ...] = ()


class DraftProvenance(_Frozen):
    template: str
    template_version: str
    prompt_sha256: str
    model: ModelRef
    redaction_config_hash: str
    attempts: int
    seed: int


class RemovedClaim(_Frozen):
    """A red-flag statement the gate removed because its evidence lacks that category's
    language. Kept for the note's owner to review; never logged."""

    section: str
    categories: tuple[str, ...]
    statement: Statement


class PossibleOmission(_Frozen):
    """A red-flag category raised in the transcript that no statement of the note mentions."""

    category: str
    label: str
    segment_ids: tuple[str, ...]


class DraftReview(_Frozen):
    """What the code checks found after generation (not the model's own opinion)."""

    verification: dict = Field(description="counts of supported/unsupported statements by reason")
    gating: dict = Field(description="red-flag gate counts, lexicon version and sha256")
    repairs: dict = Field(
        default_factory=dict,
        description="statements whose quote, kind or speaker was corrected from the transcript",
    )
    removed_claims: tuple[RemovedClaim, ...] = ()
    possible_omissions: tuple[PossibleOmission, ...] = ()


class DraftNote(_Frozen):
    """What the LLM drafted from a RedactedTranscript, validated against the template schema,
    then verified statement by statement (``review``)."""

    sections: tuple[NoteSection, ...]
    provenance: DraftProvenance
    review: DraftReview | None = None
    header: tuple[HeaderField, ...] = ()

    def all_statements(self) -> list[Statement]:
        return [st for sec in self.sections for st in sec.statements]


class JobStatus(StrEnum):
    QUEUED = "queued"
    TRANSCRIBING = "transcribing"
    DIARISING = "diarising"
    REDACTING = "redacting"
    DRAFTING = "drafting"
    DONE = "done"
    FAILED = "failed"


class Role(StrEnum):
    PRACTITIONER = "practitioner"
    MANAGER = "manager"
    AUDITOR = "auditor"
    ADMIN = "admin"


#: The longest team label (``users.team``).
TEAM_MAX = 64


def team_label(value: str) -> str:
    """A team's label as stored: ``value`` with its spaces trimmed and runs of them made one
    ("North  CIN " is "North CIN"), so two spellings cannot split a team. ValueError for an
    empty label, one over ``TEAM_MAX`` characters, or one with control characters. A team
    is organisational ("North CIN"), never a person's name."""
    label = " ".join(value.split())
    if not label:
        raise ValueError("a team label cannot be empty")
    if len(label) > TEAM_MAX:
        raise ValueError(f"a team label is at most {TEAM_MAX} characters")
    if not label.isprintable():
        raise ValueError("a team label cannot hold control characters")
    return label


def excerpt(segments: Sequence[RedactedSegment]) -> tuple[str, str | None]:
    """The words and speaker of an extractive statement citing ``segments`` (in transcript
    order): one speaker's segments joined as they are, with that speaker; an exchange between
    speakers written out turn by turn ("Social worker: Do you feel safe at home? Child: Yes.")
    with no single speaker, so a bare "Yes." keeps the question it answers. A statement whose
    text is exactly this is the transcript's own words by construction."""
    texts = [" ".join(s.text.split()) for s in segments]
    speakers = {s.speaker for s in segments}
    if len(speakers) == 1:
        return " ".join(texts), next(iter(speakers))
    return " ".join(
        f"{seg.speaker}: {text}" if seg.speaker else text
        for seg, text in zip(segments, texts, strict=True)
    ), None
