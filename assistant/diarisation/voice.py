"""A practitioner's enrolled voice: one embedding from a short sample of their own speech, and
which speaker of a recording it is.

The sample is cut into the same windows the speaker separation uses (speech regions, 1.5 s
every 0.6 s), each window embedded by the same encoder, and the mean of those embeddings,
scaled to unit length, is the voice: nothing else of the sample is kept. A recording's
speaker is represented the same way, by the unit mean of its windows' embeddings (its
centroid), so the two compare by cosine similarity. The speaker nearest the voice is the
social worker when the similarity reaches ``VOICE_THRESHOLD``; below it no speaker is, and
the roles come from the words alone (``VoiceMatch.label`` None says so).

``VOICE_THRESHOLD`` was measured, not guessed (``benchmarks/voice_threshold_bench.py``; the
figures are in docs/architecture.md, "Enrolled voice"): an enrolled voice against the centroid
of the same voice scored at least 0.90 (espeak-ng visits) and 0.87 (a recorded reader, 3 s of
her held out), another recorded speaker 0.73; within each espeak visit the worker's own
centroid was always the nearest. The threshold sits below every same-voice score measured and
above the recorded other speaker. espeak-ng's accents of one synthesiser reach 0.98 against
each other, so among synthetic voices it rejects only those clearly unlike the enrolled one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from assistant.domain import VoiceMatch

if TYPE_CHECKING:
    from assistant.diarisation.diariser import Diariser

#: Cosine similarity a speaker's centroid must reach to be the enrolled voice (see above);
#: the default of the ``diarisation_voice_threshold`` setting.
VOICE_THRESHOLD = 0.85
#: At least this much speech in a sample (the VAD's, without padding): the first 8 seconds of
#: a 25-second sample gave a voice within 0.02 (cosine) of the whole sample's
#: (benchmarks/voice_threshold_bench.py; docs/architecture.md, "Enrolled voice").
MIN_SPEECH_S = 8.0
#: A sample longer than this is not "a short sample" (10 to 60 seconds is asked for).
MAX_SAMPLE_S = 90.0


@dataclass(frozen=True)
class VoicePrint:
    """What enrolment keeps of a sample: the unit mean embedding (and how many windows)."""

    embedding: np.ndarray  # (256,) float32, unit length
    windows: int


@dataclass(frozen=True)
class EnrolledVoice:
    """A stored voice as the pipeline uses it: the embedding and the encoder that made it (an
    embedding from another encoder means nothing to this one)."""

    embedding: np.ndarray
    model_sha256: str


def unit_mean(embeddings: np.ndarray) -> np.ndarray:
    """The mean of ``embeddings`` (N, D) scaled to unit length (zeros stay zeros)."""
    mean = np.asarray(embeddings, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean


def voice_print(diariser: Diariser, audio: np.ndarray) -> VoicePrint | None:
    """The voice in 16 kHz mono ``audio`` (one speaker), or None when it holds no window of
    speech."""
    from assistant.diarisation.windows import speech_regions, windows_in

    opts = diariser.options
    regions = speech_regions(np.asarray(audio, dtype=np.float32))
    windows = windows_in(
        regions, length_s=opts.window_s, step_s=opts.step_s, min_s=opts.min_window_s
    )
    if not windows:
        return None
    embeddings = diariser.embed(np.asarray(audio, dtype=np.float32), windows)
    return VoicePrint(unit_mean(embeddings), len(windows))


def centroids(embeddings: np.ndarray, labels: np.ndarray) -> dict[int, np.ndarray]:
    """Each cluster's unit mean embedding (cluster label -> (D,))."""
    return {int(k): unit_mean(embeddings[labels == k]) for k in sorted(set(labels.tolist()))}


def recognise(
    speakers: Mapping[str, np.ndarray], voice: np.ndarray, *, threshold: float = VOICE_THRESHOLD
) -> VoiceMatch:
    """Which of ``speakers`` (label -> centroid) is ``voice``: the nearest, if its cosine
    similarity reaches ``threshold``; else none (``label`` None)."""
    if not speakers:
        return VoiceMatch(label=None, similarity=0.0, threshold=threshold)
    sims = {label: float(np.dot(c, voice)) for label, c in speakers.items()}
    best = max(sims, key=lambda k: sims[k])
    return VoiceMatch(
        label=best if sims[best] >= threshold else None,
        similarity=round(sims[best], 4),
        threshold=threshold,
    )
