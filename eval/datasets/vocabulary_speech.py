"""Speech with social-care terms in it, for measuring term recall with and without the vocabulary.

Two sources, both spoken by espeak-ng at run time (nothing committed; cached like all eval
speech):

* ``SENTENCES``: invented one-line remarks a social worker might make, at least two for each
  term issue 27 names and one for most of the rest of the council list, grouped into items of
  about half a minute;
* scenario turns from ``eval/datasets/scenarios`` that use a term of the list.

espeak-ng reads an acronym as a word (``EHCP`` as "aykp"), where people spell some out, so
``spoken`` rewrites those few before synthesis (``SPOKEN``); the reference keeps the written
form. The sentences are invented: no person, place or case is real.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from eval.datasets import speech

#: How people say the terms espeak-ng would misread (the written form is what is scored).
SPOKEN = {
    "EHCP": "E H C P",
    "IRO": "I R O",
    "PLO": "P L O",
    "LADO": "lay doe",
}

SENTENCES: tuple[str, ...] = (
    "The strategy discussion was held this morning with the police and the school.",
    "We agreed to start a section 47 enquiry after the strategy discussion.",
    "Her case went to MARAC last month, and the IDVA has been in touch with her since.",
    "The IDVA will come to the next core group meeting.",
    "The school SENCO says the EHCP review is due in March.",
    "He has an EHCP now, and the SENCO meets him every week.",
    "The referral to CAMHS was accepted, and the first appointment is on Tuesday.",
    "CAMHS have offered a group for young people with anxiety.",
    "The allegation against the coach has been passed to the LADO.",
    "The LADO will chair a meeting with the club next week.",
    "Her PEP meeting is at the virtual school on Friday.",
    "The IRO wants the PEP updated before the review.",
    "The IRO will chair her looked after review in June.",
    "This is a child in need plan, not a child protection plan.",
    "We will close the child in need case if things stay settled.",
    "The school made a Prevent referral because of what he said online.",
    "The Channel panel meets on Thursday to discuss the Prevent referral.",
    "The core group agreed that mum will go to the parenting course.",
    "The initial child protection conference is booked for the twelfth.",
    "The MASH passed the contact to the Early Help team.",
    "She has been accommodated under section 20 with her aunt.",
    "The family group conference will plan who can offer kinship care.",
    "We are worried about county lines and criminal exploitation.",
    "The police have made an NRM referral for him.",
    "Cafcass will write a report for the court.",
    "Mum asked the police about Clare's Law before he moved in.",
    "The school DSL had an Operation Encompass call this morning.",
    "He is a care leaver, and his personal adviser visits every month.",
    "The health visitor has seen the baby twice this month.",
    "We are in the PLO process, and the letter before proceedings was sent.",
    "The youth justice worker says he has kept every appointment.",
    "The special guardianship assessment of his grandparents has started.",
    "The MAPPA meeting shared what is known about the risk he poses.",
    "The CSE risk assessment was done with the school.",
    "He has respite one weekend a month, and his SEND support is in place.",
    "Section 17 money paid for the school uniform.",
)
VOICES = ("en-gb", "en-gb-x-rp+f3", "en-gb-scotland", "en-gb-x-gbclan+f2", "en-gb-x-gbcwmd")
PER_ITEM = 6
GAP_S = 0.5


@dataclass(frozen=True)
class TermItem:
    id: str
    pcm: np.ndarray
    reference: str

    @property
    def seconds(self) -> float:
        return len(self.pcm) / speech.SAMPLE_RATE


def spoken(text: str) -> str:
    """``text`` as espeak-ng should say it (``SPOKEN`` applied to whole words)."""
    for written, said in SPOKEN.items():
        text = re.sub(rf"\b{re.escape(written)}\b", said, text)
    return text


def sentence_items() -> list[TermItem]:
    """``SENTENCES`` in groups of ``PER_ITEM``, voices taking turns."""
    items = []
    for k in range(0, len(SENTENCES), PER_ITEM):
        group = SENTENCES[k : k + PER_ITEM]
        voices = [VOICES[(k + j) % len(VOICES)] for j in range(len(group))]
        pcm = _join([speech.speak(spoken(t), voice=v) for t, v in zip(group, voices, strict=True)])
        items.append(TermItem(f"sentences-{k // PER_ITEM + 1}", pcm, " ".join(group)))
    return items


def scenario_items(
    vocabulary: tuple[str, ...], *, max_turns: int = 4, max_items: int = 6
) -> list[TermItem]:
    """For the first ``max_items`` scenarios (by id) with English turns using a vocabulary
    term: those turns (up to ``max_turns``), each in its speaker's voice."""
    from eval.datasets.scenarios import load_scenarios
    from eval.scoring.terms import terms_in
    from eval.suites.asr.inputs import english_turns

    items = []
    for sc in sorted(load_scenarios(), key=lambda s: s.id):
        chosen = [
            (speaker, text)
            for _, speaker, text in english_turns(sc)
            if speaker != "TV" and terms_in(text, vocabulary)
        ][:max_turns]
        if not chosen:
            continue
        pcm = _join([speech.speak(spoken(t), voice=sc.voice(s)) for s, t in chosen])
        items.append(TermItem(sc.id, pcm, " ".join(t for _, t in chosen)))
        if len(items) == max_items:
            break
    return items


def _join(parts: list[np.ndarray]) -> np.ndarray:
    gap = speech.silence(GAP_S)
    out: list[np.ndarray] = []
    for p in parts:
        out += [p, gap]
    return np.concatenate(out[:-1])
