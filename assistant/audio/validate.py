"""Deprecated: the old module path, kept for one merge. Import from ``assistant.audio``.

``assistant.pipeline`` and ``assistant.api.routes.recordings`` still read
``from assistant.audio.validate import validate as audio_mod``; ``validate`` below is the
``assistant.audio`` package, so that line keeps working until they import the package itself.
"""

from assistant import audio as validate
from assistant.audio import (
    SAMPLE_RATE,
    SUPPORTED_FORMATS,
    AudioInfo,
    has_speech,
    load_pcm16k,
    probe,
)

__all__ = [
    "SAMPLE_RATE",
    "SUPPORTED_FORMATS",
    "AudioInfo",
    "has_speech",
    "load_pcm16k",
    "probe",
    "validate",
]
