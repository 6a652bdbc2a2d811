"""Alembic environment, driven from ``assistant.storage.db`` (no alembic.ini).

The caller passes an open connection in ``config.attributes["connection"]`` (``db.upgrade``), or
a URL in ``config.attributes["url"]`` / ``sqlalchemy_url`` for ``alembic revision
--autogenerate``. The version table is unqualified, so on PostgreSQL it lands in the first schema
of the connection's ``search_path``, next to the tables.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from assistant.storage.db import make_engine
from assistant.storage.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations must not import the models (they change later); render our UTC type as the
    # plain column type it stores as.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection or URL given; use assistant.storage.db.upgrade()")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; use db.upgrade()")
run_migrations_online()
