"""Long transcripts: consecutive chunks of whole segments that each fit the context window.

Tokens are counted with the model's own tokenizer; a model that cannot count tokens is shown
the whole transcript at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from assistant.domain import RedactedSegment
from assistant.drafting.llm import ChatLLM, TokenCountingLLM
from assistant.drafting.prompt import line
from assistant.errors import DraftingFailed

log = logging.getLogger(__name__)
_T = TypeVar("_T")

CHAT_OVERHEAD_TOKENS = 32
"""Tokens the chat template adds around the two messages (role markers), rounded up."""
CONTEXT_SAFETY_TOKENS = 64
"""Slack kept free in the context window for counting differences (lines tokenized apart)."""


def count_tokens(llm: TokenCountingLLM, text: str) -> int:
    return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))


def messages_tokens(llm: TokenCountingLLM, messages: Sequence[dict[str, str]]) -> int:
    """Tokens of the messages' contents (without the chat template's own)."""
    return sum(count_tokens(llm, m["content"]) for m in messages)


def plan_chunks(
    llm: ChatLLM,
    segments: Sequence[RedactedSegment],
    *,
    chunk_tokens: int | None,
    call_max_tokens: int,
    prompt_tokens: Callable[[Sequence[RedactedSegment]], int | None],
) -> list[tuple[RedactedSegment, ...]]:
    """One chunk when the whole transcript fits the context window (or ``chunk_tokens``,
    when smaller) with room for ``call_max_tokens`` of output (or when the model cannot count
    tokens); otherwise consecutive runs of segments that each fit, packed greedily in
    transcript order. ``prompt_tokens`` sizes the prompt for some segments."""
    if not isinstance(llm, TokenCountingLLM):
        return [tuple(segments)]
    n_ctx = llm.n_ctx()
    window = n_ctx if chunk_tokens is None else min(n_ctx, chunk_tokens)
    budget = window - call_max_tokens - CONTEXT_SAFETY_TOKENS
    fixed = prompt_tokens(())
    assert fixed is not None
    if fixed >= budget:
        raise DraftingFailed(
            f"the context window ({window} tokens) cannot hold the prompt ({fixed} tokens) "
            f"and {call_max_tokens} output tokens"
        )
    room = budget - fixed
    costs = [count_tokens(llm, line(llm, s)) + 1 for s in segments]
    if sum(costs) <= room:
        return [tuple(segments)]
    chunks: list[tuple[RedactedSegment, ...]] = []
    current: list[RedactedSegment] = []
    used = 0
    for segment, cost in zip(segments, costs, strict=True):
        if cost > room:
            raise DraftingFailed(
                f"segment {segment.id} ({cost} tokens) does not fit the context window"
            )
        if current and used + cost > room:
            chunks.append(tuple(current))
            current, used = [], 0
        current.append(segment)
        used += cost
    chunks.append(tuple(current))
    log.info("transcript split for drafting", extra={"chunks": len(chunks)})
    return chunks


def balanced_runs(items: Sequence[_T], size: int) -> list[tuple[_T, ...]]:
    """``items`` in consecutive runs of at most ``size``, as few runs as that allows and their
    lengths differing by at most one (20 by 8: 7, 7, 6; not 8, 8, 4), so no question is left
    asking about a lone segment at the end."""
    if size < 1:
        raise ValueError("a run holds at least one item")
    n_runs = -(-len(items) // size)
    runs: list[tuple[_T, ...]] = []
    start = 0
    for i in range(n_runs):
        length = len(items) // n_runs + (1 if i < len(items) % n_runs else 0)
        runs.append(tuple(items[start : start + length]))
        start += length
    return runs
