"""The audit trail: who did what to which object, with ids, counts and formats only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.storage.models import AuditEvent

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
