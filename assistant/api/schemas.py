"""Response and request bodies. Tables are not API schemas: these are built field by field."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from assistant.domain import NoteSection, Role, StatementKind


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
    404: "No such id, or another user's (not_found)",
    409: "The note is approved and locked (note_approved)",
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


class SectionIn(BaseModel):
    key: str
    statements: list[StatementIn] = Field(default_factory=list, max_length=200)


class NoteEdit(BaseModel):
    sections: list[SectionIn] = Field(description="the whole note as it should now read")


class Revision(BaseModel):
    number: int
    author: str = Field(description="'ai' for the draft, otherwise the editor's user id")
    created_at: datetime


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


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role


class UserCreated(BaseModel):
    user_id: str
    name: str
    role: Role
    token: str = Field(description="shown once; only its hash is stored")


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
