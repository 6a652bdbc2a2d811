"""Audio the evaluation makes for itself: scenario turns spoken by espeak-ng, and test signals.

No audio is committed. Speech is synthesised on demand and cached under ``var/cache/eval-speech``
(git-ignored), keyed by a hash of everything that determines the sound: the text, the voice, the
speed, the espeak-ng version and ``RENDER_VERSION``; a second run reuses the files. Signals
(silence, white and pink noise, a music-like chord pattern) are generated from a seed, so every
run hears the same samples.

espeak-ng voices are formant synthesis, not recordings of people: a word error rate by voice
measures how the recogniser copes with these synthetic accents, which is a proxy, not a
measurement of its accuracy for people with those accents.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import wave
from functools import cache
from pathlib import Path

import numpy as np

from eval.paths import SPEECH_CACHE

SAMPLE_RATE = 16_000
RENDER_VERSION = "2"  # 2: en-gb+variant rendered as en+variant (espeak_voice)
"""Bump when rendering changes, so cached files are not reused."""
CACHE_DIR = SPEECH_CACHE


def espeak_available() -> bool:
    """Both tools synthesis needs: espeak-ng to speak and sox to resample to 16 kHz."""
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


@cache
def espeak_version() -> str:
    done = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def speak(text: str, *, voice: str = "en-gb", speed: int = 160) -> np.ndarray:
    """``text`` spoken by espeak-ng ``voice`` (``en-gb+f3``) as 16 kHz mono float32 in [-1, 1]."""
    key = [RENDER_VERSION, espeak_version(), voice, speed, text]
    digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()
    path = _cache_dir() / f"{digest[:40]}.wav"
    if not path.exists():
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.wav")
        try:
            render_speech(text, voice, speed, tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return read_wav(path)


def cache_path(name: str) -> Path:
    """``name`` inside the speech cache (whole renders kept beside the turns)."""
    return _cache_dir() / name


def read_wav(path: Path) -> np.ndarray:
    """A 16 kHz mono 16-bit WAV as float32 in [-1, 1]."""
    with wave.open(str(path), "rb") as w:
        if w.getframerate() != SAMPLE_RATE or w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError(f"{path.name}: expected 16 kHz mono 16-bit audio")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return (pcm.astype(np.float32) / 32768.0).copy()


def write_wav(path: Path, pcm: np.ndarray) -> None:
    """float32 ``pcm`` in [-1, 1] as a 16 kHz mono 16-bit WAV (what ``read_wav`` reads)."""
    data = np.clip(np.round(pcm * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(data.tobytes())


# --- signals with no speech in them ------------------------------------------------------------
def silence(seconds: float) -> np.ndarray:
    """Digital silence."""
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)


def white_noise(seconds: float, *, seed: int, rms: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(round(seconds * SAMPLE_RATE))
    return _at_rms(x, rms)


def pink_noise(seconds: float, *, seed: int, rms: float = 0.05) -> np.ndarray:
    """1/f noise (white noise shaped in the frequency domain), like a fan or a busy room."""
    n = round(seconds * SAMPLE_RATE)
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    f[0] = f[1]
    x = np.fft.irfft(spectrum / np.sqrt(f), n)
    return _at_rms(x, rms)


def music(seconds: float, *, seed: int, rms: float = 0.08, bpm: int = 100) -> np.ndarray:
    """A music-like signal: four-note chords of sine tones with harmonics, changing every bar,
    with a decaying beat on each crotchet (a television or radio playing music)."""
    rng = np.random.default_rng(seed)
    n = round(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    beat_s = 60 / bpm
    bar = 4 * beat_s
    roots = [57, 60, 65, 62, 55]  # MIDI notes: A3 C4 F4 D4 G3
    x = np.zeros(n)
    for start in np.arange(0, seconds, bar):
        root = roots[int(rng.integers(len(roots)))]
        seg = (t >= start) & (t < start + bar)
        for interval in (0, 4, 7, 12):
            hz = 440 * 2 ** ((root + interval - 69) / 12)
            for harmonic, gain in ((1, 1.0), (2, 0.4), (3, 0.15)):
                x[seg] += gain * np.sin(2 * np.pi * hz * harmonic * t[seg])
    phase = np.mod(t, beat_s)
    kick = np.sin(2 * np.pi * 60 * phase) * np.exp(-phase * 18)
    x = x / 4 + 1.5 * kick
    return _at_rms(x, rms)


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` with ``noise`` (tiled or cut to length) added at ``snr_db`` (speech RMS over
    noise RMS)."""
    if noise.size < speech.size:
        noise = np.tile(noise, int(np.ceil(speech.size / noise.size)))
    noise = noise[: speech.size].astype(np.float64)
    s_rms = float(np.sqrt(np.mean(speech.astype(np.float64) ** 2))) or 1e-9
    n_rms = float(np.sqrt(np.mean(noise**2))) or 1e-9
    out = speech + noise * (s_rms / n_rms) / (10 ** (snr_db / 20))
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def pcm_sha256(pcm: np.ndarray) -> str:
    """Hash of the samples as 16-bit PCM (how a generated signal is recorded in a result)."""
    data = np.clip(np.round(pcm * 32767), -32768, 32767).astype("<i2").tobytes()
    return hashlib.sha256(data).hexdigest()


# --- internals --------------------------------------------------------------------------------
def _at_rms(x: np.ndarray, rms: float) -> np.ndarray:
    x = x - x.mean()
    current = float(np.sqrt(np.mean(x**2))) or 1.0
    return np.clip(x * (rms / current), -1.0, 1.0).astype(np.float32)


@cache
def _cache_dir() -> Path:
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        probe = CACHE_DIR / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
        return CACHE_DIR
    except OSError:
        fallback = Path(tempfile.gettempdir()) / "caseassist-eval-speech"
        fallback.mkdir(parents=True, exist_ok=True)
        return fallback


def espeak_voice(voice: str) -> str:
    """The name espeak-ng needs for ``voice``: espeak-ng 1.51 ignores a variant on ``en-gb``
    (``en-gb+f3`` renders sample for sample as ``en-gb``, so a scenario's mum and child were one
    male voice), and applies it on ``en``, the same voice as ``en-gb``."""
    base, plus, variant = voice.partition("+")
    return f"en+{variant}" if base == "en-gb" and plus else voice


def render_speech(text: str, voice: str, speed: int, out: Path) -> None:
    """espeak-ng to a 16 kHz mono 16-bit WAV at ``out``, sample-for-sample reproducible."""
    if not espeak_available():
        raise RuntimeError("espeak-ng and sox are needed to synthesise speech")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "espeak.wav"
        subprocess.run(
            ["espeak-ng", "-v", espeak_voice(voice), "-s", str(speed), "-w", str(raw), "--stdin"],
            input=text,
            text=True,
            capture_output=True,
            check=True,
        )
        # -D: no dither, so the same text always gives the same samples.
        subprocess.run(
            ["sox", "-D", "-V1", str(raw), "-t", "wav", "-r", str(SAMPLE_RATE), "-c", "1",
             "-b", "16", "-e", "signed-integer", str(out)],
            capture_output=True,
            check=True,
        )  # fmt: skip
