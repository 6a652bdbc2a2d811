"""A note measured as a note (suite version 7): how long it is, how close it comes to what a
clinician wrote, whether agreed actions came out as rows, and whether its attribution is right.

* **note_length_share**: words of the note (statements and header) / words of the redacted
  transcript, pooled. A clinician's note is about a tenth of the conversation; a draft that
  keeps every segment is 1. Goals: <= 0.30 on the scenarios, <= 0.25 on PriMock57.
* **primock_note_token_f1** (with **primock_note_f1_precision** and **_f1_recall**):
  distinct content words (``eval.scoring.words.content_words``: stemmed, stop words out) of
  the draft against those of the clinician's note, per consultation, averaged. Recall alone
  rewards keeping everything; precision is what a longer note loses.
* **primock_note_rouge_l**: ROUGE-L F1 (longest common subsequence of content words, in order)
  between the draft and the clinician's note, per consultation, averaged.
* **action_recall**: gold actions of a scenario found as a row: a statement of an actions
  section whose ``action`` (or, for drafts before rows, its words and speaker) names the gold
  ``who`` (by role), carries at least half of the gold ``what``'s content words and, when the
  gold says by when, at least half of those words. ``action_found`` counts the ``what`` alone.
* **attribution_correct**: statements with one speaker whose speaker is the speaker of the turn
  they cite, as the scenario's gold turns say (an exchange, with no single speaker, is not
  counted). From a typed transcript it checks the drafter and the review; from audio, the
  speaker separation and roles.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.domain import DraftNote, Statement, StatementKind
from assistant.speakers import SpeakerRole, role_of
from eval.scoring.words import content_words

ACTION_WORDS = 0.5
"""Share of a gold action's ``what`` (and ``by``) content words a row must carry."""


def note_words(note: DraftNote) -> int:
    """Words a practitioner reads: every statement's text and the header's values."""
    return sum(len(st.text.split()) for st in note.all_statements()) + sum(
        len(h.value.split()) for h in note.header
    )


def note_text(note: DraftNote) -> str:
    return "\n".join([*(h.value for h in note.header), *(st.text for st in note.all_statements())])


def token_f1(draft: str, reference: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of the draft's distinct content words against the reference's."""
    have = {k for k in content_words(draft) if not k.startswith("[")}
    want = {k for k in content_words(reference) if not k.startswith("[")}
    if not have or not want:
        return 0.0, 0.0, 0.0
    both = len(have & want)
    p, r = both / len(have), both / len(want)
    return p, r, (2 * p * r / (p + r) if both else 0.0)


def rouge_l(draft: str, reference: str) -> float:
    """ROUGE-L F1 over content words in order (the longest common subsequence)."""
    a = [k for k in content_words(draft) if not k.startswith("[")]
    b = [k for k in content_words(reference) if not k.startswith("[")]
    if not a or not b:
        return 0.0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, start=1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    lcs = prev[-1]
    if not lcs:
        return 0.0
    p, r = lcs / len(a), lcs / len(b)
    return 2 * p * r / (p + r)


def _share(want: str, have: str) -> float:
    w = set(content_words(want))
    return len(w & set(content_words(have))) / len(w) if w else 1.0


def _who_matches(gold_who: str, row_who: str) -> bool:
    """Same role ("Social worker" and "The social worker"), or the same words."""
    g = role_of(gold_who.removeprefix("The ").strip())
    r = role_of(row_who.removeprefix("The ").removeprefix("the ").split(" and ")[0].strip())
    if g is not SpeakerRole.UNKNOWN and g is r:
        return True
    return _share(gold_who, row_who) >= ACTION_WORDS


def action_found(
    gold_who: str, gold_what: str, gold_by: str | None, statements: Sequence[Statement]
) -> tuple[bool, bool]:
    """(found as a row with who, what and by when; its ``what`` found at all) among
    ``statements`` of agreed-action kind."""
    whole = what_only = False
    for st in statements:
        if st.kind is not StatementKind.AGREED_ACTION:
            continue
        if st.action is not None:
            who, what, by = st.action.who, st.action.what, st.action.by or ""
        else:
            who, what, by = st.speaker or "", st.text, st.text
        if _share(gold_what, what) < ACTION_WORDS and _share(gold_what, st.text) < ACTION_WORDS:
            continue
        what_only = True
        if _who_matches(gold_who, who) and (not gold_by or _share(gold_by, by) >= ACTION_WORDS):
            whole = True
    return whole, what_only


def action_rows(
    gold: Sequence[tuple[str, str | None]], statements: Sequence[Statement]
) -> tuple[int, int]:
    """(rows that are a gold action, rows): statements written as an action row whose ``what``
    (or words) carries at least :data:`ACTION_WORDS` of some gold action's ``what`` (``gold``:
    (what, by) pairs). A lower bound on precision: a real action the gold list lacks counts
    against it, so read the rows it misses before changing a rule for it."""
    rows = [st for st in statements if st.action is not None]
    hits = sum(
        any(
            _share(what, st.action.what) >= ACTION_WORDS or _share(what, st.text) >= ACTION_WORDS
            for what, _ in gold
        )
        for st in rows
        if st.action is not None
    )
    return hits, len(rows)


def attribution(statements: Sequence[Statement], said_by: dict[str, str]) -> tuple[int, int]:
    """(correct, counted): statements with a speaker whose cited turns' gold speaker is theirs
    (``said_by``: segment id -> the speaker label the scenario gives that turn)."""
    labels = set(said_by.values())
    correct = counted = 0
    for st in statements:
        if not st.speaker or not st.evidence:
            continue
        gold = {said_by[e] for e in st.evidence if e in said_by}
        if not gold:
            continue
        counted += 1
        if st.speaker in labels:  # the transcript's own labels (typed): the same label
            correct += st.speaker in gold
        else:  # labels from speaker separation ("Parent 1"): the same role
            role = role_of(st.speaker)
            correct += role is not SpeakerRole.UNKNOWN and any(role is role_of(g) for g in gold)
    return correct, counted
