"""Rough redaction throughput: builds a synthetic transcript and prints words per second.

    .venv/bin/python benchmarks/redaction_bench.py [--words 10000]
        [--model var/models/en_core_web_sm-3.8.0]

Not a test (timings depend on the machine); run it after changing recognisers or patterns.
All names and numbers are invented (Ofcom drama ranges, made-up NHS numbers).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.domain import Segment, Transcript  # noqa: E402
from assistant.redaction import Redactor, build_analyzer  # noqa: E402

SENTENCES = [
    "Kasia Nowak said that Jayden has been fine at Oakfield Nursery this week.",
    "Mum told me the baby had a cough so she took her to Park Lane Surgery on Monday.",
    "Her mobile is oh seven seven double oh nine double oh one two three if you need her.",
    "They moved to 45 Victoria Street, Leeds, LS6 2AB in March and Nan helps out.",
    "I spoke to Mr Imran Qureshi about the rent and he said Universal Credit is sorted.",
    "Jayden is seven and goes to St Mary's Primary School, his teacher is Mrs Okafor.",
    "The GP referred him to St James's Hospital; the NHS number is 943 476 5919.",
    "We agreed that the social worker will visit again next Tuesday afternoon.",
    "She said she feels tired and worried about money but things are getting better.",
    "Grandad picks the children up from school on Fridays when Mum is at work.",
]


def transcript(words: int) -> Transcript:
    segments, total, i = [], 0, 0
    while total < words:
        text = SENTENCES[i % len(SENTENCES)]
        segments.append(
            Segment(
                id=f"s{i + 1:04d}",
                start=i * 4.0,
                end=i * 4.0 + 4.0,
                text=text,
                speaker="Social worker" if i % 2 else "Kasia",
            )
        )
        total += len(text.split())
        i += 1
    return Transcript(segments=tuple(segments), language="en", duration_s=i * 4.0, source="text")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--model", type=Path, default=ROOT / "var/models/en_core_web_sm-3.8.0")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    analyzer = build_analyzer(spacy_model_path=args.model)
    redactor = Redactor(analyzer)
    print(f"build_analyzer + Redactor: {time.perf_counter() - started:.2f} s")

    tx = transcript(args.words)
    n_words = sum(len(s.text.split()) for s in tx.segments)
    redactor.redact(tx)  # warm-up
    best = float("inf")
    for _ in range(args.repeat):
        started = time.perf_counter()
        redacted, _mapping = redactor.redact(tx)
        best = min(best, time.perf_counter() - started)
    print(
        f"{n_words} words in {len(tx.segments)} segments: best of {args.repeat} {best:.2f} s "
        f"= {n_words / best:,.0f} words/s ({len(redacted.entities)} entities)"
    )


if __name__ == "__main__":
    main()
