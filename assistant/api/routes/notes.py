"""/v1/notes: list, read, edit (new revision; the AI draft is kept), approve (locks), export.

``load_note`` and ``body_for`` (and the approve and export routes, called as functions) are
shared with the web app's pages. Statement-level edits and safeguarding confirmations are in
``routes.statements``."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from assistant import notes
from assistant.api import schemas
from assistant.api.deps import (
    CurrentUser,
    LexiconDep,
    SessionDep,
    SettingsDep,
    audit,
)
from assistant.api.note_access import (
    approval_record,
    body_for,
    load_note,
    note_view,
    safeguarding,
    save_sections,
)
from assistant.errors import NoteLocked, SafeguardingUnconfirmed
from assistant.notes import ChangeRecord, NoteBody
from assistant.review import Lexicon
from assistant.storage import Note, Recording, User, repo

ExportFormat = Literal["md", "txt", "json", "docx"]
NoteStatus = Literal["draft", "approved"]

router = APIRouter(prefix="/v1/notes", tags=["notes"], responses=schemas.V1_ERRORS)

__all__ = ["approve", "approve_note", "body_for", "export_note", "load_note", "router"]


@router.get("", response_model=schemas.NoteList, summary="List notes")
def list_notes(
    user: CurrentUser,
    session: SessionDep,
    status: NoteStatus | None = None,
    visit_type: str | None = Query(None, max_length=64, description="exact, any case"),
    visit_from: date | None = Query(None, description="visit date on or after"),
    visit_to: date | None = Query(None, description="visit date on or before"),
    q: str | None = Query(
        None,
        max_length=64,
        description="part of an id, the template or the visit type (never content)",
    ),
    page: int = Query(1, ge=1, le=schemas.MAX_PAGE),
    per_page: int = Query(20, ge=1, le=100),
) -> schemas.NoteList:
    """The notes you may read, newest first: your own; a manager's, also their team's (every
    user's for a manager with no team). Metadata only (no content, so no audit event)."""
    where = repo.ListFilter(
        visit_type=visit_type, status=status, visit_from=visit_from, visit_to=visit_to, text=q
    )
    rows, total = repo.page_notes(
        session=session, user=user, where=where, offset=(page - 1) * per_page, limit=per_page
    )
    return schemas.NoteList(
        page=page,
        per_page=per_page,
        total=total,
        items=[
            schemas.NoteSummary(
                note_id=note.id,
                recording_id=rec.id,
                status=note.status,
                template=note.template,
                visit_type=rec.visit_type,
                visit_date=rec.visit_date,
                created_at=note.created_at,
                approved_at=note.approved_at,
            )
            for note, rec in rows
        ],
    )


@router.get("/{note_id}", response_model=schemas.NoteView, summary="Read a note")
def get_note(
    note_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    lexicon: LexiconDep,
    reidentify: bool = Query(False, description="owner only: show real names"),
) -> schemas.NoteView:
    note, rec = load_note(session, note_id, user, "note.view")
    body = body_for(session, note, rec, user, reidentify)
    audit(session, request, user, "note.view", "note", note.id, reidentified=reidentify)
    return note_view(
        session,
        settings,
        note,
        rec,
        body,
        lexicon,
        reidentified=reidentify,
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
    lexicon: LexiconDep,
) -> schemas.NoteView:
    """Replace the note's content with ``sections``: a new revision. Earlier revisions,
    including the AI draft (revision 1), are kept. An approved note cannot be edited."""
    note, rec = load_note(session, note_id, user, "note.edit")
    sections = [s.model_dump(mode="json") for s in edit.sections]
    body = save_sections(session, request, user, settings, note, rec, sections, op="replace")
    return note_view(session, settings, note, rec, body, lexicon, reidentified=False)


@router.post(
    "/{note_id}/approve",
    response_model=schemas.NoteView,
    summary="Approve (locks)",
    responses=schemas.error_responses(409),
)
def approve_note(
    note_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    lexicon: LexiconDep,
) -> schemas.NoteView:
    """Lock the note. Refused (409 ``safeguarding_unconfirmed``) while a statement that
    raises a safeguarding category is not confirmed. The approval records which AI statements
    were kept unchanged, edited or removed (``approval``). The API asks for no declaration
    (the web form's "I have checked this note against the recording"): its audit event says
    so (``via: api``, ``declaration: null``)."""
    note, rec = load_note(session, note_id, user, "note.approve")
    final, _record = approve(session, request, user, note, lexicon, via="api", declaration=None)
    return note_view(session, settings, note, rec, final, lexicon, reidentified=False)


def approve(
    session: Session,
    request: Request,
    user: User,
    note: Note,
    lexicon: Lexicon,
    *,
    via: Literal["api", "web"],
    declaration: str | None,
) -> tuple[NoteBody, ChangeRecord]:
    """Approve ``note``; its ``note.approve`` audit event records where the approval came
    from (``via``) and what the approver declared (``declaration``: an id naming the words
    they ticked, or None where they were asked for none)."""
    # The note's write lock first: concurrent approvals and edits queue here, and whoever comes
    # second finds the note approved (409 note_approved) instead of approving or editing it.
    try:
        note = repo.claim_note(session=session, note_id=note.id)
    except NoteLocked:
        raise NoteLocked("This note is already approved.") from None
    flagged = safeguarding(session, note, lexicon)
    pending = sum(not f.confirmed for f in flagged)
    if pending:
        raise SafeguardingUnconfirmed(
            f"{pending} of {len(flagged)} statement(s) raising a safeguarding concern "
            f"{'is' if pending == 1 else 'are'} not confirmed yet: confirm each one before "
            "approving the note."
        )
    latest = repo.latest_revision(session=session, note_id=note.id)
    final = NoteBody.from_json(latest.body)
    ai = repo.ai_draft_body(note)
    distance = notes.edit_distance(ai, final)
    record = notes.compare(ai, final, revision=latest.number)
    repo.approve_note(
        session=session,
        note_id=note.id,
        user_id=user.id,
        edit_distance=distance,
        approval_record=record,
    )
    audit(
        session,
        request,
        user,
        "note.approve",
        "note",
        note.id,
        edit_distance=distance,
        revision=latest.number,
        safeguarding_confirmed=len(flagged),
        via=via,
        declaration=declaration,
        **record.counts(),
    )
    session.flush()
    return final, record


@router.get(
    "/{note_id}/export",
    summary="Export for the case management system",
    responses={200: {"content": {m: {} for m in notes.EXPORT_FORMATS.values()}}},
)
def export_note(
    note_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    format: ExportFormat = Query("md", description="md, txt, json or docx (Word)"),
    reidentify: bool = Query(False, description="owner only: real names"),
) -> Response:
    """The note as it reads now. JSON carries the approval record (which AI statements were
    kept, edited or removed); Word has the provenance in its page footer."""
    note, rec = load_note(session, note_id, user, "note.export")
    body = body_for(session, note, rec, user, reidentify)
    record = approval_record(note)
    content, media_type = notes.export(
        body,
        format,
        title="Visit record",
        meta=export_meta(note, rec),
        approval=record.model_dump(mode="json") if record else None,
        footer=provenance_footer(session, note, record),
    )
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
    # both versions are downloaded from one page: the one with real names says so in its
    # name, so it is not filed or sent as the one without
    stem = f"note-{note.id}-real-names" if reidentify else f"note-{note.id}"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{stem}.{format}"'},
    )


def export_meta(note: Note, rec: Recording) -> dict[str, str | None]:
    provenance = repo.note_provenance(note)
    model = provenance.get("model")
    return {
        "note_id": note.id,
        "status": note.status,
        "template": note.template,
        "template_version": note.template_version,
        "visit_date": rec.visit_date.isoformat() if rec.visit_date else None,
        "visit_type": rec.visit_type,
        "approved_at": note.approved_at.isoformat() if note.approved_at else None,
        "model": model,
        "prompt_sha256": provenance.get("prompt_sha256"),
    }


def provenance_footer(session: Session, note: Note, record: ChangeRecord | None) -> list[str]:
    """The Word document's footer lines: how the draft was made, and its approval."""
    provenance = repo.note_provenance(note)
    model = provenance.get("model") or {}
    made = f"Drafted by AI ({model.get('name', 'unknown model')}"
    if model.get("sha256"):
        made += f", sha256 {str(model['sha256'])[:12]}"
    made += f"), template {note.template} {note.template_version}"
    if provenance.get("prompt_sha256"):
        made += f", prompt sha256 {str(provenance['prompt_sha256'])[:12]}"
    lines = [made + f". Note {note.id}."]
    if note.approved_at and record:
        approver = repo.get_user(session=session, user_id=note.approved_by or "").name
        lines.append(
            f"Approved by {approver} on {note.approved_at:%-d %B %Y %H:%M} UTC. AI statements: "
            f"{record.kept} kept, {record.edited} edited, {record.removed} removed; "
            f"{record.added} added by the practitioner."
        )
    else:
        lines.append("Draft: not approved. Check every statement against its evidence.")
    return lines
