"""What the ASR suite transcribes: scenario turns in their speakers' voices, sentences for the
voice swap, and signals with no speech in them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from eval.datasets import speech
from eval.datasets.scenarios import CHILD_ROLES, PROFESSIONAL_ROLES, Scenario
from eval.scoring.wer import normalise


def voice_parts(voice: str) -> tuple[str, str]:
    """("en-gb-x-rp", "female") from "en-gb-x-rp+f3"; espeak's default variant is male."""
    base, _, variant = voice.partition("+")
    if variant.startswith("f") or variant == "grandma":
        return base, "female"
    return base, "male"


def speaker_role(scenario: Scenario, speaker: str) -> str:
    if speaker == "TV":
        return "television"
    role = next((p.role for p in scenario.people if p.speaker == speaker), None)
    if role in CHILD_ROLES:
        return "child"
    if role in PROFESSIONAL_ROLES:
        return "professional"
    return "family adult"


def english_turns(scenario: Scenario) -> list[tuple[int, str, str]]:
    """(index, speaker, text) of the turns in English that have words to score."""
    return [
        (i, t.speaker, t.text)
        for i, t in enumerate(scenario.turns)
        if t.language == "en" and normalise(t.text)
    ]


def pick_scenarios(scenarios: Sequence[Scenario], n: int, turns: int | None) -> list[Scenario]:
    """``n`` scenarios whose first ``turns`` English turns cover the most distinct voices
    (greedy, ties to the lower id): a small slice that still spans accents."""
    voices = {
        s.id: {voice_parts(s.voice(sp))[0] for _, sp, _ in english_turns(s)[:turns]}
        for s in scenarios
    }
    chosen: list[Scenario] = []
    seen: set[str] = set()
    pool = sorted(scenarios, key=lambda s: s.id)
    while pool and len(chosen) < n:
        gains = [len(voices[s.id] - seen) for s in pool]
        best = pool[gains.index(max(gains))]  # the first (lowest id) of the best
        chosen.append(best)
        seen |= voices[best.id]
        pool.remove(best)
    return sorted(chosen, key=lambda s: s.id)


def pick_sentences(scenarios: Sequence[Scenario], n: int) -> list[tuple[str, str]]:
    """``n`` (id, text) English sentences of 8-30 words from professionals' and family
    members' turns, spread evenly over the corpus (every k-th candidate)."""
    candidates = [
        (f"{s.id}#{i}", text)
        for s in sorted(scenarios, key=lambda s: s.id)
        for i, speaker, text in english_turns(s)
        if speaker != "TV" and 8 <= len(text.split()) <= 30
    ]
    if len(candidates) <= n:
        return candidates
    step = len(candidates) / n
    return [candidates[int(k * step)] for k in range(n)]


def signals(names: Iterable[str], seconds: float, seed: int) -> dict[str, np.ndarray]:
    makers: dict[str, Callable[[], np.ndarray]] = {
        "silence": lambda: speech.silence(seconds),
        "white_noise": lambda: speech.white_noise(seconds, seed=seed),
        "pink_noise": lambda: speech.pink_noise(seconds, seed=seed + 1),
        "music": lambda: speech.music(seconds, seed=seed + 2),
    }
    return {name: makers[name]() for name in names}


def sha_of(hashes: Iterable[str]) -> str:
    h = hashlib.sha256()
    for x in hashes:
        h.update(bytes.fromhex(x))
    return h.hexdigest()
