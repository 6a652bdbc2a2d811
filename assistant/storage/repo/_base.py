"""Helpers shared by the repository modules (not part of ``repo``'s surface)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from assistant.domain import JobStatus
from assistant.errors import NotFound

IN_PROGRESS = (
    JobStatus.TRANSCRIBING,
    JobStatus.DIARISING,
    JobStatus.REDACTING,
    JobStatus.DRAFTING,
)
FINISHED = (JobStatus.DONE, JobStatus.FAILED)

T = TypeVar("T")


def get_row(session: Session, model: type[T], key: str, what: str) -> T:
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"{what} {key} not found")
    return row


def to_json(value: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    """The JSON column form of a domain value (or of a mapping already in that form)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return dict(value)
