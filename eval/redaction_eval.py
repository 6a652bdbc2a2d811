"""How well redaction works, measured on the synthetic corpus in ``eval/redaction_corpus/``.

    .venv/bin/python -m eval.redaction_eval --out var/eval/redaction

writes ``results.json`` (every figure below, with the corpus sha256, the redaction config hash,
the spaCy model hash from ``assistant/model_store/manifest.yaml``, the git commit, the seed and the machine) and
prints a short markdown table. ``evaluate(redactor, corpus)`` is the same measurement as a
function, for tests and for other harnesses; it imports the redaction stage, never the app.

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
``tune`` (about 70%) or ``heldout`` (about 30%) (see ``eval/redaction_corpus/README.md``).
Tuning looks only at the tune split (``--show-misses`` prints tune-split misses and refuses the
held-out split); both are reported.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
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
    "CORPUS_PATH", "DIRECT_TYPES", "GOLD_TYPES", "MAX_GROUP_GAP", "Corpus", "CorpusError",
    "GoldSpan", "KeepSpan", "TextRedactor", "Utterance", "evaluate", "load_corpus", "markdown",
    "provenance",
]  # fmt: skip

ROOT = Path(__file__).resolve().parent.parent
SPACY_MODEL_ID = "en_core_web_sm-3.8.0"
SCHEMA = "caseassist.redaction_eval/1"

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


def _residual_blocked(redacted_text: str, mapping: PseudonymMap) -> bool:
    from assistant.redaction.redactor import residual_identifiers

    redacted = RedactedTranscript(
        segments=(RedactedSegment(id="u", start=0.0, end=1.0, text=redacted_text),),
        language="en",
        duration_s=1.0,
        entities=(),
        config_hash="eval",
    )
    return bool(residual_identifiers(redacted, mapping))


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
        scored.append(_score(utt, predicted, _residual_blocked(redacted_text, mapping)))

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


def _metrics(scored: list[_Scored], *, rng: np.random.Generator, resamples: int) -> dict[str, Any]:
    if not scored:
        return {"n_utterances": 0}
    groups = sorted(
        {_group_of(s.utt, g) for s in scored for g, _, _ in s.gold} | {s.utt.group for s in scored}
    )
    # per-utterance count vectors for the bootstrap: direct caught/total, pred correct/total,
    # then caught/total per group
    n_g = len(groups)
    gi = {g: i for i, g in enumerate(groups)}
    counts = np.zeros((len(scored), 4 + 2 * n_g))
    per_type: dict[str, Counter[str]] = defaultdict(Counter)
    per_form: dict[str, Counter[str]] = defaultdict(Counter)
    keep_kinds: dict[str, Counter[str]] = defaultdict(Counter)
    person_groups: dict[str, Counter[str]] = defaultdict(Counter)
    residual = Counter()
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

    boot = _bootstrap(counts, n_g, rng, resamples)
    totals = counts.sum(axis=0)
    direct = _ratio(totals[0], totals[1])
    precision = _ratio(totals[2], totals[3])
    group_recall = {g: _ratio(totals[4 + 2 * gi[g]], totals[5 + 2 * gi[g]]) for g in groups}
    present = {g: v for g, v in group_recall.items() if v is not None}
    best_g = max(present, key=present.get) if present else None
    worst_g = min(present, key=present.get) if present else None
    difference = present[best_g] - present[worst_g] if present else None
    ratio = _ratio(present[worst_g], present[best_g]) if present else None

    def recall_of(c: Counter[str]) -> float | None:
        return _ratio(c["caught"], c["gold"])

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
    n_keep = sum(c["n"] for c in keep_kinds.values())
    removed = sum(c["removed"] for c in keep_kinds.values())
    all_gold = sum(c["gold"] for c in per_type.values())
    all_caught = sum(c["caught"] for c in per_type.values())
    return {
        "n_utterances": len(scored),
        "n_gold": all_gold,
        "n_gold_direct": int(totals[1]),
        "n_predicted": int(totals[3]),
        "direct_recall": {"value": direct, "ci95": boot["direct"], "n": int(totals[1])},
        "recall_all_types": _ratio(all_caught, all_gold),
        "precision": {"value": precision, "ci95": boot["precision"], "n": int(totals[3])},
        "f2_direct": _f2(precision, direct),
        "per_type": types,
        "per_group": {
            g: {
                "direct_recall": {
                    "value": group_recall[g],
                    "ci95": boot["groups"][gi[g]],
                    "n": int(totals[5 + 2 * gi[g]]),
                },
                "person_recall": {
                    "value": recall_of(person_groups[g]),
                    "n": person_groups[g]["gold"],
                },
            }
            for g in groups
        },
        "group_gap": {
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
        },
        "person_recall_by_name_form": {
            form: {"value": recall_of(c), "n": c["gold"]} for form, c in sorted(per_form.items())
        },
        "over_redaction": {
            "rate": _ratio(removed, n_keep),
            "n_keep": n_keep,
            "removed": removed,
            "by_kind": {
                k: {"rate": _ratio(c["removed"], c["n"]), "n": c["n"]}
                for k, c in sorted(keep_kinds.items())
            },
        },
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


# --- provenance and the command ------------------------------------------------------------
def provenance(corpus: Corpus, *, config_dir: Path, seed: int, resamples: int) -> dict[str, Any]:
    from assistant.model_store.store import load_manifest
    from assistant.redaction.redactor import config_hash

    spec = load_manifest(ROOT / "assistant" / "model_store" / "manifest.yaml").models[SPACY_MODEL_ID]
    return {
        "schema": SCHEMA,
        "corpus": {"path": _relative(Path(corpus.path)), "sha256": corpus.sha256},
        "redaction_config_hash": config_hash(config_dir),
        "spacy_model": {"id": SPACY_MODEL_ID, "sha256": spec.main_sha256,
                        "source": "assistant/model_store/manifest.yaml (tree digest of the listed files)"},
        "git_commit": _git(["rev-parse", "HEAD"]),
        "git_worktree_dirty": _git(["diff-index", "--quiet", "HEAD", "--"], rc=True) == "1",
        "seed": seed,
        "bootstrap_resamples": resamples,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": _cpus(),
            "python": platform.python_version(),
        },
        "matching": MATCHING,
        "goals": GOALS,
        "higher_is_better": HIGHER_IS_BETTER,
    }  # fmt: skip


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _cpus() -> int | None:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _git(args: list[str], *, rc: bool = False) -> str | None:
    """Read-only git plumbing (rev-parse, diff-index): never changes the repository."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if rc:
        return str(done.returncode)
    return done.stdout.strip() or None if done.returncode == 0 else None


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _ci(ci: Sequence[float] | None) -> str:
    return "" if not ci else f" ({_pct(ci[0])}–{_pct(ci[1])})"


def markdown(results: dict[str, Any], names: Sequence[str] = ("tune", "heldout")) -> str:
    """A short table: headline figures for the given slices, then per type and per group."""
    sl = results["slices"]
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def row(label: str, get: Callable[[dict[str, Any]], str]) -> None:
        lines.append(f"| {label} | " + " | ".join(get(sl[n]) for n in names) + " |")

    row("utterances", lambda m: str(m["n_utterances"]))
    row(
        "direct-identifier recall % (95% CI)",
        lambda m: _pct(m["direct_recall"]["value"]) + _ci(m["direct_recall"]["ci95"]),
    )
    row(
        "precision % (95% CI)",
        lambda m: _pct(m["precision"]["value"]) + _ci(m["precision"]["ci95"]),
    )
    row("F2 (direct recall, precision) %", lambda m: _pct(m["f2_direct"]))
    row("recall, all gold types %", lambda m: _pct(m["recall_all_types"]))
    row("over-redaction of keep words %", lambda m: _pct(m["over_redaction"]["rate"]))
    row(
        "group gap (best−worst) pts",
        lambda m: (
            f"{_pct(m['group_gap']['difference'])} ({m['group_gap']['worst_group']})"
            + (" FLAGGED" if m["group_gap"]["flagged"] else "")
        ),
    )
    row(
        "worst/best group ratio",
        lambda m: f"{m['group_gap']['ratio']:.3f}" if m["group_gap"]["ratio"] is not None else "–",
    )
    row(
        "leaky utterances blocked by residual check %",
        lambda m: _pct(m["residual"]["leaks_blocked"]),
    )
    row(
        "clean utterances blocked by residual check %",
        lambda m: _pct(m["residual"]["clean_blocked"]),
    )
    types = sorted({t for n in names for t in sl[n]["per_type"]})
    lines += [
        "",
        "| type: recall / precision / type accuracy % | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for t in types:
        row(
            t,
            lambda m, t=t: "/".join(
                _pct(m["per_type"].get(t, {}).get(k))
                for k in ("recall", "precision", "type_accuracy")
            ),
        )
    groups = sorted({g for n in names for g in sl[n]["per_group"]})
    lines += [
        "",
        "| group: direct recall % (95% CI) | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for g in groups:
        row(
            g,
            lambda m, g=g: (
                _pct(m["per_group"][g]["direct_recall"]["value"])
                + _ci(m["per_group"][g]["direct_recall"]["ci95"])
                if g in m["per_group"]
                else "–"
            ),
        )
    tp = results["throughput"]
    lines += [
        "",
        f"throughput: {tp['words_per_second']} words/s over {tp['words']} words "
        f"({tp['utterances']} utterances, one call each)",
    ]
    return "\n".join(lines)  # fmt: skip


def _show_misses(redactor: TextRedactor, corpus: Corpus, out=sys.stderr) -> None:
    """Print tune-split misses and false positives, for tuning. Never the held-out split."""
    for utt in corpus.utterances:
        if utt.split != "tune":
            continue
        _, predicted, _ = redactor.redact_text(utt.text)
        s = _score(utt, predicted, blocked=False)
        misses = [
            f"{g.type}:{utt.text[g.start : g.end]!r}({cov:.2f})"
            for g, cov, _ in s.gold
            if cov < 1.0
        ]
        gold_mask = [False] * len(utt.text)
        for g in utt.spans:
            gold_mask[g.start : g.end] = [True] * (g.end - g.start)
        fps = [
            f"{p.entity_type}:{utt.text[p.start : p.end]!r}"
            for p in predicted
            if (pos := _alnum_positions(utt.text, p.start, p.end))
            and sum(gold_mask[i] for i in pos) / len(pos) < 0.5
        ]
        if misses or fps:
            print(f"{utt.id}: {utt.text}\n   MISS {misses}\n   FP   {fps}", file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json")
    parser.add_argument("--corpus", type=Path, default=CORPUS_PATH)
    parser.add_argument("--model", type=Path, default=ROOT / "var" / "models" / SPACY_MODEL_ID)
    parser.add_argument("--config", type=Path, default=None, help="redaction config folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument(
        "--show-misses", choices=["tune"], help="print tune-split misses to stderr (tuning aid)"
    )
    parser.add_argument(
        "--only", choices=["tune", "heldout"], help="evaluate one split only (tune while tuning)"
    )
    args = parser.parse_args(argv)

    from assistant.redaction.config import DEFAULT_CONFIG_DIR
    from assistant.redaction.redactor import Redactor, build_analyzer

    config_dir = args.config or DEFAULT_CONFIG_DIR
    corpus = load_corpus(args.corpus)
    if args.only:
        corpus = corpus.where(lambda u: u.split == args.only)
    redactor = Redactor(
        build_analyzer(spacy_model_path=args.model, config_dir=config_dir), config_dir=config_dir
    )
    if args.show_misses:
        _show_misses(redactor, corpus)
        return 0
    results = {
        **provenance(corpus, config_dir=config_dir, seed=args.seed, resamples=args.resamples),
        **evaluate(redactor, corpus, seed=args.seed, resamples=args.resamples),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(
        json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    names = [args.only] if args.only else ["tune", "heldout"]
    print(markdown(results, names))
    print(f"\nresults: {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
