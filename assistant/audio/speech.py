"""Decode a recording for Whisper and check that it holds speech.

faster-whisper is imported inside the functions: it pulls in CTranslate2 and the tokenizers,
which importing ``assistant.audio`` (for ``probe``, say) should not cost.
"""

from __future__ import annotations

import numpy as np

from assistant.audio.sealed import AudioSource, open_audio

SAMPLE_RATE = 16_000
"""What ``load_pcm16k`` returns and what Whisper and the VAD expect."""


def load_pcm16k(path: AudioSource) -> np.ndarray:
    """Decode to mono float32 at 16 kHz, as Whisper and the VAD expect."""
    from faster_whisper.audio import decode_audio

    with open_audio(path) as fh:
        audio = decode_audio(fh, sampling_rate=SAMPLE_RATE)
    return np.asarray(audio, dtype=np.float32)


def has_speech(audio: np.ndarray, *, min_speech_s: float = 0.5) -> bool:
    """True when the Silero VAD finds at least ``min_speech_s`` of speech in 16 kHz mono audio.

    Padding is switched off so that ``min_speech_s`` counts speech, not the margins the
    transcriber adds around it.
    """
    if audio.ndim != 1:
        raise ValueError("has_speech expects mono audio (a 1-D array)")
    if audio.size < SAMPLE_RATE * min_speech_s:
        return False
    return speech_seconds(audio) >= min_speech_s


def speech_seconds(audio: np.ndarray) -> float:
    """Seconds of speech the Silero VAD finds in 16 kHz mono ``audio``, without padding."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_speech_duration_ms=250, speech_pad_ms=0)
    spans = get_speech_timestamps(np.asarray(audio, dtype=np.float32), options, SAMPLE_RATE)
    return sum(span["end"] - span["start"] for span in spans) / SAMPLE_RATE
