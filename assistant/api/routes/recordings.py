"""/v1/recordings and /v1/jobs: upload, follow the job, read transcripts, play the audio,
erase. ``accept_upload`` and ``job_view`` are shared with the web app's pages."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from assistant import audio as audio_mod
from assistant.api import schemas
from assistant.api.audio_stream import stream_audio
from assistant.api.deps import (
    CurrentUser,
    SessionDep,
    SettingsDep,
    Viewer,
    audit,
    authorize,
    may,
)
from assistant.api.expiry import expiry_view, transcripts_expired
from assistant.api.upload import receive_upload
from assistant.domain import JobStatus
from assistant.drafting.templates import load_template
from assistant.errors import BadInput, CaseAssistError, NotFound, SilentRecording
from assistant.jobs import estimate_remaining_s
from assistant.settings import Settings
from assistant.storage import Recording, User, repo
from assistant.storage.models import Job
from assistant.transcription.vocabulary import parse_upload_terms

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["recordings"], responses=schemas.V1_ERRORS)

# Recordings up to this long are checked for speech before the upload is answered (a 422 the
# user sees at once); longer ones are checked by the job's first stage.
SYNC_SPEECH_CHECK_MAX_S = 600

UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["audio"],
                    "properties": {
                        "audio": {
                            "type": "string",
                            "format": "binary",
                            "description": "WAV, FLAC, MP3, OGG/Opus, M4A/AAC or WebM audio",
                        },
                        "visit_type": {
                            "type": "string",
                            "description": "e.g. 'child protection visit'",
                        },
                        "visit_date": {
                            "type": "string",
                            "format": "date",
                            "description": "1990-01-01 to tomorrow",
                        },
                        "template": {
                            "type": "string",
                            "description": "note template, e.g. visit_note",
                        },
                        "language": {
                            "type": "string",
                            "description": "a Whisper language code: 'en' (default), or 'auto'",
                        },
                        "vocabulary": {
                            "type": "string",
                            "description": "this recording's own terms for speech recognition "
                            "(names of local schools, estates, services), separated by commas "
                            "or one a line; at most 30, each up to 60 characters",
                        },
                    },
                }
            }
        },
    }
}


def load_recording(session: Session, recording_id: str, user: User, action: str) -> Recording:
    try:
        rec = repo.get_recording(session=session, recording_id=recording_id)
    except NotFound:
        raise NotFound("No such recording.") from None
    authorize(action, user, owner_id=rec.owner_id)
    if rec.erased_at is not None:
        raise NotFound("No such recording.")
    return rec


@router.post(
    "/recordings",
    status_code=202,
    response_model=schemas.UploadAccepted,
    openapi_extra=UPLOAD_FORM,
    summary="Upload a visit recording",
    responses=schemas.error_responses(400, 413, 415),
)
async def upload_recording(
    request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> schemas.UploadAccepted:
    """Stream the recording to disk, check it is real, non-empty audio within the limits, and
    queue a job. The file is on disk and recorded before this answers."""
    rec, job = await accept_upload(request, user, session, settings)
    return schemas.UploadAccepted(recording_id=rec.id, job_id=job.id)


#: Checks a caller adds to an upload's form fields (the web app's CSRF token and consent); it
#: raises to refuse the upload, or returns what to add to the upload's audit event.
FieldCheck = Callable[[dict[str, str]], dict[str, Any]]


async def accept_upload(
    request: Request,
    user: User,
    session: Session,
    settings: Settings,
    *,
    check_fields: FieldCheck | None = None,
) -> tuple[Recording, Job]:
    """The one intake of a recording, for the API and the web app: stream it to disk, check
    the form and the audio, store it and queue its job (committed before this returns)."""
    authorize("recording.upload", user, owner_id=user.id)
    recording_id = uuid.uuid4().hex
    part = settings.uploads_dir / f".{recording_id}.part"
    # encrypted as it arrives, under a data key stored with the recording; if this request
    # dies, the .part file is unreadable (its key was never stored) as well as removed
    key, wrapped, kek_id = request.app.state.keyring.new_data_key(recording_id)
    aad = repo.audio_aad(recording_id)
    sealed = audio_mod.SealedFile(part, key, aad)
    upload = await receive_upload(
        request, part, max_bytes=settings.max_upload_bytes, seal=(key, aad)
    )
    try:
        extra = check_fields(upload.fields) if check_fields else {}
        meta = _form_meta(upload.fields, settings)
        info = await run_in_threadpool(
            audio_mod.probe, sealed, max_duration_s=settings.max_duration_s
        )
        if info.duration_s <= SYNC_SPEECH_CHECK_MAX_S:
            pcm = await run_in_threadpool(audio_mod.load_pcm16k, sealed)
            if not await run_in_threadpool(audio_mod.has_speech, pcm):
                raise SilentRecording("No speech was detected in the recording.")
        final = settings.uploads_dir / f"{recording_id}.{info.format.split(',')[0]}"
        part.rename(final)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    try:
        rec = repo.create_recording(
            session=session,
            recording_id=recording_id,
            owner_id=user.id,
            visit_type=meta.visit_type,
            visit_date=meta.visit_date,
            template=meta.template,
            language=meta.language,
            audio_path=str(final),
            audio_sha256=upload.sha256,
            size_bytes=upload.size,
            duration_s=info.duration_s,
            format=info.format,
            data_key=request.app.state.keyring.rewrap_if_rotated(
                recording_id, key, wrapped, kek_id
            ),
            vocabulary=meta.vocabulary,
        )
        job = repo.create_job(session=session, recording_id=rec.id)
        if request.app.state.settings.queue == "procrastinate":
            from assistant.jobs.queue import enqueue

            enqueue(session, job.id, "transcribing")  # the message commits with the job's row
        audit(
            session,
            request,
            user,
            "recording.upload",
            "recording",
            rec.id,
            size_bytes=upload.size,
            duration_s=round(info.duration_s, 1),
            format=info.format,
            vocabulary_terms=len(meta.vocabulary),
            **extra,
        )
        session.commit()
    except BaseException:
        session.rollback()
        final.unlink(missing_ok=True)
        raise
    log.info("recording %s uploaded job=%s duration_s=%.1f", rec.id, job.id, info.duration_s)
    return rec, job


#: Visit dates before this are refused as typing errors (0001-01-01, 1926 for 2026).
EARLIEST_VISIT_DATE = date(1990, 1, 1)


@lru_cache(maxsize=1)
def whisper_languages() -> frozenset[str]:
    """The language codes faster-whisper's tokenizer knows."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return frozenset(_LANGUAGE_CODES)


def _form_meta(fields: dict[str, str], settings: Settings) -> schemas.RecordingMeta:
    """The upload's metadata from its form fields; the first problem raised (``BadInput``),
    checked in this order: template, language, visit date, vocabulary."""
    template = _meta_template(fields, settings)
    language = _meta_language(fields, settings)
    visit_date = _meta_visit_date(fields, settings)
    return schemas.RecordingMeta(
        visit_type=fields.get("visit_type") or None,
        visit_date=visit_date,
        template=template,
        language=language,
        vocabulary=_meta_vocabulary(fields, settings),
    )


def form_problems(fields: dict[str, str], settings: Settings) -> list[CaseAssistError]:
    """Every problem with an upload's form fields, not only the first: the web form shows
    them all at once. Checked as ``_form_meta`` checks them."""
    problems: list[CaseAssistError] = []
    for check in (_meta_template, _meta_language, _meta_visit_date, _meta_vocabulary):
        try:
            check(fields, settings)
        except CaseAssistError as exc:
            problems.append(exc)
    return problems


def _meta_template(fields: dict[str, str], settings: Settings) -> str:
    template = fields.get("template") or settings.default_template
    # UnknownTemplate -> 422 before anything is stored
    load_template(template, root=settings.prompts_dir)
    return template


def _meta_language(fields: dict[str, str], settings: Settings) -> str:
    language = fields.get("language") or settings.language
    if language != "auto" and not (2 <= len(language) <= 3 and language.isalpha()):
        raise BadInput(
            "language must be a language code such as 'en', or 'auto'.", code="invalid_language"
        )
    if language != "auto" and language not in whisper_languages():
        raise BadInput(
            "language is not one Whisper transcribes: use a code such as 'en', or 'auto'.",
            code="unsupported_language",
        )
    return language


def _meta_visit_date(fields: dict[str, str], settings: Settings) -> date | None:
    if not fields.get("visit_date"):
        return None
    try:
        visit_date = date.fromisoformat(fields["visit_date"])
    except ValueError:
        raise BadInput("visit_date must be YYYY-MM-DD.", code="invalid_date") from None
    latest = datetime.now(UTC).date() + timedelta(days=1)
    if not (EARLIEST_VISIT_DATE <= visit_date <= latest):
        raise BadInput(
            f"visit_date must be between {EARLIEST_VISIT_DATE.isoformat()} and tomorrow.",
            code="invalid_visit_date",
        )
    return visit_date


def _meta_vocabulary(fields: dict[str, str], settings: Settings) -> tuple[str, ...]:
    return parse_upload_terms(fields.get("vocabulary"))  # BadInput -> 400


@router.get("/recordings", response_model=schemas.RecordingList, summary="List recordings")
def list_recordings(
    user: CurrentUser,
    session: SessionDep,
    status: Literal["processing", "failed", "draft", "approved"] | None = Query(
        None, description="draft: a note to review; approved: its note is approved"
    ),
    visit_type: str | None = Query(None, max_length=64, description="exact, any case"),
    visit_from: date | None = Query(None, description="visit date on or after"),
    visit_to: date | None = Query(None, description="visit date on or before"),
    q: str | None = Query(
        None,
        max_length=64,
        description="part of an id, the template or the visit type (never content)",
    ),
    page: int = Query(1, ge=1, le=schemas.MAX_PAGE),
    per_page: int = Query(20, ge=1, le=100),
) -> schemas.RecordingList:
    """The recordings you may see, newest upload first: your own; a manager's, also their
    team's (every user's for a manager with no team). Metadata only (no content, so no audit
    event)."""
    where = repo.ListFilter(
        visit_type=visit_type, status=status, visit_from=visit_from, visit_to=visit_to, text=q
    )
    recs, total = repo.page_recordings(
        session=session, user=user, where=where, offset=(page - 1) * per_page, limit=per_page
    )
    return schemas.RecordingList(
        page=page,
        per_page=per_page,
        total=total,
        items=[recording_summary(session, rec, job) for rec, job in with_jobs(session, recs)],
    )


def with_jobs(session: Session, recs: list[Recording]) -> list[tuple[Recording, Job | None]]:
    jobs = repo.latest_jobs(session=session, recording_ids=[r.id for r in recs])
    return [(rec, jobs.get(rec.id)) for rec in recs]


def recording_summary(
    session: Session, rec: Recording, job: Job | None
) -> schemas.RecordingSummary:
    """A row of a list: the recording's metadata and where its work stands."""
    note = repo.get_note(session=session, note_id=job.note_id) if job and job.note_id else None
    if note is not None:
        status = note.status
    else:
        status = "failed" if job and job.status == JobStatus.FAILED.value else "processing"
    return schemas.RecordingSummary(
        recording_id=rec.id,
        owner_id=rec.owner_id,
        visit_type=rec.visit_type,
        visit_date=rec.visit_date,
        template=rec.template,
        language=rec.language,
        duration_s=rec.duration_s,
        created_at=rec.created_at,
        status=status,
        job_id=job.id if job else None,
        note_id=note.id if note else None,
    )


@router.get("/jobs/{job_id}", response_model=schemas.JobView, summary="Job status")
def get_job(
    job_id: str, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> schemas.JobView:
    try:
        job = repo.get_job(session=session, job_id=job_id)
    except NotFound:
        raise NotFound("No such job.") from None
    rec = repo.get_recording(session=session, recording_id=job.recording_id)
    if not may("job.view", user, owner_id=rec.owner_id) or rec.erased_at is not None:
        raise NotFound("No such job.")  # an erased recording's job is gone with it
    return job_view(session, settings, job, rec)


def job_view(session: Session, settings: Settings, job: Job, rec: Recording) -> schemas.JobView:
    """What a job's follower sees (the API's answer, the web app's progress page)."""
    status = job.status
    stage_progress = job.progress or 0.0
    return schemas.JobView(
        job_id=job.id,
        recording_id=job.recording_id,
        status=status,
        stage=job.stage,
        stage_progress=stage_progress,
        eta_s=estimate_remaining_s(
            status=status,
            stage_progress=stage_progress,
            duration_s=rec.duration_s or 0.0,
            learned_rtf=repo.mean_stage_rtf(session=session),
            stage_elapsed_s=_elapsed(job.heartbeat_at),
        ),
        attempts=job.attempts,
        error=(
            schemas.JobError(code=job.error_code or "", message=job.error_message or "")
            if status == JobStatus.FAILED.value
            else None
        ),
        note_id=job.note_id,
        timings=job.timings or {},
        created_at=job.created_at,
        updated_at=job.updated_at,
        expires=expiry_view(session, settings, rec),
    )


def _elapsed(since: datetime | None) -> float:
    """Seconds since the current stage started (its first heartbeat)."""
    return (datetime.now(UTC) - since).total_seconds() if since else 0.0


@router.get("/recordings/{recording_id}/transcript", summary="Transcript (owner only)")
def get_transcript(
    recording_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> dict:
    """The identifying transcript, with word timings and confidences. Owner only."""
    return _transcript(session, request, user, recording_id, kind="raw")


@router.get("/recordings/{recording_id}/transcript/redacted", summary="Redacted transcript")
def get_redacted_transcript(
    recording_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> dict:
    return _transcript(session, request, user, recording_id, kind="redacted")


_TRANSCRIPTS = {  # kind -> (action, what the not-ready message calls it)
    "raw": ("transcript.view", "transcript"),
    "redacted": ("transcript.redacted.view", "redacted transcript"),
}


def _transcript(
    session: Session, request: Request, user: User, recording_id: str, *, kind: str
) -> dict:
    action, what = _TRANSCRIPTS[kind]
    rec = load_recording(session, recording_id, user, action)
    transcript = repo.find_transcript(session=session, recording_id=rec.id, kind=kind)
    if transcript is None:
        if transcripts_expired(session, rec.id):
            raise NotFound(f"The {what} was deleted under the retention policy.", code="expired")
        raise NotFound(f"The {what} is not ready yet.", code="not_ready")
    audit(session, request, user, "transcript.view", "recording", rec.id, kind=kind)
    return transcript.model_dump(mode="json")


#: The container (``AudioInfo.format``'s first name) -> the media type a browser plays it as.
AUDIO_MEDIA_TYPES = {
    "wav": "audio/wav",
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "mp4": "audio/mp4",
    "webm": "audio/webm",
}


@router.get(
    "/recordings/{recording_id}/audio",
    summary="The recording's audio (owner only)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"audio/*": {}}, "description": "The whole recording."},
        206: {"description": "The bytes a `Range: bytes=a-b` header asked for."},
        416: {"description": "The range lies outside the file."},
    },
)
def get_audio(recording_id: str, request: Request, user: Viewer, session: SessionDep) -> Response:
    """The recording as uploaded, for playing the evidence of a statement. Honours HTTP
    ``Range`` requests (a player seeks without downloading the whole visit). Owner only; also
    open to the signed-in browser's session cookie, since an ``<audio>`` element sends no
    token. One audit event per playback (a request from the first byte), not per range."""
    rec = load_recording(session, recording_id, user, "recording.audio")
    source = repo.audio_source(session=session, recording=rec)
    if source is None or not source.path.is_file():
        raise NotFound("The recording's audio is not stored.", code="no_audio")
    wanted = request.headers.get("range", "")
    if not wanted or wanted.replace(" ", "").startswith("bytes=0-"):
        audit(session, request, user, "recording.audio", "recording", rec.id)
    media_type = AUDIO_MEDIA_TYPES.get(rec.format.split(",")[0], "application/octet-stream")
    # stored encrypted: decrypted chunk by chunk as it is sent (``api.audio_stream``)
    return stream_audio(source, wanted, media_type)


@router.delete("/recordings/{recording_id}", status_code=204, summary="Erase a recording")
def erase_recording(
    recording_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> Response:
    """Erase the audio, transcripts, notes and name mapping. An audit record stays."""
    rec = load_recording(session, recording_id, user, "recording.erase")
    paths = repo.erase_recording(session=session, recording_id=rec.id)
    audit(session, request, user, "recording.erase", "recording", rec.id)
    session.commit()
    for p in paths:
        Path(p).unlink(missing_ok=True)
    return Response(status_code=204)
