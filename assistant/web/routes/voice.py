"""Your voice: enrol a short sample of your own voice so that you are recognised as the social
worker in your recordings, see whether you have, and delete it.

The form posts to the API's own intake (``api.routes.voice.enrol_voice``: the sample streamed
encrypted, checked, only its embedding kept) and erasure (``api.routes.voice.erase``); both are
audited there."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from assistant.api.deps import SessionDep, SettingsDep, audit, may
from assistant.api.routes.voice import enrol_voice, erase, voice_view
from assistant.diarisation import MAX_SAMPLE_S, MIN_SPEECH_S
from assistant.errors import CaseAssistError
from assistant.storage import User
from assistant.web.render import render
from assistant.web.security import CSRF_FIELD, PageUser, check_csrf

router = APIRouter(include_in_schema=False)


def _context(request: Request, session: Any, user: User) -> dict[str, Any]:
    return {
        "voice": voice_view(session, request, user.id),
        "may_enrol": may("voice.enrol", user, owner_id=user.id),
        "min_speech_s": int(MIN_SPEECH_S),
        "max_sample_s": int(MAX_SAMPLE_S),
    }


@router.get("/voice")
def voice_page(request: Request, user: PageUser, session: SessionDep) -> Response:
    audit(session, request, user, "voice.view", "user", user.id, via="web")
    return render(request, "voice.html", _context(request, session, user))


@router.post("/voice")
async def voice_enrol(
    request: Request, user: PageUser, session: SessionDep, settings: SettingsDep
) -> Response:
    """The sample goes through ``PUT /v1/me/voice``'s intake; a refusal is shown on the page."""

    def check(fields: dict[str, str]) -> None:
        check_csrf(request, fields.get(CSRF_FIELD))

    try:
        await enrol_voice(request, user, session, settings, check_fields=check)
    except CaseAssistError as exc:
        if exc.code in ("csrf_rejected", "forbidden"):
            raise
        context = {**_context(request, session, user), "error": exc.message, "field": "audio"}
        return render(request, "voice.html", context, status_code=exc.http_status)
    return RedirectResponse("/voice?done=enrolled", status_code=303)


@router.post("/voice/delete")
def voice_delete(
    request: Request, user: PageUser, session: SessionDep, csrf_token: str = Form("")
) -> Response:
    check_csrf(request, csrf_token)
    erase(session, request, user, user.id)
    return RedirectResponse("/voice?done=deleted", status_code=303)
