"""Batched-question benchmark: a classify draft that asks about a run of consecutive segments in
one call (``batch: 8``) against one call per segment (``visit_note`` v4, the reference).

The batched template is an experiment, not a released version: it lives beside this script in
``benchmarks/prompts/visit_note/v5`` (v4 with rule 1, the output paragraph and the question
asking about "segments [12] to [19]", answered with a list of keys), so the service never loads
it. Measured on 2026-11-24 it was faster and sorted worse: see README, Measured performance.

Both versions read the transcript block once (the first call) and then ask their questions
after it. This drafts the first ``--segments`` segments of the long visit of
:mod:`eval.datasets.long_visit` (redacted as the service does) once with each version on the
configured profile's model, each from an empty cache, and prints from that one run: the draft time,
the calls, the first call's prompt-eval time (reading the block), the time per segment after that
read, llama.cpp's prompt and decode tokens after the first call, the ratio v5/v4, how many
segments each left out of the note (``none``), the child's among them, and how many segments
the two put in the same section. ``--batch N`` overrides the experiment's run length.

    CASEASSIST_PROFILE=default .venv/bin/python benchmarks/batch_bench.py [--segments 60]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXPERIMENTS = Path(__file__).resolve().parent / "prompts"
"""Template versions tried here and not released (loaded with ``root=``)."""
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ask_bench import _draft, _sections  # noqa: E402
from classify_call_bench import long_visit_start  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--segments", type=int, default=60, help="segments of the long visit drafted"
    )
    parser.add_argument("--batch", type=int, help="segments a v5 question asks about")
    args = parser.parse_args()

    from assistant.drafting.templates import load_template
    from assistant.model_store.store import resolve_models
    from assistant.pipeline import Engines
    from assistant.settings import Settings

    settings = Settings()
    engines = Engines.load(settings, resolve_models(settings))
    redacted, words = long_visit_start(engines, args.segments)
    n = len(redacted.segments)
    v5 = load_template("visit_note", "v5", root=EXPERIMENTS)
    if args.batch:
        v5 = v5.model_copy(update={"batch": args.batch})
    print(
        f"model: {engines.models.llm.name} ({settings.profile} profile), "
        f"{settings.llm_threads} threads; first {n} segments of the long visit ({words} words)"
    )
    runs = {
        "v4 (reference: one call a segment)": _draft(
            engines, redacted, load_template("visit_note", "v4")
        ),
        f"v5 (ours: {v5.batch} segments a call)": _draft(engines, redacted, v5),
    }
    after: dict[str, float] = {}
    for name, (_, seconds, calls) in runs.items():
        first, rest = calls[0], calls[1:]
        after[name] = (seconds - first["prompt_s"]) / n
        print(f"\n== {name}")
        print(
            f"  draft {seconds:.1f} s, {len(calls)} calls; the first call read "
            f"{first['prompt_tokens']} tokens in {first['prompt_s']:.1f} s "
            f"({first['prompt_tokens'] / first['prompt_s']:.1f} tokens/s)"
        )
        print(
            f"  after that read: {after[name]:.3f} s a segment; later calls read "
            f"{sum(c['prompt_tokens'] for c in rest)} prompt tokens and generated "
            f"{sum(c['decode_tokens'] for c in calls)} tokens in all"
        )
    (ref_note, ref_s, _), (our_note, our_s, _) = runs.values()
    ref_after, our_after = after.values()
    print(
        f"\nratio v5/v4: draft time {our_s / ref_s:.2f}, "
        f"time a segment after the block is read {our_after / ref_after:.2f}"
    )
    a, b = _sections(ref_note), _sections(our_note)
    segments = [s.id for s in redacted.segments]
    child = [s.id for s in redacted.segments if s.speaker == "Child"]
    for name, placed in zip(runs, (a, b), strict=True):
        left = [s for s in segments if s not in placed]
        print(
            f"{name}: {len(left)} of {len(segments)} segments left out (none), "
            f"{sum(s in left for s in child)} of the child's {len(child)}"
        )
    same = sum(a.get(s, "none") == b.get(s, "none") for s in segments)
    print(f"segments in the same section: {same} of {len(segments)}")


if __name__ == "__main__":
    main()
