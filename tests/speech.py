"""Speech for tests: synthetic (espeak-ng) and recorded (Debian's pocketsphinx-testdata).

No audio is committed to the repository. Synthetic speech is generated at test time and cached
under ``var/cache/test-speech`` (git-ignored), keyed by a hash of everything that determines the
sound: the text, the voice, the speed, the espeak-ng version and this module's render version.
A second run reuses the files, so tests that need a minute of speech stay fast.

The visit script is invented: the family, the worker, the address and the numbers do not
belong to anyone. The phone number is in Ofcom's range of Leeds numbers reserved for drama
(0113 496 0000-0999), spoken digit by digit.
The postcode has a valid shape, so that redaction has something to find.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from eval.datasets.speech import render_speech

SAMPLE_RATE = 16_000
RENDER_VERSION = "2"  # 2: en-gb+variant rendered as en+variant (espeak_voice)
"""Bump when the rendering below changes, so cached files are not reused."""

CACHE_DIR = Path(__file__).resolve().parents[1] / "var" / "cache" / "test-speech"
LIBRIVOX_DIR = Path("/usr/share/pocketsphinx/test/data/librivox")
"""Five clips (about 25 s) of a LibriVox reading of Sense and Sensibility, 16 kHz mono, with
reference transcripts. Installed by ``apt-get install pocketsphinx-testdata``."""

DEFAULT_VOICES = ("en-gb", "en-us", "en-gb-x-rp", "en-gb-scotland", "en-029")
"""Given to speakers in order of first appearance when ``voices`` does not name them."""

SECONDS_PER_WORD = 0.32
"""espeak-ng at 160 words a minute with the default voices, pauses included (measured)."""


def espeak_available() -> bool:
    """Both tools synthesis needs: espeak-ng to speak and sox to resample to 16 kHz."""
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def synthesize(text: str, dest: Path, *, voice: str = "en-gb", speed: int = 160) -> Path:
    """Speak ``text`` into ``dest`` as a 16 kHz mono 16-bit WAV.

    ``voice`` is any espeak-ng voice, variants included (``en-gb+f3``); ``speed`` is in words
    per minute."""
    cached = _cached(
        ("say", _espeak_version(), voice, speed, text),
        lambda out: render_speech(text, voice, speed, out),
    )
    return _copy(cached, dest)


def synthesize_dialogue(
    turns: Sequence[tuple[str, str]],
    dest: Path,
    *,
    voices: dict[str, str] | None = None,
    gap_s: float = 0.4,
) -> Path:
    """Speak ``[(speaker, text)]`` with one voice per speaker, the turns joined by ``gap_s`` of
    silence, into one 16 kHz mono WAV at ``dest``."""
    gap = np.zeros(round(gap_s * SAMPLE_RATE), dtype=np.int16)
    pieces: list[np.ndarray] = []
    for _, _, pcm in _render_turns(turns, voices):
        pieces += [pcm, gap]
    audio = np.concatenate(pieces[:-1])
    dest.parent.mkdir(parents=True, exist_ok=True)
    _write_wav(dest, audio)
    return dest


@dataclass(frozen=True)
class TimedTurn:
    speaker: str
    voice: str
    text: str
    start_s: float
    end_s: float


def dialogue_timeline(
    turns: Sequence[tuple[str, str]],
    *,
    voices: dict[str, str] | None = None,
    gap_s: float = 0.4,
) -> list[TimedTurn]:
    """Where each turn of ``synthesize_dialogue``'s output starts and ends (for diarisation
    and segment-timing tests). Uses the same cache, so calling both costs one synthesis."""
    out: list[TimedTurn] = []
    cursor = 0
    gap = round(gap_s * SAMPLE_RATE)
    for (speaker, text), (voice, _, pcm) in zip(turns, _render_turns(turns, voices), strict=True):
        start, cursor = cursor, cursor + len(pcm)
        out.append(TimedTurn(speaker, voice, text, start / SAMPLE_RATE, cursor / SAMPLE_RATE))
        cursor += gap
    return out


VISIT_SCRIPT: list[tuple[str, str]] = [
    ("social_worker", "Hello, my name is Sam Patel. I am a social worker from Leeds City Council."),
    ("parent", "Hello, come in. I am Karen Mills, Tom's mum."),
    (
        "social_worker",
        "Thank you. Can I check that you still live at twelve Park Road, Leeds, L S 6, 2 Q T?",
    ),
    (
        "parent",
        "Yes, that is right. The best number for me is zero one one three, four nine six, "
        "zero four two seven.",
    ),
    ("social_worker", "How have things been at home since my last visit?"),
    (
        "parent",
        "Better, I think. Tom is sleeping well and he goes to school every day. "
        "His teacher says he is reading more.",
    ),
    ("social_worker", "That is good to hear. Tom, can I ask you some questions?"),
    ("child", "Yes. I am seven. I like football and drawing."),
    ("social_worker", "Do you feel safe at home?"),
    ("child", "Yes. Mum makes my tea and reads me a story at night."),
    ("social_worker", "Is there anything that makes you sad or worried?"),
    ("child", "Sometimes when my dad does not come on Saturday. I miss him."),
    (
        "parent",
        "His dad has missed two visits this month. I have told him that it upsets Tom.",
    ),
    (
        "social_worker",
        "I will speak to him. I will come back in four weeks, on the twelfth of March "
        "at ten in the morning.",
    ),
    ("parent", "That is fine. Thank you for coming."),
]
"""A short home visit by a social worker to an invented family: worker, parent, child.
About 75 seconds when spoken with the default voices."""

_MORE_TURNS: list[tuple[str, str]] = [
    ("social_worker", "How is Tom getting on with his reading at home?"),
    ("parent", "He reads to me every night before bed. He likes books about animals."),
    ("child", "My best book is about a dog who lives on a boat."),
    ("social_worker", "Are you getting any help with money or food at the moment?"),
    ("parent", "We go to the food bank on Tuesday. The health visitor helped me with a form."),
    ("social_worker", "Has Tom been to the doctor or the dentist this year?"),
    ("parent", "He saw the dentist in January. He needs to go back in the summer."),
    ("child", "The dentist gave me a sticker because I was brave."),
    ("social_worker", "What do you do after school, Tom?"),
    ("child", "I play in the park with my friend Ali. Then we have tea."),
    ("social_worker", "Is there anything you would like me to tell the school?"),
    ("parent", "Only that he gets tired on Friday. He might need a rest at lunch time."),
]


def long_visit_script(minutes: float) -> list[tuple[str, str]]:
    """The visit followed by further exchanges until it would last about ``minutes``.

    The extra turns are drawn in order from a pool and, once the pool is used up, marked with
    the part of the visit they belong to so no two consecutive passages are identical."""
    target_s = minutes * 60
    turns = list(VISIT_SCRIPT)
    n = 0
    while _estimate_seconds(turns) < target_s:
        speaker, text = _MORE_TURNS[n % len(_MORE_TURNS)]
        rounds = n // len(_MORE_TURNS)
        if rounds and n % len(_MORE_TURNS) == 0:
            text = f"Now for part {_NUMBER_WORDS[min(rounds + 1, 9)]} of the visit. {text}"
        turns.append((speaker, text))
        n += 1
    return turns


DISTINCT_VOICES = {"social_worker": "en-gb", "parent": "en-us", "child": "en-gb-x-rp"}
"""The voices ``long_visit_script``'s speakers get (``DEFAULT_VOICES`` in order of first
appearance), so the two long visits differ in their words, not their voices. These three are
one voice with three accents (espeak-ng's default formants, no variant): to the speaker
encoder two windows of one of them are as alike as windows of two of them (cosine 0.79 within,
0.77 to 0.79 across; ``benchmarks/diarisation_long.py --similarity``). A female variant
(``en-gb+f3``, ``en-gb-x-rp+f5``) is another voice (0.58 to 0.60 across from these three)."""


def distinct_visit_script(minutes: float) -> list[tuple[str, str]]:
    """About ``minutes`` of visit in which no passage is said twice (``long_visit_script``
    repeats its later passages word for word; a real visit does not): the evaluation scenarios'
    turns, scenario after scenario in id order, until the visit would last ``minutes``.

    Three speakers, the voices of ``DISTINCT_VOICES``: ``social_worker`` (the scenarios' social
    workers and practitioners), ``parent`` (parents and carers: mother, father, foster carer,
    grandparent …) and ``child`` (every child). The roles are the diarisation suite's
    (``eval.suites.diarisation.inputs.ROLE_OF``). Other people (a professional, an interpreter,
    a television) and turns in another language are left out. Each turn's speaker is its
    reference speaker; ``dialogue_timeline(turns, voices=DISTINCT_VOICES)`` says where it is.

    ``minutes`` is estimated at ``SECONDS_PER_WORD``, as ``long_visit_script`` does; the
    scenarios' words take longer to say: ``distinct_visit_script(55.5)`` (480 turns, 9,828
    words) lasts 59.9 minutes rendered."""
    from eval.datasets.scenarios import load_scenarios
    from eval.suites.diarisation.inputs import ROLE_OF

    speaker_of = {"social_worker": "social_worker", "parent": "parent", "carer": "parent",
                  "child": "child"}  # fmt: skip
    target_s = minutes * 60
    turns: list[tuple[str, str]] = []
    words = 0
    for scenario in sorted(load_scenarios(), key=lambda s: s.id):
        roles = {p.speaker: ROLE_OF.get(p.role, "other") for p in scenario.people if p.speaker}
        for turn in scenario.turns:
            speaker = speaker_of.get(roles.get(turn.speaker, "other"))
            if speaker is None or turn.language != "en" or not turn.text.strip():
                continue
            turns.append((speaker, turn.text))
            words += len(turn.text.split())
            if words * SECONDS_PER_WORD + 0.4 * (len(turns) - 1) >= target_s:
                return turns
    raise ValueError(f"the scenarios hold about {_estimate_seconds(turns) / 60:.0f} minutes")


def real_speech_clips() -> list[tuple[Path, str]]:
    """Recorded read speech with reference transcripts, or [] when the package is missing."""
    transcription = LIBRIVOX_DIR / "transcription"
    if not transcription.is_file():
        return []
    clips = []
    for line in transcription.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\s*<s>\s*(.*?)\s*</s>\s*\((\S+)\)\s*", line)
        if not match:
            continue
        wav = LIBRIVOX_DIR / f"{match.group(2)}.wav"
        if wav.is_file():
            clips.append((wav, match.group(1)))
    return sorted(clips)


# --- internals ------------------------------------------------------------------------------
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _estimate_seconds(turns: Sequence[tuple[str, str]], gap_s: float = 0.4) -> float:
    words = sum(len(text.split()) for _, text in turns)
    return words * SECONDS_PER_WORD + gap_s * max(0, len(turns) - 1)


def _voiced(
    turns: Sequence[tuple[str, str]], voices: dict[str, str] | None
) -> list[tuple[str, str]]:
    assigned = dict(voices or {})
    free = [v for v in DEFAULT_VOICES if v not in assigned.values()]
    out = []
    for speaker, text in turns:
        if speaker not in assigned:
            if not free:
                raise ValueError("more speakers than default voices: pass voices=")
            assigned[speaker] = free.pop(0)
        out.append((assigned[speaker], text))
    return out


def _render_turns(
    turns: Sequence[tuple[str, str]], voices: dict[str, str] | None
) -> list[tuple[str, str, np.ndarray]]:
    """(voice, text, 16-bit samples) for each turn."""
    if not turns:
        raise ValueError("a dialogue needs at least one turn")
    rendered = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (voice, text) in enumerate(_voiced(turns, voices)):
            pcm = _read_wav(synthesize(text, Path(tmp) / f"{i}.wav", voice=voice))
            rendered.append((voice, text, pcm))
    return rendered


@cache
def _espeak_version() -> str:
    result = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True)
    return result.stdout.strip()


@cache
def _cache_dir() -> Path:
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        probe = CACHE_DIR / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
        return CACHE_DIR
    except OSError:
        fallback = Path(tempfile.gettempdir()) / "caseassist-test-speech"
        fallback.mkdir(parents=True, exist_ok=True)
        return fallback


def _cached(key: tuple[object, ...], build: Callable[[Path], None]) -> Path:
    """Return the cached file for ``key``, building it first if needed. Writes go to a
    temporary name and are renamed into place, so parallel test workers never read half a file."""
    digest = hashlib.sha256(json.dumps([RENDER_VERSION, *key]).encode()).hexdigest()
    path = _cache_dir() / f"{digest[:40]}.wav"
    if not path.exists():
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.wav")
        try:
            build(tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return path


def _copy(src: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        if w.getframerate() != SAMPLE_RATE or w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError("expected 16 kHz mono 16-bit audio")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy()


def _write_wav(path: Path, pcm: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.astype("<i2").tobytes())
