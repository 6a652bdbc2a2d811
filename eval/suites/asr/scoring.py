"""Transcribing with the profile's transcriber and scoring against a reference: one item's
errors, the runs on signals with no speech, and the metrics made of them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eval.core import Metric
from eval.datasets import speech
from eval.scoring.stats import group_metric
from eval.scoring.wer import NORMALISATION_VERSION, cer, error_counts, normalise

LANGUAGE = "en"


@dataclass
class Scored:
    """One transcription scored against its reference (normalised counts)."""

    id: str
    reference: str
    hypothesis: str
    errors: int
    words: int
    char_errors: int
    chars: int
    audio_s: float
    wall_s: float
    labels: dict[str, str] = field(default_factory=dict)
    cluster: str = ""

    @property
    def wer(self) -> float | None:
        return self.errors / self.words if self.words else None

    def row(self) -> list[Any]:
        return [
            self.id,
            self.labels.get("voice", self.labels.get("corpus", "")),
            self.words,
            self.errors,
            None if self.wer is None else round(self.wer, 3),
            self.reference,
            self.hypothesis,
        ]


def transcribe_text(transcriber, pcm: np.ndarray, *, seed: int | None = None) -> str:
    """The transcriber's words for ``pcm`` joined with spaces (``seed`` fixes the decoder's
    random draws for the temperature fallback, where the backend allows it)."""
    if seed is not None:
        seed_decoder(seed)
    transcript = transcriber.transcribe(pcm, language=LANGUAGE)
    return " ".join(s.text.strip() for s in transcript.segments if s.text.strip())


def seed_decoder(seed: int) -> None:
    try:
        import ctranslate2
    except ImportError:  # a fake transcriber in a unit test
        return
    ctranslate2.set_random_seed(int(seed))


def score(
    transcriber,
    item_id: str,
    pcm: np.ndarray,
    reference: str,
    *,
    labels: dict[str, str] | None = None,
    cluster: str = "",
    seed: int = 0,
) -> Scored:
    started = time.perf_counter()
    hypothesis = transcribe_text(transcriber, pcm, seed=seed)
    wall = time.perf_counter() - started
    counts = error_counts(reference, hypothesis)
    ref_chars = len(normalise(reference))
    if ref_chars:
        char_errors = round(cer(reference, hypothesis) * ref_chars)
    else:
        char_errors = len(normalise(hypothesis))
    return Scored(
        id=item_id,
        reference=reference,
        hypothesis=hypothesis,
        errors=counts["substitutions"] + counts["deletions"] + counts["insertions"],
        words=counts["reference_words"],
        char_errors=char_errors,
        chars=ref_chars,
        audio_s=len(pcm) / speech.SAMPLE_RATE,
        wall_s=wall,
        labels=dict(labels or {}),
        cluster=cluster or item_id,
    )


@dataclass(frozen=True)
class Run:
    """One transcription of a signal with no speech in it."""

    signal: str
    run: int
    seed: int
    text: str
    words: int
    minutes: float


def hallucination_runs(
    transcriber, signals: dict[str, np.ndarray], *, runs: int, seed: int
) -> list[Run]:
    """Transcribe each signal ``runs`` times, decoder seed ``seed + run``; count the words."""
    out = []
    for name, pcm in signals.items():
        for r in range(runs):
            text = transcribe_text(transcriber, pcm, seed=seed + r)
            out.append(
                Run(
                    signal=name,
                    run=r,
                    seed=seed + r,
                    text=text,
                    words=len(normalise(text).split()),
                    minutes=len(pcm) / speech.SAMPLE_RATE / 60,
                )
            )
    return out


def hallucination_metrics(runs: Sequence[Run], *, seed: int, resamples: int) -> list[Metric]:
    common = dict(group_fn=lambda r: r.signal, group_by="signal", seed=seed, resamples=resamples)
    return [
        group_metric(
            runs,
            lambda r: 1.0 if r.words else 0.0,
            name="inserted_phrase_rate",
            description="Share of transcriptions of silence, noise or music (no speech) that "
            "produced any words; each signal transcribed several times with different decoder "
            "seeds.",
            higher_is_better=False,
            goal=0.0,
            **common,
        ),
        group_metric(
            runs,
            lambda r: r.words,
            denominator_fn=lambda r: r.minutes,
            name="hallucinated_words_per_minute",
            description="Words transcribed per minute of input that holds no speech "
            "(normalised words; ratio of sums over runs).",
            higher_is_better=False,
            unit="words/min",
            goal=0.0,
            **common,
        ),
    ]


def error_rate_metrics(
    items: Sequence[Scored],
    *,
    prefix: str,
    what: str,
    group: str | None,
    seed: int,
    resamples: int,
    clustered: bool = False,
    names: tuple[str, str] | None = None,
) -> list[Metric]:
    """WER and CER (ratios of sums over items) grouped by ``labels[group]``."""
    wer_name, cer_name = names or (f"{prefix}_wer", f"{prefix}_cer")
    common: dict[str, Any] = dict(
        group_fn=(lambda s: s.labels.get(group)) if group else None,
        group_by=group,
        higher_is_better=False,
        seed=seed,
        resamples=resamples,
        cluster_fn=(lambda s: s.cluster) if clustered else None,
    )
    return [
        group_metric(
            items,
            lambda s: s.errors,
            denominator_fn=lambda s: s.words,
            name=wer_name,
            description=f"Word error rate on {what}: (substitutions + deletions + insertions) / "
            f"reference words after normalisation v{NORMALISATION_VERSION}, pooled over items.",
            **common,
        ),
        group_metric(
            items,
            lambda s: s.char_errors,
            denominator_fn=lambda s: s.chars,
            name=cer_name,
            description=f"Character error rate on {what}, after the same normalisation.",
            **common,
        ),
    ]
