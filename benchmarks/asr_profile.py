"""Where transcription time goes: plain faster-whisper and the service, stage by stage.

One process, one loaded model, the files of ``asr_vs_plain.py`` (``--scenarios`` scenario
visits, the LibriVox clips, the pyannote call), configurations interleaved file by file as
there. Each decoding is timed by stage: the VAD (Silero), the log-Mel features, the encoder,
beam search (``generate``), the word alignment (``align`` and the rest of
``add_word_timestamps``), and what is left (Python, the service's own work, the recheck's
decodings counted in their stages). Configurations are those of ``asr_vs_plain.VARIANTS``
(the service with options changed) and ``plain``.

    PYTHONPATH=. .venv/bin/python benchmarks/asr_profile.py --profile default \\
        --configs plain,service,nowords [--scenarios 2] [--out eval/results/<date>/asr-profile]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.asr_vs_plain import THREADS, VARIANTS, load_items, make_runner  # noqa: E402
from eval.provenance import git_commit, machine  # noqa: E402
from eval.scoring.wer import error_counts  # noqa: E402

STAGES = ("vad", "features", "encode", "generate", "align", "word_rest", "other")


class _Clock:
    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, stage: str, fn):
        def timed(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                self.spent[stage] += time.perf_counter() - t0
                self.calls[stage] += 1

        return timed


class _TimedCT2:
    """The CTranslate2 Whisper object with generate, align and encode timed."""

    def __init__(self, inner, clock: _Clock) -> None:
        self._inner = inner
        self.generate = clock.wrap("generate", inner.generate)
        self.align = clock.wrap("align", inner.align)
        self.encode = clock.wrap("encode", inner.encode)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def instrument(model, clock: _Clock) -> None:
    import faster_whisper.transcribe as fwt

    model.model = _TimedCT2(model.model, clock)
    model.feature_extractor.__class__.__call__ = clock.wrap(
        "features", model.feature_extractor.__class__.__call__
    )
    fwt.get_speech_timestamps = clock.wrap("vad", fwt.get_speech_timestamps)
    # add_word_timestamps includes align: its own time minus align's is "word_rest"
    inner = model.add_word_timestamps
    model.add_word_timestamps = clock.wrap("word_total", inner)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="default", choices=["test", "default"])
    ap.add_argument("--configs", default="plain,service")
    ap.add_argument("--scenarios", type=int, default=2)
    ap.add_argument("--turns", type=int, default=14)
    ap.add_argument("--only", default="", help="comma-separated item ids (default: all)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    from faster_whisper import WhisperModel

    from assistant.model_store import resolve_models
    from assistant.settings import Settings

    settings = Settings(profile=args.profile)
    resolved = resolve_models(settings, roles=("asr",))
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    clock = _Clock()
    model = WhisperModel(
        str(resolved.asr_path),
        device="cpu",
        compute_type=settings.compute_type,
        cpu_threads=settings.asr_threads,
        local_files_only=True,
    )
    instrument(model, clock)
    models = {settings.asr_threads: model}
    runners = {c: make_runner(c, models, settings, resolved.asr) for c in configs}
    items, notes = load_items(args.scenarios, args.turns)
    if args.only:
        keep = set(args.only.split(","))
        items = [i for i in items if i.id in keep]
    warm = items[0].pcm[:80000]
    for c in configs:
        runners[c](warm)
    table: dict[str, dict[str, Any]] = {
        c: {"wall": 0.0, "errors": 0, "words": 0, **{s: 0.0 for s in STAGES}} for c in configs
    }
    rows = []
    for k, item in enumerate(items):
        for c in configs[k % len(configs) :] + configs[: k % len(configs)]:
            clock.spent.clear()
            t0 = time.perf_counter()
            text = runners[c](item.pcm)
            wall = time.perf_counter() - t0
            s = dict(clock.spent)
            stages = {
                "vad": s.get("vad", 0.0),
                "features": s.get("features", 0.0),
                "encode": s.get("encode", 0.0),
                "generate": s.get("generate", 0.0),
                "align": s.get("align", 0.0),
                "word_rest": s.get("word_total", 0.0) - s.get("align", 0.0),
            }
            stages["other"] = wall - sum(stages.values())
            counts = error_counts(item.reference, text)
            errs = counts["substitutions"] + counts["deletions"] + counts["insertions"]
            t = table[c]
            t["wall"] += wall
            t["errors"] += errs
            t["words"] += counts["reference_words"]
            for st, v in stages.items():
                t[st] += v
            row = {
                "config": c,
                "item": item.id,
                "audio_s": round(item.seconds, 2),
                "wall_s": round(wall, 3),
                "errors": errs,
                "words": counts["reference_words"],
            }
            row |= {st: round(v, 3) for st, v in stages.items()}
            rows.append(row | {"hypothesis": text})
            print(f"  {item.id:<40} {c:<22} {wall:6.2f}s", file=sys.stderr)
    audio = sum(i.seconds for i in items)
    m = machine()
    print(f"\n{len(items)} files, {audio:.0f} s; {m['cpu_model']}, {m['cores_available']} cores")
    print(
        f"{'configuration':<24}{'wall':>7}{'RTF':>7}{'WER':>7}"
        + "".join(f"{s:>10}" for s in STAGES)
    )
    base = table.get("plain", table[configs[0]])["wall"]
    for c in configs:
        t = table[c]
        print(
            f"{c:<24}{t['wall']:>7.1f}{t['wall'] / audio:>7.3f}"
            + f"{t['errors'] / max(1, t['words']):>7.3f}"
            + "".join(f"{t[s]:>10.2f}" for s in STAGES)
            + f"   x{base / t['wall']:.2f}"
        )
    day = datetime.now(UTC).date().isoformat()
    folder = args.out or REPO / "eval" / "results" / day / "asr-profile"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps({
        "benchmark": "asr_profile", "command": " ".join(sys.argv),
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "git_commit": git_commit(),
        "machine": m, "model": resolved.asr.model_dump(), "profile": settings.profile,
        "variants": {c: VARIANTS.get(c, {"cpu_threads": THREADS.get(c)}) for c in configs},
        "files": [{"id": i.id, "audio_s": round(i.seconds, 2)} for i in items],
        "summary": table, "items": rows, "notes": notes,
    }, indent=2, default=str) + "\n")  # fmt: skip
    print(f"wrote {folder / 'results.json'}")


if __name__ == "__main__":
    main()
