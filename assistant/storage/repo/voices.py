"""Enrolled voices: a user's speaker embedding, encrypted, and erased on request.

The embedding (256 float32) is sealed with AES-256-GCM under a random data key of its own,
with ``voice_enrolments.embedding:<user id>`` as associated data (a blob copied onto another
user's row fails to open); the data key is stored only wrapped by the key-encryption key, bound
to the user (``voice_key_ad``), as a recording's is. A key rotation re-wraps it with the
recordings' (``repo.keys.rewrap``). Erasing deletes the row: key, embedding and all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import delete
from sqlalchemy.orm import Session

from assistant.storage.keys import generate_key, open_bytes, seal_bytes
from assistant.storage.models import VoiceEnrolment, utcnow
from assistant.storage.sealing import keyring_of

EMBEDDING_DIM = 256


def voice_key_ad(user_id: str) -> bytes:
    return b"voice-key:" + user_id.encode()


def _object_id(user_id: str) -> str:
    return f"voice_enrolments.embedding:{user_id}"


@dataclass(frozen=True)
class StoredVoice:
    """A user's enrolled voice, decrypted."""

    embedding: np.ndarray  # (256,) float32, unit length
    model_sha256: str
    speech_s: float
    created_at: datetime


def save_voice(
    *,
    session: Session,
    user_id: str,
    embedding: np.ndarray,
    model_sha256: str,
    speech_s: float,
) -> VoiceEnrolment:
    """Store (or replace) ``user_id``'s voice, encrypted under a new data key."""
    vector = np.asarray(embedding, dtype="<f4").reshape(-1)
    if vector.shape != (EMBEDDING_DIM,) or not np.isfinite(vector).all():
        raise ValueError(f"a voice is {EMBEDDING_DIM} finite numbers")
    ring = keyring_of(session)
    ring.refresh()  # a rotation run elsewhere: wrap with the newest key
    key = generate_key()
    wrapped = ring.wrapping.wrap(key, associated_data=voice_key_ad(user_id))
    sealed = seal_bytes(key, vector.tobytes(), object_id=_object_id(user_id))
    row = session.get(VoiceEnrolment, user_id)
    if row is None:
        row = VoiceEnrolment(user_id=user_id)
        session.add(row)
    row.kek_id, row.wrapped, row.embedding = ring.wrapping.key_id, wrapped, sealed
    row.model_sha256, row.speech_s, row.created_at = model_sha256, float(speech_s), utcnow()
    session.flush()
    return row


def voice_enrolment(*, session: Session, user_id: str) -> VoiceEnrolment | None:
    """The row (still encrypted), for whether and when a user enrolled; None if they have not."""
    return session.get(VoiceEnrolment, user_id)


def load_voice(*, session: Session, user_id: str) -> StoredVoice | None:
    """``user_id``'s voice decrypted, or None if they have not enrolled. DecryptionFailed for
    a key or blob that does not authenticate."""
    row = session.get(VoiceEnrolment, user_id)
    if row is None:
        return None
    ring = keyring_of(session)
    key = ring.wrapper(row.kek_id).unwrap(row.wrapped, associated_data=voice_key_ad(user_id))
    plain = open_bytes(key, row.embedding, object_id=_object_id(user_id))
    return StoredVoice(
        embedding=np.frombuffer(plain, dtype="<f4").astype(np.float32),
        model_sha256=row.model_sha256,
        speech_s=row.speech_s,
        created_at=row.created_at,
    )


def erase_voice(*, session: Session, user_id: str) -> bool:
    """Delete ``user_id``'s voice; True if there was one."""
    result = session.execute(delete(VoiceEnrolment).where(VoiceEnrolment.user_id == user_id))
    session.flush()
    return bool(getattr(result, "rowcount", 0))
