"""The diarisation suite's run: roles from the typed scenarios, then rendered scenarios and the
sample call through speech recognition, speaker separation and the role rules; on the rendered
scenarios the roles also with the social worker's voice enrolled (from ``ENROLMENT_TEXT``, a
passage no visit uses, spoken in the worker's voice)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np

from assistant.diarisation import infer_roles, voice_print, with_roles
from assistant.diarisation.labels import name_speakers
from assistant.domain import Transcript
from eval.core import EvalContext, Metric, SuiteResult
from eval.datasets.scenarios import Scenario, corpus_sha256, load_scenarios
from eval.scoring.stats import group_metric
from eval.suites.diarisation.inputs import (
    enrolment_sample,
    hidden_labels,
    pick_rendered,
    render,
    sample_call,
    sha_of,
    true_roles,
)
from eval.suites.diarisation.scoring import COLLAR_S, Turn, der, hypothesis_turns, word_attribution

SUITE = "diarisation"
SUITE_VERSION = "3"  # 2: roles with the enrolled voice; 3: DER timeline follows the words


@dataclass(frozen=True)
class Plan:
    rendered: int
    turns: int
    sample_call: bool


QUICK = Plan(rendered=2, turns=12, sample_call=False)
FULL = Plan(rendered=4, turns=20, sample_call=True)


@dataclass(frozen=True)
class RoleItem:
    visit: str
    speaker: str
    truth: str
    guess: str
    confidence: float


@dataclass(frozen=True)
class Recording:
    item: str
    corpus: str
    duration_s: float
    der: dict[str, Any]
    der_collar: dict[str, Any]
    true_speakers: int
    found: int
    words_right: int
    words: int
    diarise_s: float
    roles: list[RoleItem] = field(default_factory=list)
    #: the roles again with the social worker's voice enrolled (rendered scenarios only)
    roles_enrolled: list[RoleItem] = field(default_factory=list)
    #: the enrolled voice: recognised as the true social worker, another speaker, or none
    voice: str = ""
    voice_similarity: float | None = None

    def errors_s(self, key: str) -> float:
        """Seconds of error behind the DER ``key`` (``der`` or ``der_collar``)."""
        return float(getattr(self, key)["der"]) * float(self.der["reference_s"])


def run(ctx: EvalContext) -> SuiteResult:
    plan = QUICK if ctx.quick else FULL
    scenarios = load_scenarios()
    resamples = int(ctx.cache.get("resamples", 1000))
    notes = [
        "Role rules (assistant/diarisation/roles.py) were written against these same synthetic "
        "scenarios: the typed-role figures are in-sample, not a measurement on real visits.",
        "Scenario grandparents, aunts, uncles, foster carers and key workers count as 'carer'; "
        "mothers, fathers, step-parents and partners as 'parent'.",
        f"DER is scored every 10 ms, without a collar and with a {COLLAR_S} s collar, against "
        "the stage's timeline: the nearest window's speaker, each change of speaker moved to "
        "the first word of the new speaker (eval/suites/diarisation/scoring.py).",
    ]
    dataset = {"scenarios": corpus_sha256()}
    typed = typed_roles(scenarios)
    metrics = role_metrics(typed, "typed", ctx.seed, resamples)
    recordings = rendered_recordings(ctx, plan, scenarios)
    dataset["rendered_scenarios"] = sha_of([r.item for r in recordings])
    if plan.sample_call:
        call = sample_call_recording(ctx)
        if isinstance(call, str):
            notes.append(f"The pyannote sample call was left out: {call}.")
        else:
            recordings.append(call)
            dataset["pyannote_sample_wheel"] = call.der["wheel_sha256"]
    else:
        notes.append("Quick run: the pyannote sample call is left out.")
    metrics += recording_metrics(recordings, ctx.seed, resamples)
    audio_roles = [r for rec in recordings for r in rec.roles]
    if audio_roles:
        metrics += role_metrics(audio_roles, "audio", ctx.seed, resamples)
    enrolled = [r for rec in recordings for r in rec.roles_enrolled]
    if enrolled:
        metrics += role_metrics(enrolled, "audio_enrolled", ctx.seed, resamples)
        metrics += voice_metrics([rec for rec in recordings if rec.voice], ctx.seed, resamples)
        notes.append(
            "With enrolment: the social worker's voice is enrolled from a passage no visit "
            "uses (eval/suites/diarisation/inputs.py ENROLMENT_TEXT) spoken in the worker's "
            "espeak-ng voice; the speaker nearest it, if similar enough, is the social worker "
            "and the other roles come from the words."
        )
    return SuiteResult(
        suite=SUITE,
        suite_version=SUITE_VERSION,
        dataset=dataset,
        metrics=metrics,
        details={"plan": asdict(plan) | {"quick": ctx.quick}, "tables": tables(recordings, typed)},
        notes=notes,
    )


# --- roles from typed scenarios ---
def typed_roles(scenarios: list[Scenario]) -> list[RoleItem]:
    """Every speaker of every scenario, its labels hidden: the role the rules give it."""
    items = []
    for s in scenarios:
        lines, label_of = hidden_labels(s)
        truth = true_roles(s)
        guesses = infer_roles(lines)
        for hyp, g in guesses.items():
            speaker = label_of[hyp]
            items.append(RoleItem(s.id, speaker, truth[speaker], g.role, g.confidence))
    return items


def role_metrics(items: list[RoleItem], source: str, seed: int, resamples: int) -> list[Metric]:
    """Role accuracy by role, and the share of visits with the social worker and every child
    right (the issue's goal: at least 90% without enrolment)."""
    by_visit: dict[str, list[RoleItem]] = {}
    for it in items:
        by_visit.setdefault(it.visit, []).append(it)
    visits = [
        (v, all(i.guess == i.truth for i in its if i.truth in ("social_worker", "child")))
        for v, its in sorted(by_visit.items())
        if any(i.truth == "child" for i in its) and any(i.truth == "social_worker" for i in its)
    ]
    what = {
        "typed": "typed scenarios, speaker labels hidden",
        "audio": "rendered audio",
        "audio_enrolled": "rendered audio, the social worker's voice enrolled",
    }[source]
    goal = 1.0 if source == "audio_enrolled" else 0.9  # the goals
    return [
        group_metric(
            items, lambda i: float(i.guess == i.truth), lambda i: i.truth,
            name=f"role_accuracy_{source}", group_by="role", cluster_fn=lambda i: i.visit,
            description=f"speakers given their true role ({what})", higher_is_better=True,
            seed=seed, resamples=resamples,
        ),
        group_metric(
            visits, lambda v: float(v[1]),
            name=f"visits_social_worker_and_child_right_{source}",
            description=f"visits whose social worker and every child got the right role ({what})",
            higher_is_better=True, goal=goal, seed=seed, resamples=resamples,
        ),
    ]  # fmt: skip


# --- recordings ---
def rendered_recordings(ctx: EvalContext, plan: Plan, scenarios: list[Scenario]) -> list[Recording]:
    out = []
    for s in pick_rendered(scenarios, plan.rendered):
        r = render(s, plan.turns)
        spoken = {turn[0] for turn in r.reference}  # the roles of those the turns reach
        roles = {k: v for k, v in true_roles(s).items() if k in spoken}
        item = f"{s.id}[:{plan.turns}]"
        worker = [k for k, v in roles.items() if v == "social_worker"]
        voice = s.voice(worker[0]) if len(worker) == 1 else None
        out.append(measure(ctx, item, "rendered", r.pcm, r.reference, roles, enrol_voice=voice))
    return out


def sample_call_recording(ctx: EvalContext) -> Recording | str:
    call = sample_call()
    if isinstance(call, str):
        return call
    pcm, reference, wheel_sha = call
    rec = measure(ctx, "pyannote-sample", "sample_call", pcm, reference, None)
    rec.der["wheel_sha256"] = wheel_sha
    return rec


def measure(
    ctx: EvalContext,
    item: str,
    corpus: str,
    pcm: np.ndarray,
    reference: list[Turn],
    roles: dict[str, str] | None,
    *,
    enrol_voice: str | None = None,
) -> Recording:
    """Transcribe, separate speakers and suggest roles as the service does; score it all.
    ``enrol_voice``: the social worker's espeak-ng voice, enrolled (``ENROLMENT_TEXT``) for the
    roles with enrolment, as ``pipeline.diarise_transcript`` uses an owner's voice."""
    from assistant.pipeline import load_diariser

    engines = ctx.engines
    diariser = engines.diariser or load_diariser(engines.settings, engines.models)
    transcript = engines.transcriber.transcribe(pcm)
    t0 = time.perf_counter()
    separated = diariser.separate(pcm)
    windows, clustered, embeddings = separated
    labels = clustered.labels
    base = diariser.labelled(pcm, transcript, separated)  # as Diariser.diarise records it
    found = base.diarisation.speakers if base.diarisation else 0
    labelled = with_roles(base)
    elapsed = time.perf_counter() - t0
    enrolled = None
    if enrol_voice is not None and roles is not None:
        sample = voice_print(diariser, enrolment_sample(enrol_voice))
        if sample is not None:
            heard = diariser.labelled(pcm, transcript, separated, voice=sample.embedding)
            match = heard.diarisation.voice if heard.diarisation else None
            if match is not None:
                enrolled = (with_roles(heard, social_worker=match.label), match)
    # the words' cluster labels, for the timeline DER is scored on (name_speakers is what
    # labelled ran; the stage keeps only the names)
    named, names = name_speakers(
        transcript, windows, labels, embeddings, max_speakers=diariser.options.max_speakers
    )
    label_of = {name: label for label, name in names.items()}
    hyp = hypothesis_turns(
        windows,
        labels,
        [(w.start, label_of[s.speaker or ""]) for s in named.segments for w in s.words],
    )
    own = {sp.display: sp.label for sp in labelled.speakers}
    words = [
        ((w.start + w.end) / 2, own.get(seg.speaker or "", seg.speaker or ""))
        for seg in labelled.segments
        for w in seg.words
    ]
    attribution = word_attribution(reference, words)
    role_items = _role_items(item, roles, labelled, attribution.mapping) if roles else []
    enrolled_items, voice, similarity = [], "", None
    if enrolled is not None and roles:
        with_voice, match = enrolled
        enrolled_items = _role_items(item, roles, with_voice, attribution.mapping)
        worker = next(k for k, v in roles.items() if v == "social_worker")
        voice = (
            "none"
            if match.label is None
            else "worker"
            if match.label == attribution.mapping.get(worker)
            else "other"
        )
        similarity = match.similarity
    return Recording(
        item=item, corpus=corpus, duration_s=len(pcm) / 16000,
        der=der(reference, hyp) if hyp else {"der": 1.0, "reference_s": _speech_s(reference)},
        der_collar=der(reference, hyp, collar=COLLAR_S) if hyp else {"der": 1.0},
        true_speakers=len({t[0] for t in reference}), found=found,
        words_right=attribution.right, words=attribution.words, diarise_s=elapsed,
        roles=role_items, roles_enrolled=enrolled_items, voice=voice,
        voice_similarity=similarity,
    )  # fmt: skip


def _role_items(
    item: str, roles: dict[str, str], labelled: Transcript, mapping: dict[str, str]
) -> list[RoleItem]:
    """Each reference speaker's true role beside the role of the speaker its words went to."""
    given = {sp.label: sp for sp in labelled.speakers}
    out = []
    for speaker, truth in roles.items():
        sp = given.get(mapping.get(speaker, ""))
        out.append(RoleItem(item, speaker, truth, sp.role if sp else "missed",
                            sp.confidence if sp else 0.0))  # fmt: skip
    return out


def _speech_s(reference: list[Turn]) -> float:
    return sum(end - start for _, start, end in reference)


def recording_metrics(recs: list[Recording], seed: int, resamples: int) -> list[Metric]:
    """DER (pooled over reference speech) on the sample call and on the rendered scenarios, then
    the speaker count, the words given the right speaker and the stage's real-time factor."""
    metrics = []
    for collar, key in ((0.0, "der"), (COLLAR_S, "der_collar")):
        for name, goal in (("sample_call", 0.10), ("rendered", None)):
            chosen = [r for r in recs if r.corpus == name]
            if not chosen:
                continue
            how = "no collar" if collar == 0.0 else f"{collar} s collar"
            metrics.append(
                group_metric(
                    chosen,
                    partial(Recording.errors_s, key=key),
                    denominator_fn=lambda r: r.der["reference_s"],
                    name=f"{key}_{name}",
                    higher_is_better=False,
                    goal=goal if collar == 0.0 else None,
                    description=f"diarisation error rate, {name.replace('_', ' ')}, {how}",
                    seed=seed,
                    resamples=resamples,
                )
            )
    rows = (
        ("speaker_count_exact", "recordings whose speaker count was found exactly", True, 0.9,
         "proportion", lambda r: float(r.found == r.true_speakers), None),
        ("speaker_count_error", "speakers found minus true, absolute", False, None, "speakers",
         lambda r: float(abs(r.found - r.true_speakers)), None),
        ("words_right_speaker", "words given the right speaker (best one-to-one mapping)", True,
         0.95, "proportion", lambda r: float(r.words_right), lambda r: float(r.words)),
        ("diarisation_rtf", "speaker separation and roles: wall time / audio time", False, 0.05,
         "ratio", lambda r: r.diarise_s, lambda r: r.duration_s),
    )  # fmt: skip
    for name, description, higher, goal, unit, value_fn, denominator_fn in rows:
        metrics.append(
            group_metric(
                recs,
                value_fn,
                _corpus,
                name=name,
                description=description,
                higher_is_better=higher,
                goal=goal,
                unit=unit,
                denominator_fn=denominator_fn,
                group_by="corpus",
                seed=seed,
                resamples=resamples,
            )
        )
    return metrics


def voice_metrics(recs: list[Recording], seed: int, resamples: int) -> list[Metric]:
    """How often the enrolled voice was recognised as the visit's true social worker (rather
    than another speaker, or none)."""
    return [
        group_metric(
            recs, lambda r: float(r.voice == "worker"), name="enrolled_voice_recognised",
            description="rendered visits whose enrolled social worker's voice was recognised "
            "as the speaker the worker's words went to", higher_is_better=True, goal=1.0,
            seed=seed, resamples=resamples,
        ),
        group_metric(
            recs, lambda r: float(r.voice == "other"), name="enrolled_voice_wrong_speaker",
            description="rendered visits where another speaker was taken for the enrolled "
            "social worker", higher_is_better=False, goal=0.0, seed=seed, resamples=resamples,
        ),
    ]  # fmt: skip


def _corpus(r: Recording) -> str:
    return r.corpus


def tables(recs: list[Recording], typed: list[RoleItem]) -> dict[str, Any]:
    wrong = [i for i in typed if i.guess != i.truth]
    return {
        "recordings": {
            "columns": ["item", "corpus", "seconds", "DER", "DER (collar)", "speakers",
                        "found", "words right", "roles (truth -> given)",
                        "with enrolment", "voice (similarity)"],
            "rows": [
                [r.item, r.corpus, round(r.duration_s, 1), round(r.der["der"], 4),
                 round(r.der_collar["der"], 4), r.true_speakers, r.found,
                 f"{r.words_right}/{r.words}",
                 "; ".join(f"{i.truth}->{i.guess}" for i in r.roles),
                 "; ".join(f"{i.truth}->{i.guess}" for i in r.roles_enrolled),
                 f"{r.voice} ({r.voice_similarity})" if r.voice else ""]
                for r in recs
            ],
        },
        "typed_roles_wrong": {
            "columns": ["visit", "speaker", "true role", "given", "confidence"],
            "rows": [[i.visit, i.speaker, i.truth, i.guess, i.confidence] for i in wrong],
        },
    }  # fmt: skip
