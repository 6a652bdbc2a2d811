"""Review: the checks run in code on a drafted note before anyone reads it.

* :mod:`~assistant.review.run`: :func:`review_note`, the stage in one call (repair, verify,
  gate, omissions), as the pipeline runs it.
* :mod:`~assistant.review.repair`: quotes restored, kinds, speakers and sections corrected.
* :mod:`~assistant.review.verify`: every statement checked against the segments it cites
  (reading quotes in :mod:`~assistant.review.quotes`, evidence in
  :mod:`~assistant.review.evidence`, words and numbers in :mod:`~assistant.review.wording`).
* :mod:`~assistant.review.safeguarding`: unsupported red-flag claims removed, omissions surfaced,
  by the lexicon of :mod:`~assistant.review.redflag_lexicon` (data in ``lexicon/lexicon.yaml``).

Pure Python (pydantic, PyYAML): importing this package loads no model.
"""

from assistant.review.quotes import is_excerpt, quote_tokens
from assistant.review.redflag_lexicon import (
    DEFAULT_LEXICON_PATH,
    Lexicon,
    default_lexicon,
    load_lexicon,
)
from assistant.review.repair import (
    FLAG_KIND_CORRECTED,
    FLAG_QUOTE_RESTORED,
    FLAG_SECTION_CORRECTED,
    FLAG_SPEAKER_CORRECTED,
    RepairReport,
    repair_note,
    speaker_group,
)
from assistant.review.run import review_note
from assistant.review.safeguarding import (
    FLAG_NOT_AFFIRMED_PREFIX,
    GatingReport,
    Omission,
    categories_in,
    gate_red_flags,
    possible_omissions,
)
from assistant.review.verify import (
    CONTENT_SUPPORT_THRESHOLD,
    FLAG_QUOTE_NOT_FOUND,
    FLAG_UNSUPPORTED_PREFIX,
    Reason,
    VerificationReport,
    verify_note,
)
from assistant.review.wording import numbers

__all__ = [
    "CONTENT_SUPPORT_THRESHOLD",
    "DEFAULT_LEXICON_PATH",
    "FLAG_KIND_CORRECTED",
    "FLAG_NOT_AFFIRMED_PREFIX",
    "FLAG_QUOTE_NOT_FOUND",
    "FLAG_QUOTE_RESTORED",
    "FLAG_SECTION_CORRECTED",
    "FLAG_SPEAKER_CORRECTED",
    "FLAG_UNSUPPORTED_PREFIX",
    "GatingReport",
    "Lexicon",
    "Omission",
    "Reason",
    "RepairReport",
    "VerificationReport",
    "categories_in",
    "default_lexicon",
    "gate_red_flags",
    "is_excerpt",
    "load_lexicon",
    "numbers",
    "possible_omissions",
    "quote_tokens",
    "repair_note",
    "review_note",
    "speaker_group",
    "verify_note",
]
