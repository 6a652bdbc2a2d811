"""App factory. ``create_app(settings)`` verifies and loads the models once onto ``app.state``,
migrates the database, puts interrupted jobs back in the queue and starts the worker (which
also runs the retention passes); it serves the API under ``/v1`` and the web app's pages
(``assistant.web``) everywhere else."""

from __future__ import annotations

import gc
import logging
import sys
from contextlib import asynccontextmanager

from fastapi import FastAPI

from assistant import web
from assistant.api import errors
from assistant.api.routes import admin, health, notes, recordings, speakers, statements, voice
from assistant.api.upload import remove_stale_uploads
from assistant.auth import FailureThrottle
from assistant.jobs.retention import RetentionPolicy
from assistant.jobs.worker import JobRunner
from assistant.model_store.store import resolve_models
from assistant.pipeline import STAGES, Engines
from assistant.review import load_lexicon
from assistant.settings import Settings, get_settings
from assistant.storage import repo
from assistant.storage.db import session_scope

log = logging.getLogger(__name__)


class NoQueryStrings(logging.Filter):
    """Drops the query string from uvicorn's access log lines: it carries one-time secrets (a
    set-password link's token, a sign-in's authorisation code) and what a practitioner
    searched for, none of which belongs in a log. The path stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client, method, path with query, http version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path, sep, _ = args[2].partition("?")
            if sep:
                record.args = (args[0], args[1], f"{path}?…", *args[3:])
        return True


def hide_query_strings() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, NoQueryStrings) for f in access.filters):
        access.addFilter(NoQueryStrings())


DESCRIPTION = """On-premise case-recording assistant for children's social care.

Upload a visit recording, follow its job, read the transcript and the redacted transcript, and
edit, approve and export the evidence-linked draft note. Every `/v1` call needs
`Authorization: Bearer <token>` (`caseassist users add --name N --role R` prints one), except
that a browser signed in to the web app may also fetch a recording's audio with its cookie.
Errors always have the shape `{"error": {"code", "message", "request_id"}}`.
"""


def create_app(settings: Settings | None = None, *, engines: Engines | None = None) -> FastAPI:
    settings = settings or get_settings()
    hide_query_strings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from assistant.bootstrap import lower_threads, native_threads, open_database, prepare_dirs

        prepare_dirs(settings)
        models = engines.models if engines else resolve_models(settings)  # fails closed
        # fails closed on a missing or wrong key file
        db, app.state.keyring, app.state.sessions = open_database(settings)
        app.state.engine = db
        queued = settings.queue == "procrastinate"
        # with the shared queue the workers load the models; the service needs none of them
        app.state.engines = engines or Engines.load(settings, models, () if queued else STAGES)
        if settings.run_worker and not queued and not engines:
            # the stages compute in native threads (CTranslate2's, started as Whisper loaded;
            # OpenBLAS's, on numpy's import), not in the job's: run those below the threads
            # that answer requests, as `caseassist worker` runs
            lower_threads(native_threads(), settings.worker_nice)
            # the job's Python work holds the interpreter lock; a request thread should not
            # wait Python's default 5 ms for it at every turn
            sys.setswitchinterval(settings.gil_switch_ms / 1000)
        # what approval checks for safeguarding statements: the drafting review's own lexicon
        app.state.lexicon = getattr(app.state.engines, "lexicon", None) or load_lexicon(
            settings.safeguarding_lexicon_path
        )
        if queued:  # workers elsewhere run the stages; this service only enqueues
            from assistant.jobs.queue import check_backend, ensure_schema

            check_backend(settings)
            ensure_schema(settings)
        with session_scope(app.state.sessions) as s:
            # with the shared queue a job in progress may be running on another machine: the
            # workers' sweeper, not this start, decides it was interrupted
            n = 0
            if not queued:
                n = repo.requeue_interrupted_jobs(session=s, max_attempts=settings.job_max_attempts)
            stored = repo.stored_audio_paths(session=s)
        remove_stale_uploads(settings.uploads_dir, stored)
        if n:
            log.info("requeued %d interrupted job(s)", n)
        app.state.runner = None
        if settings.run_worker and not queued:
            app.state.runner = JobRunner(
                app.state.engines,
                app.state.sessions,
                retention=RetentionPolicy.from_settings(settings),
                retention_interval_s=settings.retention_interval_s,
                nice=settings.worker_nice,
            )
            app.state.runner.start()
        # A full collection walks every object alive, and the models' (spaCy's vocabulary,
        # Presidio's recognisers, the lexicon) live as long as the service: walking them held
        # the interpreter lock, and so every answer in flight, for 50-200 ms about twice a
        # minute (docs/performance.md). Frozen, they are left out of every collection.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if app.state.runner:
                app.state.runner.stop()
            db.dispose()
            gc.unfreeze()  # a process that starts the service again (tests) collects as before

    app = FastAPI(title="caseassist", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.auth_throttle = FailureThrottle(limit=settings.api_token_attempts, window_s=60.0)
    errors.install(app)
    for module in (recordings, speakers, notes, statements, voice, admin, health):
        app.include_router(module.router)
    web.install(app)  # the pages, after the API's error handlers (they defer to them)
    return app
