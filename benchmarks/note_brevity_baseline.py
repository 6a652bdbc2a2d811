"""The notes suite's version-7 measures (length, token F1, ROUGE-L, actions as rows,
attribution) of notes already drafted and kept in draft stores: "today's" figures for drafts
made before those measures existed, without drafting again.

    python benchmarks/note_brevity_baseline.py DRAFTS_DIR [DRAFTS_DIR ...] [--out FILE]

Reads every kept note (``eval/draft_store.py`` files: the redacted note and the item it was
drafted for) and scores it with ``eval/suites/notes/brevity.py``. The transcript's words are
counted from the source (scenario turns, PriMock57 utterances), not the redacted transcript a
run scores (a placeholder stands for one or more words): the shares here run a little lower
than a notes-suite run would give. Prints pooled figures and writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.domain import DraftNote  # noqa: E402
from eval.datasets.primock57 import find_primock_dir, load_consultations  # noqa: E402
from eval.datasets.scenarios import load_scenarios  # noqa: E402
from eval.suites.notes import brevity  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("drafts", nargs="+", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    scenarios = {s.id: s for s in load_scenarios()}
    root = find_primock_dir()
    consultations = {c.id: c for c in load_consultations(root)} if root else {}
    rows: dict[str, dict] = {}
    for folder in args.drafts:
        for path in sorted(folder.glob("*.json")):
            kept = json.loads(path.read_text())
            rows[kept["item"]] = {
                "note": DraftNote.model_validate(kept["note"]),
                "version": kept["identity"]["template_version"],
            }
    scen = {"note": 0, "transcript": 0, "actions": [], "what": [], "attr": [0, 0], "n": 0}
    prim = {"note": 0, "transcript": 0, "p": [], "r": [], "f1": [], "rouge": [], "n": 0}
    for item, row in sorted(rows.items()):
        note: DraftNote = row["note"]
        if item in scenarios:
            s = scenarios[item]
            scen["n"] += 1
            scen["note"] += brevity.note_words(note)
            scen["transcript"] += sum(len(t.text.split()) for t in s.turns)
            statements = note.all_statements()
            for a in s.gold.actions:
                whole, what = brevity.action_found(a.who, a.what, a.by, statements)
                scen["actions"].append(whole)
                scen["what"].append(what)
            said_by = {f"s{i:04d}": t.speaker for i, t in enumerate(s.turns, start=1)}
            c, n = brevity.attribution(statements, said_by)
            scen["attr"][0] += c
            scen["attr"][1] += n
        elif item in consultations and consultations[item].note is not None:
            c = consultations[item]
            prim["n"] += 1
            prim["note"] += brevity.note_words(note)
            prim["transcript"] += sum(len(u.text.split()) for u in c.utterances)
            text = brevity.note_text(note)
            p, r, f1 = brevity.token_f1(text, c.note.note)  # type: ignore[union-attr]
            prim["p"].append(p)
            prim["r"].append(r)
            prim["f1"].append(f1)
            prim["rouge"].append(brevity.rouge_l(text, c.note.note))  # type: ignore[union-attr]
    out = {
        "template_versions": sorted({r["version"] for r in rows.values()}),
        "scenarios": scen["n"],
        "scenario_note_length_share": _ratio(scen["note"], scen["transcript"]),
        "action_recall": _mean(scen["actions"]),
        "action_found": _mean(scen["what"]),
        "attribution_correct": _ratio(*scen["attr"]),
        "primock_consultations": prim["n"],
        "primock_note_length_share": _ratio(prim["note"], prim["transcript"]),
        "primock_note_f1_precision": _mean(prim["p"]),
        "primock_note_f1_recall": _mean(prim["r"]),
        "primock_note_token_f1": _mean(prim["f1"]),
        "primock_note_rouge_l": _mean(prim["rouge"]),
    }
    print(json.dumps(out, indent=2))
    if args.out:
        args.out.write_text(json.dumps(out, indent=2) + "\n")
    return 0


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _mean(values: list) -> float | None:
    return round(statistics.fmean(float(v) for v in values), 4) if values else None


if __name__ == "__main__":
    raise SystemExit(main())
