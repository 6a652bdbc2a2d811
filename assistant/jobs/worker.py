"""Persistent jobs: a worker thread in the service process runs queued jobs one at a time.

Each stage's output is saved before the next starts, so a job interrupted by a restart resumes
from the last saved stage (``requeue_interrupted_jobs`` at start-up puts it back in the queue,
and failing it once it has used ``job_max_attempts``). A failed job records a stable code and a
message with no personal data.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from assistant.domain import JobStatus
from assistant.errors import CaseAssistError
from assistant.pipeline import (
    Engines,
    draft_note,
    redact_transcript,
    stage_timing,
    transcribe_audio,
)
from assistant.storage import repo
from assistant.storage.crypto import MappingCipher
from assistant.storage.db import session_scope

log = logging.getLogger(__name__)

# Typical real-time factors on 2 CPU cores, used for the time-left estimate until this
# installation has finished jobs of its own to learn from.
DEFAULT_RTF = {"transcribing": 0.3, "redacting": 0.01, "drafting": 1.0}
STAGES = ("transcribing", "redacting", "drafting")


class JobCancelled(Exception):
    """The recording was erased while its job ran."""


@dataclass
class JobRunner:
    engines: Engines
    sessions: sessionmaker[Session]
    cipher: MappingCipher
    poll_interval_s: float = 0.5

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="caseassist-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self.run_once():
                self._stop.wait(self.poll_interval_s)

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
        with session_scope(self.sessions) as s:
            job = repo.get_job(session=s, job_id=job_id)
            rec = repo.get_recording(session=s, recording_id=job.recording_id)
            recording_id, audio_path = rec.id, rec.audio_path
            language, template = rec.language, rec.template
            duration = rec.duration_s or 0.0
            timings = dict(job.timings or {})
            transcript = repo.find_transcript(session=s, recording_id=recording_id, kind="raw")
            redacted = repo.find_transcript(session=s, recording_id=recording_id, kind="redacted")

        # 1. speech recognition (skipped when a saved transcript exists: resume after restart)
        if transcript is None:
            self._set(job_id, status=JobStatus.TRANSCRIBING, stage="transcribing", progress=0.0)
            t0 = time.perf_counter()
            transcript = transcribe_audio(
                self.engines,
                Path(audio_path),
                language=language,
                on_progress=self._progress_cb(job_id),
            )
            timings["transcribing"] = stage_timing(t0, duration).as_dict()
            self._save(job_id, recording_id, timings, kind="raw", body=transcript)

        # 2. redaction + residual check
        if redacted is None:
            self._set(job_id, status=JobStatus.REDACTING, stage="redacting", progress=0.0)
            t0 = time.perf_counter()
            redacted, mapping = redact_transcript(self.engines, transcript)
            timings["redacting"] = stage_timing(t0, duration).as_dict()
            with session_scope(self.sessions) as s:
                self._check_not_erased(s, recording_id)
                repo.save_mapping(
                    session=s, recording_id=recording_id, cipher=self.cipher, mapping=mapping
                )
                repo.save_transcript(
                    session=s, recording_id=recording_id, kind="redacted", body=redacted
                )
                repo.update_job(session=s, job_id=job_id, timings=timings)

        # 3. drafting from the redacted transcript only
        self._set(job_id, status=JobStatus.DRAFTING, stage="drafting", progress=0.0)
        t0 = time.perf_counter()
        note = draft_note(self.engines, redacted, template=template)
        timings["drafting"] = stage_timing(t0, duration).as_dict()
        with session_scope(self.sessions) as s:
            self._check_not_erased(s, recording_id)
            body = note.model_dump(mode="json")
            row = repo.create_note(
                session=s,
                recording_id=recording_id,
                template=note.provenance.template,
                template_version=note.provenance.template_version,
                ai_draft={"sections": body["sections"]},
                provenance={**body["provenance"], "review": body["review"]},
                job_id=job_id,
            )
            repo.update_job(
                session=s,
                job_id=job_id,
                status=JobStatus.DONE.value,
                stage="done",
                progress=1.0,
                timings=timings,
                note_id=row.id,
                finished_at=repo.utcnow(),
                error_code=None,
                error_message=None,
            )

    # --- helpers -------------------------------------------------------------------------
    def _save(self, job_id, recording_id, timings, *, kind, body) -> None:
        with session_scope(self.sessions) as s:
            self._check_not_erased(s, recording_id)
            repo.save_transcript(session=s, recording_id=recording_id, kind=kind, body=body)
            repo.update_job(session=s, job_id=job_id, timings=timings)

    @staticmethod
    def _check_not_erased(s: Session, recording_id: str) -> None:
        if repo.get_recording(session=s, recording_id=recording_id).erased_at is not None:
            raise JobCancelled

    def _set(self, job_id: str, **fields) -> None:
        if "status" in fields:
            fields["status"] = fields["status"].value
        with session_scope(self.sessions) as s:
            repo.update_job(session=s, job_id=job_id, heartbeat_at=repo.utcnow(), **fields)

    def _progress_cb(self, job_id: str):
        last = [0.0]

        def cb(p: float) -> None:
            if p - last[0] >= 0.05 or p >= 1.0:
                last[0] = p
                self._set(job_id, progress=round(p, 3))

        return cb

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


def estimate_remaining_s(
    *,
    status: str,
    stage_progress: float,
    duration_s: float,
    learned_rtf: dict[str, float] | None = None,
    stage_elapsed_s: float = 0.0,
) -> float | None:
    """Seconds left, from the audio duration and real-time factors (learned or typical).

    A stage that reports no progress (drafting) is estimated from the time it has already
    run, so the figure keeps falling; one that overruns its estimate is reported as nearly
    done (10% of its estimate) rather than as a negative or frozen number."""
    if status in (JobStatus.DONE, JobStatus.FAILED) or not duration_s:
        return 0.0 if status == JobStatus.DONE else None
    rtf = {**DEFAULT_RTF, **(learned_rtf or {})}
    current = status if status in STAGES else None
    remaining = 0.0
    started = current is None
    for stage in STAGES:
        expected = rtf[stage] * duration_s
        if stage == current:
            started = True
            by_progress = expected * (1.0 - stage_progress)
            by_clock = max(expected - stage_elapsed_s, 0.1 * expected)
            remaining += min(by_progress, by_clock)
        elif started:
            remaining += expected
    return round(remaining, 1)
