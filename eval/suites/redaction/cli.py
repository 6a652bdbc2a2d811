"""The redaction corpus scorer as a command of its own:

    .venv/bin/python -m eval.suites.redaction --out var/eval/redaction

writes ``results.json`` (``evaluate``'s figures beside ``provenance``: the corpus sha256, the
redaction config hash, the spaCy model hash, the git commit, the seed and the machine) and
prints a short markdown table (``markdown``). ``--show-misses tune`` prints the tune split's
misses for tuning, and refuses the held-out split. The rules are in ``scorer.py``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eval.paths import ROOT
from eval.suites.redaction.scorer import (
    CORPUS_PATH,
    GOALS,
    HIGHER_IS_BETTER,
    MATCHING,
    Corpus,
    TextRedactor,
    _alnum_positions,
    _score,
    evaluate,
    load_corpus,
)

SPACY_MODEL_ID = "en_core_web_sm-3.8.0"
SCHEMA = "caseassist.redaction_eval/1"
DESCRIPTION = "How well redaction works, measured on the synthetic redaction corpus."


def provenance(corpus: Corpus, *, config_dir: Path, seed: int, resamples: int) -> dict[str, Any]:
    from assistant.model_store.store import load_manifest
    from assistant.redaction.redactor import config_hash

    manifest = load_manifest(ROOT / "assistant" / "model_store" / "manifest.yaml")
    spec = manifest.models[SPACY_MODEL_ID]
    return {
        "schema": SCHEMA,
        "corpus": {"path": _relative(Path(corpus.path)), "sha256": corpus.sha256},
        "redaction_config_hash": config_hash(config_dir),
        "spacy_model": {"id": SPACY_MODEL_ID, "sha256": spec.main_sha256,
                        "source": "assistant/model_store/manifest.yaml "
                                  "(tree digest of the listed files)"},
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
    parser = argparse.ArgumentParser(
        prog="python -m eval.suites.redaction", description=DESCRIPTION
    )
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
