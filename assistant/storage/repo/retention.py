"""Retention: which recordings hold content older than a cutoff, and holding one still.

The periods are the council's (``assistant.jobs.retention`` turns them into cutoffs); these
queries only compare timestamps with a cutoff. Each takes an optional ``recording_id`` so the
deleting transaction can ask the same question again about one recording after locking it
(``lock_recording``): a recording approved, erased or already handled by another process in
the meantime then no longer matches, and nothing is deleted or counted twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Select, and_, exists, func, select, update
from sqlalchemy.orm import Session

from assistant.storage.models import Note, Recording, TranscriptRow, User

_approved = and_(Note.recording_id == Recording.id, Note.status == "approved")


def _live(recording_id: str | None) -> Select[str]:
    stmt = select(Recording.id).where(Recording.erased_at.is_(None))
    if recording_id is not None:
        stmt = stmt.where(Recording.id == recording_id)
    return stmt.order_by(Recording.created_at, Recording.id)


def approved_before(
    *,
    session: Session,
    cutoff: datetime,
    holding: Literal["audio", "transcripts"],
    recording_id: str | None = None,
) -> list[str]:
    """Recordings whose note was approved at or before ``cutoff`` (the latest approval, if
    several) and that still hold their audio file, or a transcript."""
    last_approval = select(func.max(Note.approved_at)).where(_approved).scalar_subquery()
    stmt = _live(recording_id).where(last_approval <= cutoff)
    if holding == "audio":
        stmt = stmt.where(Recording.audio_path.is_not(None))
    else:
        stmt = stmt.where(exists().where(TranscriptRow.recording_id == Recording.id))
    return list(session.scalars(stmt))


def unapproved_before(
    *, session: Session, cutoff: datetime, recording_id: str | None = None
) -> list[str]:
    """Recordings uploaded at or before ``cutoff`` with no approved note (a draft still
    unapproved, or no draft at all: a job that failed or never ran)."""
    stmt = _live(recording_id).where(Recording.created_at <= cutoff, ~exists().where(_approved))
    return list(session.scalars(stmt))


def owner_deactivated_before(
    *, session: Session, cutoff: datetime, recording_id: str | None = None
) -> list[str]:
    """Recordings whose owner was deactivated at or before ``cutoff`` and is still inactive."""
    stmt = (
        _live(recording_id)
        .join(User, User.id == Recording.owner_id)
        .where(User.active.is_(False), User.deactivated_at <= cutoff)
    )
    return list(session.scalars(stmt))


def approved_at(*, session: Session, recording_id: str) -> datetime | None:
    """When the recording's note was approved (the latest, if several); None if none is."""
    stmt = select(func.max(Note.approved_at)).where(
        Note.recording_id == recording_id, Note.status == "approved"
    )
    return session.scalar(stmt)


def lock_recording(*, session: Session, recording_id: str) -> None:
    """Hold the recording and its notes for the rest of the transaction; call it first.

    No-op updates take the locks: on PostgreSQL the row locks, so an approval of one of its
    notes (``notes.claim_note``) or another retention pass on it waits, and the question asked
    again afterwards sees what they committed; on SQLite the database's write lock, which
    pysqlite only asks for at the first write (so no read may come before this one).
    """
    session.execute(
        update(Recording)
        .where(Recording.id == recording_id)
        .values(erased_at=Recording.erased_at)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Note)
        .where(Note.recording_id == recording_id)
        .values(status=Note.status)
        .execution_options(synchronize_session=False)
    )
