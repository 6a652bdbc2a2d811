"""Notes and their append-only revisions.

A revision's body is a ``NoteBody`` stored in its JSON form; revision 1 is the AI draft. A
note's ``provenance`` column holds how the draft was made and, under the key ``"review"``, what
the code checks found on it: the shape rows have always had, so the two are written and read
apart here (``create_note(review=...)``, ``note_provenance``, ``note_review``) and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from assistant.errors import NoteLocked, NotFound
from assistant.notes.body import NoteBody
from assistant.storage.models import Note, NoteRevision, StatementConfirmation, utcnow
from assistant.storage.repo._base import get_row, to_json
from assistant.storage.repo.jobs import get_job
from assistant.storage.repo.recordings import live_recording
from assistant.storage.repo.users import get_user

_REVIEW_KEY = "review"


def create_note(
    *,
    session: Session,
    recording_id: str,
    template: str,
    template_version: str,
    ai_draft: NoteBody | BaseModel | Mapping[str, Any],
    provenance: BaseModel | Mapping[str, Any],
    review: BaseModel | Mapping[str, Any] | None = None,
    job_id: str | None = None,
) -> Note:
    """Store the AI draft and write it as revision 1 (author null). ``job_id`` links the job.

    ``ai_draft`` is stored as given (a ``NoteBody`` as its JSON form); ``review``, the
    ``DraftReview`` of the draft, is stored with the provenance (see the module docstring).
    """
    live_recording(session, recording_id)
    draft = to_json(ai_draft)
    stored_provenance = to_json(provenance)
    if review is not None:
        if _REVIEW_KEY in stored_provenance:
            raise ValueError("the review was given twice: as review= and inside provenance")
        stored_provenance[_REVIEW_KEY] = to_json(review)
    note = Note(
        recording_id=recording_id,
        template=template,
        template_version=template_version,
        status="draft",
        ai_draft=draft,
        provenance=stored_provenance,
        job_id=job_id,
    )
    session.add(note)
    session.flush()
    session.add(NoteRevision(note_id=note.id, number=1, body=draft, author_id=None))
    if job_id is not None:
        get_job(session=session, job_id=job_id).note_id = note.id
    session.flush()
    return note


def get_note(*, session: Session, note_id: str) -> Note:
    return get_row(session, Note, note_id, "note")


def note_provenance(note: Note) -> dict[str, Any]:
    """How the AI draft was made (template, prompt, model ...), without the review."""
    return {k: v for k, v in (note.provenance or {}).items() if k != _REVIEW_KEY}


def note_review(note: Note) -> dict[str, Any] | None:
    """What the code checks found on the AI draft (a ``DraftReview`` in JSON form), or None."""
    review = (note.provenance or {}).get(_REVIEW_KEY)
    return None if review is None else dict(review)


def ai_draft_body(note: Note) -> NoteBody:
    return NoteBody.from_json(note.ai_draft)


def claim_note(*, session: Session, note_id: str) -> Note:
    """Take the note's write lock for the rest of the transaction and return it, fresh.

    Call it before reading anything a write to the note depends on (its status, its latest
    revision). A conditional no-op ``UPDATE ... WHERE status = 'draft'`` is the first write of
    the transaction: on PostgreSQL it takes the row lock (a concurrent claimer waits, then
    re-checks the status against the committed row); on SQLite it takes the database's write
    lock, which pysqlite only asks for at the first write, so the ``SELECT ... FOR UPDATE``
    alone would serialise nothing there. Raises ``NoteLocked`` once the note is approved and
    ``NotFound`` if there is no such note.
    """
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(Note)
        .where(Note.id == note_id, Note.status != "approved")
        .values(status=Note.status)
        .execution_options(synchronize_session=False)
    )
    claimed = result.rowcount
    stmt = (
        select(Note)
        .where(Note.id == note_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    note = session.scalars(stmt).one_or_none()
    if note is None:
        raise NotFound(f"note {note_id} not found")
    if not claimed or note.status == "approved":
        raise NoteLocked(f"note {note_id} is approved and can no longer be changed")
    return note


def add_revision(
    *,
    session: Session,
    note_id: str,
    body: NoteBody | Mapping[str, Any],
    author_id: str | None,
    reason: str | None = None,
) -> NoteRevision:
    """Append the next revision. Raises ``NoteLocked`` once the note is approved. ``reason``
    says why when the practitioner did not type the change (roles only, never names)."""
    claim_note(session=session, note_id=note_id)
    if author_id is not None:
        get_user(session=session, user_id=author_id)
    last = session.scalar(
        select(func.max(NoteRevision.number)).where(NoteRevision.note_id == note_id)
    )
    revision = NoteRevision(
        note_id=note_id,
        number=(last or 0) + 1,
        body=to_json(body),
        author_id=author_id,
        reason=reason,
    )
    session.add(revision)
    session.flush()
    return revision


def notes_for_recording(*, session: Session, recording_id: str) -> list[Note]:
    """Every note drafted from the recording, oldest first."""
    live_recording(session, recording_id)
    stmt = select(Note).where(Note.recording_id == recording_id).order_by(Note.created_at)
    return list(session.scalars(stmt))


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


def latest_body(*, session: Session, note_id: str) -> NoteBody:
    """The note as it reads now: the body of its latest revision."""
    return NoteBody.from_json(latest_revision(session=session, note_id=note_id).body)


def approve_note(
    *,
    session: Session,
    note_id: str,
    user_id: str,
    edit_distance: int | None,
    approval_record: BaseModel | Mapping[str, Any] | None = None,
) -> Note:
    """Lock the note: no revision can be added after this. Approving twice raises NoteLocked.
    ``approval_record``: what became of the AI's statements (``notes.ChangeRecord``)."""
    note = claim_note(session=session, note_id=note_id)
    get_user(session=session, user_id=user_id)
    if edit_distance is not None and edit_distance < 0:
        raise ValueError("edit_distance must be >= 0")
    note.status = "approved"
    note.approved_at = utcnow()
    note.approved_by = user_id
    note.edit_distance = edit_distance
    note.approval_record = None if approval_record is None else to_json(approval_record)
    session.flush()
    return note


def confirm_statement(
    *,
    session: Session,
    note_id: str,
    statement_sha256: str,
    section: str,
    categories: list[str],
    user_id: str,
) -> StatementConfirmation:
    """Record that ``user_id`` confirmed the statement with this content hash. Confirming the
    same statement again returns the first confirmation. Raises ``NoteLocked`` once approved."""
    claim_note(session=session, note_id=note_id)
    get_user(session=session, user_id=user_id)
    existing = session.scalar(
        select(StatementConfirmation).where(
            StatementConfirmation.note_id == note_id,
            StatementConfirmation.statement_sha256 == statement_sha256,
        )
    )
    if existing is not None:
        return existing
    row = StatementConfirmation(
        note_id=note_id,
        statement_sha256=statement_sha256,
        section=section,
        categories=list(categories),
        confirmed_by=user_id,
    )
    session.add(row)
    session.flush()
    return row


def confirmed_statements(*, session: Session, note_id: str) -> set[str]:
    """The content hashes of the note's confirmed statements."""
    stmt = select(StatementConfirmation.statement_sha256).where(
        StatementConfirmation.note_id == note_id
    )
    return set(session.scalars(stmt))
