"""Persistent jobs: the worker that runs queued recordings through the stage chain, the
time-left estimate shown while one runs, and retention (``assistant.jobs.retention``: the
passes that delete what has outlived its period, which the worker schedules)."""

from assistant.jobs.eta import estimate_remaining_s
from assistant.jobs.worker import JobRunner

__all__ = ["JobRunner", "estimate_remaining_s"]
