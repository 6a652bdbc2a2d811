"""Term recall with and without the council vocabulary, and which way of giving it works.

One process, one run, configurations interleaved file by file (as in ``asr_vs_plain.py``):
the service's transcription with ``asr_vocabulary_mode`` off, ``hotwords`` and
``initial_prompt`` (and any option of ``asr_vs_plain.VARIANTS`` added with ``+``, e.g.
``hotwords+batched8``). Files: the term sentences and the scenario turns that use a term
(``eval/datasets/vocabulary_speech.py``, espeak-ng), the LibriVox clips (real speech with no
term in it: the vocabulary must not make ordinary speech worse) and, with ``--identifiers``,
the spoken-identifier sentences (``eval/datasets/spoken_identifiers``: names spelt, dates of
birth, numbers; no term said). Prints term recall (hits / occurrences of the council list's
terms in the references), terms written that were not said (``invented``, over every file),
WER on the term speech and on LibriVox, and real-time factor.

    PYTHONPATH=. .venv/bin/python benchmarks/asr_vocabulary.py --profile default \\
        [--configs off,hotwords,initial_prompt]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.bootstrap import set_offline  # noqa: E402

set_offline()

from benchmarks.asr_vs_plain import VARIANTS  # noqa: E402
from eval.datasets import speech  # noqa: E402
from eval.datasets.recordings import librivox_clips  # noqa: E402
from eval.datasets.vocabulary_speech import TermItem, scenario_items, sentence_items  # noqa: E402
from eval.provenance import git_commit, machine  # noqa: E402
from eval.scoring import terms as term_scoring  # noqa: E402
from eval.scoring.wer import NORMALISATION_VERSION, error_counts  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="default", choices=["test", "default"])
    ap.add_argument("--configs", default="off,hotwords,initial_prompt")
    ap.add_argument("--scenarios", type=int, default=6, help="scenario items (0: none)")
    ap.add_argument("--label", default="")
    ap.add_argument(
        "--identifiers", action="store_true", help="add the spoken-identifier sentences"
    )
    args = ap.parse_args()

    from assistant.model_store import resolve_models
    from assistant.pipeline import transcribe_options
    from assistant.settings import Settings
    from assistant.transcription.whisper import Transcriber, load_whisper

    settings = Settings(profile=args.profile)
    resolved = resolve_models(settings, roles=("asr",))
    model = load_whisper(
        resolved.asr_path,
        device=settings.device,
        compute_type=settings.compute_type,
        cpu_threads=settings.asr_threads,
    )
    base = transcribe_options(settings)
    vocabulary = base.council_terms
    runners = {}
    for name in args.configs.split(","):
        mode, *extra = name.split("+")
        change: dict[str, Any] = {"vocabulary_mode": mode}
        for e in extra:
            change |= VARIANTS[e]
        options = dataclasses.replace(base, **change)
        runners[name] = Transcriber(model, model_ref=resolved.asr, options=options)

    term_items = sentence_items()
    if args.scenarios:
        term_items += scenario_items(vocabulary, max_items=args.scenarios)
    plain_items = [TermItem(cid, speech.read_wav(wav), ref) for cid, wav, ref in librivox_clips()]
    if args.identifiers:
        from eval.datasets import spoken_identifiers

        said = spoken_identifiers.load()
        plain_items += [
            TermItem(s.id, speech.speak(s.spoken, voice=said.voice(i)), s.text)
            for i, s in enumerate(said.sentences)
        ]
    rows = run(term_items, plain_items, runners)
    summary = summarise(rows, list(runners), vocabulary)
    print_summary(summary, term_items, plain_items, resolved, settings)
    write(args, summary, rows, resolved, settings, term_items, plain_items)


def run(term_items, plain_items, runners) -> list[dict[str, Any]]:
    names = list(runners)
    for name in names:  # untimed warm-up
        runners[name].transcribe(term_items[0].pcm[: 5 * speech.SAMPLE_RATE], language="en")
    rows = []
    for k, (kind, item) in enumerate(
        [("terms", i) for i in term_items]
        + [("librivox" if i.id.startswith("sense_") else "identifiers", i) for i in plain_items]
    ):
        for name in names[k % len(names) :] + names[: k % len(names)]:
            t0 = time.perf_counter()
            t = runners[name].transcribe(item.pcm, language="en")
            wall = time.perf_counter() - t0
            text = " ".join(s.text for s in t.segments)
            c = error_counts(item.reference, text)
            rows.append(
                {
                    "config": name,
                    "kind": kind,
                    "item": item.id,
                    "audio_s": round(item.seconds, 2),
                    "wall_s": round(wall, 3),
                    "errors": c["substitutions"] + c["deletions"] + c["insertions"],
                    "words": c["reference_words"],
                    "reference": item.reference,
                    "hypothesis": text,
                }
            )
            print(f"  {item.id:<24} {name:<20} {wall:6.1f}s", file=sys.stderr)
    return rows


def summarise(rows, configs, vocabulary) -> dict[str, Any]:
    out = {}
    for c in configs:
        mine = [r for r in rows if r["config"] == c]
        terms = [r for r in mine if r["kind"] == "terms"]
        libri = [r for r in mine if r["kind"] == "librivox"]
        hits, total, per_term = term_scoring.recall(
            [(r["reference"], r["hypothesis"]) for r in terms], vocabulary
        )
        made_up, made_up_terms = term_scoring.invented(
            [(r["reference"], r["hypothesis"]) for r in mine], vocabulary
        )
        out[c] = {
            "term_recall": hits / total if total else None,
            "term_hits": hits,
            "term_occurrences": total,
            "per_term": per_term,
            "invented": made_up,
            "invented_per_term": made_up_terms,
            "wer_term_speech": _wer(terms),
            "wer_librivox": _wer(libri),
            "wer_all": _wer(mine),
            "rtf": sum(r["wall_s"] for r in mine) / sum(r["audio_s"] for r in mine),
        }
    return out


def _wer(rows) -> float | None:
    words = sum(r["words"] for r in rows)
    return sum(r["errors"] for r in rows) / words if words else None


def print_summary(summary, term_items, plain_items, resolved, settings) -> None:
    m = machine()
    secs = sum(i.seconds for i in term_items), sum(i.seconds for i in plain_items)
    clips = sum(1 for i in plain_items if i.id.startswith("sense_"))
    print(
        f"\n{len(term_items)} term items ({secs[0]:.0f} s), {clips} LibriVox clips and "
        f"{len(plain_items) - clips} identifier sentences ({secs[1]:.0f} s); "
        f"model {resolved.asr.name}, {settings.asr_threads} threads; "
        f"{m['cpu_model']}; interleaved, one run"
    )
    print(
        f"{'configuration':<24}{'recall':>14}{'invented':>10}{'WER terms':>11}"
        f"{'WER LibriVox':>14}{'RTF':>8}"
    )
    for c, s in summary.items():
        rec = f"{s['term_hits']}/{s['term_occurrences']} {s['term_recall']:.3f}"
        print(
            f"{c:<24}{rec:>14}{s['invented']:>10}{s['wer_term_speech']:>11.3f}"
            f"{(s['wer_librivox'] or 0):>14.3f}{s['rtf']:>8.3f}"
        )
    for c, s in summary.items():
        missed = {t: v for t, v in s["per_term"].items() if v[0] < v[1]}
        print(f"missed with {c}: {missed}")
        print(f"invented with {c}: {s['invented_per_term']}")


def write(args, summary, rows, resolved, settings, term_items, plain_items) -> None:
    day = datetime.now(UTC).date().isoformat()
    folder = REPO / "eval" / "results" / day / f"asr-vocabulary{args.label}"
    folder.mkdir(parents=True, exist_ok=True)
    from assistant.transcription.vocabulary import load_vocabulary

    vocab = load_vocabulary(settings.asr_vocabulary_path)
    result = {
        "benchmark": "asr_vocabulary",
        "command": " ".join(sys.argv),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "machine": machine(),
        "interleaved": True,
        "runs": 1,
        "model": resolved.asr.model_dump(),
        "profile": settings.profile,
        "vocabulary": {"version": vocab.version, "sha256": vocab.sha256, "terms": len(vocab.terms)},
        "wer_normalisation_version": NORMALISATION_VERSION,
        "higher_is_better": ["term_recall"],
        "lower_is_better": ["invented", "wer_term_speech", "wer_librivox", "wer_all", "rtf"],
        "files": [
            {"id": i.id, "audio_s": round(i.seconds, 2)} for i in [*term_items, *plain_items]
        ],
        "summary": summary,
        "items": rows,
    }
    (folder / "results.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"wrote {folder / 'results.json'}")


if __name__ == "__main__":
    main()
