"""Initial schema: users, recordings, jobs, transcripts, pseudonym maps, notes, revisions, audit.

Revision ID: 0001_initial
Revises:
Create Date: 2025-01-01

Released migrations are never edited: add the next one instead. This file is self-contained
(no import of the models) so it keeps describing exactly what it created.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.String(32)
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint(
            "role IN ('practitioner', 'manager', 'auditor', 'admin')",
            name="ck_users_role",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("token_hash", name="uq_users_token_hash"),
    )
    op.create_table(
        "recordings",
        sa.Column("id", _ID, nullable=False),
        sa.Column("owner_id", _ID, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("visit_type", sa.String(64), nullable=True),
        sa.Column("visit_date", sa.Date(), nullable=True),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("audio_path", sa.String(1024), nullable=True),
        sa.Column("audio_sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("erased_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name="fk_recordings_owner_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_recordings"),
    )
    op.create_index("ix_recordings_owner_id", "recordings", ["owner_id"])
    op.create_table(
        "notes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("recording_id", _ID, nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("template_version", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("ai_draft", sa.JSON(), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("approved_at", _TS, nullable=True),
        sa.Column("approved_by", _ID, nullable=True),
        sa.Column("edit_distance", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'approved')", name="ck_notes_status"),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["users.id"], name="fk_notes_approved_by_users"
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name="fk_notes_recording_id_recordings"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notes"),
    )
    op.create_index("ix_notes_recording_id", "notes", ["recording_id"])
    op.create_table(
        "jobs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("recording_id", _ID, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("stage", sa.String(32), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("heartbeat_at", _TS, nullable=True),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("note_id", _ID, nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'transcribing', 'redacting', 'drafting', 'done', 'failed')",
            name="ck_jobs_status",
        ),
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name="ck_jobs_progress"),
        sa.CheckConstraint("attempts >= 0", name="ck_jobs_attempts"),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name="fk_jobs_note_id_notes"
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"], ["recordings.id"], name="fk_jobs_recording_id_recordings"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_recording_id", "jobs", ["recording_id"])
    op.create_index("ix_jobs_status_created_at", "jobs", ["status", "created_at"])
    op.create_table(
        "transcripts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("recording_id", _ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("kind IN ('raw', 'redacted')", name="ck_transcripts_kind"),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name="fk_transcripts_recording_id_recordings",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_transcripts"),
        sa.UniqueConstraint(
            "recording_id", "kind", name="uq_transcripts_recording_id_kind"
        ),
    )
    op.create_table(
        "pseudonym_maps",
        sa.Column("recording_id", _ID, nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name="fk_pseudonym_maps_recording_id_recordings",
        ),
        sa.PrimaryKeyConstraint("recording_id", name="pk_pseudonym_maps"),
    )
    op.create_table(
        "note_revisions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("note_id", _ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("author_id", _ID, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("number >= 1", name="ck_note_revisions_number"),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name="fk_note_revisions_author_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name="fk_note_revisions_note_id_notes"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_note_revisions"),
        sa.UniqueConstraint(
            "note_id", "number", name="uq_note_revisions_note_id_number"
        ),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor_id", _ID, nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name="fk_audit_events_actor_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_actor_id", "audit_events", ["actor_id"])
    op.create_index(
        "ix_audit_events_object", "audit_events", ["object_type", "object_id"]
    )


def downgrade() -> None:
    for table in (
        "audit_events",
        "note_revisions",
        "pseudonym_maps",
        "transcripts",
        "jobs",
        "notes",
        "recordings",
        "users",
    ):
        op.drop_table(table)
