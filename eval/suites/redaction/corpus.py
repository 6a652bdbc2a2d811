"""The redaction corpus through the profile's redactor: per-span outcomes made into metrics.

``scorer.evaluate`` does the redacting (through ``RecordingRedactor``, which keeps every call's
output); the outcomes are re-derived here per span, by the same rules, so that every figure
has groups and intervals that resample utterances. Our recall is checked against
``evaluate``'s own figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eval.core import Metric
from eval.scoring.stats import group_metric


class RecordingRedactor:
    """Passes ``redact_text`` through and keeps each call's output, in call order."""

    def __init__(self, redactor):
        self._redactor = redactor
        self.calls: list[tuple[str, str, list, Any]] = []

    def redact_text(self, text: str):
        redacted, spans, mapping = self._redactor.redact_text(text)
        self.calls.append((text, redacted, spans, mapping))
        return redacted, spans, mapping


@dataclass(frozen=True)
class GoldOutcome:
    utterance: str
    type: str
    group: str
    split: str
    form: str
    name_form: str | None
    caught: bool


@dataclass(frozen=True)
class PredOutcome:
    utterance: str
    type: str
    correct: bool


@dataclass(frozen=True)
class KeepOutcome:
    utterance: str
    kind: str
    removed: bool


@dataclass(frozen=True)
class UtteranceOutcome:
    utterance: str
    group: str
    leak: bool
    blocked: bool


def _alnum(text: str, start: int, end: int) -> list[int]:
    return [i for i in range(max(0, start), min(len(text), end)) if text[i].isalnum()]


def score_utterance(utt, spans, *, blocked: bool, direct: frozenset[str]):
    """Per-span outcomes for one utterance, by the rules ``scorer.py`` documents:
    a gold span is caught when every letter and digit in it is redacted; a predicted span is
    correct when at least half of its letters and digits are gold."""
    text = utt.text
    redacted = [False] * len(text)
    for p in spans:
        for i in range(max(0, p.start), min(len(text), p.end)):
            redacted[i] = True
    gold_mask = [False] * len(text)
    for g in utt.spans:
        for i in range(g.start, g.end):
            gold_mask[i] = True
    gold, leak = [], False
    for g in utt.spans:
        pos = _alnum(text, g.start, g.end)
        caught = all(redacted[i] for i in pos)
        leak |= g.type in direct and not caught
        gold.append(
            GoldOutcome(utt.id, g.type, g.origin or utt.group, utt.split, utt.form,
                        g.name_form, caught)
        )  # fmt: skip
    pred = []
    for p in spans:
        pos = _alnum(text, p.start, p.end)
        if pos:
            inside = sum(gold_mask[i] for i in pos)
            pred.append(PredOutcome(utt.id, p.entity_type, inside / len(pos) >= 0.5))
    keep = [
        KeepOutcome(utt.id, k.kind, any(redacted[i] for i in _alnum(text, k.start, k.end)))
        for k in utt.keep
    ]
    return gold, pred, keep, UtteranceOutcome(utt.id, utt.group, leak, blocked)


def corpus_metrics(
    redactor, corpus, *, seed: int, resamples: int, evaluate, direct, goals, residual
) -> tuple[list[Metric], dict[str, Any], list[str]]:
    """Run ``evaluate`` through a recording wrapper and build the per-group metrics."""
    recorder = RecordingRedactor(redactor)
    summary = evaluate(recorder, corpus, seed=seed, resamples=resamples)
    gold, pred, keep, utts = outcomes(corpus, recorder.calls, residual=residual, direct=direct)
    metrics = [
        *recall_metrics(gold, direct=direct, goals=goals, seed=seed, resamples=resamples),
        *precision_metrics(pred, keep, utts, goals=goals, seed=seed, resamples=resamples),
    ]
    return metrics, summary_details(summary), cross_check(summary, metrics[0].value)


def outcomes(
    corpus, calls: Sequence[tuple[str, str, list, Any]], *, residual: Callable, direct
) -> tuple[list[GoldOutcome], list[PredOutcome], list[KeepOutcome], list[UtteranceOutcome]]:
    """Every utterance's outcomes, from the recorded calls (one per utterance, in order)."""
    if len(calls) != len(corpus.utterances):
        raise RuntimeError("evaluate did not redact each utterance exactly once")
    gold: list[GoldOutcome] = []
    pred: list[PredOutcome] = []
    keep: list[KeepOutcome] = []
    utts: list[UtteranceOutcome] = []
    for utt, (text, redacted_text, spans, mapping) in zip(corpus.utterances, calls, strict=True):
        if text != utt.text:
            raise RuntimeError("evaluate redacted the utterances in an unexpected order")
        g, p, k, u = score_utterance(
            utt, spans, blocked=residual(redacted_text, mapping), direct=direct
        )
        gold += g
        pred += p
        keep += k
        utts.append(u)
    return gold, pred, keep, utts


def recall_metrics(
    gold: Sequence[GoldOutcome], *, direct, goals, seed: int, resamples: int
) -> list[Metric]:
    """Direct-identifier recall (by name origin, split and form), recall by type, names."""
    common = dict(seed=seed, resamples=resamples, cluster_fn=lambda o: o.utterance)
    direct_gold = [o for o in gold if o.type in direct]
    caught = lambda o: 1.0 if o.caught else 0.0  # noqa: E731
    return [
        group_metric(
            direct_gold,
            caught,
            lambda o: o.group,
            name="direct_identifier_recall",
            description="Share of direct identifiers (names, phone, NHS and NI numbers, "
            "postcodes, addresses, emails, dates of birth) with every letter and digit "
            "redacted; grouped by the origin of the name (else of the utterance).",
            higher_is_better=True,
            group_by="name_origin",
            goal=goals.get("direct_recall_min"),
            **common,
        ),
        group_metric(
            gold,
            caught,
            lambda o: o.type,
            name="identifier_recall_by_type",
            description="Share of gold identifier spans of every type fully redacted, by type.",
            higher_is_better=True,
            group_by="entity_type",
            **common,
        ),
        group_metric(
            [o for o in gold if o.type == "PERSON"],
            caught,
            lambda o: o.group,
            name="person_name_recall",
            description="Share of people's names fully redacted, by the name's origin.",
            higher_is_better=True,
            group_by="name_origin",
            goal=goals.get("group_direct_recall_min"),
            **common,
        ),
        group_metric(
            direct_gold,
            caught,
            lambda o: o.split,
            name="direct_identifier_recall_by_split",
            description="Direct-identifier recall on the templates used for tuning and on the "
            "held-out ones (a gap means the recognisers fit the tuning text).",
            higher_is_better=True,
            group_by="split",
            **common,
        ),
        group_metric(
            direct_gold,
            caught,
            lambda o: o.form,
            name="direct_identifier_recall_by_form",
            description="Direct-identifier recall on written text and on Whisper-style text "
            "(lower case, spoken numbers).",
            higher_is_better=True,
            group_by="form",
            **common,
        ),
    ]


def precision_metrics(
    pred: Sequence[PredOutcome],
    keep: Sequence[KeepOutcome],
    utts: Sequence[UtteranceOutcome],
    *,
    goals,
    seed: int,
    resamples: int,
) -> list[Metric]:
    """Precision, over-redaction of keep words, and what the residual check would block."""
    common = dict(seed=seed, resamples=resamples, cluster_fn=lambda o: o.utterance)
    return [
        group_metric(
            pred,
            lambda o: 1.0 if o.correct else 0.0,
            lambda o: o.type,
            name="redaction_precision",
            description="Share of redacted spans that are at least half gold identifier, by "
            "the redacted type.",
            higher_is_better=True,
            group_by="entity_type",
            goal=goals.get("precision_min"),
            **common,
        ),
        group_metric(
            keep,
            lambda o: 1.0 if o.removed else 0.0,
            lambda o: o.kind,
            name="over_redaction_rate",
            description="Share of words that must survive (Mum, Nan, the school, ages, times, "
            "money ...) with any letter or digit redacted, by kind.",
            higher_is_better=False,
            group_by="keep_kind",
            **common,
        ),
        group_metric(
            [u for u in utts if u.leak],
            lambda u: 1.0 if u.blocked else 0.0,
            lambda u: u.group,
            name="residual_check_blocks_leaks",
            description="Of utterances where a direct identifier was missed, the share the "
            "pipeline's residual check would stop before drafting.",
            higher_is_better=True,
            group_by="name_origin",
            seed=seed,
            resamples=resamples,
        ),
        group_metric(
            [u for u in utts if not u.leak],
            lambda u: 1.0 if u.blocked else 0.0,
            lambda u: u.group,
            name="residual_check_blocks_clean",
            description="Of fully redacted utterances, the share the residual check would stop "
            "needlessly.",
            higher_is_better=False,
            group_by="name_origin",
            seed=seed,
            resamples=resamples,
        ),
    ]


def cross_check(summary: dict[str, Any], ours: float | None) -> list[str]:
    """A note when our direct-identifier recall differs from ``evaluate``'s own figure."""
    notes = []
    theirs = summary.get("slices", {}).get("all", {}).get("direct_recall", {}).get("value")
    if theirs is not None and ours is not None and abs(theirs - ours) > 1e-9:
        notes.append(
            f"direct_identifier_recall {ours:.4f} differs from redaction_eval's {theirs:.4f}: "
            "the matching rules have diverged; trust neither until they agree."
        )
    return notes


def summary_details(summary: dict[str, Any]) -> dict[str, Any]:
    """``evaluate``'s throughput and headline figures per slice, for the report."""
    return {
        "throughput": summary.get("throughput"),
        "redaction_eval_headline": {
            name: {
                "direct_recall": sl.get("direct_recall"),
                "precision": sl.get("precision"),
                "over_redaction": (sl.get("over_redaction") or {}).get("rate"),
                "group_gap": sl.get("group_gap"),
                "goals_met": sl.get("goals_met"),
            }
            for name, sl in summary.get("slices", {}).items()
        },
    }
