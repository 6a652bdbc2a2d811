"""Who spoke when: speech regions -> 1.5 s windows every 0.6 s -> speaker embeddings ->
spectral clustering -> a speaker for every word (``Diariser``, handed its encoder)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from assistant.diarisation.clustering import ClusterOptions, Clusters, clusters
from assistant.diarisation.encoder import HOP, SpeakerEncoder, mel_frames
from assistant.diarisation.labels import name_speakers, speaker_levels
from assistant.diarisation.voice import VOICE_THRESHOLD, centroids, recognise
from assistant.diarisation.windows import (
    SAMPLE_RATE,
    Window,
    speech_regions,
    window_levels,
    windows_in,
)
from assistant.domain import Diarisation, Transcript

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DiarisationOptions:
    """Speaker-count bounds (from settings) and the windowing measured in MODELS.md."""

    min_speakers: int = 1
    max_speakers: int = 8
    window_s: float = 1.5
    step_s: float = 0.6
    min_window_s: float = 0.4
    #: an enrolled voice's cosine similarity that makes a speaker the social worker
    voice_threshold: float = VOICE_THRESHOLD


class Diariser:
    def __init__(self, encoder: SpeakerEncoder, options: DiarisationOptions | None = None):
        self.encoder = encoder
        self.options = options or DiarisationOptions()
        if not 1 <= self.options.min_speakers <= self.options.max_speakers:
            raise ValueError("speaker bounds need 1 <= min_speakers <= max_speakers")

    def windows(self, audio: np.ndarray) -> tuple[list[Window], np.ndarray]:
        """The windows of speech in 16 kHz mono ``audio`` and the speaker index of each."""
        windows, found, _ = self.separate(audio)
        return windows, found.labels

    def separate(self, audio: np.ndarray) -> tuple[list[Window], Clusters, np.ndarray]:
        """The windows, their clusters and each window's embedding (N, 256)."""
        opts = self.options
        regions = speech_regions(audio)
        windows = windows_in(
            regions, length_s=opts.window_s, step_s=opts.step_s, min_s=opts.min_window_s
        )
        if not windows:
            return [], Clusters(np.zeros(0, dtype=int)), np.zeros((0, 256), dtype=np.float32)
        embeddings = self.embed(audio, windows)
        options = ClusterOptions(min_speakers=opts.min_speakers, max_speakers=opts.max_speakers)
        return windows, clusters(embeddings, options), embeddings

    def embed(self, audio: np.ndarray, windows: list[Window]) -> np.ndarray:
        """One unit embedding per window; windows of one length are run as one batch."""
        mels = mel_frames(audio)
        spans = [
            (round(w.start_s * SAMPLE_RATE / HOP), round(w.end_s * SAMPLE_RATE / HOP))
            for w in windows
        ]
        out = np.zeros((len(windows), 256), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for i, (a, b) in enumerate(spans):
            by_length.setdefault(min(b, len(mels)) - a, []).append(i)
        for length, idx in by_length.items():
            stack = np.stack([mels[spans[i][0] : spans[i][0] + length] for i in idx])
            out[idx] = self.encoder.embed(stack)
        return out

    def diarise(
        self, audio: np.ndarray, transcript: Transcript, *, voice: np.ndarray | None = None
    ) -> Transcript:
        """``transcript`` (of ``audio``) with a speaker on every segment, split where the
        speaker changes, and its ``diarisation`` provenance. ``voice``: the recording owner's
        enrolled voice (``voice.EnrolledVoice.embedding``), compared with each speaker's
        centroid; what that found is ``diarisation.voice`` (no embedding is kept)."""
        audio = np.asarray(audio, dtype=np.float32)
        return self.labelled(audio, transcript, self.separate(audio), voice=voice)

    def labelled(
        self,
        audio: np.ndarray,
        transcript: Transcript,
        separated: tuple[list[Window], Clusters, np.ndarray],
        *,
        voice: np.ndarray | None = None,
    ) -> Transcript:
        """``diarise`` from what ``separate`` found in ``audio``: the evaluation labels one
        separation with and without an enrolled voice."""
        windows, found, embeddings = separated
        labels = found.labels
        labelled, names = name_speakers(
            transcript, windows, labels, embeddings, max_speakers=self.options.max_speakers
        )
        count = len(set(labels.tolist()))
        match = None
        if voice is not None:
            centres = centroids(embeddings, labels)
            match = recognise(
                {name: centres[k] for k, name in names.items() if k in centres},
                voice,
                threshold=self.options.voice_threshold,
            )
        log.info(
            "diarised windows=%d clusters=%d speakers=%d segments=%d->%d voice=%s",
            len(windows),
            count,
            len(names),
            len(transcript.segments),
            len(labelled.segments),
            "none" if match is None else ("matched" if match.label else "no match"),
        )
        return labelled.model_copy(
            update={
                "diarisation": Diarisation(
                    model=self.encoder.model_ref,
                    speakers=len(names),
                    min_speakers=self.options.min_speakers,
                    max_speakers=self.options.max_speakers,
                    windows=len(windows),
                    at_max_speakers=found.beyond_max or count >= self.options.max_speakers,
                    level_db=speaker_levels(names, labels, window_levels(audio, windows)),
                    voice=match,
                )
            }
        )
