"""Classify-call benchmark: where one per-segment call's time goes, and what reading the answer
from its first tokens saves.

A classify template (``visit_note`` v3) asks the model about every segment in turn, so a
visit's draft time is the transcript block read once plus hundreds of short calls. This drafts
the first ``--segments`` segments of the long visit of :mod:`eval.datasets.long_visit` (redacted as
the service does) twice on the configured profile's model, each time from an empty cache:

- reference: every answer generated whole (``Drafter(label_peek_tokens=None)``: the opening
  quote, the key's tokens, the closing quote and the end token);
- ours: every answer read from its first tokens
  (:data:`assistant.drafting.drafter.LABEL_PEEK_TOKENS`),
  asking for the whole answer only when they fit more than one key.

It prints, from that one run, each run's draft time, and per call after the first (the first
reads the block): seconds, llama.cpp's prompt-eval seconds and tokens, its decode seconds and
tokens, and the rest (Python, chat template, grammar); then the ratio ours/reference and
whether the two notes are identical (they must be: the grammar forces the rest of a label).

    CASEASSIST_PROFILE=default .venv/bin/python benchmarks/classify_call_bench.py [--segments 60]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


class _Meter:
    """The model, measured call by call with llama.cpp's own counters."""

    def __init__(self, llm: Any) -> None:
        self._llm = llm
        self.calls: list[dict[str, float]] = []

    def create_chat_completion(self, *args: Any, **kwargs: Any) -> Any:
        import llama_cpp

        ctx = self._llm._ctx.ctx
        llama_cpp.llama_perf_context_reset(ctx)
        t0 = time.perf_counter()
        response = self._llm.create_chat_completion(*args, **kwargs)
        seconds = time.perf_counter() - t0
        perf = llama_cpp.llama_perf_context(ctx)
        self.calls.append(
            {
                "seconds": seconds,
                "prompt_s": perf.t_p_eval_ms / 1000,
                "prompt_tokens": perf.n_p_eval,
                "decode_s": perf.t_eval_ms / 1000,
                "decode_tokens": perf.n_eval,
            }
        )
        return response

    def tokenize(self, *args: Any, **kwargs: Any) -> Any:
        return self._llm.tokenize(*args, **kwargs)

    def n_ctx(self) -> int:
        return self._llm.n_ctx()


def _draft(
    engines: Any, redacted: Any, peek: int | None, version: Any = "v3"
) -> tuple[Any, float, list[dict]]:
    """One draft from an empty cache with ``version`` (a visit_note version, or a loaded
    template), answers read from ``peek`` tokens; the note, its seconds and every call."""
    from assistant.drafting.drafter import Drafter
    from assistant.drafting.templates import load_template

    engines.llm.reset()  # each run reads the transcript block itself
    meter = _Meter(engines.llm)
    drafter = Drafter(
        meter,
        load_template("visit_note", version) if isinstance(version, str) else version,
        model=engines.models.llm,
        max_tokens=engines.settings.llm_max_tokens,
        seed=engines.settings.seed,
        label_peek_tokens=peek,
    )
    t0 = time.perf_counter()
    note = drafter.draft(redacted)
    return note, time.perf_counter() - t0, meter.calls


def long_visit_start(engines: Any, segments: int) -> tuple[Any, int]:
    """The first ``segments`` segments of the long visit of :mod:`eval.datasets.long_visit`,
    redacted as the service redacts them, and their number of words."""
    from assistant.pipeline import redact_transcript
    from eval.datasets.long_visit import build_long_visit
    from eval.datasets.scenarios import load_scenarios

    visit = build_long_visit(load_scenarios())
    redacted, _ = redact_transcript(engines, visit.transcript)
    redacted = redacted.model_copy(update={"segments": redacted.segments[:segments]})
    return redacted, sum(len(s.text.split()) for s in redacted.segments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--segments", type=int, default=60, help="segments of the long visit drafted"
    )
    args = parser.parse_args()

    from assistant.drafting.drafter import LABEL_PEEK_TOKENS
    from assistant.model_store.store import resolve_models
    from assistant.pipeline import Engines
    from assistant.settings import Settings

    settings = Settings()
    engines = Engines.load(settings, resolve_models(settings))
    redacted, words = long_visit_start(engines, args.segments)
    print(
        f"model: {engines.models.llm.name} ({settings.profile} profile), "
        f"{settings.llm_threads} threads; visit_note v3; first {len(redacted.segments)} "
        f"segments of the long visit ({words} words)"
    )
    runs = {
        "reference (whole answers)": _draft(engines, redacted, None),
        f"ours (first {LABEL_PEEK_TOKENS} tokens)": _draft(engines, redacted, LABEL_PEEK_TOKENS),
    }
    for name, (_, seconds, calls) in runs.items():
        rest = calls[1:]
        n = len(rest)

        def mean(key: str, rest: list[dict] = rest, n: int = n) -> float:
            return sum(c[key] for c in rest) / n

        other = mean("seconds") - mean("prompt_s") - mean("decode_s")
        print(f"\n== {name}")
        print(
            f"  draft {seconds:.1f} s, {len(calls)} calls; the first (reads the block) "
            f"{calls[0]['seconds']:.1f} s for {calls[0]['prompt_tokens']} tokens"
        )
        print(
            f"  per later call: {mean('seconds'):.3f} s = prompt eval {mean('prompt_s'):.3f} s "
            f"({mean('prompt_tokens'):.1f} tokens) + decode {mean('decode_s'):.3f} s "
            f"({mean('decode_tokens'):.1f} tokens) + other {other:.3f} s"
        )
    (ref_note, ref_s, ref_calls), (our_note, our_s, our_calls) = runs.values()

    def per_call(calls: list[dict]) -> float:
        return sum(c["seconds"] for c in calls[1:]) / (len(calls) - 1)

    print(
        f"\nratio ours/reference: draft time {our_s / ref_s:.2f}, "
        f"per later call {per_call(our_calls) / per_call(ref_calls):.2f}"
    )
    same = ref_note.model_dump() == our_note.model_dump()
    print(f"notes identical: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
