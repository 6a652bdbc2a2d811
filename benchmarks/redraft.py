"""Draft some notes-suite visits again with the current code and settings, scored as the notes
suite scores them, each beside its row in the released v4 results.

For a change that alters what some visits' notes are drafted from (a redaction rule, say) the
whole notes suite need not be run again to see its effect: ``--changed`` picks the scenarios and
PriMock57 consultations whose redacted transcript is no longer the one their kept v4 draft was
made from (the drafts store's key, :class:`eval.draft_store.DraftStore`, is a hash of the
drafting identity and the redacted transcript's digest, so a kept draft whose key the current
redaction no longer gives was drafted from other text). ``--items`` names them instead.
``--list`` names them and drafts nothing.

The released v4 rows (``eval/results/2026-11-24/notes-default-v4-primock57``) were drafted with
the whole context window; run this with ``CASEASSIST_LLM_CHUNK_TOKENS=0`` to compare like with
like. A quality check, not a timing: the released notes were drafted on other days. ``--drafts
DIR`` keeps the notes drafted (and scores those already kept there without drafting them again:
their seconds are then 0).

    CASEASSIST_PROFILE=default CASEASSIST_LLM_CHUNK_TOKENS=0 .venv/bin/python \\
        benchmarks/redraft.py --changed [--list] [--out FILE] [--drafts DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from chunk_primock import timed_draft  # noqa: E402

RELEASED = REPO / "eval/results/2026-11-24/notes-default-v4-primock57/results.json"
KEPT = (
    REPO / "eval/results/2026-11-23/notes-default-v4-sections/drafts",
    REPO / "eval/results/2026-11-23/notes-default-v4-primock31/drafts",
    REPO / "eval/results/2026-11-24/notes-default-v4-primock57/drafts",
)
"""The kept v4 drafts the released rows were scored from: 34 scenarios, 31 + 26 consultations."""
COMPARED = (
    "statements",
    "unsupported",
    "critical facts recalled",
    "facts recalled",
    "child quotes kept",
    "checklist critical recalled",
    "note tokens",
)


def kept_drafts() -> dict[str, dict]:
    """Item id -> its kept draft file's content (the last of :data:`KEPT` that holds it)."""
    kept: dict[str, dict] = {}
    for folder in KEPT:
        for path in sorted(folder.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            kept[data["item"]] = data
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--items", help="comma-separated scenario or consultation ids")
    which.add_argument(
        "--changed", action="store_true", help="those whose redacted transcript changed"
    )
    parser.add_argument("--list", action="store_true", help="name them; draft nothing")
    parser.add_argument("--out", type=Path, help="also write the rows and totals as JSON here")
    parser.add_argument(
        "--drafts", type=Path, help="keep the notes here (and reuse those already kept)"
    )
    args = parser.parse_args()

    from assistant.model_store.store import resolve_models
    from assistant.pipeline import Engines, redact_transcript
    from assistant.settings import Settings
    from eval.datasets import primock57 as primock
    from eval.datasets.scenarios import load_scenarios
    from eval.draft_store import DraftStore
    from eval.draft_store import identity as draft_identity
    from eval.suites import notes as N

    settings = Settings()
    engines = Engines.load(settings, resolve_models(settings))
    table = json.loads(RELEASED.read_text())["suites"]["notes"]["details"]["tables"]["visits"]
    released = {row[0]: dict(zip(table["columns"], row, strict=True)) for row in table["rows"]}
    kept = kept_drafts()
    store = (
        None
        if args.drafts is None
        else DraftStore(args.drafts, draft_identity(settings, engines, "visit_note"))
    )

    visits: list[tuple[str, object, object, object]] = [
        (s.id, s, N.scenario_transcript(s), N.score_scenario) for s in load_scenarios()
    ]
    root = primock.find_primock_dir()
    if root is not None:
        visits += [
            (c.id, c, c.transcript(), N.score_consultation)
            for c in primock.load_consultations(root)
        ]
    wanted = set(args.items.split(",")) if args.items else None
    rows: list[dict] = []
    for item, gold, transcript, score in visits:
        if wanted is not None and item not in wanted:
            continue
        redacted, mapping = redact_transcript(engines, transcript)
        if args.changed:
            draft = kept[item]
            released_store = DraftStore(REPO, draft["identity"])
            if released_store.key(N.redacted_digest(redacted)) == draft["key"]:
                continue
        if args.list:
            print(item, flush=True)
            rows.append({"item": item})
            continue
        digest = N.redacted_digest(redacted)
        note = store.get(digest) if store is not None else None
        if note is None:
            drafted = timed_draft(engines, item, transcript, redacted, mapping)
            if store is not None:
                store.put(digest, item, drafted.note, drafted.seconds)
        else:
            drafted = N.Drafted(item, transcript, redacted, mapping, note, None, 0.0, reused=True)
        row = dict(zip(table["columns"], N.visit_row(score(gold, drafted)), strict=True))
        before = released[item]
        rows.append(
            {"item": item, "seconds": round(drafted.seconds, 1)}
            | {k: row[k] for k in COMPARED}
            | {f"{k} (released)": before[k] for k in COMPARED}
        )
        print(
            f"{item}: {drafted.seconds:.0f} s, "
            + ", ".join(f"{k} {row[k]} (released {before[k]})" for k in COMPARED),
            flush=True,
        )
    print(f"{len(rows)} visits")
    if args.out is not None and not args.list:
        from eval.draft_store import drafting_settings
        from eval.harness import machine

        args.out.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "released": str(RELEASED.relative_to(REPO)),
            "settings": drafting_settings(settings),
            "machine": machine(),
            "rows": rows,
            "totals": totals(rows),
        }
        args.out.write_text(json.dumps(record, indent=1) + "\n")


def totals(rows: list[dict]) -> dict[str, str]:
    """Each compared "a/b" figure summed over the rows, now and released."""
    out: dict[str, str] = {}
    for k in COMPARED:
        for col in (k, f"{k} (released)"):
            pairs = [r[col] for r in rows if isinstance(r.get(col), str) and "/" in r[col]]
            if pairs:
                num = sum(int(p.split("/")[0]) for p in pairs)
                den = sum(int(p.split("/")[1]) for p in pairs)
                out[col] = f"{num}/{den}"
            elif rows and all(isinstance(r.get(col), int) for r in rows):
                out[col] = str(sum(r[col] for r in rows))
    return out


if __name__ == "__main__":
    main()
