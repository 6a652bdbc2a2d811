"""Drafting styles: how a template's chunk of transcript is put to the model (one module a
style, chosen by the template's ``style`` and ``batch``; shared parts in :mod:`.base`)."""

from __future__ import annotations

from assistant.drafting.styles.abstractive import Abstractive
from assistant.drafting.styles.base import Style
from assistant.drafting.styles.batched import Batched
from assistant.drafting.styles.classify import Classify
from assistant.drafting.styles.extractive import Extractive
from assistant.drafting.styles.note import Note
from assistant.drafting.templates import NoteTemplate

__all__ = ["Abstractive", "Batched", "Classify", "Extractive", "Note", "Style", "style_for"]


def style_for(template: NoteTemplate) -> type[Style]:
    """The style that drafts with ``template``."""
    if template.style == "classify":
        return Batched if template.batch > 1 else Classify
    if template.style == "note":
        return Note
    if template.style == "extractive":
        return Extractive
    return Abstractive
