"""When a user was deactivated: ``users.deactivated_at``, for the retention of their data.

Revision ID: 0004_user_deactivated_at
Revises: 0003_web_sign_in
Create Date: 2026-12-07

Users already inactive get the time of this upgrade: their data's retention period
(``retention_deactivated_users_days``) starts now, never earlier than the council could know.

Released migrations are never edited: add the next one instead. Self-contained (no import of
the models).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004_user_deactivated_at"
down_revision: str | None = "0003_web_sign_in"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)

_users = sa.table(
    "users",
    sa.column("active", sa.Boolean()),
    sa.column("deactivated_at", _TS),
)


def upgrade() -> None:
    op.add_column("users", sa.Column("deactivated_at", _TS, nullable=True))
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":  # stored naive UTC there (models.UTCDateTime)
        now = now.replace(tzinfo=None)
    op.execute(_users.update().where(_users.c.active.is_(False)).values(deactivated_at=now))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch would copy and drop "users",
    # which the other tables' foreign keys forbid.
    op.drop_column("users", "deactivated_at")
