"""PriMock57 consultations that a drafting chunk cap splits, drafted with the cap and scored as
the notes suite scores them, beside the default (whole-context) v4 notes' own figures.

``CASEASSIST_LLM_CHUNK_TOKENS=4096`` drafted the 60-minute visit in 0.83 of the time with the
same critical facts (README, Measured performance); it also splits 30 of the 57 PriMock57
consultations, each of whose segments is then sorted with less of the consultation before it.
This drafts exactly those (the ones the drafter plans in more than one chunk under the cap),
prints per consultation the chunks, drafting seconds, checklist critical items recalled,
statements and statements flagged unsupported, each beside the whole-context note's figure from
``eval/results/2026-11-24/notes-default-v4-primock57`` (the released v4), and a running total.
A quality check, not a timing: the whole-context notes were drafted on other days.

    CASEASSIST_PROFILE=default .venv/bin/python benchmarks/chunk_primock.py [--chunk-tokens 4096]

``--list`` only names the consultations the cap splits and counts them (no drafting);
``--scenarios`` does the same for the synthetic scenarios the cap splits, with their own
figures (critical facts, the child's words kept as quotes). ``--out FILE`` also writes every
row, the totals and the machine as JSON; ``--start ID`` drafts only from that consultation on
(to finish a run that was stopped).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
WHOLE = REPO / "eval/results/2026-11-24/notes-default-v4-primock57/results.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-tokens", type=int, default=4096)
    parser.add_argument("--list", action="store_true", help="name the split ones; draft nothing")
    parser.add_argument("--out", type=Path, help="also write the rows and totals as JSON here")
    parser.add_argument("--start", help="the first consultation to draft: day2_consultation06")
    parser.add_argument("--scenarios", action="store_true", help="the scenarios, not PriMock57")
    args = parser.parse_args()
    os.environ["CASEASSIST_LLM_CHUNK_TOKENS"] = str(args.chunk_tokens)

    from assistant.model_store.store import resolve_models
    from assistant.pipeline import Engines, redact_transcript
    from assistant.settings import Settings
    from eval.datasets import primock57 as primock
    from eval.suites import notes as N

    settings = Settings()
    engines = Engines.load(settings, resolve_models(settings))
    table = json.loads(WHOLE.read_text())["suites"]["notes"]["details"]["tables"]["visits"]
    whole = {row[0]: dict(zip(table["columns"], row, strict=True)) for row in table["rows"]}
    drafter = engines.drafter("visit_note")
    if args.scenarios:
        scenarios(engines, drafter, whole, table["columns"], args)
        return
    root = primock.find_primock_dir()
    if root is None:
        sys.exit("PriMock57 not found (shared/data/primock57 beside the checkout)")
    consultations = primock.load_consultations(root)
    ids = [c.id for c in consultations]
    if args.start is not None and args.start not in ids:
        sys.exit(f"no consultation {args.start!r}")
    split = []
    rows: list[dict] = []
    for c in consultations:
        transcript = c.transcript()
        redacted, mapping = redact_transcript(engines, transcript)
        chunks = drafter.chunks(redacted)
        if len(chunks) < 2:
            continue
        split.append(c.id)
        if args.list:
            print(f"{c.id}: {len(chunks)} chunks", flush=True)
            continue
        if args.start is not None and ids.index(c.id) < ids.index(args.start):
            continue
        drafted = timed_draft(engines, c.id, transcript, redacted, mapping)
        note, seconds = drafted.note, drafted.seconds
        scored = N.score_consultation(c, drafted)
        critical = [r for _, is_critical, r in scored.checklist if is_critical]
        w = whole[c.id]
        unsupported = sum(N.is_unsupported(st) for st in note.all_statements())
        rows.append(
            {
                "consultation": c.id,
                "chunks": len(chunks),
                "seconds": round(seconds, 1),
                "critical_recalled": sum(critical),
                "critical_items": len(critical),
                "critical_recalled_whole": int(w["checklist critical recalled"].split("/")[0]),
                "statements": len(note.all_statements()),
                "statements_whole": w["statements"],
                "unsupported": unsupported,
                "unsupported_whole": w["unsupported"],
            }
        )
        print(
            f"{c.id}: {len(chunks)} chunks, {seconds:.0f} s, critical {sum(critical)}/"
            f"{len(critical)} (whole context {w['checklist critical recalled']}), statements "
            f"{len(note.all_statements())} (whole {w['statements']}), unsupported {unsupported} "
            f"(whole {w['unsupported']})",
            flush=True,
        )
        t = totals(rows)
        print(
            f"  running total: chunked {t['critical_recalled']}/{t['critical_items']}, whole "
            f"{t['critical_recalled_whole']}/{t['critical_items']}, unsupported {t['unsupported']}",
            flush=True,
        )

    print(
        f"{len(split)} of {len(consultations)} consultations split by a "
        f"{args.chunk_tokens}-token cap"
    )
    if args.out is not None and not args.list:
        write_json(
            args,
            split=split,
            start=args.start,
            consultations=len(consultations),
            rows=rows,
            totals=totals(rows),
        )


def totals(rows: list[dict]) -> dict[str, float]:
    """The rows' figures summed (all but the consultation and its chunks)."""
    if not rows:
        return {}
    return {k: sum(r[k] for r in rows) for k in rows[0] if k not in ("consultation", "chunks")}


def write_json(args: argparse.Namespace, **fields) -> None:
    """``--out``: the run's fields, with the cap, the whole-context source and the machine."""
    from eval.harness import machine

    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "chunk_tokens": args.chunk_tokens,
        "whole_context_results": str(WHOLE.relative_to(REPO)),
        "machine": machine(),
    }
    args.out.write_text(json.dumps(record | fields, indent=1) + "\n")


def timed_draft(engines, item: str, transcript, redacted, mapping):
    """The note of ``redacted`` as the notes suite holds it (``notes.Drafted``), timed."""
    from assistant.pipeline import draft_note
    from eval.suites import notes as N

    t0 = time.perf_counter()
    note = draft_note(engines, redacted, template="visit_note")
    return N.Drafted(item, transcript, redacted, mapping, note, None, time.perf_counter() - t0)


def scenarios(
    engines, drafter, whole: dict[str, dict], columns: list[str], args: argparse.Namespace
) -> None:
    """The scenarios the cap splits, drafted with it and scored as the notes suite scores them,
    each beside its whole-context row of the released v4 results."""
    from assistant.pipeline import redact_transcript
    from eval.datasets.scenarios import load_scenarios
    from eval.suites import notes as N

    compared = ("critical facts recalled", "child quotes kept", "statements", "unsupported")
    loaded = load_scenarios()
    rows = []
    for sc in loaded:
        transcript = N.scenario_transcript(sc)
        redacted, mapping = redact_transcript(engines, transcript)
        chunks = drafter.chunks(redacted)
        if len(chunks) < 2:
            continue
        if args.list:
            print(f"{sc.id}: {len(chunks)} chunks", flush=True)
            rows.append({"scenario": sc.id, "chunks": len(chunks)})
            continue
        drafted = timed_draft(engines, sc.id, transcript, redacted, mapping)
        seconds = drafted.seconds
        scored = N.score_scenario(sc, drafted)
        row = dict(zip(columns, N.visit_row(scored), strict=True))
        rows.append(
            {"scenario": sc.id, "chunks": len(chunks), "seconds": round(seconds, 1)}
            | {k: row[k] for k in compared}
            | {f"{k} (whole)": whole[sc.id][k] for k in compared}
        )
        print(
            f"{sc.id}: {len(chunks)} chunks, {seconds:.0f} s, "
            + ", ".join(f"{k} {row[k]} (whole {whole[sc.id][k]})" for k in compared),
            flush=True,
        )
    print(f"{len(rows)} of {len(loaded)} scenarios split by a {args.chunk_tokens}-token cap")
    if args.out is not None and not args.list:
        write_json(args, scenarios=len(loaded), rows=rows)


if __name__ == "__main__":
    main()
