"""Write an evaluation run's figures into ``MODEL_CARD.md``.

    caseassist eval card var/eval/full/results.json

replaces the text between ``<!-- results:start -->`` and ``<!-- results:end -->`` (and nothing
else) with a dated table of every metric (suite, metric, value, 95% interval, n, goal, met),
the profile, models and commit the figures came from, and how long the run took. The date is
the run's, not today's, so writing the same results twice gives the same card. A card without
both markers, in that order, is refused: the section is not guessed at.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.datasets.primock57 import CONSULTATIONS as PRIMOCK57_CONSULTATIONS
from eval.paths import MODEL_CARD
from eval.report import fmt, fmt_interval

START = "<!-- results:start -->"
END = "<!-- results:end -->"
CARD_PATH = MODEL_CARD


class CardError(ValueError):
    """The card or the results file cannot be used; the message says why."""


def write_card(
    results_path: Path | str | Sequence[Path | str], card_path: Path | str = CARD_PATH
) -> Path:
    """Rewrite the results section of ``card_path`` from one results file, or from several
    (one block each, in the order given, e.g. separate full runs of two suites); return the
    card."""
    paths = [results_path] if isinstance(results_path, str | Path) else list(results_path)
    if not paths:
        raise CardError("give at least one results file")
    blocks = [results_section(_load(Path(p)), source=_display(Path(p))) for p in paths]
    card_path = Path(card_path)
    if not card_path.is_file():
        raise CardError(f"{card_path} does not exist")
    text = card_path.read_text(encoding="utf-8")
    start, end = text.find(START), text.find(END)
    if start < 0 or end < 0 or end < start or text.count(START) != 1 or text.count(END) != 1:
        raise CardError(
            f"{card_path} must contain {START} followed by {END}, once each; add them around "
            "the results section"
        )
    body = "\n\n".join(blocks)
    new = text[: start + len(START)] + "\n" + body + "\n" + text[end:]
    if new != text:
        card_path.write_text(new, encoding="utf-8")
    return card_path


def _load(results_path: Path) -> dict[str, Any]:
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CardError(f"{results_path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise CardError(f"{results_path} is not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(results, dict) or "summary" not in results or "provenance" not in results:
        raise CardError(f"{results_path} is not a caseassist eval results file")
    return results


CUSTOM_PREFIX = "custom:"
"""How a model set by configuration (``CASEASSIST_LLM_MODEL_PATH``, ...) is named in provenance."""


def results_section(results: dict[str, Any], *, source: str = "results.json") -> str:
    prov = results.get("provenance", {})
    inv = results.get("invocation", {})
    date = str(prov.get("finished_at") or prov.get("started_at") or "")[:10] or "unknown date"
    run_kind = "the quick CI slice" if inv.get("quick") else "a full run"
    if inv.get("primock_limit") == 0 and not inv.get("quick"):
        run_kind += " of the scenarios only, no PriMock57 consultation"
    elif inv.get("primock_limit") is not None and not inv.get("quick"):
        if inv["primock_limit"] < PRIMOCK57_CONSULTATIONS:  # a limit of all 57 leaves none out
            run_kind += f" with only the first {inv['primock_limit']} PriMock57 consultations"
    if inv.get("from_audio"):
        run_kind += (
            f", {inv['from_audio']} of the scenarios also rendered with espeak-ng and run from "
            "audio (the `audio_*` figures: from audio, and the gap to the same scenarios from "
            "text)"
        )
    models = prov.get("models") or {}
    replaced = [
        f"{role} `{ref['name'].removeprefix(CUSTOM_PREFIX)}`"
        for role, ref in models.items()
        if isinstance(ref, dict) and str(ref.get("name", "")).startswith(CUSTOM_PREFIX)
    ]
    profile = f"profile `{prov.get('profile')}`"
    if replaced:
        profile += " with its " + " and ".join(replaced) + " set by configuration instead"
    lines = [
        f"Figures from the evaluation run of **{date}** ({run_kind}, suite `{inv.get('suite')}`, "
        f"{profile}), written by `caseassist eval card` from `{source}`. "
        "Intervals are 95% percentile bootstrap intervals; the report (`report.html` beside the "
        "results file) has every group, comparison and paired test.",
        "",
        "| suite | metric | value | 95% interval | n | goal | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results.get("summary", []):
        unit = row.get("unit")
        arrow = "↑" if row.get("higher_is_better") else "↓"
        goal = fmt(row.get("goal"), unit) if row.get("goal") is not None else "–"
        met = {True: "yes", False: "**no**", None: "–"}[row.get("meets_goal")]
        lines.append(
            f"| {row['suite']} | `{row['metric']}` {arrow} | {fmt(row.get('value'), unit)} | "
            f"{fmt_interval(row.get('interval'), unit)} | {row.get('n')} | {goal} | {met} |"
        )
    unavailable = [
        f"`{name}` ({s.get('status')})"
        for name, s in results.get("suites", {}).items()
        if s.get("status") != "ok"
    ]
    lines.append("")
    if unavailable:
        lines.append(f"Suites without figures in this run: {', '.join(unavailable)}.")
        lines.append("")
    refs = [
        f"{role} `{ref.get('name')}` (sha256 `{str(ref.get('sha256'))[:12]}…`)"
        for role, ref in models.items()
        if isinstance(ref, dict)
    ]
    if refs:
        lines.append("- Models: " + "; ".join(refs) + ".")
    prompt = prov.get("prompt") or {}
    lines.append(
        f"- Commit `{prov.get('git_commit')}`; prompt `{prompt.get('template')}` "
        f"{prompt.get('version')} (sha256 `{str(prompt.get('prompt_sha256'))[:12]}…`); redaction "
        f"configuration `{str(prov.get('redaction_config_hash'))[:12]}…`; seed "
        f"{inv.get('seed')}."
    )
    recorded = prov.get("settings") or {}
    if recorded:  # results written before 2026-11-24 do not record them
        lines.append("- Settings: " + ", ".join(f"`{k}` {v}" for k, v in recorded.items()) + ".")
    versions = prov.get("suite_versions") or {}
    if versions:
        lines.append(
            "- Scored with "
            + ", ".join(f"`{name}` suite version {v}" for name, v in versions.items())
            + " (each suite's rules, and what changed between versions, are in its module "
            "under `eval/suites/`)."
        )
    durations = ", ".join(
        f"{name} {_duration(s.get('duration_s'))}"
        for name, s in results.get("suites", {}).items()
        if s.get("status") == "ok"
    )
    machine = prov.get("machine") or {}
    lines.append(
        f"- The run took {_duration(prov.get('duration_s'))}"
        + (f" ({durations})" if durations else "")
        + f" on {machine.get('cores_available', '?')} cores of {machine.get('cpu_model', '?')}."
    )
    drafts = prov.get("drafts") or {}
    if drafts.get("reused"):
        lines.append(
            f"- {drafts['reused']} notes were read from the drafts store (`--drafts`), kept by "
            "an earlier run with the same redacted transcripts, model, prompt, settings and "
            f"code; {drafts.get('written', 0)} were drafted in this run. The time above and "
            "`seconds_per_draft` cover only those drafted in this run."
        )
    return "\n".join(lines)


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "an unrecorded time"
    seconds = round(seconds)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(CARD_PATH.parent))
    except ValueError:
        return path.name
