"""Deterministic corrections of a draft before it is verified: quotes, attribution, sections.

Small local models make two mistakes that are cheap to mend in code, and costly to leave: a
paraphrase labelled as a direct quote ("I don't like it when they shout" becomes "she does not
like shouting", kind ``direct_quote``), and a statement attributed to someone other than the
person whose words it cites. Shown as they are, the first puts words in a child's mouth; the
second misattributes a view. Both are repaired here from the transcript itself, never by asking
the model, and every repair is recorded as a flag on the statement so the practitioner and the
evaluation see it:

* ``quote_restored``: a ``direct_quote`` whose words are not verbatim in the transcript, but which
  plainly rests on one stretch of a cited segment (at least :data:`RESTORE_RECALL` of its words
  are in that stretch, and at least :data:`RESTORE_PRECISION` of the stretch's words are in the
  statement), gets the speaker's exact words in place of the model's version. The stretch is
  one to :data:`MAX_SENTENCES` consecutive sentences of one segment.
* ``kind_corrected``: a ``direct_quote`` that cannot be restored is no longer presented as a
  quote: its kind becomes ``reported`` and verification then judges it as a report.
* ``speaker_corrected``: a reported, opinion or quoted statement whose cited segments were all
  said by one speaker, who is not the speaker the model named, is attributed to that speaker,
  unless the statement's own text names the model's speaker (then the mismatch is left for
  verification to flag, since the words would contradict the new label).

* ``section_corrected``: the template's own rules for whose words two sections hold, applied
  where the transcript's speaker labels say who spoke (a typed transcript; audio has no
  labels, so nothing moves). A statement in the child's wishes and feelings (``child_voice``)
  that cites words of parents, carers or relatives and none of the child's (the practitioner's
  question before them allowed) is moved to parents' and carers' views
  (``parent_carer_views``); one in parents' and carers' views or in what was observed that
  cites the child's words and no family member's is moved to the child's section. Worries,
  what is working well and actions may hold anyone's words, attributed, and are left alone.
  Who is the child, who is family and who the practitioner is read from the label
  (:data:`CHILD_SPEAKERS`, :data:`FAMILY_SPEAKERS`, ``PRACTITIONER_LABELS``); a statement
  citing any other label (a name, "Speaker 2", a television) does not move.

The text of a statement is only ever replaced by words of the transcript. Nothing here logs or
reports statement or transcript text: the report holds section keys, indexes and counts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from assistant.domain import (
    DraftNote,
    NoteSection,
    RedactedSegment,
    RedactedTranscript,
    Statement,
)
from assistant.domain import StatementKind as Kind
from assistant.drafting.statements import PRACTITIONER_LABELS
from assistant.review.quotes import (
    QuoteIndex,
    is_excerpt,
    quote_in_transcript,
    quote_tokens,
    strip_attribution,
)
from assistant.review.verify import ATTRIBUTED_KINDS
from assistant.speakers import FAMILY, SpeakerRole, role_of

FLAG_QUOTE_RESTORED = "quote_restored"
FLAG_KIND_CORRECTED = "kind_corrected"
FLAG_SPEAKER_CORRECTED = "speaker_corrected"
FLAG_SECTION_CORRECTED = "section_corrected"
REPAIR_FLAGS = frozenset(
    {FLAG_QUOTE_RESTORED, FLAG_KIND_CORRECTED, FLAG_SPEAKER_CORRECTED, FLAG_SECTION_CORRECTED}
)

CHILD_SECTION = "child_voice"
FAMILY_SECTION = "parent_carer_views"
CHILD_MISPLACED_IN = (FAMILY_SECTION, "observations")
"""Sections whose definition excludes the child's own words; the child's words found there
alone belong in :data:`CHILD_SECTION`."""
CHILD_SPEAKERS = frozenset({"child", "the child", "young person", "yp"})
"""Speaker labels (case ignored) of the child or young person the visit is about."""
FAMILY_SPEAKERS = frozenset(
    """
    mum mother mam mummy mom mama ma dad father daddy papa baba da parent parents
    stepdad step-dad stepfather stepmum step-mum stepmother partner nan nana nanna gran granny
    grandma grandmother grandad grandpa grandfather grandparent auntie aunt uncle carer carers
    foster-carer kinship-carer special-guardian
    """.split()
)
"""Speaker labels (case ignored; a space may stand for the hyphen) of parents, carers and
relatives, whose words the template files under :data:`FAMILY_SECTION`."""

RESTORE_RECALL = 0.6
"""Share of the statement's distinct words that must be in the stretch it is restored from."""
RESTORE_PRECISION = 0.4
"""Share of the stretch's distinct words that must be in the statement (no restoring a long
speech from a three-word fragment)."""
MAX_SENTENCES = 3

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_MINOR = frozenset({"a", "an", "the", "and", "or", "to", "of", "it", "is", "was", "that", "so"})
"""Words too common to say which stretch a statement rests on."""


class RepairReport(BaseModel):
    """What was repaired, by section key and index; no text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    quotes_restored: tuple[tuple[str, int], ...] = ()
    kinds_corrected: tuple[tuple[str, int], ...] = ()
    speakers_corrected: tuple[tuple[str, int], ...] = ()
    sections_corrected: tuple[tuple[str, int], ...] = ()
    """(section moved from, index there)."""

    def summary(self) -> dict[str, int]:
        return {
            FLAG_QUOTE_RESTORED: len(self.quotes_restored),
            FLAG_KIND_CORRECTED: len(self.kinds_corrected),
            FLAG_SPEAKER_CORRECTED: len(self.speakers_corrected),
            FLAG_SECTION_CORRECTED: len(self.sections_corrected),
        }


def repair_note(note: DraftNote, transcript: RedactedTranscript) -> tuple[DraftNote, RepairReport]:
    """Restore quotes, correct kinds and speakers (see the module docstring). Idempotent: a
    repaired note comes back unchanged."""
    segments = {s.id: s for s in transcript.segments}
    index = QuoteIndex(transcript.segments)
    restored: list[tuple[str, int]] = []
    kinds: list[tuple[str, int]] = []
    speakers: list[tuple[str, int]] = []
    sections = []
    for section in note.sections:
        statements = []
        for idx, st in enumerate(section.statements):
            cited = [segments[e] for e in st.evidence if e in segments]
            new = _repair_quote(st, cited, index)
            if FLAG_QUOTE_RESTORED in new.flags and FLAG_QUOTE_RESTORED not in st.flags:
                restored.append((section.key, idx))
            if FLAG_KIND_CORRECTED in new.flags and FLAG_KIND_CORRECTED not in st.flags:
                kinds.append((section.key, idx))
            fixed = _repair_speaker(new, cited)
            if fixed is not new:
                speakers.append((section.key, idx))
            statements.append(fixed)
        sections.append(section.model_copy(update={"statements": tuple(statements)}))
    sections, moved = _repair_sections(sections, segments, transcript)
    report = RepairReport(
        quotes_restored=tuple(restored),
        kinds_corrected=tuple(kinds),
        speakers_corrected=tuple(speakers),
        sections_corrected=tuple(moved),
    )
    return note.model_copy(update={"sections": tuple(sections)}), report


def speaker_group(label: str | None) -> str | None:
    """``"child"``, ``"family"`` or ``"practitioner"`` for a speaker label that says so, else
    None."""
    if not label:
        return None
    key = " ".join(label.casefold().split())
    if key in CHILD_SPEAKERS:
        return "child"
    if key in FAMILY_SPEAKERS or key.replace(" ", "-") in FAMILY_SPEAKERS:
        return "family"
    if key in PRACTITIONER_LABELS:
        return "practitioner"
    # labels from speaker separation ("Parent 2", "Child 2", "Carer 1"): by their role
    role = role_of(label)
    if role is SpeakerRole.CHILD:
        return "child"
    if role in FAMILY:
        return "family"
    if role is SpeakerRole.SOCIAL_WORKER:
        return "practitioner"
    return None


def _belongs_in(section: str, cited: Sequence[RedactedSegment]) -> str | None:
    """The section that a statement of ``section`` citing ``cited`` belongs in by the
    template's rules, when it is not ``section``; None when it stays (or when any cited
    speaker's label does not say who they are)."""
    groups = {speaker_group(seg.speaker) for seg in cited}
    if not groups or None in groups:
        return None
    if section == CHILD_SECTION and "family" in groups and "child" not in groups:
        return FAMILY_SECTION
    if section in CHILD_MISPLACED_IN and "child" in groups and "family" not in groups:
        return CHILD_SECTION
    return None


def _repair_sections(
    sections: list[NoteSection],
    segments: dict[str, RedactedSegment],
    transcript: RedactedTranscript,
) -> tuple[list[NoteSection], list[tuple[str, int]]]:
    """Move statements the template's rules put in another section (``section_corrected``);
    a moved statement takes its place in the target section by where it was said."""
    keys = {section.key for section in sections}
    if not {CHILD_SECTION, FAMILY_SECTION} <= keys:
        return sections, []
    order = {seg.id: i for i, seg in enumerate(transcript.segments)}
    incoming: dict[str, list[Statement]] = {key: [] for key in keys}
    moved: list[tuple[str, int]] = []
    kept: dict[str, list[Statement]] = {}
    for section in sections:
        kept[section.key] = []
        for idx, st in enumerate(section.statements):
            target = None
            if st.kind in ATTRIBUTED_KINDS:
                target = _belongs_in(
                    section.key, [segments[e] for e in st.evidence if e in segments]
                )
            if target is None:
                kept[section.key].append(st)
            else:
                incoming[target].append(_with_flag(st, FLAG_SECTION_CORRECTED))
                moved.append((section.key, idx))
    if not moved:
        return sections, []

    def when(st: Statement) -> int:
        return min((order[e] for e in st.evidence if e in order), default=len(order))

    def placed(statements: list[Statement], extra: list[Statement]) -> tuple[Statement, ...]:
        """``statements`` in their order, each of ``extra`` before the first said later."""
        out = list(statements)
        for st in extra:
            at = next((i for i, other in enumerate(out) if when(other) > when(st)), len(out))
            out.insert(at, st)
        return tuple(out)

    return [
        section.model_copy(update={"statements": placed(kept[section.key], incoming[section.key])})
        for section in sections
    ], moved


def _with_flag(st: Statement, flag: str, **update: object) -> Statement:
    flags = st.flags if flag in st.flags else (*st.flags, flag)
    return st.model_copy(update={**update, "flags": flags})


def _repair_quote(st: Statement, cited: Sequence[RedactedSegment], index: QuoteIndex) -> Statement:
    if st.kind is not Kind.DIRECT_QUOTE:
        return st
    if is_excerpt(st, cited):
        return st  # an extractive statement: the cited segments' words, turn by turn
    if quote_in_transcript(st.text, index):
        return st
    words = strip_attribution(quote_tokens(st.text)) or quote_tokens(st.text)
    wanted = set(words) - _MINOR
    best: tuple[float, str] | None = None
    if wanted:
        for seg in cited:
            for stretch in _stretches(seg.text):
                have = set(quote_tokens(stretch)) - _MINOR
                if not have:
                    continue
                common = len(wanted & have)
                recall, precision = common / len(wanted), common / len(have)
                if recall >= RESTORE_RECALL and precision >= RESTORE_PRECISION:
                    score = 2 * recall * precision / (recall + precision)
                    if best is None or score > best[0]:
                        best = (score, stretch)
    if best is not None:
        return _with_flag(st, FLAG_QUOTE_RESTORED, text=best[1])
    return _with_flag(st, FLAG_KIND_CORRECTED, kind=Kind.REPORTED)


def _stretches(text: str) -> list[str]:
    """Runs of one to :data:`MAX_SENTENCES` consecutive sentences of a segment, verbatim."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    return [
        " ".join(sentences[i : i + n])
        for n in range(1, MAX_SENTENCES + 1)
        for i in range(len(sentences) - n + 1)
    ]


def _repair_speaker(st: Statement, cited: Sequence[RedactedSegment]) -> Statement:
    if st.kind not in ATTRIBUTED_KINDS or not cited:
        return st
    said_by = {seg.speaker for seg in cited if seg.speaker}
    if len(said_by) != 1 or any(not seg.speaker for seg in cited):
        return st
    (speaker,) = said_by
    if st.speaker == speaker:
        return st
    if st.speaker and _names(st.text, st.speaker):
        return st  # the text itself says who; relabelling would contradict it
    if st.speaker and any(_names(seg.text, st.speaker) for seg in cited):
        return st  # "[PERSON_1] told me she..." reported by the worker about PERSON_1
    return _with_flag(st, FLAG_SPEAKER_CORRECTED, speaker=speaker)


def _names(text: str, speaker: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(speaker)}(?!\w)", text, re.IGNORECASE) is not None
