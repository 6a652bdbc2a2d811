"""Lists of recordings and notes for one user: filtered, newest first, one page at a time.

Who sees what is the ``auth`` table's rule (``recording.view`` for recordings, ``note.view`` for
notes): their own; a manager's, their team's and their own (everyone's for a manager with no
team; ``repo.reach``). Erased recordings and their notes are never listed.
Filters are on metadata only (visit type, visit date, status, template, and a text search over
ids, template and visit type): no search of content.

A recording's status is its note's (``draft`` or ``approved``) once it has one, else
``failed`` when its latest job failed, else ``processing``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from assistant.storage.models import Job, Note, Recording, User
from assistant.storage.repo.reach import owner_condition

RecordingStatus = Literal["processing", "failed", "draft", "approved"]
RECORDING_STATUSES: tuple[str, ...] = ("processing", "failed", "draft", "approved")
NOTE_STATUSES: tuple[str, ...] = ("draft", "approved")


@dataclass(frozen=True)
class ListFilter:
    """What a list is narrowed to; None: no narrowing on that field."""

    visit_type: str | None = None
    status: str | None = None
    visit_from: date | None = None
    visit_to: date | None = None
    template: str | None = None
    #: Part of the recording's or a note's id, the template's name or the visit type.
    text: str | None = None


def _owner_scope(user: User, action: str) -> ColumnElement[bool] | None:
    """The rows' condition for ``user`` under ``action``; None: they may see none."""
    owners = owner_condition(user, action)
    if owners is None:
        return None
    return and_(Recording.erased_at.is_(None), owners)


def _metadata(stmt: Select[Any], where: ListFilter) -> Select[Any]:
    if where.visit_type:
        stmt = stmt.where(func.lower(Recording.visit_type) == where.visit_type.strip().lower())
    if where.visit_from:
        stmt = stmt.where(Recording.visit_date >= where.visit_from)
    if where.visit_to:
        stmt = stmt.where(Recording.visit_date <= where.visit_to)
    if where.template:
        stmt = stmt.where(Recording.template == where.template)
    if where.text and where.text.strip():
        stmt = stmt.where(_text_matches(where.text))
    return stmt


def _text_matches(text: str) -> ColumnElement[bool]:
    """Metadata containing ``text`` (any case; "visit note" finds the template visit_note)."""
    words = text.strip().lower()
    patterns = {words, words.replace(" ", "_")}
    likes = [
        "%" + p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        for p in patterns
    ]
    # an alias: in the notes list the outer query's Note must not be correlated into this
    other = aliased(Note)
    note_has = [
        exists().where(
            other.recording_id == Recording.id, func.lower(other.id).like(lk, escape="\\")
        )
        for lk in likes
    ]
    columns = (Recording.id, Recording.template, Recording.visit_type)
    return or_(*(func.lower(c).like(lk, escape="\\") for c in columns for lk in likes), *note_has)


def _recording_status(status: str) -> ColumnElement[bool]:
    has_note = exists().where(Note.recording_id == Recording.id)
    note_is = {
        s: exists().where(Note.recording_id == Recording.id, Note.status == s)
        for s in NOTE_STATUSES
    }
    latest_job = (
        select(Job.status)
        .where(Job.recording_id == Recording.id)
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    if status == "approved":
        return note_is["approved"]
    if status == "draft":
        return and_(note_is["draft"], ~note_is["approved"])
    if status == "failed":
        return and_(~has_note, latest_job == "failed")
    return and_(~has_note, or_(latest_job.is_(None), latest_job != "failed"))


def _page(
    session: Session, stmt: Select[Any], order: Any, offset: int, limit: int
) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(*order).offset(offset).limit(limit))
    return list(rows), total


def page_recordings(
    *, session: Session, user: User, where: ListFilter, offset: int, limit: int
) -> tuple[list[Recording], int]:
    """One page of the recordings ``user`` may see, newest upload first, and the total."""
    scope = _owner_scope(user, "recording.view")
    if scope is None:
        return [], 0
    stmt = _metadata(select(Recording).where(scope), where)
    if where.status:
        stmt = stmt.where(_recording_status(where.status))
    order = (Recording.created_at.desc(), Recording.id)
    return _page(session, stmt, order, offset, limit)


def page_notes(
    *, session: Session, user: User, where: ListFilter, offset: int, limit: int
) -> tuple[list[tuple[Note, Recording]], int]:
    """One page of the notes ``user`` may read with their recordings, newest first."""
    scope = _owner_scope(user, "note.view")
    if scope is None:
        return [], 0
    stmt = _metadata(select(Note.id).join(Recording, Note.recording_id == Recording.id), where)
    stmt = stmt.where(scope)
    if where.status:
        stmt = stmt.where(Note.status == where.status)
    ids, total = _page(session, stmt, (Note.created_at.desc(), Note.id), offset, limit)
    notes = {n.id: n for n in session.scalars(select(Note).where(Note.id.in_(ids)))}
    recs = {
        r.id: r
        for r in session.scalars(
            select(Recording).where(Recording.id.in_({n.recording_id for n in notes.values()}))
        )
    }
    return [(notes[i], recs[notes[i].recording_id]) for i in ids], total


def visit_types(*, session: Session, user: User) -> list[str]:
    """The visit types on the recordings ``user`` may see (a filter's choices)."""
    scope = _owner_scope(user, "recording.view")
    if scope is None:
        return []
    stmt = (
        select(Recording.visit_type)
        .where(scope, Recording.visit_type.is_not(None))
        .distinct()
        .order_by(Recording.visit_type)
    )
    return [t for t in session.scalars(stmt) if t]
