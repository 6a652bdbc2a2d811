"""The transcript as the model is shown it: one defused line a segment, between fixed markers.

Anything in a segment that could pass for a marker or a chat-template control token is defused
first, so no text in a recording can close the data block or end the message: the system
prompt tells the model that everything between the markers is data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.domain import RedactedSegment
from assistant.drafting.llm import ChatLLM, TokenCountingLLM

TRANSCRIPT_START = "<<<TRANSCRIPT START>>>"
TRANSCRIPT_END = "<<<TRANSCRIPT END>>>"

# Chat-template control tokens and anything that looks like our markers. llama-cpp-python
# tokenizes the whole formatted prompt with special=True, so "<|im_end|>" typed into a
# transcript would otherwise become a real end-of-message token.
_CONTROL_TEXT = re.compile(
    r"<\|[^\n]{0,40}?\|>|</?s>|\[/?INST\]|<</?SYS>>|</?(?:start|end)_of_turn>|[<>]{3,}",
    re.IGNORECASE,
)
_DEFUSE = str.maketrans({"<": "\u2039", ">": "\u203a", "|": "\u00a6", "[": "(", "]": ")"})
"""Readable lookalikes that are neither tokens nor markers (single angle quotes, broken bar)."""
_DEFUSE_ANGLES = str.maketrans({"<": "\u2039", ">": "\u203a", "|": "\u00a6"})
_BRACKET = re.compile(r"(\[[A-Z][A-Z0-9_]*_\d+\])|[\[\]]")
"""A placeholder (group 1, kept) or a lone square bracket (replaced by a parenthesis)."""
_PARENS = {"[": "(", "]": ")"}


def _defuse(text: str) -> str:
    text = " ".join(text.split())  # one segment, one line: no forged "[s0009] ..." lines
    return _CONTROL_TEXT.sub(lambda m: m.group(0).translate(_DEFUSE), text)


def clean(llm: ChatLLM, text: str) -> str:
    """Defuse known control text; then, when the model can tokenize, ask its own tokenizer
    whether any control token is left (model-specific ones the pattern does not know) and
    defuse harder if so: angle brackets and bars first, then square brackets that are not
    part of a placeholder, so ``[PERSON_1]`` always survives."""
    text = _defuse(text)
    if not isinstance(llm, TokenCountingLLM) or not _has_control_token(llm, text):
        return text
    text = text.translate(_DEFUSE_ANGLES)
    if _has_control_token(llm, text):
        text = _BRACKET.sub(lambda m: m.group(0) if m.group(1) else _PARENS[m.group(0)], text)
    return text


def _has_control_token(llm: TokenCountingLLM, text: str) -> bool:
    data = text.encode("utf-8")
    return llm.tokenize(data, add_bos=False, special=True) != llm.tokenize(
        data, add_bos=False, special=False
    )


def line(llm: ChatLLM, segment: RedactedSegment) -> str:
    """One segment's line of the transcript block: ``[id] speaker: text``."""
    if not segment.speaker:  # no diarisation: do not invent a label the model would cite
        return f"[{segment.id}] {clean(llm, segment.text)}"
    return f"[{segment.id}] {clean(llm, segment.speaker)}: {clean(llm, segment.text)}"


def transcript_block(llm: ChatLLM, segments: Sequence[RedactedSegment]) -> str:
    """The segments' lines between the transcript markers."""
    return "\n".join([TRANSCRIPT_START, *(line(llm, s) for s in segments), TRANSCRIPT_END])
