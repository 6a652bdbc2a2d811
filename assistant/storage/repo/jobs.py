"""Jobs: the queue (claim, requeue after a crash), progress, stage timings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from assistant.domain import JobStatus
from assistant.storage.models import Job, utcnow
from assistant.storage.repo._base import FINISHED, IN_PROGRESS, get_row
from assistant.storage.repo.recordings import get_recording, live_recording

_JOB_FIELDS = frozenset(
    {
        "status",
        "stage",
        "progress",
        "attempts",
        "error_code",
        "error_message",
        "started_at",
        "finished_at",
        "heartbeat_at",
        "timings",
        "note_id",
    }
)


def create_job(*, session: Session, recording_id: str) -> Job:
    live_recording(session, recording_id)
    job = Job(recording_id=recording_id, status=JobStatus.QUEUED.value, timings={})
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, job_id: str) -> Job:
    return get_row(session, Job, job_id, "job")


def lock_job(*, session: Session, job_id: str) -> Job:
    """The job's row, locked until the transaction ends (PostgreSQL ``FOR UPDATE``; SQLite
    has one writer at a time anyway), read fresh."""
    stmt = (
        select(Job)
        .where(Job.id == job_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    job = session.scalars(stmt).one_or_none()
    return job if job is not None else get_job(session=session, job_id=job_id)  # NotFound


def list_jobs_for_recording(*, session: Session, recording_id: str) -> list[Job]:
    get_recording(session=session, recording_id=recording_id)
    stmt = select(Job).where(Job.recording_id == recording_id).order_by(Job.created_at, Job.id)
    return list(session.scalars(stmt))


def latest_jobs(*, session: Session, recording_ids: Sequence[str]) -> dict[str, Job]:
    """Each recording's newest job (a list page's status column), in one query."""
    if not recording_ids:
        return {}
    stmt = (
        select(Job)
        .where(Job.recording_id.in_(recording_ids))
        .order_by(Job.recording_id, Job.created_at, Job.id)
    )
    return {job.recording_id: job for job in session.scalars(stmt)}  # the last one wins


def claim_next_job(*, session: Session, status: JobStatus = JobStatus.TRANSCRIBING) -> Job | None:
    """Atomically move the oldest queued job to ``status``, stamping start and heartbeat.

    PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED``, so concurrent workers take different jobs
    without waiting. Elsewhere (SQLite): a conditional ``UPDATE ... WHERE status='queued'``
    whose rowcount tells whether this caller won; a loser retries with the next job. Commit soon
    after claiming: on PostgreSQL the row lock is held until then.
    """
    if status not in IN_PROGRESS:
        raise ValueError(f"a claimed job must be in progress, not {status}")
    now = utcnow()
    changes = {
        "status": status.value,
        "stage": status.value,
        "progress": 0.0,
        "started_at": now,
        "heartbeat_at": now,
        "updated_at": now,
    }
    oldest = (
        select(Job)
        .where(Job.status == JobStatus.QUEUED.value)
        .order_by(Job.created_at, Job.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = oldest.with_for_update(skip_locked=True).execution_options(populate_existing=True)
        job = session.scalars(stmt).one_or_none()
        if job is None:
            return None
        for key, value in changes.items():
            setattr(job, key, value)
        session.flush()
        return job

    while True:
        job_id = session.scalar(oldest.with_only_columns(Job.id))
        if job_id is None:
            return None
        result = cast(
            CursorResult[Any],
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
                .values(**changes)
                .execution_options(synchronize_session=False)
            ),
        )
        if result.rowcount == 1:
            return session.get(Job, job_id, populate_existing=True)


def update_job(*, session: Session, job_id: str, **fields: Any) -> Job:
    """Set the given columns (and ``updated_at``). Finishing stamps ``finished_at`` if not given."""
    unknown = set(fields) - _JOB_FIELDS
    if unknown:
        raise TypeError(f"update_job got unknown fields: {sorted(unknown)}")
    job = get_job(session=session, job_id=job_id)
    if "status" in fields:
        fields["status"] = JobStatus(fields["status"]).value
        if fields["status"] in FINISHED:
            fields.setdefault("finished_at", utcnow())
    if "progress" in fields and not 0.0 <= float(fields["progress"]) <= 1.0:
        raise ValueError("progress must be within 0..1")
    if "timings" in fields:
        fields["timings"] = dict(fields["timings"])
    for key, value in fields.items():
        setattr(job, key, value)
    job.updated_at = utcnow()
    session.flush()
    return job


def record_stage_timing(
    *, session: Session, job_id: str, stage: str, wall_s: float, rtf: float | None
) -> Job:
    """Add ``{stage: {"wall_s", "rtf"}}`` to the job's timings (JSON is replaced, not mutated)."""
    job = get_job(session=session, job_id=job_id)
    timings = {**job.timings, stage: {"wall_s": float(wall_s), "rtf": rtf}}
    return update_job(session=session, job_id=job_id, timings=timings)


def requeue_interrupted_jobs(
    *, session: Session, max_attempts: int, stale_before: datetime | None = None
) -> int:
    """At start-up: every job left in transcribing/diarising/redacting/drafting was
    interrupted.

    Each goes back to 'queued' with ``attempts + 1``, or to 'failed' with error_code
    'interrupted' once ``attempts + 1`` reaches ``max_attempts``. With ``stale_before``, only
    jobs whose heartbeat is older than that are touched (for a watchdog while running).
    Returns how many jobs were requeued or failed.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    stmt = select(Job).where(Job.status.in_([s.value for s in IN_PROGRESS]))
    if stale_before is not None:
        stmt = stmt.where((Job.heartbeat_at.is_(None)) | (Job.heartbeat_at < stale_before))
    jobs = list(session.scalars(stmt.with_for_update().execution_options(populate_existing=True)))
    now = utcnow()
    for job in jobs:
        job.attempts += 1
        job.updated_at = now
        if job.attempts >= max_attempts:
            job.status = JobStatus.FAILED.value
            job.error_code = "interrupted"
            job.error_message = f"interrupted {job.attempts} times, last during {job.stage}"
            job.finished_at = now
        else:
            job.status = JobStatus.QUEUED.value
            job.progress = 0.0
            job.started_at = None
            job.heartbeat_at = None
    session.flush()
    return len(jobs)


def mean_stage_rtf(*, session: Session, last: int = 20) -> dict[str, float]:
    """Average real-time factor per stage over the last finished jobs, for time-left estimates."""
    stmt = (
        select(Job.timings)
        .where(Job.status == JobStatus.DONE.value)
        .order_by(Job.finished_at.desc())
        .limit(last)
    )
    sums: dict[str, list[float]] = {}
    for timings in session.scalars(stmt):
        for stage, t in (timings or {}).items():
            if isinstance(t, dict) and t.get("rtf") is not None:
                sums.setdefault(stage, []).append(float(t["rtf"]))
    return {stage: sum(v) / len(v) for stage, v in sums.items()}
