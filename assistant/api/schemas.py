"""Response and request bodies. Tables are not API schemas: these are built field by field."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.domain import (
    TEAM_MAX,
    AgreedAction,
    HeaderField,
    NoteSection,
    Role,
    StatementKind,
    team_label,
)
from assistant.notes.changes import ChangeRecord

#: The highest page number a list takes (10 million rows at 100 a page). Past some such bound
#: the offset (page - 1) * per_page overflows the database's 64-bit integer: a 500, found by
#: schemathesis (benchmarks/api_fuzz.py).
MAX_PAGE = 100_000


class ErrorDetail(BaseModel):
    code: str = Field(description="a stable code, e.g. not_found, note_approved")
    message: str = Field(description="for people; never holds personal data")
    request_id: str = Field(description="quote it when reporting a problem")


class ErrorResponse(BaseModel):
    """Every error answer, whatever its status."""

    error: ErrorDetail


_ERROR_TEXT = {
    400: "Bad input (a specific code says which)",
    401: "No token, or a token that is not valid",
    403: "Your role may not do this",
    404: "No such id, or one out of your reach: another user's, or for a manager another team's "
    "(not_found, the same answer)",
    409: "The note is approved and locked (note_approved), safeguarding statements are not "
    "all confirmed (safeguarding_unconfirmed), the note has a newer revision "
    "(stale_revision), or the recording has no separated speakers (no_speakers)",
    413: "The recording is too large or too long",
    415: "Not a supported audio format",
    422: "A field is invalid (validation_error, or a specific code)",
    429: "Too many failed sign-ins from this address (too_many_attempts; see Retry-After)",
    500: "Unexpected error (internal_error): quote the request id",
}


def error_responses(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI ``responses`` for these statuses, each with the error body's schema."""
    return {s: {"model": ErrorResponse, "description": _ERROR_TEXT[s]} for s in statuses}


#: What any authenticated /v1 route may answer.
V1_ERRORS = error_responses(401, 403, 404, 422, 429, 500)


class UploadAccepted(BaseModel):
    recording_id: str
    job_id: str
    status: str = "queued"


class JobError(BaseModel):
    code: str
    message: str


class StageTiming(BaseModel):
    wall_s: float
    rtf: float | None = Field(None, description="wall time / recording duration")


class Expiry(BaseModel):
    """When the retention policy deletes each part of this visit, as things stand; null: kept
    (no period set, or none applies). A time in the past: deleted, or at the next pass."""

    note_at: datetime | None = Field(
        None,
        description="the whole visit (audio, transcripts, draft) goes: a draft not approved "
        "by then, or an owner deactivated; approving a draft lifts the first",
    )
    audio_at: datetime | None = Field(None, description="the audio file goes")
    transcripts_at: datetime | None = Field(
        None, description="the raw and redacted transcripts go (the note stays)"
    )


class JobView(BaseModel):
    job_id: str
    recording_id: str
    status: str = Field(
        description="queued | transcribing | diarising | redacting | drafting | done | failed"
    )
    stage: str | None
    stage_progress: float = Field(description="0..1 within the current stage")
    eta_s: float | None = Field(description="estimated seconds until the note is ready")
    attempts: int
    error: JobError | None
    note_id: str | None
    timings: dict[str, StageTiming]
    created_at: datetime
    updated_at: datetime
    expires: Expiry = Field(default_factory=Expiry, description="retention: when parts go")


class StatementIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)
    kind: StatementKind = StatementKind.REPORTED
    speaker: str | None = Field(None, max_length=200)
    evidence: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="transcript segment ids; may be empty for text the practitioner adds",
    )
    action: AgreedAction | None = Field(
        None, description="an agreed action's who, what and by when (actions sections)"
    )


class SectionIn(BaseModel):
    key: str
    statements: list[StatementIn] = Field(default_factory=list, max_length=200)


class NoteEdit(BaseModel):
    sections: list[SectionIn] = Field(description="the whole note as it should now read")


class StatementAdd(StatementIn):
    section: str = Field(description="the section key to add it to")
    position: int | None = Field(
        None, ge=0, description="where in the section, from 0 (default: at the end)"
    )


class StatementChange(BaseModel):
    """The fields to change (those left out stay as they are); ``section`` moves it."""

    text: str | None = Field(None, min_length=1, max_length=5000)
    kind: StatementKind | None = None
    speaker: str | None = Field(None, max_length=200)
    evidence: list[str] | None = Field(None, max_length=50)
    section: str | None = Field(None, description="move it to this section")
    position: int | None = Field(
        None, ge=0, description="where in the (new) section, from 0 (default: at the end)"
    )


class SafeguardingItem(BaseModel):
    """A statement of the current revision whose words raise a safeguarding category: it must
    be confirmed (``POST .../statements/{section}/{index}/confirm``) before approval."""

    section: str
    index: int = Field(description="position in the section, from 0")
    categories: list[str]
    confirmed: bool


class Revision(BaseModel):
    number: int
    author: str = Field(description="'ai' for the draft, otherwise the editor's user id")
    created_at: datetime
    reason: str | None = Field(
        None, description="why, when the change was not typed: e.g. a correction of who spoke"
    )


class NoteView(BaseModel):
    note_id: str
    recording_id: str
    template: str
    template_version: str
    status: str = Field(description="draft | approved")
    revision: int
    sections: list[NoteSection] = Field(
        description="the note as it reads at this revision (a NoteBody's sections)"
    )
    header: list[HeaderField] = Field(
        default_factory=list,
        description="found in code at drafting, each with its evidence: who spoke, whether the "
        "child was seen and seen alone, where, the next visit (note-style templates)",
    )
    ai_draft_kept: bool = True
    revisions: list[Revision]
    provenance: dict
    review: dict | None = Field(
        None,
        description="checks made in code on the AI draft: unsupported statements by reason, "
        "red-flag claims removed for lack of evidence (owner only), possible omissions",
    )
    approved_at: datetime | None
    edit_distance: int | None = Field(
        None, description="characters changed between the AI draft and the approved note"
    )
    reidentified: bool = False
    expires: Expiry = Field(default_factory=Expiry, description="retention: when parts go")
    safeguarding: list[SafeguardingItem] = Field(
        default_factory=list, description="statements to confirm before approval"
    )
    approval: ChangeRecord | None = Field(
        None,
        description="set at approval: which AI statements were kept unchanged, edited or "
        "removed, and how many were added",
    )


class Page(BaseModel):
    page: int
    per_page: int
    total: int = Field(description="how many match, on all pages")


class RecordingSummary(BaseModel):
    recording_id: str
    owner_id: str
    visit_type: str | None
    visit_date: date | None
    template: str
    language: str
    duration_s: float | None
    created_at: datetime
    status: str = Field(description="processing | failed | draft | approved")
    job_id: str | None
    note_id: str | None


class RecordingList(Page):
    items: list[RecordingSummary]


class NoteSummary(BaseModel):
    note_id: str
    recording_id: str
    status: str = Field(description="draft | approved")
    template: str
    visit_type: str | None
    visit_date: date | None
    created_at: datetime
    approved_at: datetime | None


class NoteList(Page):
    items: list[NoteSummary]


_TEAM_TEXT = (
    "the user's team, an organisational label such as 'North CIN' (spaces tidied, at most "
    f"{TEAM_MAX} characters); null: no team. A manager reads the visits of their own team's "
    "users and their own; a manager with no team reads every user's"
)


def _team(value: str | None) -> str | None:
    return None if value is None else team_label(value)  # ValueError -> 422


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    team: str | None = Field(None, description=_TEAM_TEXT)

    _check_team = field_validator("team")(_team)


class UserCreated(BaseModel):
    user_id: str
    name: str
    role: Role
    team: str | None = Field(None, description=_TEAM_TEXT)
    token: str = Field(description="shown once; only its hash is stored")


class UserTeam(BaseModel):
    """``PUT /v1/users/{id}/team``'s body."""

    team: str | None = Field(description=_TEAM_TEXT)

    _check_team = field_validator("team")(_team)


class UserView(BaseModel):
    user_id: str
    name: str
    role: Role
    team: str | None = Field(description=_TEAM_TEXT)
    active: bool
    single_sign_on: bool = Field(description="signs in with the council account")


class AuditEventView(BaseModel):
    at: datetime
    actor_id: str | None
    action: str
    object_type: str
    object_id: str | None
    request_id: str | None
    details: dict
    id: str
    seq: int = Field(description="position in the audit hash chain, from 1")
    hash: str = Field(description="sha256 of this record and the hash of the one before")


class AuditChainHeadView(BaseModel):
    seq: int = Field(description="the last record's seq (0: no records yet)")
    hash: str = Field(
        description="the last record's hash; keep it to prove later the log only grew"
    )


class AuditChainBreakView(BaseModel):
    kind: str = Field(
        description="edited, deleted, reordered, inserted, broken_link, head or anchor"
    )
    record_id: str | None
    seq: int | None
    message: str


class AuditChainReport(BaseModel):
    intact: bool
    records: int = Field(description="records checked")
    head: AuditChainHeadView
    problem: AuditChainBreakView | None = Field(description="the first broken link, if any")


class RecordingMeta(BaseModel):
    visit_type: str | None = None
    visit_date: date | None = None
    template: str
    language: str
    vocabulary: tuple[str, ...] = ()


# --- speakers -----------------------------------------------------------------------------------
SpeakerRoleName = Literal[
    "social_worker", "child", "parent", "carer", "professional", "interpreter", "other", "unknown"
]  # fmt: skip


class SpeakerView(BaseModel):
    label: str = Field(description="the speaker separation's own label: S1, S2 …")
    role: SpeakerRoleName
    display: str = Field(description="what the transcript and note call them: 'Parent 1', 'S3'")
    confidence: float = Field(description="how sure the suggestion from the words is, 0..1")
    confirmed: bool = Field(description="a practitioner set this role")
    by_voice: bool = Field(
        False, description="the social worker because their voice is the owner's enrolled voice"
    )
    talk_time_s: float
    segments: int
    sample_segment_ids: list[str] = Field(description="a few of their segments, to play")


class SpeakersView(BaseModel):
    recording_id: str
    diarised: bool = Field(description="false for a typed transcript: its labels are its own")
    roles: list[SpeakerRoleName] = Field(description="the roles a speaker may be given")
    speakers: list[SpeakerView]
    voice: Literal["recognised", "not_recognised", "merged"] | None = Field(
        None,
        description="the owner's enrolled voice: recognised as one speaker (the social worker), "
        "or not similar enough to any, so the roles came from the words alone; merged when it "
        "was recognised in the only voice found but the words read as a conversation (other "
        "people heard as the same voice), so nobody was named; null when the owner had not "
        "enrolled when the recording was processed",
    )


class SpeakerChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(description="S1, S2 … (see GET)")
    role: SpeakerRoleName


class SpeakersEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speakers: list[SpeakerChange] = Field(min_length=1, max_length=50)


class SpeakersUpdated(SpeakersView):
    notes: list[dict[str, Any]] = Field(
        description="per note: note_id, revision written (or null), statements re-attributed"
    )


class VoiceView(BaseModel):
    """Whether the signed-in user has enrolled their voice. Never the voice itself."""

    enrolled: bool
    enrolled_at: datetime | None = Field(None, description="when the sample was given")
    speech_s: float | None = Field(None, description="seconds of speech in the sample")
    usable: bool = Field(
        description="enrolled with the speaker model in use now (false: enrol again)"
    )
