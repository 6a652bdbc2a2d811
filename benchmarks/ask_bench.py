"""Ask-by-number benchmark: what a classify call costs when the segment asked about is named by
its number (``ask: id``, ``visit_note`` v4) instead of shown again as its line (v3).

Both versions read the transcript block once and then ask about every segment in turn; only the
question after the block differs. This drafts the first ``--segments`` segments of the long
visit of :mod:`eval.datasets.long_visit` (redacted as the service does) once with each version on
the configured profile's model, each from an empty cache, and prints from that one run each
version's draft time and, per call after the first (the first reads the block), seconds,
llama.cpp's prompt-eval seconds and tokens and its decode seconds and tokens; then the ratio
v4/v3 and how many segments the two versions put in the same section (the notes suite, not
this, says which sorting is better).

    CASEASSIST_PROFILE=default .venv/bin/python benchmarks/ask_bench.py [--segments 60]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from classify_call_bench import _draft as _draft_with  # noqa: E402
from classify_call_bench import long_visit_start  # noqa: E402


def _draft(engines: Any, redacted: Any, version: Any) -> tuple[Any, float, list[dict]]:
    """One draft of ``redacted`` with ``version`` (a visit_note version, or a loaded template),
    answers read as the service reads them."""
    from assistant.drafting.drafter import LABEL_PEEK_TOKENS

    return _draft_with(engines, redacted, LABEL_PEEK_TOKENS, version)


def _sections(note: Any) -> dict[str, str]:
    return {e: s.key for s in note.sections for st in s.statements for e in st.evidence}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--segments", type=int, default=60, help="segments of the long visit drafted"
    )
    args = parser.parse_args()

    from assistant.model_store.store import resolve_models
    from assistant.pipeline import Engines
    from assistant.settings import Settings

    settings = Settings()
    engines = Engines.load(settings, resolve_models(settings))
    redacted, words = long_visit_start(engines, args.segments)
    print(
        f"model: {engines.models.llm.name} ({settings.profile} profile), "
        f"{settings.llm_threads} threads; first {len(redacted.segments)} segments of the long "
        f"visit ({words} words)"
    )
    runs = {
        "v3 (reference: the segment's line)": _draft(engines, redacted, "v3"),
        "v4 (ours: the segment's number)": _draft(engines, redacted, "v4"),
    }
    per_call = {}
    for name, (_, seconds, calls) in runs.items():
        rest = calls[1:]

        def mean(key: str, rest: list[dict] = rest) -> float:
            return sum(c[key] for c in rest) / len(rest)

        per_call[name] = mean("seconds")
        print(f"\n== {name}")
        print(
            f"  draft {seconds:.1f} s, {len(calls)} calls; the first (reads the block) "
            f"{calls[0]['seconds']:.1f} s for {calls[0]['prompt_tokens']} tokens"
        )
        print(
            f"  per later call: {mean('seconds'):.3f} s = prompt eval {mean('prompt_s'):.3f} s "
            f"({mean('prompt_tokens'):.1f} tokens) + decode {mean('decode_s'):.3f} s "
            f"({mean('decode_tokens'):.1f} tokens)"
        )
    (ref_note, ref_s, _), (our_note, our_s, _) = runs.values()
    ref_calls, our_calls = per_call.values()
    print(
        f"\nratio v4/v3: draft time {our_s / ref_s:.2f}, per later call {our_calls / ref_calls:.2f}"
    )
    a, b = _sections(ref_note), _sections(our_note)
    segments = [s.id for s in redacted.segments]
    same = sum(a.get(s, "none") == b.get(s, "none") for s in segments)
    print(f"segments in the same section: {same} of {len(segments)}")


if __name__ == "__main__":
    main()
