"""What the note routes share (``routes/notes`` and ``routes/statements``, and the web app's
pages through them): finding a note the user may act on, its body, its view, its safeguarding
statements, and saving an edit as the next revision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from assistant import notes
from assistant.api import schemas
from assistant.api.deps import audit, authorize
from assistant.api.expiry import expiry_view
from assistant.domain import NoteSection
from assistant.drafting.templates import load_template
from assistant.errors import NoteLocked, NotFound, StaleRevision
from assistant.notes import ChangeRecord, FlaggedStatement, NoteBody
from assistant.review import Lexicon
from assistant.settings import Settings
from assistant.storage import Note, Recording, User, repo

LOCKED = "This note is approved and locked; it cannot be edited."


def load_note(session: Session, note_id: str, user: User, action: str) -> tuple[Note, Recording]:
    try:
        note = repo.get_note(session=session, note_id=note_id)
    except NotFound:
        raise NotFound("No such note.") from None
    rec = repo.get_recording(session=session, recording_id=note.recording_id)
    if rec.erased_at is not None:
        raise NotFound("No such note.")
    try:
        authorize(action, user, owner_id=rec.owner_id)
    except NotFound:
        raise NotFound("No such note.") from None
    return note, rec


def body_for(
    session: Session,
    note: Note,
    rec: Recording,
    user: User,
    reidentify: bool,
) -> NoteBody:
    body = repo.latest_body(session=session, note_id=note.id)
    if reidentify:
        authorize("note.reidentify", user, owner_id=rec.owner_id)
        mapping = repo.load_mapping(session=session, recording_id=rec.id)
        body = body.reidentified(mapping)
    return body


def safeguarding(session: Session, note: Note, lexicon: Lexicon) -> list[FlaggedStatement]:
    """The latest revision's statements that raise a safeguarding category (read on the
    stored, pseudonymised text), each with whether it was confirmed."""
    body = repo.latest_body(session=session, note_id=note.id)
    confirmed = repo.confirmed_statements(session=session, note_id=note.id)
    return notes.safeguarding_statements(body, lexicon.categories_in, confirmed)


def approval_record(note: Note) -> ChangeRecord | None:
    return ChangeRecord.model_validate(note.approval_record) if note.approval_record else None


def editable_body(session: Session, settings: Settings, note: Note) -> NoteBody:
    """The latest revision with every section of the note's template, in the template's order
    (empty ones too: a statement can be added or moved to them)."""
    template = load_template(note.template, note.template_version, root=settings.prompts_dir)
    body = repo.latest_body(session=session, note_id=note.id)
    have = {s.key: s for s in body.sections}
    sections = [have.pop(t.key, NoteSection(key=t.key, title=t.title)) for t in template.sections]
    return NoteBody(sections=(*sections, *have.values()), header=body.header)


def check_revision(session: Session, note: Note, revision: int | None) -> int:
    """The latest revision's number; ``StaleRevision`` if the caller saw another one (a
    statement's position means nothing in a revision the caller has not read)."""
    latest = repo.latest_revision(session=session, note_id=note.id).number
    if revision is not None and revision != latest:
        raise StaleRevision(
            f"The note has changed since you read it (revision {latest}, not {revision}): "
            "read it again and redo the change."
        )
    return latest


def note_view(
    session: Session,
    settings: Settings,
    note: Note,
    rec: Recording,
    body: NoteBody,
    lexicon: Lexicon,
    *,
    reidentified: bool,
    owner: bool = True,
) -> schemas.NoteView:
    revisions = repo.list_revisions(session=session, note_id=note.id)
    review = repo.note_review(note)
    if review and not owner:  # removed claims quote the transcript: the owner's to review
        review = {k: v for k, v in review.items() if k != "removed_claims"}
    return schemas.NoteView(
        note_id=note.id,
        recording_id=note.recording_id,
        template=note.template,
        template_version=note.template_version,
        status=note.status,
        revision=revisions[-1].number,
        sections=list(body.sections),
        header=list(body.header),
        revisions=[
            schemas.Revision(
                number=r.number,
                author=r.author_id or "ai",
                created_at=r.created_at,
                reason=r.reason,
            )
            for r in revisions
        ],
        provenance=repo.note_provenance(note),
        review=review,
        approved_at=note.approved_at,
        edit_distance=note.edit_distance,
        reidentified=reidentified,
        expires=expiry_view(session, settings, rec),
        safeguarding=[
            schemas.SafeguardingItem(
                section=f.section,
                index=f.index,
                categories=list(f.categories),
                confirmed=f.confirmed,
            )
            for f in safeguarding(session, note, lexicon)
        ],
        approval=approval_record(note),
    )


def save_sections(
    session: Session,
    request: Request,
    user: User,
    settings: Settings,
    note: Note,
    rec: Recording,
    sections: Sequence[dict[str, Any]],
    **details: Any,
) -> NoteBody:
    """Check ``sections`` (JSON form) against the template and transcript, then append them as
    the next revision and audit it (``details``: ids, positions, counts). Nothing is stored if
    a check fails. Returns the stored body."""
    if note.status == "approved":
        raise NoteLocked(LOCKED)
    template = load_template(note.template, note.template_version, root=settings.prompts_dir)
    transcript = repo.get_transcript(session=session, recording_id=rec.id, kind="raw")
    body = notes.validate_edit(
        sections,
        template=template,
        segment_ids=transcript.segment_ids,
        header=repo.latest_body(session=session, note_id=note.id).header,
    )
    try:  # the write lock, then the next number: concurrent edits queue, none after approval
        repo.claim_note(session=session, note_id=note.id)
    except NoteLocked:
        raise NoteLocked(LOCKED) from None
    rev = repo.add_revision(session=session, note_id=note.id, body=body, author_id=user.id)
    audit(session, request, user, "note.edit", "note", note.id, revision=rev.number, **details)
    return body
