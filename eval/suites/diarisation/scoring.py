"""How the diarisation suite scores: the diarisation error rate, the share of words given the
right speaker, and the role each reference speaker was given.

DER = (missed speech + false alarm + speaker confusion) / reference speech, scored every 10 ms
with the best one-to-one mapping of speakers, without a collar and with a 0.25 s collar
(reference boundaries +/- 0.25 s not scored), overlapping reference speech included: the
quantities pyannote.metrics reports, written here without its dependencies (the same code as
``benchmarks/diarisation_bench.py``). The hypothesis is the stage's timeline: every 10 ms inside
a speech window gets the speaker of its nearest window, and each change of speaker among the
words (as the stage labelled them) moves to where the new speaker's first word starts
(``assistant/diarisation/boundaries.py``; suite version 3; before it, the windows alone).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STEP = 0.01
COLLAR_S = 0.25

Turn = tuple[str, float, float]  # (speaker, start s, end s)


def read_rttm(path: Path) -> list[Turn]:
    """(speaker, start, end) of every SPEAKER line."""
    turns = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            turns.append((parts[7], start, start + dur))
    return turns


def _grid(turns: Sequence[Turn], n: int) -> tuple[list[str], np.ndarray]:
    names = sorted({t[0] for t in turns})
    grid = np.zeros((len(names), n), dtype=bool)
    for speaker, start, end in turns:
        grid[names.index(speaker), round(start / STEP) : round(end / STEP)] = True
    return names, grid


def best_mapping(overlap: np.ndarray) -> tuple[dict[int, int], float]:
    """The one-to-one mapping rows -> columns that maximises the summed ``overlap``, and that
    sum (exhaustive: speaker counts here are small, at most 8)."""
    r, h = overlap.shape
    best: tuple[float, dict[int, int]] = (0.0, {})
    if r == 0 or h == 0:
        return {}, 0.0
    for perm in itertools.permutations(range(h), min(r, h)):
        rows = itertools.combinations(range(r), min(r, h)) if r > h else [tuple(range(r))]
        for chosen in rows:
            total = float(sum(overlap[i, j] for i, j in zip(chosen, perm, strict=True)))
            if total > best[0]:
                best = (total, dict(zip(chosen, perm, strict=True)))
    return best[1], best[0]


def der(reference: Sequence[Turn], hypothesis: Sequence[Turn], *, collar: float = 0.0) -> dict:
    """DER and its parts (fractions of scored reference speech) and the speaker counts."""
    end = max(t[2] for t in [*reference, *hypothesis])
    n = int(np.ceil(end / STEP)) + 1
    _, ref = _grid(reference, n)
    hyp_names, hyp = _grid(hypothesis, n)
    scored = np.ones(n, dtype=bool)
    if collar:
        c = round(collar / STEP)
        for _, start, stop in reference:
            for edge in (round(start / STEP), round(stop / STEP)):
                scored[max(0, edge - c) : edge + c] = False
    ref, hyp = ref[:, scored], hyp[:, scored]
    overlap = ref.astype(np.int64) @ hyp.T.astype(np.int64)
    _, matched = best_mapping(overlap)
    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    total = int(n_ref.sum())
    missed = int(np.maximum(n_ref - n_hyp, 0).sum())
    false_alarm = int(np.maximum(n_hyp - n_ref, 0).sum())
    confusion = int(np.minimum(n_ref, n_hyp).sum()) - int(matched)
    return {
        "der": (missed + false_alarm + confusion) / total,
        "missed": missed / total,
        "false_alarm": false_alarm / total,
        "confusion": confusion / total,
        "reference_s": total * STEP,
        "reference_speakers": len(ref),
        "hypothesis_speakers": len(hyp_names),
    }


def hypothesis_turns(windows, labels, words: Sequence[tuple[float, int]] = ()) -> list[Turn]:
    """Every 10 ms inside a window, labelled with its nearest window's speaker; with ``words``
    ((start, cluster label) of each word, as the stage labelled them) each change of the words'
    speaker moves the timeline's change to the new speaker's first word
    (``assistant.diarisation.boundaries.speaker_track``)."""
    from assistant.diarisation.boundaries import speaker_track

    return [
        (f"C{label}", start, end) for label, start, end in speaker_track(windows, labels, words)
    ]


@dataclass(frozen=True)
class WordScore:
    """Words of one recording given the right speaker, and the reference -> hypothesis speaker
    mapping that counting used (the best one-to-one by words)."""

    right: int
    words: int
    mapping: dict[str, str]


def word_attribution(reference: Sequence[Turn], words: Sequence[tuple[float, str]]) -> WordScore:
    """``words`` as (time of the word's middle, hypothesis speaker label): each is right when
    its label is the one mapped to the reference speaker talking at that time (the nearest
    turn, for a word in a gap)."""
    ref_names = sorted({t[0] for t in reference})
    hyp_names = sorted({w[1] for w in words})
    counts = np.zeros((len(ref_names), len(hyp_names)), dtype=np.int64)
    for t, label in words:
        who = min(reference, key=lambda turn: max(turn[1] - t, t - turn[2], 0.0))[0]
        counts[ref_names.index(who), hyp_names.index(label)] += 1
    mapping, right = best_mapping(counts)
    return WordScore(
        right=int(right),
        words=len(words),
        mapping={ref_names[i]: hyp_names[j] for i, j in mapping.items()},
    )
