"""The drafting stage: a :class:`RedactedTranscript` in, a :class:`DraftNote` out.

* :mod:`~assistant.drafting.drafter`: :class:`Drafter`, the stage (chunks, messages, the note).
* :mod:`~assistant.drafting.styles`: one module a template style (abstractive, extractive,
  classify, batched classify), how a chunk is put to the model and its answers read.
* :mod:`~assistant.drafting.prompt` (the transcript block), :mod:`~assistant.drafting.chunking`
  (long transcripts), :mod:`~assistant.drafting.response` (checking answers).
* :mod:`~assistant.drafting.templates` (versioned prompts under ``prompts/``),
  :mod:`~assistant.drafting.llm` (the local model), :mod:`~assistant.drafting.statements`
  (verbatim statements, merging chunks).

The names below are imported on first use, so reading a template (the API, the CLI) or a
statement helper (the review) does not load the drafter and its styles.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.drafting.drafter import (
        LABEL_PEEK_TOKENS,
        TRANSCRIPT_END,
        TRANSCRIPT_START,
        Drafter,
    )
    from assistant.drafting.llm import ChatLLM, TokenCountingLLM, load_llm
    from assistant.drafting.statements import PRACTITIONER_LABELS, excerpts, merge_chunks
    from assistant.drafting.templates import (
        NONE_LABEL,
        PROMPTS_DIR,
        NoteTemplate,
        SectionSpec,
        load_template,
    )

_WHERE = {
    "Drafter": "drafter",
    "LABEL_PEEK_TOKENS": "drafter",
    "TRANSCRIPT_START": "drafter",
    "TRANSCRIPT_END": "drafter",
    "ChatLLM": "llm",
    "TokenCountingLLM": "llm",
    "load_llm": "llm",
    "PRACTITIONER_LABELS": "statements",
    "excerpts": "statements",
    "merge_chunks": "statements",
    "NONE_LABEL": "templates",
    "PROMPTS_DIR": "templates",
    "NoteTemplate": "templates",
    "SectionSpec": "templates",
    "load_template": "templates",
}

__all__ = [
    "LABEL_PEEK_TOKENS",
    "NONE_LABEL",
    "PRACTITIONER_LABELS",
    "PROMPTS_DIR",
    "TRANSCRIPT_END",
    "TRANSCRIPT_START",
    "ChatLLM",
    "Drafter",
    "NoteTemplate",
    "SectionSpec",
    "TokenCountingLLM",
    "excerpts",
    "load_llm",
    "load_template",
    "merge_chunks",
]
assert sorted(__all__) == sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
