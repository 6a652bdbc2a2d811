"""The note body: the one shape of a note's content after drafting.

The pipeline's ``DraftNote`` becomes a ``NoteBody`` (its sections; provenance and review are
kept beside it, not in it); every revision in storage is a body; the API returns its sections;
edits, exports and rendering take one. Sections and statements are the domain's
``NoteSection`` and ``Statement``, so a body holds exactly what the drafter produced.

Its JSON form, the one stored in revisions and ``notes.ai_draft``, is ``{"sections": [{"key",
"title", "statements": [{"text", "kind", "speaker", "evidence", "flags", "action"}]}],
"header": [{"key", "title", "value", "evidence"}]}``; rows stored before ``header`` and
``action`` existed read back unchanged (both default to empty).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.domain import DraftNote, HeaderField, NoteSection, PseudonymMap, Statement


class NoteBody(BaseModel):
    """What a practitioner reads, edits and approves: sections of evidence-linked statements."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sections: tuple[NoteSection, ...] = ()
    header: tuple[HeaderField, ...] = Field(default=(), exclude_if=lambda v: not v)
    """Found in code from the transcript (who was present, child seen, next visit): kept with
    the body so edits and exports carry it; empty for templates before the note style."""

    @classmethod
    def from_draft(cls, note: DraftNote) -> NoteBody:
        return cls(sections=note.sections, header=note.header)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | Sequence[Any]) -> NoteBody:
        """Read the JSON form, or the bare list of its sections. Other top-level keys are
        ignored: an AI draft stored whole carries its provenance beside the sections."""
        if not isinstance(data, Mapping):
            return cls.model_validate({"sections": data})
        return cls.model_validate(
            {"sections": data.get("sections", ()), "header": data.get("header") or ()}
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form; ``header`` and a statement's ``action`` only where they are set, so
        a body of an older template is stored exactly as before they existed."""
        return self.model_dump(mode="json")

    def statements(self) -> list[Statement]:
        return [st for sec in self.sections for st in sec.statements]

    def plain_text(self) -> str:
        """The statements' text, one a line: what the correction burden is measured on."""
        return "\n".join(st.text for st in self.statements())

    def reidentified(self, mapping: PseudonymMap) -> NoteBody:
        """Placeholders swapped back to real values, for the recording's owner only. Every
        string of the body is swapped (a speaker or a flag can hold a placeholder too)."""
        return NoteBody.from_json(_map_strings(self.to_json(), mapping.reidentify))


def _map_strings(value: Any, swap: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return swap(value)
    if isinstance(value, list):
        return [_map_strings(v, swap) for v in value]
    if isinstance(value, dict):
        return {k: _map_strings(v, swap) for k, v in value.items()}
    return value
