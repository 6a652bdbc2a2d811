"""The redaction suite's run: the corpus, the drafting prompts and the names swaps, in order."""

from __future__ import annotations

from typing import Any

from eval.core import EvalContext, Metric, SuiteResult
from eval.datasets.scenarios import corpus_sha256, load_scenarios
from eval.scoring.stats import apply_holm
from eval.suites.redaction.corpus import corpus_metrics
from eval.suites.redaction.prompts import prompt_leaks, prompt_metrics
from eval.suites.redaction.scorer import (
    DIRECT_TYPES,
    GOALS,
    MATCHING,
    _residual_blocked,
    evaluate,
    load_corpus,
)
from eval.suites.redaction.spoken import (
    chosen,
    outcomes,
    redact_sentences,
    spoken_metrics,
    spoken_table,
)
from eval.suites.redaction.swaps import names_swap_metric, names_swaps

SUITE = "redaction"
SUITE_VERSION = "3"  # 3: identifiers said aloud, typed and from audio (spoken.py)
QUICK_STRIDE = 7
"""Odd, so the quick slice has both forms (the corpus alternates written and Whisper-style)."""
QUICK_SCENARIOS = 3


def run(ctx: EvalContext) -> SuiteResult:
    from assistant.redaction.redactor import config_hash

    resamples = int(ctx.cache.get("resamples", 1000))
    engines = ctx.engines
    notes: list[str] = []
    dataset: dict[str, str] = {}
    details: dict[str, Any] = {"redaction_config_hash": config_hash(), "tables": {}}
    metrics: list[Metric] = []

    corpus = load_corpus()
    dataset["redaction_corpus"] = corpus.sha256
    if ctx.quick:
        chosen = {u.id for u in corpus.utterances[::QUICK_STRIDE]}
        corpus = corpus.where(lambda u: u.id in chosen)
        notes.append(
            f"Quick run: every {QUICK_STRIDE}th corpus utterance "
            f"({len(corpus.utterances)} utterances)."
        )
    m, d, n = corpus_metrics(
        engines.redactor,
        corpus,
        seed=ctx.seed,
        resamples=resamples,
        evaluate=evaluate,
        direct=DIRECT_TYPES,
        goals=GOALS,
        residual=_residual_blocked,
    )
    metrics += m
    details.update(d)
    details["matching"] = MATCHING
    notes += n

    scenarios = load_scenarios()
    dataset["scenarios"] = corpus_sha256()
    if ctx.quick:
        scenarios = scenarios[:: max(1, len(scenarios) // QUICK_SCENARIOS)][:QUICK_SCENARIOS]
    leaks, n = prompt_leaks(engines, scenarios)
    notes += n
    metrics += prompt_metrics(leaks, seed=ctx.seed, resamples=resamples)
    found = [x for x in leaks if x.found]
    details["tables"]["identifiers_in_prompt"] = {
        "columns": ["scenario", "type", "origin", "identifier", "blocked by residual check"],
        "rows": [[x.scenario, x.type, x.origin, x.identifier, x.blocked] for x in found],
    }
    swaps = names_swaps(engines.redactor, scenarios)
    if swaps:
        metrics.append(names_swap_metric(swaps, seed=ctx.seed, resamples=resamples))
        details["tables"]["names_swaps_redacted_differently"] = {
            "columns": ["scenario", "copy's names"],
            "rows": [[x.scenario, x.target] for x in swaps if not x.same],
        }
    metrics += _spoken(ctx, dataset, details, notes, resamples)
    details["scenarios"] = [s.id for s in scenarios]
    details["prompt_template"] = sorted({s.template for s in scenarios})
    notes.append(
        "Prompts are built with Drafter.messages from the redacted scenario transcripts; no "
        "language model is called. Identifiers are the synthetic visits' invented ones."
    )
    return SuiteResult(
        suite=SUITE,
        suite_version=SUITE_VERSION,
        dataset=dataset,
        metrics=apply_holm(metrics),
        details=details,
        notes=notes,
    )


def _spoken(
    ctx: EvalContext,
    dataset: dict[str, str],
    details: dict[str, Any],
    notes: list[str],
    resamples: int,
) -> list[Metric]:
    """Measurement 4 (``spoken.py``): identifiers said aloud, typed and from audio."""
    from eval.datasets import speech
    from eval.datasets.spoken_identifiers import load as load_spoken

    data = load_spoken()
    dataset["spoken_identifiers"] = data.sha256
    picked = chosen(data, quick=ctx.quick)
    transcriber = getattr(ctx.engines, "transcriber", None) if speech.espeak_available() else None
    if transcriber is None:
        notes.append("espeak-ng or sox missing: spoken identifiers measured typed only.")
    results = redact_sentences(ctx.engines.redactor, transcriber, data, picked, seed=ctx.seed)
    ids, keeps = outcomes(results)
    details["tables"]["spoken_identifiers"] = spoken_table(results, ids)
    heard = [o for o in ids if o.form == "audio"]
    details["spoken_identifiers"] = {
        "sentences": [s.id for _, s in picked],
        "voices": list(data.voices),
        "identifiers_heard": sum(o.heard for o in heard),
        "identifiers_spoken": len(heard),
        "espeak_ng": speech.espeak_version() if transcriber is not None else None,
    }
    if transcriber is not None:
        notes.append(
            f"Spoken identifiers: {len(picked)} sentences spoken by espeak-ng and transcribed "
            f"by the profile's Whisper; {sum(o.heard for o in heard)} of {len(heard)} "
            "identifiers were written recognisably and are the denominator of "
            "spoken_identifier_recall. espeak-ng spells and reads numbers more evenly than "
            "people do: read it as a floor on what real speech does."
        )
    return spoken_metrics(ids, keeps, seed=ctx.seed, resamples=resamples)
