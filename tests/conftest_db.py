"""Database fixtures, imported into ``tests/conftest.py``::

    from tests.conftest_db import *

Each test owns its database: a fresh SQLite file under ``tmp_path``, or a freshly created
PostgreSQL schema that is dropped afterwards. Nothing is shared and nothing is wiped.

PostgreSQL isolation: the test gets ``postgresql+psycopg://.../test?options=-csearch_path%3D<schema>``,
so every unqualified table (Alembic's ``alembic_version`` included) is created and found in
that schema only. The URL also sets ``application_name=<schema>`` so teardown can end any
connection a test leaked before ``DROP SCHEMA ... CASCADE``. The server defaults to
``postgresql+psycopg://postgres@127.0.0.1:5432/test``; ``ASSISTANT_TEST_PG_URL`` overrides it
(tests only: the service itself reads its settings object). Unreachable -> the PostgreSQL
variants are skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from assistant.storage.db import make_engine, session_factory, upgrade
from assistant.storage.keys import AesKeyWrapper, Keyring, generate_key

__all__ = [
    "DEFAULT_PG_URL",
    "db_engine",
    "db_sessions",
    "db_url",
    "keyring",
    "pg_url",
    "sqlite_url",
]

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "postgresql: runs against a PostgreSQL server (skipped if unreachable)",
    )


def _pg_admin_conninfo() -> str:
    url = make_url(os.environ.get("ASSISTANT_TEST_PG_URL", DEFAULT_PG_URL))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file of its own for this test."""
    return f"sqlite+pysqlite:///{tmp_path}/assistant.db"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL schema of its own for this test, dropped afterwards."""
    import psycopg

    conninfo = _pg_admin_conninfo()
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL unreachable at {make_url(conninfo)!r}: {exc}".strip())
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        url = make_url(conninfo).set(
            drivername="postgresql+psycopg",
            query={"options": f"-csearch_path={schema}", "application_name": schema},
        )
        yield url.render_as_string(hide_password=False)
    finally:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            (schema,),
        )
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest) -> str:
    """The test runs once per backend; ids ``[sqlite]`` and ``[postgresql]`` (marked ``postgres``,
    the marker declared in pyproject.toml)."""
    return str(
        request.getfixturevalue(f"{'pg' if request.param == 'postgresql' else 'sqlite'}_url")
    )


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head; disposed after the test."""
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def keyring() -> Keyring:
    """A keyring with a fresh key-encryption key held in memory (the service reads a file)."""
    return Keyring(AesKeyWrapper(generate_key()))


@pytest.fixture
def db_sessions(db_engine: Engine, keyring: Keyring) -> sessionmaker[Session]:
    """A session factory on the migrated database (use with ``db.session_scope``), whose
    sessions encrypt and decrypt content with ``keyring``."""
    return session_factory(db_engine, keyring)
