"""Safeguarding confirmations per statement, and the approval record on notes.

Revision ID: 0007_statement_review
Revises: 0006_revision_reason
Create Date: 2026-12-06

``statement_confirmations``: a practitioner confirmed one statement that raises a safeguarding
category (keyed by the sha256 of the statement's content, so an edit needs a new confirmation).
``notes.approval_record``: which AI statements were kept, edited or removed, computed at
approval (ids and counts, no text).

Released migrations are never edited: add the next one instead. Self-contained (no import of
the models).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_statement_review"
down_revision: str | None = "0006_revision_reason"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.String(32)
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("notes", sa.Column("approval_record", sa.JSON(), nullable=True))
    op.create_table(
        "statement_confirmations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("note_id", _ID, nullable=False),
        sa.Column("statement_sha256", sa.String(64), nullable=False),
        sa.Column("section", sa.String(64), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("confirmed_by", _ID, nullable=False),
        sa.Column("confirmed_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name="fk_statement_confirmations_note_id_notes"
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by"], ["users.id"], name="fk_statement_confirmations_confirmed_by_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_statement_confirmations"),
        sa.UniqueConstraint(
            "note_id", "statement_sha256", name="uq_statement_confirmations_note_id"
        ),
    )


def downgrade() -> None:
    op.drop_table("statement_confirmations")
    # plain drop_column: batch mode would recreate notes, which audit foreign keys refuse
    op.drop_column("notes", "approval_record")
