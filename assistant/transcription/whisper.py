"""Speech to text with faster-whisper, loaded by path, guarded against repetition loops.

``Transcriber(model, ...)`` is handed a loaded ``WhisperModel``; it knows nothing of the web or
the database. ``transcribe()`` consumes faster-whisper's lazy segment generator inside the call,
so the caller's lock really covers the decoding.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from assistant.domain import ModelRef, Segment, Transcript, Word
from assistant.transcription.vocabulary import hint_text, mentions

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
VocabularyMode = Literal["hotwords", "initial_prompt", "off"]


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
    # Whisper drops a window whose no-speech probability is above this while its words are
    # improbable (average log-probability under -1). faster-whisper's default is 0.6.
    no_speech_threshold: float = 0.6
    # 0: faster-whisper's sequential decoding; n > 0: its BatchedInferencePipeline, which cuts
    # the speech the VAD found into chunks of up to 30 s and decodes n of them at once.
    batch_size: int = 0
    # How the vocabulary reaches Whisper: "hotwords" primes every 30-second window,
    # "initial_prompt" only the first one (conditioning on previous text is off), "off" not at all.
    vocabulary_mode: VocabularyMode = "hotwords"
    council_terms: tuple[str, ...] = ()
    # A segment that has a vocabulary term and an average log-probability under this is decoded
    # again without the vocabulary, and that decoding kept: primed, Whisper wrote lists of
    # terms over numbers and spelt letters ("LADO, IDO, 113, 496" for a phone number, "CSE,
    # PEP, PEP" for a postcode), never over clear speech (benchmarks/asr_vocabulary.py).
    # None: never.
    vocabulary_recheck_logprob: float | None = -0.5
    # Word times and probabilities: speaker labels (a speaker per word), the cuts of a batched
    # 30-second segment into sentences, evidence times and the unsure words marked for review
    # are read from them. False only to measure what they cost (benchmarks/asr_vs_plain.py).
    word_timestamps: bool = True
    # What stands between the vocabulary's terms in the hint. Every token of the hint is copied
    # with each beam hypothesis at every decoding step: a comma is a token a term.
    vocabulary_separator: str = ", "


class Transcriber:
    def __init__(self, model, *, model_ref: ModelRef, options: TranscribeOptions | None = None):
        self._model = model
        self.model_ref = model_ref
        self.options = options or TranscribeOptions()
        self._batched = None
        if self.options.batch_size > 0:
            from faster_whisper import BatchedInferencePipeline

            self._batched = BatchedInferencePipeline(model)

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        progress: Callable[[float], None] | None = None,
        terms: Sequence[str] = (),
    ) -> Transcript:
        """``terms``: this recording's own vocabulary (names of local places and services),
        given to Whisper before the council's list."""
        opts = self.options
        duration = len(audio) / SAMPLE_RATE
        lang = language or opts.language
        segments_iter, info = self._decode(audio, lang, terms)
        segments: list[Segment] = []
        dropped = rechecked = 0
        vocabulary = () if opts.vocabulary_mode == "off" else (*terms, *opts.council_terms)
        for seg in segments_iter:  # decoding happens here, inside the caller's lock
            text = collapse_repetitions(seg.text.strip(), opts.max_repeats)
            words = _words(seg)
            logprob = seg.avg_logprob
            if self._doubtful(text, logprob, vocabulary):
                text, words, logprob = self._without_vocabulary(audio, seg.start, seg.end, lang)
                rechecked += 1
            if not text:
                dropped += 1
                continue
            whole = Segment(
                id="",
                start=round(seg.start, 2),
                end=round(seg.end, 2),
                text=text,
                avg_logprob=logprob,
                no_speech_prob=seg.no_speech_prob,
                words=words,
            )
            for piece in split_sentences(whole):
                segments.append(piece.model_copy(update={"id": segment_id(len(segments) + 1)}))
            if progress and duration:
                progress(min(seg.end / duration, 1.0))
        log.info(
            "transcribed duration_s=%.1f segments=%d dropped=%d language=%s terms=%d "
            "rechecked_without_vocabulary=%d",
            duration,
            len(segments),
            dropped,
            info.language,
            len(terms),
            rechecked,
        )
        return Transcript(
            segments=tuple(segments),
            language=info.language,
            duration_s=round(duration, 2),
            source="audio",
            model=self.model_ref,
        )

    def _doubtful(self, text: str, logprob: float | None, vocabulary: Sequence[str]) -> bool:
        """A segment with a vocabulary term, decoded with less confidence than
        ``vocabulary_recheck_logprob``: the term may be the priming's, not the speaker's."""
        limit = self.options.vocabulary_recheck_logprob
        return (
            limit is not None
            and logprob is not None
            and logprob < limit
            and mentions(text, vocabulary)
        )

    def _without_vocabulary(
        self, audio: np.ndarray, start: float, end: float, lang: str
    ) -> tuple[str, tuple[Word, ...], float | None]:
        """The stretch ``start``..``end`` (and a quarter second after) decoded again with no
        vocabulary: its text, words (times in the whole recording) and log-probability."""
        first = int(start * SAMPLE_RATE)
        clip = audio[first : int(end * SAMPLE_RATE) + SAMPLE_RATE // 4]
        pieces, _ = self._decode(clip, lang, (), vocabulary=False)
        texts: list[str] = []
        words: list[Word] = []
        logprobs: list[float] = []
        for piece in pieces:
            texts.append(piece.text.strip())
            logprobs.append(piece.avg_logprob)
            words += _words(piece, offset=start)
        text = collapse_repetitions(" ".join(t for t in texts if t), self.options.max_repeats)
        return text, tuple(words), (sum(logprobs) / len(logprobs) if logprobs else None)

    def _decode(self, audio: np.ndarray, lang: str, terms: Sequence[str], *, vocabulary=True):
        """faster-whisper's (lazy segments, info), sequential or batched; ``vocabulary``
        False: no hint at all (the council's list included)."""
        opts = self.options
        hint = None
        if vocabulary and opts.vocabulary_mode != "off":
            hint = hint_text(terms, opts.council_terms, separator=opts.vocabulary_separator)
        kwargs = dict(
            language=None if lang == "auto" else lang,
            beam_size=opts.beam_size,
            vad_filter=opts.vad_filter,
            word_timestamps=opts.word_timestamps,
            condition_on_previous_text=opts.condition_on_previous_text,
            compression_ratio_threshold=opts.compression_ratio_threshold,
            no_repeat_ngram_size=opts.no_repeat_ngram_size,
            no_speech_threshold=opts.no_speech_threshold,
        )
        if hint and opts.vocabulary_mode == "hotwords":
            kwargs["hotwords"] = hint
        elif hint:
            kwargs["initial_prompt"] = hint
        if self._batched is not None:
            # batched decoding needs speech regions: it always uses the VAD
            kwargs["vad_filter"] = True
            return self._batched.transcribe(audio, batch_size=opts.batch_size, **kwargs)
        return self._model.transcribe(audio, **kwargs)


def _words(seg, offset: float = 0.0) -> tuple[Word, ...]:
    """A faster-whisper segment's words; ``offset``: seconds added to their times (a clip's
    words in the whole recording's time)."""
    return tuple(
        Word(
            start=round(w.start + offset, 2) if offset else w.start,
            end=round(w.end + offset, 2) if offset else w.end,
            text=w.word.strip(),
            probability=w.probability,
        )
        for w in (seg.words or [])
    )


def segment_id(n: int) -> str:
    return f"s{n:04d}"


SENTENCE_END = re.compile(r"[.?!…][\"'”’)\]]*$")
_ABBREVIATIONS = frozenset(
    "mr. mrs. ms. dr. st. prof. a.m. p.m. e.g. i.e. etc. vs. no. approx. dept. tel.".split()
)


def split_sentences(seg: Segment) -> list[Segment]:
    """``seg`` cut into its sentences at the word timestamps, so a statement's evidence is the
    sentence that says it and plays from where it starts. Batched decoding gives one segment
    per VAD chunk of up to 30 s (five segments for a two-minute visit, seen here), and a
    statement citing one would point at half a minute of several people's words. Whole when
    there is one sentence, no word timestamps, or the words no longer spell the text (a
    repetition was cut)."""
    words, text = seg.words, seg.text
    if len(words) < 2 or "".join(w.text for w in words) != "".join(text.split()):
        return [seg]
    groups: list[list[Word]] = [[]]
    for i, w in enumerate(words):
        groups[-1].append(w)
        last = i == len(words) - 1
        if not last and SENTENCE_END.search(w.text) and w.text.lower() not in _ABBREVIATIONS:
            groups.append([])
    if len(groups) == 1:
        return [seg]
    return cut_segment(seg, groups)


def cut_segment(seg: Segment, groups: Sequence[Sequence[Word]]) -> list[Segment]:
    """``seg`` as one segment per group of its words (in order, all of them). The text is cut,
    not rebuilt from the words, where the words spell it: Whisper writes "0-1-1-3" as the words
    "0", "-1", "-1", "-3", and a quote must stay exactly as transcribed."""
    text = seg.text
    spelled = "".join(w.text for g in groups for w in g) == "".join(text.split())
    pieces: list[str] = []
    at = 0
    for g in groups:
        if not spelled:
            pieces.append(" ".join(w.text for w in g))
            continue
        start = text.index(g[0].text, at)
        for w in g:
            at = text.index(w.text, at) + len(w.text)
        pieces.append(text[start:at])
    return [
        seg.model_copy(
            update={
                "start": round(g[0].start, 2),
                "end": round(g[-1].end, 2),
                "text": piece.strip(),
                "words": tuple(g),
            }
        )
        for g, piece in zip(groups, pieces, strict=True)
    ]


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
