"""The evaluation harness: run suites, record where every figure came from, write the report.

    caseassist eval run --suite asr|redaction|notes|bias|all [--quick] [--profile P] --out DIR

writes ``DIR/results.json`` and ``DIR/report.html``. A suite is a package in ``eval/suites``
with ``SUITE_VERSION`` and ``run(ctx: EvalContext) -> SuiteResult`` (``eval/core.py``); it is
imported only when asked for, and one that is not there yet is recorded as "not available"
rather than stopping the others. A suite that raises is recorded as "error" with the reason
and the run carries on; the command then exits non-zero.

``--quick`` runs a small slice of each suite on the ``test`` profile (unless ``--profile`` says
otherwise): what CI runs. Measured on the 2 shared cores of the development machine: the quick
ASR suite takes about 30 s on tiny.en once its espeak-ng renders are cached (about 1 min with
``--profile default``), the quick redaction suite about 5 s; the notes and bias suites draft
notes with the LLM and dominate ``all``.

The full run uses the default profile (Whisper base, Qwen2.5-Coder-1.5B). Its ASR suite
transcribes about 3.1 hours of audio (2.6 h of scenario turns, 27 min of voice-swapped
sentences, the recorded clips and 10 min of signals); at the real-time factor measured for
Whisper base in the quick run (0.17 on 2 busy cores) that is about 35-40 minutes, plus about 5
minutes of espeak-ng rendering the first time. The full redaction suite took 34 s (measured).
Every run records its own duration per suite (``suites.*.duration_s``) and overall
(``provenance.duration_s``), and ``caseassist eval card`` writes it into the model card.

``results.json`` (schema ``SCHEMA``) has these top-level keys:

* ``schema``, ``invocation`` (suite, quick, profile, seed, out);
* ``provenance``: harness version, each suite's version, dataset hashes (scenario corpus,
  redaction corpus, LibriVox clips and whatever else a suite used), model names and sha256
  (``verified`` says whether the files were checked against the manifest in this run), prompt
  template and version and prompt sha256, redaction configuration hash, safeguarding lexicon
  version and sha256, WER normalisation version, git commit (``+dirty`` when the working tree
  differs from it), seeds, bootstrap settings, machine (platform, CPU, cores, memory, Python,
  library versions), the settings that decide transcripts and notes (``settings``: Whisper's
  language, device, compute type and beam; the LLM's context, chunk cap, output budget,
  attention kernel, GPU layers and threads; the seed), start and end times and duration;
* ``suites``: per suite its ``status`` ("ok", "not available", "error"), timings, and the
  ``SuiteResult`` fields (metrics, each with ``higher_is_better``, groups, comparisons);
* ``summary``: one row per metric (suite, name, value, interval, n, goal, meets_goal,
  higher_is_better, unit), the table the model card and the report start from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import logging
import math
import os
import platform
import subprocess
import time
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from eval.core import EvalContext, SuiteResult
from eval.paths import LIBRIVOX_DIR, ROOT

log = logging.getLogger(__name__)

HARNESS_VERSION = "1"
SCHEMA = "caseassist.eval/1"
SUITES: dict[str, str] = {
    "asr": "eval.suites.asr",
    "redaction": "eval.suites.redaction",
    "notes": "eval.suites.notes",
    "bias": "eval.suites.bias",
}
"""Suite name -> module; ``all`` runs them in this order."""
CHOICES = (*SUITES, "all")
RESAMPLES = 1000
LIBRARIES = (
    "ctranslate2", "faster-whisper", "llama_cpp_python", "presidio-analyzer",
    "presidio-anonymizer", "spacy", "numpy", "scipy", "jiwer", "pydantic",
)  # fmt: skip

SuiteRunner = Callable[[EvalContext], SuiteResult]


def run(
    suite: str,
    *,
    quick: bool,
    profile: str | None,
    out: Path,
    seed: int = 0,
    settings: Any = None,
    registry: dict[str, str | SuiteRunner] | None = None,
    engines_factory: Callable[[], Any] | None = None,
    primock_limit: int | None = None,
    drafts: Path | str | None = None,
) -> dict[str, Any]:
    """Run ``suite`` (or ``all``), write ``out/results.json`` and ``out/report.html``, return
    the results. ``settings`` (default: ``Settings()``) is switched to ``profile``, or to
    ``test`` for a quick run when no profile is given. ``registry`` and ``engines_factory``
    replace the suites and the model loading (tests use them). ``primock_limit`` keeps the
    notes suite to the first N PriMock57 consultations. ``drafts`` keeps drafted notes in that
    folder and reuses those already there (``eval/draft_store.py``)."""
    from assistant.settings import Settings

    registry = dict(registry or SUITES)
    if suite != "all" and suite not in registry:
        raise ValueError(f"unknown suite {suite!r}; choose from {', '.join([*registry, 'all'])}")
    names = list(registry) if suite == "all" else [suite]

    settings = settings if settings is not None else Settings()
    chosen = profile or ("test" if quick else settings.profile)
    if settings.profile != chosen:
        settings = settings.model_copy(update={"profile": chosen})
    if quick and chosen == "test":
        # The quick slice exercises the code paths in CI: SmolLM2 with a small generation
        # budget and context drafts in ~18 s instead of running to the service defaults.
        settings = settings.model_copy(update={"llm_max_tokens": 1024, "llm_n_ctx": 4096})

    loaded: dict[str, Any] = {}

    def load_engines():
        if engines_factory is not None:
            engines = engines_factory()
        else:
            from assistant.model_store.store import resolve_models
            from assistant.pipeline import Engines

            engines = Engines.load(settings, resolve_models(settings))
        loaded["engines"] = engines
        return engines

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = EvalContext(
        profile=chosen,
        quick=quick,
        seed=seed,
        out_dir=out,
        settings=settings,
        _engines_factory=load_engines,
    )
    ctx.cache["resamples"] = RESAMPLES
    if primock_limit is not None:
        if primock_limit < 0:
            raise ValueError("primock_limit must be 0 or more")
        ctx.cache["primock_limit"] = primock_limit
    if drafts is not None:
        ctx.cache["drafts_dir"] = Path(drafts)

    started = _now()
    t0 = time.perf_counter()
    # What the run starts from, read before any suite runs: a commit, prompt or configuration
    # change made while a long run is going must not be recorded as what produced it.
    at_start = {
        "prompt": _prompt(settings),
        "redaction_config_hash": _safe(lambda: _redaction_config_hash()),
        "safeguarding_lexicon": _safe(_lexicon),
        "wer_normalisation_version": _safe(_wer_version),
        "git_commit": git_commit(),
    }
    suites: dict[str, dict[str, Any]] = {}
    versions: dict[str, str | None] = {}
    for name in names:
        suites[name], versions[name] = _run_suite(name, registry[name], ctx)
    finished = _now()

    provenance = {
        "harness_version": HARNESS_VERSION,
        "suite_versions": versions,
        "datasets": _datasets(suites),
        "models": _models(settings, loaded.get("engines")),
        **at_start,
        "seeds": {"harness": seed, "bootstrap": seed, "llm": settings.seed},
        "bootstrap": {"resamples": RESAMPLES, "level": 0.95, "method": "percentile bootstrap"},
        "machine": machine(),
        "profile": chosen,
        "settings": recorded_settings(settings),
        "drafts": store.summary() if (store := ctx.cache.get("draft_store")) else None,
        "started_at": started,
        "finished_at": finished,
        "duration_s": round(time.perf_counter() - t0, 2),
    }
    results = {
        "schema": SCHEMA,
        "invocation": {
            "suite": suite,
            "quick": quick,
            "profile": chosen,
            "seed": seed,
            "primock_limit": primock_limit,
            "drafts": None if drafts is None else str(drafts),
            "out": str(out),
        },
        "provenance": provenance,
        "suites": suites,
        "summary": summary(suites),
    }
    results = _finite(results)
    (out / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    from eval.report import write_report

    write_report(results, out / "report.html")
    return results


def summary(suites: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for name, result in suites.items():
        for m in result.get("metrics", []):
            rows.append(
                {
                    "suite": name,
                    "metric": m["name"],
                    "value": m["value"],
                    "interval": m.get("interval"),
                    "n": m["n"],
                    "unit": m.get("unit"),
                    "goal": m.get("goal"),
                    "meets_goal": m.get("meets_goal"),
                    "higher_is_better": m["higher_is_better"],
                }
            )
    return rows


def _finite(data: Any) -> Any:
    """NaN and infinities become None: JSON has no such numbers, and a suite that produced
    one must not cost the run its results file."""
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data


# --- suites -------------------------------------------------------------------------------------
def _run_suite(
    name: str, target: str | SuiteRunner, ctx: EvalContext
) -> tuple[dict[str, Any], str | None]:
    started = _now()
    t0 = time.perf_counter()

    def timing() -> dict[str, Any]:
        return {
            "started_at": started,
            "finished_at": _now(),
            "duration_s": round(time.perf_counter() - t0, 2),
        }

    version = None
    try:
        if isinstance(target, str):
            try:
                module = importlib.import_module(target)
            except ModuleNotFoundError as exc:
                if exc.name == target:
                    return {
                        "status": "not available",
                        "reason": f"{target} is not in this installation",
                        **timing(),
                    }, None
                raise
            runner: SuiteRunner = module.run
            version = getattr(module, "SUITE_VERSION", None)
        else:
            runner = target
        log.info("eval suite %s starting (quick=%s profile=%s)", name, ctx.quick, ctx.profile)
        result = runner(ctx)
    except Exception as exc:  # noqa: BLE001 - recorded, and the other suites still run
        log.error("eval suite %s failed: %s", name, type(exc).__name__)
        return {
            "status": "error",
            "reason": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8),
            **timing(),
        }, version
    t = timing()
    result.seconds = t["duration_s"]
    version = result.suite_version or version
    log.info("eval suite %s done in %.1fs", name, t["duration_s"])
    return {"status": "ok", **t, **result.model_dump(mode="json")}, version


# --- provenance ---------------------------------------------------------------------------------
def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - provenance records what it could not read
        return {"error": f"{type(exc).__name__}: {exc}"}


def _datasets(suites: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from eval.datasets.scenarios import corpus_sha256

    datasets: dict[str, Any] = {
        "scenarios": _safe(corpus_sha256),
        "redaction_corpus": _safe(_redaction_corpus_sha256),
        "librivox_clips": _safe(_librivox),
    }
    for name, result in suites.items():
        for key, digest in (result.get("dataset") or {}).items():
            datasets.setdefault(key, digest)
            if datasets[key] != digest:
                datasets[f"{name}.{key}"] = digest
    return datasets


def _redaction_corpus_sha256() -> str:
    from eval.datasets.redaction_corpus.loader import CORPUS_PATH

    return hashlib.sha256(CORPUS_PATH.read_bytes()).hexdigest()


def _librivox() -> dict[str, str] | None:
    """sha256 of each LibriVox clip and of the transcription file (None when not installed)."""
    transcription = LIBRIVOX_DIR / "transcription"
    if not transcription.is_file():
        return None
    hashes = {"transcription": hashlib.sha256(transcription.read_bytes()).hexdigest()}
    for wav in sorted(LIBRIVOX_DIR.glob("*.wav")):
        hashes[wav.name] = hashlib.sha256(wav.read_bytes()).hexdigest()
    return hashes


def _models(settings: Any, engines: Any) -> dict[str, Any]:
    """The models a suite loaded (verified at load), else what the profile would load."""
    if engines is not None and getattr(engines, "models", None) is not None:
        return {"verified": True, "loaded": True, **engines.models.refs()}
    try:
        from assistant.model_store.store import resolve_models

        refs = resolve_models(settings, verify=False).refs()
    except Exception as exc:  # noqa: BLE001
        return {"verified": False, "loaded": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"verified": False, "loaded": False, **refs}


ASR_SETTINGS = ("language", "device", "compute_type", "beam_size", "asr_threads")


def recorded_settings(settings: Any) -> dict[str, Any]:
    """Settings a figure can depend on: Whisper's, and drafting's as the drafts store keys on
    them (``eval.draft_store.drafting_settings``). Model files are in ``models``; paths and
    keys are not recorded."""
    from eval.draft_store import drafting_settings

    return {k: getattr(settings, k) for k in ASR_SETTINGS} | drafting_settings(settings)


def _prompt(settings: Any) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        from assistant.drafting.templates import load_template

        template = load_template(settings.default_template)
        return {
            "template": template.id,
            "version": template.version,
            "prompt_sha256": template.prompt_sha256,
        }

    return _safe(read)


def _redaction_config_hash() -> str:
    from assistant.redaction.redactor import config_hash

    return config_hash()


def _lexicon() -> dict[str, str]:
    from assistant.review.safeguarding import default_lexicon

    lexicon = default_lexicon()
    return {"version": str(lexicon.version), "sha256": lexicon.sha256}


def _wer_version() -> str:
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
