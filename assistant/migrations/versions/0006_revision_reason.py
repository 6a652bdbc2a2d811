"""Why a revision was written when its author did not type it: ``note_revisions.reason``.

Revision ID: 0006_revision_reason
Revises: 0005_job_status_diarising
Create Date: 2026-12-06

A practitioner's correction of who spoke re-attributes a note's statements without drafting
again; the revision it writes says so ("Speakers corrected: S2 Parent -> Child"). Labels are
roles, never names. Null for the AI draft and for ordinary edits.

Released migrations are never edited: add the next one instead. Self-contained (no import of
the models).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_revision_reason"
down_revision: str | None = "0005_job_status_diarising"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("note_revisions", sa.Column("reason", sa.String(500), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch would copy and drop the table,
    # which the other tables' foreign keys forbid.
    op.drop_column("note_revisions", "reason")
