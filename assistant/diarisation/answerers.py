"""A found speaker that answers its own questions is two people the voice model heard as one:
the practitioner asking and a child (or a parent) answering. Split it, sentence by sentence.

Measured on the rendered visits (``caseassist eval run --suite diarisation``): the child's
voice and the practitioner's were the same speaker to the encoder in most visits (their
centroids' cosine 0.94-0.98, as close as a turn is to its own speaker's centroid), so the
child's words went to the social worker and no child was named. Looking again with the words
finds them: a speaker whose question is followed, with nobody else heard between, by a
sentence that is not a question has mostly been answered by someone else.

So a speaker is split when at least ``MIN_SELF_ANSWERS`` of its questions, and at least
``MIN_SELF_ANSWER_SHARE`` of them, are followed at once by its own statement. The voice then
says where each answer ends: the mean embedding of the speaker's questions and that of the
statements just after them are the two voices, and every stretch of the speaker's sentences
that begins right after one of its questions and ends with the next is cut once, where the
sentences before lean most to the answering voice: answer first, then the practitioner's own
sentences up to and including the question (a turn ends with the asker's question; the next
begins with the answer to it). On the rendered
voices the two means are hardly apart (each seed sentence, left out, went to its own side no
more often than chance but in one visit), so there the split rests on the turn structure (a
real child's voice may stand further apart; not measured here). Two word rules overrule the
voices: the asker's acknowledgement ("That's brilliant.", "Thank you.") ends the answer before
it, and a lone statement between the question and another speaker's turn is the asker going
on, not an answer. Words, not voices, then name the new speaker (``roles.infer_roles``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.diarisation.windows import Window
from assistant.domain import Segment
from assistant.transcription import SENTENCE_END, cut_segment

#: Fewest answers to a speaker's own questions before it is looked at as two voices: one or
#: two are a practitioner explaining a question (seen in a parent's speaker too).
MIN_SELF_ANSWERS = 3
#: Least share of a speaker's questions followed at once by its own statement. A
#: practitioner alone explains a question now and then ("Is it okay to record? It helps me
#: remember."): at most 0.2 of their questions in the typed scenarios; a practitioner and a
#: child heard as one voice, 0.3-0.7 on the rendered visits.
MIN_SELF_ANSWER_SHARE = 0.25
#: Fewest words the answering voice must end with to be kept as a speaker.
MIN_ANSWER_WORDS = 12


def answers_itself(questions: int, answered: int) -> bool:
    """A speaker with ``questions`` questions, ``answered`` of them followed at once by its own
    statement, sounds like two people: at least ``MIN_SELF_ANSWERS`` and
    ``MIN_SELF_ANSWER_SHARE`` of them."""
    return answered >= MIN_SELF_ANSWERS and answered >= MIN_SELF_ANSWER_SHARE * questions


@dataclass
class _Sentence:
    label: int
    seg: Segment
    embedding: np.ndarray

    @property
    def question(self) -> bool:
        return self.seg.text.rstrip().endswith("?")


def split_answerers(
    pieces: list[tuple[int, Segment]],
    windows: Sequence[Window],
    embeddings: np.ndarray | None,
    *,
    max_speakers: int | None = None,
) -> list[tuple[int, Segment]]:
    """``pieces`` (label, segment), in time order, with each speaker that answers its own
    questions in a second voice split in two: the answers take a new label. Never beyond
    ``max_speakers`` speakers (the bound settings give: a phone call set to two stays two),
    and never when only one voice was found."""
    if embeddings is None or not len(windows) or len(embeddings) != len(windows):
        return pieces
    if len({label for label, _ in pieces}) < 2:
        # One voice found is nobody's until the practitioner says (``speakers.with_roles``):
        # a dictation read through a checklist ("Was the child seen? Yes.") answers itself
        # the same way, and must not become two people.
        return pieces
    room = (max_speakers or 10**6) - len({label for label, _ in pieces})
    sentences = _sentences(pieces, windows, embeddings)
    next_label = max((label for label, _ in pieces), default=-1) + 1
    changed = False
    for label in sorted({s.label for s in sentences}):
        if room <= 0:
            break
        answers = _answers(sentences, label)
        if answers:
            for i in answers:
                sentences[i].label = next_label
            next_label += 1
            room -= 1
            changed = True
    return [(s.label, s.seg) for s in sentences] if changed else pieces


def _sentences(
    pieces: list[tuple[int, Segment]], windows: Sequence[Window], embeddings: np.ndarray
) -> list[_Sentence]:
    centres = np.array([w.centre_s for w in windows])
    out = []
    for label, seg in pieces:
        groups: list[list] = [[]]
        for w in seg.words:
            groups[-1].append(w)
            if SENTENCE_END.search(w.text.strip()):
                groups.append([])
        groups = [g for g in groups if g]
        parts = cut_segment(seg, groups) if len(groups) > 1 else [seg]
        for part in parts:
            inside = (centres >= part.start) & (centres <= part.end)
            if not inside.any():
                inside = np.zeros(len(windows), dtype=bool)
                inside[int(np.argmin(np.abs(centres - (part.start + part.end) / 2)))] = True
            v = embeddings[inside].mean(axis=0)
            out.append(_Sentence(label, part, v / max(float(np.linalg.norm(v)), 1e-9)))
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def _answers(sentences: list[_Sentence], label: int) -> list[int]:
    """Indexes of ``label``'s sentences spoken by a second, answering voice; none when the
    speaker does not answer itself often enough."""
    mine = [i for i, s in enumerate(sentences) if s.label == label]
    asks = [i for i in mine if sentences[i].question]
    answers = [
        i for i in mine
        if i > 0 and not sentences[i].question
        and sentences[i - 1].label == label and sentences[i - 1].question
    ]  # fmt: skip
    if not answers_itself(len(asks), len(answers)):
        return []
    emb = {i: sentences[i].embedding for i in mine}
    ask_sum = np.sum([emb[i] for i in asks], axis=0)
    answer_sum = np.sum([emb[i] for i in answers], axis=0)
    ask, answer = _unit(ask_sum), _unit(answer_sum)
    margin = {i: float(emb[i] @ answer - emb[i] @ ask) for i in mine}
    chosen: list[int] = []
    for block in _blocks(sentences, label):
        if _asker_went_on(sentences, block, label):
            continue
        # the block is answer* then the asker's sentences, its question last: cut once
        last = len(block) - 1 if sentences[block[-1]].question else len(block)
        gains = np.concatenate([[0.0], np.cumsum([margin[i] for i in block[:last]])])
        cut = _acknowledged(sentences, block[:last])
        chosen += block[: int(np.argmax(gains)) if cut is None else cut]
    words = sum(len(sentences[i].seg.words) or len(sentences[i].seg.text.split()) for i in chosen)
    return chosen if words >= MIN_ANSWER_WORDS else []


def _blocks(sentences: list[_Sentence], label: int) -> list[list[int]]:
    """``label``'s sentences in stretches that end with each of its questions, a stretch
    also ending where another speaker is heard; only the stretches that begin right after
    one of its questions (where an answer can be)."""
    blocks: list[list[int]] = []
    current: list[int] = []
    for i, s in enumerate(sentences):
        if s.label != label:
            if current:
                blocks.append(current)
                current = []
            continue
        current.append(i)
        if s.question:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    # after another speaker, the merged speaker's next words are the practitioner's reply far
    # more often than the child's: cutting there too gave fewer words the right speaker
    # (rendered visits, 86.7% against 88.4%)
    return [b for b in blocks if b[0] > 0 and _asked(sentences[b[0] - 1], label)]


#: How a practitioner takes the turn back after an answer ("That's brilliant.", "Thank you.",
#: "Wow, 11!"): never how an answer goes on.
_ACKNOWLEDGEMENT = re.compile(
    r"^(?:(?:that'?s|that is|that sounds) (?:really |so |very )?(?:good|great|lovely|"
    r"brilliant|amazing|helpful|scary|hard|tough|okay|fine)|thank you|thanks|wow|amazing|"
    r"brilliant|well done|i hear you|i understand)\b",
    re.IGNORECASE,
)


def _acknowledged(sentences: list[_Sentence], block: list[int]) -> int | None:
    """Where the asker acknowledges the answer in ``block`` (its first sentence is the
    answer, whatever it says): the answer ends there, whichever way the voices lean (they
    hardly differ on the rendered visits, where this gave 32 more words their speaker, most
    of them a foster carer's answer that the voices had cut short)."""
    return next(
        (
            n
            for n, i in enumerate(block)
            if n and _ACKNOWLEDGEMENT.match(sentences[i].seg.text.strip())
        ),
        None,
    )


def _asker_went_on(sentences: list[_Sentence], block: list[int], label: int) -> bool:
    """``block`` is one statement, and another speaker talks right after it: the asker went
    on ("How are you doing? It's a lot on your own.") and the other speaker answered. On the
    rendered visits all seven such lone statements were the practitioner's (five had been
    taken for answers), while the answers right before another speaker were two sentences
    or more (three)."""
    after = block[-1] + 1
    return (
        len(block) == 1
        and not sentences[block[0]].question
        and after < len(sentences)
        and sentences[after].label != label
    )


def _asked(sentence: _Sentence, label: int) -> bool:
    return sentence.label == label and sentence.question
