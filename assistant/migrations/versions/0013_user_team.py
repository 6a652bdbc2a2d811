"""A user's team: what a manager's reach is limited to.

Revision ID: 0013_user_team
Revises: 0012_voice_enrolment
Create Date: 2026-12-07

``users.team``: a short organisational label ("North CIN"), null for none, indexed (the lists
a manager sees select owners by it). Existing users get no team, so every manager keeps
seeing every visit until teams are set.

Released migrations are never edited: add the next one instead. Self-contained (no import of
the models).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_user_team"
down_revision: str | None = "0012_voice_enrolment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMN, not batch mode: batch mode recreates "users", which the other
    # tables' foreign keys forbid
    op.add_column("users", sa.Column("team", sa.String(64), nullable=True))
    op.create_index("ix_users_team", "users", ["team"])


def downgrade() -> None:
    op.drop_index("ix_users_team", table_name="users")
    op.drop_column("users", "team")
