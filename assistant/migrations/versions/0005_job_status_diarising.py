"""Job status 'diarising': the speaker-separation stage between transcribing and redacting.

Revision ID: 0005_job_status_diarising
Revises: 0004_user_deactivated_at
Create Date: 2026-12-06

Swaps the CHECK constraint on ``jobs.status`` (enumerations are CHECK constraints, not native
ENUM types, so that a new value is this one migration on both SQLite and PostgreSQL).

Released migrations are never edited: add the next one instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_job_status_diarising"
down_revision: str | None = "0004_user_deactivated_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = "status IN ('queued', 'transcribing', 'redacting', 'drafting', 'done', 'failed')"
_AFTER = (
    "status IN ('queued', 'transcribing', 'diarising', 'redacting', 'drafting', 'done', 'failed')"
)


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint("ck_jobs_status", type_="check")
        batch.create_check_constraint("ck_jobs_status", _AFTER)


def downgrade() -> None:
    # a job caught diarising goes back to the stage before it, which the old schema knows
    op.execute("UPDATE jobs SET status = 'transcribing' WHERE status = 'diarising'")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint("ck_jobs_status", type_="check")
        batch.create_check_constraint("ck_jobs_status", _BEFORE)
