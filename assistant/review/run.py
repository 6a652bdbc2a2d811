"""The review stage in one call: repair, verify and gate a draft, and record what was done.

:func:`review_note` runs the checks of this package in their order on a freshly drafted note:
quotes restored to the speaker's exact words (or no longer shown as quotes), speakers and
sections corrected from the cited segments (:mod:`assistant.review.repair`), then every
statement checked against its cited segments (:mod:`assistant.review.verify`: unsupported ones
are flagged, not shown as fact), red-flag claims without that category's language in their
evidence removed, and red-flag categories the note leaves out surfaced
(:mod:`assistant.review.safeguarding`). The note comes back with a ``DraftReview`` holding the
counts and, for the practitioner only, the removed claims. Logs counts only, never text.
"""

from __future__ import annotations

import logging

from assistant.domain import (
    DraftNote,
    DraftReview,
    PossibleOmission,
    RedactedTranscript,
    RemovedClaim,
)
from assistant.review.redflag_lexicon import Lexicon, default_lexicon
from assistant.review.repair import repair_note
from assistant.review.safeguarding import gate_red_flags, possible_omissions
from assistant.review.verify import verify_note

log = logging.getLogger(__name__)


def review_note(
    note: DraftNote, redacted: RedactedTranscript, *, lexicon: Lexicon | None = None
) -> DraftNote:
    """Check the draft in code: quotes restored to the speaker's exact words (or no longer
    shown as quotes) and speakers corrected from the cited segments, then every statement
    checked against its cited segments (unsupported ones are flagged, not shown as fact),
    red-flag claims without that category's language in their evidence removed, and red-flag
    categories the note leaves out surfaced. ``lexicon`` names the red-flag categories
    (default: the packaged lexicon)."""
    if lexicon is None:
        lexicon = default_lexicon()
    note, repairs = repair_note(note, redacted)
    note, verification = verify_note(note, redacted)
    note, gating = gate_red_flags(note, redacted, lexicon)
    omissions = possible_omissions(note, redacted, lexicon)
    review = DraftReview(
        verification=verification.summary(),
        gating=gating.summary(),
        repairs=repairs.summary(),
        removed_claims=tuple(
            RemovedClaim(section=r.section, categories=r.categories, statement=r.statement)
            for r in gating.practitioner_view
        ),
        possible_omissions=tuple(
            PossibleOmission(category=o.category, label=o.label, segment_ids=o.segment_ids)
            for o in omissions
        ),
    )
    log.info(
        "draft reviewed repairs=%s verification=%s gating=%s omissions=%d",
        repairs.summary(),
        verification.summary(),
        gating.summary(),
        len(omissions),
    )
    return note.model_copy(update={"review": review})
