"""Engine, sessions and migrations. The database URL alone picks SQLite or PostgreSQL.

- SQLite (file): WAL journal, foreign keys on, deleted content overwritten (``secure_delete``),
  a 30 s busy timeout so concurrent writers queue instead of failing.
- PostgreSQL: ``postgresql+psycopg://user@host/db``; a per-schema deployment (and the tests) put
  ``?options=-csearch_path%3D<schema>`` on the URL, and Alembic's version table follows it.

Alembic is configured in code from the installed package (``assistant/migrations``), so no
``alembic.ini`` is needed at run time. To write a new migration (never edit an old one), against
a scratch database already upgraded to head::

    from alembic import command
    from assistant.storage.db import alembic_config
    command.revision(alembic_config("sqlite:////tmp/at_head.db"), message="add x",
                     rev_id="0002_add_x", autogenerate=True)   # -> versions/0002_add_x.py

``command.check(alembic_config(url))`` fails if the models and a migrated database disagree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from assistant.storage.keys import Keyring

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite connections get WAL, foreign keys and a busy timeout.

    ``hide_parameters``: a database error's message never carries the statement's parameters
    (a note's text, a transcript), so logging or re-raising one cannot leak them.
    """
    parsed = make_url(url)
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        connect_args = {"timeout": 30.0, **kwargs.pop("connect_args", {})}
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Erasure and retention delete rows holding names and words; zero them in the file
        # instead of leaving them in free pages (PostgreSQL: see docs/security.md, Retention).
        cursor.execute("PRAGMA secure_delete=ON")
    finally:
        cursor.close()


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at the packaged migrations (no ini file)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", "%%(rev)s")
    if url is not None:
        cfg.attributes["url"] = url
    return cfg


def upgrade(
    engine_or_url: Engine | str, revision: str = "head", *, keys: MigrationKeys | None = None
) -> None:
    """Run the migrations up to ``revision`` (start-up and tests). Idempotent at head.

    ``keys``: what a migration that encrypts stored content needs (0008); an empty database
    needs none."""
    if isinstance(engine_or_url, str):
        engine = make_engine(engine_or_url)
        try:
            _upgrade(engine, revision, keys)
        finally:
            engine.dispose()
    else:
        _upgrade(engine_or_url, revision, keys)


def downgrade(engine: Engine, revision: str, *, keys: MigrationKeys | None = None) -> None:
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        cfg.attributes["keys"] = keys
        command.downgrade(cfg, revision)


class MigrationKeys:
    """The keyring, and the key that encrypted name maps before envelope encryption (0008)."""

    def __init__(self, keyring: Keyring, legacy_mapping_key: bytes | None = None) -> None:
        self.keyring = keyring
        self.legacy_mapping_key = legacy_mapping_key


def _upgrade(engine: Engine, revision: str, keys: MigrationKeys | None) -> None:
    cfg = alembic_config()
    with engine.begin() as connection:
        before = _heads(connection)
        cfg.attributes["connection"] = connection
        cfg.attributes["keys"] = keys
        command.upgrade(cfg, revision)
        after = _heads(connection)
    if after != before:
        # The one line that says the schema changed: the command line keeps Alembic's own INFO
        # lines (its context on every start, each step) at WARNING (``assistant.cli``).
        steps = sum(
            1
            for _ in ScriptDirectory.from_config(cfg).iterate_revisions(
                ",".join(after), ",".join(before) or "base"
            )
        )
        log.info(
            "database migrated from %s to %s (%d migration%s)",
            ", ".join(before) or "an empty database",
            ", ".join(after),
            steps,
            "" if steps == 1 else "s",
        )


def _heads(connection: Any) -> tuple[str, ...]:
    """The revision(s) the database is at; none for an empty one."""
    return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


def session_factory(engine: Engine, keyring: Keyring | None = None) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (handy for returning rows upwards).

    ``keyring`` encrypts and decrypts content (``assistant.storage.sealing``); sessions without
    one can do everything else, and refuse to write or read transcripts and notes."""
    info = {"keyring": keyring} if keyring is not None else {}
    return sessionmaker(bind=engine, expire_on_commit=False, info=info)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception, always close."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
