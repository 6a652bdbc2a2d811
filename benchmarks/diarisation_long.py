"""Speaker count on a long visit whose passages are not repeated (``distinct_visit_script``):
the scenarios' turns in three fixed voices, social worker, parent or carer, child.

The 60-minute benchmark visit (``long_visit_script(63)``) repeats its later passages word for
word, and its neighbour graph falls apart into the copies of each passage; this one does not.
The recording is rendered once (espeak-ng, a few minutes; kept at ``--wav``), then the speech
separation runs on it as the service runs it (``Diariser.separate``, the settings' speaker
bounds) on each ``--prefix`` (minutes; the turns that end inside it) and on the whole, and for
each prints: the speakers found, the DER against the turns (scored as the diarisation suite
scores, windows only: no transcript), the words given the right speaker (each turn's words
spread evenly over it: a proxy, not Whisper's timings), what the clustering saw (for every
neighbour count: the graph's pieces and the first normalised eigengaps) and the same windows
grouped into the true number of speakers, to tell "the voices do not separate" from "the
count is not read".

    CASEASSIST_PROFILE=default PYTHONPATH=. .venv/bin/python benchmarks/diarisation_long.py \\
        --minutes 55.5 --wav var/bench/visit-60min-distinct.wav --prefix 10 --prefix 30 --out DIR

(``--minutes 55.5`` is estimated from words and lasts 59.9 minutes rendered.) The voices are
``tests.speech.DISTINCT_VOICES``, the ones ``long_visit_script`` gets; ``--voice
parent=en-gb+f3 --voice child=en-gb-x-rp+f5`` (with another ``--wav``) gives two of them
another espeak-ng voice. ``--similarity VOICE ...`` only compares voices: the mean cosine
similarity of window embeddings within each and across each pair, the same words said.

Writes ``long-distinct.json`` (or ``voice-similarity.json``) under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

SHOWN_GAPS = 6


def what_clustering_saw(embeddings: np.ndarray, options: Any) -> dict[str, Any]:
    """For each neighbour count ``clustering._choose`` tries on these windows (the even sample
    above ``max_windows``): pieces, the first eigengaps (normalised as it does), the count it
    reads there and the score; mirrors ``_choose`` without changing it."""
    from assistant.diarisation import clustering as C

    x = np.asarray(embeddings, dtype=np.float64)
    if len(x) > options.max_windows:
        x = x[np.linspace(0, len(x) - 1, options.max_windows).round().astype(int)]
    n = len(x)
    similarity = np.clip(x @ x.T, 0.0, 1.0)
    lo, hi = max(1, options.min_speakers), min(options.max_speakers, n - 1)
    min_p = options.min_neighbours
    max_p = max(min_p, min(n // 4, 30))
    usual = sorted({min_p, *range(min_p, max_p + 1, max(1, (max_p - min_p) // 6))})
    wider = sorted({int(max_p * 1.5**i) for i in range(1, 12)} & set(range(max_p + 1, n // 4 + 1)))
    order = C._neighbour_order(similarity, min(max(usual + wider), n - 1))
    rows = []
    for grid_name, grid in (("usual", usual), ("wider", wider)):
        for p in grid:
            affinity = C._knn_affinity(order, p)
            pieces = C._pieces(affinity)
            row: dict[str, Any] = {"grid": grid_name, "neighbours": p, "pieces": pieces}
            if pieces <= hi:
                values = np.linalg.eigvalsh(C._laplacian(affinity))
                gaps = np.diff(values[: C.UNBOUNDED + 1]) / max(float(values[-1]), 1e-9)
                first = max(lo, pieces)
                k = first + C._first_largest(gaps[first - 1 : hi])
                row.update(
                    gaps=[round(float(g), 5) for g in gaps[:SHOWN_GAPS]],
                    k=k,
                    score=round(p / max(float(gaps[k - 1]), 1e-9), 1),
                )
            rows.append(row)
    off_diagonal = similarity[~np.eye(n, dtype=bool)]
    return {
        "clustered": n,
        "similarity_mean": round(float(off_diagonal.mean()), 4),
        "neighbour_counts": rows,
    }


def spoken_words(reference: list[tuple[str, float, float, int]]) -> list[tuple[float, str]]:
    """(time, reference speaker) of each word, spread evenly over its turn."""
    out = []
    for speaker, start, end, n in reference:
        out += [(start + (i + 0.5) * (end - start) / n, speaker) for i in range(n)]
    return out


def score(
    reference: list[tuple[str, float, float, int]], windows: list[Any], labels: np.ndarray
) -> dict[str, Any]:
    from eval.suites.diarisation.scoring import der, hypothesis_turns, word_attribution

    turns = [(s, a, b) for s, a, b, _ in reference]
    hyp = hypothesis_turns(windows, labels)
    centres = np.array([w.centre_s for w in windows])
    words = []
    for t, _ in spoken_words(reference):
        i = int(np.clip(np.searchsorted(centres, t), 1, len(centres) - 1))
        nearest = i - 1 if t - centres[i - 1] <= centres[i] - t else i
        words.append((t, f"C{labels[nearest]}"))
    attributed = word_attribution(turns, words)
    d0, d25 = der(turns, hyp), der(turns, hyp, collar=0.25)
    return {
        "speakers": len(set(labels.tolist())),
        "der": round(d0["der"], 4),
        "confusion": round(d0["confusion"], 4),
        "missed": round(d0["missed"], 4),
        "false_alarm": round(d0["false_alarm"], 4),
        "der_collar_025": round(d25["der"], 4),
        "words_right": round(attributed.right / attributed.words, 4),
        "words": attributed.words,
    }


def render(
    turns: list[tuple[str, str]], wav: Path, voices: dict[str, str]
) -> list[tuple[str, float, float, int]]:
    """(speaker, start, end, words) of each turn of ``wav``, rendering it first when it is not
    there; the turns' places are kept beside it (``.turns.json``), so a second run reads them
    and renders nothing."""
    from tests.speech import dialogue_timeline, synthesize_dialogue

    kept = wav.with_suffix(".turns.json")
    if wav.is_file() and kept.is_file():
        saved = json.loads(kept.read_text())
        same = [tuple(t[:2]) for t in saved["turns"]] == [tuple(t) for t in turns]
        if same and saved["voices"] == voices:
            return [(s, a, b, len(text.split())) for s, text, a, b in saved["turns"]]
    t0 = time.perf_counter()
    synthesize_dialogue(turns, wav, voices=voices)
    timeline = dialogue_timeline(turns, voices=voices)  # from the same cache
    kept.write_text(
        json.dumps(
            {
                "voices": voices,
                "turns": [
                    [t.speaker, t.text, round(t.start_s, 4), round(t.end_s, 4)] for t in timeline
                ],
            }
        )
    )
    print(f"rendered {wav} in {time.perf_counter() - t0:.0f} s")
    return [(t.speaker, t.start_s, t.end_s, len(t.text.split())) for t in timeline]


def voice_similarity(diariser: Any, voices: list[str]) -> dict[str, Any]:
    """Mean cosine similarity of window embeddings within each espeak-ng voice and across each
    pair, every voice saying the same 24 scenario turns: whether the encoder hears them as
    different people at all."""
    import itertools

    from assistant.diarisation.windows import speech_regions, windows_in
    from eval.datasets import speech
    from eval.datasets.scenarios import load_scenarios

    scenarios = sorted(load_scenarios(), key=lambda s: s.id)[10:14]
    texts = [t.text for s in scenarios for t in s.turns if len(t.text.split()) > 12][:24]
    emb = {}
    for voice in voices:
        pcm = np.concatenate([speech.speak(t, voice=voice) for t in texts])
        spans = windows_in(speech_regions(pcm), length_s=1.5, step_s=0.6, min_s=0.4)
        emb[voice] = diariser.embed(pcm, spans).astype(np.float64)
    within = {
        v: round(float((e @ e.T)[~np.eye(len(e), dtype=bool)].mean()), 3) for v, e in emb.items()
    }
    across = {
        f"{a} / {b}": round(float((emb[a] @ emb[b].T).mean()), 3)
        for a, b in itertools.combinations(voices, 2)
    }
    return {"texts": len(texts), "within": within, "across": across}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--wav", type=Path, default=Path("var/bench/visit-60min-distinct.wav"))
    ap.add_argument("--prefix", type=float, action="append", default=[], help="minutes")
    ap.add_argument(
        "--voice",
        action="append",
        default=[],
        help="ROLE=VOICE in place of "
        "DISTINCT_VOICES' (social_worker, parent, child), e.g. parent=en-gb+f3",
    )
    ap.add_argument(
        "--similarity",
        nargs="+",
        metavar="VOICE",
        help="only compare these espeak-ng voices' embeddings (within and across) and stop",
    )
    ap.add_argument("--out", type=Path)
    ap.add_argument("--render-only", action="store_true", help="render --wav and stop")
    args = ap.parse_args()

    from assistant.diarisation.clustering import ClusterOptions, clusters
    from eval.datasets import speech
    from tests.speech import DISTINCT_VOICES, distinct_visit_script

    if args.similarity:
        found = voice_similarity(_diariser()[0], args.similarity)
        print(json.dumps(found, indent=1))
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "voice-similarity.json").write_text(
                json.dumps({"cpu": _cpu(), **found}, indent=1)
            )
        return

    turns = distinct_visit_script(args.minutes)
    voices = dict(DISTINCT_VOICES)
    for spec in args.voice:
        role, _, voice = spec.partition("=")
        if role not in voices or not voice:
            raise SystemExit(f"--voice ROLE=VOICE, ROLE one of {sorted(voices)}")
        voices[role] = voice
    reference = render(turns, args.wav, voices)
    print(
        f"{len(turns)} turns, {sum(len(t.split()) for _, t in turns)} words, "
        f"{reference[-1][2] / 60:.1f} min"
    )
    if args.render_only:
        return
    pcm = speech.read_wav(args.wav)

    diariser, options = _diariser()
    true_count = len(voices)
    rows = []
    for minutes in [*sorted(args.prefix), None]:
        end_s = len(pcm) / speech.SAMPLE_RATE if minutes is None else minutes * 60
        ref = [r for r in reference if r[2] <= end_s + 0.01]  # times kept to 0.1 ms
        cut = pcm[: round(ref[-1][2] * speech.SAMPLE_RATE)]
        t0 = time.perf_counter()
        windows, found, embeddings = diariser.separate(cut)
        seconds = time.perf_counter() - t0
        as_service = score(ref, windows, found.labels)
        forced = clusters(
            embeddings, ClusterOptions(min_speakers=true_count, max_speakers=true_count)
        )
        row = {
            "minutes": round(len(cut) / speech.SAMPLE_RATE / 60, 2),
            "turns": len(ref),
            "voices": len({r[0] for r in ref}),
            "windows": len(windows),
            "separate_s": round(seconds, 1),
            "found": as_service,
            "beyond_max": found.beyond_max,
            f"grouped_into_{true_count}": score(ref, windows, forced.labels),
            "clustering_saw": what_clustering_saw(embeddings, options),
        }
        rows.append(row)
        print(
            f"{row['minutes']:6.1f} min  windows {len(windows):5d}  found "
            f"{as_service['speakers']}  DER {as_service['der']:.3f}  words right "
            f"{as_service['words_right']:.3f}  | into {true_count}: DER "
            f"{row[f'grouped_into_{true_count}']['der']:.3f} words right "
            f"{row[f'grouped_into_{true_count}']['words_right']:.3f}"
        )
        for c in row["clustering_saw"]["neighbour_counts"]:
            print("   ", c)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    if args.out is None:
        return
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "long-distinct.json").write_text(
        json.dumps(
            {
                "commit": commit,
                "cpu": _cpu(),
                "wav": args.wav.name,
                "voices": voices,
                "minutes_asked": args.minutes,
                "turns": len(turns),
                "words": sum(len(t.split()) for _, t in turns),
                "rows": rows,
            },
            indent=1,
        )
    )


def _diariser() -> tuple[Any, Any]:
    """The service's speech separation and clustering options, from settings."""
    from assistant.diarisation import DiarisationOptions, Diariser, load_encoder
    from assistant.diarisation.clustering import ClusterOptions
    from assistant.model_store import resolve_models
    from assistant.settings import Settings

    settings = Settings()
    models = resolve_models(settings)
    opts = DiarisationOptions(
        min_speakers=settings.diarisation_min_speakers,
        max_speakers=settings.diarisation_max_speakers,
    )
    diariser = Diariser(load_encoder(models.speaker_path, model_ref=models.speaker), opts)
    return diariser, ClusterOptions(min_speakers=opts.min_speakers, max_speakers=opts.max_speakers)


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
