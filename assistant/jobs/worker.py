"""Persistent jobs: a worker thread in the service process runs queued jobs one at a time.

The stages themselves are ``assistant.pipeline.run_chain``; this module queues and claims jobs,
records failures, and supplies the chain's database hooks (``_JobStages``): each stage's output is
saved before the next starts, so a job interrupted by a restart resumes from the last saved stage
(``requeue_interrupted_jobs`` at start-up puts it back in the queue, and fails it once it has used
``job_max_attempts``), and a recording erased while its job ran is caught before each save. A
failed job records a stable code and a message with no personal data.

The worker also runs the retention passes (``assistant.jobs.retention``), in a thread of their
own so a long pass never delays a job: one as it starts, then one every ``retention_interval_s``,
only when some retention period is configured.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from assistant.diarisation.voice import EnrolledVoice
from assistant.domain import JobStatus
from assistant.errors import CaseAssistError, DecryptionFailed
from assistant.jobs.retention import RetentionPolicy, run_retention
from assistant.notes.body import NoteBody
from assistant.pipeline import Engines, Stage, StageHooks, StageRun, run_chain
from assistant.storage import repo
from assistant.storage.db import session_scope

log = logging.getLogger(__name__)


class JobCancelled(Exception):
    """The recording was erased while its job ran."""


@dataclass
class JobRunner:
    engines: Engines
    sessions: sessionmaker[Session]
    poll_interval_s: float = 0.5
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    retention_interval_s: float = 3600.0
    # nice steps the job thread runs below the service's (embedded worker; threads it starts,
    # llama.cpp's and torch's, inherit it)
    nice: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- lifecycle -----------------------------------------------------------------------
    def start(self, *, jobs: bool = True) -> None:
        """``jobs=False``: the retention passes alone (a shared-queue worker runs the jobs)."""
        loops = [(self._loop, "caseassist-worker")] if jobs else []
        if self.retention.configured:
            loops.append((self._retention_loop, "caseassist-retention"))
        for target, name in loops:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self) -> None:
        if self.nice > 0:
            from assistant.bootstrap import lower_threads

            lower_threads([threading.get_native_id()], self.nice)
        while not self._stop.is_set():
            if not self.run_once():
                self._stop.wait(self.poll_interval_s)

    def _retention_loop(self) -> None:
        while not self._stop.is_set():
            try:
                run_retention(self.sessions, self.retention, via="worker")
            except Exception as exc:  # noqa: BLE001 - the next pass tries again
                log.error("retention pass failed: %s", type(exc).__name__)
            self._stop.wait(self.retention_interval_s)

    def run_once(self) -> bool:
        """Claim and run one queued job. Returns False when the queue was empty."""
        with session_scope(self.sessions) as s:
            job = repo.claim_next_job(session=s)
            job_id = job.id if job else None
        if job_id is None:
            return False
        self.run_job(job_id)
        return True

    # --- one job -------------------------------------------------------------------------
    def run_job(self, job_id: str) -> None:
        started = time.perf_counter()
        try:
            self._run_stages(job_id)
        except JobCancelled:
            self._fail(job_id, "recording_erased", "The recording was erased while processing.")
        except CaseAssistError as exc:
            log.info("job %s failed code=%s", job_id, exc.code)
            self._fail(job_id, exc.code, exc.message)
        except Exception as exc:  # noqa: BLE001 - recorded on the job, traceback without message
            log.error(
                "job %s failed unexpectedly: %s\n%s",
                job_id,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            self._fail(
                job_id,
                "internal_error",
                f"Unexpected {type(exc).__name__}; see the service log for job {job_id}.",
            )
        log.info("job %s finished in %.1fs", job_id, time.perf_counter() - started)

    def _run_stages(self, job_id: str) -> None:
        job = _JobStages(self.sessions, job_id)
        run_chain(
            self.engines,
            job,
            template=job.template,
            audio_path=job.audio,
            language=job.language,
            duration_s=job.duration_s,
            terms=job.terms,
        )

    # --- helpers -------------------------------------------------------------------------
    def _fail(self, job_id: str, code: str, message: str) -> None:
        with session_scope(self.sessions) as s:
            repo.update_job(
                session=s,
                job_id=job_id,
                status=JobStatus.FAILED.value,
                error_code=code,
                error_message=message,
                finished_at=repo.utcnow(),
            )


class _JobStages(StageHooks):
    """The database side of one job's run of the chain: the job's status, stage and progress
    kept current, each stage's output saved (with the job's timings) before the next starts,
    and the recording checked not erased before every save."""

    def __init__(self, sessions: sessionmaker[Session], job_id: str):
        self.sessions, self.job_id = sessions, job_id
        with session_scope(sessions) as s:
            job = repo.get_job(session=s, job_id=job_id)
            rec = repo.get_recording(session=s, recording_id=job.recording_id)
            self.recording_id, self.owner_id = rec.id, rec.owner_id
            # the encrypted file and its data key: decrypted as the decoder reads it
            self.audio = repo.audio_source(session=s, recording=rec)
            self.language, self.template = rec.language, rec.template
            self.terms = tuple((rec.vocabulary or "").splitlines())
            self.duration_s = rec.duration_s or 0.0
            # earlier attempts' timings stay, each stage run again replaces its own
            self.timings: dict[str, Any] = dict(job.timings or {})
            raw = repo.find_transcript(session=s, recording_id=rec.id, kind="raw")
            redacted = repo.find_transcript(session=s, recording_id=rec.id, kind="redacted")
            self._saved = StageRun(transcript=raw, redacted=redacted)
        self._reported = 0.0

    def load_saved(self) -> StageRun:
        return self._saved

    def enrolled_voice(self) -> EnrolledVoice | None:
        try:
            with session_scope(self.sessions) as s:
                stored = repo.load_voice(session=s, user_id=self.owner_id)
        except DecryptionFailed as exc:  # optional: the words decide, as without one
            log.error("job %s: the owner's enrolled voice was not used: %s", self.job_id, exc)
            return None
        if stored is None:
            return None
        return EnrolledVoice(embedding=stored.embedding, model_sha256=stored.model_sha256)

    def begin(self, stage: Stage) -> None:
        self._reported = 0.0  # each stage reports from its own start
        self._set(status=JobStatus(stage).value, stage=stage, progress=0.0)

    def progress(self, stage: Stage, fraction: float) -> None:
        # at most every 5% (and at the end), not a database write per decoded segment
        if fraction - self._reported >= 0.05 or fraction >= 1.0:
            self._reported = fraction
            self._set(progress=round(fraction, 3))

    def save(self, stage: Stage, run: StageRun) -> None:
        self.timings[stage] = run.timings[stage].as_dict()
        with session_scope(self.sessions) as s:
            rec = repo.get_recording(session=s, recording_id=self.recording_id)
            if rec.erased_at is not None:  # erased while this stage ran: keep none of it
                raise JobCancelled
            if stage in ("transcribing", "diarising"):  # the raw transcript, then its speakers
                self._save_transcript(s, "raw", run.transcript)
            elif stage == "redacting":
                assert run.mapping is not None
                repo.save_mapping(session=s, recording_id=self.recording_id, mapping=run.mapping)
                self._save_transcript(s, "redacted", run.redacted)
            else:
                self._finish(s, run)
            self.after_save(s, stage, run)

    def after_save(self, s: Session, stage: Stage, run: StageRun) -> None:
        """In the save's own transaction (the queue enqueues the next stage here)."""

    def _save_transcript(self, s: Session, kind: str, body: Any) -> None:
        repo.save_transcript(session=s, recording_id=self.recording_id, kind=kind, body=body)
        repo.update_job(session=s, job_id=self.job_id, timings=self.timings)

    def _finish(self, s: Session, run: StageRun) -> None:
        """The note, and the job done with it; once, however often drafting ran: the job's row
        is locked and a note it already has is kept (``notes.job_id`` is unique besides)."""
        assert run.note is not None
        job = repo.lock_job(session=s, job_id=self.job_id)
        if job.note_id is not None:
            log.info("job %s already has its note; this drafting run's is dropped", self.job_id)
            return
        body = run.note.model_dump(mode="json")
        row = repo.create_note(
            session=s,
            recording_id=self.recording_id,
            template=run.note.provenance.template,
            template_version=run.note.provenance.template_version,
            ai_draft=NoteBody.from_draft(run.note),  # sections and the header found in code
            provenance={**body["provenance"], "review": body["review"]},
            job_id=self.job_id,
        )
        repo.update_job(
            session=s,
            job_id=self.job_id,
            status=JobStatus.DONE.value,
            stage="done",
            progress=1.0,
            timings=self.timings,
            note_id=row.id,
            finished_at=repo.utcnow(),
            error_code=None,
            error_message=None,
        )

    def _set(self, **fields: Any) -> None:
        with session_scope(self.sessions) as s:
            repo.update_job(session=s, job_id=self.job_id, heartbeat_at=repo.utcnow(), **fields)
