"""Reading the model's answers: complete, valid JSON against the schema asked for, or an
:class:`InvalidAnswer` whose reason holds no output or transcript text (an attempt to retry).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match


class InvalidAnswer(Exception):
    """One attempt's output cannot be used; ``reason`` holds no output or transcript text."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def validated(
    response: Any, schema: dict[str, Any], *, max_tokens: int, section_keys: Sequence[str]
) -> Any:
    """The response's JSON, checked complete and valid against ``schema``; ``section_keys``
    are names an error message may repeat."""
    try:
        choice = response["choices"][0]
        finish_reason = choice.get("finish_reason")
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError, AttributeError):
        raise InvalidAnswer("the model response has no message") from None
    if finish_reason == "length":
        raise InvalidAnswer(f"output cut off at max_tokens ({max_tokens})")
    if not isinstance(content, str) or not content.strip():
        raise InvalidAnswer("empty output")
    try:
        data = json.loads(content)
    except json.JSONDecodeError:
        raise InvalidAnswer("output is not valid JSON") from None
    error = best_match(Draft202012Validator(schema).iter_errors(data))
    if error is not None:
        where = _path(error.path, known={"sections", "statements", *section_keys})
        raise InvalidAnswer(f"output breaks the schema ({error.validator} at {where})")
    return data


def _path(path: Sequence[Any], *, known: set[str]) -> str:
    """A JSON path for an error message built only from indices and known key names, so a key
    the model made up (which could echo the transcript) never reaches a message or a log."""
    fields = {"text", "kind", "speaker", "evidence"}
    parts = [str(p) if isinstance(p, int) or p in known | fields else "?" for p in path]
    return "/".join(parts) or "top level"


def label_from_start(content: str, labels: Sequence[str]) -> str | None:
    """The one label among ``labels`` that a classify answer's first tokens (a JSON string,
    perhaps cut short: ``"wor``) can only be the start of; ``None`` when they fit none or more
    than one (``"n`` may be ``none`` or ``next_visit``) and the whole answer is needed."""
    text = content.strip()
    if not text.startswith('"'):
        return None
    text = text[1:]
    if text.endswith('"'):
        return text[:-1] if text[:-1] in labels else None
    matches = [label for label in labels if label.startswith(text)]
    return matches[0] if text and len(matches) == 1 else None
