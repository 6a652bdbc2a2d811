"""Speech to text with faster-whisper, loaded by path, guarded against repetition loops.

``Transcriber(model, ...)`` is handed a loaded ``WhisperModel``; it knows nothing of the web or
the database. ``transcribe()`` consumes faster-whisper's lazy segment generator inside the call,
so the caller's lock really covers the decoding.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.domain import ModelRef, Segment, Transcript, Word

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000


def load_whisper(path: Path, *, device: str, compute_type: str, cpu_threads: int):
    """Load a CTranslate2 Whisper folder by path. Never a model name: names go to a hub."""
    from faster_whisper import WhisperModel

    if not (path / "model.bin").is_file():
        raise FileNotFoundError(f"No CTranslate2 Whisper model in {path}")
    return WhisperModel(
        str(path),
        device=device,
        compute_type=compute_type,
        cpu_threads=cpu_threads,
        local_files_only=True,
    )


@dataclass(frozen=True)
class TranscribeOptions:
    """Decoding options. ``language='auto'`` lets Whisper detect it (multilingual models)."""

    language: str = "en"
    beam_size: int = 5
    vad_filter: bool = True
    # Repetition guards: no conditioning on previous text (the usual loop trigger), a
    # compression-ratio threshold that makes Whisper re-decode looping windows at a higher
    # temperature, and our own check that drops a segment repeating the same n-gram.
    condition_on_previous_text: bool = False
    compression_ratio_threshold: float = 2.4
    no_repeat_ngram_size: int = 0
    max_repeats: int = 4


class Transcriber:
    def __init__(self, model, *, model_ref: ModelRef, options: TranscribeOptions | None = None):
        self._model = model
        self.model_ref = model_ref
        self.options = options or TranscribeOptions()

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> Transcript:
        opts = self.options
        lang = language or opts.language
        duration = len(audio) / SAMPLE_RATE
        segments_iter, info = self._model.transcribe(
            audio,
            language=None if lang == "auto" else lang,
            beam_size=opts.beam_size,
            vad_filter=opts.vad_filter,
            word_timestamps=True,
            condition_on_previous_text=opts.condition_on_previous_text,
            compression_ratio_threshold=opts.compression_ratio_threshold,
            no_repeat_ngram_size=opts.no_repeat_ngram_size,
        )
        segments: list[Segment] = []
        dropped = 0
        for seg in segments_iter:  # decoding happens here, inside the caller's lock
            text = collapse_repetitions(seg.text.strip(), opts.max_repeats)
            if not text:
                dropped += 1
                continue
            words = tuple(
                Word(start=w.start, end=w.end, text=w.word.strip(), probability=w.probability)
                for w in (seg.words or [])
            )
            segments.append(
                Segment(
                    id=segment_id(len(segments) + 1),
                    start=round(seg.start, 2),
                    end=round(seg.end, 2),
                    text=text,
                    avg_logprob=seg.avg_logprob,
                    no_speech_prob=seg.no_speech_prob,
                    words=words,
                )
            )
            if progress and duration:
                progress(min(seg.end / duration, 1.0))
        log.info(
            "transcribed duration_s=%.1f segments=%d dropped=%d language=%s",
            duration,
            len(segments),
            dropped,
            info.language,
        )
        return Transcript(
            segments=tuple(segments),
            language=info.language,
            duration_s=round(duration, 2),
            source="audio",
            model=self.model_ref,
        )


def segment_id(n: int) -> str:
    return f"s{n:04d}"


_WORD = re.compile(r"\S+")


def collapse_repetitions(text: str, max_repeats: int) -> str:
    """Cut a phrase repeated more than ``max_repeats`` times in a row down to one copy.

    Whisper's characteristic failure ("thank you thank you thank you ...") survives its own
    temperature fallback now and then; a note must never quote it.
    """
    words = _WORD.findall(text)
    if len(words) < max_repeats * 2:
        return text
    for n in range(1, 9):
        keys = [w.lower().strip(".,!?") for w in words]  # compared without case or punctuation
        i = 0
        out: list[str] = []
        changed = False
        while i < len(words):
            gram = keys[i : i + n]
            reps = 1
            while (
                i + (reps + 1) * n <= len(words) and keys[i + reps * n : i + (reps + 1) * n] == gram
            ):
                reps += 1
            if reps > max_repeats:
                out.extend(words[i : i + n])
                i += reps * n
                changed = True
            else:
                out.append(words[i])
                i += 1
        if changed:
            words = out
    return " ".join(words)
