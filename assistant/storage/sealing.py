"""Transcript and note text is encrypted in the database and plain in the ORM objects.

Mapper events seal the listed JSON columns just before a row is written (``before_insert``,
``before_update``) and give the object its plain value back right after (``after_*``); load
and refresh events open them. So repository code and its callers read and write plain values,
and only ciphertext (``sealed:v1:<base64>``, see ``keys.seal_json``) reaches the database.

Each value is sealed under its recording's data key with ``<table>.<column>:<row id>`` as the
associated data: a value copied onto another row, or into another recording, fails to open.
The session's keyring is ``session.info["keyring"]`` (``db.session_factory(keyring=...)``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event, insert, select
from sqlalchemy.orm import Mapper, Session, attributes, object_session
from sqlalchemy.orm.attributes import set_committed_value

from assistant.errors import ConfigurationError
from assistant.storage.keys import Keyring, is_sealed_json, open_json, seal_json
from assistant.storage.models import DataKey, Note, NoteRevision, TranscriptRow, new_id

SEALED: dict[type, tuple[str, ...]] = {
    TranscriptRow: ("body",),
    Note: ("ai_draft", "provenance"),
    NoteRevision: ("body",),
}
_PLAIN = "_caseassist_plain"


def object_id(table: str, column: str, row_id: str) -> str:
    return f"{table}.{column}:{row_id}"


def keyring_of(session: Session | None) -> Keyring:
    ring = session.info.get("keyring") if session is not None else None
    if ring is None:
        raise ConfigurationError(
            "this database session has no keyring, so content cannot be encrypted or read: "
            "build sessions with session_factory(engine, keyring=...)"
        )
    return ring


def data_key(conn: Connection, ring: Keyring, recording_id: str, *, create: bool) -> bytes:
    """The recording's data key: cached, unwrapped from ``data_keys``, or (``create``) new."""
    cached = ring.cached(recording_id)
    if cached is not None:
        return cached
    row = conn.execute(
        select(DataKey.wrapped, DataKey.kek_id).where(DataKey.recording_id == recording_id)
    ).one_or_none()
    if row is not None:
        return ring.unwrap(recording_id, row.wrapped, row.kek_id)
    if not create:
        raise ConfigurationError(f"recording {recording_id} has no data key")
    key, wrapped, kek_id = ring.new_data_key(recording_id)
    conn.execute(insert(DataKey).values(recording_id=recording_id, wrapped=wrapped, kek_id=kek_id))
    return key


def _recording_id(conn: Connection, target: Any) -> str:
    if isinstance(target, NoteRevision):
        return conn.execute(select(Note.recording_id).where(Note.id == target.note_id)).scalar_one()
    return str(target.recording_id)


def _seal(mapper: Mapper[Any], conn: Connection, target: Any, *, insert: bool) -> None:
    columns = SEALED[mapper.class_]
    if not insert:
        columns = tuple(c for c in columns if attributes.get_history(target, c).has_changes())
    if not columns:
        return
    if target.id is None:
        target.id = new_id()
    ring = keyring_of(object_session(target))
    key = data_key(conn, ring, _recording_id(conn, target), create=True)
    plain: dict[str, Any] = {}
    for column in columns:
        value = getattr(target, column)
        plain[column] = value
        oid = object_id(mapper.local_table.name, column, target.id)  # type: ignore[attr-defined]
        setattr(target, column, seal_json(key, value, object_id=oid))
    target.__dict__[_PLAIN] = plain


def _restore(mapper: Mapper[Any], conn: Connection, target: Any) -> None:
    for column, value in target.__dict__.pop(_PLAIN, {}).items():
        set_committed_value(target, column, value)


def _open(target: Any, session: Session, columns: tuple[str, ...]) -> None:
    stored = {c: target.__dict__.get(c) for c in columns}
    stored = {c: v for c, v in stored.items() if is_sealed_json(v)}
    if not stored:
        return
    conn = session.connection()
    key = data_key(conn, keyring_of(session), _recording_id(conn, target), create=False)
    table = type(target).__table__.name
    for column, value in stored.items():
        oid = object_id(table, column, target.id)
        set_committed_value(target, column, open_json(key, value, object_id=oid))


def _on_load(target: Any, context: Any) -> None:
    _open(target, context.session, SEALED[type(target)])


def _on_refresh(target: Any, context: Any, attrs: Any) -> None:
    columns = SEALED[type(target)]
    _open(target, context.session, columns if attrs is None else tuple(set(columns) & set(attrs)))


def install() -> None:
    """Register the events (idempotent: ``event.contains`` guards a second call)."""
    for model in SEALED:
        if event.contains(model, "before_insert", _before_insert):
            continue
        event.listen(model, "before_insert", _before_insert)
        event.listen(model, "before_update", _before_update)
        event.listen(model, "after_insert", _restore)
        event.listen(model, "after_update", _restore)
        event.listen(model, "load", _on_load)
        event.listen(model, "refresh", _on_refresh)


def _before_insert(mapper: Mapper[Any], conn: Connection, target: Any) -> None:
    _seal(mapper, conn, target, insert=True)


def _before_update(mapper: Mapper[Any], conn: Connection, target: Any) -> None:
    _seal(mapper, conn, target, insert=False)


install()
