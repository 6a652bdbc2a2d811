"""Audit hash chain: seq, prev_hash and hash on audit_events, the audit_chain_head row.

Revision ID: 0002_audit_chain
Revises: 0001_initial
Create Date: 2026-01-31

Existing records are chained in the order they were listed until now (``at``, then ``id``).
The hash is encoding version 1 of ``assistant/storage/audit_chain.py``, copied here so that this
file keeps describing exactly what it did (``tests/test_audit_chain.py`` checks the two agree).

Released migrations are never edited: add the next one instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002_audit_chain"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
_BATCH = 1000

_events = sa.table(
    "audit_events",
    sa.column("id", sa.String(32)),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor_id", sa.String(32)),
    sa.column("action", sa.String(64)),
    sa.column("object_type", sa.String(32)),
    sa.column("object_id", sa.String(64)),
    sa.column("request_id", sa.String(64)),
    sa.column("details", sa.JSON()),
    sa.column("seq", sa.BigInteger()),
    sa.column("prev_hash", sa.String(64)),
    sa.column("hash", sa.String(64)),
)


def _hash_v1(row: Any, prev_hash: str) -> str:
    at: datetime = row.at
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)  # SQLite: naive UTC
    payload = {
        "v": 1,
        "id": row.id,
        "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": row.actor_id,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "request_id": row.request_id,
        "details": dict(row.details or {}),
        "prev_hash": prev_hash,
    }
    text = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _chain_existing_rows(conn: sa.Connection) -> tuple[int, str]:
    """Number and hash the rows in (at, id) order, a batch at a time; return the head."""
    t = _events.c
    seq, prev = 0, GENESIS
    last: tuple[Any, str] | None = None
    while True:
        stmt = sa.select(_events).order_by(t.at, t.id).limit(_BATCH)
        if last is not None:
            stmt = stmt.where(sa.tuple_(t.at, t.id) > last)
        rows = conn.execute(stmt).all()
        if not rows:
            return seq, prev
        changes = []
        for row in rows:
            seq += 1
            digest = _hash_v1(row, prev)
            changes.append({"b_id": row.id, "b_seq": seq, "b_prev": prev, "b_hash": digest})
            prev = digest
        conn.execute(
            _events.update()
            .where(t.id == sa.bindparam("b_id"))
            .values(
                seq=sa.bindparam("b_seq"),
                prev_hash=sa.bindparam("b_prev"),
                hash=sa.bindparam("b_hash"),
            ),
            changes,
        )
        last = (rows[-1].at, rows[-1].id)


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_events", sa.Column("hash", sa.String(64), nullable=True))
    head_seq, head_hash = _chain_existing_rows(op.get_bind())
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("uq_audit_events_seq", ["seq"])
        batch.create_unique_constraint("uq_audit_events_hash", ["hash"])
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_chain_head_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_chain_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": head_seq, "hash": head_hash}])


def downgrade() -> None:
    op.drop_table("audit_chain_head")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint("uq_audit_events_hash", type_="unique")
        batch.drop_constraint("uq_audit_events_seq", type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
