"""Envelope encryption at rest: a data key per recording, and content encrypted under it.

Revision ID: 0008_encrypt_at_rest
Revises: 0007_statement_review
Create Date: 2026-12-06

Adds ``data_keys`` (each recording's data key, wrapped by the key-encryption key) and encrypts
what was stored in clear: transcripts, notes (draft and provenance) and note revisions; name
maps move from the old mapping key to the data key. Audio files are encrypted by the service
at start-up, after this commits (``repo.seal_plain_audio``), so a failed migration can never
leave a file encrypted under a data key that was rolled back.

A database with content needs the keys (``db.upgrade(keys=...)``, which the service and the
command line pass); the downgrade decrypts everything again (audio files included) and puts
the name maps back under the old mapping key.

Released migrations are never edited: add the next one instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from assistant.errors import ConfigurationError

revision: str = "0008_encrypt_at_rest"
down_revision: str | None = "0007_statement_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DATA_KEY_ID = "data-key"
_SEALED = {
    "transcripts": ("body",),
    "notes": ("ai_draft", "provenance"),
    "note_revisions": ("body",),
}


def _table(name: str) -> sa.TableClause:
    cols = [sa.column("id", sa.String)] + [sa.column(c, sa.JSON) for c in _SEALED[name]]
    if name == "note_revisions":
        cols.append(sa.column("note_id", sa.String))
    else:
        cols.append(sa.column("recording_id", sa.String))
    return sa.table(name, *cols)


_MAPS = sa.table(
    "pseudonym_maps",
    sa.column("recording_id", sa.String),
    sa.column("ciphertext", sa.LargeBinary),
    sa.column("key_id", sa.String),
)
_NOTES = sa.table("notes", sa.column("id", sa.String), sa.column("recording_id", sa.String))


def _keys(direction: str) -> Any:
    keys = context.config.attributes.get("keys")
    if keys is None:
        raise ConfigurationError(
            f"migration 0008_encrypt_at_rest must {direction} stored transcripts and notes and "
            "was given no key: run it through the service, `caseassist serve`, or any command "
            "that opens the database, such as `caseassist keys status`; they load the key file "
            "and migrate the database first"
        )
    return keys


def _rows(conn: sa.Connection, name: str) -> list[Any]:
    table = _table(name)
    if name == "note_revisions":
        stmt = sa.select(table, _NOTES.c.recording_id).join(
            _NOTES, _NOTES.c.id == table.c.note_id
        )
    else:
        stmt = sa.select(table)
    return list(conn.execute(stmt))


def _content_count(conn: sa.Connection) -> int:
    names = (*_SEALED, "pseudonym_maps")
    return sum(conn.execute(sa.text(f"SELECT count(*) FROM {n}")).scalar_one() for n in names)


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("recording_id", sa.String(32), sa.ForeignKey("recordings.id"), nullable=False),
        sa.Column("kek_id", sa.String(64), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rewrapped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("recording_id", name=op.f("pk_data_keys")),
    )
    op.create_index(op.f("ix_data_keys_kek_id"), "data_keys", ["kek_id"])
    conn = op.get_bind()
    if _content_count(conn) == 0:
        return
    _encrypt_all(conn, _keys("encrypt"))


def _encrypt_all(conn: sa.Connection, keys: Any) -> None:
    from assistant.storage.keys import is_sealed_json, seal_bytes, seal_json
    from assistant.storage.models import UTCDateTime, utcnow

    _DATA_KEYS = sa.table(
        "data_keys",
        sa.column("recording_id", sa.String),
        sa.column("kek_id", sa.String),
        sa.column("wrapped", sa.LargeBinary),
        sa.column("created_at", UTCDateTime()),
    )

    ring = keys.keyring
    data_keys: dict[str, bytes] = {}

    def key_for(recording_id: str) -> bytes:
        if recording_id not in data_keys:
            key, wrapped, kek_id = ring.new_data_key(recording_id)
            conn.execute(
                sa.insert(_DATA_KEYS).values(
                    recording_id=recording_id, kek_id=kek_id, wrapped=wrapped, created_at=utcnow()
                )
            )
            data_keys[recording_id] = key
        return data_keys[recording_id]

    for name, columns in _SEALED.items():
        table = _table(name)
        for row in _rows(conn, name):
            values = {
                c: seal_json(key_for(row.recording_id), getattr(row, c), object_id=f"{name}.{c}:{row.id}")
                for c in columns
                if not is_sealed_json(getattr(row, c))
            }
            if values:
                conn.execute(sa.update(table).where(table.c.id == row.id).values(**values))
    maps = list(conn.execute(sa.select(_MAPS).where(_MAPS.c.key_id != _DATA_KEY_ID)))
    if maps:
        legacy = _legacy_cipher(keys)
        for row in maps:
            mapping = legacy.decrypt(row.ciphertext, associated_data=row.recording_id.encode())
            plain = json.dumps(mapping.entries, sort_keys=True, ensure_ascii=False).encode()
            blob = seal_bytes(
                key_for(row.recording_id),
                plain,
                object_id=f"pseudonym_maps.ciphertext:{row.recording_id}",
            )
            conn.execute(
                sa.update(_MAPS)
                .where(_MAPS.c.recording_id == row.recording_id)
                .values(ciphertext=blob, key_id=_DATA_KEY_ID)
            )


def _legacy_cipher(keys: Any) -> Any:
    from assistant.storage.crypto import MappingCipher

    if keys.legacy_mapping_key is None:
        raise ConfigurationError(
            "name maps are stored under the old mapping key and no mapping key was found: "
            "keep <data_dir>/mapping.key (or CASEASSIST_MAPPING_KEY) in place for this upgrade"
        )
    return MappingCipher(keys.legacy_mapping_key)


def downgrade() -> None:
    conn = op.get_bind()
    has_keys = conn.execute(sa.text("SELECT count(*) FROM data_keys")).scalar_one()
    if has_keys:
        _decrypt_all(conn, _keys("decrypt"))
    op.drop_index(op.f("ix_data_keys_kek_id"), table_name="data_keys")
    op.drop_table("data_keys")


def _decrypt_all(conn: sa.Connection, keys: Any) -> None:
    from assistant.audio.sealed import is_sealed, unseal_file
    from assistant.domain import PseudonymMap
    from assistant.storage.keys import is_sealed_json, open_bytes, open_json

    ring = keys.keyring
    data_keys = {
        r.recording_id: ring.unwrap(r.recording_id, r.wrapped, r.kek_id)
        for r in conn.execute(sa.text("SELECT recording_id, kek_id, wrapped FROM data_keys"))
    }
    for name, columns in _SEALED.items():
        table = _table(name)
        for row in _rows(conn, name):
            values = {
                c: open_json(data_keys[row.recording_id], getattr(row, c), object_id=f"{name}.{c}:{row.id}")
                for c in columns
                if is_sealed_json(getattr(row, c))
            }
            if values:
                conn.execute(sa.update(table).where(table.c.id == row.id).values(**values))
    maps = list(conn.execute(sa.select(_MAPS).where(_MAPS.c.key_id == _DATA_KEY_ID)))
    legacy = _legacy_cipher(keys) if maps else None
    for row in maps:
        plain = open_bytes(
            data_keys[row.recording_id],
            row.ciphertext,
            object_id=f"pseudonym_maps.ciphertext:{row.recording_id}",
        )
        blob = legacy.encrypt(PseudonymMap(entries=json.loads(plain)), associated_data=row.recording_id.encode())
        conn.execute(
            sa.update(_MAPS)
            .where(_MAPS.c.recording_id == row.recording_id)
            .values(ciphertext=blob, key_id=legacy.key_id)
        )
    audio = conn.execute(sa.text("SELECT id, audio_path FROM recordings WHERE audio_path IS NOT NULL"))
    for rec_id, audio_path in audio:
        path = Path(audio_path)
        if rec_id in data_keys and path.is_file() and is_sealed(path):
            tmp = path.with_name(path.name + ".plain")
            unseal_file(path, tmp, data_keys[rec_id], f"audio:{rec_id}".encode())
            tmp.replace(path)
