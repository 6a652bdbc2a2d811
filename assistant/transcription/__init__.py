"""Speech to text (``whisper``: faster-whisper, imported only when a model is loaded) and
transcripts supplied as text instead of audio (``files``)."""

from assistant.transcription.files import parse_json, parse_text, read_transcript_file
from assistant.transcription.whisper import (
    SENTENCE_END,
    TranscribeOptions,
    Transcriber,
    collapse_repetitions,
    cut_segment,
    load_whisper,
    segment_id,
)

__all__ = [
    "SENTENCE_END",
    "TranscribeOptions",
    "Transcriber",
    "collapse_repetitions",
    "cut_segment",
    "load_whisper",
    "parse_json",
    "parse_text",
    "read_transcript_file",
    "segment_id",
]
