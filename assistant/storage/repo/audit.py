"""The audit trail: who did what to which object, with ids, counts and formats only.

Records are appended to a hash chain (``assistant.storage.audit_chain``), one at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from assistant.storage.audit_chain import (
    HEAD_ID,
    AuditExport,
    ChainHead,
    ChainReport,
    ExportFormat,
    export_chain,
    read_head,
    record_hash,
    verify_chain,
)
from assistant.storage.models import AuditChainHead, AuditEvent, new_id, utcnow

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
    """Append an audit event to the chain. ``details`` is checked: ids, counts and formats only.

    Call it as the transaction's last write: it locks the chain head until the caller commits
    (so a request's other row locks are always taken before this one, never after).
    """
    details = dict(details or {})
    _check_details(details)
    head = _lock_head(session)
    fields: dict[str, Any] = {
        "id": new_id(),
        "at": utcnow(),  # taken under the lock, so time order follows chain order
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "request_id": request_id,
        "details": details,
    }
    event = AuditEvent(**fields, seq=head.seq + 1, prev_hash=head.hash)
    event.hash = record_hash(**fields, prev_hash=head.hash)
    session.add(event)
    session.flush()
    session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(seq=event.seq, hash=event.hash)
        .execution_options(synchronize_session=False)
    )
    return event


def _lock_head(session: Session) -> ChainHead:
    """Lock the chain head for this transaction and read it.

    Two appends that read the same head would fork the chain (the unique ``seq`` and ``hash``
    would then refuse the second, failing its request), so appends are serialised here:
    - PostgreSQL: ``SELECT ... FOR UPDATE`` on the head row; a concurrent append waits until
      this transaction ends and then reads the head it left (READ COMMITTED re-reads the row).
    - SQLite: ``FOR UPDATE`` does nothing, and pysqlite starts a transaction only at its first
      write, so a read first would see a head another connection is about to move. A write
      that changes nothing takes the database's single write lock (waiting out the busy
      timeout) before the head is read, and holds it until commit.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == HEAD_ID)
            .values(seq=AuditChainHead.seq)
            .execution_options(synchronize_session=False)
        )
    row = session.execute(
        select(AuditChainHead.seq, AuditChainHead.hash)
        .where(AuditChainHead.id == HEAD_ID)
        .with_for_update()
    ).one_or_none()
    if row is None:
        raise RuntimeError("the audit chain head row is missing; see caseassist audit verify")
    return ChainHead(row.seq, row.hash)


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
    """Oldest first (chain order), filtered by any of the given columns."""
    stmt = select(AuditEvent).order_by(AuditEvent.seq).limit(limit)
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


def page_audit(
    *,
    session: Session,
    action: str | None = None,
    actor_id: str | None = None,
    object_ids: Iterable[str] | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[AuditEvent], int]:
    """One page of the trail, newest first (by ``seq``), and how many records match."""
    stmt = select(AuditEvent)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    if actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if object_ids is not None:
        stmt = stmt.where(AuditEvent.object_id.in_(list(object_ids)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(AuditEvent.seq.desc()).offset(offset).limit(limit))
    return list(rows), total


def audit_head(*, session: Session) -> ChainHead | None:
    """The chain's stored head (its last record's seq and hash) without checking the chain;
    None: the head row is missing."""
    return read_head(session)


def audit_actions(*, session: Session) -> list[str]:
    """The actions the trail holds (a filter's choices)."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def verify_audit(*, session: Session, anchors: Iterable[ChainHead] = ()) -> ChainReport:
    """Check the whole chain (and that it still passes through each earlier head in ``anchors``);
    the report names the first broken link."""
    return verify_chain(session, anchors)


def export_audit(*, session: Session, format: ExportFormat) -> AuditExport:
    """Every record up to the chain head, oldest first, with the head (csv or json)."""
    return export_chain(session, format)
