"""A practitioner's correction of who spoke, carried into a note without drafting again.

Every statement cites the transcript segments it rests on (its evidence). When a speaker's role
changes, the segments' labels change (``Parent`` becomes ``Child``); each statement follows its
evidence: its speaker becomes the new label of the speaker who said its cited words, and an
exchange written out turn by turn ("Social worker: …? Parent: Yes.") is written again with the
new labels when it is still exactly the cited words; an action row's "who" follows its
speaker, and the header (found in code from the labels: who spoke, child seen, next visit) is
found again. Nothing else of the note changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from assistant.domain import NoteSection, RedactedSegment, Statement, excerpt
from assistant.drafting.actions import header
from assistant.notes.body import NoteBody
from assistant.speakers import attributed


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
    # the header (who spoke, child seen, next visit) is found in code from the labelled
    # transcript, never edited: found again from the corrected labels, as a new draft would
    head = body.header
    if head:
        head = header(sorted(after.values(), key=lambda s: (s.start, s.id)))
    return NoteBody(sections=tuple(sections), header=head), changed


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
    changes: dict[str, object] = dict(update)
    if st.action is not None:
        who = _renamed_in(st.action.who, renamed)
        if who != st.action.who:
            changes["action"] = st.action.model_copy(update={"who": who})
    if not changes or all(getattr(st, k) == v for k, v in changes.items()):
        return st
    return st.model_copy(update=changes)


def _renamed_in(who: str, renamed: Mapping[str, str]) -> str:
    """An action row's "who" ("The social worker", "Mum and The child") with each speaker
    written as their new label, in one pass so two speakers swapping roles swap here too."""
    forms = {attributed(old): attributed(new) for old, new in renamed.items() if old != new}
    if not forms:
        return who
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
    return pattern.sub(lambda m: forms[m.group(0)], who)
