"""/v1/me/voice: a practitioner enrols their own voice, sees whether they have, and erases it;
/v1/users/{id}/voice: an admin erases anyone's (an erasure request).

Enrolment takes a short sample of the signed-in user's own voice through the upload's intake
(streamed to disk encrypted under a throwaway key, probed, decoded) and its bad-input rules,
plus its own: enough speech, not too long. Only the embedding is kept (``diarisation.voice``:
the unit mean of the sample's window embeddings), encrypted (``repo.voices``); the sample is
deleted before the answer, whatever happens. From then on, the speaker of each of the user's
recordings whose voice is near it is the social worker (``pipeline.diarise_transcript``).
Every call is audited with counts only (seconds of speech), never the voice.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from assistant import audio as audio_mod
from assistant.api import schemas
from assistant.api.deps import CurrentUser, SessionDep, SettingsDep, audit, authorize
from assistant.api.upload import receive_upload
from assistant.diarisation import MAX_SAMPLE_S, Diariser
from assistant.errors import NotFound, RecordingTooLong
from assistant.settings import Settings
from assistant.storage import User, repo
from assistant.storage.keys import generate_key

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["voice"], responses=schemas.V1_ERRORS)

#: The sample's size cap (90 s of 48 kHz stereo 24-bit WAV is 26 MB).
MAX_SAMPLE_BYTES = 32 * 1024 * 1024

VOICE_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["audio"],
                    "properties": {
                        "audio": {
                            "type": "string",
                            "format": "binary",
                            "description": "10 to 60 seconds of your own voice, alone: WAV, "
                            "FLAC, MP3, OGG/Opus, M4A/AAC or WebM",
                        }
                    },
                }
            }
        },
    }
}


def voice_view(session: Session, request: Request, user_id: str) -> schemas.VoiceView:
    row = repo.voice_enrolment(session=session, user_id=user_id)
    if row is None:
        return schemas.VoiceView(enrolled=False, usable=False)
    current = request.app.state.engines.models.speaker.sha256
    return schemas.VoiceView(
        enrolled=True,
        enrolled_at=row.created_at,
        speech_s=round(row.speech_s, 1),
        usable=row.model_sha256 == current,
    )


def voice_diariser(request: Request) -> Diariser:
    """The speaker separation's own encoder and windows (a service whose shared-queue workers
    run the stages has none loaded: the encoder is read once, here, on first use)."""
    state = request.app.state
    if state.engines.diariser is not None:
        return state.engines.diariser
    if getattr(state, "voice_diariser", None) is None:
        from assistant.pipeline import load_diariser

        state.voice_diariser = load_diariser(state.settings, state.engines.models)
    return state.voice_diariser


#: Checks a caller adds to the sample's form fields (the web page's CSRF token).
FieldCheck = Callable[[dict[str, str]], None]


async def enrol_voice(
    request: Request,
    user: User,
    session: Session,
    settings: Settings,
    *,
    check_fields: FieldCheck | None = None,
) -> schemas.VoiceView:
    """The one intake of a voice sample, for the API and the web page: receive it encrypted,
    check it (the upload's rules, then enough speech and not too long), keep only its
    embedding (replacing an earlier one) and delete the sample. Committed before it returns."""
    authorize("voice.enrol", user, owner_id=user.id)
    # the key is never stored: a sample left behind by a killed process is unreadable (and
    # removed at the next start with other stale uploads)
    part = settings.uploads_dir / f".voice-{uuid.uuid4().hex}.part"
    key, aad = generate_key(), b"voice-sample"
    sealed = audio_mod.SealedFile(part, key, aad)
    try:
        upload = await receive_upload(
            request,
            part,
            max_bytes=min(settings.max_upload_bytes, MAX_SAMPLE_BYTES),
            seal=(key, aad),
        )
        if check_fields:
            check_fields(upload.fields)
        try:
            info = await run_in_threadpool(audio_mod.probe, sealed, max_duration_s=MAX_SAMPLE_S)
        except RecordingTooLong:
            raise RecordingTooLong(
                f"The voice sample is longer than {MAX_SAMPLE_S:.0f} seconds: record 10 to 60 "
                "seconds of your own voice."
            ) from None
        pcm = await run_in_threadpool(audio_mod.load_pcm16k, sealed)
        diariser = voice_diariser(request)
        voice, speech_s = await run_in_threadpool(
            _voice_print, diariser, pcm, request.app.state.engines.compute_lock
        )
    finally:
        part.unlink(missing_ok=True)
    replaced = repo.voice_enrolment(session=session, user_id=user.id) is not None
    repo.save_voice(
        session=session,
        user_id=user.id,
        embedding=voice,
        model_sha256=diariser.encoder.model_ref.sha256,
        speech_s=speech_s,
    )
    audit(
        session, request, user, "voice.enrol", "user", user.id,
        speech_s=round(speech_s, 1), duration_s=round(info.duration_s, 1), format=info.format,
        replaced=replaced,
    )  # fmt: skip
    session.commit()
    log.info("voice enrolled user=%s speech_s=%.1f", user.id, speech_s)
    return voice_view(session, request, user.id)


def _voice_print(diariser: Diariser, pcm: Any, lock: threading.Lock) -> tuple[Any, float]:
    from assistant.pipeline import sample_voice

    return sample_voice(diariser, pcm, lock=lock)


@router.put(
    "/me/voice",
    response_model=schemas.VoiceView,
    openapi_extra=VOICE_FORM,
    summary="Enrol your own voice, so you are recognised as the social worker",
    responses=schemas.error_responses(400, 413, 415),
)
async def put_voice(
    request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> schemas.VoiceView:
    """A short sample of your own voice (10 to 60 seconds, you alone), as the multipart field
    ``audio``. Only a speaker embedding made from it is kept, encrypted; the sample is not.
    Enrolling again replaces it. Refused, with nothing stored: no file (400
    ``no_audio_file``), not audio (415), too large or longer than 90 seconds (413), silence
    (422 ``no_speech_detected``), less than 8 seconds of speech (422 ``too_little_speech``)."""
    return await enrol_voice(request, user, session, settings)


@router.get(
    "/me/voice", response_model=schemas.VoiceView, summary="Whether you enrolled your voice"
)
def get_voice(request: Request, user: CurrentUser, session: SessionDep) -> schemas.VoiceView:
    """Whether, and when, you enrolled, and the sample's seconds of speech; never the voice."""
    authorize("voice.view", user, owner_id=user.id)
    audit(session, request, user, "voice.view", "user", user.id)
    return voice_view(session, request, user.id)


@router.delete("/me/voice", status_code=204, summary="Erase your enrolled voice")
def delete_voice(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Erase your voice (nothing else is kept of it); 204 whether or not there was one.
    Recordings already processed keep the roles they were given."""
    erase(session, request, user, user.id)
    return Response(status_code=204)


@router.delete(
    "/users/{user_id}/voice", status_code=204, summary="Erase a user's enrolled voice (admin)"
)
def delete_user_voice(
    user_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> Response:
    """An erasure request: the user's voice is erased (204 whether or not there was one); 404
    for no such user. Deactivating a user (``caseassist users deactivate``) erases it too."""
    try:
        authorize("voice.erase", user, owner_id=user_id)  # another's id: 404, as if none
        repo.get_user(session=session, user_id=user_id)
    except NotFound:
        raise NotFound("No such user.") from None
    erase(session, request, user, user_id)
    return Response(status_code=204)


def erase(session: Session, request: Request, user: User, user_id: str) -> bool:
    """Erase ``user_id``'s voice and audit it (whether there was one); True if there was."""
    authorize("voice.erase", user, owner_id=user_id)
    erased = repo.erase_voice(session=session, user_id=user_id)
    audit(session, request, user, "voice.erase", "user", user_id, erased=erased)
    return erased
