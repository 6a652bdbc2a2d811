"""The evaluation harness: run suites, record where every figure came from, write the report.

    caseassist eval run --suite asr|redaction|notes|bias|diarisation|all [--quick]
        [--profile P] --out DIR

writes ``DIR/results.json`` and ``DIR/report.html``. A suite is a package in ``eval/suites``
with ``SUITE_VERSION`` and ``run(ctx: EvalContext) -> SuiteResult`` (``eval/core.py``); it is
imported only when asked for, and one that is not there yet is recorded as "not available"
rather than stopping the others. A suite that raises is recorded as "error" with the reason
and the run carries on; the command then exits non-zero.

``--quick`` runs a small slice of each suite on the ``test`` profile (unless ``--profile`` says
otherwise): what CI runs. Measured on the 2 shared cores of the development machine: the quick
ASR suite takes about 30 s on tiny.en once its espeak-ng renders are cached (about 1 min with
``--profile default``), the quick redaction suite about 8 s before suite version 3 and 19 s
since (8 spoken sentences through tiny.en, renders cached); the notes and bias suites draft
notes with the LLM and dominate ``all``.

The full run uses the default profile (Whisper base, Qwen2.5-Coder-1.5B). Its ASR suite
transcribes about 3.1 hours of audio (2.6 h of scenario turns, 27 min of voice-swapped
sentences, the recorded clips and 10 min of signals); at the real-time factor measured for
Whisper base in the quick run (0.17 on 2 busy cores) that is about 35-40 minutes, plus about 5
minutes of espeak-ng rendering the first time. The full redaction suite took 34 s (measured).
Every run records its own duration per suite (``suites.*.duration_s``) and overall
(``provenance.duration_s``), and ``caseassist eval card`` writes it into the model card.

``results.json`` (schema ``SCHEMA``) has these top-level keys:

* ``schema``, ``invocation`` (suite, quick, profile, seed, primock_limit, drafts, from_audio,
  out);
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
import importlib
import json
import logging
import math
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval.core import EvalContext, SuiteResult
from eval.provenance import (
    dataset_hashes,
    git_commit,
    machine,
    model_refs,
    prompt_template,
    recorded_settings,
    redaction_config_hash,
    safe,
    safeguarding_lexicon,
    wer_version,
)

log = logging.getLogger(__name__)

HARNESS_VERSION = "1"
SCHEMA = "caseassist.eval/1"
SUITES: dict[str, str] = {
    "asr": "eval.suites.asr",
    "redaction": "eval.suites.redaction",
    "notes": "eval.suites.notes",
    "bias": "eval.suites.bias",
    "diarisation": "eval.suites.diarisation",
}
"""Suite name -> module; ``all`` runs them in this order."""
CHOICES = (*SUITES, "all")
RESAMPLES = 1000

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
    from_audio: int | None = None,
) -> dict[str, Any]:
    """Run ``suite`` (or ``all``), write ``out/results.json`` and ``out/report.html``, return
    the results. ``settings`` (default: ``Settings()``) is switched to ``profile``, or to
    ``test`` for a quick run when no profile is given. ``registry`` and ``engines_factory``
    replace the suites and the model loading (tests use them). ``primock_limit`` keeps the
    notes suite to the first N PriMock57 consultations. ``drafts`` keeps drafted notes in that
    folder and reuses those already there (``eval/draft_store.py``). ``from_audio`` adds N
    scenarios rendered and run from audio to the notes suite
    (``eval/suites/notes/from_audio.py``)."""
    from assistant.settings import Settings

    registry = dict(registry or SUITES)
    if suite != "all" and suite not in registry:
        raise ValueError(f"unknown suite {suite!r}; choose from {', '.join([*registry, 'all'])}")
    names = list(registry) if suite == "all" else [suite]

    settings = run_settings(settings if settings is not None else Settings(), profile, quick)
    chosen = settings.profile

    loaded: dict[str, Any] = {}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = EvalContext(
        profile=chosen,
        quick=quick,
        seed=seed,
        out_dir=out,
        settings=settings,
        _engines_factory=_engine_loader(settings, engines_factory, loaded),
    )
    ctx.cache.update(_cache(primock_limit, drafts, from_audio))

    started = _now()
    t0 = time.perf_counter()
    at_start = _at_start(settings)
    suites: dict[str, dict[str, Any]] = {}
    versions: dict[str, str | None] = {}
    for name in names:
        suites[name], versions[name] = _run_suite(name, registry[name], ctx)
    finished = _now()

    provenance = _provenance(
        settings,
        suites,
        versions,
        at_start,
        seed=seed,
        engines=loaded.get("engines"),
        store=ctx.cache.get("draft_store"),
        times=(started, finished, t0),
    )
    results = {
        "schema": SCHEMA,
        "invocation": {
            "suite": suite,
            "quick": quick,
            "profile": chosen,
            "seed": seed,
            "primock_limit": primock_limit,
            "drafts": None if drafts is None else str(drafts),
            "from_audio": from_audio,
            "out": str(out),
        },
        "provenance": provenance,
        "suites": suites,
        "summary": summary(suites),
    }
    results = _finite(results)
    _write(results, out)
    return results


def _engine_loader(
    settings: Any, engines_factory: Callable[[], Any] | None, loaded: dict[str, Any]
) -> Callable[[], Any]:
    """Loads the profile's models (or calls ``engines_factory``) and keeps them in
    ``loaded["engines"]``, for the provenance to record what was loaded."""

    def load_engines():
        if engines_factory is not None:
            engines = engines_factory()
        else:
            from assistant.model_store.store import resolve_models
            from assistant.pipeline import Engines

            engines = Engines.load(settings, resolve_models(settings))
        loaded["engines"] = engines
        return engines

    return load_engines


def _provenance(
    settings: Any,
    suites: dict[str, dict[str, Any]],
    versions: dict[str, str | None],
    at_start: dict[str, Any],
    *,
    seed: int,
    engines: Any,
    store: Any,
    times: tuple[str, str, float],
) -> dict[str, Any]:
    """Where every figure of the run came from (the keys ``results.json`` documents)."""
    started, finished, t0 = times
    return {
        "harness_version": HARNESS_VERSION,
        "suite_versions": versions,
        "datasets": dataset_hashes(suites),
        "models": model_refs(settings, engines),
        **at_start,
        "seeds": {"harness": seed, "bootstrap": seed, "llm": settings.seed},
        "bootstrap": {"resamples": RESAMPLES, "level": 0.95, "method": "percentile bootstrap"},
        "machine": machine(),
        "profile": settings.profile,
        "settings": recorded_settings(settings),
        "drafts": store.summary() if store else None,
        "started_at": started,
        "finished_at": finished,
        "duration_s": round(time.perf_counter() - t0, 2),
    }


def _cache(
    primock_limit: int | None, drafts: Path | str | None, from_audio: int | None = None
) -> dict[str, Any]:
    """What the suites read from ``ctx.cache``: the bootstrap resamples and the run's options."""
    cache: dict[str, Any] = {"resamples": RESAMPLES}
    if from_audio is not None:
        if from_audio < 1:
            raise ValueError("from_audio must be 1 or more")
        cache["from_audio"] = from_audio
    if primock_limit is not None:
        if primock_limit < 0:
            raise ValueError("primock_limit must be 0 or more")
        cache["primock_limit"] = primock_limit
    if drafts is not None:
        cache["drafts_dir"] = Path(drafts)
    return cache


def _at_start(settings: Any) -> dict[str, Any]:
    """What the run starts from, read before any suite runs: a commit, prompt or configuration
    change made while a long run is going must not be recorded as what produced it."""
    return {
        "prompt": prompt_template(settings),
        "redaction_config_hash": safe(lambda: redaction_config_hash()),
        "safeguarding_lexicon": safe(safeguarding_lexicon),
        "wer_normalisation_version": safe(wer_version),
        "git_commit": git_commit(),
    }


def run_settings(settings: Any, profile: str | None, quick: bool) -> Any:
    """``settings`` switched to ``profile``, or to ``test`` for a quick run when none is given;
    a quick run on ``test`` also gets a small generation budget and context."""
    chosen = profile or ("test" if quick else settings.profile)
    if settings.profile != chosen:
        settings = settings.model_copy(update={"profile": chosen})
    if quick and chosen == "test":
        # The quick slice exercises the code paths in CI: SmolLM2 with a small generation
        # budget and context drafts in ~18 s instead of running to the service defaults.
        settings = settings.model_copy(update={"llm_max_tokens": 1024, "llm_n_ctx": 4096})
    return settings


def _write(results: dict[str, Any], out: Path) -> None:
    (out / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    from eval.report import write_report

    write_report(results, out / "report.html")


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
