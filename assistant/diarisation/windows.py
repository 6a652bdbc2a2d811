"""Where to embed: speech regions found by the Silero VAD that faster-whisper ships (ONNX, already
installed), cut into overlapping windows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class Window:
    start_s: float
    end_s: float

    @property
    def centre_s(self) -> float:
        return (self.start_s + self.end_s) / 2


def speech_regions(audio: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of speech. Short pauses split regions: a change of speaker usually
    comes with one, and a window that stays inside one region hears one voice. A lower
    threshold and wider margins than transcription's keep quiet turn starts: on the pyannote
    sample call they took DER from 19.8% to 14.0% (benchmarks/diarisation_bench.py)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if audio.size < SAMPLE_RATE // 4:
        return []
    options = VadOptions(
        threshold=0.35, min_speech_duration_ms=250, min_silence_duration_ms=100, speech_pad_ms=200
    )
    spans = get_speech_timestamps(np.asarray(audio, dtype=np.float32), options, SAMPLE_RATE)
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in spans]


def windows_in(
    regions: list[tuple[float, float]], *, length_s: float, step_s: float, min_s: float
) -> list[Window]:
    """Windows of ``length_s`` every ``step_s`` inside each region, the last one ending with the
    region; a region shorter than ``length_s`` (but at least ``min_s``) is one window."""
    out: list[Window] = []
    for start, end in regions:
        span = end - start
        if span < min_s:
            continue
        if span <= length_s:
            out.append(Window(start, end))
            continue
        t = start
        while t + length_s < end:
            out.append(Window(t, t + length_s))
            t += step_s
        out.append(Window(end - length_s, end))
    return out


def window_levels(audio: np.ndarray, windows: list[Window]) -> np.ndarray:
    """The level of each window in dB full scale (RMS of its samples). The speaker embedding is
    normalised and so deaf to loudness; the level is what tells a television or a voice in
    another room from the people at the microphone."""
    out = np.full(len(windows), -120.0)
    for i, w in enumerate(windows):
        piece = audio[round(w.start_s * SAMPLE_RATE) : round(w.end_s * SAMPLE_RATE)]
        if piece.size:
            rms = float(np.sqrt(np.mean(np.square(piece, dtype=np.float64))))
            out[i] = 20 * np.log10(max(rms, 1e-6))
    return out
