"""The time-left estimate a practitioner sees while a job runs."""

import pytest

from assistant.jobs.eta import DEFAULT_RTF, estimate_remaining_s

D = 100.0  # seconds of audio
T, DI, R, DR = (
    DEFAULT_RTF[s] * D for s in ("transcribing", "diarising", "redacting", "drafting")
)


@pytest.mark.parametrize(
    "status,progress,elapsed,expected",
    [
        ("queued", 0.0, 0.0, T + DI + R + DR),
        ("transcribing", 0.0, 0.0, T + DI + R + DR),
        ("transcribing", 0.5, 1.0, T / 2 + DI + R + DR),
        ("diarising", 0.0, 0.0, DI + R + DR),
        ("drafting", 0.0, 0.0, DR),
        ("drafting", 0.0, DR / 2, DR / 2),  # no progress reported: the clock moves it down
        ("drafting", 0.0, DR * 5, DR * 0.1),  # overran: nearly done, never negative
        ("done", 1.0, 0.0, 0.0),
        ("failed", 0.0, 0.0, None),
    ],
)
def test_estimate(status, progress, elapsed, expected):
    got = estimate_remaining_s(
        status=status, stage_progress=progress, duration_s=D, stage_elapsed_s=elapsed
    )
    assert got == (None if expected is None else pytest.approx(expected, abs=0.11))


def test_learned_rates_replace_the_defaults():
    got = estimate_remaining_s(
        status="drafting", stage_progress=0.0, duration_s=D, learned_rtf={"drafting": 2.0}
    )
    assert got == pytest.approx(200.0)
