"""From labelled windows to a labelled transcript: every word gets the speaker of the window
nearest to it, segments are split where the speaker changes, speakers are named ``S1``, ``S2`` …
in order of first appearance and segments renumbered (nothing cites them yet: diarisation runs
before redaction and drafting)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.diarisation.answerers import split_answerers
from assistant.diarisation.boundaries import snapped
from assistant.diarisation.windows import Window
from assistant.domain import Segment, Transcript, Word
from assistant.transcription import SENTENCE_END, cut_segment, segment_id


def speaker_at(start: float, end: float, windows: Sequence[Window], labels: np.ndarray) -> int:
    """The label of the window that best represents [start, end]: among those overlapping it
    the one whose centre is nearest its middle (a window hears its centre best), else the
    nearest window."""
    return _speaker_at(start, end, _Times.of(windows), labels)


@dataclass(frozen=True)
class _Times:
    """The windows' starts, ends and centres as arrays, made once a recording: a word at a time
    over Python lists took 53 s of a 60-minute visit's 75 s of speaker separation."""

    start: np.ndarray
    end: np.ndarray
    centre: np.ndarray

    @classmethod
    def of(cls, windows: Sequence[Window]) -> _Times:
        start = np.array([w.start_s for w in windows], dtype=np.float64)
        end = np.array([w.end_s for w in windows], dtype=np.float64)
        return cls(start, end, (start + end) / 2)


def _speaker_at(start: float, end: float, times: _Times, labels: np.ndarray) -> int:
    return int(speakers_at(np.array([start]), np.array([end]), times, labels)[0])


def speakers_at(
    starts: np.ndarray, ends: np.ndarray, times: _Times, labels: np.ndarray
) -> np.ndarray:
    """``speaker_at`` for many spans at once (one a row)."""
    middle = (starts + ends) / 2
    overlap = (
        np.minimum(ends[:, None], times.end[None, :])
        - np.maximum(starts[:, None], times.start[None, :])
    ) > 0
    distance = np.abs(times.centre[None, :] - middle[:, None])
    distance = np.where(overlap.any(axis=1, keepdims=True) & ~overlap, np.inf, distance)
    return labels[np.argmin(distance, axis=1)].astype(int)


def label_transcript(
    transcript: Transcript,
    windows: Sequence[Window],
    labels: np.ndarray,
    embeddings: np.ndarray | None = None,
) -> tuple[Transcript, int]:
    """``transcript`` with every segment's speaker set (split at changes), and the number of
    speakers it names. Without any window (no speech found) everything is ``S1``."""
    labelled, names = name_speakers(transcript, windows, labels, embeddings)
    return labelled, len(names)


def name_speakers(
    transcript: Transcript,
    windows: Sequence[Window],
    labels: np.ndarray,
    embeddings: np.ndarray | None = None,
    *,
    max_speakers: int | None = None,
) -> tuple[Transcript, dict[int, str]]:
    """As ``label_transcript``, with the name (``S1`` …) given to each window label that some
    word took; a label no word took (a voice heard only between words) is named nothing.
    ``embeddings`` (one a window): a speaker answering its own questions in a second voice is
    split in two (``answerers``), within ``max_speakers``; the answers' label is one no
    window has."""
    pieces: list[tuple[int, Segment]] = []
    times = _Times.of(windows)
    heard = _word_labels(transcript, windows, labels, times)
    for seg in transcript.segments:
        pieces += _split(seg, windows, labels, times, heard[: len(seg.words)])
        heard = heard[len(seg.words) :]
    pieces = split_answerers(pieces, windows, embeddings, max_speakers=max_speakers)
    names: dict[int, str] = {}
    for label, _ in pieces:
        names.setdefault(label, f"S{len(names) + 1}")
    if len(names) > 1:
        pieces = join_turns(pieces)
    segments = tuple(
        seg.model_copy(update={"id": segment_id(n), "speaker": names[label]})
        for n, (label, seg) in enumerate(pieces, start=1)
    )
    return transcript.model_copy(update={"segments": segments}), names


#: Sentences of one speaker closer than this, and together no longer than ``MAX_TURN_S``, are
#: one turn: one segment, as a typed transcript has one a turn.
MAX_PAUSE_S = 1.5
MAX_TURN_S = 30.0


def join_turns(pieces: list[tuple[int, Segment]]) -> list[tuple[int, Segment]]:
    """Consecutive sentences of one speaker joined into their turn. The note keeps a span of a
    turn's sentences as one statement, so a point made over two sentences stays one statement
    (from audio, one statement a sentence lost facts that span sentences); a turn is what a
    statement cites in a typed transcript too. Not with one voice found: its turns are not
    known, and a sentence is the most precise evidence there is."""
    out: list[tuple[int, list[Segment]]] = []
    for label, seg in pieces:
        if out and out[-1][0] == label:
            run = out[-1][1]
            if seg.start - run[-1].end <= MAX_PAUSE_S and seg.end - run[0].start <= MAX_TURN_S:
                run.append(seg)
                continue
        out.append((label, [seg]))
    return [(label, _joined(run)) for label, run in out]


def _joined(run: list[Segment]) -> Segment:
    if len(run) == 1:
        return run[0]
    words = tuple(w for seg in run for w in seg.words)
    logprobs = [
        (seg.avg_logprob, max(len(seg.words), 1)) for seg in run if seg.avg_logprob is not None
    ]
    no_speech = [seg.no_speech_prob for seg in run if seg.no_speech_prob is not None]
    return run[0].model_copy(
        update={
            "end": run[-1].end,
            "text": " ".join(seg.text for seg in run),
            "words": words,
            # the turn's confidence: its sentences' average log-probability, by their words
            "avg_logprob": sum(p * n for p, n in logprobs) / sum(n for _, n in logprobs)
            if logprobs
            else None,
            "no_speech_prob": max(no_speech) if no_speech else None,
        }
    )


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


#: A run of a segment's words heard as another speaker is kept apart only when it is at least
#: this long: shorter runs inside one sentence are windows straddling a turn change (a window
#: is 1.5 s), so they take the speaker of the longer run beside them.
MIN_RUN_WORDS = 3
MIN_RUN_S = 1.0


def _word_labels(
    transcript: Transcript, windows: Sequence[Window], labels: np.ndarray, times: _Times
) -> list[int]:
    """Every word's label (in transcript order): its best window's, with each change of
    speaker moved to the longest pause near it (``boundaries.snapped``), across segments: a
    window straddling a turn change gives a sentence's first words to the speaker before."""
    words = [w for seg in transcript.segments for w in seg.words]
    if not windows or not words:
        return [0] * len(words)
    heard = speakers_at(
        np.array([w.start for w in words]), np.array([w.end for w in words]), times, labels
    ).tolist()
    return snapped(words, heard)


def _split(
    seg: Segment,
    windows: Sequence[Window],
    labels: np.ndarray,
    times: _Times,
    word_labels: list[int],
) -> list[tuple[int, Segment]]:
    if not windows:
        return [(0, seg)]
    if not seg.words:
        return [(_speaker_at(seg.start, seg.end, times, labels), seg)]
    runs = _smoothed(_runs(seg.words, word_labels))
    if len(runs) == 1:
        return [(runs[0][0], seg)]
    pieces = cut_segment(seg, [words for _, words in runs])
    return [(label, piece) for (label, _), piece in zip(runs, pieces, strict=True)]


def _runs(words: Sequence[Word], labels: Sequence[int]) -> list[tuple[int, list[Word]]]:
    return _grouped([(label, [word]) for word, label in zip(words, labels, strict=True)])


def _grouped(runs: Sequence[tuple[int, list[Word]]]) -> list[tuple[int, list[Word]]]:
    """Neighbouring runs of one speaker as one run."""
    out: list[tuple[int, list[Word]]] = []
    for label, words in runs:
        if out and out[-1][0] == label:
            out[-1][1].extend(words)
        else:
            out.append((label, list(words)))
    return out


def _turn_like(runs: Sequence[tuple[int, Sequence[Word]]], i: int) -> bool:
    """Run ``i`` starts after a sentence ends, or ends one before another run: a short answer
    ("How are you? Fine, thanks."), kept as its own turn."""
    after_end = i > 0 and bool(SENTENCE_END.search(runs[i - 1][1][-1].text))
    before_next = i < len(runs) - 1 and bool(SENTENCE_END.search(runs[i][1][-1].text))
    return after_end or before_next


def _smoothed(runs: list[tuple[int, list[Word]]]) -> list[tuple[int, list[Word]]]:
    """``runs`` with each short one (under both :data:`MIN_RUN_WORDS` and :data:`MIN_RUN_S`)
    given to the longer run beside it, shortest first, and neighbours of one speaker joined."""
    while len(runs) > 1:
        short = [
            i
            for i, (_, words) in enumerate(runs)
            if len(words) < MIN_RUN_WORDS
            and words[-1].end - words[0].start < MIN_RUN_S
            and not _turn_like(runs, i)
        ]
        if not short:
            break
        i = min(short, key=lambda k: len(runs[k][1]))
        beside = [j for j in (i - 1, i + 1) if 0 <= j < len(runs)]
        j = max(beside, key=lambda k: len(runs[k][1]))
        runs = _grouped([*runs[:i], (runs[j][0], runs[i][1]), *runs[i + 1 :]])
    return runs
