"""/v1/notes/{id}/statements: change, add, remove or move one statement (each save is the next
revision, as a whole-note edit is), and confirm a statement that raises a safeguarding category.

A statement is addressed by its section key and its position in that section, from 0, in the
latest revision. Send ``revision`` (the one you read) and a change to a note that has moved on
since is refused (409 ``stale_revision``) rather than applied to the wrong statement. The owner
only; an approved note changes no more (409 ``note_approved``). ``web.routes.edit`` calls these
functions for the edit page's forms."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from assistant import notes
from assistant.api import schemas
from assistant.api.deps import CurrentUser, LexiconDep, SessionDep, SettingsDep, audit
from assistant.api.note_access import (
    LOCKED,
    check_revision,
    editable_body,
    load_note,
    note_view,
    save_sections,
)
from assistant.errors import BadInput, NoteLocked
from assistant.storage import Note, Recording, User, repo

router = APIRouter(
    prefix="/v1/notes/{note_id}/statements",
    tags=["notes"],
    responses={**schemas.V1_ERRORS, **schemas.error_responses(409)},
)

REVISION = Query(
    None, ge=1, description="the revision you read; refused (409 stale_revision) if not latest"
)
SECTION_DOC = "the section's key, e.g. purpose"
INDEX_DOC = "the statement's position in the section, from 0"


def _claim(
    session: Session, note_id: str, user: User, revision: int | None
) -> tuple[Note, Recording, int]:
    """The note (the owner's, still a draft, at ``revision``) with its write lock held."""
    note, rec = load_note(session, note_id, user, "note.edit")
    try:
        note = repo.claim_note(session=session, note_id=note.id)
    except NoteLocked:
        raise NoteLocked(LOCKED) from None
    return note, rec, check_revision(session, note, revision)


@router.post("", response_model=schemas.NoteView, status_code=201, summary="Add a statement")
def add_statement(
    note_id: str,
    new: schemas.StatementAdd,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    lexicon: LexiconDep,
    revision: int | None = REVISION,
) -> schemas.NoteView:
    """Add a statement to a section (at ``position``, default the end). One with no evidence
    is marked ``added_by_practitioner``."""
    note, rec, _ = _claim(session, note_id, user, revision)
    fields = new.model_dump(mode="json", include={"text", "kind", "speaker", "evidence"})
    current = editable_body(session, settings, note)
    sections = notes.add_statement(
        current, section=new.section, statement=fields, position=new.position
    )
    body = save_sections(
        session, request, user, settings, note, rec, sections, op="add", section=new.section
    )
    return note_view(session, settings, note, rec, body, lexicon, reidentified=False)


@router.patch(
    "/{section}/{index}", response_model=schemas.NoteView, summary="Change or move a statement"
)
def change_statement(
    note_id: str,
    section: str,
    index: int,
    change: schemas.StatementChange,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    lexicon: LexiconDep,
    revision: int | None = REVISION,
) -> schemas.NoteView:
    """Set the fields given (text, kind, speaker, evidence); ``section`` moves the statement
    there, ``position`` places it (in its own section: reorders it)."""
    note, rec, _ = _claim(session, note_id, user, revision)
    changes = change.model_dump(mode="json", exclude_unset=True)
    to_section, position = changes.pop("section", None), changes.pop("position", None)
    if not changes and to_section is None and position is None:
        raise BadInput("Send at least one field to change.", code="nothing_to_change")
    if changes.get("text") is None and "text" in changes:
        raise BadInput("A statement's text cannot be null; remove the statement instead.")
    current = editable_body(session, settings, note)
    sections = notes.change_statement(
        current,
        section=section,
        index=index,
        changes=changes,
        to_section=to_section,
        position=position,
    )
    body = save_sections(
        session,
        request,
        user,
        settings,
        note,
        rec,
        sections,
        op="move" if to_section and to_section != section else "change",
        section=section,
        index=index,
        to_section=to_section,
    )
    return note_view(session, settings, note, rec, body, lexicon, reidentified=False)


@router.delete("/{section}/{index}", response_model=schemas.NoteView, summary="Remove one")
def remove_statement(
    note_id: str,
    section: str,
    index: int,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    lexicon: LexiconDep,
    revision: int | None = REVISION,
) -> schemas.NoteView:
    """Remove a statement (earlier revisions keep it)."""
    note, rec, _ = _claim(session, note_id, user, revision)
    current = editable_body(session, settings, note)
    sections = notes.remove_statement(current, section=section, index=index)
    body = save_sections(
        session,
        request,
        user,
        settings,
        note,
        rec,
        sections,
        op="remove",
        section=section,
        index=index,
    )
    return note_view(session, settings, note, rec, body, lexicon, reidentified=False)


@router.post(
    "/{section}/{index}/confirm",
    response_model=schemas.NoteView,
    summary="Confirm a safeguarding statement",
)
def confirm_statement(
    note_id: str,
    section: str,
    index: int,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    lexicon: LexiconDep,
    revision: int | None = REVISION,
) -> schemas.NoteView:
    """Confirm, having checked it against its evidence, a statement whose words raise a
    safeguarding category: every such statement must be confirmed before the note can be
    approved. The confirmation holds for these exact words: edit them and confirm again.
    Refused (422 ``not_safeguarding``) for a statement that raises no category."""
    note, rec = load_note(session, note_id, user, "note.approve")
    try:
        note = repo.claim_note(session=session, note_id=note.id)
    except NoteLocked:
        raise NoteLocked(LOCKED) from None
    latest = check_revision(session, note, revision)
    body = repo.latest_body(session=session, note_id=note.id)
    notes.remove_statement(body, section=section, index=index)  # checks the address
    statement = next(s for s in body.sections if s.key == section).statements[index]
    categories = sorted(lexicon.categories_in(statement.text))
    if not categories:
        raise BadInput(
            "This statement raises no safeguarding category: it needs no confirmation.",
            code="not_safeguarding",
            http_status=422,
        )
    repo.confirm_statement(
        session=session,
        note_id=note.id,
        statement_sha256=notes.statement_sha256(statement),
        section=section,
        categories=categories,
        user_id=user.id,
    )
    audit(
        session,
        request,
        user,
        "note.confirm_statement",
        "note",
        note.id,
        revision=latest,
        section=section,
        index=index,
        categories=categories,
    )
    return note_view(session, settings, note, rec, body, lexicon, reidentified=False)


__all__ = ["router"]
