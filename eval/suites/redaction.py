"""Pseudonymisation: what redaction catches, for whose names, and what reaches the drafting prompt.

Two measurements with the profile's own redactor (``Engines.redactor``):

1. **The redaction corpus** (``eval/redaction_corpus``), scored by ``eval.redaction_eval.evaluate``
   (its matching rules are recorded in ``details.matching``). The redactor is wrapped so every
   utterance's predicted spans are kept, and the per-span outcomes are turned into metrics with
   intervals that resample utterances: direct-identifier recall by name origin (the release
   goal is ``GOALS['direct_recall_min']`` for every group), recall by entity type, person-name
   recall by origin, precision by predicted type, over-redaction of keep words, and how often
   the residual check would block an utterance that leaks. Our recall is checked against
   ``evaluate``'s own figure; a mismatch is written in the notes.
2. **Identifiers surviving into drafting prompts.** Each scenario of ``eval/scenarios`` is made
   into a transcript (one segment per turn, speaker labels as written), redacted, and turned
   into the drafting prompt with ``Drafter.messages`` (no LLM call). Every gold identifier of a
   direct type (``PROMPT_TYPES``) still present in the prompt, case-insensitively and on word
   boundaries, is counted: ``identifiers_in_prompt`` (goal 0), by name origin.
   ``identifiers_reaching_llm`` counts only prompts the pipeline's residual check would let
   through.

3. **The same visit with other names redacts to the same text.** For every names swap the bias
   suite makes (``eval.suites.bias``: each scenario with its family's names changed to two other
   origins), whether the copy's redacted transcript is identical to its original's
   (``names_swap_same_redaction``, by the copy's name origin). Where it is not, redaction
   treated one family's names differently (a name typed a place, a greeting kept inside a name)
   and the model reads different words for different families; measured here in seconds, where
   the bias suite needs a draft per differing pair.

``--quick`` scores every ``QUICK_STRIDE``-th corpus utterance (all name-origin groups stay
represented) and three scenarios.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eval.core import EvalContext, Metric, SuiteResult
from eval.datasets.scenarios import Scenario, corpus_sha256, load_scenarios
from eval.scoring.stats import apply_holm, group_metric

SUITE = "redaction"
SUITE_VERSION = "2"
QUICK_STRIDE = 7
"""Odd, so the quick slice has both forms (the corpus alternates written and Whisper-style)."""
QUICK_SCENARIOS = 3
PROMPT_TYPES = frozenset(
    "PERSON UK_PHONE UK_POSTCODE UK_NHS UK_NINO STREET_ADDRESS EMAIL DATE_OF_BIRTH".split()
)
"""Direct identifiers: none of them may reach the language model."""


# --- the corpus -----------------------------------------------------------------------------------
class RecordingRedactor:
    """Passes ``redact_text`` through and keeps each call's output, in call order."""

    def __init__(self, redactor):
        self._redactor = redactor
        self.calls: list[tuple[str, str, list, Any]] = []

    def redact_text(self, text: str):
        redacted, spans, mapping = self._redactor.redact_text(text)
        self.calls.append((text, redacted, spans, mapping))
        return redacted, spans, mapping


@dataclass(frozen=True)
class GoldOutcome:
    utterance: str
    type: str
    group: str
    split: str
    form: str
    name_form: str | None
    caught: bool


@dataclass(frozen=True)
class PredOutcome:
    utterance: str
    type: str
    correct: bool


@dataclass(frozen=True)
class KeepOutcome:
    utterance: str
    kind: str
    removed: bool


@dataclass(frozen=True)
class UtteranceOutcome:
    utterance: str
    group: str
    leak: bool
    blocked: bool


def _alnum(text: str, start: int, end: int) -> list[int]:
    return [i for i in range(max(0, start), min(len(text), end)) if text[i].isalnum()]


def score_utterance(utt, spans, *, blocked: bool, direct: frozenset[str]):
    """Per-span outcomes for one utterance, by the rules ``redaction_eval`` documents:
    a gold span is caught when every letter and digit in it is redacted; a predicted span is
    correct when at least half of its letters and digits are gold."""
    text = utt.text
    redacted = [False] * len(text)
    for p in spans:
        for i in range(max(0, p.start), min(len(text), p.end)):
            redacted[i] = True
    gold_mask = [False] * len(text)
    for g in utt.spans:
        for i in range(g.start, g.end):
            gold_mask[i] = True
    gold, leak = [], False
    for g in utt.spans:
        pos = _alnum(text, g.start, g.end)
        caught = all(redacted[i] for i in pos)
        leak |= g.type in direct and not caught
        gold.append(
            GoldOutcome(utt.id, g.type, g.origin or utt.group, utt.split, utt.form,
                        g.name_form, caught)
        )  # fmt: skip
    pred = []
    for p in spans:
        pos = _alnum(text, p.start, p.end)
        if pos:
            inside = sum(gold_mask[i] for i in pos)
            pred.append(PredOutcome(utt.id, p.entity_type, inside / len(pos) >= 0.5))
    keep = [
        KeepOutcome(utt.id, k.kind, any(redacted[i] for i in _alnum(text, k.start, k.end)))
        for k in utt.keep
    ]
    return gold, pred, keep, UtteranceOutcome(utt.id, utt.group, leak, blocked)


def corpus_metrics(
    redactor, corpus, *, seed: int, resamples: int, evaluate, direct, goals, residual
) -> tuple[list[Metric], dict[str, Any], list[str]]:
    """Run ``evaluate`` through a recording wrapper and build the per-group metrics."""
    recorder = RecordingRedactor(redactor)
    summary = evaluate(recorder, corpus, seed=seed, resamples=resamples)
    if len(recorder.calls) != len(corpus.utterances):
        raise RuntimeError("evaluate did not redact each utterance exactly once")
    gold: list[GoldOutcome] = []
    pred: list[PredOutcome] = []
    keep: list[KeepOutcome] = []
    utts: list[UtteranceOutcome] = []
    for utt, (text, redacted_text, spans, mapping) in zip(
        corpus.utterances, recorder.calls, strict=True
    ):
        if text != utt.text:
            raise RuntimeError("evaluate redacted the utterances in an unexpected order")
        g, p, k, u = score_utterance(
            utt, spans, blocked=residual(redacted_text, mapping), direct=direct
        )
        gold += g
        pred += p
        keep += k
        utts.append(u)

    common = dict(seed=seed, resamples=resamples, cluster_fn=lambda o: o.utterance)
    direct_gold = [o for o in gold if o.type in direct]
    caught = lambda o: 1.0 if o.caught else 0.0  # noqa: E731
    metrics = [
        group_metric(
            direct_gold,
            caught,
            lambda o: o.group,
            name="direct_identifier_recall",
            description="Share of direct identifiers (names, phone, NHS and NI numbers, "
            "postcodes, addresses, emails, dates of birth) with every letter and digit "
            "redacted; grouped by the origin of the name (else of the utterance).",
            higher_is_better=True,
            group_by="name_origin",
            goal=goals.get("direct_recall_min"),
            **common,
        ),
        group_metric(
            gold,
            caught,
            lambda o: o.type,
            name="identifier_recall_by_type",
            description="Share of gold identifier spans of every type fully redacted, by type.",
            higher_is_better=True,
            group_by="entity_type",
            **common,
        ),
        group_metric(
            [o for o in gold if o.type == "PERSON"],
            caught,
            lambda o: o.group,
            name="person_name_recall",
            description="Share of people's names fully redacted, by the name's origin.",
            higher_is_better=True,
            group_by="name_origin",
            goal=goals.get("group_direct_recall_min"),
            **common,
        ),
        group_metric(
            direct_gold,
            caught,
            lambda o: o.split,
            name="direct_identifier_recall_by_split",
            description="Direct-identifier recall on the templates used for tuning and on the "
            "held-out ones (a gap means the recognisers fit the tuning text).",
            higher_is_better=True,
            group_by="split",
            **common,
        ),
        group_metric(
            direct_gold,
            caught,
            lambda o: o.form,
            name="direct_identifier_recall_by_form",
            description="Direct-identifier recall on written text and on Whisper-style text "
            "(lower case, spoken numbers).",
            higher_is_better=True,
            group_by="form",
            **common,
        ),
        group_metric(
            pred,
            lambda o: 1.0 if o.correct else 0.0,
            lambda o: o.type,
            name="redaction_precision",
            description="Share of redacted spans that are at least half gold identifier, by "
            "the redacted type.",
            higher_is_better=True,
            group_by="entity_type",
            goal=goals.get("precision_min"),
            **common,
        ),
        group_metric(
            keep,
            lambda o: 1.0 if o.removed else 0.0,
            lambda o: o.kind,
            name="over_redaction_rate",
            description="Share of words that must survive (Mum, Nan, the school, ages, times, "
            "money ...) with any letter or digit redacted, by kind.",
            higher_is_better=False,
            group_by="keep_kind",
            **common,
        ),
        group_metric(
            [u for u in utts if u.leak],
            lambda u: 1.0 if u.blocked else 0.0,
            lambda u: u.group,
            name="residual_check_blocks_leaks",
            description="Of utterances where a direct identifier was missed, the share the "
            "pipeline's residual check would stop before drafting.",
            higher_is_better=True,
            group_by="name_origin",
            seed=seed,
            resamples=resamples,
        ),
        group_metric(
            [u for u in utts if not u.leak],
            lambda u: 1.0 if u.blocked else 0.0,
            lambda u: u.group,
            name="residual_check_blocks_clean",
            description="Of fully redacted utterances, the share the residual check would stop "
            "needlessly.",
            higher_is_better=False,
            group_by="name_origin",
            seed=seed,
            resamples=resamples,
        ),
    ]
    notes = []
    theirs = summary.get("slices", {}).get("all", {}).get("direct_recall", {}).get("value")
    ours = metrics[0].value
    if theirs is not None and ours is not None and abs(theirs - ours) > 1e-9:
        notes.append(
            f"direct_identifier_recall {ours:.4f} differs from redaction_eval's {theirs:.4f}: "
            "the matching rules have diverged; trust neither until they agree."
        )
    details = {
        "throughput": summary.get("throughput"),
        "redaction_eval_headline": {
            name: {
                "direct_recall": sl.get("direct_recall"),
                "precision": sl.get("precision"),
                "over_redaction": (sl.get("over_redaction") or {}).get("rate"),
                "group_gap": sl.get("group_gap"),
                "goals_met": sl.get("goals_met"),
            }
            for name, sl in summary.get("slices", {}).items()
        },
    }
    return metrics, details, notes


# --- drafting prompts ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PromptLeak:
    scenario: str
    identifier: str
    type: str
    origin: str
    found: bool
    blocked: bool


def scenario_transcript(scenario: Scenario):
    """The scenario's turns as a text transcript: one segment per turn, speaker labels kept."""
    from assistant.domain import Segment, Transcript
    from assistant.transcription.whisper import segment_id

    segments, clock = [], 0.0
    for i, turn in enumerate(scenario.turns, start=1):
        length = max(len(turn.text.split()) / 2.5, 0.5)
        segments.append(
            Segment(
                id=segment_id(i),
                start=round(clock, 2),
                end=round(clock + length, 2),
                text=turn.text,
                speaker=turn.speaker,
            )
        )
        clock += length
    return Transcript(
        segments=tuple(segments), language="en", duration_s=round(clock, 2), source="text"
    )


def identifier_pattern(text: str) -> re.Pattern[str]:
    """Case-insensitive, on word boundaries, any run of spaces where the gold has a space."""
    body = r"\s+".join(re.escape(part) for part in text.split())
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def prompt_text(messages: Sequence[dict[str, str]]) -> str:
    return "\n\n".join(m["content"] for m in messages)


def prompt_leaks(engines, scenarios: Sequence[Scenario]) -> tuple[list[PromptLeak], list[str]]:
    from assistant.redaction.redactor import residual_identifiers

    leaks: list[PromptLeak] = []
    notes: list[str] = []
    for s in scenarios:
        redacted, mapping = engines.redactor.redact(scenario_transcript(s))
        drafter = engines.drafter(s.template)
        prompt = prompt_text(drafter.messages(redacted.segments))
        empty = prompt_text(drafter.messages([]))
        blocked = bool(residual_identifiers(redacted, mapping))
        seen: set[tuple[str, str]] = set()
        for ident in s.gold.identifiers:
            if ident.type not in PROMPT_TYPES or (ident.text.lower(), ident.type) in seen:
                continue
            seen.add((ident.text.lower(), ident.type))
            pattern = identifier_pattern(ident.text)
            if pattern.search(empty):
                notes.append(
                    f"{s.id}: a gold {ident.type} also occurs in the prompt template itself; "
                    "not counted."
                )
                continue
            leaks.append(
                PromptLeak(
                    scenario=s.id,
                    identifier=ident.text,
                    type=ident.type,
                    origin=ident.origin or s.family_origin,
                    found=bool(pattern.search(prompt)),
                    blocked=blocked,
                )
            )
    return leaks, notes


def prompt_metrics(leaks: Sequence[PromptLeak], *, seed: int, resamples: int) -> list[Metric]:
    common = dict(
        group_fn=lambda x: x.origin,
        group_by="name_origin",
        cluster_fn=lambda x: x.scenario,
        higher_is_better=False,
        seed=seed,
        resamples=resamples,
    )
    found = lambda x: 1.0 if x.found else 0.0  # noqa: E731
    return [
        group_metric(
            leaks,
            found,
            name="identifiers_in_prompt",
            description="Distinct gold direct identifiers of the synthetic visits still present "
            "(case-insensitive, whole words) in the drafting prompt built from the redacted "
            "transcript; a count over scenarios, by name origin (non-name identifiers take the "
            "family's origin).",
            unit="count",
            statistic="sum",
            goal=0.0,
            **common,
        ),
        group_metric(
            leaks,
            found,
            name="identifiers_in_prompt_rate",
            description="The same as a share of the gold direct identifiers.",
            goal=0.0,
            **common,
        ),
        group_metric(
            leaks,
            lambda x: 1.0 if x.found and not x.blocked else 0.0,
            name="identifiers_reaching_llm",
            description="Identifiers in prompts that the pipeline's residual check would not "
            "block, i.e. that would reach the language model (a count).",
            unit="count",
            statistic="sum",
            goal=0.0,
            **common,
        ),
    ]


# --- names swaps ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class NamesSwap:
    scenario: str
    target: str
    """The copy's names: 'names-somali' ..."""
    same: bool


def names_swaps(redactor, scenarios: Sequence[Scenario]) -> list[NamesSwap]:
    """The bias suite's names swaps of ``scenarios``, each with whether the copy redacts to the
    original's text (compared as the bias suite compares them: ``notes.redacted_digest`` of the
    service's text transcript)."""
    from eval.suites.bias import FULL, variants
    from eval.suites.notes import redacted_digest
    from eval.suites.notes import scenario_transcript as text_transcript

    found, _ = variants(scenarios, ("names",), FULL.name_origins)
    digests: dict[str, str] = {}

    def digest(s: Scenario) -> str:
        if s.id not in digests:
            redacted, _ = redactor.redact(text_transcript(s))
            digests[s.id] = redacted_digest(redacted)
        return digests[s.id]

    return [
        NamesSwap(original.id, copy.id.rsplit("@", 1)[-1], digest(original) == digest(copy))
        for _, original, copy, _ in found
    ]


def names_swap_metric(swaps: Sequence[NamesSwap], *, seed: int, resamples: int) -> Metric:
    return group_metric(
        swaps,
        lambda x: 1.0 if x.same else 0.0,
        lambda x: x.target,
        name="names_swap_same_redaction",
        description="Share of the bias suite's names swaps (each scenario with its family's "
        "names changed to another origin's) whose redacted transcript is identical to the "
        "original's, by the copy's name origin; where it differs, the drafting model reads "
        "different words for a family only because of its names.",
        higher_is_better=True,
        group_by="copy_name_origin",
        cluster_fn=lambda x: x.scenario,
        seed=seed,
        resamples=resamples,
    )


# --- the suite ------------------------------------------------------------------------------------
def run(ctx: EvalContext) -> SuiteResult:
    from assistant.redaction.redactor import config_hash

    resamples = int(ctx.cache.get("resamples", 1000))
    engines = ctx.engines
    notes: list[str] = []
    dataset: dict[str, str] = {}
    details: dict[str, Any] = {"redaction_config_hash": config_hash(), "tables": {}}
    metrics: list[Metric] = []

    try:
        from eval import redaction_eval as re_eval

        evaluate, load_corpus = re_eval.evaluate, re_eval.load_corpus
    except (ImportError, AttributeError) as exc:
        notes.append(f"Redaction corpus not scored: eval.redaction_eval unavailable ({exc}).")
        re_eval = None
    if re_eval is not None:
        corpus = load_corpus()
        dataset["redaction_corpus"] = corpus.sha256
        if ctx.quick:
            chosen = {u.id for u in corpus.utterances[::QUICK_STRIDE]}
            corpus = corpus.where(lambda u: u.id in chosen)
            notes.append(
                f"Quick run: every {QUICK_STRIDE}th corpus utterance "
                f"({len(corpus.utterances)} utterances)."
            )
        m, d, n = corpus_metrics(
            engines.redactor,
            corpus,
            seed=ctx.seed,
            resamples=resamples,
            evaluate=evaluate,
            direct=getattr(re_eval, "DIRECT_TYPES", PROMPT_TYPES),
            goals=getattr(re_eval, "GOALS", {}),
            residual=_residual_blocked,
        )
        metrics += m
        details.update(d)
        details["matching"] = getattr(re_eval, "MATCHING", None)
        notes += n

    scenarios = load_scenarios()
    dataset["scenarios"] = corpus_sha256()
    if ctx.quick:
        scenarios = scenarios[:: max(1, len(scenarios) // QUICK_SCENARIOS)][:QUICK_SCENARIOS]
    leaks, n = prompt_leaks(engines, scenarios)
    notes += n
    metrics += prompt_metrics(leaks, seed=ctx.seed, resamples=resamples)
    found = [x for x in leaks if x.found]
    details["tables"]["identifiers_in_prompt"] = {
        "columns": ["scenario", "type", "origin", "identifier", "blocked by residual check"],
        "rows": [[x.scenario, x.type, x.origin, x.identifier, x.blocked] for x in found],
    }
    swaps = names_swaps(engines.redactor, scenarios)
    if swaps:
        metrics.append(names_swap_metric(swaps, seed=ctx.seed, resamples=resamples))
        details["tables"]["names_swaps_redacted_differently"] = {
            "columns": ["scenario", "copy's names"],
            "rows": [[x.scenario, x.target] for x in swaps if not x.same],
        }
    details["scenarios"] = [s.id for s in scenarios]
    details["prompt_template"] = sorted({s.template for s in scenarios})
    notes.append(
        "Prompts are built with Drafter.messages from the redacted scenario transcripts; no "
        "language model is called. Identifiers are the synthetic visits' invented ones."
    )
    return SuiteResult(
        suite=SUITE,
        suite_version=SUITE_VERSION,
        dataset=dataset,
        metrics=apply_holm(metrics),
        details=details,
        notes=notes,
    )


def _residual_blocked(redacted_text: str, mapping) -> bool:
    """Whether the pipeline's residual check would stop this redacted utterance."""
    from assistant.domain import RedactedSegment, RedactedTranscript
    from assistant.redaction.redactor import residual_identifiers

    redacted = RedactedTranscript(
        segments=(RedactedSegment(id="u", start=0.0, end=1.0, text=redacted_text),),
        language="en",
        duration_s=1.0,
        entities=(),
        config_hash="eval",
    )
    return bool(residual_identifiers(redacted, mapping))
