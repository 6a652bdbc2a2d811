"""Repetition guard for Whisper's looping failure mode."""

import pytest

from assistant.transcription import collapse_repetitions


@pytest.mark.parametrize(
    "text,expected",
    [
        ("thank you thank you thank you thank you thank you thank you", "thank you"),
        ("no no no no no no no no", "no"),
        (
            "She said no, no, no. Then she went to school.",
            "She said no, no, no. Then she went to school.",
        ),
        (
            "I went to the park and then I went to the shop",
            "I went to the park and then I went to the shop",
        ),
    ],
)
def test_collapse_repetitions(text, expected):
    assert collapse_repetitions(text, max_repeats=4) == expected
