"""Keys: each recording's audio file opened with its data key, audio left in clear by an older
version sealed, and the key-encryption key rotated (``caseassist keys rotate``).

Rotation re-wraps the data keys (the recordings' and the enrolled voices'), never the data. It
survives being interrupted at any point, because every key file it has written is read back by
the keyring (``keys.KeyFiles``):

1. the next KEK is written to ``<key file>.new`` (0600, synced); from now on any process
   wraps new data keys with it;
2. every data key still wrapped by another KEK is re-wrapped, in one transaction, with an
   audit event; until this commits the old KEK is untouched;
3. the key file becomes ``<key file>.old`` and ``.new`` becomes the key file (renames);
4. data keys that a process wrapped with the old KEK meanwhile are re-wrapped too; once none
   is left, ``.old`` is deleted.

Running ``caseassist keys rotate`` again after an interruption finishes the same rotation.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.audio.sealed import SealedFile, is_sealed, seal_file
from assistant.errors import ConfigurationError, DecryptionFailed
from assistant.storage.db import session_scope
from assistant.storage.keys import KeyFiles, Keyring, generate_key, key_ad, write_key_file
from assistant.storage.models import DataKey, Recording, VoiceEnrolment, utcnow
from assistant.storage.repo.voices import voice_key_ad
from assistant.storage.sealing import data_key, keyring_of


def audio_aad(recording_id: str) -> bytes:
    return f"audio:{recording_id}".encode()


def audio_source(*, session: Session, recording: Recording) -> SealedFile | None:
    """The recording's stored audio and what decrypts it, or None if no file is stored."""
    if recording.audio_path is None:
        return None
    key = data_key(session.connection(), keyring_of(session), recording.id, create=False)
    return SealedFile(Path(recording.audio_path), key, audio_aad(recording.id))


def seal_plain_audio(*, session: Session) -> int:
    """Encrypt audio files an older version stored in clear (at start-up, after migration
    0006). Each file is written beside and renamed over the original once synced, under a data
    key that is committed first. Returns how many were sealed."""
    stmt = select(Recording).where(Recording.audio_path.is_not(None))
    sealed = 0
    for rec in session.scalars(stmt):
        path = Path(str(rec.audio_path))
        if not path.is_file() or is_sealed(path):
            continue
        key = data_key(session.connection(), keyring_of(session), rec.id, create=True)
        session.commit()  # the data key is stored before any file depends on it
        tmp = path.with_name(path.name + ".sealing")
        seal_file(path, tmp, key, audio_aad(rec.id))
        os.replace(tmp, path)
        sealed += 1
    return sealed


def check_keys(*, session: Session, keyring: Keyring) -> None:
    """At start: unwrap one data key per KEK id in the database, so a wrong, altered or missing
    key file stops the start with what to do instead of failing on the first read."""
    first = (
        select(DataKey.kek_id, func.min(DataKey.recording_id).label("recording_id"))
        .group_by(DataKey.kek_id)
        .subquery()
    )
    stmt = select(DataKey).join(
        first,
        (DataKey.kek_id == first.c.kek_id) & (DataKey.recording_id == first.c.recording_id),
    )
    for row in session.scalars(stmt):
        try:
            keyring.wrapper(row.kek_id).unwrap(
                row.wrapped, associated_data=key_ad(row.recording_id)
            )
        except DecryptionFailed as exc:
            raise ConfigurationError(
                f"{exc.message}; if the key file was replaced, restore the right one from the "
                "council's key backup"
            ) from None


def key_counts(*, session: Session) -> dict[str, int]:
    """How many data keys each KEK wraps."""
    rows = session.execute(select(DataKey.kek_id, func.count()).group_by(DataKey.kek_id))
    return {kek_id: int(n) for kek_id, n in rows}


@dataclass(frozen=True)
class Rotation:
    old_key_ids: tuple[str, ...]
    new_key_id: str
    rewrapped: int
    resumed: bool


def rewrap(*, session: Session, keyring: Keyring, to_key_id: str) -> Counter[str]:
    """Re-wrap every data key not wrapped by ``to_key_id``; returns counts by former KEK."""
    target = keyring.wrapper(to_key_id)
    done: Counter[str] = Counter()
    stmt = select(DataKey).where(DataKey.kek_id != to_key_id).with_for_update()
    for row in session.scalars(stmt):
        ad = key_ad(row.recording_id)
        key = keyring.wrapper(row.kek_id).unwrap(row.wrapped, associated_data=ad)
        done[row.kek_id] += 1
        row.wrapped, row.kek_id, row.rewrapped_at = (
            target.wrap(key, associated_data=ad),
            to_key_id,
            utcnow(),
        )
    # enrolled voices' data keys too: once the old KEK is gone they could not be opened
    voices = select(VoiceEnrolment).where(VoiceEnrolment.kek_id != to_key_id).with_for_update()
    for voice in session.scalars(voices):
        ad = voice_key_ad(voice.user_id)
        key = keyring.wrapper(voice.kek_id).unwrap(voice.wrapped, associated_data=ad)
        done[voice.kek_id] += 1
        voice.wrapped, voice.kek_id = target.wrap(key, associated_data=ad), to_key_id
    session.flush()
    return done


def rotate(
    *,
    sessions: sessionmaker[Session],
    key_file: Path,
    audit: Callable[[Session, dict[str, Any]], None] | None = None,
) -> Rotation:
    """Steps 1-4 of the module docstring. ``audit(session, details)`` writes the audit event
    in the re-wrap's transaction."""
    files = KeyFiles(key_file)
    resumed = files.new.exists() or files.old.exists()
    if not files.new.exists() and not files.old.exists():
        write_key_file(files.new, generate_key())
    keyring = Keyring.from_key_file(key_file)
    new_id = keyring.wrapping.key_id
    with session_scope(sessions) as s:
        s.info["keyring"] = keyring
        done = rewrap(session=s, keyring=keyring, to_key_id=new_id)
        if audit is not None:
            audit(
                s,
                {
                    "new_key_id": new_id,
                    "rewrapped": sum(done.values()),
                    "old_key_ids": sorted(done),
                },
            )
    if files.new.exists():
        if files.path.exists():
            os.replace(files.path, files.old)
        os.replace(files.new, files.path)
    keyring.refresh()
    with session_scope(sessions) as s:
        late = rewrap(session=s, keyring=keyring, to_key_id=new_id)
    files.old.unlink(missing_ok=True)
    old_ids = tuple(sorted(set(done) | set(late)))
    return Rotation(old_ids, new_id, sum(done.values()) + sum(late.values()), resumed)
