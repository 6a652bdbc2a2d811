"""Transcripts (raw and redacted) and the encrypted pseudonym map of a recording."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.domain import PseudonymMap, RedactedTranscript, Transcript
from assistant.errors import NotFound
from assistant.storage.crypto import MappingCipher, MappingKeyMismatch
from assistant.storage.models import PseudonymMapRow, TranscriptRow, utcnow
from assistant.storage.repo._base import to_json
from assistant.storage.repo.recordings import live_recording

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
    stmt = select(TranscriptRow.body).where(
        TranscriptRow.recording_id == recording_id, TranscriptRow.kind == kind
    )
    body = session.scalars(stmt).one_or_none()
    if body is None:
        raise NotFound(f"{kind} transcript of recording {recording_id} not found")
    return model.model_validate(body)


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


def save_mapping(
    *, session: Session, recording_id: str, cipher: MappingCipher, mapping: PseudonymMap
) -> PseudonymMapRow:
    """Encrypt and store (or replace) the map. The recording id is bound into the ciphertext."""
    live_recording(session, recording_id)
    blob = cipher.encrypt(mapping, associated_data=recording_id.encode())
    row = session.get(PseudonymMapRow, recording_id)
    if row is None:
        row = PseudonymMapRow(recording_id=recording_id, ciphertext=blob, key_id=cipher.key_id)
        session.add(row)
    else:
        row.ciphertext, row.key_id = blob, cipher.key_id
    session.flush()
    return row


def load_mapping(*, session: Session, recording_id: str, cipher: MappingCipher) -> PseudonymMap:
    """Decrypt the map. A different stored key id raises ``MappingKeyMismatch`` (key rotated)."""
    live_recording(session, recording_id)
    row = session.get(PseudonymMapRow, recording_id)
    if row is None:
        raise NotFound(f"pseudonym map of recording {recording_id} not found")
    if row.key_id != cipher.key_id:
        raise MappingKeyMismatch(
            f"pseudonym map of recording {recording_id} was encrypted with key_id {row.key_id}, "
            f"the configured key is {cipher.key_id}; re-encrypt with reencrypt_mappings()"
        )
    return cipher.decrypt(row.ciphertext, associated_data=recording_id.encode())


def reencrypt_mappings(*, session: Session, old: MappingCipher, new: MappingCipher) -> int:
    """Key rotation: re-encrypt every map stored under ``old`` with ``new``. Returns the count."""
    rows = session.scalars(select(PseudonymMapRow).where(PseudonymMapRow.key_id == old.key_id))
    count = 0
    for row in rows:
        ad = row.recording_id.encode()
        row.ciphertext = new.encrypt(
            old.decrypt(row.ciphertext, associated_data=ad), associated_data=ad
        )
        row.key_id = new.key_id
        count += 1
    session.flush()
    return count
