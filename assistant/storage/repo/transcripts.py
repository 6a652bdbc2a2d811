"""Transcripts (raw and redacted) and the pseudonym map of a recording, all encrypted at rest."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.domain import PseudonymMap, RedactedTranscript, Transcript
from assistant.errors import NotFound
from assistant.storage.crypto import MappingKeyMismatch
from assistant.storage.keys import open_bytes, seal_bytes
from assistant.storage.models import PseudonymMapRow, TranscriptRow, utcnow
from assistant.storage.repo._base import to_json
from assistant.storage.repo.recordings import live_recording
from assistant.storage.sealing import data_key, keyring_of

#: ``pseudonym_maps.key_id`` of a map under its recording's data key (since 0006).
DATA_KEY_ID = "data-key"
_MAP_ID = "pseudonym_maps.ciphertext:"

_TRANSCRIPT_TYPES: dict[str, type[Transcript | RedactedTranscript]] = {
    "raw": Transcript,
    "redacted": RedactedTranscript,
}


def _transcript_type(kind: str) -> type[Transcript | RedactedTranscript]:
    model = _TRANSCRIPT_TYPES.get(kind)
    if model is None:
        raise ValueError("kind must be 'raw' or 'redacted'")
    return model


def save_transcript(
    *,
    session: Session,
    recording_id: str,
    kind: str,
    body: Transcript | RedactedTranscript | Mapping[str, Any],
) -> TranscriptRow:
    """Store (or replace, when a job is re-run) the raw or redacted transcript of a recording."""
    model = _transcript_type(kind)
    value = body if isinstance(body, model) else model.model_validate(to_json(body))
    live_recording(session, recording_id)
    stmt = select(TranscriptRow).where(
        TranscriptRow.recording_id == recording_id, TranscriptRow.kind == kind
    )
    row = session.scalars(stmt).one_or_none()
    if row is None:
        row = TranscriptRow(recording_id=recording_id, kind=kind, body={})
        session.add(row)
    row.body = value.model_dump(mode="json")
    row.created_at = utcnow()
    session.flush()
    return row


@overload
def get_transcript(*, session: Session, recording_id: str, kind: Literal["raw"]) -> Transcript: ...
@overload
def get_transcript(
    *, session: Session, recording_id: str, kind: Literal["redacted"]
) -> RedactedTranscript: ...
@overload
def get_transcript(
    *, session: Session, recording_id: str, kind: str
) -> Transcript | RedactedTranscript: ...
def get_transcript(
    *, session: Session, recording_id: str, kind: str
) -> Transcript | RedactedTranscript:
    """The raw (``kind="raw"``) or redacted transcript; NotFound if none was saved yet."""
    model = _transcript_type(kind)
    live_recording(session, recording_id)
    # the row, not the column alone: loading the row is what decrypts it (``sealing``)
    stmt = select(TranscriptRow).where(
        TranscriptRow.recording_id == recording_id, TranscriptRow.kind == kind
    )
    row = session.scalars(stmt).one_or_none()
    if row is None:
        raise NotFound(f"{kind} transcript of recording {recording_id} not found")
    return model.model_validate(row.body)


@overload
def find_transcript(
    *, session: Session, recording_id: str, kind: Literal["raw"]
) -> Transcript | None: ...
@overload
def find_transcript(
    *, session: Session, recording_id: str, kind: Literal["redacted"]
) -> RedactedTranscript | None: ...
@overload
def find_transcript(
    *, session: Session, recording_id: str, kind: str
) -> Transcript | RedactedTranscript | None: ...
def find_transcript(
    *, session: Session, recording_id: str, kind: str
) -> Transcript | RedactedTranscript | None:
    """Like ``get_transcript`` but None when that stage has not saved one yet."""
    try:
        return get_transcript(session=session, recording_id=recording_id, kind=kind)
    except NotFound:
        return None


def save_mapping(*, session: Session, recording_id: str, mapping: PseudonymMap) -> PseudonymMapRow:
    """Encrypt (under the recording's data key) and store, or replace, the map."""
    live_recording(session, recording_id)
    conn = session.connection()
    key = data_key(conn, keyring_of(session), recording_id, create=True)
    plain = json.dumps(mapping.entries, sort_keys=True, ensure_ascii=False).encode()
    blob = seal_bytes(key, plain, object_id=_MAP_ID + recording_id)
    row = session.get(PseudonymMapRow, recording_id)
    if row is None:
        row = PseudonymMapRow(recording_id=recording_id, ciphertext=blob, key_id=DATA_KEY_ID)
        session.add(row)
    else:
        row.ciphertext, row.key_id = blob, DATA_KEY_ID
    session.flush()
    return row


def load_mapping(*, session: Session, recording_id: str) -> PseudonymMap:
    """Decrypt the map. A wrong key or a blob from another recording raises DecryptionFailed."""
    live_recording(session, recording_id)
    row = session.get(PseudonymMapRow, recording_id)
    if row is None:
        raise NotFound(f"pseudonym map of recording {recording_id} not found")
    if row.key_id != DATA_KEY_ID:
        raise MappingKeyMismatch(
            f"pseudonym map of recording {recording_id} is still under the old mapping key "
            f"{row.key_id}: start the service with that key (CASEASSIST_MAPPING_KEY) once so "
            "migration 0008_encrypt_at_rest re-encrypts it"
        )
    key = data_key(session.connection(), keyring_of(session), recording_id, create=False)
    plain = open_bytes(key, row.ciphertext, object_id=_MAP_ID + recording_id)
    return PseudonymMap(entries=json.loads(plain))
