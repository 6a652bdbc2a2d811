"""``caseassist worker`` (stages taken from the shared queue) and ``caseassist jobs retry``."""

from __future__ import annotations

import argparse
import os
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.pipeline import Stage
    from assistant.settings import Settings


def _stages(value: str) -> tuple[Stage, ...]:
    from assistant.jobs.queue import parse_stages

    try:
        return parse_stages(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None  # argparse: message, exit 2


def add_queue_commands(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser(
        "worker",
        help="run pipeline stages from the shared queue (CASEASSIST_QUEUE=procrastinate)",
        description="Take jobs' stages from the queue in PostgreSQL and run them, until SIGTERM "
        "or Ctrl-C (the stage running is finished first). Run several, on several machines: "
        "speech recognition on a GPU machine, drafting elsewhere (docs/deployment.md).",
    )
    w.add_argument(
        "--stages",
        type=_stages,
        default=None,
        metavar="transcribe,diarise,redact,draft",
        help="the stages this worker runs, comma-separated (default: all); only their models "
        "are loaded",
    )
    w.add_argument("--profile", choices=["test", "default"])
    w.set_defaults(func=cmd_worker)

    j = sub.add_parser("jobs", help="jobs: retry a failed one")
    jsub = j.add_subparsers(required=True, metavar="ACTION")
    r = jsub.add_parser(
        "retry", help="queue a failed job again from its last saved stage (audited)"
    )
    r.add_argument("job_id")
    r.set_defaults(func=cmd_jobs_retry)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.bootstrap import lower_priority, open_database, prepare_dirs
    from assistant.jobs.queue import Worker, check_backend, ensure_schema
    from assistant.jobs.retention import RetentionPolicy
    from assistant.jobs.worker import JobRunner
    from assistant.model_store.store import resolve_models
    from assistant.pipeline import STAGES, Engines

    check_backend(settings)  # before loading any model: a wrong setting is said at once
    lower_priority(settings.worker_nice)  # before the models' threads start, so they inherit it
    stages = args.stages or STAGES
    prepare_dirs(settings)
    models = resolve_models(settings)  # fails closed on a missing or changed model file
    engine, _, sessions = open_database(settings)
    try:
        ensure_schema(settings)
        engines = Engines.load(settings, models, stages)
        name = f"{socket.gethostname()}:{os.getpid()}:{'+'.join(stages)}"
        print(f"worker {name} taking: {', '.join(stages)}", flush=True)
        # the retention passes, as the embedded worker runs them (each pass locks what it deletes)
        retention = JobRunner(
            engines,
            sessions,
            retention=RetentionPolicy.from_settings(settings),
            retention_interval_s=settings.retention_interval_s,
        )
        retention.start(jobs=False)
        try:
            Worker(settings, engines, sessions, stages=stages, name=name).run()
        finally:
            retention.stop()
    finally:
        engine.dispose()
    return 0


def cmd_jobs_retry(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.cli.admin import _audit, _database
    from assistant.jobs.queue import retry_failed_job
    from assistant.storage.db import session_scope

    with _database(settings) as sessions, session_scope(sessions) as s:
        stage = retry_failed_job(s, settings, args.job_id)
        _audit(s, "job.retry", "job", args.job_id, stage=stage)
    print(f"job {args.job_id} queued again for {stage}")
    return 0
