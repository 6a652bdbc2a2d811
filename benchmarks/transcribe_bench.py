"""Transcription benchmark: our Transcriber against plain faster-whisper on the same file.

One run each, printed side by side with the ratio (ours / plain) for wall time, real-time
factor and peak resident memory. "Plain" is what a project that just calls faster-whisper
would do: ``WhisperModel(path).transcribe(file)`` with its defaults (beam 5, no VAD,
conditioning on previous text). Ours adds the VAD filter, the repetition guards and word
timestamps. Each side runs in its own subprocess so memory figures do not mix.

    .venv/bin/python benchmarks/transcribe_bench.py var/bench/visit-2min.wav [--model PATH]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _child(kind: str, audio: str, model: str, threads: int) -> None:
    sys.path.insert(0, str(REPO))
    from faster_whisper import WhisperModel

    t0 = time.perf_counter()
    wm = WhisperModel(
        model, device="cpu", compute_type="int8", cpu_threads=threads, local_files_only=True
    )
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    if kind == "plain":
        segments, info = wm.transcribe(audio)
        text = " ".join(s.text.strip() for s in segments)
        duration = info.duration
    else:
        from assistant.audio import load_pcm16k
        from assistant.domain import ModelRef
        from assistant.transcription.whisper import Transcriber

        pcm = load_pcm16k(Path(audio))
        t = Transcriber(wm, model_ref=ModelRef(name="bench", sha256="-")).transcribe(pcm)
        text = " ".join(s.text for s in t.segments)
        duration = t.duration_s
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "load_s": load_s,
                "wall_s": wall,
                "duration_s": duration,
                "peak_rss_mb": peak_mb,
                "words": len(text.split()),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("audio")
    ap.add_argument("--model", default=str(REPO / "var" / "models" / "whisper-base"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child", choices=["plain", "ours"])
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.audio, args.model, args.threads)
        return
    results = {}
    for kind in ("plain", "ours"):
        out = (
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    args.audio,
                    "--model",
                    args.model,
                    "--threads",
                    str(args.threads),
                    "--child",
                    kind,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        results[kind] = json.loads(out)
    p, o = results["plain"], results["ours"]
    print(
        f"file {args.audio}: {p['duration_s']:.1f} s of audio, model {Path(args.model).name}, "
        f"{args.threads} threads, one run each"
    )
    print(f"{'':22}{'plain faster-whisper':>22}{'caseassist':>14}{'ratio':>9}")
    for key, label in (
        ("wall_s", "transcribe wall (s)"),
        ("peak_rss_mb", "peak RSS (MB)"),
        ("words", "words out"),
    ):
        ratio = o[key] / p[key] if p[key] else float("nan")
        print(f"{label:22}{p[key]:>22.2f}{o[key]:>14.2f}{ratio:>9.2f}")
    rtf_p, rtf_o = p["wall_s"] / p["duration_s"], o["wall_s"] / o["duration_s"]
    print(f"{'real-time factor':22}{rtf_p:>22.3f}{rtf_o:>14.3f}{rtf_o / rtf_p:>9.2f}")


if __name__ == "__main__":
    main()
