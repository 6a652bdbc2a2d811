"""Render a note for people: Markdown for the editor and exports, plain text for case systems.

Both take the JSON form of a note, ``{"sections": [{"key", "title", "statements": [{"text",
"kind", "speaker", "evidence", "flags"}]}]}`` (``DraftNote.model_dump(mode="json")``, or a
practitioner's edited revision, which has the same shape). The bare list of sections is accepted
too. Output depends only on the input: same note, same bytes.

Statement text is written as it is, apart from line breaks and HTML angle brackets: placeholders
such as ``[PERSON_1]`` and ``[PHONE_NUMBER_1]`` must survive untouched so that re-identification
(a plain string replacement) still finds them, which rules out Markdown escaping of ``[``/``_``.
Angle brackets become entities so a note converted to HTML cannot carry markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

KIND_LABELS = {
    "observed": "Observed",
    "reported": "Reported",
    "opinion": "Opinion",
    "agreed_action": "Agreed action",
    "direct_quote": "Direct quote",
}
"""How each statement kind is named to people; ``reported`` is the default and not shown."""

DEFAULT_KIND = "reported"
FLAG_MARKER = "⚠"
EMPTY_SECTION = "Nothing recorded."


def _sections(note_body: Mapping[str, Any] | Sequence[Any]) -> list[Mapping[str, Any]]:
    sections = note_body.get("sections", []) if isinstance(note_body, Mapping) else note_body
    return [s for s in sections if isinstance(s, Mapping)]


def _statement_parts(
    st: Mapping[str, Any],
) -> tuple[str, str | None, str | None, str, list[str]]:
    """(text, kind label or None, speaker or None, evidence string, flags) for one statement."""
    text = str(st.get("text") or "")
    kind = str(st.get("kind") or DEFAULT_KIND)
    label = None if kind == DEFAULT_KIND else KIND_LABELS.get(kind, kind)
    speaker = st.get("speaker") or None
    evidence = ", ".join(str(e) for e in st.get("evidence") or ())
    flags = [str(f) for f in st.get("flags") or ()]
    cited = f"[{evidence}]" if evidence else ""
    return text, label, (str(speaker) if speaker else None), cited, flags


def _no_html(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(
    note_body: Mapping[str, Any] | Sequence[Any], *, title: str, meta: Mapping[str, Any]
) -> str:
    """Markdown: a heading, the ``meta`` items in the order given, then each section with its
    statements as bullets: ``- *Direct quote:* text — [PERSON_1] [s0003, s0004]``, and a
    ``⚠`` line under any statement with verification flags."""
    out = [f"# {_no_html(_one_line(title))}", ""]
    if meta:
        out += [f"- **{_no_html(str(k))}:** {_no_html(_one_line(str(v)))}" for k, v in meta.items()]
        out.append("")
    for section in _sections(note_body):
        out += [
            f"## {_no_html(_one_line(str(section.get('title') or section.get('key', ''))))}",
            "",
        ]
        statements = [s for s in section.get("statements") or () if isinstance(s, Mapping)]
        if not statements:
            out += [f"_{EMPTY_SECTION}_", ""]
            continue
        for st in statements:
            text, label, speaker, evidence, flags = _statement_parts(st)
            line = "- "
            if label:
                line += f"*{label}:* "
            line += _indent(_no_html(text), "  ")
            if speaker:
                line += f" — {_no_html(speaker)}"
            if evidence:
                line += f" {evidence}"
            out.append(line)
            if flags:
                out.append(f"  - {FLAG_MARKER} **Check:** {_no_html('; '.join(flags))}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def render_text(
    note_body: Mapping[str, Any] | Sequence[Any], *, title: str, meta: Mapping[str, Any]
) -> str:
    """Plain text with the same content as :func:`render_markdown`, for pasting into a case
    management system: underlined headings, ``*`` bullets, ``(Direct quote)`` labels."""
    heading = _one_line(title)
    out = [heading, "=" * len(heading), ""]
    if meta:
        out += [f"{k}: {_one_line(str(v))}" for k, v in meta.items()]
        out.append("")
    for section in _sections(note_body):
        name = _one_line(str(section.get("title") or section.get("key", "")))
        out += [name, "-" * len(name)]
        statements = [s for s in section.get("statements") or () if isinstance(s, Mapping)]
        if not statements:
            out += [EMPTY_SECTION, ""]
            continue
        for st in statements:
            text, label, speaker, evidence, flags = _statement_parts(st)
            line = "* "
            if label:
                line += f"({label}) "
            line += _indent(text, "  ")
            if speaker:
                line += f" — {speaker}"
            if evidence:
                line += f" {evidence}"
            out.append(line)
            if flags:
                out.append(f"  {FLAG_MARKER} Check: {'; '.join(flags)}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _indent(text: str, prefix: str) -> str:
    """Keep a practitioner's line breaks inside the bullet, dropping blank lines (a blank line
    would end the list item)."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return f"\n{prefix}".join(lines)
