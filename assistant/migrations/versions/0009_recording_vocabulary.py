"""Recordings keep the upload's own vocabulary for speech recognition.

Revision ID: 0009_recording_vocabulary
Revises: 0008_encrypt_at_rest
Create Date: 2026-12-06

``recordings.vocabulary``: the terms given with the upload (names of local schools, estates and
services), one a line, handed to Whisper before the council's list; null when none were given.
Erasing a recording clears it with the rest of its content.

Released migrations are never edited: add the next one instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_recording_vocabulary"
down_revision: str | None = "0008_encrypt_at_rest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("recordings", sa.Column("vocabulary", sa.Text(), nullable=True))


def downgrade() -> None:
    # plain drop, not batch mode: batch mode recreates the table, which the audit keys refuse
    op.drop_column("recordings", "vocabulary")
