"""A note records the job that drafted it, at most one note per job.

Revision ID: 0010_note_job_unique
Revises: 0011_oidc_sign_in
Create Date: 2026-12-06

``notes.job_id`` with a unique index: a queue runs each stage at least once, so a drafting stage
run twice (a worker killed after it stored the note but before the queue heard) must not store a
second note; the index makes the database refuse it. Filled from ``jobs.note_id`` for the notes
already stored. A unique index rather than a constraint: SQLite adds one without rebuilding the
table (batch mode), which the audit keys refuse.

After 0011 although numbered before it: 0011 reached main first, chained to 0009, and a
database already at 0011 must still get this one (numbered 0010 as assigned; Alembic follows
``down_revision``, not the number).

Released migrations are never edited: add the next one instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_note_job_unique"
down_revision: str | None = "0011_oidc_sign_in"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("notes", sa.Column("job_id", sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE notes SET job_id = (SELECT MIN(jobs.id) FROM jobs WHERE jobs.note_id = notes.id)"
    )
    op.create_index("uq_notes_job_id", "notes", ["job_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_notes_job_id", table_name="notes")
    op.drop_column("notes", "job_id")
