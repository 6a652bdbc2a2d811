"""Write an evaluation run's figures into ``MODEL_CARD.md``.

    caseassist eval card var/eval/full/results.json

replaces the text between ``<!-- results:start -->`` and ``<!-- results:end -->`` (and nothing
else) with a dated table of every metric (suite, metric, value, 95% interval, n, goal, met),
the profile, models and commit the figures came from, and how long the run took. The date is
the run's, not today's, so writing the same results twice gives the same card. A card without
both markers, in that order, is refused: the section is not guessed at. Each block ends with the
``caseassist eval run`` command of the run (its ``invocation``, ``--out`` the folder the results
live in now). ``check_card`` (``caseassist eval card --check``) writes nothing and returns the
difference, empty when the card is up to date.
"""

from __future__ import annotations

import difflib
import json
import shlex
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
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
    card_path = Path(card_path)
    text, new = _render(results_path, card_path)
    if new != text:
        card_path.write_text(new, encoding="utf-8")
    return card_path


def check_card(
    results_path: Path | str | Sequence[Path | str],
    card_path: Path | str = CARD_PATH,
    *,
    max_lines: int = 60,
) -> str:
    """What ``write_card`` would change in the results section of ``card_path``, as a unified
    diff of the section (at most ``max_lines`` lines); empty when the card is up to date.
    Writes nothing."""
    card_path = Path(card_path)
    text, new = _render(results_path, card_path)
    if new == text:
        return ""
    diff = list(
        difflib.unified_diff(
            _section(text).splitlines(),
            _section(new).splitlines(),
            f"{card_path.name} (results section, now)",
            f"{card_path.name} (results section, from the results files)",
            lineterm="",
        )
    )
    if len(diff) > max_lines:
        diff = [*diff[:max_lines], f"… {len(diff) - max_lines} more lines of difference"]
    return "\n".join(diff)


def _render(results_path: Path | str | Sequence[Path | str], card_path: Path) -> tuple[str, str]:
    """The card's text now, and with its results section written from ``results_path``."""
    paths = [results_path] if isinstance(results_path, str | Path) else list(results_path)
    if not paths:
        raise CardError("give at least one results file")
    blocks = [
        results_section(
            _load(Path(p)), source=_display(Path(p)), folder=_display_folder(Path(p).parent)
        )
        for p in paths
    ]
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
    return text, text[: start + len(START)] + "\n" + body + "\n" + text[end:]


def _section(text: str) -> str:
    return text[text.index(START) + len(START) : text.index(END)]


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


#: The setting that replaces a profile's model, by the role provenance names it under.
MODEL_PATH_VARIABLES = {"llm": "CASEASSIST_LLM_MODEL_PATH", "asr": "CASEASSIST_WHISPER_MODEL_PATH"}


def results_section(
    results: dict[str, Any], *, source: str = "results.json", folder: str | None = None
) -> str:
    """One block of the card. ``source`` names the results file; ``folder`` is where it lives
    (the ``--out`` of the command printed under the block; default: ``source``'s folder, or
    the recorded ``out`` when ``source`` has none)."""
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
    replaced = [f"{role} `{name}`" for role, name in replaced_roles(models).items()]
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
    lines.append(_command_line(inv, folder or _folder_of(source, inv), replaced_roles(models)))
    return "\n".join(lines)


def replaced_roles(models: dict[str, Any]) -> dict[str, str]:
    """Role -> model file name, for each model set by configuration instead of the profile's."""
    return {
        role: str(ref["name"]).removeprefix(CUSTOM_PREFIX)
        for role, ref in models.items()
        if isinstance(ref, dict) and str(ref.get("name", "")).startswith(CUSTOM_PREFIX)
    }


def run_command(inv: dict[str, Any], out: str) -> str:
    """The ``caseassist eval run`` command line of a results file's ``invocation``, writing to
    ``out``. Options left at their defaults (seed 0, no ``--primock``) are left out, as
    given."""
    args = ["caseassist", "eval", "run", "--suite", str(inv.get("suite"))]
    if inv.get("quick"):
        args.append("--quick")
    if inv.get("profile"):
        args += ["--profile", str(inv["profile"])]
    if inv.get("seed") not in (None, 0):
        args += ["--seed", str(inv["seed"])]
    if inv.get("primock_limit") is not None:
        args += ["--primock", str(inv["primock_limit"])]
    if inv.get("from_audio"):
        args += ["--from-audio", str(inv["from_audio"])]
    if inv.get("drafts"):
        args += ["--drafts", str(inv["drafts"])]
    args += ["--out", out]
    return shlex.join(args)


def _command_line(inv: dict[str, Any], folder: str, replaced: dict[str, str]) -> str:
    line = f"- Command: `{run_command(inv, folder)}`"
    notes = [
        f"with `{MODEL_PATH_VARIABLES[role]}` set to the path of `{name}`"
        for role, name in replaced.items()
        if role in MODEL_PATH_VARIABLES
    ]
    recorded = inv.get("out")
    if recorded is not None and not _same_folder(str(recorded), folder):
        notes.append(f"the run wrote to `{recorded}` and its results were copied here")
    return line + (f" ({'; '.join(notes)})." if notes else ".")


def _same_folder(recorded: str, folder: str) -> bool:
    """Whether the recorded ``out`` is ``folder``: the same path, or an absolute path ending
    in ``folder``'s parts (another checkout of the repository), so the card reads the same
    from any checkout."""
    a, b = PurePosixPath(recorded), PurePosixPath(folder)
    if a == b:
        return True
    return a.is_absolute() and not b.is_absolute() and a.parts[-len(b.parts) :] == b.parts


def _folder_of(source: str, inv: dict[str, Any]) -> str:
    parent = PurePosixPath(source).parent
    if str(parent) != ".":
        return str(parent)
    return str(inv.get("out") or ".")


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


def _display_folder(folder: Path) -> str:
    """A results folder as the card names it: from the repository's root, or in full."""
    try:
        return str(folder.resolve().relative_to(CARD_PATH.parent))
    except ValueError:
        return str(folder.resolve())


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(CARD_PATH.parent))
    except ValueError:
        return path.name
