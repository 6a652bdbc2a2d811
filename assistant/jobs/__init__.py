"""Persistent jobs: the worker that runs queued recordings through the stage chain, and the
time-left estimate shown while one runs."""

from assistant.jobs.eta import estimate_remaining_s
from assistant.jobs.worker import JobRunner

__all__ = ["JobRunner", "estimate_remaining_s"]
