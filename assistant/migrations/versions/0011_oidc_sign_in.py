"""Single sign-on (OpenID Connect): users found by (issuer, subject), sign-ins under way.

Revision ID: 0011_oidc_sign_in
Revises: 0009_recording_vocabulary
Create Date: 2026-12-06

``users.oidc_issuer`` and ``users.oidc_subject`` (null for local accounts) with a unique index
over the pair; ``oidc_logins``: the sha256 of a browser's sign-in secret, where it goes after
signing in, and when the secret was made and spent.

Released migrations are never edited: add the next one instead. Self-contained (no import of
the models).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_oidc_sign_in"
down_revision: str | None = "0009_recording_vocabulary"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.String(32)
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    # plain ADD COLUMN and CREATE INDEX, not batch mode: batch mode recreates "users", which
    # the other tables' foreign keys forbid
    op.add_column("users", sa.Column("oidc_issuer", sa.String(255), nullable=True))
    op.add_column("users", sa.Column("oidc_subject", sa.String(255), nullable=True))
    op.create_index("ix_users_oidc_identity", "users", ["oidc_issuer", "oidc_subject"], unique=True)
    op.create_table(
        "oidc_logins",
        sa.Column("id", _ID, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("next_path", sa.String(2000), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_oidc_logins"),
        sa.UniqueConstraint("token_hash", name="uq_oidc_logins_token_hash"),
    )


def downgrade() -> None:
    op.drop_table("oidc_logins")
    op.drop_index("ix_users_oidc_identity", table_name="users")
    op.drop_column("users", "oidc_subject")
    op.drop_column("users", "oidc_issuer")
