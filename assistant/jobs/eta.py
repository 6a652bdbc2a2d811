"""The time left for a job, shown to the practitioner while it runs: from the recording's
duration and each stage's real-time factor (this installation's, once it has finished jobs to
learn from; typical ones until then)."""

from __future__ import annotations

from assistant.domain import JobStatus
from assistant.pipeline import STAGES

__all__ = ["DEFAULT_RTF", "STAGES", "estimate_remaining_s"]

# Typical real-time factors on 2 CPU cores, used for the time-left estimate until this
# installation has finished jobs of its own to learn from.
DEFAULT_RTF = {"transcribing": 0.3, "diarising": 0.05, "redacting": 0.01, "drafting": 1.0}


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
