"""Edit a note statement by statement, and the changes from the AI draft.

Plain forms, one per statement (save, move up or down, move to another section, remove) and
one per section (add): no script needed. Each form posts to the API's statement routes (called
as functions), so every save is one revision, audited, refused whole on bad input; the form
carries the revision it was drawn from, so a save from a stale page is refused (the page again,
with what was typed), never applied to the wrong statement.

Statements are edited as stored, with placeholders for names (``[PERSON_1]``): a real name
typed here would be stored unredacted. The owner sees which name each placeholder stands for.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from assistant import notes
from assistant.api import schemas
from assistant.api.deps import LexiconDep, SessionDep, SettingsDep, audit, may
from assistant.api.note_access import approval_record, editable_body, load_note
from assistant.api.routes import statements as statements_api
from assistant.domain import Statement, StatementKind
from assistant.errors import BadInput, CaseAssistError
from assistant.settings import Settings
from assistant.storage import User, repo
from assistant.web.render import render
from assistant.web.routes.review import KIND_LABELS
from assistant.web.security import PageUser, check_csrf

router = APIRouter(include_in_schema=False)

#: The form's buttons (``action``) -> the change they make.
ACTIONS = ("save", "up", "down", "remove")
#: The page's own errors for the API's validation failures (pydantic's words are for coders).
TEXT_PROBLEM = "Enter the statement's text (at most 5000 characters)."


def _kinds() -> list[tuple[str, str]]:
    return [(k.value, KIND_LABELS[k.value]) for k in StatementKind]


def edit_context(
    note_id: str,
    user: User,
    session: Session,
    settings: Settings,
    request: Request,
) -> dict[str, Any]:
    note, rec = load_note(session, note_id, user, "note.edit")
    body = editable_body(session, settings, note)
    mapping = repo.load_mapping(session=session, recording_id=rec.id)
    audit(session, request, user, "note.view", "note", note.id, reidentified=False, via="edit")
    revision = repo.latest_revision(session=session, note_id=note.id).number
    # where each cited segment starts: segment ids ("s0004") mean nothing to a practitioner
    redacted = repo.find_transcript(session=session, recording_id=rec.id, kind="redacted")
    starts = {seg.id: seg.start for seg in redacted.segments} if redacted else {}
    sections = [
        {
            "key": sec.key,
            "title": sec.title,
            "statements": [
                {
                    "index": i,
                    "anchor": f"edit-{sec.key}-{i}",
                    "st": st,
                    "times": sorted({starts[e] for e in st.evidence if e in starts}),
                }
                for i, st in enumerate(sec.statements)
            ],
        }
        for sec in body.sections
    ]
    return {
        "note": note,
        "rec": rec,
        "sections": sections,
        "section_choices": [(s.key, s.title) for s in body.sections],
        "kinds": _kinds(),
        "revision": revision,
        "names": sorted(mapping.entries.items()),
        "typed": {},
    }


@router.get("/notes/{note_id}/edit")
def edit_page(
    note_id: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    note, _ = load_note(session, note_id, user, "note.edit")
    if note.status != "draft":
        # an approved note changes no more: its edit forms (reached with Back after approving,
        # or a bookmark) would each only be refused, so show the locked note instead
        return RedirectResponse(f"/notes/{note_id}", status_code=303)
    return render(request, "edit.html", edit_context(note_id, user, session, settings, request))


def _again(
    request: Request,
    session: Session,
    user: User,
    settings: Settings,
    note_id: str,
    exc: CaseAssistError,
    field: str,
    typed: dict[str, str],
) -> Response:
    """The edit page again (nothing saved), saying what was wrong, keeping what was typed."""
    session.rollback()
    context = edit_context(note_id, user, session, settings, request)
    context.update(error=exc.message, field=field, typed=typed)
    return render(request, "edit.html", context, status_code=exc.http_status)


@router.post("/notes/{note_id}/edit/{section}/{index}")
def change(
    note_id: str,
    section: str,
    index: int,
    request: Request,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    lexicon: LexiconDep,
    csrf_token: str = Form(""),
    revision: int | None = Form(None),
    action: str = Form("save"),
    text: str = Form(""),
    kind: str = Form(StatementKind.REPORTED.value),
    move_to: str = Form(""),
) -> Response:
    """One statement's form: save its words, kind and section; move it up or down; remove it."""
    check_csrf(request, csrf_token)
    anchor = f"edit-{section}-{index}"
    try:
        if action not in ACTIONS:
            raise BadInput(f"Unknown action; use one of {', '.join(ACTIONS)}.")
        if action == "remove":
            statements_api.remove_statement(
                note_id, section, index, request, user, session, settings, lexicon, revision
            )
        else:
            statements_api.change_statement(
                note_id,
                section,
                index,
                _change(action, index, text, kind, move_to, section),
                request,
                user,
                session,
                settings,
                lexicon,
                revision,
            )
    except CaseAssistError as exc:
        if exc.code in ("csrf_rejected", "not_found"):
            raise
        return _again(
            request, session, user, settings, note_id, exc, f"text-{anchor}", {anchor: text}
        )
    return RedirectResponse(f"/notes/{note_id}/edit?saved={action}", status_code=303)


def _change(
    action: str, index: int, text: str, kind: str, move_to: str, section: str
) -> schemas.StatementChange:
    if action == "up":
        return schemas.StatementChange(position=max(index - 1, 0))
    if action == "down":
        return schemas.StatementChange(position=index + 1)
    fields: dict[str, Any] = {"text": _text(text), "kind": _kind(kind)}
    if move_to and move_to != section:
        fields["section"] = move_to
    return schemas.StatementChange.model_validate(fields)


def _text(text: str) -> str:
    if not text.strip() or len(text.strip()) > 5000:
        raise BadInput(TEXT_PROBLEM, code="invalid_edit", http_status=422)
    return text.strip()


def _kind(kind: str) -> str:
    if kind not in {k.value for k in StatementKind}:
        raise BadInput(
            "Choose what kind of statement this is.", code="invalid_edit", http_status=422
        )
    return kind


@router.post("/notes/{note_id}/edit/{section}")
def add(
    note_id: str,
    section: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    lexicon: LexiconDep,
    csrf_token: str = Form(""),
    revision: int | None = Form(None),
    text: str = Form(""),
    kind: str = Form(StatementKind.REPORTED.value),
) -> Response:
    """A section's form: add a statement at its end."""
    check_csrf(request, csrf_token)
    anchor = f"add-{section}"
    try:
        new = schemas.StatementAdd.model_validate(
            {"section": section, "text": _text(text), "kind": _kind(kind)}
        )
        statements_api.add_statement(
            note_id, new, request, user, session, settings, lexicon, revision
        )
    except CaseAssistError as exc:
        if exc.code in ("csrf_rejected", "not_found"):
            raise
        return _again(
            request, session, user, settings, note_id, exc, f"text-{anchor}", {anchor: text}
        )
    return RedirectResponse(f"/notes/{note_id}/edit?saved=add", status_code=303)


@router.get("/notes/{note_id}/changes")
def changes_page(note_id: str, request: Request, user: PageUser, session: SessionDep) -> Response:
    """Each AI statement kept, edited or removed, and those added: the approval record once
    approved (the approved revision never changes), the latest revision before."""
    note, rec = load_note(session, note_id, user, "note.view")
    latest = repo.latest_revision(session=session, note_id=note.id)
    ai = repo.ai_draft_body(note)
    final = notes.NoteBody.from_json(latest.body)
    record = approval_record(note) or notes.compare(ai, final, revision=latest.number)
    audit(session, request, user, "note.view", "note", note.id, reidentified=False, via="changes")
    titles = {s.key: s.title for s in final.sections} | {s.key: s.title for s in ai.sections}

    def statement(body: notes.NoteBody, section: str, index: int) -> Statement:
        return next(s for s in body.sections if s.key == section).statements[index]

    def text(body: notes.NoteBody, section: str, index: int) -> str:
        return statement(body, section, index).text

    rows = [
        {
            "fate": fate,
            "ai_text": text(ai, fate.ai.section, fate.ai.index),
            "now_text": text(final, fate.now.section, fate.now.index) if fate.now else None,
            "ai_title": titles.get(fate.ai.section, fate.ai.section),
            "now_title": titles.get(fate.now.section, fate.now.section) if fate.now else None,
            "what": _what_changed(
                statement(ai, fate.ai.section, fate.ai.index),
                statement(final, fate.now.section, fate.now.index),
            )
            if fate.now and fate.outcome == "edited"
            else [],
        }
        for fate in record.statements
    ]
    added = [
        {"title": titles.get(p.section, p.section), "text": text(final, p.section, p.index)}
        for p in record.added_statements
    ]
    return render(
        request,
        "changes.html",
        {
            "note": note,
            "rec": rec,
            "record": record,
            "rows": rows,
            "added": added,
            "may_edit": note.status == "draft" and may("note.edit", user, owner_id=rec.owner_id),
        },
    )


def _what_changed(ai: Statement, now: Statement) -> list[str]:
    """What of an edited statement changed besides its words: an edit that left the words as
    they were (its speaker corrected on the Speakers page, its kind) read as "Edited" beside
    two identical texts."""
    what = []
    if now.speaker != ai.speaker:
        what.append(f"Speaker: {now.speaker or 'none'} (was {ai.speaker or 'none'})")
    if now.kind != ai.kind:
        what.append(f"Kind: {KIND_LABELS[now.kind.value]} (was {KIND_LABELS[ai.kind.value]})")
    if now.evidence != ai.evidence:
        what.append("Evidence changed")
    return what
