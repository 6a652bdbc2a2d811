"""Audio intake: save an upload (``intake``), identify and check it (``probing``, with the
per-format end checks in ``truncation``), and decode it and look for speech (``speech``)."""

from assistant.audio.intake import RecordingWriter, recording_too_large
from assistant.audio.probing import SUPPORTED_FORMATS, AudioInfo, probe
from assistant.audio.sealed import AudioSource, SealedFile, open_audio
from assistant.audio.speech import SAMPLE_RATE, has_speech, load_pcm16k, speech_seconds

__all__ = [
    "SAMPLE_RATE",
    "SUPPORTED_FORMATS",
    "AudioInfo",
    "AudioSource",
    "SealedFile",
    "RecordingWriter",
    "has_speech",
    "load_pcm16k",
    "open_audio",
    "probe",
    "recording_too_large",
    "speech_seconds",
]
