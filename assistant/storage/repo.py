"""Persistence functions: keyword arguments only, one unit of work per caller.

Every function takes ``session`` and flushes but never commits: the caller owns the transaction
(``db.session_scope``). Missing ids raise ``NotFound``; content of an erased recording is
treated as missing. Content goes in and comes out as domain values (``Transcript``,
``PseudonymMap`` ...), so a table row never travels further than this module's callers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from pydantic import BaseModel
from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from assistant.domain import (
    JobStatus,
    PseudonymMap,
    RedactedTranscript,
    Role,
    Transcript,
)
from assistant.errors import NoteLocked, NotFound
from assistant.storage.crypto import MappingCipher, MappingKeyMismatch
from assistant.storage.models import (
    AuditEvent,
    Job,
    Note,
    NoteRevision,
    PseudonymMapRow,
    Recording,
    TranscriptRow,
    User,
    utcnow,
)

IN_PROGRESS = (JobStatus.TRANSCRIBING, JobStatus.REDACTING, JobStatus.DRAFTING)
FINISHED = (JobStatus.DONE, JobStatus.FAILED)

T = TypeVar("T")


def _get(session: Session, model: type[T], key: str, what: str) -> T:
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"{what} {key} not found")
    return row


def _json(value: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return dict(value)


# --- users --------------------------------------------------------------------------------
def create_user(*, session: Session, name: str, role: Role | str, token_hash: str) -> User:
    """``token_hash`` is the sha256 hex of the bearer token; the token itself is never stored."""
    if not re.fullmatch(r"[0-9a-f]{64}", token_hash):
        raise ValueError("token_hash must be a lowercase sha256 hex digest")
    user = User(name=name, role=Role(role).value, token_hash=token_hash, active=True)
    session.add(user)
    session.flush()
    return user


def get_user(*, session: Session, user_id: str) -> User:
    return _get(session, User, user_id, "user")


def user_by_token_hash(
    *, session: Session, token_hash: str, include_inactive: bool = False
) -> User | None:
    """The user holding this token, or None. Deactivated users are None unless asked for."""
    stmt = select(User).where(User.token_hash == token_hash)
    if not include_inactive:
        stmt = stmt.where(User.active.is_(True))
    return session.scalars(stmt).one_or_none()


def list_users(*, session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.created_at, User.id)))


def set_user_active(*, session: Session, user_id: str, active: bool) -> User:
    user = get_user(session=session, user_id=user_id)
    user.active = active
    session.flush()
    return user


# --- recordings ---------------------------------------------------------------------------
def create_recording(
    *,
    session: Session,
    owner_id: str,
    visit_type: str | None,
    template: str,
    language: str,
    audio_path: str | Path | None,
    audio_sha256: str,
    size_bytes: int,
    format: str,
    duration_s: float | None = None,
    visit_date: date | None = None,
    recording_id: str | None = None,
) -> Recording:
    """``recording_id`` may be chosen by the caller (e.g. to name the stored audio file first)."""
    get_user(session=session, user_id=owner_id)
    rec = Recording(
        owner_id=owner_id,
        visit_type=visit_type,
        visit_date=visit_date,
        template=template,
        language=language,
        audio_path=str(audio_path) if audio_path is not None else None,
        audio_sha256=audio_sha256,
        size_bytes=size_bytes,
        duration_s=duration_s,
        format=format,
    )
    if recording_id is not None:
        rec.id = recording_id
    session.add(rec)
    session.flush()
    return rec


def get_recording(*, session: Session, recording_id: str) -> Recording:
    """The row, erased or not (erased rows keep their metadata; check ``erased_at``)."""
    return _get(session, Recording, recording_id, "recording")


def _live_recording(session: Session, recording_id: str) -> Recording:
    rec = get_recording(session=session, recording_id=recording_id)
    if rec.erased_at is not None:
        raise NotFound(f"recording {recording_id} not found (erased)")
    return rec


def can_see_all_recordings(user: User) -> bool:
    """Managers supervise every case; everyone else sees only recordings they uploaded."""
    return user.role == Role.MANAGER


def get_recording_for(*, session: Session, recording_id: str, user: User) -> Recording:
    """The recording if ``user`` may see it; NotFound otherwise, so existence is not disclosed."""
    rec = get_recording(session=session, recording_id=recording_id)
    if rec.owner_id != user.id and not can_see_all_recordings(user):
        raise NotFound(f"recording {recording_id} not found")
    return rec


def list_recordings_for(
    *, session: Session, user: User, include_erased: bool = False
) -> list[Recording]:
    """Newest first: the user's own recordings, or every recording for a manager."""
    stmt = select(Recording).order_by(Recording.created_at.desc(), Recording.id)
    if not can_see_all_recordings(user):
        stmt = stmt.where(Recording.owner_id == user.id)
    if not include_erased:
        stmt = stmt.where(Recording.erased_at.is_(None))
    return list(session.scalars(stmt))


# --- jobs ---------------------------------------------------------------------------------
_JOB_FIELDS = frozenset(
    {
        "status",
        "stage",
        "progress",
        "attempts",
        "error_code",
        "error_message",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "timings",
        "note_id",
    }
)


def create_job(*, session: Session, recording_id: str) -> Job:
    _live_recording(session, recording_id)
    job = Job(recording_id=recording_id, status=JobStatus.QUEUED.value, timings={})
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, job_id: str) -> Job:
    return _get(session, Job, job_id, "job")


def list_jobs_for_recording(*, session: Session, recording_id: str) -> list[Job]:
    get_recording(session=session, recording_id=recording_id)
    stmt = select(Job).where(Job.recording_id == recording_id).order_by(Job.created_at, Job.id)
    return list(session.scalars(stmt))


def claim_next_job(*, session: Session, status: JobStatus = JobStatus.TRANSCRIBING) -> Job | None:
    """Atomically move the oldest queued job to ``status``, stamping start and heartbeat.

    PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED``, so concurrent workers take different jobs
    without waiting. Elsewhere (SQLite): a conditional ``UPDATE ... WHERE status='queued'``
    whose rowcount tells whether this caller won; a loser retries with the next job. Commit soon
    after claiming: on PostgreSQL the row lock is held until then.
    """
    if status not in IN_PROGRESS:
        raise ValueError(f"a claimed job must be in progress, not {status}")
    now = utcnow()
    changes = {
        "status": status.value,
        "stage": status.value,
        "progress": 0.0,
        "started_at": now,
        "heartbeat_at": now,
        "updated_at": now,
    }
    oldest = (
        select(Job)
        .where(Job.status == JobStatus.QUEUED.value)
        .order_by(Job.created_at, Job.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = oldest.with_for_update(skip_locked=True).execution_options(populate_existing=True)
        job = session.scalars(stmt).one_or_none()
        if job is None:
            return None
        for key, value in changes.items():
            setattr(job, key, value)
        session.flush()
        return job

    while True:
        job_id = session.scalar(oldest.with_only_columns(Job.id))
        if job_id is None:
            return None
        result = cast(
            CursorResult[Any],
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
                .values(**changes)
                .execution_options(synchronize_session=False)
            ),
        )
        if result.rowcount == 1:
            return session.get(Job, job_id, populate_existing=True)


def update_job(*, session: Session, job_id: str, **fields: Any) -> Job:
    """Set the given columns (and ``updated_at``). Finishing stamps ``finished_at`` if not given."""
    unknown = set(fields) - _JOB_FIELDS
    if unknown:
        raise TypeError(f"update_job got unknown fields: {sorted(unknown)}")
    job = get_job(session=session, job_id=job_id)
    if "status" in fields:
        fields["status"] = JobStatus(fields["status"]).value
        if fields["status"] in FINISHED:
            fields.setdefault("finished_at", utcnow())
    if "progress" in fields and not 0.0 <= float(fields["progress"]) <= 1.0:
        raise ValueError("progress must be within 0..1")
    if "timings" in fields:
        fields["timings"] = dict(fields["timings"])
    for key, value in fields.items():
        setattr(job, key, value)
    job.updated_at = utcnow()
    session.flush()
    return job


def heartbeat_job(*, session: Session, job_id: str) -> Job:
    now = utcnow()
    return update_job(session=session, job_id=job_id, heartbeat_at=now)


def record_stage_timing(
    *, session: Session, job_id: str, stage: str, wall_s: float, rtf: float | None
) -> Job:
    """Add ``{stage: {"wall_s", "rtf"}}`` to the job's timings (JSON is replaced, not mutated)."""
    job = get_job(session=session, job_id=job_id)
    timings = {**job.timings, stage: {"wall_s": float(wall_s), "rtf": rtf}}
    return update_job(session=session, job_id=job_id, timings=timings)


def requeue_interrupted_jobs(
    *, session: Session, max_attempts: int, stale_before: datetime | None = None
) -> int:
    """At start-up: every job left in transcribing/redacting/drafting was interrupted.

    Each goes back to 'queued' with ``attempts + 1``, or to 'failed' with error_code
    'interrupted' once ``attempts + 1`` reaches ``max_attempts``. With ``stale_before``, only
    jobs whose heartbeat is older than that are touched (for a watchdog while running).
    Returns how many jobs were requeued or failed.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    stmt = select(Job).where(Job.status.in_([s.value for s in IN_PROGRESS]))
    if stale_before is not None:
        stmt = stmt.where((Job.heartbeat_at.is_(None)) | (Job.heartbeat_at < stale_before))
    jobs = list(session.scalars(stmt.with_for_update().execution_options(populate_existing=True)))
    now = utcnow()
    for job in jobs:
        job.attempts += 1
        job.updated_at = now
        if job.attempts >= max_attempts:
            job.status = JobStatus.FAILED.value
            job.error_code = "interrupted"
            job.error_message = f"interrupted {job.attempts} times, last during {job.stage}"
            job.finished_at = now
        else:
            job.status = JobStatus.QUEUED.value
            job.progress = 0.0
            job.started_at = None
            job.heartbeat_at = None
    session.flush()
    return len(jobs)


# --- transcripts and the pseudonym map ----------------------------------------------------
_TRANSCRIPT_TYPES: dict[str, type[Transcript | RedactedTranscript]] = {
    "raw": Transcript,
    "redacted": RedactedTranscript,
}


def save_transcript(
    *,
    session: Session,
    recording_id: str,
    kind: str,
    body: Transcript | RedactedTranscript | Mapping[str, Any],
) -> TranscriptRow:
    """Store (or replace, when a job is re-run) the raw or redacted transcript of a recording."""
    model = _TRANSCRIPT_TYPES.get(kind)
    if model is None:
        raise ValueError("kind must be 'raw' or 'redacted'")
    value = body if isinstance(body, model) else model.model_validate(_json(body))
    _live_recording(session, recording_id)
    stmt = select(TranscriptRow).where(
        TranscriptRow.recording_id == recording_id, TranscriptRow.kind == kind
    )
    row = session.scalars(stmt).one_or_none()
    if row is None:
        row = TranscriptRow(recording_id=recording_id, kind=kind, body={})
        session.add(row)
    row.body = value.model_dump(mode="json")
    row.created_at = utcnow()
    session.flush()
    return row


def get_transcript(
    *, session: Session, recording_id: str, kind: str
) -> Transcript | RedactedTranscript:
    model = _TRANSCRIPT_TYPES.get(kind)
    if model is None:
        raise ValueError("kind must be 'raw' or 'redacted'")
    _live_recording(session, recording_id)
    stmt = select(TranscriptRow.body).where(
        TranscriptRow.recording_id == recording_id, TranscriptRow.kind == kind
    )
    body = session.scalars(stmt).one_or_none()
    if body is None:
        raise NotFound(f"{kind} transcript of recording {recording_id} not found")
    return model.model_validate(body)


def save_mapping(
    *, session: Session, recording_id: str, cipher: MappingCipher, mapping: PseudonymMap
) -> PseudonymMapRow:
    """Encrypt and store (or replace) the map. The recording id is bound into the ciphertext."""
    _live_recording(session, recording_id)
    blob = cipher.encrypt(mapping, associated_data=recording_id.encode())
    row = session.get(PseudonymMapRow, recording_id)
    if row is None:
        row = PseudonymMapRow(recording_id=recording_id, ciphertext=blob, key_id=cipher.key_id)
        session.add(row)
    else:
        row.ciphertext, row.key_id = blob, cipher.key_id
    session.flush()
    return row


def load_mapping(*, session: Session, recording_id: str, cipher: MappingCipher) -> PseudonymMap:
    """Decrypt the map. A different stored key id raises ``MappingKeyMismatch`` (key rotated)."""
    _live_recording(session, recording_id)
    row = session.get(PseudonymMapRow, recording_id)
    if row is None:
        raise NotFound(f"pseudonym map of recording {recording_id} not found")
    if row.key_id != cipher.key_id:
        raise MappingKeyMismatch(
            f"pseudonym map of recording {recording_id} was encrypted with key_id {row.key_id}, "
            f"the configured key is {cipher.key_id}; re-encrypt with reencrypt_mappings()"
        )
    return cipher.decrypt(row.ciphertext, associated_data=recording_id.encode())


def reencrypt_mappings(*, session: Session, old: MappingCipher, new: MappingCipher) -> int:
    """Key rotation: re-encrypt every map stored under ``old`` with ``new``. Returns the count."""
    rows = session.scalars(select(PseudonymMapRow).where(PseudonymMapRow.key_id == old.key_id))
    count = 0
    for row in rows:
        ad = row.recording_id.encode()
        row.ciphertext = new.encrypt(
            old.decrypt(row.ciphertext, associated_data=ad), associated_data=ad
        )
        row.key_id = new.key_id
        count += 1
    session.flush()
    return count


# --- notes and revisions ------------------------------------------------------------------
def create_note(
    *,
    session: Session,
    recording_id: str,
    template: str,
    template_version: str,
    ai_draft: BaseModel | Mapping[str, Any],
    provenance: BaseModel | Mapping[str, Any],
    job_id: str | None = None,
) -> Note:
    """Store the AI draft and write it as revision 1 (author null). ``job_id`` links the job."""
    _live_recording(session, recording_id)
    draft = _json(ai_draft)
    note = Note(
        recording_id=recording_id,
        template=template,
        template_version=template_version,
        status="draft",
        ai_draft=draft,
        provenance=_json(provenance),
    )
    session.add(note)
    session.flush()
    session.add(NoteRevision(note_id=note.id, number=1, body=draft, author_id=None))
    if job_id is not None:
        get_job(session=session, job_id=job_id).note_id = note.id
    session.flush()
    return note


def get_note(*, session: Session, note_id: str) -> Note:
    return _get(session, Note, note_id, "note")


def note_for_recording(*, session: Session, recording_id: str) -> Note | None:
    """The newest note of a recording, or None if none was drafted yet."""
    _live_recording(session, recording_id)
    stmt = (
        select(Note)
        .where(Note.recording_id == recording_id)
        .order_by(Note.created_at.desc(), Note.id)
        .limit(1)
    )
    return session.scalars(stmt).one_or_none()


def _locked_note(session: Session, note_id: str) -> Note:
    # FOR UPDATE serialises edits and approval of one note on PostgreSQL (no-op on SQLite,
    # where writers are serialised by the database lock anyway).
    stmt = (
        select(Note)
        .where(Note.id == note_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    note = session.scalars(stmt).one_or_none()
    if note is None:
        raise NotFound(f"note {note_id} not found")
    return note


def add_revision(
    *,
    session: Session,
    note_id: str,
    body: BaseModel | Mapping[str, Any],
    author_id: str | None,
) -> NoteRevision:
    """Append the next revision. Raises ``NoteLocked`` once the note is approved."""
    note = _locked_note(session, note_id)
    if note.status == "approved":
        raise NoteLocked(f"note {note_id} is approved and can no longer be edited")
    if author_id is not None:
        get_user(session=session, user_id=author_id)
    last = session.scalar(
        select(func.max(NoteRevision.number)).where(NoteRevision.note_id == note_id)
    )
    revision = NoteRevision(
        note_id=note_id, number=(last or 0) + 1, body=_json(body), author_id=author_id
    )
    session.add(revision)
    session.flush()
    return revision


def list_revisions(*, session: Session, note_id: str) -> list[NoteRevision]:
    get_note(session=session, note_id=note_id)
    stmt = select(NoteRevision).where(NoteRevision.note_id == note_id).order_by(NoteRevision.number)
    return list(session.scalars(stmt))


def latest_revision(*, session: Session, note_id: str) -> NoteRevision:
    get_note(session=session, note_id=note_id)
    stmt = (
        select(NoteRevision)
        .where(NoteRevision.note_id == note_id)
        .order_by(NoteRevision.number.desc())
        .limit(1)
    )
    return session.scalars(stmt).one()


def approve_note(
    *, session: Session, note_id: str, user_id: str, edit_distance: int | None
) -> Note:
    """Lock the note: no revision can be added after this. Approving twice raises NoteLocked."""
    note = _locked_note(session, note_id)
    if note.status == "approved":
        raise NoteLocked(f"note {note_id} is already approved")
    get_user(session=session, user_id=user_id)
    if edit_distance is not None and edit_distance < 0:
        raise ValueError("edit_distance must be >= 0")
    note.status = "approved"
    note.approved_at = utcnow()
    note.approved_by = user_id
    note.edit_distance = edit_distance
    session.flush()
    return note


# --- erasure ------------------------------------------------------------------------------
def erase_recording(*, session: Session, recording_id: str) -> list[Path]:
    """Delete every piece of content derived from a recording; keep its metadata and audit rows.

    Removes transcripts, the pseudonym map, notes and their revisions, unlinks jobs from the
    notes (unfinished jobs fail with 'recording_erased'), nulls ``audio_path`` and stamps
    ``erased_at``. Returns the audio paths for the caller to unlink after commit. Idempotent:
    erasing again returns no paths.
    """
    get_recording(session=session, recording_id=recording_id)
    session.flush()  # nothing pending may be lost by the expire_all() below
    now = utcnow()
    note_ids = select(Note.id).where(Note.recording_id == recording_id).scalar_subquery()
    session.execute(
        update(Job)
        .where(
            Job.recording_id == recording_id,
            Job.status.not_in([s.value for s in FINISHED]),
        )
        .values(
            status=JobStatus.FAILED.value,
            error_code="recording_erased",
            error_message="the recording was erased",
            finished_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Job)
        .where(Job.recording_id == recording_id)
        .values(note_id=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(NoteRevision)
        .where(NoteRevision.note_id.in_(note_ids))
        .execution_options(synchronize_session=False)
    )
    for model in (Note, TranscriptRow, PseudonymMapRow):
        session.execute(
            delete(model)
            .where(model.recording_id == recording_id)
            .execution_options(synchronize_session=False)
        )
    # Bulk statements bypass the identity map; drop what it may still hold.
    session.expire_all()
    rec = get_recording(session=session, recording_id=recording_id)
    paths = [Path(rec.audio_path)] if rec.audio_path else []
    rec.audio_path = None
    if rec.erased_at is None:
        rec.erased_at = now
    session.flush()
    return paths


# --- audit --------------------------------------------------------------------------------
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,63}")  # snake_case names, entity types
_SAFE_TEXT = re.compile(r"[A-Za-z0-9_.:/@+=\-]{0,128}")
#: Keys that would invite text or names into the audit trail, whatever their value.
_FORBIDDEN_KEYS = frozenset(
    {
        "text",
        "name",
        "names",
        "body",
        "transcript",
        "content",
        "quote",
        "filename",
        "address",
    }
)


def _check_details(value: Any, depth: int = 0) -> None:
    if depth > 3:
        raise ValueError("audit details nest too deeply")
    if value is None or isinstance(value, bool | int | float):
        return
    if isinstance(value, str):
        if not _SAFE_TEXT.fullmatch(value):
            raise ValueError(
                "audit details may hold ids, counts and formats only: a string value has "
                "spaces, unusual characters or is over 128 characters"
            )
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if (
                not isinstance(key, str)
                or not _KEY.fullmatch(key)
                or key.lower() in _FORBIDDEN_KEYS
            ):
                raise ValueError("audit details keys must be identifiers that do not name content")
            _check_details(item, depth + 1)
        return
    if isinstance(value, list | tuple) and len(value) <= 1000:
        for item in value:
            _check_details(item, depth + 1)
        return
    raise ValueError(f"audit details cannot hold a {type(value).__name__}")


def add_audit(
    *,
    session: Session,
    actor_id: str | None,
    action: str,
    object_type: str,
    object_id: str | None,
    request_id: str | None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append an audit event. ``details`` is checked: ids, counts and formats only, no text."""
    details = dict(details or {})
    _check_details(details)
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        request_id=request_id,
        details=details,
    )
    session.add(event)
    session.flush()
    return event


def list_audit(
    *,
    session: Session,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 1000,
) -> list[AuditEvent]:
    """Oldest first, filtered by any of the given columns."""
    stmt = select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id).limit(limit)
    if object_type is not None:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    if actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    return list(session.scalars(stmt))


def find_transcript(
    *, session: Session, recording_id: str, kind: str
) -> Transcript | RedactedTranscript | None:
    """Like ``get_transcript`` but None when that stage has not saved one yet."""
    try:
        return get_transcript(session=session, recording_id=recording_id, kind=kind)
    except NotFound:
        return None


def mean_stage_rtf(*, session: Session, last: int = 20) -> dict[str, float]:
    """Average real-time factor per stage over the last finished jobs, for time-left estimates."""
    stmt = (
        select(Job.timings)
        .where(Job.status == JobStatus.DONE.value)
        .order_by(Job.finished_at.desc())
        .limit(last)
    )
    sums: dict[str, list[float]] = {}
    for timings in session.scalars(stmt):
        for stage, t in (timings or {}).items():
            if isinstance(t, dict) and t.get("rtf") is not None:
                sums.setdefault(stage, []).append(float(t["rtf"]))
    return {stage: sum(v) / len(v) for stage, v in sums.items()}
