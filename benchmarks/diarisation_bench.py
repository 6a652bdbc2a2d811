"""Diarisation error rate (DER) and real-time factor of the diarisation stage on a recording
with a reference RTTM, e.g. the two-speaker call in the ``pyannote-audio==4.0.7`` wheel:

    pip download pyannote-audio==4.0.7 --no-deps -d /tmp/pa
    unzip -o /tmp/pa/pyannote_audio-4.0.7-py3-none-any.whl 'pyannote/audio/sample/*' -d /tmp/pa
    CASEASSIST_PROFILE=test python benchmarks/diarisation_bench.py \\
        /tmp/pa/pyannote/audio/sample/sample.wav /tmp/pa/pyannote/audio/sample/sample.rttm

The hypothesis is what the stage computes before it meets the words: every 10 ms of detected
speech gets the speaker of the nearest window (the rule ``label_transcript`` applies to each
word). DER = (missed speech + false alarm + speaker confusion) / reference speech, scored every
10 ms with the best one-to-one mapping of speakers, without a collar and with a 0.25 s collar
(reference boundaries ± 0.25 s not scored), overlapping reference speech included. Written
here, not taken from pyannote.metrics (which pulls in pyannote.core and scipy); it reports the
same quantities.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np

STEP = 0.01


def read_rttm(path: Path) -> list[tuple[str, float, float]]:
    """(speaker, start, end) of every SPEAKER line."""
    turns = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            turns.append((parts[7], start, start + dur))
    return turns


def _grid(turns: list[tuple[str, float, float]], n: int) -> tuple[list[str], np.ndarray]:
    names = sorted({t[0] for t in turns})
    grid = np.zeros((len(names), n), dtype=bool)
    for speaker, start, end in turns:
        grid[names.index(speaker), round(start / STEP) : round(end / STEP)] = True
    return names, grid


def der(
    reference: list[tuple[str, float, float]],
    hypothesis: list[tuple[str, float, float]],
    *,
    collar: float = 0.0,
) -> dict[str, float]:
    """DER and its parts (fractions of scored reference speech)."""
    end = max(t[2] for t in reference + hypothesis) if hypothesis else max(t[2] for t in reference)
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
    overlap = ref.astype(np.int64) @ hyp.T.astype(np.int64)  # frames ref i and hyp j share
    best = 0
    r, h = overlap.shape
    for perm in itertools.permutations(range(max(r, h)), min(r, h)):
        pairs = zip(range(r), perm, strict=False) if r <= h else zip(perm, range(h), strict=False)
        best = max(best, sum(overlap[i, j] for i, j in pairs if i < r and j < h))
    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    total = int(n_ref.sum())
    missed = int(np.maximum(n_ref - n_hyp, 0).sum())
    false_alarm = int(np.maximum(n_hyp - n_ref, 0).sum())
    confusion = int(np.minimum(n_ref, n_hyp).sum()) - best
    return {
        "der": (missed + false_alarm + confusion) / total,
        "missed": missed / total,
        "false_alarm": false_alarm / total,
        "confusion": confusion / total,
        "reference_speakers": r,
        "hypothesis_speakers": len(hyp_names),
    }


def hypothesis_turns(windows, labels) -> list[tuple[str, float, float]]:
    """Every 10 ms inside a window, labelled with its nearest window's speaker."""
    from assistant.diarisation.labels import speaker_at

    if not windows:
        return []
    stop = max(w.end_s for w in windows)
    covered = np.zeros(int(np.ceil(stop / STEP)) + 1, dtype=bool)
    for w in windows:
        covered[round(w.start_s / STEP) : round(w.end_s / STEP)] = True
    turns: list[tuple[str, float, float]] = []
    for i in np.flatnonzero(covered):
        t = i * STEP
        speaker = f"S{speaker_at(t, t + STEP, windows, labels) + 1}"
        if turns and turns[-1][0] == speaker and abs(turns[-1][2] - t) < STEP / 2:
            turns[-1] = (speaker, turns[-1][1], t + STEP)
        else:
            turns.append((speaker, t, t + STEP))
    return turns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("audio", type=Path)
    parser.add_argument("rttm", type=Path)
    parser.add_argument("--min-speakers", type=int, default=None)
    parser.add_argument("--max-speakers", type=int, default=None)
    args = parser.parse_args()

    from assistant.audio import load_pcm16k
    from assistant.diarisation import DiarisationOptions, Diariser, load_encoder
    from assistant.model_store import resolve_models
    from assistant.settings import Settings

    settings = Settings()
    models = resolve_models(settings)
    encoder = load_encoder(models.speaker_path, model_ref=models.speaker)
    options = DiarisationOptions(
        min_speakers=args.min_speakers or settings.diarisation_min_speakers,
        max_speakers=args.max_speakers or settings.diarisation_max_speakers,
    )
    audio = load_pcm16k(args.audio)
    t0 = time.perf_counter()
    windows, labels = Diariser(encoder, options).windows(audio)
    wall = time.perf_counter() - t0
    reference = read_rttm(args.rttm)
    hyp = hypothesis_turns(windows, labels)
    duration = len(audio) / 16000
    report = {
        "audio": args.audio.name,
        "duration_s": round(duration, 2),
        "model": models.speaker.model_dump(),
        "bounds": [options.min_speakers, options.max_speakers],
        "windows": len(windows),
        "no_collar": der(reference, hyp),
        "collar_0.25": der(reference, hyp, collar=0.25),
        "wall_s": round(wall, 3),
        "rtf": round(wall / duration, 4),
        "goal": "DER <= 0.10 without collar (issue 23)",
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
