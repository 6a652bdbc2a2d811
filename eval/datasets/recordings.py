"""Real recorded speech for the ASR suite: LibriVox read speech and a two-speaker phone call.

Neither is committed. The LibriVox clips come with Debian's ``pocketsphinx-testdata`` package
(``eval.paths.LIBRIVOX_DIR``); the 30 s phone call ships inside the ``pyannote-audio`` wheel,
fetched once with ``pip download``, pinned by sha256 and cached under ``var/cache/eval-data``
(on a machine without an index, copy the wheel there by hand). Each loader says when its data is
not there, and the suite skips it with a note.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from eval.paths import DATA_CACHE, LIBRIVOX_DIR

PYANNOTE_VERSION = "4.0.7"
PYANNOTE_WHEEL = f"pyannote_audio-{PYANNOTE_VERSION}-py3-none-any.whl"
PYANNOTE_WHEEL_SHA256 = "852ea15c4d85bc34773e618267603ffca6a521669a74d33742692cc67fc700d6"


def librivox_clips() -> list[tuple[str, Path, str]]:
    """(id, wav, reference) for each clip, or [] when pocketsphinx-testdata is not installed."""
    transcription = LIBRIVOX_DIR / "transcription"
    if not transcription.is_file():
        return []
    clips = []
    for line in transcription.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\s*<s>\s*(.*?)\s*</s>\s*\((\S+)\)\s*", line)
        if match and (LIBRIVOX_DIR / f"{match.group(2)}.wav").is_file():
            clips.append((match.group(2), LIBRIVOX_DIR / f"{match.group(2)}.wav", match.group(1)))
    return sorted(clips)


def librivox_sha256() -> str | None:
    """One hash over the transcription file and every clip (name and bytes)."""
    clips = librivox_clips()
    if not clips:
        return None
    h = hashlib.sha256((LIBRIVOX_DIR / "transcription").read_bytes())
    for _, wav, _ in clips:
        h.update(wav.name.encode() + b"\0" + hashlib.sha256(wav.read_bytes()).digest())
    return h.hexdigest()


def phone_call(*, fetch: bool = True) -> tuple[Path, str, str] | str:
    """(wav, reference, sha256 of the wheel) for the pyannote sample call, or why not.

    The wheel is fetched once with ``pip download --no-deps`` (no install; nothing of it runs),
    checked against ``PYANNOTE_WHEEL_SHA256`` and the two sample files are unpacked into
    ``var/cache/eval-data``."""
    folder = DATA_CACHE / f"pyannote-audio-{PYANNOTE_VERSION}"
    wav, stm = folder / "sample.wav", folder / "sample.stm"
    if not (wav.is_file() and stm.is_file()):
        wheel = DATA_CACHE / PYANNOTE_WHEEL
        if not wheel.is_file():
            if not fetch:
                return "the pyannote-audio wheel is not in var/cache/eval-data"
            DATA_CACHE.mkdir(parents=True, exist_ok=True)
            try:
                done = subprocess.run(
                    [sys.executable, "-m", "pip", "download", "--no-deps", "--no-input",
                     "--disable-pip-version-check", "--retries", "1", "--timeout", "15", "-q",
                     "-d", str(DATA_CACHE), f"pyannote-audio=={PYANNOTE_VERSION}"],
                    capture_output=True, text=True, timeout=120, check=False,
                )  # fmt: skip
            except (OSError, subprocess.SubprocessError) as exc:
                return f"pip download of pyannote-audio failed ({type(exc).__name__})"
            if done.returncode != 0 or not wheel.is_file():
                return "pip download of pyannote-audio failed (no network or index?)"
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest != PYANNOTE_WHEEL_SHA256:
            return f"the pyannote-audio wheel has sha256 {digest[:16]}…, not the pinned one"
        folder.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as z:
            for name, dest in (("sample.wav", wav), ("sample.stm", stm)):
                dest.write_bytes(z.read(f"pyannote/audio/sample/{name}"))
    reference = " ".join(
        line.split(maxsplit=5)[5]
        for line in sorted(
            (ln for ln in stm.read_text(encoding="utf-8").splitlines() if ln.strip()),
            key=lambda ln: float(ln.split()[3]),
        )
    )
    return wav, reference, PYANNOTE_WHEEL_SHA256
