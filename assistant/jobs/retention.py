"""Retention: delete what has outlived the council's retention periods, and say when it will.

Four periods, each a setting (``retention_*_days``; unset keeps that content):

==================  ===============================  ==============================================
kind                counted from                     deleted
==================  ===============================  ==============================================
deactivated_owner   the owner's deactivation         the whole recording (``repo.erase_recording``)
unapproved_draft    the upload, while no note of it  the whole recording (``repo.erase_recording``)
                    is approved
audio               the note's approval              the audio file (``repo.erase_audio``)
transcripts         the note's approval              raw and redacted transcripts
                                                     (``repo.erase_transcripts``); the name map
                                                     stays, the approved note's real names need it
==================  ===============================  ==============================================

A pass visits the kinds in that order, so a recording erased whole is not visited again. Each
item is one transaction: lock the recording (``repo.lock_recording``), ask again whether it has
expired, delete through the erasure functions, append a ``retention.delete`` audit record
(ids, kind, counts) and commit; the audio file is unlinked after the commit. If two passes
(two processes) take the same item, the second finds it no longer expired: each deletion
happens, and is counted and audited, once. A process killed between the commit and the
unlink leaves a file no recording points at, which the next start-up removes
(``api.upload.remove_stale_uploads``).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from assistant.settings import Settings
from assistant.storage import repo
from assistant.storage.db import session_scope

log = logging.getLogger(__name__)

#: The audit action of every deletion a retention pass makes.
AUDIT_ACTION = "retention.delete"


class RetentionKind(StrEnum):
    DEACTIVATED_OWNER = "deactivated_owner"
    UNAPPROVED_DRAFT = "unapproved_draft"
    AUDIO = "audio"
    TRANSCRIPTS = "transcripts"


#: Kinds that erase the whole recording.
WHOLE = frozenset({RetentionKind.DEACTIVATED_OWNER, RetentionKind.UNAPPROVED_DRAFT})


@dataclass(frozen=True)
class RetentionPolicy:
    """The periods; None keeps that content. ``RetentionPolicy()`` deletes nothing."""

    deactivated_users: timedelta | None = None
    unapproved_drafts: timedelta | None = None
    audio_after_approval: timedelta | None = None
    transcripts_after_approval: timedelta | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        def days(n: int | None) -> timedelta | None:
            return timedelta(days=n) if n else None

        return cls(
            deactivated_users=days(settings.retention_deactivated_users_days),
            unapproved_drafts=days(settings.retention_unapproved_drafts_days),
            audio_after_approval=days(settings.retention_audio_after_approval_days),
            transcripts_after_approval=days(settings.retention_transcripts_after_approval_days),
        )

    def period(self, kind: RetentionKind) -> timedelta | None:
        return {
            RetentionKind.DEACTIVATED_OWNER: self.deactivated_users,
            RetentionKind.UNAPPROVED_DRAFT: self.unapproved_drafts,
            RetentionKind.AUDIO: self.audio_after_approval,
            RetentionKind.TRANSCRIPTS: self.transcripts_after_approval,
        }[kind]

    def periods(self) -> list[tuple[RetentionKind, timedelta]]:
        """The configured periods, in the order a pass visits them."""
        return [(k, p) for k in RetentionKind if (p := self.period(k)) is not None]

    @property
    def configured(self) -> bool:
        return bool(self.periods())


@dataclass(frozen=True)
class RetentionItem:
    kind: RetentionKind
    recording_id: str


@dataclass
class RetentionReport:
    """What a pass deleted (or, dry run, would delete), and what failed."""

    dry_run: bool
    deleted: list[RetentionItem] = field(default_factory=list)
    failed: list[RetentionItem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        n = Counter(item.kind for item in self.deleted)
        return {kind.value: n[kind] for kind in RetentionKind}

    def lines(self) -> list[str]:
        """One line an item (kind and recording id), then the counts."""
        verb = "would delete" if self.dry_run else "deleted"
        out = [f"{verb} {i.kind.value} of recording {i.recording_id}" for i in self.deleted]
        out += [f"FAILED {i.kind.value} of recording {i.recording_id}" for i in self.failed]
        counts = ", ".join(f"{k} {n}" for k, n in self.counts().items())
        dry = " (dry run: nothing deleted)" if self.dry_run else ""
        failed = f", {len(self.failed)} failed" if self.failed else ""
        out.append(f"retention{dry}: {len(self.deleted)} {verb} ({counts}){failed}")
        return out


def _expired(
    s: Session, kind: RetentionKind, cutoff: datetime, recording_id: str | None = None
) -> list[str]:
    if kind is RetentionKind.DEACTIVATED_OWNER:
        return repo.owner_deactivated_before(session=s, cutoff=cutoff, recording_id=recording_id)
    if kind is RetentionKind.UNAPPROVED_DRAFT:
        return repo.unapproved_before(session=s, cutoff=cutoff, recording_id=recording_id)
    return repo.approved_before(
        session=s,
        cutoff=cutoff,
        holding="audio" if kind is RetentionKind.AUDIO else "transcripts",
        recording_id=recording_id,
    )


def find_expired(
    sessions: sessionmaker[Session], policy: RetentionPolicy, *, now: datetime
) -> list[RetentionItem]:
    """Everything expired at ``now``, in pass order; read only. A recording erased whole
    appears once (its audio and transcripts go with it)."""
    items: list[RetentionItem] = []
    whole: set[str] = set()
    with session_scope(sessions) as s:
        for kind, period in policy.periods():
            for rid in _expired(s, kind, now - period):
                if rid not in whole:
                    items.append(RetentionItem(kind, rid))
                if kind in WHOLE:
                    whole.add(rid)
    return items


def delete_item(
    sessions: sessionmaker[Session],
    policy: RetentionPolicy,
    item: RetentionItem,
    *,
    now: datetime,
    via: str,
) -> bool:
    """Delete one item if it is still expired at ``now``, audited in the same transaction.
    Returns False when there was nothing (left) to delete."""
    period = policy.period(item.kind)
    if period is None:
        return False
    rid = item.recording_id
    with session_scope(sessions) as s:
        repo.lock_recording(session=s, recording_id=rid)  # first: see its docstring
        if rid not in _expired(s, item.kind, now - period, recording_id=rid):
            return False
        details: dict[str, Any] = {"kind": item.kind.value, "period_days": period.days}
        if item.kind in WHOLE:
            paths = repo.erase_recording(session=s, recording_id=rid)
        elif item.kind is RetentionKind.AUDIO:
            paths = repo.erase_audio(session=s, recording_id=rid)
        else:
            paths = []
            details["transcripts"] = repo.erase_transcripts(session=s, recording_id=rid)
        details |= {"files": len(paths), "via": via}
        repo.add_audit(
            session=s,
            actor_id=None,
            action=AUDIT_ACTION,
            object_type="recording",
            object_id=rid,
            request_id=None,
            details=details,
        )
    for path in paths:
        _unlink(path, item)
    return True


def _unlink(path: Path, item: RetentionItem) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:  # forgotten by the database already; start-up removes orphans
        log.warning(
            "retention: audio of recording %s not removed (%s)",
            item.recording_id,
            type(exc).__name__,
        )


def run_retention(
    sessions: sessionmaker[Session],
    policy: RetentionPolicy,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    via: str = "worker",
) -> RetentionReport:
    """One pass: find what has expired at ``now`` (default: the current time) and, unless
    ``dry_run``, delete it item by item. ``via`` (worker, cli) goes into each audit record."""
    now = now or repo.utcnow()
    report = RetentionReport(dry_run=dry_run)
    if not policy.configured:
        return report
    items = find_expired(sessions, policy, now=now)
    if dry_run:
        report.deleted = items
        return report
    for item in items:
        try:
            if delete_item(sessions, policy, item, now=now, via=via):
                report.deleted.append(item)
                log.info("retention: deleted %s of recording %s", item.kind, item.recording_id)
        except Exception as exc:  # noqa: BLE001 - one failure must not stop the pass
            report.failed.append(item)
            log.error(
                "retention: %s of recording %s failed: %s",
                item.kind,
                item.recording_id,
                type(exc).__name__,
            )
    if report.deleted or report.failed:
        log.info("retention pass: %s", report.lines()[-1])
    return report


@dataclass(frozen=True)
class Expiry:
    """When retention deletes each part of a visit, as things stand (None: kept). A time in
    the past: deleted already, or at the next pass. Approving a draft replaces ``note_at``
    (the unapproved-draft period) with the after-approval periods of audio and transcripts."""

    note_at: datetime | None
    audio_at: datetime | None
    transcripts_at: datetime | None


def expiry(
    policy: RetentionPolicy,
    *,
    uploaded_at: datetime,
    approved_at: datetime | None,
    owner_deactivated_at: datetime | None,
) -> Expiry:
    """The same rules as a pass (``find_expired``), as dates for the owner to be warned by.
    ``owner_deactivated_at``: None while the owner is active."""
    whole = []
    if owner_deactivated_at is not None and policy.deactivated_users:
        whole.append(owner_deactivated_at + policy.deactivated_users)
    if approved_at is None and policy.unapproved_drafts:
        whole.append(uploaded_at + policy.unapproved_drafts)
    note_at = min(whole, default=None)

    def part(period: timedelta | None) -> datetime | None:
        times = whole + ([approved_at + period] if approved_at and period else [])
        return min(times, default=None)

    return Expiry(
        note_at=note_at,
        audio_at=part(policy.audio_after_approval),
        transcripts_at=part(policy.transcripts_after_approval),
    )
