"""Retention as the owner sees it: when each part of a visit will be deleted, and whether a
missing transcript was deleted by retention rather than not made yet."""

from __future__ import annotations

from sqlalchemy.orm import Session

from assistant.api import schemas
from assistant.jobs.retention import AUDIT_ACTION, RetentionKind, RetentionPolicy, expiry
from assistant.settings import Settings
from assistant.storage import Recording, repo


def expiry_view(session: Session, settings: Settings, rec: Recording) -> schemas.Expiry:
    """The dates a view warns the owner by (all null when no retention period is set)."""
    policy = RetentionPolicy.from_settings(settings)
    if not policy.configured:
        return schemas.Expiry()
    owner = repo.get_user(session=session, user_id=rec.owner_id)
    dates = expiry(
        policy,
        uploaded_at=rec.created_at,
        approved_at=repo.approved_at(session=session, recording_id=rec.id),
        owner_deactivated_at=None if owner.active else owner.deactivated_at,
    )
    return schemas.Expiry(
        note_at=dates.note_at, audio_at=dates.audio_at, transcripts_at=dates.transcripts_at
    )


def transcripts_expired(session: Session, recording_id: str) -> bool:
    """Whether a retention pass deleted this recording's transcripts (its audit record says)."""
    events = repo.list_audit(
        session=session, object_type="recording", object_id=recording_id, action=AUDIT_ACTION
    )
    return any(e.details.get("kind") == RetentionKind.TRANSCRIPTS.value for e in events)
