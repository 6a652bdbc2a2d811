"""What the diarisation suite reads: the scenarios as typed visits with their speaker labels
hidden, a few scenarios spoken with espeak-ng in their speakers' voices (one turn after another,
each trimmed to its sound, 0.4 s apart), and the pyannote sample call with its RTTM.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eval.datasets import speech
from eval.datasets.recordings import PYANNOTE_VERSION, PYANNOTE_WHEEL, phone_call
from eval.datasets.scenarios import Scenario
from eval.paths import DATA_CACHE
from eval.suites.diarisation.scoring import Turn, read_rttm

#: A scenario person's role -> the speaker-role vocabulary (``assistant.diarisation.roles``).
#: Grandparents, aunts and uncles in the scenarios look after the child: carers.
ROLE_OF = {
    "social_worker": "social_worker", "practitioner": "social_worker", "child": "child",
    "mother": "parent", "father": "parent", "stepfather": "parent", "stepmother": "parent",
    "partner": "parent", "foster_carer": "carer", "residential_worker": "carer",
    "grandmother": "carer", "grandfather": "carer", "aunt": "carer", "uncle": "carer",
    "relative": "carer", "professional": "professional", "interpreter": "interpreter",
    "other": "other",
}  # fmt: skip
GAP_S = 0.4

#: What the social worker "enrols" with in the suite: a passage no scenario uses (Aesop's "The
#: North Wind and the Sun", the phoneticians' standard text), spoken in the worker's voice, so
#: the voice is recognised from other words than the visit's. About 25 seconds at 160 words a
#: minute.
ENROLMENT_TEXT = (
    "The North Wind and the Sun were disputing which was the stronger, when a traveller came "
    "along wrapped in a warm cloak. They agreed that the one who first succeeded in making the "
    "traveller take his cloak off should be considered stronger than the other. Then the North "
    "Wind blew as hard as he could, but the more he blew the more closely did the traveller "
    "fold his cloak around him."
)


def enrolment_sample(voice: str) -> np.ndarray:
    """``ENROLMENT_TEXT`` spoken by espeak-ng ``voice``, 16 kHz mono float32."""
    return speech.speak(ENROLMENT_TEXT, voice=voice)


def true_roles(scenario: Scenario) -> dict[str, str]:
    """Speaker label in the scenario -> its role; a television is ``other``."""
    roles = {p.speaker: ROLE_OF.get(p.role, "other") for p in scenario.people if p.speaker}
    return {s: roles.get(s, "other") for s in scenario.speakers}


@dataclass(frozen=True)
class Line:
    speaker: str
    text: str


def hidden_labels(scenario: Scenario) -> tuple[list[Line], dict[str, str]]:
    """The scenario's turns with speakers renamed ``S1`` … in order of first appearance, as the
    speaker separation names them, and the scenario label of each."""
    names: dict[str, str] = {}
    lines = []
    for t in scenario.turns:
        names.setdefault(t.speaker, f"S{len(names) + 1}")
        lines.append(Line(names[t.speaker], t.text))
    return lines, {v: k for k, v in names.items()}


def renderable(scenario: Scenario) -> bool:
    """Every turn in English and no television: what the rendered set is drawn from."""
    return all(t.language == "en" for t in scenario.turns) and "TV" not in scenario.speakers


def pick_rendered(scenarios: Sequence[Scenario], n: int) -> list[Scenario]:
    """``n`` renderable scenarios, one visit type after another (cin, cp, eh, lac, s47 …) so the
    set mixes parents, carers and children of different ages; lowest id first."""
    by_type: dict[str, list[Scenario]] = {}
    for s in sorted(scenarios, key=lambda s: s.id):
        if renderable(s):
            by_type.setdefault(s.id.split("-")[0], []).append(s)
    chosen: list[Scenario] = []
    while len(chosen) < n and any(by_type.values()):
        for kind in sorted(by_type):
            if by_type[kind] and len(chosen) < n:
                chosen.append(by_type[kind].pop(0))
    return chosen


@dataclass(frozen=True)
class Rendered:
    scenario: Scenario
    pcm: np.ndarray
    reference: list[Turn]  # (scenario speaker label, start, end)
    sha256: str


def render(scenario: Scenario, turns: int) -> Rendered:
    """The first ``turns`` turns spoken in the scenario's voices, with where each one is."""
    pieces: list[np.ndarray] = []
    reference: list[Turn] = []
    cursor = 0
    gap = np.zeros(round(GAP_S * speech.SAMPLE_RATE), dtype=np.float32)
    for t in scenario.turns[:turns]:
        pcm = _trimmed(speech.speak(t.text, voice=scenario.voice(t.speaker)))
        reference.append(
            (t.speaker, cursor / speech.SAMPLE_RATE, (cursor + len(pcm)) / speech.SAMPLE_RATE)
        )
        pieces += [pcm, gap]
        cursor += len(pcm) + len(gap)
    audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return Rendered(scenario, audio, reference, speech.pcm_sha256(audio))


def _trimmed(pcm: np.ndarray, margin_s: float = 0.05) -> np.ndarray:
    """The turn without espeak-ng's leading and trailing silence, so the reference turn is the
    speech."""
    loud = np.flatnonzero(np.abs(pcm) > 0.02 * (np.abs(pcm).max() or 1.0))
    if not len(loud):
        return pcm
    m = round(margin_s * speech.SAMPLE_RATE)
    return pcm[max(0, loud[0] - m) : loud[-1] + m]


def sample_call() -> tuple[np.ndarray, list[Turn], str] | str:
    """(audio, reference turns, wheel sha256) of the 30 s two-speaker call in the
    ``pyannote-audio`` wheel, or why not (the wheel is fetched and checked as the ASR suite
    does, ``eval/datasets/recordings.py``)."""
    call = phone_call()
    if isinstance(call, str):
        return call
    wav, _, wheel_sha = call
    rttm = DATA_CACHE / f"pyannote-audio-{PYANNOTE_VERSION}" / "sample.rttm"
    try:
        if not rttm.is_file():
            with zipfile.ZipFile(DATA_CACHE / PYANNOTE_WHEEL) as z:
                rttm.write_bytes(z.read("pyannote/audio/sample/sample.rttm"))
        return speech.read_wav(wav), read_rttm(rttm), wheel_sha
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        return f"the sample's RTTM or audio could not be read ({type(exc).__name__})"


def sha_of(hashes: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()
