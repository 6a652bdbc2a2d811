"""Does the speaker count move with the last bits of rounding? The speaker windows of each
recording are embedded once; then the clustering runs on them as computed and on copies that
differ only as another machine's arithmetic would make them differ: a relative 1e-7 of noise
(renormalised), the embeddings rounded to float32 and back after a float64 round trip, and the
windows in another order (labels put back in order). A count that differs between these is
chosen by rounding, not by the voices.

    CASEASSIST_PROFILE=default PYTHONPATH=. .venv/bin/python benchmarks/diarisation_rounding.py \\
        --rendered 8 [--wav var/bench/visit-60min.wav:3] --out DIR

``--rendered N`` takes the first N renderable scenarios, all their turns, spoken by espeak-ng as
the diarisation suite renders them; ``--wav PATH:VOICES`` adds a recording with its true number
of voices. Run it on two commits to compare (``git stash`` / a worktree): it reports the code it
imports. Writes ``rounding.json`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

NOISE = 1e-7


def _variants(
    embeddings: np.ndarray, seeds: int, reorder: bool
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, embeddings, order): ``order`` is the permutation applied to the rows. Not
    reordered above ``max_windows``: there the clustered sample is every n-th window, so
    another order is another sample, not another rounding."""
    n = len(embeddings)
    same = np.arange(n)
    out = [("as computed", embeddings, same)]
    e64 = embeddings.astype(np.float64)
    out.append(("float64", e64 / np.linalg.norm(e64, axis=1, keepdims=True), same))
    for s in range(seeds):
        rng = np.random.default_rng(s)
        noisy = e64 + rng.normal(0.0, NOISE, e64.shape)
        out.append((f"noise {s}", noisy / np.linalg.norm(noisy, axis=1, keepdims=True), same))
        if reorder:
            order = rng.permutation(n)
            out.append((f"reordered {s}", embeddings[order], order))
    return out


def counts(embeddings: np.ndarray, options: object, seeds: int) -> dict[str, int]:
    from assistant.diarisation.clustering import clusters

    found = {}
    reorder = len(embeddings) <= options.max_windows  # type: ignore[attr-defined]
    for name, x, order in _variants(embeddings, seeds, reorder):
        labels = np.empty(len(x), dtype=int)
        labels[order] = clusters(x, options).labels  # type: ignore[arg-type]
        found[name] = len(set(labels.tolist()))
    return found


def _recordings(args: argparse.Namespace) -> list[tuple[str, np.ndarray, int]]:
    from eval.datasets import speech
    from eval.datasets.scenarios import load_scenarios
    from eval.suites.diarisation.inputs import pick_rendered, render

    out = []
    for s in pick_rendered(load_scenarios(), args.rendered):
        r = render(s, len(s.turns))
        out.append((s.id, r.pcm, len({t[0] for t in r.reference})))
    for spec in args.wav:
        path, _, voices = spec.rpartition(":")
        out.append((Path(path).name, speech.read_wav(Path(path)), int(voices)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rendered", type=int, default=8)
    ap.add_argument("--wav", action="append", default=[], help="PATH:VOICES")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--embeddings", type=Path, help="keep each recording's embeddings here and "
                    "reuse them (so two commits cluster the very same numbers)")
    args = ap.parse_args()

    from assistant.diarisation import DiarisationOptions, Diariser, load_encoder
    from assistant.diarisation.clustering import ClusterOptions
    from assistant.diarisation.windows import speech_regions, windows_in
    from assistant.model_store import resolve_models
    from assistant.settings import Settings

    settings = Settings()
    models = resolve_models(settings)
    diariser = Diariser(load_encoder(models.speaker_path, model_ref=models.speaker),
                        DiarisationOptions())
    options = ClusterOptions(
        min_speakers=settings.diarisation_min_speakers,
        max_speakers=settings.diarisation_max_speakers,
    )
    rows = []
    for name, pcm, voices in _recordings(args):
        kept = args.embeddings / f"{name}.npy" if args.embeddings else None
        if kept is not None and kept.is_file():
            embeddings = np.load(kept)
        else:
            o = diariser.options
            spans = windows_in(speech_regions(pcm), length_s=o.window_s, step_s=o.step_s,
                               min_s=o.min_window_s)
            embeddings = diariser.embed(pcm, spans)
            if kept is not None:
                kept.parent.mkdir(parents=True, exist_ok=True)
                np.save(kept, embeddings)
        windows = embeddings
        t0 = time.perf_counter()
        found = counts(embeddings, options, args.seeds)
        seconds = (time.perf_counter() - t0) / len(found)
        values = sorted(set(found.values()))
        rows.append({"recording": name, "voices": voices, "windows": len(windows),
                     "counts": found, "stable": len(values) == 1,
                     "exact": all(v == voices for v in found.values()),
                     "cluster_s": round(seconds, 3)})
        print(f"{name:28s} voices {voices}  windows {len(windows):5d}  found {values}"
              f"  {'stable' if len(values) == 1 else 'MOVES'}  {seconds:.2f} s a clustering")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    summary = {
        "recordings": len(rows),
        "stable": sum(r["stable"] for r in rows),
        "exact_every_variant": sum(r["exact"] for r in rows),
        "exact_as_computed": sum(r["counts"]["as computed"] == r["voices"] for r in rows),
    }
    print(json.dumps(summary))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "rounding.json").write_text(json.dumps({
        "commit": commit, "machine": platform.processor() or platform.machine(),
        "cpu": _cpu(), "noise": NOISE, "seeds": args.seeds, "summary": summary, "rows": rows,
    }, indent=1))


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


if __name__ == "__main__":
    main()
