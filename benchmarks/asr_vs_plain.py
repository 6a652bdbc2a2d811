"""Plain faster-whisper against the service's transcription: one process, one run, same files.

"Plain" is what an IT team would run: ``WhisperModel(path).transcribe(audio, language="en")``
with faster-whisper's defaults (beam 5, no VAD, conditioning on previous text, no word
timestamps). "service" is ``assistant.pipeline.load_transcriber`` with the settings as they
stand (VAD, word timestamps, repetition guards, the council vocabulary). Further configurations
are the service with one option changed (``--configs``), to find what makes it faster.

Every configuration shares one loaded model per thread count and sees the same decoded audio
(decoding the file is left out of every timing). The configurations run **interleaved**: for
each file, one after another in an order that rotates from file to file, so a load that comes
and goes on the machine falls on all of them alike. Real-time factor = transcription wall time /
audio duration, summed over the files; WER is pooled over the files after
``eval/scoring/wer.py`` normalisation. Ratios are against plain.

Files: the five LibriVox clips of Debian's pocketsphinx-testdata, the pyannote sample call (when
its wheel is in var/cache/eval-data or can be fetched), and ``--scenarios`` scenario visits
spoken by espeak-ng (their first ``--turns`` English turns, each in its speaker's voice).

    PYTHONPATH=. .venv/bin/python benchmarks/asr_vs_plain.py --profile default \\
        --configs plain,service [--out eval/results/<date>/asr-vs-plain]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.bootstrap import set_offline  # noqa: E402

set_offline()

from eval.datasets import speech  # noqa: E402
from eval.datasets.recordings import librivox_clips, phone_call  # noqa: E402
from eval.datasets.scenarios import load_scenarios  # noqa: E402
from eval.provenance import git_commit, machine  # noqa: E402
from eval.scoring.wer import NORMALISATION_VERSION, error_counts  # noqa: E402
from eval.suites.asr.inputs import english_turns, pick_scenarios  # noqa: E402

GAP_S = 0.4

#: Service options each named configuration changes (``service`` changes none).
VARIANTS: dict[str, dict[str, Any]] = {
    "service": {},
    "before": {"vocabulary_mode": "off", "no_speech_threshold": 0.6},  # the service until now
    "service-novocab": {"vocabulary_mode": "off"},
    "beam1": {"beam_size": 1},
    "beam2": {"beam_size": 2},
    "beam3": {"beam_size": 3},
    "beam4": {"beam_size": 4},
    "batched4": {"batch_size": 4},
    "batched8": {"batch_size": 8},
    "batched8-beam1": {"batch_size": 8, "beam_size": 1},
    "batched16": {"batch_size": 16},
    "nst45": {"no_speech_threshold": 0.45},
    # the vocabulary's terms kept however unsure Whisper was (before 2026-12-07)
    "norecheck": {"vocabulary_recheck_logprob": None},
    "batched8-novocab": {"batch_size": 8, "vocabulary_mode": "off"},
    "batched8-prompt": {"batch_size": 8, "vocabulary_mode": "initial_prompt",
                        "no_speech_threshold": 0.45},
    "batched8-prompt-beam1": {"batch_size": 8, "vocabulary_mode": "initial_prompt",
                              "no_speech_threshold": 0.45, "beam_size": 1},
    # 2026-12-08 (issue 27): what the service does that plain does not, one thing at a time
    "nowords": {"word_timestamps": False},
    "prompt": {"vocabulary_mode": "initial_prompt"},
    "batched12": {"batch_size": 12},
    # the vocabulary without its commas: fewer prompt tokens for beam search to copy
    "spaces": {"vocabulary_separator": " "},
}  # fmt: skip
#: Configurations that run on a model loaded with another thread count.
THREADS: dict[str, int] = {"service-1thread": 1, "plain-1thread": 1}


@dataclasses.dataclass
class Item:
    id: str
    corpus: str
    pcm: np.ndarray
    reference: str

    @property
    def seconds(self) -> float:
        return len(self.pcm) / speech.SAMPLE_RATE


def load_items(n_scenarios: int, turns: int) -> tuple[list[Item], list[str]]:
    items: list[Item] = []
    notes: list[str] = []
    for clip_id, wav, ref in librivox_clips():
        items.append(Item(clip_id, "librivox", speech.read_wav(wav), ref))
    if not items:
        notes.append("LibriVox clips missing: apt-get install pocketsphinx-testdata")
    call = phone_call()
    if isinstance(call, str):
        notes.append(f"pyannote call left out: {call}")
    else:
        from assistant.audio import load_pcm16k

        items.append(Item("pyannote-sample", "phone call", load_pcm16k(call[0]), call[1]))
    if n_scenarios and speech.espeak_available():
        for sc in pick_scenarios(load_scenarios(), n_scenarios, turns):
            chosen = english_turns(sc)[:turns]
            gap = speech.silence(GAP_S)
            parts: list[np.ndarray] = []
            for _, speaker, text in chosen:
                parts += [speech.speak(text, voice=sc.voice(speaker)), gap]
            reference = " ".join(text for _, _, text in chosen)
            items.append(Item(sc.id, "scenario (espeak-ng)", np.concatenate(parts[:-1]), reference))
    elif n_scenarios:
        notes.append("scenarios left out: espeak-ng or sox missing")
    return items, notes


def make_runner(name: str, models: dict[int, Any], settings: Any, asr_ref: Any):
    """A function pcm -> text for configuration ``name``."""
    threads = THREADS.get(name, settings.asr_threads)
    model = models[threads]
    if name.startswith("plain"):

        def plain(pcm: np.ndarray) -> str:
            segments, _ = model.transcribe(pcm, language="en", beam_size=5)
            return " ".join(s.text.strip() for s in segments)

        return plain
    from assistant.pipeline import transcribe_options
    from assistant.transcription.whisper import Transcriber

    base_name = "service" if name in THREADS else name
    options = dataclasses.replace(transcribe_options(settings), **VARIANTS[base_name])
    transcriber = Transcriber(model, model_ref=asr_ref, options=options)

    def ours(pcm: np.ndarray) -> str:
        t = transcriber.transcribe(pcm, language="en")
        return " ".join(s.text for s in t.segments)

    return ours


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="default", choices=["test", "default"])
    ap.add_argument("--configs", default="plain,service", help="comma-separated; see VARIANTS")
    ap.add_argument("--scenarios", type=int, default=3)
    ap.add_argument("--turns", type=int, default=14, help="English turns per scenario")
    ap.add_argument("--out", type=Path, default=None, help="results folder")
    ap.add_argument("--label", default="", help="appended to the results folder's name")
    args = ap.parse_args()

    from faster_whisper import WhisperModel

    from assistant.model_store import resolve_models
    from assistant.settings import Settings

    settings = Settings(profile=args.profile)
    resolved = resolve_models(settings, roles=("asr",))
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in configs if c not in VARIANTS and c not in THREADS and c != "plain"]
    if unknown:
        sys.exit(f"unknown configurations: {unknown}")
    thread_counts = {THREADS.get(c, settings.asr_threads) for c in configs}
    models = {
        n: WhisperModel(
            str(resolved.asr_path),
            device="cpu",
            compute_type=settings.compute_type,
            cpu_threads=n,
            local_files_only=True,
        )
        for n in sorted(thread_counts)
    }
    runners = {c: make_runner(c, models, settings, resolved.asr) for c in configs}
    items, notes = load_items(args.scenarios, args.turns)
    load_before = os.getloadavg()
    rows = run_interleaved(items, runners)
    load_after = os.getloadavg()
    summary = summarise(rows, configs)
    report(summary, items, configs, resolved, settings, load_before, load_after, notes)
    write_results(args, summary, rows, items, resolved, settings, notes, (load_before, load_after))


def run_interleaved(items: list[Item], runners: dict[str, Any]) -> list[dict[str, Any]]:
    names = list(runners)
    # one untimed warm-up each, so first-call costs (allocations, the VAD model) are not timed
    warm = items[0].pcm[: 5 * speech.SAMPLE_RATE]
    for name in names:
        runners[name](warm)
    rows = []
    for k, item in enumerate(items):
        order = names[k % len(names) :] + names[: k % len(names)]
        for name in order:
            t0 = time.perf_counter()
            text = runners[name](item.pcm)
            wall = time.perf_counter() - t0
            counts = error_counts(item.reference, text)
            rows.append(
                {
                    "config": name,
                    "item": item.id,
                    "corpus": item.corpus,
                    "audio_s": round(item.seconds, 2),
                    "wall_s": round(wall, 3),
                    "errors": counts["substitutions"] + counts["deletions"] + counts["insertions"],
                    "words": counts["reference_words"],
                    "hypothesis": text,
                }
            )
            print(
                f"  {item.id:<48} {name:<16} {wall:6.1f}s rtf {wall / item.seconds:.3f}",
                file=sys.stderr,
            )
    return rows


def summarise(rows: list[dict[str, Any]], configs: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for c in configs:
        mine = [r for r in rows if r["config"] == c]
        audio = sum(r["audio_s"] for r in mine)
        wall = sum(r["wall_s"] for r in mine)
        errors, words = sum(r["errors"] for r in mine), sum(r["words"] for r in mine)
        by_corpus = {}
        for corpus in dict.fromkeys(r["corpus"] for r in mine):
            part = [r for r in mine if r["corpus"] == corpus]
            by_corpus[corpus] = {
                "rtf": sum(r["wall_s"] for r in part) / sum(r["audio_s"] for r in part),
                "wer": sum(r["errors"] for r in part) / max(1, sum(r["words"] for r in part)),
            }
        out[c] = {
            "audio_s": audio,
            "wall_s": wall,
            "rtf": wall / audio,
            "wer": errors / max(1, words),
            "errors": errors,
            "words": words,
            "by_corpus": by_corpus,
        }
    ref = out.get("plain") or out[configs[0]]
    for c in configs:
        out[c]["rtf_ratio_vs_plain"] = out[c]["rtf"] / ref["rtf"]
        out[c]["speedup_vs_plain"] = ref["rtf"] / out[c]["rtf"]
        out[c]["wer_ratio_vs_plain"] = out[c]["wer"] / ref["wer"] if ref["wer"] else None
    return out


def report(summary, items, configs, resolved, settings, load_before, load_after, notes) -> None:
    m = machine()
    audio = sum(i.seconds for i in items)
    print(
        f"\n{len(items)} files, {audio:.0f} s of audio; model {resolved.asr.name} "
        f"({settings.compute_type}, {settings.asr_threads} threads); {m['cpu_model']}, "
        f"{m['cores_available']} cores; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after; configurations interleaved, one run each"
    )
    print(f"{'configuration':<18}{'RTF':>8}{'WER':>8}{'speed-up':>10}{'WER ratio':>11}  by corpus")
    for c in configs:
        s = summary[c]
        wr = "-" if s["wer_ratio_vs_plain"] is None else f"{s['wer_ratio_vs_plain']:.2f}"
        corp = "; ".join(
            f"{k}: rtf {v['rtf']:.3f} wer {v['wer']:.3f}" for k, v in s["by_corpus"].items()
        )
        print(
            f"{c:<18}{s['rtf']:>8.3f}{s['wer']:>8.3f}{s['speedup_vs_plain']:>9.2f}x{wr:>11}  {corp}"
        )
    for n in notes:
        print(f"note: {n}")


def write_results(args, summary, rows, items, resolved, settings, notes, loads) -> None:
    day = datetime.now(UTC).date().isoformat()
    folder = args.out or REPO / "eval" / "results" / day / f"asr-vs-plain{args.label}"
    folder.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "asr_vs_plain",
        "command": " ".join(sys.argv),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "machine": machine(),
        "load_average_before_after": loads,
        "interleaved": True,
        "runs": 1,
        "model": resolved.asr.model_dump(),
        "profile": settings.profile,
        "settings": {
            k: str(getattr(settings, k))
            for k in (
                "compute_type",
                "beam_size",
                "asr_threads",
                "asr_batch_size",
                "asr_vocabulary_mode",
                "asr_vocabulary_path",
            )
        },  # fmt: skip
        "variants": {c: VARIANTS.get(c, {"cpu_threads": THREADS.get(c)}) for c in summary},
        "wer_normalisation_version": NORMALISATION_VERSION,
        "lower_is_better": ["rtf", "wer"],
        "files": [{"id": i.id, "corpus": i.corpus, "audio_s": round(i.seconds, 2)} for i in items],
        "summary": summary,
        "items": rows,
        "notes": notes,
    }
    (folder / "results.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"wrote {folder / 'results.json'}")


if __name__ == "__main__":
    main()
