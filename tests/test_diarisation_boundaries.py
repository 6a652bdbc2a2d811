"""Where a change of speaker falls (issue 23, ``diarisation/boundaries.py``): the words' pauses,
not the 1.5 s windows, place it. Synthetic words and window labels, as the pyannote sample
call gave them (tests/test_diarisation.py has the audio tests)."""

from __future__ import annotations

import numpy as np

from assistant.diarisation import label_transcript
from assistant.diarisation.boundaries import snapped, speaker_track
from assistant.diarisation.windows import Window
from assistant.domain import Segment, Transcript, Word
from eval.suites.diarisation.scoring import der, hypothesis_turns


def _words(spec: list[tuple[str, float, float]]) -> tuple[Word, ...]:
    return tuple(Word(start=a, end=b, text=t, probability=0.9) for t, a, b in spec)


def _segment(n: int, words: tuple[Word, ...]) -> Segment:
    text = " ".join(w.text for w in words)
    return Segment(id=f"s{n:04d}", start=words[0].start, end=words[-1].end, text=text,
                   words=words)  # fmt: skip


def _cut_windows(stop: float, change: float) -> tuple[list[Window], np.ndarray]:
    """0.1 s windows to ``stop``: label 0 before ``change``, 1 from it (each word takes the
    label at its middle)."""
    windows = [Window(round(t, 2), round(t + 0.1, 2)) for t in np.arange(0.0, stop, 0.1)]
    return windows, np.array([0 if w.centre_s < change else 1 for w in windows])


def test_a_sentence_starts_with_its_speaker_when_the_windows_change_late():
    """The sample call: "Oh, I'm originally from Chicago also." is the second speaker's, but
    the windows changed speaker only after "originally"; a run of three words is not smoothed
    away, so the first speaker kept them. The change moves to the pause after "Oh," and the
    one word left is smoothed into its sentence."""
    first = _words([("I'm", 0.0, 0.3), ("Sheila,", 0.3, 0.8), ("from", 0.8, 1.1),
                    ("Chicago.", 1.1, 1.7)])  # fmt: skip
    second = _words([("Oh,", 2.3, 2.5), ("I'm", 2.7, 2.85), ("originally", 2.85, 3.05),
                     ("from", 3.05, 3.3), ("Chicago", 3.3, 3.7), ("also.", 3.7, 4.0)])  # fmt: skip
    transcript = Transcript(segments=(_segment(1, first), _segment(2, second)), language="en",
                            duration_s=4.0, source="audio")  # fmt: skip
    windows, labels = _cut_windows(4.0, 3.05)  # the windows' change: before "from"
    out, speakers = label_transcript(transcript, windows, labels)
    assert speakers == 2
    said = {seg.text: seg.speaker for seg in out.segments}
    assert said == {"I'm Sheila, from Chicago.": "S1",
                    "Oh, I'm originally from Chicago also.": "S2"}  # fmt: skip


def test_snapped_moves_a_change_to_the_longest_pause_near_it_only():
    spans = [(0.0, 0.4), (0.4, 0.8), (1.1, 1.3), (1.3, 1.5), (1.5, 1.9), (1.9, 2.3),
             (2.3, 2.7), (3.9, 4.3)]  # fmt: skip
    words = _words([(name, a, b) for name, (a, b) in zip("abcdefgh", spans, strict=True)])
    # the change after "c" moves back to the 0.3 s pause before "c" (0.35 s between middles)
    assert snapped(words, [0, 0, 0, 1, 1, 1, 1, 1]) == [0, 0, 1, 1, 1, 1, 1, 1]
    # a change after "e" stays: that pause is 0.95 s away, past the reach (0.5 s)
    assert snapped(words, [0, 0, 0, 0, 0, 1, 1, 1]) == [0, 0, 0, 0, 0, 1, 1, 1]
    # and so does one after "f": the 1.2 s pause before "h" is 1.0 s away
    assert snapped(words, [0, 0, 0, 0, 0, 0, 1, 1]) == [0, 0, 0, 0, 0, 0, 1, 1]
    # a change never moves past the one before it: "c" stays a run of its own
    assert snapped(words, [0, 0, 2, 1, 1, 1, 1, 1]) == [0, 0, 2, 1, 1, 1, 1, 1]
    assert snapped((), []) == []


def _late_windows() -> tuple[list[Window], np.ndarray]:
    """1.5 s windows every 0.6 s over 10 s of speech, the true change at 5.0 s and the
    windows' at 5.6 s (a straddling window heard more of the first voice)."""
    windows = [Window(round(t, 2), round(t + 1.5, 2)) for t in np.arange(0.0, 8.6, 0.6)]
    windows.append(Window(8.5, 10.0))
    return windows, np.array([0 if w.centre_s < 5.6 else 1 for w in windows])


def test_the_timeline_changes_speaker_at_the_new_speakers_first_word():
    windows, labels = _late_windows()
    words = [(t, 0) for t in np.arange(0.2, 4.8, 0.3)] + [(t, 1) for t in np.arange(5.0, 9.8, 0.3)]
    reference = [("A", 0.0, 5.0), ("B", 5.0, 10.0)]
    before = der(reference, hypothesis_turns(windows, labels))["der"]
    after = der(reference, hypothesis_turns(windows, labels, words))["der"]
    assert before > 0.04 and after < 0.002
    track = speaker_track(windows, labels, words)
    assert [label for label, _, _ in track] == [0, 1] and abs(track[1][1] - 5.0) < 0.015


def test_the_timeline_leaves_a_label_no_window_has_to_the_words():
    """An answerer's label (``answerers``) is carried by words, not windows: the timeline is
    the windows' there."""
    windows, labels = _late_windows()
    words = [(t, 0) for t in np.arange(0.2, 4.8, 0.3)] + [(t, 7) for t in np.arange(5.0, 9.8, 0.3)]
    assert speaker_track(windows, labels, words) == speaker_track(windows, labels)
    assert speaker_track([], np.zeros(0, dtype=int), words) == []
