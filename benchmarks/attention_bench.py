"""Attention benchmark: what llama.cpp's flash attention (``CASEASSIST_LLM_FLASH_ATTN``) saves
when drafting a long visit on a CPU, and whether the note changes.

A classify template (``visit_note`` v3) reads the transcript block once and then asks about
every segment in turn; each of those calls reads about 30 tokens that attend to the whole block
before them, so the cost of attention over a long context is what a long visit pays hundreds of
times. This drafts the first ``--segments`` segments of the long visit of
:mod:`eval.datasets.long_visit` (redacted as the service does) once per configuration, each with a
newly loaded model (an empty cache):

- reference: the model as the service loads it by default (flash attention off);
- flash attention: ``load_llm(..., flash_attn=True)``;
- flash attention with the key/value cache held as 8-bit (``--kv-q8``, optional: not a setting
  of the service; measured to see whether it is worth one).

It prints, from that one run, for each: the draft time, the first call (reads the block: tokens
and tokens a second), the average later call, the ratio to the reference, and how many
statements and segment labels differ from the reference's note.

    CASEASSIST_PROFILE=default .venv/bin/python benchmarks/attention_bench.py [--segments 250]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.classify_call_bench import _Meter, long_visit_start  # noqa: E402


def _load(engines: Any, *, flash_attn: bool, kv_q8: bool) -> Any:
    from assistant.drafting.llm import load_llm

    settings = engines.settings
    if not kv_q8:
        return load_llm(
            engines.models.llm_path,
            n_ctx=settings.llm_n_ctx,
            n_threads=settings.llm_threads,
            seed=settings.seed,
            n_gpu_layers=settings.llm_gpu_layers,
            flash_attn=flash_attn,
        )
    import llama_cpp

    return llama_cpp.Llama(
        model_path=str(engines.models.llm_path),
        n_ctx=settings.llm_n_ctx,
        n_threads=settings.llm_threads,
        n_threads_batch=settings.llm_threads,
        seed=settings.seed,
        n_gpu_layers=settings.llm_gpu_layers,
        flash_attn=flash_attn,
        type_k=llama_cpp.GGML_TYPE_Q8_0,
        type_v=llama_cpp.GGML_TYPE_Q8_0,
        verbose=False,
    )


def _draft(engines: Any, llm: Any, redacted: Any) -> tuple[Any, float, list[dict]]:
    from assistant.drafting.drafter import Drafter
    from assistant.drafting.templates import load_template

    meter = _Meter(llm)
    drafter = Drafter(
        meter,
        load_template("visit_note", "v3"),
        model=engines.models.llm,
        max_tokens=engines.settings.llm_max_tokens,
        seed=engines.settings.seed,
        chunk_tokens=engines.settings.llm_chunk_tokens,
    )
    t0 = time.perf_counter()
    note = drafter.draft(redacted)
    return note, time.perf_counter() - t0, meter.calls


def _labels(note: Any) -> dict[str, str]:
    """Segment id -> the section whose statements cite it."""
    return {
        seg: section.key
        for section in note.sections
        for statement in section.statements
        for seg in statement.evidence
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--segments", type=int, default=250, help="segments of the long visit drafted"
    )
    parser.add_argument(
        "--kv-q8", action="store_true", help="also measure an 8-bit key/value cache"
    )
    args = parser.parse_args()

    from assistant.model_store.store import resolve_models
    from assistant.pipeline import Engines
    from assistant.redaction.redactor import Redactor, build_analyzer
    from assistant.settings import Settings

    settings = Settings()
    models = resolve_models(settings)
    # only the redactor is shared; each configuration below loads its own model
    redactor = Redactor(build_analyzer(spacy_model_path=models.nlp_path))
    engines = Engines(
        models=models, transcriber=None, redactor=redactor, llm=None, settings=settings
    )
    redacted, words = long_visit_start(engines, args.segments)
    print(
        f"model: {engines.models.llm.name} ({settings.profile} profile), "
        f"{settings.llm_threads} threads, n_ctx {settings.llm_n_ctx}, chunk cap "
        f"{settings.llm_chunk_tokens or 'none'}; visit_note v3; first {len(redacted.segments)} "
        f"segments of the long visit ({words} words)"
    )
    configs = {"reference (flash attention off)": (False, False), "flash attention": (True, False)}
    if args.kv_q8:
        configs["flash attention + 8-bit KV cache"] = (True, True)
    runs = {}
    for name, (flash_attn, kv_q8) in configs.items():
        llm = _load(engines, flash_attn=flash_attn, kv_q8=kv_q8)
        runs[name] = _draft(engines, llm, redacted)
        del llm
    ref_note, ref_s, ref_calls = next(iter(runs.values()))
    ref_labels = _labels(ref_note)

    def per_call(calls: list[dict]) -> float:
        return sum(c["seconds"] for c in calls[1:]) / (len(calls) - 1)

    for name, (note, seconds, calls) in runs.items():
        first = calls[0]
        labels = _labels(note)
        differ = sum(1 for s in redacted.segments if labels.get(s.id) != ref_labels.get(s.id))
        print(f"\n== {name}")
        print(
            f"  draft {seconds:.1f} s (ratio to reference {seconds / ref_s:.2f}), "
            f"{len(calls)} calls"
        )
        print(
            f"  first call reads the block: {first['prompt_tokens']} tokens in "
            f"{first['prompt_s']:.1f} s ({first['prompt_tokens'] / first['prompt_s']:.1f} "
            "tokens/s)"
        )
        print(
            f"  per later call {per_call(calls):.3f} s (ratio "
            f"{per_call(calls) / per_call(ref_calls):.2f})"
        )
        print(
            f"  statements {len(note.all_statements())} (reference "
            f"{len(ref_note.all_statements())}); segments placed in another section than the "
            f"reference's: {differ} of {len(redacted.segments)}"
        )


if __name__ == "__main__":
    main()
