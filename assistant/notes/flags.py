"""What a verification finding on a statement (``Statement.flags``) says to a person: the
review page's tags and the exports' "Check:" lines read the same words, never the code."""

from __future__ import annotations

from assistant.notes.edit import ADDED_BY_PRACTITIONER
from assistant.notes.statements import REWORDED
from assistant.speakers import THROUGH_INTERPRETER

#: A verification finding (``Statement.flags``) -> (what the reviewer reads, tag colour).
FLAG_LABELS = {
    "low_confidence_words": ("Words the recogniser was unsure of", "yellow"),
    "quote_restored": ("Quote restored to the exact words", "grey"),
    "quote_not_found": ("Quote not found in the transcript", "red"),
    "evidence_corrected": ("Evidence corrected", "grey"),
    "kind_corrected": ("Kind corrected", "grey"),
    "speaker_corrected": ("Speaker corrected", "grey"),
    "section_corrected": ("Moved to this section", "grey"),
    REWORDED: ("Reworded by the practitioner", "grey"),
    ADDED_BY_PRACTITIONER: ("Added by the practitioner", "grey"),
    THROUGH_INTERPRETER: ("Said through the interpreter", "grey"),
}
#: Prefixed findings: ``unsupported:<reason>``, ``red_flag_not_affirmed:<category>``.
FLAG_PREFIXES = {
    "unsupported:": ("Not supported by its evidence", "red"),
    "red_flag_not_affirmed:": ("Safeguarding concern not affirmed in the evidence", "orange"),
}


def flag_label(flag: str) -> tuple[str, str]:
    if flag in FLAG_LABELS:
        return FLAG_LABELS[flag]
    for prefix, (label, colour) in FLAG_PREFIXES.items():
        if flag.startswith(prefix):
            detail = flag.removeprefix(prefix).replace("_", " ")
            return f"{label}: {detail}", colour
    return flag.replace("_", " "), "grey"
