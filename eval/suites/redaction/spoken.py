"""Measurement 4 of the redaction suite: identifiers said aloud, typed and from audio.

Each sentence of ``eval/datasets/spoken_identifiers`` (a spelt name, an email said aloud, a
phone number with "double" and "oh", a postcode read out, an NHS number in groups, a date of
birth, a house number and street, and a few sentences of ordinary speech) is redacted twice
with the profile's redactor, as a recording's transcript is (``Redactor.redact``):

* **typed**: the sentence as said, written verbatim (one segment);
* **audio**: the sentence spoken by espeak-ng (voices taking turns; renders cached like all
  eval speech) and transcribed by the profile's Whisper, as an upload is.

An identifier leaves **residue** when any of its tokens survives in the redacted segment text in
a recognisable form (``eval.datasets.spoken_identifiers.residue``: the word or number, a spelt
run of two or more of its letters, a run of three or more of its digits, or a word sharing its
first four letters with a token of five or more: Whisper's "pritchon" for "Pritchard").
From audio an identifier counts only when Whisper wrote it recognisably (the same rule on the
raw transcript: "heard"); one it lost entirely cannot leak and says nothing about redaction.

Figures:

* ``spoken_identifier_recall``: from audio, identifiers heard that leave no residue, by type;
* ``spoken_identifier_recall_typed``: the same sentences typed, every identifier, by type;
* ``spoken_keep_words_lost``: words the note needs ("A and E", "GP", "CAMHS", "OK", "I") that
  redaction removed, typed and from audio (a keep word counts from audio when Whisper wrote it).

``--quick`` takes the first sentence of each kind (``QUICK``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eval.core import Metric
from eval.datasets import speech
from eval.datasets.spoken_identifiers import (
    Identifier,
    Sentence,
    SpokenIdentifiers,
    kept,
    residue,
)
from eval.scoring.stats import group_metric

FORMS = ("typed", "audio")
LANGUAGE = "en"


@dataclass(frozen=True)
class SpokenResult:
    """One sentence redacted in one form."""

    sentence: Sentence
    form: str
    transcript: str
    redacted: str
    seconds: float


@dataclass(frozen=True)
class IdentifierOutcome:
    sentence: str
    form: str
    type: str
    heard: bool
    surviving: tuple[str, ...]

    @property
    def leaked(self) -> bool:
        return bool(self.surviving)


@dataclass(frozen=True)
class KeepOutcome:
    sentence: str
    form: str
    word: str
    heard: bool
    lost: bool


def chosen(data: SpokenIdentifiers, *, quick: bool) -> list[tuple[int, Sentence]]:
    """Every sentence with its index (which picks its voice); quick: the first of each kind."""
    pairs = list(enumerate(data.sentences))
    if not quick:
        return pairs
    kinds: set[str] = set()
    out = []
    for i, s in pairs:
        if s.kind not in kinds:
            kinds.add(s.kind)
            out.append((i, s))
    return out


def typed_transcript(sentence: Sentence):
    from assistant.domain import Segment, Transcript
    from assistant.transcription.whisper import segment_id

    length = max(len(sentence.text.split()) / 2.5, 0.5)
    seg = Segment(id=segment_id(1), start=0.0, end=round(length, 2), text=sentence.text)
    return Transcript(
        segments=(seg,), language=LANGUAGE, duration_s=round(length, 2), source="text"
    )


def redact_sentences(
    redactor: Any,
    transcriber: Any,
    data: SpokenIdentifiers,
    picked: Sequence[tuple[int, Sentence]],
    *,
    seed: int,
) -> list[SpokenResult]:
    """Each picked sentence typed and, with a transcriber and espeak-ng, from audio."""
    from eval.suites.asr.scoring import seed_decoder

    out = []
    for i, s in picked:
        t0 = time.perf_counter()
        typed = typed_transcript(s)
        out.append(_result(redactor, s, "typed", typed, t0))
        if transcriber is None:
            continue
        pcm = speech.speak(s.spoken, voice=data.voice(i))
        t0 = time.perf_counter()
        seed_decoder(seed)
        heard = transcriber.transcribe(pcm, language=LANGUAGE)
        out.append(_result(redactor, s, "audio", heard, t0))
    return out


def _result(redactor: Any, s: Sentence, form: str, transcript: Any, t0: float) -> SpokenResult:
    redacted, _ = redactor.redact(transcript)
    return SpokenResult(
        sentence=s,
        form=form,
        transcript=" ".join(seg.text for seg in transcript.segments),
        redacted=" ".join(seg.text for seg in redacted.segments),
        seconds=time.perf_counter() - t0,
    )


def outcomes(results: Sequence[SpokenResult]) -> tuple[list[IdentifierOutcome], list[KeepOutcome]]:
    ids: list[IdentifierOutcome] = []
    keeps: list[KeepOutcome] = []
    for r in results:
        for ident in r.sentence.identifiers:
            ids.append(_identifier(r, ident))
        for word in r.sentence.keep:
            heard = kept(r.transcript, word)
            keeps.append(
                KeepOutcome(
                    r.sentence.id, r.form, word, heard, heard and not kept(r.redacted, word)
                )
            )
    return ids, keeps


def _identifier(r: SpokenResult, ident: Identifier) -> IdentifierOutcome:
    heard = bool(residue(r.transcript, ident.tokens))
    return IdentifierOutcome(
        r.sentence.id, r.form, ident.type, heard, tuple(residue(r.redacted, ident.tokens))
    )


def spoken_metrics(
    ids: Sequence[IdentifierOutcome],
    keeps: Sequence[KeepOutcome],
    *,
    seed: int,
    resamples: int,
) -> list[Metric]:
    metrics = []
    audio = [o for o in ids if o.form == "audio" and o.heard]
    typed = [o for o in ids if o.form == "typed"]
    common: dict[str, Any] = dict(
        higher_is_better=True, group_by="entity_type", seed=seed, resamples=resamples
    )
    if audio:
        metrics.append(
            group_metric(
                audio,
                lambda o: 0.0 if o.leaked else 1.0,
                lambda o: o.type,
                name="spoken_identifier_recall",
                description="Identifiers said aloud (spelt names, emails, phone numbers, "
                "postcodes, NHS numbers, dates of birth, addresses), spoken by espeak-ng and "
                "transcribed by the profile's Whisper: of those Whisper wrote recognisably, the "
                "share that leave no token in the redacted transcript.",
                **common,
            )
        )
    if typed:
        metrics.append(
            group_metric(
                typed,
                lambda o: 0.0 if o.leaked else 1.0,
                lambda o: o.type,
                name="spoken_identifier_recall_typed",
                description="The same sentences typed verbatim as said: identifiers that leave "
                "no token in the redacted text.",
                **common,
            )
        )
    counted = [k for k in keeps if k.heard]
    if counted:
        metrics.append(
            group_metric(
                counted,
                lambda k: 1.0 if k.lost else 0.0,
                lambda k: k.form,
                name="spoken_keep_words_lost",
                description="Words a note needs in ordinary speech ('A and E', 'GP', 'CAMHS', "
                "'OK', 'I'), typed and from audio, that redaction removed (from audio: those "
                "Whisper wrote).",
                higher_is_better=False,
                group_by="form",
                seed=seed,
                resamples=resamples,
            )
        )
    return metrics


def spoken_table(results: Sequence[SpokenResult], ids: Sequence[IdentifierOutcome]) -> dict:
    """Per sentence and form: what was transcribed, what redaction left, and the residue."""
    by_key: dict[tuple[str, str], list[IdentifierOutcome]] = {}
    for o in ids:
        by_key.setdefault((o.sentence, o.form), []).append(o)
    rows = []
    for r in results:
        found = by_key.get((r.sentence.id, r.form), [])
        rows.append(
            [
                r.sentence.id,
                r.form,
                r.transcript,
                r.redacted,
                ", ".join(o.type for o in found if o.heard) or "-",
                "; ".join(f"{o.type}: {' '.join(o.surviving)}" for o in found if o.leaked) or "-",
            ]
        )
    return {
        "columns": ["sentence", "form", "transcript", "redacted", "heard", "residue"],
        "rows": rows,
    }
