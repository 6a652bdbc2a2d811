"""/v1/notes: read, edit (new revision; the AI draft is kept), approve (locks), export.

``load_note`` and ``body_for`` (and the approve and export routes, called as functions) are
shared with the web app's review page."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from assistant import notes
from assistant.api import schemas
from assistant.api.deps import CurrentUser, SessionDep, SettingsDep, audit, authorize
from assistant.api.expiry import expiry_view
from assistant.drafting.templates import load_template
from assistant.errors import NoteLocked, NotFound
from assistant.notes import NoteBody
from assistant.storage import Note, Recording, User, repo

ExportFormat = Literal["md", "txt", "json"]

router = APIRouter(prefix="/v1/notes", tags=["notes"], responses=schemas.V1_ERRORS)


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


def _view(
    session: Session,
    note: Note,
    body: NoteBody,
    *,
    reidentified: bool,
    expires: schemas.Expiry,
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
        revisions=[
            schemas.Revision(number=r.number, author=r.author_id or "ai", created_at=r.created_at)
            for r in revisions
        ],
        provenance=repo.note_provenance(note),
        review=review,
        approved_at=note.approved_at,
        edit_distance=note.edit_distance,
        reidentified=reidentified,
        expires=expires,
    )


@router.get("/{note_id}", response_model=schemas.NoteView, summary="Read a note")
def get_note(
    note_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    reidentify: bool = Query(False, description="owner only: show real names"),
) -> schemas.NoteView:
    note, rec = load_note(session, note_id, user, "note.view")
    body = body_for(session, note, rec, user, reidentify)
    audit(session, request, user, "note.view", "note", note.id, reidentified=reidentify)
    return _view(
        session,
        note,
        body,
        reidentified=reidentify,
        expires=expiry_view(session, settings, rec),
        owner=rec.owner_id == user.id,
    )


@router.patch(
    "/{note_id}",
    response_model=schemas.NoteView,
    summary="Edit a note",
    responses=schemas.error_responses(409),
)
def edit_note(
    note_id: str,
    edit: schemas.NoteEdit,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> schemas.NoteView:
    """Replace the note's content with ``sections``: a new revision. Earlier revisions,
    including the AI draft (revision 1), are kept. An approved note cannot be edited."""
    note, rec = load_note(session, note_id, user, "note.edit")
    if note.status == "approved":
        raise NoteLocked("This note is approved and locked; it cannot be edited.")
    template = load_template(note.template, note.template_version, root=settings.prompts_dir)
    transcript = repo.get_transcript(session=session, recording_id=rec.id, kind="raw")
    body = notes.validate_edit(
        [s.model_dump(mode="json") for s in edit.sections],
        template=template,
        segment_ids=transcript.segment_ids,
    )
    try:  # the write lock, then the next number: concurrent edits queue, none after approval
        note = repo.claim_note(session=session, note_id=note.id)
    except NoteLocked:
        raise NoteLocked("This note is approved and locked; it cannot be edited.") from None
    rev = repo.add_revision(session=session, note_id=note.id, body=body, author_id=user.id)
    audit(session, request, user, "note.edit", "note", note.id, revision=rev.number)
    return _view(
        session, note, body, reidentified=False, expires=expiry_view(session, settings, rec)
    )


@router.post(
    "/{note_id}/approve",
    response_model=schemas.NoteView,
    summary="Approve (locks)",
    responses=schemas.error_responses(409),
)
def approve_note(
    note_id: str, request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> schemas.NoteView:
    note, rec = load_note(session, note_id, user, "note.approve")
    # The note's write lock first: concurrent approvals and edits queue here, and whoever comes
    # second finds the note approved (409 note_approved) instead of approving or editing it.
    try:
        note = repo.claim_note(session=session, note_id=note.id)
    except NoteLocked:
        raise NoteLocked("This note is already approved.") from None
    final = repo.latest_body(session=session, note_id=note.id)
    distance = notes.edit_distance(repo.ai_draft_body(note), final)
    repo.approve_note(session=session, note_id=note.id, user_id=user.id, edit_distance=distance)
    audit(session, request, user, "note.approve", "note", note.id, edit_distance=distance)
    session.flush()
    return _view(
        session, note, final, reidentified=False, expires=expiry_view(session, settings, rec)
    )


@router.get("/{note_id}/export", summary="Export for the case management system")
def export_note(
    note_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    format: ExportFormat = "md",
    reidentify: bool = Query(False, description="owner only: real names"),
) -> Response:
    note, rec = load_note(session, note_id, user, "note.export")
    body = body_for(session, note, rec, user, reidentify)
    provenance = repo.note_provenance(note)
    meta = {
        "note_id": note.id,
        "status": note.status,
        "template": note.template,
        "template_version": note.template_version,
        "visit_date": rec.visit_date.isoformat() if rec.visit_date else None,
        "visit_type": rec.visit_type,
        "approved_at": note.approved_at.isoformat() if note.approved_at else None,
        "model": provenance.get("model"),
        "prompt_sha256": provenance.get("prompt_sha256"),
    }
    content, media_type = notes.export(body, format, title="Visit record", meta=meta)
    audit(
        session,
        request,
        user,
        "note.export",
        "note",
        note.id,
        format=format,
        reidentified=reidentify,
    )
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="note-{note.id}.{format}"'},
    )
