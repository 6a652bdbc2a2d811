"""Render a note for people: Markdown for the editor and exports, plain text for case systems.

Both take a ``NoteBody`` (or its JSON form, or the bare list of its sections). Output depends
only on the input: same note, same bytes.

Statement text is written as it is, apart from line breaks and HTML angle brackets: placeholders
such as ``[PERSON_1]`` and ``[PHONE_NUMBER_1]`` must survive untouched so that re-identification
(a plain string replacement) still finds them, which rules out Markdown escaping of ``[``/``_``.
Angle brackets become entities so a note converted to HTML cannot carry markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from assistant.domain import NoteSection, Statement, StatementKind
from assistant.notes.body import NoteBody
from assistant.notes.flags import flag_label
from assistant.notes.statements import REWORDED
from assistant.speakers import THROUGH_INTERPRETER, attributed

KIND_LABELS = {
    StatementKind.OBSERVED: "Observed",
    StatementKind.REPORTED: "Reported",
    StatementKind.OPINION: "Opinion",
    StatementKind.AGREED_ACTION: "Agreed action",
    StatementKind.DIRECT_QUOTE: "Direct quote",
}
"""How each statement kind is named to people; ``reported`` is the default and not shown."""

DEFAULT_KIND = StatementKind.REPORTED
FLAG_MARKER = "⚠"
EMPTY_SECTION = "Nothing recorded."

NoteLike = NoteBody | Mapping[str, Any] | Sequence[Any]


@dataclass(frozen=True)
class _Style:
    """How one output format writes each part of a note."""

    escape: Callable[[str], str]
    title: Callable[[str], list[str]]
    meta_item: str  # format string with {key} and {value}
    section: Callable[[str], list[str]]
    empty: str
    bullet: str
    label: str  # format string with {label}
    flags: str  # format string with {flags}


def _no_html(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _same(text: str) -> str:
    return text


MARKDOWN = _Style(
    escape=_no_html,
    title=lambda t: [f"# {t}", ""],
    meta_item="- **{key}:** {value}",
    section=lambda name: [f"## {name}", ""],
    empty=f"_{EMPTY_SECTION}_",
    bullet="- ",
    label="*{label}:* ",
    flags=f"  - {FLAG_MARKER} **Check:** {{flags}}",
)
TEXT = _Style(
    escape=_same,
    title=lambda t: [t, "=" * len(t), ""],
    meta_item="{key}: {value}",
    section=lambda name: [name, "-" * len(name)],
    empty=EMPTY_SECTION,
    bullet="* ",
    label="({label}) ",
    flags=f"  {FLAG_MARKER} Check: {{flags}}",
)


def render_markdown(note_body: NoteLike, *, title: str, meta: Mapping[str, Any]) -> str:
    """Markdown: a heading, the ``meta`` items in the order given, then each section with its
    statements as bullets: ``- *Direct quote:* text — [PERSON_1] [s0003, s0004]``, and a
    ``⚠`` line under any statement with verification flags."""
    return _render(note_body, title=title, meta=meta, style=MARKDOWN)


def render_text(note_body: NoteLike, *, title: str, meta: Mapping[str, Any]) -> str:
    """Plain text with the same content as :func:`render_markdown`, for pasting into a case
    management system: underlined headings, ``*`` bullets, ``(Direct quote)`` labels."""
    return _render(note_body, title=title, meta=meta, style=TEXT)


PROVENANCE_KEYS = frozenset(
    {
        "note_id",
        "model",
        "prompt_sha256",
        "template",
        "template_version",
        "redaction_config_hash",
        "seed",
    }
)
"""Meta that an auditor traces a note by: written in a footer, never in the note's head."""
META_LABELS = {
    "visit_date": "Visit date",
    "visit_type": "Visit type",
    "status": "Status",
    "approved_at": "Approved",
    "template": "Template",
    "note_id": "Note",
    "model": "Model",
    "prompt_sha256": "Prompt (sha256)",
    "template_version": "Template version",
}


def _meta_value(value: Any) -> str | None:
    """A meta value as a person reads it: a model as its name and sha256, nothing for None,
    never a Python repr."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        name, sha = value.get("name"), value.get("sha256")
        if name:
            return f"{name} (sha256 {sha})" if sha else str(name)
        return ", ".join(f"{k}: {v}" for k, v in value.items() if v is not None) or None
    return str(value)


_WORDED = frozenset({"visit_type", "status"})
"""Meta whose values are ids a person reads as words: child_in_need -> Child in need."""


_TIMES = frozenset({"approved_at"})
"""Meta that are moments: "7 December 2026, 14:51 UTC", not an ISO timestamp."""


def _when(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y, %H:%M}" + (" UTC" if moment.tzinfo else "")


_DAYS = frozenset({"visit_date"})
"""Meta that are days: "3 December 2026", as the approval beside it is written."""


def _day(value: str) -> str:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {day:%B %Y}"


def meta_items(meta: Mapping[str, Any], *, footer: bool) -> list[tuple[str, str]]:
    """(label, value) of the ``meta`` a person reads at the note's head (``footer=False``) or
    the provenance an auditor traces it by (``footer=True``), in the order given: labels for
    known keys, ids as words, no None, no Python repr."""
    out = []
    for key, value in meta.items():
        if (str(key) in PROVENANCE_KEYS) != footer:
            continue
        shown = _meta_value(value)
        if shown is not None and key in _WORDED and "_" in shown and " " not in shown:
            shown = shown.replace("_", " ").capitalize()
        if shown is not None and key in _TIMES:
            shown = _when(shown)
        if shown is not None and key in _DAYS:
            shown = _day(shown)
        if shown is not None:
            out.append((META_LABELS.get(str(key), str(key)), _one_line(shown)))
    return out


def header_items(body: NoteBody) -> list[tuple[str, str]]:
    """(title, value with its evidence) of the body's header."""
    return [
        (h.title, _one_line(h.value) + (f" [{', '.join(h.evidence)}]" if h.evidence else ""))
        for h in body.header
    ]


def _meta_lines(meta: Mapping[str, Any], style: _Style, *, footer: bool) -> list[str]:
    return [
        style.meta_item.format(key=style.escape(k), value=style.escape(v))
        for k, v in meta_items(meta, footer=footer)
    ]


def _render(note_body: NoteLike, *, title: str, meta: Mapping[str, Any], style: _Style) -> str:
    body = note_body if isinstance(note_body, NoteBody) else NoteBody.from_json(note_body)
    esc = style.escape
    out = style.title(esc(_one_line(title)))
    head = _meta_lines(meta, style, footer=False) + [
        style.meta_item.format(key=esc(k), value=esc(v)) for k, v in header_items(body)
    ]
    if head:
        out += [*head, ""]
    attributed = bool(body.header)  # a note-style body: statements read "Mum said: ..."
    for section in body.sections:
        out += [*_section_lines(section, style, attributed=attributed), ""]
    footer = _meta_lines(meta, style, footer=True)
    if footer:
        out += [*style.section("Provenance"), *footer, ""]
    return "\n".join(out).rstrip("\n") + "\n"


def render_section_text(note_body: NoteLike, key: str) -> str:
    """One section as :func:`render_text` writes it (heading, bullets, attribution, cited
    segments, flags): what "copy this section" puts on the clipboard. KeyError: no such
    section."""
    body = note_body if isinstance(note_body, NoteBody) else NoteBody.from_json(note_body)
    for section in body.sections:
        if section.key == key:
            lines = _section_lines(section, TEXT, attributed=bool(body.header))
            return "\n".join(lines) + "\n"
    raise KeyError(key)


def _section_lines(section: NoteSection, style: _Style, *, attributed: bool) -> list[str]:
    out = style.section(style.escape(_one_line(section.title or section.key)))
    if not section.statements:
        return [*out, style.empty]
    for st in section.statements:
        out += _statement_lines(st, style, attributed=attributed)
    return out


def _statement_lines(st: Statement, style: _Style, *, attributed: bool = False) -> list[str]:
    """The bullet for one statement: label, text, speaker, cited segment ids; then its flags.
    In a note-style body the speaker comes first, as a person writes it ("Mum said: “...”"),
    and an agreed action is its row: who, what, by when."""
    if attributed:
        return _attributed_lines(st, style)
    esc = style.escape
    line = style.bullet
    if st.kind != DEFAULT_KIND:
        line += style.label.format(label=KIND_LABELS[st.kind])
    line += _indent(esc(st.text), "  ")
    if st.speaker:
        line += f" — {esc(st.speaker)}{reworded_note(st)}"
    return _with_evidence_and_flags(line, st, style)


def _with_evidence_and_flags(line: str, st: Statement, style: _Style) -> list[str]:
    """A statement's bullet ended with its cited segment ids, and a line for its flags."""
    if st.evidence:
        line += f" [{', '.join(st.evidence)}]"
    lines = [line]
    if flagged := checks(st):
        lines.append(style.flags.format(flags=style.escape("; ".join(flagged))))
    return lines


#: Flags that say how something was said or whose words these are: the statement's line writes
#: them in words ("through the interpreter", "in the practitioner's words"), so they are never
#: listed as something to check, and their internal names never reach a reader.
WRITTEN_IN_WORDS = frozenset({THROUGH_INTERPRETER, REWORDED})


def checks(st: Statement) -> tuple[str, ...]:
    """What a reader is asked to check, in words (:func:`assistant.notes.flags.flag_label`: "Words
    the recogniser was unsure of", not ``low_confidence_words``): not how it was said or whose
    words these are, which the statement's line already writes (``WRITTEN_IN_WORDS``)."""
    return tuple(flag_label(f)[0] for f in st.flags if f not in WRITTEN_IN_WORDS)


def reworded_note(st: Statement) -> str:
    """After the speaker of a statement the practitioner reworded (a body without a note-style
    header writes "text — Mum"): that these are the practitioner's words, not Mum's."""
    return " (in the practitioner's words)" if REWORDED in st.flags else ""


def attributed_text(st: Statement) -> str:
    """A note-style statement as a person writes it: "Mum said: “...”", an action as its row
    ("The social worker: I'll ring school — when: by Friday"), an exchange as it is."""
    if st.action is not None:
        parts = [f"{st.action.who}: {st.action.what}"]
        if st.action.by:
            # "when", not "by": "by: by Friday" says it twice, and "on Fridays" is no deadline
            parts.append(f"when: {st.action.by}")
        return " — ".join(parts)
    if st.speaker:
        verb = "observed" if st.kind is StatementKind.OBSERVED else "said"
        if REWORDED in st.flags:  # the practitioner's words: no quotation marks
            return f"{attributed(st.speaker)} {verb} (in the practitioner's words): {st.text}"
        if THROUGH_INTERPRETER in st.flags:
            return f"{attributed(st.speaker)} {verb} (through the interpreter): “{st.text}”"
        return f"{attributed(st.speaker)} {verb}: “{st.text}”"
    return st.text


def _attributed_lines(st: Statement, style: _Style) -> list[str]:
    esc = style.escape
    text = attributed_text(st)
    return _with_evidence_and_flags(style.bullet + _indent(esc(text), "  "), st, style)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _indent(text: str, prefix: str) -> str:
    """Keep a practitioner's line breaks inside the bullet, dropping blank lines (a blank line
    would end the list item)."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return f"\n{prefix}".join(lines)
