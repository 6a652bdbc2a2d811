"""The notes suite's metrics: scored visits made into figures overall and by group.

Each figure is one metric per grouping (``grouped``), with visits as bootstrap clusters; the
rules they count by are in the package docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from assistant.domain import DraftNote, Statement
from eval.core import Metric
from eval.scoring.stats import group_metric
from eval.suites.notes.drafting import Drafted
from eval.suites.notes.scoring import SECTION_SPEAKERS, Scored

GOALS = {
    "unsupported_share": 0.01,  # strictly below
    "red_flag_claims_without_evidence": 0.0,
    "critical_fact_recall": 0.90,
    "child_voice_retention": 0.90,
    "scenario_note_length_share": 0.30,
    "primock_note_length_share": 0.25,
    "action_recall": 0.80,
}
BOTH = ("source", "visit_type", "child_age_band")
"""The groupings of a figure every visit has."""
SCENARIO_GROUPS = ("visit_type", "child_age_band")
"""The groupings of a figure only the scenarios have."""


@dataclass(frozen=True)
class Row:
    """One gold item (or one visit) of a visit, for group_metric."""

    visit: Scored
    value: float
    denominator: float = 1.0


GROUPINGS: dict[str, Callable[[Row], str]] = {
    "source": lambda r: r.visit.source,
    "visit_type": lambda r: r.visit.visit_type,
    "child_age_band": lambda r: r.visit.age_band,
}


def grouped(
    rows: Sequence[Row],
    *,
    name: str,
    groupings: Sequence[str],
    seed: int,
    resamples: int,
    ratio: bool = False,
    **kw: Any,
) -> list[Metric]:
    """One metric per grouping (the first named ``name``, the others ``name_by_<grouping>``),
    visits as bootstrap clusters."""
    out = []
    for i, g in enumerate(groupings):
        out.append(
            group_metric(
                rows,
                lambda r: r.value,
                GROUPINGS[g],
                name=name if i == 0 else f"{name}_by_{g}",
                group_by=g,
                denominator_fn=(lambda r: r.denominator) if ratio else None,
                cluster_fn=lambda r: r.visit.id,
                seed=seed,
                resamples=resamples,
                **kw,
            )
        )
    return out


# --- the every-segment reference ------------------------------------------------------------
def every_segment(drafted: Drafted) -> Drafted:
    """``drafted`` with its note replaced by one that keeps every segment of the redacted
    transcript word for word, as its speaker's direct quote, reviewed like a draft."""
    from assistant.domain import NoteSection, StatementKind
    from assistant.pipeline import review_note

    assert drafted.redacted is not None and drafted.note is not None
    statements = tuple(
        Statement(
            text=seg.text,
            kind=StatementKind.DIRECT_QUOTE,
            speaker=seg.speaker,
            evidence=(seg.id,),
        )
        for seg in drafted.redacted.segments
    )
    note = DraftNote(
        sections=(NoteSection(key="transcript", title="Every segment", statements=statements),),
        provenance=drafted.note.provenance,
    )
    return replace(drafted, note=review_note(note, drafted.redacted), same_as=None)


def every_segment_metrics(visits: Sequence[Scored], *, seed: int, resamples: int) -> list[Metric]:
    """``every_segment_*``: recall of the every-segment notes of ``visits``."""
    common = dict(seed=seed, resamples=resamples, higher_is_better=True, ratio=False)
    about = (
        " of a note keeping every transcript segment word for word, each as its own statement: "
        "a reference for verbatim drafting, not an upper bound (a statement joining a question "
        "and its answer can fill slots no single segment fills). Not the model's figure."
    )
    scen = [v for v in visits if v.source == "scenario"]
    prim = [v for v in visits if v.source == "primock"]
    rows = {
        "critical_fact_recall": (
            [Row(v, float(r)) for v in scen for _, c, r in v.facts if c],
            "Critical gold facts recalled",
        ),
        "fact_recall": (
            [Row(v, float(r)) for v in scen for *_, r in v.facts],
            "Gold facts recalled",
        ),
        "child_voice_retention": (
            [Row(v, float(q)) for v in scen for _, q, _ in v.quotes],
            "Child's words kept as a direct quote",
        ),
        "primock_checklist_critical_recall": (
            [Row(v, float(r)) for v in prim for _, c, r in v.checklist if c],
            "PriMock57 critical checklist items recalled",
        ),
    }
    out: list[Metric] = []
    for name, (chosen, what) in rows.items():
        if chosen:
            out += grouped(
                chosen,
                name=f"every_segment_{name}",
                groupings=("source",),
                description=what + about,
                **common,
            )
    return out


def metrics_for(visits: Sequence[Scored], *, seed: int, resamples: int) -> list[Metric]:
    ok = [v for v in visits if v.ok]
    scen = [v for v in ok if v.source == "scenario"]
    prim = [v for v in ok if v.source == "primock"]
    common = dict(seed=seed, resamples=resamples)
    out: list[Metric] = []
    if ok:
        out += note_metrics(ok, common)
    out += scenario_fact_metrics(scen, common)
    out += scenario_voice_metrics(scen, common)
    out += primock_metrics(prim, common)
    out += brevity_metrics(scen, prim, common)
    if visits:
        out += run_metrics(visits, common)
    return out


def note_metrics(ok: Sequence[Scored], common: dict[str, Any]) -> list[Metric]:
    """Every note: statements flagged unsupported, how much of the transcript it keeps, red-flag
    claims without evidence."""
    out: list[Metric] = []
    unsupported = grouped(
        [Row(v, v.unsupported, v.statements) for v in ok],
        name="unsupported_share",
        groupings=BOTH,
        ratio=True,
        description="Statements flagged unsupported by verification (unsupported:* or "
        "quote_not_found) / all statements, pooled over notes.",
        higher_is_better=False,
        goal=GOALS["unsupported_share"],
        **common,
    )
    out += [  # the goal is strictly below 1%
        m.model_copy(update={"meets_goal": None if m.value is None else m.value < m.goal})
        for m in unsupported
    ]
    out += grouped(
        [Row(v, v.segments_kept, v.segments) for v in ok],
        name="transcript_segments_kept",
        groupings=BOTH,
        ratio=True,
        description="Segments of the redacted transcript that some statement of the note "
        "cites / all segments, pooled. No goal: how much of the recording the draft keeps. "
        "A verbatim draft (the templates since v2) keeps each chosen segment whole, so a "
        "share near 1 is the transcript sorted into sections, not a summary.",
        higher_is_better=False,
        **common,
    )
    out += grouped(
        [Row(v, v.words_kept, v.transcript_words) for v in ok],
        name="transcript_words_kept",
        groupings=BOTH,
        ratio=True,
        description="Words of the cited segments / words of the redacted transcript, "
        "pooled. No goal; as transcript_segments_kept, weighted by length.",
        higher_is_better=False,
        **common,
    )
    out += grouped(
        [Row(v, v.red_flag_claims) for v in ok],
        name="red_flag_claims_without_evidence",
        groupings=BOTH,
        statistic="sum",
        unit="count",
        description="Red-flag statements removed by the gate (no category language in "
        "their evidence) plus kept statements affirming a category their evidence only "
        "denies or asks about (flagged not_affirmed); summed over notes.",
        higher_is_better=False,
        goal=GOALS["red_flag_claims_without_evidence"],
        **common,
    )
    return out


def scenario_fact_metrics(scen: Sequence[Scored], common: dict[str, Any]) -> list[Metric]:
    """Scenario notes against their gold: absent-category statements, facts recalled and cited."""
    out: list[Metric] = []
    if scen:
        out += grouped(
            [Row(v, v.absent_claims) for v in scen],
            name="absent_category_statements",
            groupings=SCENARIO_GROUPS,
            statistic="sum",
            unit="count",
            description="Statements whose words affirm a red-flag category the scenario's gold "
            "lists as absent, whatever their evidence (the lexicon is broad on purpose: a "
            "segment kept word for word can count); summed over notes. No goal.",
            higher_is_better=False,
            **common,
        )
    facts = [Row(v, float(rec)) for v in scen for _, crit, rec in v.facts if crit]
    if facts:
        out += grouped(
            facts,
            name="critical_fact_recall",
            groupings=SCENARIO_GROUPS,
            description="Critical gold facts recalled by one statement (>= 60% of content "
            "slots, names resolved to placeholders; eval/scoring/matching.py).",
            higher_is_better=True,
            goal=GOALS["critical_fact_recall"],
            **common,
        )
        out += grouped(
            [Row(v, float(rec)) for v in scen for _, _, rec in v.facts],
            name="fact_recall",
            groupings=SCENARIO_GROUPS,
            description="All gold facts (critical or not) recalled, as for critical facts.",
            higher_is_better=True,
            **common,
        )
        out += grouped(
            [Row(v, float(c)) for v in scen for c in v.critical_cited],
            name="critical_fact_cited",
            groupings=SCENARIO_GROUPS,
            description="Critical gold facts whose turns the note cites, each by an unflagged "
            "statement carrying >= 60% of the fact's words found in that turn "
            "(eval/scoring/matching.py fact_cited). Read beside critical_fact_recall: a fact "
            "cited but not recalled is kept in the speaker's words; one not cited was left out.",
            higher_is_better=True,
            **common,
        )
        out += grouped(
            [Row(v, float(c)) for v in scen for c in v.cited],
            name="fact_cited",
            groupings=SCENARIO_GROUPS,
            description="All gold facts (critical or not) cited, as for critical facts.",
            higher_is_better=True,
            **common,
        )
    return out


def scenario_voice_metrics(scen: Sequence[Scored], common: dict[str, Any]) -> list[Metric]:
    """Scenario notes and whose words they keep: the child's, opinions attributed or not, and
    statements placed in a section defined by a speaker who is not cited."""
    out: list[Metric] = []
    quotes = [Row(v, float(q)) for v in scen for _, q, _ in v.quotes]
    if quotes:
        out += grouped(
            quotes,
            name="child_voice_retention",
            groupings=SCENARIO_GROUPS,
            description="Gold child's words kept verbatim (normalised) in direct_quote statements.",
            higher_is_better=True,
            goal=GOALS["child_voice_retention"],
            **common,
        )
        out += grouped(
            [Row(v, float(a)) for v in scen for _, _, a in v.quotes],
            name="child_voice_anywhere",
            groupings=SCENARIO_GROUPS,
            description="Gold child's words kept verbatim in any statement (paraphrase with "
            "quotation counted; kind not required).",
            higher_is_better=True,
            **common,
        )
    opinions = [Row(v, float(f)) for v in scen for _, f in v.opinions]
    if opinions:
        out += grouped(
            opinions,
            name="opinions_as_fact",
            groupings=SCENARIO_GROUPS,
            description="Gold opinions whose content a statement carries without attribution "
            "(kind observed, or no speaker and no attribution word). No release goal set.",
            higher_is_better=False,
            **common,
        )
    for section, group in SECTION_SPEAKERS.items():
        rows = [Row(v, float(group not in g)) for v in scen for k, g in v.placed if k == section]
        if rows:
            out += grouped(
                rows,
                name=f"{section}_without_{group}_words",
                groupings=SCENARIO_GROUPS,
                description=f"Statements of the {section} section that cite no segment said "
                f"by the {'child' if group == 'child' else 'parent, carer or relative'} (the "
                "template defines the section as their words); no goal. The note shows each "
                "statement with its speaker, so these are misplaced, not misattributed.",
                higher_is_better=False,
                **common,
            )
    return out


def primock_metrics(prim: Sequence[Scored], common: dict[str, Any]) -> list[Metric]:
    """PriMock57 notes against the clinicians' checklists and notes."""
    out: list[Metric] = []
    items = [Row(v, float(rec)) for v in prim for _, crit, rec in v.checklist if crit]
    if items:
        out += grouped(
            items,
            name="primock_checklist_critical_recall",
            groupings=("source",),
            description="PriMock57 checklist items marked critical, recalled as gold facts are.",
            higher_is_better=True,
            **common,
        )
        out += grouped(
            [Row(v, float(rec)) for v in prim for _, _, rec in v.checklist],
            name="primock_checklist_recall",
            groupings=("source",),
            description="PriMock57 checklist items marked critical or non-critical, recalled.",
            higher_is_better=True,
            **common,
        )
    tokens = [Row(v, *v.note_tokens) for v in prim if v.note_tokens and v.note_tokens[1]]
    if tokens:
        out += grouped(
            tokens,
            name="primock_note_token_recall",
            groupings=("source",),
            ratio=True,
            description="Distinct content words of the clinician's note found in the draft, "
            "pooled (abbreviations such as 'hx' and 'PMH' never match: a floor, not a score).",
            higher_is_better=True,
            **common,
        )
    reference = [Row(v, v.reference_words, v.transcript_words) for v in prim if v.reference_words]
    if reference:
        out += grouped(
            reference,
            name="primock_reference_note_words",
            groupings=("source",),
            ratio=True,
            description="Words of the clinicians' own notes / words of the transcripts, "
            "pooled: how long a note written by hand is, beside transcript_words_kept.",
            higher_is_better=False,
            **common,
        )
    return out


def run_metrics(visits: Sequence[Scored], common: dict[str, Any]) -> list[Metric]:
    """Every visit, with a note or not: draft failures and the time a draft took."""
    out: list[Metric] = []
    out += grouped(
        [Row(v, float(not v.ok)) for v in visits],
        name="draft_failures",
        groupings=("source",),
        description="Visits with no note (redaction blocked or drafting failed); they are "
        "left out of every other figure.",
        higher_is_better=False,
        **common,
    )
    out += grouped(
        [Row(v, v.drafted.seconds) for v in visits if v.drafted.drafted_here],
        name="seconds_per_draft",
        groupings=("source",),
        unit="seconds",
        description="Wall time to redact, draft and review one visit on this machine "
        "(notes drafted in this run only: not those read from --drafts).",
        higher_is_better=False,
        **common,
    )
    return out


def brevity_metrics(
    scen: Sequence[Scored], prim: Sequence[Scored], common: dict[str, Any]
) -> list[Metric]:
    """A note as a note (suite version 7; rules in :mod:`eval.suites.notes.brevity`)."""
    out: list[Metric] = []
    for source, visits, name in (
        ("scenarios", scen, "scenario_note_length_share"),
        ("PriMock57 consultations", prim, "primock_note_length_share"),
    ):
        if visits:
            out += grouped(
                [Row(v, v.note_words, v.transcript_words) for v in visits],
                name=name,
                groupings=("source",),
                ratio=True,
                description=f"Words of the note (statements and header) / words of the redacted "
                f"transcript, pooled over the {source}: 1 is the transcript re-sorted, a "
                "clinician's note is about 0.1.",
                higher_is_better=False,
                goal=GOALS[name],
                **common,
            )
    f1 = [v for v in prim if v.reference_f1 is not None]
    if f1:
        for i, name in enumerate(
            ("primock_note_f1_precision", "primock_note_f1_recall", "primock_note_token_f1")
        ):
            part = name.rsplit("_", 1)[-1]
            out += grouped(
                [Row(v, v.reference_f1[i]) for v in f1],  # type: ignore[index]
                name=name,
                groupings=("source",),
                description=f"Token {part} of the draft's distinct content words against the "
                "clinician's note's, per consultation, averaged.",
                higher_is_better=True,
                **common,
            )
        out += grouped(
            [Row(v, v.rouge_l or 0.0) for v in f1],
            name="primock_note_rouge_l",
            groupings=("source",),
            description="ROUGE-L F1 (content words in order) of the draft against the "
            "clinician's note, per consultation, averaged.",
            higher_is_better=True,
            **common,
        )
    actions = [Row(v, float(whole)) for v in scen for whole, _ in v.actions]
    if actions:
        out += grouped(
            actions,
            name="action_recall",
            groupings=SCENARIO_GROUPS,
            description="Gold agreed actions found as an agreed-action row naming who (by "
            "role), what and, when the gold says it, by when (>= half the words of each).",
            higher_is_better=True,
            goal=GOALS["action_recall"],
            **common,
        )
        out += grouped(
            [Row(v, float(what)) for v in scen for _, what in v.actions],
            name="action_found",
            groupings=SCENARIO_GROUPS,
            description="Gold agreed actions whose what is carried by an agreed-action "
            "statement, whoever and whenever it says.",
            higher_is_better=True,
            **common,
        )
    rows = [Row(v, *map(float, v.action_rows)) for v in scen if v.action_rows[1]]
    if rows:
        out += grouped(
            rows,
            name="action_row_precision",
            groupings=SCENARIO_GROUPS,
            ratio=True,
            description="The note's agreed-action rows whose what carries >= half the words "
            "of a gold action's what (a lower bound: a real action the gold lacks counts "
            "against it), pooled.",
            higher_is_better=True,
            **common,
        )
    alone = [Row(v, float(v.seen_alone[0] == v.seen_alone[1])) for v in scen if v.seen_alone]
    if alone:
        out += grouped(
            alone,
            name="seen_alone_field_right",
            groupings=SCENARIO_GROUPS,
            description="Notes whose header says the child was seen alone exactly when the "
            "scenario has them seen alone (its child_seen_alone feature); suite version 10.",
            higher_is_better=True,
            **common,
        )
    attributed = [Row(v, *v.attribution) for v in scen if v.attribution[1]]
    if attributed:
        out += grouped(
            attributed,
            name="attribution_correct",
            groupings=SCENARIO_GROUPS,
            ratio=True,
            description="Statements with one speaker whose speaker said the turn they cite "
            "(the scenario's gold speaker; by role for labels from speaker separation), pooled.",
            higher_is_better=True,
            **common,
        )
    return out
