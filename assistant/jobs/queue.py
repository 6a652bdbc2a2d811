"""The shared queue (``CASEASSIST_QUEUE=procrastinate``): jobs for workers on several machines.

Why procrastinate on the PostgreSQL the service already needs, not Celery on Redis/RabbitMQ: no
broker to run, back up and secure, and a queue message is a row, so it is written **in the same
transaction** as what makes it due: the upload's job row (``assistant.api.routes.recordings``)
and each stage's saved output (``_QueuedStage.after_save``). A job can therefore never be stored
without its message, nor a stage saved without the next one queued. (Procrastinate's connector
keeps its own connections, so the message is inserted through our SQLAlchemy session with
procrastinate's own SQL function, ``procrastinate_defer_jobs_v1``.)

Our ``jobs`` table stays what the API shows; procrastinate only carries "run stage S of job J".
One task per stage, on a queue named like the CLI's stage (``transcribe``, ``diarise``,
``redact``, ``draft``), so ``caseassist worker --stages transcribe`` takes only speech
recognition. Every message carries ``lock = job id``: procrastinate runs at most one message of a
lock at a time, so two workers never run stages of the same job at once.

At-least-once, idempotent:

* a task first looks at what the job has saved; if its stage is not the one due (already done,
  or the job finished) it queues the due one, or nothing, and returns;
* a worker that dies (SIGKILL, power, the database restarting under it) leaves its message
  ``doing`` with a heartbeat that stops; every worker's sweeper (``sweep``) marks such messages
  failed after ``STALLED_S``, then queues again every unfinished job that has no live message,
  counting an attempt; at ``job_max_attempts`` the job is ``failed`` with code ``interrupted``;
* an unexpected error in a stage is retried (after ``RETRY_DELAY_S``) up to ``job_max_attempts``,
  then the job is ``failed`` with ``internal_error``; an error of the input (silence, redaction
  blocked, erased recording) fails it at once, as the embedded worker does;
* the note is created once: the job's row is locked and a note it already has is kept, and
  ``notes.job_id`` is unique (migration 0010).

A failed job is the dead letter: ``caseassist jobs retry JOB_ID`` or ``POST
/v1/admin/jobs/{id}/retry`` (admin; audited) queues it again from its last saved stage.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from assistant.domain import JobStatus, Transcript
from assistant.errors import BadInput, CaseAssistError, ConfigurationError
from assistant.jobs.worker import JobCancelled, _JobStages
from assistant.pipeline import STAGES, Engines, Stage, StageRun, run_chain
from assistant.settings import Settings
from assistant.storage import repo
from assistant.storage.db import session_scope
from assistant.storage.repo._base import FINISHED, IN_PROGRESS
from assistant.storage.repo.recordings import live_recording

if TYPE_CHECKING:
    import procrastinate
    from procrastinate.worker import Worker as ProcrastinateWorker

log = logging.getLogger(__name__)

#: ``caseassist worker --stages`` names -> the pipeline's stages; the names are also the queues.
STAGE_NAMES: dict[str, Stage] = {
    "transcribe": "transcribing",
    "diarise": "diarising",
    "redact": "redacting",
    "draft": "drafting",
}
QUEUE_OF: dict[Stage, str] = {stage: name for name, stage in STAGE_NAMES.items()}
TASK_NAME = "caseassist.run_stage"
#: A message whose worker has sent no heartbeat for this long is the message of a dead worker
#: (procrastinate's workers beat every 10 s).
STALLED_S = 30.0
SWEEP_INTERVAL_S = 10.0
RETRY_DELAY_S = 5.0
_SCHEMA_LOCK = 0x6361_7365_7175  # advisory lock key: one process creates the queue tables


# --- configuration -----------------------------------------------------------------------------
def parse_stages(value: str) -> tuple[Stage, ...]:
    """``transcribe,diarise`` -> the stages, in pipeline order; ValueError naming a bad one."""
    names = [part.strip() for part in value.split(",") if part.strip()]
    if not names:
        raise ValueError("give at least one stage: " + ",".join(STAGE_NAMES))
    unknown = [name for name in names if name not in STAGE_NAMES]
    if unknown:
        raise ValueError(
            f"unknown stage {', '.join(map(repr, unknown))}; choose from {','.join(STAGE_NAMES)}"
        )
    wanted = {STAGE_NAMES[name] for name in names}
    return tuple(stage for stage in STAGES if stage in wanted)


def check_backend(settings: Settings) -> None:
    """The queue backend needs PostgreSQL; say so rather than fail on the first job."""
    if settings.queue != "procrastinate":
        raise ConfigurationError(
            "caseassist worker needs the shared queue: set CASEASSIST_QUEUE=procrastinate (and a "
            "PostgreSQL CASEASSIST_DATABASE_URL). With the default embedded queue the service "
            "runs jobs itself."
        )
    backend = make_url(settings.resolved_database_url).get_backend_name()
    if backend != "postgresql":
        raise ConfigurationError(
            f"CASEASSIST_QUEUE=procrastinate keeps its queue in PostgreSQL, but the database URL "
            f"is {backend}: set CASEASSIST_DATABASE_URL=postgresql+psycopg://… or use "
            "CASEASSIST_QUEUE=embedded."
        )


def conninfo(settings: Settings) -> str:
    """libpq's form of the database URL (search_path and application_name options kept)."""
    url = make_url(settings.resolved_database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def ensure_schema(settings: Settings) -> None:
    """Create procrastinate's tables and functions in the database's schema if they are not
    there yet (once, under an advisory lock, however many processes start together)."""
    import psycopg
    from procrastinate.schema import SchemaManager

    with psycopg.connect(conninfo(settings)) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if row is None or row[0] is None:
            conn.execute(SchemaManager.get_schema())
            log.info("created the queue's tables")
        conn.commit()


# --- messages ----------------------------------------------------------------------------------
def enqueue(session: Session, job_id: str, stage: Stage, *, delay_s: float = 0.0) -> None:
    """Queue "run ``stage`` of job ``job_id``" in ``session``'s transaction (sent on commit)."""
    session.execute(
        text(
            "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW("
            "CAST(:queue AS varchar), CAST(:task AS varchar), CAST(:priority AS integer), "
            "CAST(:lock AS text), NULL, "
            "CAST(:args AS jsonb), "
            "CASE WHEN :delay > 0 THEN now() + make_interval(secs => :delay) END"
            ")::procrastinate_job_to_defer_v1])"
        ),
        {
            "queue": QUEUE_OF[stage],
            "task": TASK_NAME,
            # later stages first: a worker finishes the visits it has begun before it starts
            # the next upload's speech recognition, so notes come one by one, not all at the end
            "priority": STAGES.index(stage),
            "lock": job_id,
            "args": json.dumps({"job_id": job_id, "stage": stage}),
            "delay": float(delay_s),
        },
    )


def due_stage(settings: Settings, raw: Transcript | None, redacted: object | None) -> Stage:
    """The stage a job needs next from what it has saved (the chain's own order). Decided from
    the settings, not from a worker's loaded engines: a drafting machine need not load the
    speaker encoder to know that speakers come first."""
    if raw is None:
        return "transcribing"
    if (
        redacted is None
        and settings.diarisation_enabled
        and raw.source == "audio"
        and raw.diarisation is None
    ):
        return "diarising"
    if redacted is None:
        return "redacting"
    return "drafting"


def _saved_due(s: Session, settings: Settings, recording_id: str) -> Stage:
    raw = repo.find_transcript(session=s, recording_id=recording_id, kind="raw")
    redacted = repo.find_transcript(session=s, recording_id=recording_id, kind="redacted")
    return due_stage(settings, raw, redacted)


def _wait_for(s: Session, job_id: str, stage: Stage) -> None:
    repo.update_job(
        session=s, job_id=job_id, status=JobStatus.QUEUED.value, stage=stage, progress=0.0
    )


_TODO_SQL = text("SELECT 1 FROM procrastinate_jobs WHERE lock = :id AND status = 'todo'")


# --- one stage ---------------------------------------------------------------------------------
class _QueuedStage(_JobStages):
    """The embedded worker's hooks, plus: the next stage is queued in the save's transaction."""

    def __init__(self, sessions: sessionmaker[Session], job_id: str, settings: Settings):
        super().__init__(sessions, job_id)
        self.settings = settings

    def after_save(self, s: Session, stage: Stage, run: StageRun) -> None:
        if stage == "drafting":
            return
        redacted = run.redacted if stage == "redacting" else None
        nxt = due_stage(self.settings, run.transcript, redacted)
        enqueue(s, self.job_id, nxt)
        _wait_for(s, self.job_id, nxt)


def run_stage(
    engines: Engines,
    sessions: sessionmaker[Session],
    settings: Settings,
    job_id: str,
    stage: Stage,
) -> str:
    """The task: run ``stage`` of job ``job_id`` if it is the one due. Returns what it did
    (``ran``, ``moved`` to the due stage, ``finished`` already, ``failed``, ``retry``)."""
    with session_scope(sessions) as s:
        job = repo.lock_job(session=s, job_id=job_id)
        if job.status in FINISHED or job.note_id is not None:
            return "finished"
        due = _saved_due(s, settings, job.recording_id)
        if due != stage:  # a message left over, or repeated: pass the job on, run nothing
            if not s.execute(_TODO_SQL, {"id": job_id}).first():  # unless already passed on
                enqueue(s, job_id, due)
                _wait_for(s, job_id, due)
            return "moved"
        if job.started_at is None:
            job.started_at = repo.utcnow()
    try:
        hooks = _QueuedStage(sessions, job_id, settings)
        run = run_chain(
            engines,
            hooks,
            template=hooks.template,
            audio_path=hooks.audio,
            language=hooks.language,
            duration_s=hooks.duration_s,
            terms=hooks.terms,
            only=stage,
        )
        if stage not in run.timings:  # this worker's engines disagree with the settings
            raise ConfigurationError(
                f"This worker could not run {stage} (the workers' settings differ: "
                "diarisation_enabled?)",
                code="worker_misconfigured",
            )
        return "ran"
    except JobCancelled:
        _fail(sessions, job_id, "recording_erased", "The recording was erased while processing.")
    except CaseAssistError as exc:  # the input's fault: running it again gives the same answer
        log.info("job %s failed code=%s", job_id, exc.code)
        _fail(sessions, job_id, exc.code, exc.message)
    except DBAPIError:
        raise  # the database is away: nothing can be recorded; the sweeper queues it again
    except Exception as exc:  # noqa: BLE001 - retried, then recorded without its message
        log.error(
            "job %s stage %s failed unexpectedly: %s\n%s",
            job_id,
            stage,
            type(exc).__name__,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        return _retry_or_fail(sessions, settings, job_id, stage, type(exc).__name__)
    return "failed"


def _fail(sessions: sessionmaker[Session], job_id: str, code: str, message: str) -> None:
    with session_scope(sessions) as s:
        repo.lock_job(session=s, job_id=job_id)
        repo.update_job(
            session=s,
            job_id=job_id,
            status=JobStatus.FAILED.value,
            error_code=code,
            error_message=message,
            finished_at=repo.utcnow(),
        )


def _retry_or_fail(
    sessions: sessionmaker[Session], settings: Settings, job_id: str, stage: Stage, error: str
) -> str:
    with session_scope(sessions) as s:
        job = repo.lock_job(session=s, job_id=job_id)
        job.attempts += 1
        if job.attempts >= settings.job_max_attempts:
            repo.update_job(
                session=s,
                job_id=job_id,
                status=JobStatus.FAILED.value,
                error_code="internal_error",
                error_message=f"Unexpected {error} in {stage}, {job.attempts} times; see the "
                f"worker logs for job {job_id}. An admin can retry it.",
            )
            return "failed"
        enqueue(s, job_id, stage, delay_s=RETRY_DELAY_S)
        _wait_for(s, job_id, stage)
    return "retry"


# --- recovery ----------------------------------------------------------------------------------
def requeue_orphans(sessions: sessionmaker[Session], settings: Settings) -> int:
    """Queue again every unfinished job without a live message (its worker died, or the
    database went away under it), one attempt more; fail it at ``job_max_attempts``.
    Returns how many jobs were touched."""
    orphan_sql = text(
        "SELECT j.id FROM jobs j WHERE j.status NOT IN ('done', 'failed') AND NOT EXISTS ("
        "SELECT 1 FROM procrastinate_jobs p WHERE p.lock = j.id AND p.status IN ('todo', 'doing'))"
    )
    live_sql = text(
        "SELECT 1 FROM procrastinate_jobs p WHERE p.lock = :id AND p.status IN ('todo', 'doing')"
    )
    with session_scope(sessions) as s:
        ids = list(s.scalars(orphan_sql))
    touched = 0
    for job_id in ids:
        with session_scope(sessions) as s:
            job = repo.lock_job(session=s, job_id=job_id)
            # another sweeper may have queued it while this one waited for the lock
            if job.status in FINISHED or s.execute(live_sql, {"id": job_id}).first():
                continue
            touched += 1
            if job.status in IN_PROGRESS:
                job.attempts += 1
                if job.attempts >= settings.job_max_attempts:
                    repo.update_job(
                        session=s,
                        job_id=job_id,
                        status=JobStatus.FAILED.value,
                        error_code="interrupted",
                        error_message=f"interrupted {job.attempts} times, last during "
                        f"{job.stage}. An admin can retry it.",
                    )
                    log.warning("job %s failed: interrupted %d times", job_id, job.attempts)
                    continue
            due = _saved_due(s, settings, job.recording_id)
            enqueue(s, job_id, due)
            _wait_for(s, job_id, due)
            log.info("job %s queued again for %s (attempt %d)", job_id, due, job.attempts + 1)
    return touched


async def sweep(
    app: procrastinate.App, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """One recovery pass: messages of dead workers failed, then orphaned jobs queued again."""
    from procrastinate.jobs import Status

    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_S):
        assert job.id is not None
        log.warning("queue message %s (%s) of a dead worker: failed", job.id, job.queue)
        try:
            await app.job_manager.finish_job_by_id_async(job.id, Status.FAILED, False)
        except Exception as exc:  # noqa: BLE001 - its worker finished it meanwhile
            log.info("message %s not failed: %s", job.id, type(exc).__name__)
    await asyncio.to_thread(requeue_orphans, sessions, settings)


def retry_failed_job(s: Session, settings: Settings, job_id: str) -> Stage:
    """The dead letter's way back: a failed job queued again from its last saved stage, its
    attempts reset. Returns the stage it waits for."""
    job = repo.lock_job(session=s, job_id=job_id)
    if job.status != JobStatus.FAILED.value:
        raise BadInput(
            f"job {job_id} is {job.status}; only a failed job can be retried",
            code="job_not_failed",
            http_status=409,
        )
    live_recording(s, job.recording_id)  # an erased recording cannot be processed again
    due = _saved_due(s, settings, job.recording_id)
    job.attempts = 0
    job.error_code = job.error_message = None
    job.finished_at = job.started_at = job.heartbeat_at = None
    _wait_for(s, job_id, due)
    if settings.queue == "procrastinate":
        enqueue(s, job_id, due)
    return due


# --- the worker process ------------------------------------------------------------------------
def make_app(settings: Settings) -> procrastinate.App:
    import procrastinate

    # procrastinate's pool checks each connection before handing it out (a database restart)
    connector = procrastinate.PsycopgConnector(conninfo=conninfo(settings), min_size=1, max_size=4)
    return procrastinate.App(connector=connector)


def _lost_database() -> tuple[type[BaseException], ...]:
    import psycopg
    import psycopg_pool
    from procrastinate.exceptions import ConnectorException

    return (psycopg.Error, psycopg_pool.PoolTimeout, ConnectorException, OSError, DBAPIError)


@dataclass
class Worker:
    """``caseassist worker``: runs the given stages' tasks until stopped (SIGTERM/SIGINT),
    sweeping for dead workers' jobs every ``SWEEP_INTERVAL_S``. ``wait=False`` (tests): until
    no message is left for these stages."""

    settings: Settings
    engines: Engines
    sessions: sessionmaker[Session]
    stages: Sequence[Stage] = STAGES
    name: str = "caseassist"

    def __post_init__(self) -> None:
        self.app = make_app(self.settings)
        self.app.task(name=TASK_NAME, pass_context=False)(self._task)
        self._stopping = False

    def _task(self, job_id: str, stage: str) -> None:
        outcome = run_stage(self.engines, self.sessions, self.settings, job_id, stage)  # type: ignore[arg-type]
        log.info("job %s stage %s: %s", job_id, stage, outcome)

    def run(self, *, wait: bool = True, stop: threading.Event | None = None) -> None:
        asyncio.run(self.serve(wait=wait, stop=stop))

    async def serve(self, *, wait: bool = True, stop: threading.Event | None = None) -> None:
        from procrastinate.worker import Worker as ProcrastinateWorker

        loop = asyncio.get_running_loop()
        current: list[asyncio.Task[Any]] = []

        def on_signal() -> None:
            self._stopping = True
            for task in current:
                task.cancel()  # procrastinate finishes the running stage, then stops

        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, on_signal)
        if stop is not None:
            loop.run_in_executor(None, lambda: (stop.wait(), loop.call_soon_threadsafe(on_signal)))
        queues = [QUEUE_OF[stage] for stage in self.stages]
        _LOST_DATABASE = _lost_database()  # noqa: N806 - the errors a restart is worth trying
        while not self._stopping:
            try:
                async with self.app.open_async():
                    sweeper = asyncio.create_task(self._sweep_loop()) if wait else None
                    worker = ProcrastinateWorker(
                        app=self.app,
                        queues=queues,
                        name=self.name,
                        concurrency=1,  # one stage at a time: they share the cores
                        wait=wait,
                        delete_jobs="successful",
                        install_signal_handlers=False,
                        update_heartbeat_interval=10.0,
                        stalled_worker_timeout=STALLED_S,
                    )
                    task = asyncio.create_task(worker.run())
                    beat = asyncio.create_task(self._beat(worker))
                    current[:] = [task]
                    try:
                        await task
                    finally:
                        beat.cancel()
                        if sweeper:
                            sweeper.cancel()
                if not wait or self._stopping:
                    return
                # the worker stopped itself: a side task (heartbeat, listener) lost the database
                log.warning("queue worker stopped; starting again in 2 s")
            except asyncio.CancelledError:
                if self._stopping:
                    return
                raise
            except _LOST_DATABASE as exc:  # the database restarting, most often
                if not wait:
                    raise
                log.warning("queue worker lost the database (%s); again in 2 s", type(exc).__name__)
            await asyncio.sleep(2.0)

    async def _beat(self, worker: ProcrastinateWorker) -> None:
        """Heartbeats until the worker unregisters. Procrastinate's own stop as a stop begins,
        while the stage running is still being finished: without these, after ``STALLED_S``
        the other workers would take that stage for a dead worker's and run it again."""
        while True:
            await asyncio.sleep(10.0)
            if worker.worker_id is not None:
                try:
                    await self.app.job_manager.update_heartbeat(worker.worker_id)
                except Exception as exc:  # noqa: BLE001 - procrastinate's own beat reports it
                    log.debug("heartbeat failed: %s", type(exc).__name__)

    async def _sweep_loop(self) -> None:
        while True:
            try:
                await sweep(self.app, self.sessions, self.settings)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the next pass tries again
                log.warning("queue sweep failed: %s", type(exc).__name__)
            await asyncio.sleep(SWEEP_INTERVAL_S)
