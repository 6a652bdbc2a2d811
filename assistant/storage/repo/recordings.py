"""Recordings: metadata, who may see them, and erasure of everything derived from one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, Select, delete, func, select, update
from sqlalchemy.orm import Session

from assistant.domain import JobStatus
from assistant.errors import NotFound
from assistant.storage.models import (
    DataKey,
    Job,
    Note,
    NoteRevision,
    PseudonymMapRow,
    Recording,
    StatementConfirmation,
    TranscriptRow,
    User,
    utcnow,
)
from assistant.storage.repo._base import FINISHED, get_row
from assistant.storage.repo.reach import may_reach, owner_condition
from assistant.storage.repo.users import get_user

#: The rule (in ``auth.PERMISSIONS``) for seeing a recording at all.
VIEW = "recording.view"


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
    data_key: tuple[bytes, str] | None = None,
    vocabulary: Sequence[str] = (),
) -> Recording:
    """``recording_id`` may be chosen by the caller (e.g. to name the stored audio file first);
    ``data_key`` (wrapped key, KEK id) is the one the audio was encrypted under as it arrived;
    ``vocabulary``: the upload's own terms for speech recognition."""
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
        vocabulary="\n".join(vocabulary) or None,
    )
    if recording_id is not None:
        rec.id = recording_id
    session.add(rec)
    session.flush()
    if data_key is not None:
        session.add(DataKey(recording_id=rec.id, wrapped=data_key[0], kek_id=data_key[1]))
        session.flush()
    return rec


def get_recording(*, session: Session, recording_id: str) -> Recording:
    """The row, erased or not (erased rows keep their metadata; check ``erased_at``)."""
    return get_row(session, Recording, recording_id, "recording")


def live_recording(session: Session, recording_id: str) -> Recording:
    """The recording, or NotFound if it was erased: its content counts as missing."""
    rec = get_recording(session=session, recording_id=recording_id)
    if rec.erased_at is not None:
        raise NotFound(f"recording {recording_id} not found (erased)")
    return rec


def get_recording_for(*, session: Session, recording_id: str, user: User) -> Recording:
    """The recording if ``user`` may see it; NotFound otherwise, so existence is not disclosed."""
    rec = get_recording(session=session, recording_id=recording_id)
    if not may_reach(session=session, user=user, action=VIEW, owner_id=rec.owner_id):
        raise NotFound(f"recording {recording_id} not found")
    return rec


def list_recordings_for(
    *, session: Session, user: User, include_erased: bool = False
) -> list[Recording]:
    """Newest first: the recordings ``user`` may see (their own; a manager's, also their
    team's, or every one with no team)."""
    stmt = _visible_to(user, include_erased)
    if stmt is None:
        return []
    return list(session.scalars(stmt.order_by(Recording.created_at.desc(), Recording.id)))


def page_recordings_for(
    *, session: Session, user: User, offset: int, limit: int
) -> tuple[list[Recording], int]:
    """One page (newest first) of the live recordings ``user`` may see, and how many there
    are in all."""
    stmt = _visible_to(user, include_erased=False)
    if stmt is None:
        return [], 0
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = stmt.order_by(Recording.created_at.desc(), Recording.id).offset(offset).limit(limit)
    return list(session.scalars(page)), total


def _visible_to(user: User, include_erased: bool) -> Select[Recording] | None:
    owners = owner_condition(user, VIEW)
    if owners is None:
        return None
    stmt = select(Recording).where(owners)
    if not include_erased:
        stmt = stmt.where(Recording.erased_at.is_(None))
    return stmt


def stored_audio_paths(*, session: Session) -> set[str]:
    """The audio files recordings point at (erased ones point at none)."""
    stmt = select(Recording.audio_path).where(Recording.audio_path.is_not(None))
    return {str(p) for p in session.scalars(stmt)}


def erase_recording(*, session: Session, recording_id: str) -> list[Path]:
    """Delete every piece of content derived from a recording; keep its metadata and audit rows.

    Removes transcripts, the pseudonym map, notes and their revisions and the recording's data
    key (so any copy of its ciphertext, in a backup, stays unreadable), unlinks jobs from the
    notes (unfinished jobs fail with 'recording_erased'), nulls ``audio_path`` and the upload's
    ``vocabulary``, and stamps
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
    for child in (NoteRevision, StatementConfirmation):
        session.execute(
            delete(child)
            .where(child.note_id.in_(note_ids))
            .execution_options(synchronize_session=False)
        )
    for model in (Note, PseudonymMapRow, DataKey):
        session.execute(
            delete(model)
            .where(model.recording_id == recording_id)
            .execution_options(synchronize_session=False)
        )
    erase_transcripts(session=session, recording_id=recording_id)
    ring = session.info.get("keyring")
    if ring is not None:
        ring.forget(recording_id)
    # Bulk statements bypass the identity map; drop what it may still hold.
    session.expire_all()
    paths = erase_audio(session=session, recording_id=recording_id)
    rec = get_recording(session=session, recording_id=recording_id)
    rec.vocabulary = None  # it may name local places: content, not metadata
    if rec.erased_at is None:
        rec.erased_at = now
    session.flush()
    return paths


def erase_audio(*, session: Session, recording_id: str) -> list[Path]:
    """Forget the recording's audio file (``audio_path`` nulled); the rest stays. Returns the
    file for the caller to unlink after commit, none if it was already gone. Part of erasure,
    and on its own what retention does to the audio of an approved visit."""
    rec = get_recording(session=session, recording_id=recording_id)
    paths = [Path(rec.audio_path)] if rec.audio_path else []
    rec.audio_path = None
    session.flush()
    return paths


def erase_transcripts(*, session: Session, recording_id: str) -> int:
    """Delete the raw and redacted transcripts (the name map stays); returns how many there
    were. Part of erasure, and on its own what retention does after approval."""
    get_recording(session=session, recording_id=recording_id)
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(TranscriptRow)
        .where(TranscriptRow.recording_id == recording_id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
