"""Draft the notes-suite scenarios again and compare each note with its kept v4 draft.

A change that should not alter what the service drafts (a refactor, a new layout) is checked
here: every scenario's transcript is redacted and drafted with the current code and settings,
and the note (statements, evidence, provenance and review) must equal, field for field, the
note kept when the released v4 results were made
(``eval/results/2026-11-23/notes-default-v4-sections/drafts``). Those were drafted with the
whole context window, on a 2-core AMD EPYC: run this with the same settings, on the same kind
of processor (llama.cpp built for another one may round differently)::

    CASEASSIST_PROFILE=default CASEASSIST_LLM_CHUNK_TOKENS=0 .venv/bin/python \\
        benchmarks/same_drafts.py [--items cin-001,cp-002] [--out FILE]

Prints one line a scenario (same / DIFFERENT and where) and exits 1 if any differs.

The kept v4 drafts are older than some later fixes to how statements are built (2479e3c: a
short first segment's question), so the code as it was before a change can differ from them
too. To compare two versions of the code with each other, draft with the first and keep its
notes (``--save DIR``), then draft with the second and compare with those (``--against DIR``);
the script runs on the layout before issue 22 as well. With the small test model
(``CASEASSIST_PROFILE=test``) all 34 scenarios take minutes, not the hour the default takes.

Only one of the two sides needs the model: ``benchmarks/llm_tap`` records every chat request
and answer (``LLMTAP_MODE=record``) and answers them again (``LLMTAP_MODE=replay``), logging
any request it has not seen to ``misses.log``. The old code, drafting for real::

    CASEASSIST_PROFILE=default CASEASSIST_LLM_CHUNK_TOKENS=0 LLMTAP_MODE=record \
        LLMTAP_DIR=/tmp/tap PYTHONPATH=$PWD:$NEW/benchmarks/llm_tap \
        .venv/bin/python benchmarks/same_drafts.py --save /tmp/old-drafts

then the new code with ``LLMTAP_MODE=replay`` and ``--against /tmp/old-drafts``: no miss and
every note the same means the new code sent the model the same requests and turned the same
answers into the same notes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

KEPT = REPO / "eval/results/2026-11-23/notes-default-v4-sections/drafts"


def differences(a: Any, b: Any, path: str = "note") -> list[str]:
    """Every path at which two JSON values differ; empty when they are equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d
            for k in sorted(set(a) | set(b))
            for d in differences(a.get(k), b.get(k), f"{path}.{k}")
        ]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def load_scenarios_any():
    """The scenarios, from the evaluation layout of issue 22 or the one before it."""
    try:
        from eval.datasets.scenarios import load_scenarios
    except ImportError:
        from eval.scenarios import load_scenarios  # before issue 22
    return load_scenarios()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", help="comma-separated scenario ids (default: all kept)")
    parser.add_argument("--out", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--save", type=Path, help="keep each drafted note here (ITEM.json)")
    parser.add_argument(
        "--against", type=Path, help="compare with notes kept by --save (default: kept v4)"
    )
    args = parser.parse_args()

    try:
        from assistant.model_store import resolve_models
    except ImportError:
        from assistant.model_store.store import resolve_models
    from assistant.pipeline import Engines, draft_note, redact_transcript
    from assistant.settings import Settings
    from eval.suites import notes as N

    kept = {}
    for path in sorted((args.against or KEPT).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        kept[data["item"]] = data
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    engines = Engines.load(settings, resolve_models(settings))
    wanted = set(args.items.split(",")) if args.items else None
    rows = []
    for sc in load_scenarios_any():
        if (wanted is not None and sc.id not in wanted) or sc.id not in kept and not args.save:
            continue
        redacted, _mapping = redact_transcript(engines, N.scenario_transcript(sc))
        t0 = time.perf_counter()
        note = draft_note(engines, redacted, template="visit_note")
        seconds = time.perf_counter() - t0
        drafted = note.model_dump(mode="json")
        if args.save:
            (args.save / f"{sc.id}.json").write_text(
                json.dumps({"item": sc.id, "note": drafted}, indent=1, ensure_ascii=False)
            )
        other = kept.get(sc.id, {}).get("note", {})
        diffs = differences(drafted, other)
        same_sections = drafted["sections"] == other.get("sections")
        rows.append(
            {
                "item": sc.id,
                "same": not diffs,
                "same_sections": same_sections,
                "differences": diffs,
                "seconds": seconds,
            }
        )
        verdict = (
            "same"
            if not diffs
            else f"DIFFERENT (sections {'same' if same_sections else 'differ'}): "
            + "; ".join(diffs[:5])
        )
        print(f"{sc.id}: {verdict} ({seconds:.0f} s)", flush=True)
    same = sum(r["same"] for r in rows)
    reference = args.against or "the kept v4 drafts"
    print(f"{same} of {len(rows)} notes identical to {reference}")
    if args.out:
        args.out.write_text(json.dumps({"rows": rows, "same": same, "total": len(rows)}, indent=1))
    return 0 if same == len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
