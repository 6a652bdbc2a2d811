"""The notes suite's run: which visits (``Plan``), each drafted and scored, and the results."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from eval.core import EvalContext, SuiteResult
from eval.datasets.primock57 import (
    CITATION,
    Consultation,
    dataset_sha256,
    find_primock_dir,
    load_consultations,
)
from eval.datasets.scenarios import Scenario, corpus_sha256, load_scenarios
from eval.scoring import matching
from eval.suites.notes.drafting import TEMPLATE, Drafted, draft, scenario_transcript
from eval.suites.notes.metrics import every_segment, every_segment_metrics, metrics_for
from eval.suites.notes.scoring import (
    SPEAKER_GROUPS,
    Scored,
    score_consultation,
    score_scenario,
)

SUITE = "notes"
SUITE_VERSION = "10"


@dataclass(frozen=True)
class Plan:
    scenarios: int | None
    primock: int | None
    primock_utterances: int | None


QUICK = Plan(scenarios=2, primock=1, primock_utterances=40)
FULL = Plan(scenarios=None, primock=None, primock_utterances=None)


def pick_quick(scenarios: Sequence[Scenario], n: int) -> list[Scenario]:
    """The ``n`` shortest scenarios with child's words and critical facts, one per visit type."""
    chosen: list[Scenario] = []
    for s in sorted(scenarios, key=lambda s: (len(s.words()), s.id)):
        if s.gold.child_words and any(f.critical for f in s.gold.facts):
            if all(c.visit_type != s.visit_type for c in chosen):
                chosen.append(s)
        if len(chosen) == n:
            break
    return chosen


def _table(columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"columns": columns, "rows": rows}


VISIT_COLUMNS = [
    "visit", "source", "visit type", "age band", "error", "statements", "unsupported",
    "gate removed", "not affirmed", "absent-category statements", "critical facts recalled",
    "critical facts cited", "facts recalled", "facts cited", "child quotes kept",
    "opinions as fact", "checklist critical recalled", "note tokens", "seconds",
]  # fmt: skip


def _frac(pairs: Sequence[bool]) -> str:
    return f"{sum(pairs)}/{len(pairs)}"


def sections_by_speaker(visits: Sequence[Scored]) -> list[list[Any]]:
    """Per section of the template, how many statements cite words of each speaker group (a
    statement citing two groups counts in both), and how many statements it holds."""
    placed = [(k, gs) for v in visits for k, gs in v.placed]
    keys = list(dict.fromkeys(k for k, _ in placed))
    return [
        [
            key,
            *(sum(g in gs for k, gs in placed if k == key) for g in SPEAKER_GROUPS),
            sum(k == key for k, _ in placed),
        ]
        for key in keys
    ]


def visit_row(v: Scored) -> list[Any]:
    return [
        v.id, v.source, v.visit_type, v.age_band, v.drafted.error, v.statements, v.unsupported,
        v.gate_removed, v.not_affirmed, v.absent_claims, _frac([r for _, c, r in v.facts if c]),
        _frac(v.critical_cited),
        _frac([r for _, _, r in v.facts]), _frac(v.cited), _frac([q for _, q, _ in v.quotes]),
        _frac([f for _, f in v.opinions]), _frac([r for _, c, r in v.checklist if c]),
        "/".join(map(str, v.note_tokens)) if v.note_tokens else None, round(v.drafted.seconds, 1),
    ]  # fmt: skip


def evaluate(
    ctx: EvalContext,
    scenarios: Sequence[Scenario],
    consultations: Sequence[Consultation] = (),
    *,
    primock_sha256: str | None = None,
    plan: Plan | None = None,
) -> SuiteResult:
    """The suite on the given visits (``run`` picks them from the plan)."""
    t0 = time.perf_counter()
    resamples = int(ctx.cache.get("resamples", 1000))
    notes = [
        "Every visit runs through the service's own redaction, drafting and code review "
        f"(template {TEMPLATE}); matching rules are in details.matching "
        "(eval/scoring/matching.py).",
        "Visits with no note (redaction blocked or drafting failed) are counted in "
        "draft_failures and left out of the other figures.",
        "Red-flag claims without evidence count every statement the gate removed, even for a "
        "category really present (the model cited the wrong segments), plus kept statements "
        "flagged not_affirmed. absent_category_statements counts, apart and without a goal, "
        "statements using the language of a category the gold lists as absent (PriMock57 has "
        "no such gold).",
        "every_segment_* score a note that keeps every segment word for word, each as its own "
        "statement: a reference for verbatim drafting, not an upper bound.",
    ]
    dataset = {"scenarios": corpus_sha256()}
    items: list[tuple[Callable[[Any, Drafted], Scored], Any, Drafted]] = [
        (score_scenario, s, draft(ctx, s.id, scenario_transcript(s))) for s in scenarios
    ]
    if consultations:
        if primock_sha256:
            dataset["primock57"] = primock_sha256
        notes.append(
            f"PriMock57 consultations are drafted with the social-care {TEMPLATE} template (the "
            "only one in prompts/): read them as faithfulness on real conversation, not as "
            f"medical notes. Data: {CITATION}."
        )
        if any(c.truncated for c in consultations):
            notes.append(
                "PriMock57 transcripts were cut short (quick run) while the clinicians' notes "
                "and checklists cover the whole consultation: their recall is understated."
            )
        items += [(score_consultation, c, draft(ctx, c.id, c.transcript())) for c in consultations]
    visits = [score(item, drafted) for score, item, drafted in items]

    metrics = metrics_for(visits, seed=ctx.seed, resamples=resamples)
    reference = [
        score(item, every_segment(drafted))
        for score, item, drafted in items
        if drafted.note is not None and drafted.redacted is not None
    ]
    metrics += every_segment_metrics(reference, seed=ctx.seed, resamples=resamples)
    reused = sum(v.drafted.reused for v in visits)
    if reused:
        notes.append(
            f"{reused} of {len(visits)} notes were read from the drafts store (--drafts: kept "
            "by an earlier run with the same redacted transcript, model, prompt, settings and "
            "code) instead of drafted again; seconds_per_draft leaves them out."
        )
    details = visit_details(ctx, plan, visits, scenarios, consultations, reused=reused)
    return SuiteResult(
        suite=SUITE,
        suite_version=SUITE_VERSION,
        dataset=dataset,
        metrics=metrics,
        details=details,
        seconds=time.perf_counter() - t0,
        notes=notes,
    )


def visit_details(
    ctx: EvalContext,
    plan: Plan | None,
    visits: Sequence[Scored],
    scenarios: Sequence[Scenario],
    consultations: Sequence[Consultation],
    *,
    reused: int,
) -> dict[str, Any]:
    """The run's plan, matching rules and draft provenance, and the tables for the report."""
    provenance = next((v.drafted.note.provenance for v in visits if v.drafted.note), None)
    return {
        "plan": (asdict(plan) if plan else {}) | {"quick": ctx.quick},
        "matching": matching.MATCHING,
        "template": TEMPLATE,
        "draft_provenance": provenance.model_dump() if provenance else None,
        "drafts": {"reused": reused, "drafted": sum(v.drafted.drafted_here for v in visits)},
        "scenarios": [s.id for s in scenarios],
        "primock": [c.id for c in consultations],
        "tables": {
            "visits": _table(VISIT_COLUMNS, [visit_row(v) for v in visits]),
            "missed_critical_facts": _table(
                ["visit", "fact", "cited"],
                [
                    [v.id, t, k]
                    for v in visits
                    if v.source == "scenario"
                    for (t, c, r), k in zip(v.facts, v.cited, strict=True)
                    if c and not r
                ],
            ),  # fmt: skip
            "sections_by_speaker": _table(
                ["section", *SPEAKER_GROUPS, "statements"],
                sections_by_speaker([v for v in visits if v.source == "scenario"]),
            ),
            "child_words_not_quoted": _table(
                ["visit", "child's words", "kept anywhere"],
                [[v.id, w, a] for v in visits for w, q, a in v.quotes if not q],
            ),
        },
    }


def add_from_audio(
    ctx: EvalContext, result: SuiteResult, scenarios: Sequence[Scenario], n: int
) -> None:
    """``n`` scenarios rendered and run from audio, beside the same scenarios from text
    (``eval/suites/notes/from_audio.py``), added to ``result``."""
    from eval.suites.diarisation.inputs import sha_of
    from eval.suites.notes import from_audio

    chosen = from_audio.choose(scenarios, n)
    metrics, details, notes, _ = from_audio.from_audio(
        ctx, chosen, seed=ctx.seed, resamples=int(ctx.cache.get("resamples", 1000))
    )
    result.metrics += metrics
    result.details["from_audio"] = details["from_audio"]
    result.details.setdefault("tables", {}).update(details["tables"])
    result.dataset["rendered_visits"] = sha_of(list(details["from_audio"]["renders"].values()))
    result.notes += notes
    if len(chosen) < n:
        result.notes.append(
            f"From audio: {n} scenarios were asked for; only {len(chosen)} can be rendered "
            "(every turn in English, no television)."
        )


def run(ctx: EvalContext) -> SuiteResult:
    """The plan's visits: ``ctx.cache["primock_dir"]`` overrides where PriMock57 is looked
    for (None leaves it out); ``ctx.cache["primock_limit"]`` keeps the first N consultations
    (``caseassist eval run --primock N``); ``ctx.cache["from_audio"]`` adds N scenarios
    rendered and run from audio (``--from-audio N``)."""
    plan = QUICK if ctx.quick else FULL
    if ctx.cache.get("primock_limit") is not None:
        plan = replace(plan, primock=ctx.cache["primock_limit"])
    scenarios = load_scenarios()
    chosen = pick_quick(scenarios, plan.scenarios) if plan.scenarios else scenarios
    root = ctx.cache["primock_dir"] if "primock_dir" in ctx.cache else find_primock_dir()
    consultations: list[Consultation] = []
    sha = None
    if root is not None:
        sha = dataset_sha256(root)
        consultations = load_consultations(root, max_utterances=plan.primock_utterances)
        if plan.primock is not None:
            consultations = consultations[: plan.primock]
    result = evaluate(ctx, chosen, consultations, primock_sha256=sha, plan=plan)
    asked = ctx.cache.get("from_audio")
    if asked:
        add_from_audio(ctx, result, scenarios, asked)
    if root is None:
        result.notes.append(
            "PriMock57 not found (var/data/primock57 or shared/data/primock57): skipped."
        )
    if ctx.quick:
        result.notes.append("Quick run: a handful of visits exercise the code; intervals are wide.")
    return result
