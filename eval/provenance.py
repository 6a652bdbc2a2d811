"""Where every figure of an evaluation run came from: dataset and model hashes, the prompt,
the redaction configuration, the lexicon, the git commit, the settings and the machine.

``eval.harness`` records these in ``results.json`` (its docstring lists the keys); each reader
returns what it could read, and ``safe`` turns a failure into ``{"error": ...}`` rather than
losing the run.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from eval.paths import LIBRIVOX_DIR, ROOT

LIBRARIES = (
    "ctranslate2", "faster-whisper", "llama_cpp_python", "presidio-analyzer",
    "presidio-anonymizer", "spacy", "numpy", "scipy", "jiwer", "pydantic",
)  # fmt: skip


def safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - provenance records what it could not read
        return {"error": f"{type(exc).__name__}: {exc}"}


def dataset_hashes(suites: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from eval.datasets.scenarios import corpus_sha256

    datasets: dict[str, Any] = {
        "scenarios": safe(corpus_sha256),
        "redaction_corpus": safe(redaction_corpus_sha256),
        "librivox_clips": safe(librivox_hashes),
    }
    for name, result in suites.items():
        for key, digest in (result.get("dataset") or {}).items():
            datasets.setdefault(key, digest)
            if datasets[key] != digest:
                datasets[f"{name}.{key}"] = digest
    return datasets


def redaction_corpus_sha256() -> str:
    from eval.datasets.redaction_corpus.loader import CORPUS_PATH

    return hashlib.sha256(CORPUS_PATH.read_bytes()).hexdigest()


def librivox_hashes() -> dict[str, str] | None:
    """sha256 of each LibriVox clip and of the transcription file (None when not installed)."""
    transcription = LIBRIVOX_DIR / "transcription"
    if not transcription.is_file():
        return None
    hashes = {"transcription": hashlib.sha256(transcription.read_bytes()).hexdigest()}
    for wav in sorted(LIBRIVOX_DIR.glob("*.wav")):
        hashes[wav.name] = hashlib.sha256(wav.read_bytes()).hexdigest()
    return hashes


def model_refs(settings: Any, engines: Any) -> dict[str, Any]:
    """The models a suite loaded (verified at load), else what the profile would load."""
    if engines is not None and getattr(engines, "models", None) is not None:
        return {"verified": True, "loaded": True, **engines.models.refs()}
    try:
        from assistant.model_store.store import resolve_models

        refs = resolve_models(settings, verify=False).refs()
    except Exception as exc:  # noqa: BLE001
        return {"verified": False, "loaded": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"verified": False, "loaded": False, **refs}


ASR_SETTINGS = (
    "language", "device", "compute_type", "beam_size", "asr_threads", "asr_batch_size",
    "asr_vocabulary_mode",
)  # fmt: skip


def recorded_settings(settings: Any) -> dict[str, Any]:
    """Settings a figure can depend on: Whisper's, and drafting's as the drafts store keys on
    them (``eval.draft_store.drafting_settings``). Model files are in ``models``; paths and
    keys are not recorded."""
    from eval.draft_store import drafting_settings

    return {k: getattr(settings, k) for k in ASR_SETTINGS} | drafting_settings(settings)


def prompt_template(settings: Any) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        from assistant.drafting.templates import load_template

        template = load_template(settings.default_template)
        return {
            "template": template.id,
            "version": template.version,
            "prompt_sha256": template.prompt_sha256,
        }

    return safe(read)


def redaction_config_hash() -> str:
    from assistant.redaction.redactor import config_hash

    return config_hash()


def safeguarding_lexicon() -> dict[str, str]:
    from assistant.review.safeguarding import default_lexicon

    lexicon = default_lexicon()
    return {"version": str(lexicon.version), "sha256": lexicon.sha256}


def wer_version() -> str:
    from eval.scoring.wer import NORMALISATION_VERSION

    return NORMALISATION_VERSION


def git_commit(root: Path = ROOT) -> str:
    """``git rev-parse HEAD``, with ``+dirty`` when tracked or untracked files differ;
    ``unknown`` outside a git checkout. Read-only (no optional locks, no index refresh)."""

    def git(*args: str) -> subprocess.CompletedProcess[str] | None:
        try:
            return subprocess.run(
                ["git", "--no-optional-locks", *args],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None

    head = git("rev-parse", "HEAD")
    if head is None or head.returncode != 0 or not head.stdout.strip():
        return "unknown"
    commit = head.stdout.strip()
    status = git("status", "--porcelain")
    if status is None or status.returncode != 0:
        return commit + "+unknown-tree"
    return commit + ("+dirty" if status.stdout.strip() else "")


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_available": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "memory_gb": _memory_gb(),
        "python": platform.python_version(),
        "libraries": {},
    }
    for dist in LIBRARIES:
        try:
            info["libraries"][dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info["libraries"][dist] = None
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return round(pages * size / 2**30, 1)
