"""Speakers: each speaker the speaker separation found, with a short clip of them to play, a
few of their words and the role suggested for them, to confirm or change (owner only).

Saving calls the API's own ``PUT /v1/recordings/{id}/speakers`` (``put_speakers``): the
transcripts relabelled, each note's statements re-attributed in a new revision, one
``speakers.edit`` audit event. The form carries a fingerprint of the speakers it was drawn
from, so a save from a stale page (roles changed meanwhile in another tab) changes nothing."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from assistant.api import schemas
from assistant.api.deps import SessionDep, audit, may
from assistant.api.routes.recordings import load_recording
from assistant.api.routes.speakers import SAMPLES, put_speakers
from assistant.diarisation import ROLES, speakers_of
from assistant.diarisation.roles import DISPLAY
from assistant.domain import RedactedSegment, Segment, Transcript
from assistant.errors import BadInput, CaseAssistError, NotFound
from assistant.storage import Recording, User, repo
from assistant.web.render import render
from assistant.web.security import CSRF_FIELD, PageUser, check_csrf

router = APIRouter(include_in_schema=False)

ROLE_LABELS = {**DISPLAY, "other": "Someone else", "unknown": "Not sure"}
#: A turn this long (words) is "substantial": the clip starts at the first one.
CLIP_MIN_WORDS = 5
#: The clip plays at most this many seconds of that turn.
CLIP_S = 8.0
#: How many words of the speaker the page quotes.
QUOTE_WORDS = 30


class StaleSpeakers(BadInput):
    code = "stale_speakers"
    http_status = 409


def has_speakers(session: Session, rec: Recording, user: User) -> bool:
    """Whether ``user`` may open the recording's Speakers page and it has speakers to show."""
    if not may("speakers.view", user, owner_id=rec.owner_id):
        return False
    raw = repo.find_transcript(session=session, recording_id=rec.id, kind="raw")
    return raw is not None and bool(speakers_of(raw))


def fingerprint(transcript: Transcript) -> str:
    """The speakers as the page shows them (label, role, display, confirmed)."""
    state = [[sp.label, sp.role, sp.display, sp.confirmed] for sp in speakers_of(transcript)]
    return hashlib.sha256(json.dumps(state).encode()).hexdigest()[:16]


def _clip(mine: list[Segment]) -> tuple[float, float] | None:
    """From the speaker's first substantial turn (else their longest), at most ``CLIP_S``."""
    if not mine:
        return None
    turn = next(
        (s for s in mine if len(s.text.split()) >= CLIP_MIN_WORDS),
        max(mine, key=lambda s: s.end - s.start),
    )
    return turn.start, min(turn.end, turn.start + CLIP_S)


def _words(mine: list[RedactedSegment]) -> str:
    """The first few of the speaker's words, from the redacted transcript (placeholders)."""
    words = " ".join(s.text for s in mine[:SAMPLES]).split()
    return " ".join(words[:QUOTE_WORDS]) + (" …" if len(words) > QUOTE_WORDS else "")


def speakers_context(session: Session, rec: Recording, user: User) -> dict[str, Any]:
    raw = repo.find_transcript(session=session, recording_id=rec.id, kind="raw")
    if raw is None:
        raise NotFound("The transcript is not ready yet.", code="not_ready")
    redacted = repo.find_transcript(session=session, recording_id=rec.id, kind="redacted")
    red_segments = list(redacted.segments) if redacted else []
    rows = []
    for number, sp in enumerate(speakers_of(raw), start=1):
        mine = [s for s in raw.segments if s.speaker == sp.display]
        ids = {s.id for s in mine}
        clip = _clip(mine)
        rows.append(
            {
                "n": number,
                "label": sp.label,
                "role": sp.role,
                "display": sp.display,
                "confidence": int(round(100 * sp.confidence)),
                "confirmed": sp.confirmed,
                "by_voice": sp.by_voice,
                "turns": len(mine),
                "talk_time": sum(s.end - s.start for s in mine),
                "clip": clip,
                "words": _words([s for s in red_segments if s.id in ids]),
            }
        )
    notes = repo.notes_for_recording(session=session, recording_id=rec.id)
    note = notes[-1] if notes else None
    return {
        "rec": rec,
        "speakers": rows,
        "roles": [(r, ROLE_LABELS[r]) for r in ROLES],
        "version": fingerprint(raw),
        "locked": any(n.status == "approved" for n in notes),
        "note": note,
        "audio": may("recording.audio", user, owner_id=rec.owner_id) and bool(rec.audio_path),
        "diarised": raw.diarisation is not None,
        # the owner's enrolled voice: None (not enrolled then), recognised or not
        "voice": raw.diarisation.voice if raw.diarisation else None,
    }


@router.get("/visits/{recording_id}/speakers")
def speakers_page(
    recording_id: str, request: Request, user: PageUser, session: SessionDep
) -> Response:
    rec = load_recording(session, recording_id, user, "speakers.view")
    context = speakers_context(session, rec, user)
    audit(session, request, user, "speakers.view", "recording", rec.id)
    if any(sp["words"] for sp in context["speakers"]):  # words quoted from the transcript
        audit(session, request, user, "transcript.view", "recording", rec.id, kind="redacted")
    return render(request, "speakers.html", context)


@router.post("/visits/{recording_id}/speakers")
async def save_speakers(
    recording_id: str, request: Request, user: PageUser, session: SessionDep
) -> Response:
    """Every speaker's role as chosen (each then confirmed), through the API's PUT. Refused
    with the page again and nothing changed: a role not in the list, a speaker the recording
    lacks, a stale page, a recording whose note is approved."""
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD) or ""))
    rec = load_recording(session, recording_id, user, "speakers.edit")
    chosen = {
        str(k).removeprefix("role-"): str(v) for k, v in form.multi_items() if k.startswith("role-")
    }
    try:
        raw = repo.find_transcript(session=session, recording_id=rec.id, kind="raw")
        if raw is not None and form.get("version") != fingerprint(raw):
            raise StaleSpeakers(
                "The speakers' roles were changed since this page was opened (perhaps in "
                "another tab). Nothing was saved: check the roles below and save again."
            )
        bad = sorted(label for label, role in chosen.items() if role not in ROLES)
        if bad:
            raise BadInput(
                f"Choose a role from the list for {', '.join(bad)}.",
                code="unknown_role",
                http_status=422,
            )
        try:
            edit = schemas.SpeakersEdit(
                speakers=[schemas.SpeakerChange(label=k, role=v) for k, v in chosen.items()]
            )
        except ValidationError:
            raise BadInput("Choose a role for each speaker.", code="no_roles") from None
        updated = put_speakers(rec.id, edit, request, user, session)
    except CaseAssistError as exc:
        session.rollback()
        context = speakers_context(session, rec, user)
        known = [sp["label"] for sp in context["speakers"]]
        context.update(error=exc.message, field=_field(exc, chosen, known))
        return render(request, "speakers.html", context, status_code=exc.http_status)
    moved = sum(n["statements_reattributed"] for n in updated.notes)
    return RedirectResponse(f"/visits/{rec.id}/speakers?saved={moved}", status_code=303)


def _field(exc: CaseAssistError, chosen: dict[str, str], known: list[str]) -> str:
    """The first select on the page the error is about (the error summary links to it)."""
    for label in known:
        if label in chosen and (chosen[label] not in ROLES or f"{label}." in exc.message):
            return f"role-{label}"
    return "speakers-form"
