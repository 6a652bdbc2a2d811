"""How similar an enrolled voice is to its own speaker and to everyone else's: the measurement
behind ``assistant.diarisation.voice.VOICE_THRESHOLD``.

Every renderable scenario (``eval.suites.diarisation.inputs``) is spoken with espeak-ng in its
speakers' voices (the first ``--turns`` turns) and separated into speakers as the service
does; each cluster's centroid (the unit mean of its windows' embeddings) is given the voice of
the reference speaker most of its windows fall in. Each social worker's voice is enrolled from
``ENROLMENT_TEXT`` (a passage no visit uses). Every (enrolled voice, cluster) pair across all
visits is then either the same espeak voice ("same") or another ("other"): the threshold must
sit above every "other" and below every "same". Voices are told apart by the sound they make,
not their names (two names may speak alike: espeak-ng 1.51 ignores a variant on ``en-gb``).
Also: how the enrolled voice moves when the sample is cut to its first few seconds, and a
check on recorded speech (Debian's pocketsphinx-testdata: one LibriVox reader, and another
speaker).

    CASEASSIST_PROFILE=test python benchmarks/voice_threshold_bench.py --turns 20 --out /tmp/v.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.bootstrap import set_offline  # noqa: E402

set_offline()


def main() -> int:
    from assistant.diarisation import Diariser, load_encoder, voice_print
    from assistant.diarisation.voice import centroids
    from assistant.model_store import resolve_models
    from assistant.settings import get_settings
    from eval.datasets.scenarios import load_scenarios
    from eval.suites.diarisation.inputs import enrolment_sample, render, renderable

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--limit", type=int, default=0, help="at most this many scenarios")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    # two voice names are one voice when they render a probe phrase to the same samples
    from eval.datasets.speech import pcm_sha256, speak

    identity: dict[str, str] = {}

    def same_as(voice: str) -> str:
        if voice not in identity:
            identity[voice] = pcm_sha256(speak("Hello there, how are you today?", voice=voice))
        return identity[voice]

    models = resolve_models(get_settings())
    diariser = Diariser(load_encoder(models.speaker_path, model_ref=models.speaker))
    scenarios = [s for s in sorted(load_scenarios(), key=lambda s: s.id) if renderable(s)]
    if args.limit:
        scenarios = scenarios[: args.limit]

    clusters: list[tuple[str, str, np.ndarray, float]] = []  # (visit, voice, centroid, purity)
    workers: dict[str, str] = {}  # visit -> the social worker's voice
    for s in scenarios:
        r = render(s, args.turns)
        windows, clustered, embeddings = diariser.separate(r.pcm)
        labels = clustered.labels
        if not windows:
            continue
        owner = []
        for w in windows:
            hits = [spk for spk, a, b in r.reference if a <= w.centre_s <= b]
            owner.append(hits[0] if hits else None)
        for k, c in centroids(embeddings, labels).items():
            mine = Counter(o for o, lab in zip(owner, labels.tolist(), strict=True) if lab == k)
            mine.pop(None, None)
            if not mine:
                continue
            speaker, n = mine.most_common(1)[0]
            clusters.append((s.id, same_as(s.voice(speaker)), c, n / sum(mine.values())))
        sw = [p.speaker for p in s.people if p.role in ("social_worker", "practitioner")]
        spoken = {t[0] for t in r.reference}
        if sw and sw[0] in spoken:
            workers[s.id] = same_as(s.voice(sw[0]))
        print(f"{s.id}: {len(set(labels.tolist()))} clusters", file=sys.stderr)

    enrolled = {}
    cuts: dict[str, list[float]] = {"8s": [], "12s": [], "16s": []}
    names = {v: k for k, v in sorted(identity.items(), reverse=True)}  # a name for each voice
    for voice in sorted(set(workers.values())):
        pcm = enrolment_sample(names[voice])
        full = voice_print(diariser, pcm)
        assert full is not None
        enrolled[voice] = full.embedding
        for cut in cuts:
            part = voice_print(diariser, pcm[: int(float(cut[:-1]) * 16000)])
            if part is not None:
                cuts[cut].append(float(part.embedding @ full.embedding))

    same, other, own_worker = [], [], []
    closest: list[tuple[float, str, str, str, float]] = []
    for voice, emb in enrolled.items():
        for visit, cvoice, c, purity in clusters:
            sim = float(c @ emb)
            (same if cvoice == voice else other).append(sim)
            if cvoice != voice:
                closest.append(
                    (round(sim, 4), names[voice], names[cvoice], visit, round(purity, 2))
                )
            if workers.get(visit) == voice and cvoice == voice:
                own_worker.append(sim)
    # in each visit: the enrolled worker against the visit's best other speaker
    margins = []
    for visit, voice in workers.items():
        sims = [(float(c @ enrolled[voice]), cv == voice) for v, cv, c, _ in clusters if v == visit]
        mine = max((x for x, ok in sims if ok), default=None)
        rest = max((x for x, ok in sims if not ok), default=None)
        if mine is not None and rest is not None:
            margins.append(mine - rest)

    def describe(xs: list[float]) -> dict[str, float | int]:
        a = np.array(xs)
        return {
            "n": len(xs),
            "min": round(float(a.min()), 4),
            "p5": round(float(np.percentile(a, 5)), 4),
            "median": round(float(np.median(a)), 4),
            "p95": round(float(np.percentile(a, 95)), 4),
            "max": round(float(a.max()), 4),
        }

    real = real_speech(diariser)
    grid = [round(float(t), 2) for t in np.arange(0.60, 0.96, 0.01)]
    sweep = [
        {
            "threshold": t,
            "same_missed": int(sum(x < t for x in same)),
            "other_accepted": int(sum(x >= t for x in other)),
        }
        for t in grid
    ]
    result = {
        "scenarios": len(scenarios),
        "turns": args.turns,
        "clusters": len(clusters),
        "enrolled_voices": len(enrolled),
        "voice_names": len(identity),
        "distinct_voices": len(set(identity.values())),
        "same_voice": describe(same),
        "other_voice": describe(other),
        "visit_worker_cluster": describe(own_worker),
        "worker_minus_best_other_in_visit": describe(margins),
        "enrolment_cut_vs_full": {k: describe(v) for k, v in cuts.items() if v},
        "sweep": sweep,
        "cluster_purity": describe([p for *_, p in clusters]),
        "closest_other": sorted(closest, reverse=True)[:25],
        "real_speech": real,
    }
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


def real_speech(diariser) -> dict[str, float] | str:  # noqa: ANN001
    """Recorded speech, where Debian's pocketsphinx-testdata is installed: one LibriVox reader
    enrolled from three clips against her two others (each, and together), and a different
    speaker (the five "cards" utterances) against her."""
    import glob

    from assistant.audio import load_pcm16k
    from assistant.diarisation import voice_print

    root = "/usr/share/pocketsphinx/test/data"
    reader = [load_pcm16k(p) for p in sorted(glob.glob(f"{root}/librivox/*.wav"))]
    cards = [load_pcm16k(p) for p in sorted(glob.glob(f"{root}/cards/*.wav"))]
    if len(reader) != 5 or not cards:
        return "pocketsphinx-testdata is not installed"

    def emb(pcm: np.ndarray) -> np.ndarray:
        found = voice_print(diariser, pcm)
        assert found is not None
        return found.embedding

    enrolled = emb(np.concatenate(reader[:3]))
    return {
        "same_reader_clip_4": round(float(emb(reader[3]) @ enrolled), 4),
        "same_reader_clip_5": round(float(emb(reader[4]) @ enrolled), 4),
        "same_reader_clips_4_5": round(float(emb(np.concatenate(reader[3:])) @ enrolled), 4),
        "other_speaker_cards": round(float(emb(np.concatenate(cards)) @ enrolled), 4),
    }


if __name__ == "__main__":
    raise SystemExit(main())
