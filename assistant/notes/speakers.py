"""A practitioner's correction of who spoke, carried into a note without drafting again.

Every statement cites the transcript segments it rests on (its evidence). When a speaker's role
changes, the segments' labels change (``Parent`` becomes ``Child``); each statement follows its
evidence: its speaker becomes the new label of the speaker who said its cited words, and an
exchange written out turn by turn ("Social worker: …? Parent: Yes.") is written again with the
new labels when it is still exactly the cited words. Nothing else of the note changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from assistant.domain import NoteSection, RedactedSegment, Statement, excerpt
from assistant.notes.body import NoteBody


def reattribute(
    body: NoteBody,
    before: Mapping[str, RedactedSegment],
    after: Mapping[str, RedactedSegment],
    renamed: Mapping[str, str],
) -> tuple[NoteBody, int]:
    """``body`` with its statements re-attributed from the segments ``before`` the correction
    to the same segments ``after`` it (by id); ``renamed`` maps old display labels to new ones,
    for a statement whose speaker is none of its evidence's. Returns the body and how many
    statements changed."""
    changed = 0
    sections = []
    for sec in body.sections:
        statements = []
        for st in sec.statements:
            new = _statement(st, before, after, renamed)
            changed += new != st
            statements.append(new)
        sections.append(NoteSection(key=sec.key, title=sec.title, statements=tuple(statements)))
    return NoteBody(sections=tuple(sections)), changed


def _statement(
    st: Statement,
    before: Mapping[str, RedactedSegment],
    after: Mapping[str, RedactedSegment],
    renamed: Mapping[str, str],
) -> Statement:
    ids = [e for e in st.evidence if e in before and e in after]
    old = [before[e] for e in ids]
    new = [after[e] for e in ids]
    update: dict[str, str | None] = {}
    if st.speaker is not None:
        through_evidence = {o.speaker: n.speaker for o, n in zip(old, new, strict=True)}
        if st.speaker in through_evidence:
            update["speaker"] = through_evidence[st.speaker]
        elif st.speaker in renamed:
            update["speaker"] = renamed[st.speaker]
    if old and len({s.speaker for s in old}) > 1:
        order = sorted(range(len(ids)), key=lambda i: (old[i].start, old[i].id))
        text_before, _ = excerpt([old[i] for i in order])
        if st.text == text_before:
            update["text"], _ = excerpt([new[i] for i in order])
    if not update or all(getattr(st, k) == v for k, v in update.items()):
        return st
    return st.model_copy(update=update)
