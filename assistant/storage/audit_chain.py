"""The audit trail as a hash chain: how a record is hashed, how the chain is checked and exported.

Each record's ``hash`` is the sha256 of a canonical JSON encoding (keys sorted, no spaces,
ASCII) of its fields and of ``prev_hash``, the hash of the record before it (``GENESIS`` for
the first). Changing, removing, inserting or moving a record therefore breaks a link that
``verify_chain`` finds and names. ``seq`` numbers the records 1, 2, 3 ... so that a removal
shows as a gap; it is not hashed, the link through ``prev_hash`` fixes the order.

Anyone who can write to the database and knows this encoding could rebuild the whole chain
after tampering; what stops that is a head (``seq``, ``hash``) kept outside the database: an
auditor keeps the head of each export and later checks the chain still passes through it
(``anchors``), which proves the log only grew since.

Encoding version 1 (frozen; ``migrations/versions/0002_audit_chain.py`` holds a copy)::

    {"action", "actor_id", "at": "YYYY-MM-DDTHH:MM:SS.ffffffZ", "details", "id",
     "object_id", "object_type", "prev_hash", "request_id", "v": 1}
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Generator, Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.storage.models import AuditChainHead, AuditEvent, utcnow

GENESIS = "0" * 64
HEAD_ID = 1
ENCODING_VERSION = 1
EXPORT_COLUMNS = (
    "seq",
    "id",
    "at",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "request_id",
    "details",
    "prev_hash",
    "hash",
)


def canonical_time(at: datetime) -> str:
    """``at`` as hashed and exported: UTC, microseconds, e.g. ``2026-01-31T09:05:00.000000Z``."""
    if at.tzinfo is None:  # never from our UTC columns; refuse rather than guess
        raise ValueError("naive datetime in the audit chain")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def record_hash(
    *,
    id: str,
    at: datetime,
    actor_id: str | None,
    action: str,
    object_type: str,
    object_id: str | None,
    request_id: str | None,
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """The sha256 (hex) of one record's canonical encoding, version 1 (see the module doc)."""
    payload = {
        "v": ENCODING_VERSION,
        "id": id,
        "at": canonical_time(at),
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "request_id": request_id,
        "details": dict(details),
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("ascii")).hexdigest()


def hash_of(event: AuditEvent) -> str:
    """What ``event.hash`` must be, recomputed from its stored fields."""
    return record_hash(
        id=event.id,
        at=event.at,
        actor_id=event.actor_id,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        request_id=event.request_id,
        details=event.details or {},
        prev_hash=event.prev_hash,
    )


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> ChainHead:
        """``SEQ:HASH`` as printed by ``caseassist audit verify`` and held in exports."""
        seq, _, digest = text.strip().partition(":")
        if not seq.isdigit() or len(digest) != 64 or digest.strip("0123456789abcdef"):
            raise ValueError("a chain head is written SEQ:HASH (a number, a colon, 64 hex digits)")
        return cls(int(seq), digest)


#: edited: a record's fields were changed; deleted: records are missing (a gap, or the end);
#: reordered: a record was moved or renumbered; inserted: a record claims a place it never had;
#: broken_link: a record does not follow the one before it (that one re-hashed, or records
#: between removed and renumbered); head: the head row disagrees with the last record;
#: anchor: an earlier export's head is no longer in the chain.
BreakKind = Literal["edited", "deleted", "reordered", "inserted", "broken_link", "head", "anchor"]


@dataclass(frozen=True)
class ChainBreak:
    """The first broken link: which record (id and seq, when there is one) and what is wrong.
    Ids and hashes only: never a record's details."""

    kind: BreakKind
    record_id: str | None
    seq: int | None
    message: str


@dataclass(frozen=True)
class ChainReport:
    records: int
    head: ChainHead
    problem: ChainBreak | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def read_head(session: Session) -> ChainHead | None:
    """The stored head, read afresh (None: its row was removed)."""
    row = session.get(AuditChainHead, HEAD_ID, populate_existing=True)
    return ChainHead(row.seq, row.hash) if row is not None else None


def _events(session: Session, up_to: int) -> Generator[AuditEvent, None, None]:
    """Records up to ``seq`` ``up_to`` in chain order, streamed (the table can be large).

    Records appended after the head was read (``seq > up_to``) belong to a later check."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.seq <= up_to)
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=1000)
    )
    result = session.scalars(stmt)
    try:
        for event in result:
            yield event
            session.expunge(event)  # keep memory flat over a long chain
    finally:
        result.close()  # a check that stops early must not leave a server-side cursor open


def _who(event: AuditEvent) -> str:
    return f"record {event.id} (seq {event.seq})"


def _broken_link(session: Session, event: AuditEvent, before: AuditEvent | None) -> ChainBreak:
    """Why ``event`` does not follow ``before`` (None: it is the first), though its own hash
    matches its fields."""
    want_seq = before.seq + 1 if before is not None else 1
    if event.prev_hash == (before.hash if before is not None else GENESIS):
        return ChainBreak(  # the link holds: only the seq number was changed
            "reordered", event.id, event.seq, f"{_who(event)} was renumbered from seq {want_seq}"
        )
    follows = session.scalars(select(AuditEvent).where(AuditEvent.hash == event.prev_hash)).first()
    if follows is not None:
        return ChainBreak(
            "reordered",
            event.id,
            event.seq,
            f"{_who(event)} was appended after {_who(follows)}, not after the record before it",
        )
    if event.seq > want_seq:
        return ChainBreak(
            "deleted",
            event.id,
            event.seq,
            f"{event.seq - want_seq} record(s) missing before {_who(event)}: "
            f"seq {want_seq} to {event.seq - 1}",
        )
    if event.prev_hash == GENESIS:
        return ChainBreak(
            "inserted", event.id, event.seq, f"{_who(event)} claims to be the first record"
        )
    if before is None:
        return ChainBreak(
            "deleted", event.id, event.seq, f"the record(s) before {_who(event)} are missing"
        )
    return ChainBreak(
        "broken_link",
        event.id,
        event.seq,
        f"{_who(event)} does not follow {_who(before)}: that record was changed and its hash "
        "rewritten, or records between them were removed and the rest renumbered",
    )


def verify_chain(session: Session, anchors: Iterable[ChainHead] = ()) -> ChainReport:
    """Check every record's hash and link, then the head row, then each ``anchor`` (a head kept
    from an earlier export: the record at its seq must still have that hash). Stops at the
    first problem."""
    anchor_at = {a.seq: a for a in anchors}
    head = read_head(session)
    if head is None:
        missing = ChainBreak("head", None, None, "the chain head row is missing")
        return ChainReport(0, ChainHead(0, GENESIS), missing)
    before: AuditEvent | None = None
    count = 0
    problem: ChainBreak | None = None
    with closing(_events(session, head.seq)) as events:
        for event in events:
            count += 1
            problem = _check(session, event, before, anchor_at.get(event.seq))
            if problem is not None:
                break
            before = event
    if problem is None:
        problem = _check_end(head, before, anchor_at)
    return ChainReport(count, head, problem)


def _check(
    session: Session, event: AuditEvent, before: AuditEvent | None, anchor: ChainHead | None
) -> ChainBreak | None:
    if hash_of(event) != event.hash:
        return ChainBreak(
            "edited",
            event.id,
            event.seq,
            f"{_who(event)} was changed: its fields do not match its hash",
        )
    want_hash, want_seq = (before.hash, before.seq + 1) if before is not None else (GENESIS, 1)
    if event.prev_hash != want_hash or event.seq != want_seq:
        return _broken_link(session, event, before)
    if anchor is not None and anchor.hash != event.hash:
        return ChainBreak(
            "anchor",
            event.id,
            event.seq,
            f"{_who(event)} is not the record an earlier export ended on (head {anchor}): "
            "the chain up to it was rebuilt",
        )
    return None


def _check_end(
    head: ChainHead, last: AuditEvent | None, anchor_at: Mapping[int, ChainHead]
) -> ChainBreak | None:
    last_seq, last_hash = (last.seq, last.hash) if last is not None else (0, GENESIS)
    if head.seq > last_seq:
        return ChainBreak(
            "deleted",
            None,
            last_seq + 1,
            f"the last {head.seq - last_seq} record(s) are missing: the chain ends at seq "
            f"{last_seq} but its head is seq {head.seq}",
        )
    if head.hash != last_hash:
        last_one = _who(last) if last is not None else "an empty chain"
        return ChainBreak(
            "head",
            last.id if last is not None else None,
            last_seq,
            f"the chain head ({head}) does not match the hash of {last_one}",
        )
    beyond = [seq for seq in anchor_at if seq > last_seq]
    if beyond:
        return ChainBreak(
            "deleted",
            None,
            min(beyond),
            f"an earlier export ended at seq {max(beyond)}; the chain now ends at seq {last_seq}",
        )
    return None


# --- export ------------------------------------------------------------------------------
ExportFormat = Literal["csv", "json"]


def export_record(event: AuditEvent) -> dict[str, Any]:
    """One record as exported: the fields exactly as hashed, so an auditor can recompute it."""
    return {
        "seq": event.seq,
        "id": event.id,
        "at": canonical_time(event.at),
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "request_id": event.request_id,
        "details": event.details or {},
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


@dataclass(frozen=True)
class AuditExport:
    content: bytes
    media_type: str
    head: ChainHead
    records: int


def export_chain(session: Session, fmt: ExportFormat) -> AuditExport:
    """Every record up to the head, oldest first, and the head.

    JSON: ``{"format", "exported_at", "encoding", "head": {"seq", "hash"}, "records": [...]}``.
    CSV: one row per record (``details`` as its canonical JSON); the head is the last row's
    ``seq`` and ``hash`` and is also returned here for the caller to show."""
    head = read_head(session)
    if head is None:
        raise RuntimeError("the audit chain head row is missing: run caseassist audit verify")
    records = [export_record(e) for e in _events(session, head.seq)]
    if fmt == "json":
        doc = {
            "format": "caseassist-audit-export/1",
            "exported_at": canonical_time(utcnow()),
            "encoding": f"sha256 of canonical JSON, version {ENCODING_VERSION} (docs/security.md)",
            "head": {"seq": head.seq, "hash": head.hash},
            "records": records,
        }
        content = (json.dumps(doc, indent=1, ensure_ascii=True) + "\n").encode()
        return AuditExport(content, "application/json", head, len(records))
    if fmt != "csv":
        raise ValueError(f"unknown audit export format {fmt!r}")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow({**r, "details": canonical_json(r["details"])})
    return AuditExport(out.getvalue().encode(), "text/csv", head, len(records))
