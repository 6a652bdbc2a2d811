"""From labelled windows to a labelled transcript: every word gets the speaker of the window
nearest to it, segments are split where the speaker changes, speakers are named ``S1``, ``S2`` …
in order of first appearance and segments renumbered (nothing cites them yet: diarisation runs
before redaction and drafting)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.diarisation.windows import Window
from assistant.domain import Segment, Transcript, Word
from assistant.transcription import segment_id


def speaker_at(start: float, end: float, windows: Sequence[Window], labels: np.ndarray) -> int:
    """The label of the window that best represents [start, end]: among those overlapping it
    the one whose centre is nearest its middle (a window hears its centre best), else the
    nearest window."""
    middle = (start + end) / 2
    centres = np.array([w.centre_s for w in windows])
    overlap = np.array([min(end, w.end_s) - max(start, w.start_s) for w in windows]) > 0
    distance = np.abs(centres - middle)
    if overlap.any():
        distance = np.where(overlap, distance, np.inf)
    return int(labels[int(np.argmin(distance))])


def label_transcript(
    transcript: Transcript, windows: Sequence[Window], labels: np.ndarray
) -> tuple[Transcript, int]:
    """``transcript`` with every segment's speaker set (split at changes), and the number of
    speakers it names. Without any window (no speech found) everything is ``S1``."""
    labelled, names = name_speakers(transcript, windows, labels)
    return labelled, len(names)


def name_speakers(
    transcript: Transcript, windows: Sequence[Window], labels: np.ndarray
) -> tuple[Transcript, dict[int, str]]:
    """As ``label_transcript``, with the name (``S1`` …) given to each window label that some
    word took; a label no word took (a voice heard only between words) is named nothing."""
    pieces: list[tuple[int, Segment]] = []
    for seg in transcript.segments:
        pieces += _split(seg, windows, labels)
    names: dict[int, str] = {}
    for label, _ in pieces:
        names.setdefault(label, f"S{len(names) + 1}")
    segments = tuple(
        seg.model_copy(update={"id": segment_id(n), "speaker": names[label]})
        for n, (label, seg) in enumerate(pieces, start=1)
    )
    return transcript.model_copy(update={"segments": segments}), names


def speaker_levels(
    names: dict[int, str], labels: np.ndarray, levels: np.ndarray
) -> dict[str, float]:
    """Each named speaker's median window level (``levels``, dB, one per window) in dB below
    the loudest speaker's: 0 for the loudest."""
    medians = {
        name: float(np.median(levels[labels == label]))
        for label, name in names.items()
        if (labels == label).any()
    }
    if not medians:
        return {}
    top = max(medians.values())
    return {name: round(value - top, 1) + 0.0 for name, value in sorted(medians.items())}


def _split(
    seg: Segment, windows: Sequence[Window], labels: np.ndarray
) -> list[tuple[int, Segment]]:
    if not windows:
        return [(0, seg)]
    if not seg.words:
        return [(speaker_at(seg.start, seg.end, windows, labels), seg)]
    word_labels = [speaker_at(w.start, w.end, windows, labels) for w in seg.words]
    runs: list[tuple[int, list[Word]]] = []
    for word, label in zip(seg.words, word_labels, strict=True):
        if runs and runs[-1][0] == label:
            runs[-1][1].append(word)
        else:
            runs.append((label, [word]))
    if len(runs) == 1:
        return [(runs[0][0], seg)]
    return [
        (
            label,
            seg.model_copy(
                update={
                    "start": round(words[0].start, 2),
                    "end": round(words[-1].end, 2),
                    "text": " ".join(w.text for w in words),
                    "words": tuple(words),
                }
            ),
        )
        for label, words in runs
    ]
