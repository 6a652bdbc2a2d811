"""Where one speaker stops and the next starts, refined after clustering with the words.

A window is 1.5 s and one every 0.6 s, so a window straddling a change of speaker carries the
change up to half a window late or early: on the pyannote sample call the nearest-window rule
put "Oh, I'm originally" (the second speaker's first words) with the first speaker. Whisper's
word times are far finer. Two rules, both downstream of the cluster labels:

- ``snapped``: a change of label between two words moves to the longest pause between words
  within ``SNAP_S`` of it (people take turns at pauses; a window's label changes wherever the
  window's centre happens to fall).
- ``speaker_track``: the speaker at every 10 ms of detected speech (the nearest window's label,
  as before) with each change of the words' speaker placed where the new speaker's first word
  starts. This is the timeline the evaluation scores DER on.

Measured on the diarisation suite (docs/evaluation.md): sample call DER 14.0% -> 12.4%, its
words given the right speaker 87.3% -> 91.1%. Scoring shorter windows (0.5 to 1 s, every 0.1 s)
against the centroids was looked at and not kept: they leaned to one centroid (on the sample
call every such window of the second speaker's turn at 18 to 20 s sat nearer the first
speaker's), and embedding them took 2.2 s for the 30 s call, a real-time factor of 0.07.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.diarisation.windows import Window
from assistant.domain import Word

#: How far (seconds, between gap middles) a change of speaker may move to a longer pause. At
#: 0.45 to 0.6 s the suite's figures were the same; at 0.8 s a rendered visit lost 4 words.
SNAP_S = 0.5
#: How far from a change of the words' speaker the timeline follows the words, not the windows.
TRACK_REACH_S = 1.0
STEP_S = 0.01


def snapped(words: Sequence[Word], labels: Sequence[int], *, reach_s: float = SNAP_S) -> list[int]:
    """``labels`` (one per word, in time order) with each change of label moved to the longest
    pause between words whose middle is within ``reach_s`` of the change's, never past the
    changes either side of it (ties: the nearer pause; no longer pause: it stays)."""
    out = list(labels)
    n = len(words)
    changes = [i for i in range(1, n) if out[i] != out[i - 1]]
    for c, i in enumerate(changes):
        lo = changes[c - 1] + 1 if c > 0 else 1
        hi = changes[c + 1] - 1 if c + 1 < len(changes) else n - 1
        at = (words[i - 1].end + words[i].start) / 2
        best, to = (words[i].start - words[i - 1].end, 0.0), i
        for j in range(lo, hi + 1):
            middle = (words[j - 1].end + words[j].start) / 2
            if abs(middle - at) > reach_s:
                continue
            key = (words[j].start - words[j - 1].end, -abs(middle - at))
            if key > best:
                best, to = key, j
        before, after = out[i - 1], out[i]
        for k in range(min(to, i), max(to, i)):
            out[k] = after if to < i else before
        changes[c] = to
    return out


def speaker_track(
    windows: Sequence[Window],
    labels: np.ndarray,
    words: Sequence[tuple[float, int]] = (),
    *,
    reach_s: float = TRACK_REACH_S,
) -> list[tuple[int, float, float]]:
    """(label, start, end) turns over the 10 ms steps inside the windows: each step the label
    of the window that best represents it (``labels.speaker_at``), then, within ``reach_s`` of
    each change of speaker among ``words`` ((start, label) in time order, the labels the words
    were given), the steps between the windows' change and the new speaker's first word moved
    to the side the words put them. Only changes between two window labels move anything (a
    label the words alone carry, an answerer's, has no windows to move)."""
    from assistant.diarisation.labels import _Times, speakers_at  # labels imports this module

    if not len(windows):
        return []
    stop = max(w.end_s for w in windows)
    covered = np.zeros(int(np.ceil(stop / STEP_S)) + 1, dtype=bool)
    for w in windows:
        covered[round(w.start_s / STEP_S) : round(w.end_s / STEP_S)] = True
    steps = np.flatnonzero(covered)
    start = steps * STEP_S
    times = _Times.of(windows)
    track = np.concatenate(
        [
            speakers_at(start[k : k + 2000], start[k : k + 2000] + STEP_S, times, labels)
            for k in range(0, len(steps), 2000)
        ]
    )
    known = set(np.asarray(labels).tolist())
    middle = start + STEP_S / 2
    for (_, a), (at, b) in zip(words, words[1:], strict=False):
        if a == b or a not in known or b not in known:
            continue
        lo, cut, hi = np.searchsorted(middle, [at - reach_s, at, at + reach_s])
        before, after = track[lo:cut], track[cut:hi]
        before[before == b] = a
        after[after == a] = b
    return _turns(steps, track)


def _turns(steps: np.ndarray, track: np.ndarray) -> list[tuple[int, float, float]]:
    out: list[tuple[int, float, float]] = []
    for step, label in zip(steps.tolist(), track.tolist(), strict=True):
        t = step * STEP_S
        if out and out[-1][0] == label and abs(out[-1][2] - t) < STEP_S / 2:
            out[-1] = (label, out[-1][1], t + STEP_S)
        else:
            out.append((int(label), t, t + STEP_S))
    return out
