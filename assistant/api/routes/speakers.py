"""/v1/recordings/{id}/speakers: who spoke, with the role suggested for each speaker, and the
practitioner's correction of it (owner only).

A correction relabels the transcript's segments (raw and redacted) and re-attributes the
statements of the recording's notes through their evidence, without drafting again: each note
changed gets a revision whose reason says so. Refused while any of its notes is approved."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from assistant.api import schemas
from assistant.api.deps import CurrentUser, SessionDep, audit
from assistant.api.routes.recordings import load_recording
from assistant.diarisation import ROLES, set_roles, speakers_of
from assistant.domain import RedactedTranscript, Transcript, VoiceMatch
from assistant.errors import BadInput, NoteLocked, NotFound
from assistant.notes.speakers import reattribute
from assistant.storage import Note, Recording, repo

router = APIRouter(prefix="/v1", tags=["speakers"], responses=schemas.V1_ERRORS)

#: How many of a speaker's segments GET offers to play.
SAMPLES = 3


class NoSpeakers(BadInput):
    code = "no_speakers"
    http_status = 409


def _transcript(session: Session, rec: Recording) -> Transcript:
    transcript = repo.find_transcript(session=session, recording_id=rec.id, kind="raw")
    if transcript is None:
        raise NotFound("The transcript is not ready yet.", code="not_ready")
    return transcript


def speakers_view(rec: Recording, transcript: Transcript) -> schemas.SpeakersView:
    """Each speaker with their role, talk time and a few segments (the longest) to play."""
    views = []
    for sp in speakers_of(transcript):
        mine = [s for s in transcript.segments if s.speaker == sp.display]
        longest = sorted(mine, key=lambda s: (s.start - s.end, s.start))[:SAMPLES]
        views.append(
            schemas.SpeakerView(
                label=sp.label,
                role=sp.role,
                display=sp.display,
                confidence=sp.confidence,
                confirmed=sp.confirmed,
                by_voice=sp.by_voice,
                talk_time_s=round(sum(s.end - s.start for s in mine), 2),
                segments=len(mine),
                sample_segment_ids=[s.id for s in sorted(longest, key=lambda s: s.start)],
            )
        )
    match = transcript.diarisation.voice if transcript.diarisation else None
    return schemas.SpeakersView(
        recording_id=rec.id,
        diarised=transcript.diarisation is not None,
        roles=list(ROLES),
        speakers=views,
        voice=_voice_state(match),
    )


@router.get(
    "/recordings/{recording_id}/speakers",
    response_model=schemas.SpeakersView,
    summary="Speakers and their roles (owner only)",
)
def get_speakers(
    recording_id: str, request: Request, user: CurrentUser, session: SessionDep
) -> schemas.SpeakersView:
    """The speakers the speaker separation found, each with the role suggested from the words
    (or set by the practitioner), its confidence, talk time and a few segment ids to play. A
    typed transcript has no separated speakers (``diarised`` false, an empty list)."""
    rec = load_recording(session, recording_id, user, "speakers.view")
    transcript = _transcript(session, rec)
    audit(session, request, user, "speakers.view", "recording", rec.id)
    return speakers_view(rec, transcript)


@router.put(
    "/recordings/{recording_id}/speakers",
    response_model=schemas.SpeakersUpdated,
    summary="Confirm or correct speakers' roles (owner only)",
    responses=schemas.error_responses(409),
)
def put_speakers(
    recording_id: str,
    edit: schemas.SpeakersEdit,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
) -> schemas.SpeakersUpdated:
    """Set the role of the speakers listed (each then confirmed). The transcript's labels
    change and every note of the recording follows through its statements' evidence, without
    drafting again; a note that changed gets a new revision saying so. Unknown speaker labels
    or roles are refused (422) and nothing changes; so is any change while a note of the
    recording is approved (409), or on a recording without separated speakers (409)."""
    rec = load_recording(session, recording_id, user, "speakers.edit")
    raw = _transcript(session, rec)
    if not speakers_of(raw):
        raise NoSpeakers("This recording's transcript has no separated speakers to correct.")
    changes = {c.label: c.role for c in edit.speakers}
    if len(changes) != len(edit.speakers):
        raise BadInput(
            "Each speaker may be listed once.", code="duplicate_speaker", http_status=422
        )
    try:
        corrected = set_roles(raw, changes)
    except ValueError as exc:  # the message names labels and roles only
        raise BadInput(str(exc), code="unknown_speaker", http_status=422) from None
    notes = [
        repo.claim_note(session=session, note_id=n.id) if n.status != "approved" else n
        for n in repo.notes_for_recording(session=session, recording_id=rec.id)
    ]
    if any(n.status == "approved" for n in notes):
        raise NoteLocked("A note of this recording is approved and locked; speakers can no "
                         "longer be corrected.")  # fmt: skip
    reason = _reason(raw, corrected)
    results = _apply(session, rec, raw, corrected, notes, user.id, reason)
    audit(
        session, request, user, "speakers.edit", "recording", rec.id,
        speakers=len(changes), notes=len(notes),
        statements=sum(r["statements_reattributed"] for r in results),
    )  # fmt: skip
    view = speakers_view(rec, corrected)
    return schemas.SpeakersUpdated(**view.model_dump(), notes=results)


def _reason(before: Transcript, after: Transcript) -> str:
    old = {sp.label: sp.display for sp in speakers_of(before)}
    moves = [
        f"{sp.label} {old[sp.label]} -> {sp.display}"
        for sp in after.speakers
        if old.get(sp.label) != sp.display
    ]
    return "Speakers corrected (not drafted again): " + ("; ".join(moves) or "roles confirmed")


def _apply(
    session: Session,
    rec: Recording,
    raw: Transcript,
    corrected: Transcript,
    notes: list[Note],
    user_id: str,
    reason: str,
) -> list[dict]:
    """Save the relabelled transcripts, then a revision for each note whose statements moved."""
    repo.save_transcript(session=session, recording_id=rec.id, kind="raw", body=corrected)
    redacted = repo.find_transcript(session=session, recording_id=rec.id, kind="redacted")
    results: list[dict] = []
    if redacted is None:
        return results
    relabelled = _relabel_redacted(redacted, raw, corrected)
    repo.save_transcript(session=session, recording_id=rec.id, kind="redacted", body=relabelled)
    before = {s.id: s for s in redacted.segments}
    after = {s.id: s for s in relabelled.segments}
    old = {sp.label: sp.display for sp in speakers_of(raw)}
    renamed = {old[sp.label]: sp.display for sp in corrected.speakers if sp.label in old}
    for note in notes:
        body = repo.latest_body(session=session, note_id=note.id)
        new_body, moved = reattribute(body, before, after, renamed)
        revision = None
        if new_body != body:
            revision = repo.add_revision(
                session=session, note_id=note.id, body=new_body, author_id=user_id, reason=reason
            ).number
        results.append({"note_id": note.id, "revision": revision, "statements_reattributed": moved})
    return results


def _relabel_redacted(
    redacted: RedactedTranscript, raw: Transcript, corrected: Transcript
) -> RedactedTranscript:
    """The redacted segments with the corrected labels: a segment whose speaker was the raw
    segment's label (a role label, never redacted) takes the new one."""
    was = {s.id: s.speaker for s in raw.segments}
    now = {s.id: s.speaker for s in corrected.segments}
    segments = tuple(
        s.model_copy(update={"speaker": now[s.id]})
        if s.id in now and s.speaker is not None and s.speaker == was.get(s.id)
        else s
        for s in redacted.segments
    )
    return redacted.model_copy(update={"segments": segments})


def _voice_state(
    match: VoiceMatch | None,
) -> Literal["recognised", "not_recognised", "merged"] | None:
    if match is None:
        return None
    if match.merged:
        return "merged"
    return "recognised" if match.label else "not_recognised"
