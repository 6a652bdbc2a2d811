"""A practitioner's enrolled voice: one encrypted speaker embedding a user.

Revision ID: 0012_voice_enrolment
Revises: 0010_note_job_unique
Create Date: 2026-12-07

``voice_enrolments``: the user, the embedding (AES-256-GCM under a data key of its own), that
data key wrapped by the key-encryption key ``kek_id``, the speaker model's sha256, the sample's
seconds of speech and when. Never the sample itself.

Released migrations are never edited: add the next one instead. Self-contained (no import of
the models).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_voice_enrolment"
down_revision: str | None = "0010_note_job_unique"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voice_enrolments",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("kek_id", sa.String(64), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("model_sha256", sa.String(64), nullable=False),
        sa.Column("speech_s", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_voice_enrolments_user_id_users"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_voice_enrolments"),
    )
    op.create_index("ix_voice_enrolments_kek_id", "voice_enrolments", ["kek_id"])


def downgrade() -> None:
    op.drop_index("ix_voice_enrolments_kek_id", table_name="voice_enrolments")
    op.drop_table("voice_enrolments")
