"""How well redaction works, measured on the synthetic redaction corpus.

The corpus is in ``eval/datasets/redaction_corpus/``. ``evaluate(redactor, corpus)`` is the
measurement: the redaction suite scores the profile's redactor with it, and
``python -m eval.suites.redaction --out DIR`` (``cli.py``) runs it on its own, writing
``results.json`` (every figure below, with the corpus sha256, the redaction config hash, the
spaCy model hash from ``assistant/model_store/manifest.yaml``, the git commit, the seed and the
machine) and printing a short markdown table. It imports the redaction stage, never the app.

Matching rules (``MATCHING`` is recorded in every result):

* A gold identifier span is **caught** when every letter and digit in it lies inside redacted
  spans, of any type: a name half redacted still leaks. ``recall_lenient`` counts a span as
  caught when at least half of its letters and digits are covered, to show near misses.
* A redacted span is **correct** (for precision) when at least half of its letters and digits lie
  inside gold identifier spans of any type; a redacted span over a keep word or plain speech is a
  false positive. Place names are gold (type LOCATION), so redacting a town is not a false
  positive; catch-all ``ID_NUMBER`` spans count by where they fall.
* **Type accuracy** (reported apart from recall): of the caught gold spans of a type, the share
  whose redacted type, taken from the predicted span covering most of it, is the gold type.
* **Direct identifiers** are PERSON, UK_NHS, UK_NINO, UK_PHONE, UK_POSTCODE, STREET_ADDRESS,
  EMAIL and DATE_OF_BIRTH; their recall is the headline figure, overall and per name-origin group
  (a span's group is its ``origin``, else its utterance's group).
* **Over-redaction** is the share of annotated keep words (Mum, Nan, the school, the GP, ages,
  weekdays, times, money ...) with any letter or digit redacted.
* **Intervals** are percentile bootstrap 95% intervals over utterances (``resamples`` draws,
  seeded), the group figures recomputed in each draw; the group gap is best minus worst group
  direct-identifier recall, the ratio worst over best, and the gap is flagged above
  ``MAX_GROUP_GAP``.
* **Residual check**: each redacted utterance is also given to ``residual_identifiers``, the
  pipeline's safety net; ``leaks_blocked`` is the share of utterances with a missed direct
  identifier that it would stop before drafting, ``clean_blocked`` the share of fully redacted
  ones it would stop needlessly.

Splits: each template, and the part of each pool it draws names and values from, is either
``tune`` (about 70%) or ``heldout`` (about 30%) (see the corpus's ``README.md``). Tuning looks
only at the tune split (``--show-misses`` prints tune-split misses and refuses the held-out
split); both are reported.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from assistant.domain import EntitySpan, PseudonymMap, RedactedSegment, RedactedTranscript
from eval.datasets.redaction_corpus.loader import (
    CORPUS_PATH,
    GOLD_TYPES,
    Corpus,
    CorpusError,
    GoldSpan,
    KeepSpan,
    Utterance,
    load_corpus,
)

__all__ = [
    "CORPUS_PATH", "DIRECT_TYPES", "GOALS", "GOLD_TYPES", "HIGHER_IS_BETTER", "MATCHING",
    "MAX_GROUP_GAP", "Corpus", "CorpusError", "GoldSpan", "KeepSpan", "TextRedactor", "Utterance",
    "evaluate", "load_corpus",
]  # fmt: skip


DIRECT_TYPES = frozenset(
    {"PERSON", "UK_NHS", "UK_NINO", "UK_PHONE", "UK_POSTCODE", "STREET_ADDRESS", "EMAIL",
     "DATE_OF_BIRTH"}
)  # fmt: skip
GOALS = {"direct_recall_min": 0.98, "group_direct_recall_min": 0.98, "precision_min": 0.90}
MAX_GROUP_GAP = 0.02
"""A best-minus-worst group gap in direct-identifier recall above this is flagged."""
MATCHING = {
    "caught": "every letter and digit of the gold span is inside redacted spans (any type)",
    "caught_lenient": "at least half of the gold span's letters and digits are redacted",
    "correct_prediction": "at least half of the redacted span's letters and digits are gold",
    "type_accuracy": "caught gold spans whose most-covering redacted span has the gold type",
    "over_redaction": "keep words with any letter or digit redacted",
    "group": "span origin, else the utterance's group",
    "bootstrap": "percentile 95% interval, utterances resampled with replacement",
}
HIGHER_IS_BETTER = {
    "recall": True, "recall_lenient": True, "precision": True, "f2": True,
    "type_accuracy": True, "direct_recall": True, "group_gap.difference": False,
    "group_gap.ratio": True, "over_redaction.rate": False, "words_per_second": True,
    "residual.leaks_blocked": True, "residual.clean_blocked": False,
}  # fmt: skip


# --- the thing measured --------------------------------------------------------------------
class TextRedactor(Protocol):
    """What ``evaluate`` needs: ``Redactor.redact_text``, or a wrapper around it (tests plant
    failures this way)."""

    def redact_text(self, text: str) -> tuple[str, list[EntitySpan], PseudonymMap]: ...


@dataclass(slots=True)
class _Scored:
    """One utterance scored: counts the aggregation and the bootstrap sum."""

    utt: Utterance
    gold: list[tuple[GoldSpan, float, str | None]]  # span, coverage, most-covering type
    pred: list[tuple[str, bool]]  # predicted type, correct
    keep_removed: list[tuple[KeepSpan, bool]]
    blocked: bool
    words: int


def _alnum_positions(text: str, start: int, end: int) -> list[int]:
    return [i for i in range(start, end) if text[i].isalnum()]


def _score(utt: Utterance, predicted: Sequence[EntitySpan], blocked: bool) -> _Scored:
    text = utt.text
    owner: list[str | None] = [None] * len(text)
    for p in predicted:
        for i in range(max(0, p.start), min(len(text), p.end)):
            owner[i] = p.entity_type
    gold_mask = [False] * len(text)
    for g in utt.spans:
        for i in range(g.start, g.end):
            gold_mask[i] = True

    gold = []
    for g in utt.spans:
        pos = _alnum_positions(text, g.start, g.end)
        covered = [owner[i] for i in pos if owner[i] is not None]
        coverage = len(covered) / len(pos) if pos else 1.0
        main = Counter(covered).most_common(1)[0][0] if covered else None
        gold.append((g, coverage, main))
    pred = []
    for p in predicted:
        pos = _alnum_positions(text, max(0, p.start), min(len(text), p.end))
        if not pos:
            continue
        inside = sum(gold_mask[i] for i in pos)
        pred.append((p.entity_type, inside / len(pos) >= 0.5))
    keep = []
    for k in utt.keep:
        keep.append((k, any(owner[i] is not None for i in _alnum_positions(text, k.start, k.end))))
    return _Scored(utt, gold, pred, keep, blocked, len(text.split()))


def _residual_blocked(redacted_text: str, mapping: PseudonymMap, rules: Any = None) -> bool:
    from assistant.redaction.redactor import residual_identifiers

    redacted = RedactedTranscript(
        segments=(RedactedSegment(id="u", start=0.0, end=1.0, text=redacted_text),),
        language="en",
        duration_s=1.0,
        entities=(),
        config_hash="eval",
    )
    return bool(residual_identifiers(redacted, mapping, rules))


def evaluate(
    redactor: TextRedactor,
    corpus: Corpus,
    *,
    seed: int = 0,
    resamples: int = 1000,
    slices: dict[str, Callable[[Utterance], bool]] | None = None,
) -> dict[str, Any]:
    """Redact every utterance on its own and score it (rules in the module docstring).

    Returns ``{"slices": {name: metrics}, "throughput": ..., ...}``; the default slices are
    all, each split, each form, and each split by form."""
    scored: list[_Scored] = []
    elapsed = 0.0
    for utt in corpus.utterances:
        started = time.perf_counter()
        redacted_text, predicted, mapping = redactor.redact_text(utt.text)
        elapsed += time.perf_counter() - started
        # the check as the pipeline runs it, with the redactor's rules
        blocked = _residual_blocked(redacted_text, mapping, getattr(redactor, "rules", None))
        scored.append(_score(utt, predicted, blocked))

    if slices is None:
        slices = {"all": lambda u: True}
        for split in ("tune", "heldout"):
            slices[split] = lambda u, s=split: u.split == s
        for form in ("written", "whisper"):
            slices[form] = lambda u, f=form: u.form == f
        for split in ("tune", "heldout"):
            for form in ("written", "whisper"):
                slices[f"{split}/{form}"] = lambda u, s=split, f=form: u.split == s and u.form == f
    rng = np.random.default_rng(seed)
    words = sum(s.words for s in scored)
    return {
        "slices": {
            name: _metrics(chosen, rng=rng, resamples=resamples)
            for name, keep in slices.items()
            if (chosen := [s for s in scored if keep(s.utt)])
        },
        "throughput": {
            "utterances": len(scored),
            "words": words,
            "seconds": round(elapsed, 3),
            "words_per_second": round(words / elapsed, 1) if elapsed else None,
            "note": "one redact_text call per utterance (no batching across utterances)",
        },
    }


# --- aggregation ---------------------------------------------------------------------------
def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den else None


def _f2(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None or precision + recall == 0:
        return None
    return 5 * precision * recall / (4 * precision + recall)


def _group_of(utt: Utterance, span: GoldSpan) -> str:
    return span.origin or utt.group


@dataclass
class _Tally:
    """Counts over a slice's utterances. ``counts`` has a row per utterance for the bootstrap:
    direct caught/total, predicted correct/total, then caught/total per group."""

    counts: np.ndarray
    per_type: dict[str, Counter[str]]
    per_form: dict[str, Counter[str]]
    keep_kinds: dict[str, Counter[str]]
    person_groups: dict[str, Counter[str]]
    residual: Counter[str]


def _tally(scored: list[_Scored], gi: dict[str, int]) -> _Tally:
    counts = np.zeros((len(scored), 4 + 2 * len(gi)))
    per_type: dict[str, Counter[str]] = defaultdict(Counter)
    per_form: dict[str, Counter[str]] = defaultdict(Counter)
    keep_kinds: dict[str, Counter[str]] = defaultdict(Counter)
    person_groups: dict[str, Counter[str]] = defaultdict(Counter)
    residual: Counter[str] = Counter()
    for row, s in enumerate(scored):
        leak = False
        for g, coverage, main in s.gold:
            caught = coverage >= 1.0
            t = per_type[g.type]
            t["gold"] += 1
            t["caught"] += caught
            t["lenient"] += coverage >= 0.5
            t["type_ok"] += caught and main == g.type
            if g.type in DIRECT_TYPES:
                counts[row, 0] += caught
                counts[row, 1] += 1
                k = gi[_group_of(s.utt, g)]
                counts[row, 4 + 2 * k] += caught
                counts[row, 5 + 2 * k] += 1
                leak |= not caught
            if g.type == "PERSON":
                pg = person_groups[_group_of(s.utt, g)]
                pg["gold"] += 1
                pg["caught"] += caught
                form = per_form[g.name_form or "?"]
                form["gold"] += 1
                form["caught"] += caught
        for entity, correct in s.pred:
            per_type[entity]["pred"] += 1
            per_type[entity]["pred_ok"] += correct
            counts[row, 2] += correct
            counts[row, 3] += 1
        for k, removed in s.keep_removed:
            keep_kinds[k.kind]["n"] += 1
            keep_kinds[k.kind]["removed"] += removed
        residual["leak"] += leak
        residual["leak_blocked"] += leak and s.blocked
        residual["clean"] += not leak
        residual["clean_blocked"] += (not leak) and s.blocked
    return _Tally(counts, per_type, per_form, keep_kinds, person_groups, residual)


def _recall_of(c: Counter[str]) -> float | None:
    return _ratio(c["caught"], c["gold"])


def _per_type(per_type: dict[str, Counter[str]]) -> dict[str, dict[str, Any]]:
    types = {}
    for name in sorted(per_type):
        c = per_type[name]
        r, p = _ratio(c["caught"], c["gold"]), _ratio(c["pred_ok"], c["pred"])
        types[name] = {
            "recall": r,
            "recall_lenient": _ratio(c["lenient"], c["gold"]),
            "precision": p,
            "f2": _f2(p, r),
            "type_accuracy": _ratio(c["type_ok"], c["caught"]),
            "n_gold": c["gold"],
            "n_pred": c["pred"],
            "direct": name in DIRECT_TYPES,
        }
    return types


def _group_gap(present: dict[str, float], boot: dict[str, Any]) -> dict[str, Any]:
    """Best minus worst group in direct-identifier recall, flagged above ``MAX_GROUP_GAP``."""
    best_g = max(present, key=present.get) if present else None
    worst_g = min(present, key=present.get) if present else None
    difference = present[best_g] - present[worst_g] if present else None
    ratio = _ratio(present[worst_g], present[best_g]) if present else None
    return {
        "metric": "direct_recall",
        "best_group": best_g,
        "worst_group": worst_g,
        "best": present.get(best_g) if best_g else None,
        "worst": present.get(worst_g) if worst_g else None,
        "difference": difference,
        "difference_ci95": boot["difference"],
        "ratio": ratio,
        "ratio_ci95": boot["ratio"],
        "max_gap": MAX_GROUP_GAP,
        "flagged": difference is not None and difference > MAX_GROUP_GAP,
    }


def _over_redaction(keep_kinds: dict[str, Counter[str]]) -> dict[str, Any]:
    n_keep = sum(c["n"] for c in keep_kinds.values())
    removed = sum(c["removed"] for c in keep_kinds.values())
    return {
        "rate": _ratio(removed, n_keep),
        "n_keep": n_keep,
        "removed": removed,
        "by_kind": {
            k: {"rate": _ratio(c["removed"], c["n"]), "n": c["n"]}
            for k, c in sorted(keep_kinds.items())
        },
    }


def _metrics(scored: list[_Scored], *, rng: np.random.Generator, resamples: int) -> dict[str, Any]:
    if not scored:
        return {"n_utterances": 0}
    groups = sorted(
        {_group_of(s.utt, g) for s in scored for g, _, _ in s.gold} | {s.utt.group for s in scored}
    )
    gi = {g: i for i, g in enumerate(groups)}
    tally = _tally(scored, gi)
    boot = _bootstrap(tally.counts, len(groups), rng, resamples)
    totals = tally.counts.sum(axis=0)
    direct = _ratio(totals[0], totals[1])
    precision = _ratio(totals[2], totals[3])
    group_recall = {g: _ratio(totals[4 + 2 * gi[g]], totals[5 + 2 * gi[g]]) for g in groups}
    present = {g: v for g, v in group_recall.items() if v is not None}
    all_gold = sum(c["gold"] for c in tally.per_type.values())
    all_caught = sum(c["caught"] for c in tally.per_type.values())
    residual = tally.residual
    return {
        "n_utterances": len(scored),
        "n_gold": all_gold,
        "n_gold_direct": int(totals[1]),
        "n_predicted": int(totals[3]),
        "direct_recall": {"value": direct, "ci95": boot["direct"], "n": int(totals[1])},
        "recall_all_types": _ratio(all_caught, all_gold),
        "precision": {"value": precision, "ci95": boot["precision"], "n": int(totals[3])},
        "f2_direct": _f2(precision, direct),
        "per_type": _per_type(tally.per_type),
        "per_group": {
            g: {
                "direct_recall": {
                    "value": group_recall[g],
                    "ci95": boot["groups"][gi[g]],
                    "n": int(totals[5 + 2 * gi[g]]),
                },
                "person_recall": {
                    "value": _recall_of(tally.person_groups[g]),
                    "n": tally.person_groups[g]["gold"],
                },
            }
            for g in groups
        },
        "group_gap": _group_gap(present, boot),
        "person_recall_by_name_form": {
            form: {"value": _recall_of(c), "n": c["gold"]}
            for form, c in sorted(tally.per_form.items())
        },
        "over_redaction": _over_redaction(tally.keep_kinds),
        "residual": {
            "utterances_with_leak": residual["leak"],
            "leaks_blocked": _ratio(residual["leak_blocked"], residual["leak"]),
            "clean_blocked": _ratio(residual["clean_blocked"], residual["clean"]),
        },
        "goals_met": {
            "direct_recall": direct is not None and direct >= GOALS["direct_recall_min"],
            "every_group": bool(present)
            and min(present.values()) >= GOALS["group_direct_recall_min"],
            "precision": precision is not None and precision >= GOALS["precision_min"],
        },
    }


def _bootstrap(
    counts: np.ndarray, n_groups: int, rng: np.random.Generator, resamples: int
) -> dict[str, Any]:
    def interval(values: Iterable[float]) -> list[float] | None:
        arr = np.array([v for v in values if not np.isnan(v)])
        if arr.size == 0:
            return None
        return [float(np.percentile(arr, 2.5)), float(np.percentile(arr, 97.5))]

    n = counts.shape[0]
    if resamples <= 0 or n == 0:
        return {"direct": None, "precision": None, "groups": [None] * n_groups,
                "difference": None, "ratio": None}  # fmt: skip
    idx = rng.integers(0, n, size=(resamples, n))
    sums = np.stack([counts[i].sum(axis=0) for i in idx])  # resamples x columns
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = sums[:, 0] / sums[:, 1]
        precision = sums[:, 2] / sums[:, 3]
        group = sums[:, 4::2] / sums[:, 5::2]  # NaN where a group drew no span
        missing = np.isnan(group)
        none = missing.all(axis=1)
        best = np.where(none, np.nan, np.where(missing, -np.inf, group).max(axis=1))
        worst = np.where(none, np.nan, np.where(missing, np.inf, group).min(axis=1))
        ratio = worst / best
    return {
        "direct": interval(direct),
        "precision": interval(precision),
        "groups": [interval(group[:, k]) for k in range(n_groups)],
        "difference": interval(best - worst),
        "ratio": interval(ratio),
    }
