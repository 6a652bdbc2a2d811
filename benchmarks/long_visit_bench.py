"""Long-visit drafting benchmark: a 60-minute visit (about 9,000 words) on the default model.

Builds the long visit of :mod:`eval.datasets.long_visit` (scenario visits joined end to end),
redacts it as the service does, drafts it with the latest ``visit_note`` template (v4: classify, one
call per segment, asked about by its number; ``--version v3``: the same, asked about by its line;
``--version v2``: extractive, one call per section per chunk; either way the transcript chunk
is a prefix every call's prompt shares) and reviews it in code, then prints
from that one run: words, segments, the model calls (seconds, prompt tokens, how many of them
llama.cpp actually read and how many came from its cache, tokens generated; each call when
there are few, the first calls and the totals when there are hundreds), the prompt tokens read
in all, the draft time against the 8-minute goal,
statements, the share flagged unsupported, and critical-fact recall for the first, middle and
last third of the visit.

With ``--reference`` it then drafts the same transcript again with prefix reuse switched off
(the model's cache is cleared before every call, so every section's call reads the system
prompt and the whole chunk again) and prints both runs side by side with the ratio. That
reference takes far longer than the measured run.

    CASEASSIST_PROFILE=default .venv/bin/python benchmarks/long_visit_bench.py \
        [--version v3|v2] [--reference] [--words N]

``CASEASSIST_LLM_CHUNK_TOKENS=N`` (the ``llm_chunk_tokens`` setting, 4096 by default) reads the
transcript in chunks of at most N prompt tokens; ``CASEASSIST_LLM_CHUNK_TOKENS=0`` reads it in
chunks of the whole context window (the default before 2026-11-24, the reference the cap beat).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from eval.datasets.long_visit import TARGET_WORDS  # noqa: E402

GOAL_SECONDS = 8 * 60
LISTED_CALLS = 30
"""Up to this many calls are listed one by one; beyond it, the first ten and the totals."""


class _Meter:
    """The model, measured call by call: seconds, prompt tokens, the prompt tokens it actually
    read (llama.cpp's own counter; the rest came from its cache) and tokens generated. With
    ``reuse=False`` the cache is cleared before every call (the reference)."""

    def __init__(self, llm: Any, *, reuse: bool) -> None:
        self._llm = llm
        self._reuse = reuse
        self.calls: list[dict[str, Any]] = []

    def create_chat_completion(self, *args: Any, **kwargs: Any) -> Any:
        import llama_cpp

        if not self._reuse:
            self._llm.reset()
        ctx = self._llm._ctx.ctx
        llama_cpp.llama_perf_context_reset(ctx)
        t0 = time.perf_counter()
        response = self._llm.create_chat_completion(*args, **kwargs)
        perf = llama_cpp.llama_perf_context(ctx)
        usage = response.get("usage", {})
        self.calls.append(
            {
                "seconds": time.perf_counter() - t0,
                "prompt_tokens": usage.get("prompt_tokens"),
                "read_tokens": perf.n_p_eval,
                "generated": usage.get("completion_tokens"),
                "finish": response["choices"][0].get("finish_reason"),
            }
        )
        return response

    def tokenize(self, *args: Any, **kwargs: Any) -> Any:
        return self._llm.tokenize(*args, **kwargs)

    def n_ctx(self) -> int:
        return self._llm.n_ctx()


def _run(
    engines: Any, reuse: bool, redacted: Any, visit: Any, version: str | None
) -> dict[str, Any]:
    from assistant.drafting.drafter import Drafter
    from assistant.drafting.templates import load_template
    from assistant.pipeline import review_note
    from eval.suites import notes as N

    llm = _Meter(engines.llm, reuse=reuse)
    drafter = Drafter(
        llm,
        load_template("visit_note", version),
        model=engines.models.llm,
        max_tokens=engines.settings.llm_max_tokens,
        seed=engines.settings.seed,
        chunk_tokens=engines.settings.llm_chunk_tokens,
    )
    t0 = time.perf_counter()
    raw = drafter.draft(redacted)
    seconds = time.perf_counter() - t0
    note = review_note(raw, redacted)
    statements = note.all_statements()
    unsupported = sum(N.is_unsupported(st) for st in statements)
    thirds: list[list[bool]] = [[], [], []]
    cited: list[list[bool]] = [[], [], []]
    n = len(visit.parts)
    for i, part in enumerate(visit.parts):
        scored = N.score_scenario(
            part.scenario,
            N.Drafted(part.scenario.id, visit.transcript, redacted, None, note, None, seconds),
            first_segment=part.first_segment,
        )
        thirds[min(2, i * 3 // n)].extend(r for _, critical, r in scored.facts if critical)
        cited[min(2, i * 3 // n)].extend(scored.critical_cited)
    return {
        "seconds": seconds,
        "calls": llm.calls,
        "statements": len(statements),
        "unsupported": unsupported,
        "thirds": thirds,
        "cited": cited,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reference",
        action="store_true",
        help="also draft with prefix reuse switched off and compare",
    )
    parser.add_argument("--version", help="visit_note template version (default: the latest)")
    parser.add_argument(
        "--words",
        type=int,
        default=TARGET_WORDS,
        help=f"join scenarios up to this many words (default: {TARGET_WORDS}, an hour); a "
        "shorter visit makes a quicker comparison, e.g. of llm_chunk_tokens values",
    )
    args = parser.parse_args()

    from assistant.model_store.store import resolve_models
    from assistant.pipeline import Engines, redact_transcript
    from assistant.settings import Settings
    from eval.datasets.long_visit import build_long_visit
    from eval.datasets.scenarios import load_scenarios

    settings = Settings()
    engines = Engines.load(settings, resolve_models(settings))
    visit = build_long_visit(load_scenarios(), target_words=args.words)
    redacted, _ = redact_transcript(engines, visit.transcript)
    print(
        f"model: {engines.models.llm.name} ({settings.profile} profile), "
        f"n_ctx {settings.llm_n_ctx}, chunk_tokens {settings.llm_chunk_tokens}, "
        f"max_tokens {settings.llm_max_tokens}, "
        f"{settings.llm_threads} threads"
    )
    print(
        f"visit: {visit.words} words, {len(redacted.segments)} segments, "
        f"{visit.transcript.duration_s / 60:.0f} minutes at 150 words/min, "
        f"{len(visit.parts)} joined scenario visits"
    )

    from assistant.drafting.templates import load_template

    template = load_template("visit_note", args.version)
    print(f"template: visit_note {template.version} ({template.style})")
    runs = {"ours (prefix reuse)": _run(engines, True, redacted, visit, args.version)}
    if args.reference:
        runs["reference (no reuse)"] = _run(engines, False, redacted, visit, args.version)
    for name, r in runs.items():
        print(f"\n== {name}")
        calls = r["calls"]
        listed = calls if len(calls) <= LISTED_CALLS else calls[:10]
        for i, c in enumerate(listed, start=1):
            print(
                f"  call {i}: {c['seconds']:.1f} s, prompt {c['prompt_tokens']} tokens "
                f"(read {c['read_tokens']}, {c['prompt_tokens'] - c['read_tokens']} from the "
                f"cache), generated {c['generated']}, finish {c['finish']}"
            )
        if len(listed) < len(calls):
            print(f"  ... {len(calls) - len(listed)} more calls")
        prompt = sum(c["prompt_tokens"] for c in calls)
        read = sum(c["read_tokens"] for c in calls)
        generated = sum(c["generated"] for c in calls)
        print(
            f"  calls {len(calls)}: prompt tokens {prompt}, read {read}, from the cache "
            f"{prompt - read}, generated {generated}, "
            f"{sum(c['seconds'] for c in calls) / max(len(calls), 1):.2f} s a call on average"
        )
        print(f"  prompt tokens read in all: {read}")
        total = r["seconds"]
        print(
            f"  draft time {total:.1f} s = {total / 60:.2f} min "
            f"(goal {GOAL_SECONDS / 60:.0f} min: {'met' if total < GOAL_SECONDS else 'NOT met'})"
        )
        share = r["unsupported"] / r["statements"] if r["statements"] else 0.0
        print(
            f"  statements {r['statements']}, flagged unsupported {r['unsupported']} ({share:.1%})"
        )
        for label, rec, cit in zip(("first", "middle", "last"), r["thirds"], r["cited"],
                                   strict=True):  # fmt: skip
            print(
                f"  critical facts, {label} third: recalled {sum(rec)}/{len(rec)}, "
                f"cited {sum(cit)}/{len(cit)}"
            )
    if args.reference:
        ours, ref = runs.values()
        print(f"\nratio ours/reference, draft time: {ours['seconds'] / ref['seconds']:.2f}")


if __name__ == "__main__":
    main()
