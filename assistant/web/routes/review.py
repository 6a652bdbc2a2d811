"""Review a note beside its transcript and recording; confirm its safeguarding statements;
approve it; export it.

The owner sees real names (the note re-identified, the raw transcript) and hears the audio; a
manager reading someone else's note sees the placeholders and the redacted transcript, as the
API shows them."""

from __future__ import annotations

import re
from typing import Any, cast

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from assistant.api.deps import LexiconDep, SessionDep, SettingsDep, audit, may
from assistant.api.note_access import approval_record, safeguarding
from assistant.api.routes import notes as notes_api
from assistant.api.routes import statements as statements_api
from assistant.domain import HeaderField, RedactedSegment, Segment
from assistant.errors import BadInput, NoteLocked, NotFound, SafeguardingUnconfirmed
from assistant.notes import EXPORT_FORMATS, FlaggedStatement, NoteBody
from assistant.notes.flags import flag_label
from assistant.notes.render import attributed_text, render_section_text
from assistant.review import Lexicon
from assistant.storage import User, repo
from assistant.web.render import render
from assistant.web.routes.speakers import has_speakers
from assistant.web.security import PageUser, check_csrf

router = APIRouter(include_in_schema=False)

KIND_LABELS = {
    "observed": "Observed",
    "reported": "Reported",
    "opinion": "Opinion",
    "agreed_action": "Agreed action",
    "direct_quote": "Direct quote",
}


@router.get("/notes/{note_id}")
def review_page(
    note_id: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    lexicon: LexiconDep,
) -> Response:
    return render(request, "review.html", review_context(note_id, request, user, session, lexicon))


def review_context(
    note_id: str,
    request: Request,
    user: User,
    session: Session,
    lexicon: Lexicon,
) -> dict[str, Any]:
    note, rec = notes_api.load_note(session, note_id, user, "note.view")
    owner = rec.owner_id == user.id
    body = notes_api.body_for(session, note, rec, user, owner)
    kind = "raw" if owner else "redacted"
    transcript = repo.find_transcript(session=session, recording_id=rec.id, kind=kind)
    segments: list[Segment | RedactedSegment] = list(transcript.segments) if transcript else []
    audit(session, request, user, "note.view", "note", note.id, reidentified=owner)
    if transcript is not None:
        audit(session, request, user, "transcript.view", "recording", rec.id, kind=kind)
    revisions = repo.list_revisions(session=session, note_id=note.id)
    draft = note.status == "draft"
    flagged = {(f.section, f.index): f for f in safeguarding(session, note, lexicon)}
    review = repo.note_review(note) or {}
    starts = {s.id: s.start for s in segments}
    return {
        "note": note,
        "rec": rec,
        "owner": owner,
        "header": [_header_row(h, starts) for h in body.header],
        "sections": _sections(body, starts, flagged, review.get("removed_claims", ()), owner),
        "omissions": _omissions(review.get("possible_omissions", ()), starts),
        "speakers": has_speakers(session, rec, user),
        "segments": [{"seg": seg, "parts": unsure_parts(seg)} for seg in segments],
        "revision": revisions[-1].number,
        "may_approve": draft and may("note.approve", user, owner_id=rec.owner_id),
        "may_edit": draft and may("note.edit", user, owner_id=rec.owner_id),
        "may_erase": may("recording.erase", user, owner_id=rec.owner_id),
        "pending": sum(not f.confirmed for f in flagged.values()),
        "approval": approval_record(note),
        "audio": may("recording.audio", user, owner_id=rec.owner_id) and bool(rec.audio_path),
        "formats": EXPORT_FORMATS,
    }


def _header_row(field: HeaderField, starts: dict[str, float]) -> dict[str, Any]:
    """A header line with where its evidence starts, played like a statement's: segment ids
    ("[s0001]") mean nothing to a practitioner reading the page."""
    cited = [e for e in field.evidence if e in starts]
    return {
        "title": field.title,
        "value": field.value,
        "evidence": cited,
        "start": min((starts[e] for e in cited), default=None),
    }


def _omissions(found: Any, starts: dict[str, float]) -> list[dict[str, Any]]:
    """Safeguarding categories the recording raises that no statement of the note mentions
    (the review's ``possible_omissions``), each with where it is said, to listen to."""
    out = []
    for item in found or ():
        cited = [e for e in item.get("segment_ids", ()) if e in starts]
        out.append(
            {
                "label": item.get("label") or str(item.get("category", "")).replace("_", " "),
                "segments": cited,
                "start": min((starts[e] for e in cited), default=None),
            }
        )
    return out


LOW_CONFIDENCE = 0.5
"""A word the recogniser gave less than this probability is marked in the owner's transcript
(the redactor's threshold for ``low_confidence_words``)."""


def unsure_parts(seg: Segment | RedactedSegment) -> list[tuple[str, bool]]:
    """The segment's text as (piece, unsure) parts: the words Whisper was unsure of marked,
    the rest as said. From the word probabilities of a raw segment, or the redacted
    segment's ``low_confidence_words``."""
    if isinstance(seg, Segment):
        unsure = {
            w.text.strip().strip(".,!?;:").casefold()
            for w in seg.words
            if w.probability < LOW_CONFIDENCE
        }
    else:
        unsure = {w.casefold() for w in seg.low_confidence_words}
    unsure.discard("")
    if not unsure:
        return [(seg.text, False)]
    parts: list[tuple[str, bool]] = []
    for piece in re.split(r"(\s+)", seg.text):
        word = piece.strip(".,!?;:\"'“”‘’()").casefold()
        mark = bool(word) and word in unsure
        if parts and parts[-1][1] == mark and not mark:
            parts[-1] = (parts[-1][0] + piece, False)
        else:
            parts.append((piece, mark))
    return parts


def _sections(
    body: NoteBody,
    starts: dict[str, float],
    flagged: dict[tuple[str, int], FlaggedStatement],
    removed: Any = (),
    owner: bool = False,
) -> list[dict[str, Any]]:
    """Each statement with where its evidence starts in the recording (the earliest cited
    segment), for the player to seek to, and its safeguarding categories if it raises any;
    and, for the owner, the AI statements the safeguarding gate removed from that section."""
    gone: dict[str, list[dict[str, Any]]] = {}
    for claim in removed or () if owner else ():
        st = claim.get("statement") or {}
        gone.setdefault(claim.get("section", ""), []).append(
            {
                "text": st.get("text", ""),
                "categories": [str(c).replace("_", " ") for c in claim.get("categories", ())],
            }
        )
    out = []
    for number, section in enumerate(body.sections):
        statements = []
        for index, st in enumerate(section.statements):
            cited = [starts[e] for e in st.evidence if e in starts]
            flag = flagged.get((section.key, index))
            statements.append(
                {
                    "anchor": f"st-{number}-{index}",
                    "index": index,
                    # a note-style body reads as written: "Mum said: “...”", actions as rows
                    "text": attributed_text(st) if body.header else st.text,
                    "kind": KIND_LABELS.get(st.kind.value, st.kind.value),
                    "speaker": st.speaker,
                    "flags": [flag_label(f) for f in st.flags],
                    "evidence": [e for e in st.evidence if e in starts],
                    "start": min(cited) if cited else None,
                    "categories": [c.replace("_", " ") for c in flag.categories] if flag else [],
                    "confirmed": bool(flag and flag.confirmed),
                }
            )
        out.append(
            {
                "key": section.key,
                "title": section.title,
                "statements": statements,
                # what "Copy this section" copies: the txt export's lines for this section
                "copy_text": render_section_text(body, section.key),
                "removed": gone.get(section.key, []),
            }
        )
    return out


@router.post("/notes/{note_id}/confirm/{section}/{index}")
def confirm(
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
    anchor: str = Form(""),
) -> Response:
    """The API's confirmation of one safeguarding statement, then back to it."""
    check_csrf(request, csrf_token)
    statements_api.confirm_statement(
        note_id, section, index, request, user, session, settings, lexicon, revision
    )
    target = f"#{anchor}" if anchor.startswith("st-") and anchor.replace("-", "").isalnum() else ""
    return RedirectResponse(f"/notes/{note_id}?confirmed=1{target}", status_code=303)


#: What ticking the approval form's box declares, as its ``note.approve`` audit event records it:
#: "I have checked this note against the recording and it is an accurate record".
DECLARATION = "checked_against_recording_and_accurate"
DECLARATION_MISSING = (
    "Tick the box to confirm that you have checked this note against the recording and it "
    "is an accurate record."
)


def _pending_words(pending: int) -> str:
    """What to do while ``pending`` safeguarding statements are unconfirmed."""
    return (
        f"{pending} statement{'s' if pending != 1 else ''} raising a safeguarding concern "
        f"{'is' if pending == 1 else 'are'} not confirmed yet: confirm each one before approving."
    )


@router.post("/notes/{note_id}/approve")
def approve(
    note_id: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    lexicon: LexiconDep,
    csrf_token: str = Form(""),
    declaration: str = Form(""),
) -> Response:
    """The API's approval (the note's write lock, the safeguarding confirmations, the approval
    record, the audit event), once the practitioner ticks the declaration that they checked
    the note against the recording. Refused without it, or while a safeguarding statement is
    unconfirmed: the page again, the note still a draft, saying what to do (both at once)."""
    check_csrf(request, csrf_token)
    if declaration != "yes":
        # not theirs to approve (404), or approved already (409): as the API answers
        note, _rec = notes_api.load_note(session, note_id, user, "note.approve")
        if note.status != "draft":
            raise NoteLocked("This note is already approved.")
        context = review_context(note_id, request, user, session, lexicon)
        errors = [("declaration", DECLARATION_MISSING)]
        if context["pending"]:
            errors.insert(0, ("safeguarding-pending", _pending_words(context["pending"])))
        context.update(errors=errors)
        return render(request, "review.html", context, status_code=400)
    try:
        note, _rec = notes_api.load_note(session, note_id, user, "note.approve")
        notes_api.approve(session, request, user, note, lexicon, via="web", declaration=DECLARATION)
    except SafeguardingUnconfirmed as exc:
        session.rollback()
        context = review_context(note_id, request, user, session, lexicon)
        # the page's own words (the API's say "statement(s)"); the declaration stays ticked
        problem = _pending_words(context["pending"]) if context["pending"] else exc.message
        context.update(error=problem, field="safeguarding-pending", declared=True)
        return render(request, "review.html", context, status_code=exc.http_status)
    return RedirectResponse(f"/notes/{note_id}?approved=1", status_code=303)


@router.get("/notes/{note_id}/export")
def export(
    note_id: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    format: str = "md",
    names: bool = False,
) -> Response:
    """The API's export, as a download; ``names`` (owner only) puts the real names back."""
    if format not in EXPORT_FORMATS:
        # a person reads this page: the formats as the export buttons name them
        raise BadInput(
            "There is no such download. Choose one on the note's page: Word, Markdown, "
            "plain text or JSON."
        )
    return notes_api.export_note(
        note_id,
        request,
        user,
        session,
        format=cast(notes_api.ExportFormat, format),
        reidentify=names,
    )


@router.get("/notes/{note_id}/sections/{section}/text")
def section_text(
    note_id: str, section: str, request: Request, user: PageUser, session: SessionDep
) -> Response:
    """One section as plain text, as the review page shows it (the owner: real names): what
    "Copy this section" copies, for a browser without JavaScript. Audited as an export."""
    note, rec = notes_api.load_note(session, note_id, user, "note.export")
    owner = may("note.reidentify", user, owner_id=rec.owner_id)
    body = notes_api.body_for(session, note, rec, user, owner)
    try:
        text = render_section_text(body, section)
    except KeyError:
        raise NotFound("This note has no such section.", code="no_such_section") from None
    audit(
        session, request, user, "note.export", "note", note.id,
        format="txt", section=section, reidentified=owner,
    )  # fmt: skip
    return PlainTextResponse(text)
