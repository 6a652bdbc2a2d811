"""The speakers of a diarised transcript and the labels its segments carry.

``with_roles`` runs once after speaker separation: it suggests a role for every ``S`` label from
the words (``roles.infer_roles``) and relabels the segments with the roles' display labels, so
the redaction, the drafter, the review and the export all read ``Social worker``, ``Child``,
``Parent 1`` … instead of ``S1`` …. ``set_roles`` applies a practitioner's corrections the same
way. The transcript keeps each speaker's own label beside its display label
(``Transcript.speakers``), so a speaker can be relabelled again any number of times.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from assistant.diarisation.answerers import answers_itself
from assistant.diarisation.roles import (
    Utterance,
    check_role,
    display_labels,
    infer_roles,
    speakers_in,
)
from assistant.domain import Speaker, Transcript


def speakers_of(transcript: Transcript) -> tuple[Speaker, ...]:
    """The transcript's speakers; a transcript diarised before roles were kept gets them from
    its segments' labels, role unknown. A typed transcript has none."""
    if transcript.speakers:
        return transcript.speakers
    if transcript.diarisation is None:
        return ()
    return tuple(Speaker(label=label, display=label) for label in speakers_in(transcript.segments))


#: How sure a social worker recognised by the enrolled voice is: the rules' highest, whatever
#: the words say (the practitioner still confirms it on the Speakers page).
VOICE_CONFIDENCE = 0.95


def with_roles(transcript: Transcript, *, social_worker: str | None = None) -> Transcript:
    """Roles suggested from the words of a just-diarised transcript (segments labelled
    ``S1`` …), and its segments relabelled with the roles' display labels. A recording where
    one voice was found keeps that voice ``unknown`` (``S1``) until the practitioner sets it.
    ``social_worker``: the own label of the speaker the enrolled voice recognised; that
    speaker is the social worker (``by_voice``), one voice or several, and the others' roles
    follow from the words. One voice found that the enrolled voice recognises is the social
    worker only when its words do not read as a conversation (``reads_as_conversation``):
    otherwise the separation heard several people as one (seen on a rendered visit, the
    enrolled voice at 0.98), and naming it would write a parent's and a child's words as the
    worker's. It then stays unknown, and ``diarisation.voice.merged`` says why."""
    base = speakers_of(transcript)
    if not base:
        return transcript
    if len(base) == 1 and social_worker is not None and reads_as_conversation(transcript.segments):
        social_worker = None
        d = transcript.diarisation
        if d is not None and d.voice is not None:
            voice = d.voice.model_copy(update={"merged": True})
            transcript = transcript.model_copy(
                update={"diarisation": d.model_copy(update={"voice": voice})}
            )
    own = {sp.display: sp.label for sp in base}
    as_labels = [
        seg
        if seg.speaker is None
        else seg.model_copy(update={"speaker": own.get(seg.speaker, seg.speaker)})
        for seg in transcript.segments
    ]
    # One voice found: a dictation, or voices the separation could not tell apart (seen on a
    # visit of three voices). Calling it the social worker would put a parent's or a child's
    # words in the worker's mouth, so nobody is named until the practitioner says who it is.
    one_unknown_voice = len(base) == 1 and social_worker is None
    guesses = {} if one_unknown_voice else infer_roles(as_labels, social_worker=social_worker)
    roles = {sp.label: guesses[sp.label].role if sp.label in guesses else "unknown" for sp in base}
    confidence = {sp.label: guesses[sp.label].confidence if sp.label in guesses else 0.0
                  for sp in base}  # fmt: skip
    for label, gap in _background(transcript, roles).items():
        roles[label] = "other"
        confidence[label] = round(min(0.9, 0.5 + (gap - BACKGROUND_DB) / 20), 2)
    shown = display_labels(roles)
    speakers = tuple(
        Speaker(
            label=sp.label,
            role=roles[sp.label],
            confidence=confidence[sp.label],
            display=shown[sp.label],
        )
        for sp in base
    )
    if social_worker is not None:
        speakers = tuple(
            sp.model_copy(update={"confidence": max(sp.confidence, VOICE_CONFIDENCE),
                                  "by_voice": True})
            if sp.label == social_worker and sp.role == "social_worker" else sp
            for sp in speakers
        )  # fmt: skip
    return relabel(transcript, speakers)


_SENTENCE = re.compile(r"(?<=[.?!…])\s+")


def reads_as_conversation(segments: Sequence[Utterance]) -> bool:
    """Whether the words, read in order, are questions answered at once, by the rule
    ``answerers`` splits a speaker by (``answers_itself``). The voice could not tell: per
    window, a merged visit's windows matched the enrolled voice about as closely as a
    dictation's (half of them above 0.87 against 0.90; espeak-ng voices). A dictation read
    through a checklist reads so too, and is left for the practitioner to name rather than
    risk the other way round."""
    sentences = [
        part.strip() for seg in segments for part in _SENTENCE.split(seg.text) if part.strip()
    ]
    asks = sum(s.endswith("?") for s in sentences)
    answers = sum(
        1
        for before, s in zip(sentences, sentences[1:], strict=False)
        if before.endswith("?") and not s.endswith("?")
    )
    return answers_itself(asks, answers)


BACKGROUND_DB = 10.0
"""A voice this many dB or more below the loudest speaker is in the background: a television
newsreader 12 dB under a visit measured -12.4 dB against 0.0 for both people in the room
(tests/test_diarisation_hard.py). A child across the room is a few dB down, not ten."""


def _background(transcript: Transcript, roles: Mapping[str, str]) -> dict[str, float]:
    """Speaker label -> dB below the loudest, for voices quiet enough to be a television or a
    radio (role ``other``: their words are not the visit's record). Never the social worker:
    the recorder is theirs, so a quiet worker is a quiet recording, not a background."""
    levels = transcript.diarisation.level_db if transcript.diarisation else {}
    if len(levels) < 2:
        return {}
    return {
        label: -level
        for label, level in levels.items()
        if -level >= BACKGROUND_DB and roles.get(label) not in (None, "social_worker")
    }


def set_roles(transcript: Transcript, changes: Mapping[str, str]) -> Transcript:
    """``transcript`` with the roles a practitioner set (speaker label -> role): those speakers
    confirmed (confidence 1), every display label worked out again and the segments relabelled.
    ValueError for a label the transcript lacks or a role outside the vocabulary."""
    base = speakers_of(transcript)
    known = {sp.label for sp in base}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValueError(
            f"no speaker {', '.join(unknown)} in this recording; "
            f"its speakers are {', '.join(sp.label for sp in base) or 'none'}"
        )
    for role in changes.values():
        check_role(role)
    roles = {sp.label: changes.get(sp.label, sp.role) for sp in base}
    shown = display_labels(roles)
    speakers = tuple(
        sp.model_copy(
            update={
                "role": roles[sp.label],
                "display": shown[sp.label],
                # the voice recognised a social worker: not whoever the practitioner says it is
                "by_voice": sp.by_voice and roles[sp.label] == "social_worker",
                **({"confirmed": True, "confidence": 1.0} if sp.label in changes else {}),
            }
        )
        for sp in base
    )
    return relabel(transcript, speakers)


def relabel(transcript: Transcript, speakers: tuple[Speaker, ...]) -> Transcript:
    """Every segment's speaker read through the transcript's current speakers (display label ->
    own label) and written as its display label in ``speakers``."""
    own = {sp.display: sp.label for sp in speakers_of(transcript)}
    shown = {sp.label: sp.display for sp in speakers}
    segments = tuple(
        seg
        if seg.speaker is None
        else seg.model_copy(
            update={"speaker": shown.get(own.get(seg.speaker, seg.speaker), seg.speaker)}
        )
        for seg in transcript.segments
    )
    return transcript.model_copy(update={"segments": segments, "speakers": speakers})
